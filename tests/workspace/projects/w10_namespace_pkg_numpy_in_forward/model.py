import torch.nn as nn

from ops.stats import robust_standardize


class RobustMLP(nn.Module):
    def __init__(self, in_dim=6, hidden=16):
        super().__init__()
        self.stem = nn.Linear(in_dim, hidden)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        h = robust_standardize(self.stem(x))
        return self.head(h).squeeze(-1)
