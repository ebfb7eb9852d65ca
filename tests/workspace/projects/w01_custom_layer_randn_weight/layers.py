import math

import torch
import torch.nn as nn


class CustomLinear(nn.Module):
    """A linear layer written by hand (from a tutorial on extending PyTorch)."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = torch.randn(out_features, in_features) / math.sqrt(in_features)
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x):
        return x @ self.weight.t() + self.bias
