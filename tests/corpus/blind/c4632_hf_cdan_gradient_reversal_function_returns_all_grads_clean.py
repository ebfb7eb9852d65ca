import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments, SequenceClassifierOutput


class GradientReverseLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, coeff):
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -ctx.coeff * grad_output, None


def reverse_gradient(x, coeff):
    return GradientReverseLayer.apply(x, coeff)


class CdanConfig(PretrainedConfig):
    model_type = "cdan-text"

    def __init__(self, vocab_size=150, hidden=32, num_labels=3, adv_coeff=0.5, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden, self.adv_coeff = vocab_size, hidden, adv_coeff


class CdanForSequenceClassification(PreTrainedModel):
    config_class = CdanConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.EmbeddingBag(config.vocab_size, config.hidden)
        self.encoder = nn.Sequential(nn.Linear(config.hidden, config.hidden), nn.Tanh())
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.discriminator = nn.Sequential(nn.Linear(config.hidden * config.num_labels, 32), nn.ReLU(),
                                           nn.Linear(32, 1))
        self.post_init()

    def forward(self, input_ids, labels=None, is_target=None):
        feats = self.encoder(self.embed(input_ids))
        logits = self.classifier(feats)
        probs = F.softmax(logits, -1).detach()
        joint = torch.bmm(probs.unsqueeze(2), reverse_gradient(feats, self.config.adv_coeff).unsqueeze(1))
        domain_logits = self.discriminator(joint.flatten(1)).squeeze(-1)
        loss = None
        if labels is not None:
            src = is_target == 0
            loss = F.cross_entropy(logits[src], labels[src])
        return SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=(domain_logits,))


class CdanTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        adv = F.binary_cross_entropy_with_logits(outputs.hidden_states[0], inputs["is_target"].float())
        loss = outputs.loss + adv
        return (loss, outputs) if return_outputs else loss


class TwoDomainDataset(Dataset):
    def __init__(self, n=48, length=10, vocab=150, classes=3):
        g = torch.Generator().manual_seed(0)
        self.labels = torch.randint(0, classes, (n,), generator=g)
        self.is_target = (torch.arange(n) % 2).long()
        base = torch.randint(0, 50, (n, length), generator=g) + 30 * self.labels[:, None]
        self.ids = (base + 60 * self.is_target[:, None]) % vocab

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.labels[i], "is_target": self.is_target[i]}


def main():
    model = CdanForSequenceClassification(CdanConfig())
    enc0 = model.encoder[0].weight.detach().clone()
    disc0 = model.discriminator[0].weight.detach().clone()
    cls0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/cdan-text", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=3e-3, remove_unused_columns=False, report_to="none")
    trainer = CdanTrainer(model=model, args=args, train_dataset=TwoDomainDataset())
    trainer.train()
    return {"model": model}, {
        "encoder_changed": not torch.equal(enc0, model.encoder[0].weight),
        "discriminator_changed": not torch.equal(disc0, model.discriminator[0].weight),
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
