import torch.nn as nn

from layers import CustomLinear


class Regressor(nn.Module):
    def __init__(self, in_dim=8, hidden=16, out_dim=1):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, hidden), nn.Tanh())
        self.head = CustomLinear(hidden, out_dim)

    def forward(self, x):
        return self.head(self.encoder(x))
