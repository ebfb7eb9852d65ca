import torch.nn as nn


class Refiner(nn.Module):
    """A small multi-stage restoration network: every stage refines the previous estimate."""

    def __init__(self, channels=1, width=4, stages=3):
        super().__init__()
        self.stages = nn.ModuleList(
            nn.Sequential(nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, channels, 3, padding=1))
            for _ in range(stages)
        )

    def forward(self, x):
        outputs = []
        for stage in self.stages:
            x = x + stage(x)
            outputs.append(x)
        return outputs
