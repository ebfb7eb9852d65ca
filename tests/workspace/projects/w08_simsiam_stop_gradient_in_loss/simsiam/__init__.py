from .losses import negative_cosine
from .model import SimSiam

__all__ = ["SimSiam", "negative_cosine"]
