import torch

from base import LinearModelBase


class LogisticRegression(LinearModelBase):
    def __init__(self, in_dim=10, n_classes=4):
        super().__init__(in_dim, n_classes)

    def forward(self, x):
        return torch.log_softmax(self.scores(x), dim=-1)
