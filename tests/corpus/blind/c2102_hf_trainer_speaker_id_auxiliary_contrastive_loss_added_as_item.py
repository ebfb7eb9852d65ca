import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class SpeakerConfig(PretrainedConfig):
    model_type = "speaker-id"

    def __init__(self, n_mels=8, hidden=16, proj_dim=8, aux_weight=0.5, **kwargs):
        super().__init__(**kwargs)
        self.n_mels, self.hidden, self.proj_dim, self.aux_weight = n_mels, hidden, proj_dim, aux_weight


class SpeakerEncoder(PreTrainedModel):
    config_class = SpeakerConfig
    main_input_name = "features"

    def __init__(self, config):
        super().__init__(config)
        self.frame = nn.Sequential(nn.Linear(config.n_mels, config.hidden), nn.ReLU(),
                                   nn.Linear(config.hidden, config.hidden))
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.projector = nn.Sequential(nn.Linear(config.hidden, config.hidden), nn.ReLU(),
                                       nn.Linear(config.hidden, config.proj_dim))
        self.post_init()

    def forward(self, features, labels=None):
        emb = self.frame(features).mean(dim=1)
        return SequenceClassifierOutput(logits=self.classifier(emb), hidden_states=(emb,))


def supervised_contrastive(z, labels, temperature=0.2):
    z = F.normalize(z, dim=1)
    sim = z @ z.t() / temperature
    eye = torch.eye(len(z), dtype=torch.bool)
    sim = sim.masked_fill(eye, -1e9)
    pos = (labels[:, None] == labels[None, :]) & ~eye
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    return -(log_prob * pos).sum(1).div(pos.sum(1).clamp(min=1)).mean()


class SpeakerTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        ce = F.cross_entropy(outputs.logits, labels)
        aux = supervised_contrastive(model.projector(outputs.hidden_states[0]), labels)
        loss = ce + model.config.aux_weight * aux.detach().item()
        self.log({"ce": ce.item(), "supcon": aux.item()})
        return (loss, outputs) if return_outputs else loss


class Utterances(Dataset):
    def __init__(self, n=32):
        g = torch.Generator().manual_seed(0)
        self.y = torch.arange(n) % 4
        self.x = torch.randn(n, 10, 8, generator=g) + self.y[:, None, None].float()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"features": self.x[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    model = SpeakerEncoder(SpeakerConfig(num_labels=4))
    proj0 = model.projector[0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/spk", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, report_to="none")
    trainer = SpeakerTrainer(model=model, args=args, train_dataset=Utterances())
    trainer.train()
    batch = {"features": Utterances().x[:8], "labels": Utterances().y[:8]}
    trainer.compute_loss(model, batch).backward()
    return ({"model": model}, {"projector_changed": not torch.equal(proj0, model.projector[0].weight)})

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
