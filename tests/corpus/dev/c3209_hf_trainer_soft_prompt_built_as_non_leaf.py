import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class PromptConfig(PretrainedConfig):
    model_type = "prompt-encoder"

    def __init__(self, vocab_size=30, hidden=16, n_prompt=4, num_labels=3, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden, self.n_prompt = vocab_size, hidden, n_prompt


class PromptTunedEncoder(PreTrainedModel):
    config_class = PromptConfig

    def __init__(self, config, init_std=0.02):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(config.hidden, 2, 32, dropout=0.0, batch_first=True), num_layers=1)
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.prompt = torch.randn(config.n_prompt, config.hidden, requires_grad=True) * init_std
        self.post_init()

    def freeze_backbone(self):
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, input_ids, labels=None):
        tok = self.embed(input_ids)
        prompt = self.prompt.unsqueeze(0).expand(tok.size(0), -1, -1)
        h = self.encoder(torch.cat([prompt, tok], 1))
        logits = self.classifier(h[:, 0])
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class PromptTrainer(Trainer):
    def create_optimizer(self):
        if self.optimizer is None:
            self.optimizer = torch.optim.AdamW([self.model.prompt], lr=self.args.learning_rate)
        return self.optimizer


class Snippets(Dataset):
    def __init__(self, n=12):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(1, 30, (n, 8), generator=g)
        self.labels = torch.randint(0, 3, (n,), generator=g).tolist()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "label": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = PromptTunedEncoder(PromptConfig())
    model.freeze_backbone()
    args = TrainingArguments(output_dir="/tmp/c3209_out", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=3e-2, report_to="none")
    PromptTrainer(model=model, args=args, train_dataset=Snippets()).train()
    return {"model": model}

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
