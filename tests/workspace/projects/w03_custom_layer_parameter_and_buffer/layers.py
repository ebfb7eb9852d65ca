import math

import torch
import torch.nn as nn


class ScaledLinear(nn.Module):
    """Hand-written linear layer that also tracks a running mean of its input norm."""

    def __init__(self, in_features, out_features, momentum=0.1):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / math.sqrt(in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.register_buffer("running_norm", torch.ones(1))
        self.momentum = momentum

    def forward(self, x):
        if self.training:
            with torch.no_grad():
                self.running_norm.mul_(1 - self.momentum).add_(self.momentum * x.norm(dim=1).mean())
        return (x / self.running_norm) @ self.weight.t() + self.bias
