import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments, TrainerCallback
from transformers.modeling_outputs import CausalLMOutput


class ConformerLiteConfig(PretrainedConfig):
    model_type = "ctc_lite"

    def __init__(self, n_mels=8, vocab_size=9, hidden=16, **kwargs):
        super().__init__(**kwargs)
        self.n_mels, self.vocab_size, self.hidden = n_mels, vocab_size, hidden


class CTCSpeechModel(PreTrainedModel):
    config_class = ConformerLiteConfig

    def __init__(self, config):
        super().__init__(config)
        self.subsample = nn.Conv1d(config.n_mels, config.hidden, 3, stride=2, padding=1)
        self.encoder = nn.LSTM(config.hidden, config.hidden, batch_first=True)
        self.ctc_head = nn.Linear(config.hidden, config.vocab_size)

    def output_lengths(self, input_lengths):
        return [(int(n) - 1) // 2 + 1 for n in input_lengths.tolist()]

    def forward(self, input_features=None, input_lengths=None, labels=None, label_lengths=None):
        h = F.relu(self.subsample(input_features)).transpose(1, 2)
        h, _ = self.encoder(h)
        log_probs = F.log_softmax(self.ctc_head(h), -1)
        loss = None
        if labels is not None:
            out_lens = torch.tensor(self.output_lengths(input_lengths))
            targets = torch.cat([labels[i, :int(n)] for i, n in enumerate(label_lengths)])
            loss = F.ctc_loss(log_probs.transpose(0, 1), targets, out_lens, label_lengths, blank=0, zero_infinity=True)
        return CausalLMOutput(loss=loss, logits=log_probs)


class GreedyCERCallback(TrainerCallback):
    def __init__(self, probe):
        self.probe, self.history = probe, []

    def on_epoch_end(self, args, state, control, model=None, **kwargs):
        with torch.no_grad():
            pred = model(input_features=self.probe).logits.argmax(-1)
        self.history.append(pred.ne(0).float().mean().item())


def make_utterances(n=24):
    g = torch.Generator().manual_seed(0)
    rows = []
    for _ in range(n):
        n_lab = int(torch.randint(2, 4, (1,), generator=g))
        labels = torch.randint(1, 9, (4,), generator=g)
        feats = 0.2 * torch.randn(8, 16, generator=g)
        for j in range(n_lab):
            feats[int(labels[j]) - 1, 4 * j:4 * j + 3] += 1.0
        rows.append({"input_features": feats, "input_lengths": 16, "labels": labels, "label_lengths": n_lab})
    return rows


def main():
    torch.manual_seed(0)
    model = CTCSpeechModel(ConformerLiteConfig())
    head0 = model.ctc_head.weight.detach().clone()
    sub0 = model.subsample.weight.detach().clone()
    rows = make_utterances()
    callback = GreedyCERCallback(torch.stack([r["input_features"] for r in rows[:4]]))
    args = TrainingArguments(output_dir="/tmp/ctc_lite", per_device_train_batch_size=6, num_train_epochs=2,
                             learning_rate=3e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=rows, callbacks=[callback]).train()
    return {"model": model}, {
        "ctc_head_changed": not torch.equal(head0, model.ctc_head.weight),
        "subsampling_changed": not torch.equal(sub0, model.subsample.weight),
        "callback_ran": len(callback.history) == 2,
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
