"""A small training script with three gradient-flow bugs gradguard finds (run `make demo`)."""
import numpy as np
import torch
import torch.nn as nn


def normalize(h):
    return ((h - h.mean(0)) / (h.std(0) + 1e-5)).detach()  # GG201: starves the encoder


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 16)
        self.mid = nn.Linear(16, 16)
        self.head = nn.Linear(16, 1)

    def forward(self, x):
        h = normalize(torch.relu(self.encoder(x)))
        h = torch.from_numpy(np.tanh(self.mid(h).detach().numpy()))  # GG202: NumPy round trip
        return self.head(h)


def main():
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(32, 8), torch.randn(32, 1)
    for _ in range(3):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss = loss.backward()  # GG101: backward() returns None
        opt.step()
        print(loss.item())


if __name__ == "__main__":
    main()
