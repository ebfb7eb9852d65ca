import random
from typing import Any, Dict, NamedTuple

import numpy as np
import torch


class TrainOutput(NamedTuple):
    global_step: int
    training_loss: float
    metrics: Dict[str, Any]


def set_seed(seed: int, deterministic: bool = False):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
