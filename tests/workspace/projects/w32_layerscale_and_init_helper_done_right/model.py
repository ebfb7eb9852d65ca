import torch
import torch.nn as nn


class LayerScale(nn.Module):
    def __init__(self, dim, init_values=1e-1):
        super().__init__()
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


class ResidualMLP(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, dim * 2)
        self.proj = nn.Linear(dim * 2, dim)
        self.ls = LayerScale(dim)

    def forward(self, x):
        return x + self.ls(self.proj(torch.nn.functional.gelu(self.fc(self.norm(x)))))


class TokenRegressor(nn.Module):
    def __init__(self, in_dim=6, dim=16, depth=2):
        super().__init__()
        self.embed = nn.Linear(in_dim, dim)
        self.blocks = nn.Sequential(*[ResidualMLP(dim) for _ in range(depth)])
        self.out = nn.Linear(dim, 1)

    def forward(self, x):
        return self.out(self.blocks(self.embed(x))).squeeze(-1)
