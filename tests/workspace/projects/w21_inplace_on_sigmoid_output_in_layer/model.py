import torch.nn as nn

from layers import GatedResidual


class Tagger(nn.Module):
    def __init__(self, vocab=25, dim=12, n_tags=4, depth=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=0)
        self.blocks = nn.ModuleList(GatedResidual(dim) for _ in range(depth))
        self.out = nn.Linear(dim, n_tags)

    def forward(self, tokens):
        mask = (tokens != 0).float()
        h = self.embed(tokens)
        for block in self.blocks:
            h = block(h, mask)
        return self.out(h)
