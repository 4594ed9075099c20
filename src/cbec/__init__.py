"""cbec: the analysis behind cbec-book, a reproducible study of cross-border e-commerce success factors."""

__version__ = "0.1.0"
