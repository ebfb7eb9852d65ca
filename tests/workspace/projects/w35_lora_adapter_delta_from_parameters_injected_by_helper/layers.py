import torch.nn as nn
import torch.nn.functional as F


class LoRALinear(nn.Module):
    """A frozen projection plus a trainable low-rank update B @ A (B starts at zero)."""

    def __init__(self, base, rank=2, alpha=4.0):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, rank, bias=False)
        self.lora_B = nn.Linear(rank, base.out_features, bias=False)
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = alpha / rank

    def delta(self):
        return (self.lora_B.weight @ self.lora_A.weight) * self.scaling

    def forward(self, x):
        return F.linear(x, self.base.weight + self.delta(), self.base.bias)
