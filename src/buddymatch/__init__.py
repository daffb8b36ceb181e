"""buddymatch: explainable matching across organisations."""

__version__ = "0.1.0"
