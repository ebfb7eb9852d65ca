from .finetune import freeze_backbone, trainable_parameters

__all__ = ["freeze_backbone", "trainable_parameters"]
