import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class TextClsConfig(PretrainedConfig):
    model_type = "tiny-text-cls"

    def __init__(self, vocab_size=50, hidden=24, num_labels=2, **kw):
        super().__init__(**kw)
        self.vocab_size, self.hidden, self.num_labels = vocab_size, hidden, num_labels


class TinyTextClassifier(PreTrainedModel):
    config_class = TextClsConfig
    base_model_prefix = ""

    def __init__(self, cfg):
        super().__init__(cfg)
        self.embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden)
        self.encoder = nn.TransformerEncoderLayer(cfg.hidden, 4, 48, dropout=0.0, batch_first=True)
        self.classifier = nn.Linear(cfg.hidden, cfg.num_labels)

    def get_input_embeddings(self):
        return self.embeddings

    def forward(self, input_ids=None, inputs_embeds=None, labels=None):
        h = self.embeddings(input_ids) if inputs_embeds is None else inputs_embeds
        logits = self.classifier(self.encoder(h).mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return {"loss": loss, "logits": logits}


def embedding_perturbation(model, embeds, labels, eps=0.05):
    delta = torch.zeros_like(embeds, requires_grad=True)
    adv_loss = model(inputs_embeds=embeds + delta, labels=labels)["loss"]
    (g,) = torch.autograd.grad(adv_loss, delta)
    return eps * g / (g.norm(dim=-1, keepdim=True) + 1e-8)


class AdversarialTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        embeds = model.get_input_embeddings()(inputs["input_ids"])
        clean = model(inputs_embeds=embeds, labels=inputs["labels"])
        with torch.no_grad():
            delta = embedding_perturbation(model, embeds.detach(), inputs["labels"])
        adv = model(inputs_embeds=embeds + delta, labels=inputs["labels"])
        loss = clean["loss"] + adv["loss"]
        return (loss, clean) if return_outputs else loss


class ReviewDataset(torch.utils.data.Dataset):
    def __init__(self, n=16, seq=8):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 50, (n, seq), generator=g)
        self.labels = (self.ids[:, 0] > 25).long()

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = TinyTextClassifier(TextClsConfig())
    args = TrainingArguments(output_dir="/tmp/c2527", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=1e-3, report_to=[])
    AdversarialTrainer(model=model, args=args, train_dataset=ReviewDataset()).train()
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
