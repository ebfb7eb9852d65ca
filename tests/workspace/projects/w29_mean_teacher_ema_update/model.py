import torch.nn as nn


class SmallNet(nn.Module):
    def __init__(self, in_dim=8, n_classes=3):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, n_classes))

    def forward(self, x):
        return self.body(x)
