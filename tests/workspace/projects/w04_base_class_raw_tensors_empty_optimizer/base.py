import torch
import torch.nn as nn


class LinearModelBase(nn.Module):
    """Shared plumbing for the linear baselines: weight creation and scoring."""

    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.in_dim, self.out_dim = in_dim, out_dim
        self.init_weights()

    def init_weights(self):
        self.W = torch.zeros(self.in_dim, self.out_dim, requires_grad=True)
        self.b = torch.zeros(self.out_dim, requires_grad=True)

    def scores(self, x):
        return x @ self.W + self.b
