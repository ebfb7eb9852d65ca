from .ste import RoundSTE, fake_quantize

__all__ = ["RoundSTE", "fake_quantize"]
