"""Test shim for the ``lightning`` package: ``import lightning as L`` / ``lightning.pytorch`` / ``lightning.fabric``.

Not the real Lightning: a small, behaviour-faithful stand-in so corpus cases run without installing it.
"""
from . import pytorch  # noqa: F401
from .fabric import Fabric
from .pytorch import Callback, LightningDataModule, LightningModule, Trainer, seed_everything

__all__ = ["Callback", "Fabric", "LightningDataModule", "LightningModule", "Trainer", "pytorch", "fabric",
           "seed_everything"]
