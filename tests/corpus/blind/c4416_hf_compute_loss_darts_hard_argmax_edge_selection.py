import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput

OPS = ("identity", "conv1", "conv3", "maxpool")


class SearchConfig(PretrainedConfig):
    model_type = "oneshot-search"

    def __init__(self, n_mels=8, channels=16, n_edges=3, num_labels=5, tau=1.0, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.n_mels, self.channels, self.n_edges, self.tau = n_mels, channels, n_edges, tau


def make_op(name, c):
    if name == "identity":
        return nn.Identity()
    if name == "maxpool":
        return nn.MaxPool1d(3, stride=1, padding=1)
    k = 1 if name == "conv1" else 3
    return nn.Sequential(nn.Conv1d(c, c, k, padding=k // 2), nn.BatchNorm1d(c), nn.ReLU())


class Edge(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ops = nn.ModuleList([make_op(o, c) for o in OPS])

    def forward(self, x, weights):
        return sum(w * op(x) for w, op in zip(weights, self.ops) if w.item() != 0) + 0 * x


class KeywordSpottingSearch(PreTrainedModel):
    config_class = SearchConfig

    def __init__(self, config):
        super().__init__(config)
        self.stem = nn.Conv1d(config.n_mels, config.channels, 3, padding=1)
        self.edges = nn.ModuleList([Edge(config.channels) for _ in range(config.n_edges)])
        self.arch_logits = nn.Parameter(1e-3 * torch.randn(config.n_edges, len(OPS)))
        self.classifier = nn.Linear(config.channels, config.num_labels)
        self.post_init()

    def sample_architecture(self):
        """One-shot sampling: each edge runs a single operation per step (GDAS-style)."""
        gumbel = -torch.empty_like(self.arch_logits).exponential_().log()
        probs = F.softmax((self.arch_logits.log_softmax(-1) + gumbel) / self.config.tau, dim=-1)
        index = probs.argmax(-1)
        return F.one_hot(index, len(OPS)).float()

    def forward(self, input_features):
        weights = self.sample_architecture()
        h = self.stem(input_features.transpose(1, 2))
        for edge, w in zip(self.edges, weights):
            h = edge(h, w)
        return SequenceClassifierOutput(logits=self.classifier(h.mean(-1)))


class SearchTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = F.cross_entropy(outputs.logits, labels, label_smoothing=0.1)
        return (loss, outputs) if return_outputs else loss


class SpeechCommandsLike(torch.utils.data.Dataset):
    def __init__(self, n=40, T=12, n_mels=8, classes=5):
        g = torch.Generator().manual_seed(0)
        self.labels = torch.randint(0, classes, (n,), generator=g)
        self.feats = torch.randn(n, T, n_mels, generator=g) + self.labels[:, None, None].float() * 0.3

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_features": self.feats[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = KeywordSpottingSearch(SearchConfig())
    arch0 = model.arch_logits.detach().clone()
    stem0 = model.stem.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/kws-search", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=3e-3, report_to="none")
    SearchTrainer(model=model, args=args, train_dataset=SpeechCommandsLike()).train()
    return {"model": model}, {
        "arch_logits_changed": not torch.equal(arch0, model.arch_logits.detach()),
        "stem_changed": not torch.equal(stem0, model.stem.weight),
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
