import torch
import torch.nn as nn


@torch.no_grad()
def init_weights(module, std=0.02, residual_scale=0.5):
    """Truncated-normal init for linear layers, then shrink the residual projections (GPT-2 style)."""
    for name, m in module.named_modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=std)
            nn.init.zeros_(m.bias)
            if name.endswith("proj"):
                m.weight.mul_(residual_scale)
