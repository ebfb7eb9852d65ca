import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class CTCConfig(PretrainedConfig):
    model_type = "tiny_ctc"

    def __init__(self, n_mels=12, hidden=32, vocab=7, head_lr_mult=5.0, **kw):
        super().__init__(**kw)
        self.n_mels, self.hidden, self.vocab, self.head_lr_mult = n_mels, hidden, vocab, head_lr_mult


class TinyCTCModel(PreTrainedModel):
    config_class = CTCConfig

    def __init__(self, config):
        super().__init__(config)
        self.frontend = nn.Sequential(nn.Conv1d(config.n_mels, config.hidden, 3, stride=2, padding=1), nn.GELU())
        self.encoder = nn.GRU(config.hidden, config.hidden, batch_first=True)
        self.ctc_head = nn.Linear(config.hidden, config.vocab)

    def forward(self, input_features, labels=None):
        x = self.frontend(input_features.transpose(1, 2)).transpose(1, 2)
        h, _ = self.encoder(x)
        log_probs = F.log_softmax(self.ctc_head(h), dim=-1)
        B, T = log_probs.shape[:2]
        loss = F.ctc_loss(log_probs.transpose(0, 1), labels, torch.full((B,), T, dtype=torch.long),
                          torch.full((B,), labels.shape[1], dtype=torch.long), blank=0, zero_infinity=True)
        return ModelOutput(loss=loss, logits=log_probs)


class CTCTrainer(Trainer):
    def create_optimizer(self):
        if self.optimizer is None:
            m, lr = self.model, self.args.learning_rate
            groups = [
                {"params": list(m.encoder.parameters()), "lr": lr},
                {"params": list(m.ctc_head.parameters()), "lr": lr * m.config.head_lr_mult},
            ]
            self.optimizer = torch.optim.AdamW(groups, lr=lr, weight_decay=self.args.weight_decay)
        return self.optimizer


class SpeechDataset(Dataset):
    def __init__(self, n=48, frames=16):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, frames, 12, generator=g)
        self.y = torch.randint(1, 7, (n, 3), generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"input_features": self.x[i], "label_ids": self.y[i]}


def main():
    torch.manual_seed(0)
    model = TinyCTCModel(CTCConfig())
    f0, e0 = model.frontend[0].weight.detach().clone(), model.encoder.weight_ih_l0.detach().clone()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=16, num_train_epochs=2,
                             learning_rate=3e-3, weight_decay=0.01, report_to="none")
    CTCTrainer(model=model, args=args, train_dataset=SpeechDataset()).train()
    return {"model": model}, {"frontend_changed": not torch.equal(f0, model.frontend[0].weight),
                              "encoder_changed": not torch.equal(e0, model.encoder.weight_ih_l0)}

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
