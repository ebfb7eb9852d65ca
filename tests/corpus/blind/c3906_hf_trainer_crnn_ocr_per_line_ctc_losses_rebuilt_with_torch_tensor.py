import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import CausalLMOutput


class CRNNConfig(PretrainedConfig):
    model_type = "crnn_ocr"

    def __init__(self, vocab_size=11, hidden=16, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden = vocab_size, hidden


class CRNN(PreTrainedModel):
    config_class = CRNNConfig

    def __init__(self, config):
        super().__init__(config)
        self.conv = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d((2, 1)))
        self.rnn = nn.GRU(8 * 4, config.hidden, batch_first=True, bidirectional=True)
        self.classifier = nn.Linear(2 * config.hidden, config.vocab_size)

    def forward(self, pixel_values=None, labels=None, label_lengths=None):
        f = self.conv(pixel_values)
        b, c, h, w = f.shape
        seq, _ = self.rnn(f.permute(0, 3, 1, 2).reshape(b, w, c * h))
        log_probs = F.log_softmax(self.classifier(seq), -1)
        loss = None
        if labels is not None:
            per_line = []
            for i in range(b):
                target = labels[i, :label_lengths[i]]
                per_line.append(F.ctc_loss(log_probs[i], target, (w,), (int(label_lengths[i]),), blank=0))
            loss = torch.tensor(per_line).mean()
        return CausalLMOutput(loss=loss, logits=log_probs)


def make_lines(n=24, width=12):
    g = torch.Generator().manual_seed(0)
    rows = []
    for _ in range(n):
        length = int(torch.randint(2, 5, (1,), generator=g))
        labels = torch.randint(1, 11, (5,), generator=g)
        img = 0.1 * torch.randn(1, 8, width, generator=g)
        for j in range(length):
            img[0, int(labels[j]) % 8, 2 * j:2 * j + 2] += 1.0
        rows.append({"pixel_values": img, "labels": labels, "label_lengths": length})
    return rows


def main():
    torch.manual_seed(0)
    model = CRNN(CRNNConfig())
    cls0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/crnn", per_device_train_batch_size=6, num_train_epochs=1,
                             learning_rate=3e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=make_lines()).train()
    return {"model": model}, {"classifier_changed": not torch.equal(cls0, model.classifier.weight)}

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
