"""Test shim: the older ``pytorch_lightning`` name, re-exporting the ``lightning.pytorch`` shim."""
from lightning.pytorch import Callback, LightningDataModule, LightningModule, MisconfigurationException, Trainer, seed_everything

__all__ = ["Callback", "LightningDataModule", "LightningModule", "MisconfigurationException", "Trainer",
           "seed_everything"]
