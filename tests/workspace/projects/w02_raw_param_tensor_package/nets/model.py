import torch
import torch.nn as nn


class LowRankClassifier(nn.Module):
    """Embeds features, projects them onto a learned low-rank basis, classifies."""

    def __init__(self, in_dim=12, rank=4, n_classes=3):
        super().__init__()
        self.embed = nn.Linear(in_dim, 16)
        self.basis = torch.randn(16, rank, requires_grad=True)
        self.classifier = nn.Linear(rank, n_classes)

    def forward(self, x):
        h = torch.relu(self.embed(x))
        return self.classifier(h @ self.basis)
