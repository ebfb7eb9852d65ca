from .tcn import TemporalConvNet

__all__ = ["TemporalConvNet"]
