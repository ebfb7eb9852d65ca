import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class TextCNNConfig(PretrainedConfig):
    model_type = "text-cnn"


class TextCNN(PreTrainedModel):
    config_class = TextCNNConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.emb_dim)
        self.convs = [
            nn.Conv1d(config.emb_dim, config.n_filters, k) for k in config.kernel_sizes
        ]
        self.classifier = nn.Linear(config.n_filters * len(config.kernel_sizes), config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        x = self.embed(input_ids).transpose(1, 2)
        pooled = [F.relu(conv(x)).max(dim=-1).values for conv in self.convs]
        logits = self.classifier(torch.cat(pooled, dim=-1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class ReviewDataset(Dataset):
    def __init__(self, n=48, seq=16, vocab=100):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, vocab, (n, seq), generator=g)
        self.labels = (self.ids[:, :4].sum(1) % 2).long()

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "label": int(self.labels[i])}


def compute_metrics(eval_pred):
    logits, labels = eval_pred
    return {"accuracy": float((logits.argmax(-1) == labels).float().mean())}


def main():
    torch.manual_seed(0)
    config = TextCNNConfig(vocab_size=100, emb_dim=16, n_filters=8, kernel_sizes=[2, 3, 4], num_labels=2)
    model = TextCNN(config)
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=16, num_train_epochs=2,
                             learning_rate=5e-3, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=ReviewDataset(), compute_metrics=compute_metrics)
    c0, k0 = model.convs[0].weight.detach().clone(), model.classifier.weight.detach().clone()
    trainer.train()
    batch = ReviewDataset()[0]
    model(batch["input_ids"][None], labels=torch.tensor([batch["label"]])).loss.backward()
    return {"model": model, "conv0": model.convs[0]}, {
        "convs_changed": not torch.equal(c0, model.convs[0].weight),
        "classifier_changed": not torch.equal(k0, model.classifier.weight),
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
