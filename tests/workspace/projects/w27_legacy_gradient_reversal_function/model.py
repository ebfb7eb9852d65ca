import torch.nn as nn

from utils.grl import grad_reverse


class DANN(nn.Module):
    def __init__(self, in_dim=12, feat=16, n_classes=3):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(in_dim, feat), nn.ReLU())
        self.label_head = nn.Linear(feat, n_classes)
        self.domain_head = nn.Sequential(nn.Linear(feat, 8), nn.ReLU(), nn.Linear(8, 2))

    def forward(self, x, lambd=1.0):
        f = self.features(x)
        return self.label_head(f), self.domain_head(grad_reverse(f, lambd))
