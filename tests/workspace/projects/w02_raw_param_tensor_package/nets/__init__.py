from .model import LowRankClassifier

__all__ = ["LowRankClassifier"]
