"""Input: the questionnaire, survey exports, validation. Imports nothing from the layers above."""
