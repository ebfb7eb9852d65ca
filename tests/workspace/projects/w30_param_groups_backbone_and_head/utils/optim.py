import torch


def param_groups(model, base_lr, backbone_lr_mult=0.1):
    """Discriminative learning rates: the pretrained backbone moves slower than the new head."""
    return [
        {"params": model.backbone.parameters(), "lr": base_lr * backbone_lr_mult},
        {"params": model.head.parameters(), "lr": base_lr},
    ]


def build_optimizer(model, base_lr=1e-2):
    return torch.optim.SGD(param_groups(model, base_lr), lr=base_lr, momentum=0.9)
