import torch.nn as nn


class StackedModel(nn.Module):
    """Base for the project's sequence models: subclasses append their layers to `self.layers`."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList()

    def add_layer(self, layer):
        self.layers.append(layer)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
