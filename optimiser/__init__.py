"""EV production-line capacity optimiser."""
__version__ = "0.1.0"
