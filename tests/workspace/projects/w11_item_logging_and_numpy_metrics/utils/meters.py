import numpy as np


class AverageMeter:
    def __init__(self):
        self.sum, self.count = 0.0, 0

    def update(self, value, n=1):
        self.sum += value * n
        self.count += n

    @property
    def avg(self):
        return self.sum / max(self.count, 1)


def accuracy(logits, targets):
    preds = logits.detach().cpu().numpy().argmax(axis=1)
    return float(np.mean(preds == targets.cpu().numpy()))
