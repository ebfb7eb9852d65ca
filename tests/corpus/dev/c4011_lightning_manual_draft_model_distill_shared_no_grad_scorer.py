import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class TinyDecoder(nn.Module):
    def __init__(self, vocab=20, d_model=16, n_layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.rnn = nn.GRU(d_model, d_model, num_layers=n_layers, batch_first=True)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, tokens):
        h, _ = self.rnn(self.embed(tokens))
        return self.head(h)


def build_pair(cfg):
    target = TinyDecoder(cfg["vocab"], cfg["target_dim"], n_layers=2)
    draft = TinyDecoder(cfg["vocab"], cfg["draft_dim"], n_layers=1)
    return target, draft


@torch.no_grad()
def token_logprobs(model, tokens):
    return model(tokens[:, :-1]).log_softmax(-1)


class DraftDistiller(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.automatic_optimization = False
        self.target, self.draft = build_pair(cfg)
        self.target.requires_grad_(False)
        self.lr = cfg["lr"]

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        (tokens,) = batch
        target_lp = token_logprobs(self.target, tokens)
        draft_lp = token_logprobs(self.draft, tokens)
        loss = F.kl_div(draft_lp, target_lp, log_target=True, reduction="batchmean")
        opt.zero_grad()
        self.manual_backward(loss)
        opt.step()
        self.log("distill/kl", loss.item())

    def configure_optimizers(self):
        return torch.optim.AdamW(self.draft.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    cfg = {"vocab": 20, "target_dim": 24, "draft_dim": 12, "lr": 3e-3}
    module = DraftDistiller(cfg)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randint(0, 20, (32, 8), generator=g)), batch_size=8)
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(module, loader)
    return {"draft": module.draft}

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
