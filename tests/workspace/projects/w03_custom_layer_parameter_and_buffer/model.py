import torch.nn as nn

from layers import ScaledLinear


class TwoLayerNet(nn.Module):
    def __init__(self, in_dim=8, hidden=16, n_classes=2):
        super().__init__()
        self.fc1 = ScaledLinear(in_dim, hidden)
        self.act = nn.ReLU()
        self.fc2 = ScaledLinear(hidden, n_classes)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))
