"""Test shim for the ``lightning`` package: ``import lightning as L`` / ``lightning.pytorch`` / ``lightning.fabric``.

Not the real Lightning: a small, behaviour-faithful stand-in so corpus cases run without installing it.
"""
from . import pytorch  # noqa: F401
from .pytorch import Callback, LightningDataModule, LightningModule, Trainer, seed_everything
from .fabric import Fabric

__all__ = ["Callback", "Fabric", "LightningDataModule", "LightningModule", "Trainer", "pytorch", "fabric",
           "seed_everything"]
