"""Statistics: pure functions on DataFrames (measurement, coupling, regression, ranks). Imports only cbec.io."""
