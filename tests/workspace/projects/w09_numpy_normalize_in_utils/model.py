import torch.nn as nn

from utils import l2_normalize


class EmbeddingNet(nn.Module):
    def __init__(self, in_dim=20, emb_dim=8, n_classes=4, scale=8.0):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, emb_dim))
        self.classifier = nn.Linear(emb_dim, n_classes, bias=False)
        self.scale = scale

    def forward(self, x):
        emb = l2_normalize(self.backbone(x))
        return self.scale * self.classifier(emb)
