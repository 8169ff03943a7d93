"""qda: offline qualitative data analysis for German interviews and surveys."""

__version__ = "0.1.0"
