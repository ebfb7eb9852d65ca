import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class BackboneConfig(PretrainedConfig):
    model_type = "frozen-backbone"

    def __init__(self, vocab_size=60, hidden_size=32, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size


class PromptTunedClassifier(PreTrainedModel):
    """Soft prompt tuning: a frozen encoder, trainable virtual-token embeddings and a trainable head."""

    config_class = BackboneConfig

    def __init__(self, config, n_virtual_tokens=4):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        layer = nn.TransformerEncoderLayer(config.hidden_size, 4, 64, batch_first=True, dropout=0.0)
        self.encoder = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        self.soft_prompt = [nn.Parameter(torch.randn(config.hidden_size) * 0.02) for _ in range(n_virtual_tokens)]
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def freeze_backbone(self):
        for module in (self.embeddings, self.encoder):
            module.requires_grad_(False)

    def forward(self, input_ids, labels=None):
        tokens = self.embeddings(input_ids)
        prompt = torch.stack(self.soft_prompt).unsqueeze(0).expand(tokens.size(0), -1, -1)
        h = self.encoder(torch.cat([prompt, tokens], dim=1))
        logits = self.classifier(h[:, 0])
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def build_dataset(n=24, seq=8):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 60, (n, seq), generator=g)
    return [{"input_ids": ids[i], "labels": int(ids[i, :3].sum() % 3)} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = PromptTunedClassifier(BackboneConfig())
    model.freeze_backbone()
    prompt0 = model.soft_prompt[0].detach().clone()
    head0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="prompt", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=1e-2, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=build_dataset())
    trainer.train()
    facts = {"soft_prompt_changed": not torch.equal(prompt0, model.soft_prompt[0].detach()),
             "classifier_changed": not torch.equal(head0, model.classifier.weight.detach()),
             "trainable_in_optimizer": sum(len(g["params"]) for g in trainer.optimizer.param_groups)}
    return {"model": model, "soft_prompt_0": model.soft_prompt[0]}, facts

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
