import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class CRNNConfig(PretrainedConfig):
    model_type = "crnn-ctc"

    def __init__(self, vocab_size=11, img_height=16, hidden_size=32, learn_blank_prior=True, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.img_height = img_height
        self.hidden_size = hidden_size
        self.learn_blank_prior = learn_blank_prior


def conv_block(cin, cout, pool):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(pool))


class CRNNForCTC(PreTrainedModel):
    config_class = CRNNConfig
    main_input_name = "pixel_values"

    def __init__(self, config):
        super().__init__(config)
        self.cnn = nn.Sequential(conv_block(1, 16, (2, 2)), conv_block(16, 32, (2, 1)))
        feat_h = config.img_height // 4
        self.rnn = nn.GRU(32 * feat_h, config.hidden_size, bidirectional=True, batch_first=True)
        self.classifier = nn.Linear(2 * config.hidden_size, config.vocab_size)
        if config.learn_blank_prior:
            # learned log-prior added to the blank logit (index 0), counteracts blank domination early on
            self.register_buffer("blank_bias", torch.zeros(1))
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)

    def forward(self, pixel_values, labels=None, label_lengths=None):
        feats = self.cnn(pixel_values)                      # (B, C, H', W')
        b, c, h, w = feats.shape
        seq = feats.permute(0, 3, 1, 2).reshape(b, w, c * h)
        seq, _ = self.rnn(seq)
        logits = self.classifier(seq)                       # (B, T, V)
        if self.config.learn_blank_prior:
            logits = logits + F.pad(self.blank_bias, (0, self.config.vocab_size - 1))
        out = {"logits": logits}
        if labels is not None:
            log_probs = logits.log_softmax(-1).transpose(0, 1)
            input_lengths = torch.full((b,), w, dtype=torch.long)
            out["loss"] = F.ctc_loss(log_probs, labels, input_lengths, label_lengths, blank=0, zero_infinity=True)
        return out


class SyntheticDigitStrips(Dataset):
    def __init__(self, n=32, width=32, max_len=4, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.items = []
        for _ in range(n):
            length = int(torch.randint(2, max_len + 1, (1,), generator=g))
            digits = torch.randint(1, 11, (max_len,), generator=g)
            img = torch.rand(1, 16, width, generator=g) * 0.2
            for k in range(length):
                img[0, 4:12, 2 + 7 * k: 6 + 7 * k] += digits[k] / 10.0
            self.items.append({"pixel_values": img, "labels": digits, "label_lengths": torch.tensor(length)})

    def __len__(self):
        return len(self.items)

    def __getitem__(self, k):
        return self.items[k]


def build_trainer(model, dataset, cfg):
    args = TrainingArguments(output_dir="/tmp/crnn_ctc", per_device_train_batch_size=cfg["batch_size"],
                             num_train_epochs=cfg["epochs"], learning_rate=cfg["lr"], report_to="none",
                             lr_scheduler_type="constant", seed=0)
    return Trainer(model=model, args=args, train_dataset=dataset)


def main():
    torch.manual_seed(0)
    cfg = {"batch_size": 8, "epochs": 2, "lr": 5e-3}
    model = CRNNForCTC(CRNNConfig())
    bias0 = model.blank_bias.detach().clone()
    cls0 = model.classifier.weight.detach().clone()
    trainer = build_trainer(model, SyntheticDigitStrips(), cfg)
    trainer.train()
    return {"model": model}, {
        "blank_bias_changed": not torch.equal(bias0, model.blank_bias),
        "classifier_changed": not torch.equal(cls0, model.classifier.weight),
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
