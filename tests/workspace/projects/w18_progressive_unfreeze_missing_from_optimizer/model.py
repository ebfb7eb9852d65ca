import torch.nn as nn


class TextCNN(nn.Module):
    def __init__(self, vocab=30, emb=8, n_classes=2):
        super().__init__()
        self.encoder = nn.Sequential(nn.Embedding(vocab, emb), nn.Flatten(), nn.Linear(emb * 6, 16), nn.ReLU())
        self.head = nn.Linear(16, n_classes)

    def forward(self, tokens):
        return self.head(self.encoder(tokens))
