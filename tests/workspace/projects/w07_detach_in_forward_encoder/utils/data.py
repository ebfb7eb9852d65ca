import torch
from torch.utils.data import DataLoader, Dataset


class SequenceDataset(Dataset):
    """Random token sequences whose label is the parity of the count of token 1."""

    def __init__(self, n=32, seq_len=8, vocab=20, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.tokens = torch.randint(0, vocab, (n, seq_len), generator=g)
        self.labels = ((self.tokens == 1).sum(dim=1) % 2).long()

    def __len__(self):
        return len(self.tokens)

    def __getitem__(self, i):
        return self.tokens[i], self.labels[i]


def make_loader(batch_size=16, seed=0):
    ds = SequenceDataset(seed=seed)
    return DataLoader(ds, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed))
