from .engine import evaluate, train_one_epoch
from .models import MLP

__all__ = ["MLP", "evaluate", "train_one_epoch"]
