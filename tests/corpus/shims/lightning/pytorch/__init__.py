"""Test shim for ``lightning.pytorch`` (see core.py)."""
from .core import Callback, LightningDataModule, LightningModule, MisconfigurationException, Trainer, seed_everything

__all__ = ["Callback", "LightningDataModule", "LightningModule", "MisconfigurationException", "Trainer",
           "seed_everything"]
