import torch.nn as nn

from .layers import Block


class TinyViT(nn.Module):
    def __init__(self, patch_dim=12, dim=16, depth=2, n_classes=3):
        super().__init__()
        self.patch_embed = nn.Linear(patch_dim, dim)
        self.blocks = nn.Sequential(*[Block(dim) for _ in range(depth)])
        self.head = nn.Linear(dim, n_classes)

    def forward(self, patches):
        return self.head(self.blocks(self.patch_embed(patches)).mean(dim=1))
