"""Test shim for ``accelerate.utils``."""
import random

import torch


def set_seed(seed, device_specific=False, deterministic=False):
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy as np
        np.random.seed(seed)
    except Exception:  # pragma: no cover
        pass


class ProjectConfiguration:
    def __init__(self, *args, **kwargs):
        self.__dict__.update(kwargs)
