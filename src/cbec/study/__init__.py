"""The article's study: simulator, power, size paths, claims, cases, interviews, chapter functions."""
