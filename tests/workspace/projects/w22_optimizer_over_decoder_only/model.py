import torch.nn as nn

from base import AutoencoderBase


class DenseAutoencoder(AutoencoderBase):
    def __init__(self, in_dim=16, latent=4):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, 8), nn.ReLU(), nn.Linear(8, latent))
        self.decoder = nn.Sequential(nn.Linear(latent, 8), nn.ReLU(), nn.Linear(8, in_dim))
