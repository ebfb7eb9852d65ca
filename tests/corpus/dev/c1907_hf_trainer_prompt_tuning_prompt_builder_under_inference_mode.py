import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class PromptClassifierConfig(PretrainedConfig):
    model_type = "prompt-classifier"

    def __init__(self, vocab_size=50, hidden_size=32, n_prompts=4, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.n_prompts = vocab_size, hidden_size, n_prompts


class PromptEncoder(nn.Module):
    """P-tuning style reparameterisation: learned seeds -> MLP -> prompt vectors."""

    def __init__(self, n_prompts, hidden):
        super().__init__()
        self.seeds = nn.Embedding(n_prompts, hidden)
        self.mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, hidden))

    def forward(self, batch_size):
        idx = torch.arange(self.seeds.num_embeddings)
        return self.mlp(self.seeds(idx)).unsqueeze(0).expand(batch_size, -1, -1)


class PromptTunedClassifier(PreTrainedModel):
    config_class = PromptClassifierConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.prompt_encoder = PromptEncoder(config.n_prompts, config.hidden_size)
        self.prompt_norm = nn.LayerNorm(config.hidden_size)
        self.encoder = nn.TransformerEncoderLayer(config.hidden_size, nhead=4, dim_feedforward=64,
                                                  dropout=0.0, batch_first=True)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    @torch.inference_mode()
    def build_prompts(self, batch_size):
        return self.prompt_encoder(batch_size)

    def forward(self, input_ids, labels=None):
        prompts = self.prompt_norm(self.build_prompts(input_ids.size(0)))
        h = self.encoder(torch.cat([prompts, self.embed(input_ids)], dim=1))
        logits = self.classifier(h[:, : self.config.n_prompts].mean(dim=1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_backbone(model):
    for module in (model.embed, model.encoder):
        module.requires_grad_(False)


def make_dataset(n=24, seq=6, vocab=50, num_labels=3):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (n, seq), generator=g)
    labels = ids[:, 0] % num_labels
    return [{"input_ids": ids[i], "label": int(labels[i])} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = PromptTunedClassifier(PromptClassifierConfig())
    freeze_backbone(model)
    args = TrainingArguments(output_dir="/tmp/prompt-tuning", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=1e-3, report_to="none")
    data = make_dataset()
    Trainer(model=model, args=args, train_dataset=data).train()
    batch = {"input_ids": torch.stack([d["input_ids"] for d in data[:8]]),
             "labels": torch.tensor([d["label"] for d in data[:8]])}
    model.zero_grad(set_to_none=True)
    model(**batch).loss.backward()
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
