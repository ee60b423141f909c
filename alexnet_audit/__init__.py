"""alexnet-audit: build written CNN descriptions into real models and judge their claims."""

__version__ = "0.1.0"
