from .backbone import ConvBackbone
from .classifier import LinearProbe

__all__ = ["ConvBackbone", "LinearProbe"]
