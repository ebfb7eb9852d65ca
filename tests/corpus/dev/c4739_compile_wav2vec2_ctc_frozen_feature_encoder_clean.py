import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"conv_dim": 16, "hidden": 32, "vocab": 8, "lr": 1e-3, "steps": 4, "freeze_feature_encoder": True}


class ConvFeatureEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layers = nn.Sequential(nn.Conv1d(1, c, 10, 5), nn.GELU(), nn.Conv1d(c, c, 3, 2), nn.GELU())

    def forward(self, wav):
        return self.layers(wav.unsqueeze(1)).transpose(1, 2)


class Wav2Vec2ForCTC(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.feature_extractor = ConvFeatureEncoder(cfg["conv_dim"])
        self.feature_projection = nn.Linear(cfg["conv_dim"], cfg["hidden"])
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(cfg["hidden"], 4, 64, dropout=0.0, batch_first=True), 2)
        self.lm_head = nn.Linear(cfg["hidden"], cfg["vocab"])

    def freeze_feature_encoder(self):
        self.feature_extractor.requires_grad_(False)

    def forward(self, wav):
        h = self.feature_projection(self.feature_extractor(wav))
        return self.lm_head(self.encoder(h)).log_softmax(-1)


def ctc_step(compiled, optimizer, wav, labels, label_lens):
    log_probs = compiled(wav).transpose(0, 1)
    in_lens = torch.full((wav.size(0),), log_probs.size(0), dtype=torch.long)
    loss = F.ctc_loss(log_probs, labels, in_lens, label_lens, blank=0, zero_infinity=True)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    model = Wav2Vec2ForCTC(CFG)
    if CFG["freeze_feature_encoder"]:
        model.freeze_feature_encoder()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=CFG["lr"])
    compiled = torch.compile(model, backend="eager")
    g = torch.Generator().manual_seed(0)
    wav = torch.randn(4, 320, generator=g)
    labels = torch.randint(1, CFG["vocab"], (4, 5), generator=g)
    label_lens = torch.tensor([5, 4, 3, 5])
    fe0 = model.feature_extractor.layers[0].weight.detach().clone()
    enc0 = model.encoder.layers[0].linear1.weight.detach().clone()
    for _ in range(CFG["steps"]):
        ctc_step(compiled, optimizer, wav, labels, label_lens)
    return {"model": model}, {
        "feature_encoder_changed": not torch.equal(fe0, model.feature_extractor.layers[0].weight),
        "transformer_changed": not torch.equal(enc0, model.encoder.layers[0].linear1.weight),
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
