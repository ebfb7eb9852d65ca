import torch.nn as nn


class GRUClassifier(nn.Module):
    def __init__(self, vocab=20, emb=16, hidden=24, n_classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.encoder = nn.GRU(emb, hidden, batch_first=True)
        self.classifier = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def encode(self, tokens):
        _, h_n = self.encoder(self.embedding(tokens))
        return h_n[-1]

    def forward(self, tokens):
        features = self.encode(tokens).detach()
        return self.classifier(features)
