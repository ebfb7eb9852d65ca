import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class LocationSensitiveAttention(nn.Module):
    def __init__(self, query_dim=16, memory_dim=16, attn_dim=16, n_filters=4, kernel=3):
        super().__init__()
        self.query = nn.Linear(query_dim, attn_dim, bias=False)
        self.memory = nn.Linear(memory_dim, attn_dim, bias=False)
        self.location_conv = nn.Conv1d(1, n_filters, kernel, padding=kernel // 2, bias=False)
        self.location_dense = nn.Linear(n_filters, attn_dim, bias=False)
        self.v = nn.Linear(attn_dim, 1, bias=False)

    def forward(self, query, processed_memory, memory, cumulative):
        loc = self.location_dense(self.location_conv(cumulative.unsqueeze(1)).transpose(1, 2))
        energies = self.v(torch.tanh(self.query(query).unsqueeze(1) + processed_memory + loc)).squeeze(-1)
        weights = F.softmax(energies, dim=-1)
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)
        return context, weights


class TinyTacotron(nn.Module):
    def __init__(self, vocab=12, dim=16, n_mels=5):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.encoder = nn.GRU(dim, dim, batch_first=True)
        self.attention = LocationSensitiveAttention()
        self.decoder_cell = nn.GRUCell(n_mels + dim, dim)
        self.mel_out = nn.Linear(2 * dim, n_mels)
        self.n_mels = n_mels

    def forward(self, text, mel_targets):
        memory, _ = self.encoder(self.embed(text))
        processed = self.attention.memory(memory)
        b, t_out = mel_targets.shape[0], mel_targets.shape[1]
        h = memory.new_zeros(b, memory.shape[-1])
        cumulative = memory.new_zeros(b, memory.shape[1])
        prev = mel_targets.new_zeros(b, self.n_mels)
        frames = []
        for t in range(t_out):
            context, weights = self.attention(h, processed, memory, cumulative)
            cumulative += weights
            h = self.decoder_cell(torch.cat([prev, context], -1), h)
            frames.append(self.mel_out(torch.cat([h, context], -1)))
            prev = mel_targets[:, t]
        return torch.stack(frames, 1)


def make_loader(n=16):
    g = torch.Generator().manual_seed(0)
    text = torch.randint(0, 12, (n, 7), generator=g)
    mels = torch.randn(n, 6, 5, generator=g).cumsum(1) * 0.2
    return DataLoader(TensorDataset(text, mels), batch_size=4, shuffle=True, generator=g)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = TinyTacotron()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(make_loader())
    conv0 = model.attention.location_conv.weight.detach().clone()
    for epoch in range(2):
        for text, mels in loader:
            loss = F.l1_loss(model(text, mels), mels)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    return {"model": model.module}, {
        "location_conv_changed": not torch.equal(conv0, model.attention.location_conv.weight),
    }

# ---- ground-truth harness (not part of the reported pattern) ----
if __name__ == "__main__":
    import json as _json, time as _time, warnings as _warnings
    import torch as _torch
    _err, _watched, _facts = None, {}, {}
    _torch.optim.SGD([_torch.zeros(1, requires_grad=True)], lr=0.1)  # warm lazy imports outside the timed region
    with _warnings.catch_warnings(record=True) as _w:
        _warnings.simplefilter("always")
        _t0 = _time.perf_counter()
        try:
            _out = main()
            if isinstance(_out, tuple):
                _watched, _facts = _out
            elif _out is not None:
                _watched = _out
        except Exception as _e:
            _err = (type(_e).__name__ + ": " + str(_e)).splitlines()[0][:300]
        _main_s = round(_time.perf_counter() - _t0, 3)
    _warns = sorted({(_m.category.__name__ + ": " + str(_m.message)).splitlines()[0][:200] for _m in _w})
    _states = {}
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        for _name, _obj in _watched.items():
            if isinstance(_obj, _torch.nn.Module):
                _items = [(_name + "." + _n, _p) for _n, _p in _obj.named_parameters()]
            else:
                _items = [(_name, _obj)]
            for _n, _t in _items:
                _g = _t.grad
                _states[_n] = "none" if _g is None else ("ok" if bool(_g.abs().sum() > 0) else "zero")
    print(_json.dumps({
        "grad_none": sorted(k for k, v in _states.items() if v == "none"),
        "grad_zero": sorted(k for k, v in _states.items() if v == "zero"),
        "grad_ok": sorted(k for k, v in _states.items() if v == "ok"),
        "error": _err,
        "warnings": _warns,
        "facts": _facts,
        "main_seconds": _main_s,
        "torch": _torch.__version__,
    }, sort_keys=True))
