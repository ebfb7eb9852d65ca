import torch.nn as nn

from layers import ShiftedLinear


class Scorer(nn.Module):
    def __init__(self, in_dim=9, hidden=12):
        super().__init__()
        self.block1 = ShiftedLinear(in_dim, hidden)
        self.block2 = ShiftedLinear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.out(self.block2(self.block1(x))).squeeze(-1)
