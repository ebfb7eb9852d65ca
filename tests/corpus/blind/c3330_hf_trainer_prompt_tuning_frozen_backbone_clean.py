import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class EncConfig(PretrainedConfig):
    model_type = "prompt-enc"

    def __init__(self, vocab_size=40, hidden=32, n_virtual=6, num_labels=3, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden, self.n_virtual = vocab_size, hidden, n_virtual


class PromptTunedModel(PreTrainedModel):
    config_class = EncConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        layer = nn.TransformerEncoderLayer(config.hidden, 4, 2 * config.hidden, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2)
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.soft_prompt = nn.Parameter(torch.randn(config.n_virtual, config.hidden) * 0.1)
        self.post_init()

    def freeze_backbone(self):
        for name, p in self.named_parameters():
            if name != "soft_prompt" and not name.startswith("classifier."):
                p.requires_grad_(False)

    def forward(self, input_ids, labels=None):
        with torch.no_grad():
            tok = self.embed(input_ids)
        prompt = self.soft_prompt.unsqueeze(0).expand(input_ids.size(0), -1, -1)
        h = self.encoder(torch.cat([prompt, tok], dim=1))
        logits = self.classifier(h[:, : self.config.n_virtual].mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class PromptGradLogger(TrainerCallback):
    def __init__(self):
        self.prompt_grad_norms, self.encoder_grads = [], 0

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        self.prompt_grad_norms.append(float(model.soft_prompt.grad.norm()))
        self.encoder_grads += sum(p.grad is not None for p in model.encoder.parameters())


class Queries(Dataset):
    def __init__(self, n=24, seq=8):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 40, (n, seq), generator=g)
        self.labels = (self.ids[:, 0] % 3).tolist()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "label": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = PromptTunedModel(EncConfig())
    model.freeze_backbone()
    logger = PromptGradLogger()
    args = TrainingArguments(output_dir="/tmp/c3330_out", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, report_to="none")
    p0 = model.soft_prompt.detach().clone()
    Trainer(model=model, args=args, train_dataset=Queries(), callbacks=[logger]).train()
    facts = {"prompt_changed": not torch.equal(p0, model.soft_prompt),
             "prompt_grad_positive": min(logger.prompt_grad_norms) > 0,
             "encoder_grads_seen": logger.encoder_grads}
    return {"model": model}, facts

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
