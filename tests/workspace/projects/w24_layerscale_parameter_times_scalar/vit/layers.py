import torch
import torch.nn as nn


class LayerScale(nn.Module):
    """CaiT LayerScale: a learnable per-channel scale on each residual branch."""

    def __init__(self, dim, init_values=1e-1):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(dim)) * init_values

    def forward(self, x):
        return x * self.gamma


class Block(nn.Module):
    def __init__(self, dim, mlp_ratio=2):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * mlp_ratio), nn.GELU(), nn.Linear(dim * mlp_ratio, dim))
        self.ls = LayerScale(dim)

    def forward(self, x):
        return x + self.ls(self.mlp(self.norm(x)))
