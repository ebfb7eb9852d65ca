import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class RatingConfig(PretrainedConfig):
    model_type = "rating-bag"

    def __init__(self, vocab_size=90, hidden_size=24, num_labels=5, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class RatingClassifier(PreTrainedModel):
    config_class = RatingConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.EmbeddingBag(config.vocab_size, config.hidden_size, mode="mean")
        self.pre_classifier = nn.Linear(config.hidden_size, config.hidden_size)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.1)
            nn.init.zeros_(module.bias)

    def forward(self, input_ids=None, labels=None):
        h = torch.tanh(self.pre_classifier(self.embed(input_ids)))
        return SequenceClassifierOutput(logits=self.classifier(h))


def ordinal_cost_matrix(n):
    idx = np.arange(n)
    return np.abs(idx[:, None] - idx[None, :]).astype(np.float32)


def expected_costs(logits, labels, cost_matrix):
    """Expected misclassification cost of each review under the predicted rating distribution."""
    probs = F.softmax(logits, dim=-1).detach().cpu().numpy()
    costs = cost_matrix[labels.cpu().numpy()]
    return (probs * costs).sum(axis=1).tolist()


class CostSensitiveTrainer(Trainer):
    def __init__(self, *args, cost_matrix=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.cost_matrix = cost_matrix

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        per_review = expected_costs(outputs.logits, labels, self.cost_matrix)
        loss = torch.tensor(per_review, dtype=torch.float32, requires_grad=True).mean()
        return (loss, outputs) if return_outputs else loss


def make_reviews(n=48, length=10):
    g = torch.Generator().manual_seed(11)
    tokens = torch.randint(0, 90, (n, length), generator=g)
    stars = torch.randint(0, 5, (n,), generator=g)
    return [{"input_ids": tokens[i], "label": int(stars[i])} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = RatingClassifier(RatingConfig())
    head0 = model.classifier.weight.detach().clone()
    emb0 = model.embed.weight.detach().clone()
    args = TrainingArguments(output_dir="tmp_ratings", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=1e-2, report_to="none", seed=0)
    trainer = CostSensitiveTrainer(model=model, args=args, train_dataset=make_reviews(),
                                   cost_matrix=ordinal_cost_matrix(5))
    trainer.train()
    return {"model": model}, {"classifier_changed": not torch.equal(head0, model.classifier.weight),
                              "embedding_changed": not torch.equal(emb0, model.embed.weight)}

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
