import torch.nn as nn

from base import BaseBackbone, conv_stage


class TinyConvNet(BaseBackbone):
    def __init__(self, widths=(3, 8, 16)):
        super().__init__()
        self.stages = [conv_stage(a, b) for a, b in zip(widths[:-1], widths[1:])]
        self.out_dim = widths[-1]


class Classifier(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        self.backbone = TinyConvNet()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.backbone.out_dim, n_classes)

    def forward(self, x):
        return self.fc(self.pool(self.backbone(x)).flatten(1))
