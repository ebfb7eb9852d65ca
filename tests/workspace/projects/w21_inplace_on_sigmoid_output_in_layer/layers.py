import torch
import torch.nn as nn


class GatedResidual(nn.Module):
    """out = x + gate(x) * transform(x), with padded positions gated off."""

    def __init__(self, dim):
        super().__init__()
        self.gate = nn.Linear(dim, dim)
        self.transform = nn.Linear(dim, dim)

    def forward(self, x, mask):
        g = torch.sigmoid(self.gate(x))
        g.mul_(mask.unsqueeze(-1))
        return x + g * self.transform(x)
