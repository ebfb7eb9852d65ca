import torch.nn as nn
import torch.nn.functional as F


class AutoencoderBase(nn.Module):
    """encode / decode contract shared by the project's autoencoders."""

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))

    def reconstruction_loss(self, x):
        return F.mse_loss(self(x), x)
