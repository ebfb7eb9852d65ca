import torch
import torch.nn.functional as F


def run_phase(model, optimizer, batches, phase):
    training = phase == "train"
    model.train(training)
    total = 0.0
    for x, y in batches:
        with torch.set_grad_enabled(training):
            loss = F.mse_loss(model(x), y)
        if training:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        total += loss.item()
    return total / len(batches)
