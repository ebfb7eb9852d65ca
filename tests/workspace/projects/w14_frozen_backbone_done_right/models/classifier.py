import torch.nn as nn

from .backbone import ConvBackbone


class LinearProbe(nn.Module):
    def __init__(self, n_classes=4):
        super().__init__()
        self.backbone = ConvBackbone()
        self.head = nn.Linear(ConvBackbone.out_dim, n_classes)

    def forward(self, x):
        return self.head(self.backbone(x))
