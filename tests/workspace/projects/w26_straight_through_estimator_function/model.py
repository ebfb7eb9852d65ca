import torch.nn as nn

from quant import fake_quantize


class QATNet(nn.Module):
    def __init__(self, in_dim=10, hidden=16, n_classes=3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x):
        return self.head(fake_quantize(self.encoder(x), bits=4))
