import torch.nn as nn


class ForecastLSTM(nn.Module):
    def __init__(self, n_features=3, hidden=8, horizon=1):
        super().__init__()
        self.lstm = nn.LSTM(n_features, hidden, batch_first=True)
        self.proj = nn.Linear(hidden, horizon)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.proj(out[:, -1])
