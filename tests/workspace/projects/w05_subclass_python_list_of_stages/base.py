import torch.nn as nn


class BaseBackbone(nn.Module):
    """Backbones expose `stages` and a feature dimension; heads are attached by the task model."""

    out_dim = None

    def __init__(self):
        super().__init__()

    def forward_features(self, x):
        for stage in self.stages:
            x = stage(x)
        return x

    def forward(self, x):
        return self.forward_features(x)


def conv_stage(in_ch, out_ch):
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 3, padding=1), nn.BatchNorm2d(out_ch), nn.ReLU(), nn.MaxPool2d(2))
