import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import BaseModelOutput


class SentConfig(PretrainedConfig):
    model_type = "sent-encoder"

    def __init__(self, vocab_size=40, hidden=16, temp=0.05, **kw):
        super().__init__(**kw)
        self.vocab_size, self.hidden, self.temp = vocab_size, hidden, temp


class MLPPooler(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)

    def forward(self, cls):
        return torch.tanh(self.dense(cls))


class SentenceEncoder(PreTrainedModel):
    config_class = SentConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(config.hidden, 2, 32, dropout=0.1, batch_first=True), num_layers=1)
        self.pooler = MLPPooler(config.hidden)
        self.post_init()

    def forward(self, input_ids):
        return BaseModelOutput(last_hidden_state=self.encoder(self.embed(input_ids)))


class SimCSETrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        ids = inputs["input_ids"]
        h1 = model(input_ids=ids).last_hidden_state[:, 0]
        h2 = model(input_ids=ids).last_hidden_state[:, 0]
        q = h1
        k = model.pooler(h2).detach()
        sim = F.cosine_similarity(q.unsqueeze(1), k.unsqueeze(0), dim=-1) / model.config.temp
        loss = F.cross_entropy(sim, torch.arange(ids.size(0)))
        return (loss, {"sim": sim}) if return_outputs else loss


class Sentences(Dataset):
    def __init__(self, n=16):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(1, 40, (n, 7), generator=g)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i]}


def main():
    torch.manual_seed(0)
    model = SentenceEncoder(SentConfig())
    p0 = model.pooler.dense.weight.detach().clone()
    grads = {}

    class Probe(SimCSETrainer):
        def training_step(self, model, inputs, num_items_in_batch=None):
            out = super().training_step(model, inputs, num_items_in_batch)
            grads.update({n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None})
            return out

    args = TrainingArguments(output_dir="/tmp/c3202_out", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=3e-3, report_to="none", remove_unused_columns=False)
    Probe(model=model, args=args, train_dataset=Sentences()).train()
    for n, p in model.named_parameters():
        p.grad = grads.get(n)
    return {"model": model}, {"pooler_changed": not torch.equal(p0, model.pooler.dense.weight)}

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
