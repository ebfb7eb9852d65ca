"""gradguard: find PyTorch code whose gradients silently stop flowing."""

__version__ = "0.1.0"
