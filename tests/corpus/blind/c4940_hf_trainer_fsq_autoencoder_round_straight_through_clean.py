import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class RoundST(torch.autograd.Function):
    """Finite scalar quantization rounding with a straight-through (identity) gradient."""

    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class FSQConfig(PretrainedConfig):
    model_type = "fsq-ae"

    def __init__(self, in_dim=16, levels=(5, 5, 3), **kw):
        super().__init__(**kw)
        self.in_dim, self.levels = in_dim, list(levels)


class FSQAutoencoder(PreTrainedModel):
    config_class = FSQConfig

    def __init__(self, config):
        super().__init__(config)
        d = len(config.levels)
        self.encoder = nn.Sequential(nn.Linear(config.in_dim, 32), nn.ReLU(), nn.Linear(32, d))
        self.decoder = nn.Sequential(nn.Linear(d, 32), nn.ReLU(), nn.Linear(32, config.in_dim))
        self.register_buffer("half_levels", (torch.tensor(config.levels, dtype=torch.float32) - 1) / 2)

    def quantize(self, z):
        bounded = torch.tanh(z) * self.half_levels
        return RoundST.apply(bounded) / self.half_levels

    def forward(self, x=None):
        recon = self.decoder(self.quantize(self.encoder(x)))
        return {"loss": F.mse_loss(recon, x), "recon": recon}


class Signals(Dataset):
    def __init__(self, n=64, dim=16):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, dim, generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"x": self.x[i]}


def main():
    torch.manual_seed(0)
    model = FSQAutoencoder(FSQConfig())
    enc0, dec0 = model.encoder[0].weight.detach().clone(), model.decoder[0].weight.detach().clone()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=16, num_train_epochs=2, learning_rate=3e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=Signals()).train()
    return {"model": model}, {"encoder_changed": not torch.equal(enc0, model.encoder[0].weight),
                              "decoder_changed": not torch.equal(dec0, model.decoder[0].weight)}

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
