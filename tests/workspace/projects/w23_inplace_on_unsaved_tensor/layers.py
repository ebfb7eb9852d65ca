import torch
import torch.nn as nn
import torch.nn.functional as F


class ShiftedLinear(nn.Module):
    """Linear layer with a learned shift; the first input channel is a padding flag and is zeroed."""

    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)
        self.shift = nn.Parameter(torch.full((out_dim,), 0.01))

    def forward(self, x):
        x = x.clone()
        x[:, 0] = 0.0
        h = self.fc(x)
        h += self.shift
        return F.relu(h)
