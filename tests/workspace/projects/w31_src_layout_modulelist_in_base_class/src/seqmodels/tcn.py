import torch.nn as nn

from .base import StackedModel


class TemporalConvNet(StackedModel):
    def __init__(self, channels=(2, 8, 8), kernel_size=3):
        super().__init__()
        for i, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:])):
            d = 2 ** i
            self.add_layer(nn.Conv1d(c_in, c_out, kernel_size, padding=d * (kernel_size - 1) // 2, dilation=d))
            self.add_layer(nn.ReLU())
        self.add_layer(nn.Conv1d(channels[-1], 1, 1))
