import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SignSTE(torch.autograd.Function):
    """sign() forward, clipped straight-through gradient backward (BinaryConnect / XNOR style)."""

    @staticmethod
    def forward(ctx, x, clip=1.0):
        ctx.save_for_backward(x)
        ctx.clip = clip
        return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        grad_input = grad_output * (x.abs() <= ctx.clip).to(grad_output.dtype)
        return grad_input, None


class BinaryConv1d(nn.Conv1d):
    def forward(self, x):
        w_bin = SignSTE.apply(self.weight)
        scale = self.weight.abs().mean(dim=(1, 2), keepdim=True)
        return F.conv1d(x, w_bin * scale, self.bias, self.stride, self.padding)


class KeywordSpotter(nn.Module):
    def __init__(self, n_mels=10, n_keywords=4, width=16):
        super().__init__()
        self.front = nn.Conv1d(n_mels, width, 3, padding=1)  # first layer kept full precision
        self.bn1 = nn.BatchNorm1d(width)
        self.bconv = BinaryConv1d(width, width, 3, padding=1)
        self.bn2 = nn.BatchNorm1d(width)
        self.head = nn.Linear(width, n_keywords)

    def forward(self, mels):
        x = torch.relu(self.bn1(self.front(mels)))
        x = F.hardtanh(self.bn2(self.bconv(x)))
        return self.head(x.mean(dim=-1))


class BinaryKWS(pl.LightningModule):
    def __init__(self, lr=2e-3):
        super().__init__()
        self.net = KeywordSpotter()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        mels, labels = batch
        loss = F.cross_entropy(self.net(mels), labels)
        self.log("train/loss", loss.item())
        return loss

    def on_before_optimizer_step(self, optimizer):
        with torch.no_grad():
            self.net.bconv.weight.clamp_(-1.0, 1.0)  # keep latent weights inside the STE window

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    mels = torch.randn(24, 10, 20, generator=g)
    labels = torch.randint(0, 4, (24,), generator=g)
    loader = DataLoader(TensorDataset(mels, labels), batch_size=6, shuffle=True, generator=g)
    model = BinaryKWS()
    w0 = model.net.bconv.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"binary_weights_changed": not torch.equal(w0, model.net.bconv.weight)}

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
