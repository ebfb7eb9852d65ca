import torch
import torch.nn.functional as F


def train_one_epoch(model, loader, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x)
    return total / len(loader.dataset)


def evaluate(model, loader):
    model.eval()
    torch.set_grad_enabled(False)
    total = 0.0
    for x, y in loader:
        total += F.mse_loss(model(x), y, reduction="sum").item()
    return total / len(loader.dataset)
