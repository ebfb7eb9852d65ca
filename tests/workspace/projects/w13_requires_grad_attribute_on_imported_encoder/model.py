import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, in_dim=12, hidden=16):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())

    def forward(self, x):
        return self.layers(x)


class FineTuneModel(nn.Module):
    """Pretrained encoder + new task head; only the head is meant to be fine-tuned."""

    def __init__(self, n_classes=3):
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(16, n_classes)

    def forward(self, x):
        return self.head(self.encoder(x))
