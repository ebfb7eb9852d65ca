from .features import l2_normalize

__all__ = ["l2_normalize"]
