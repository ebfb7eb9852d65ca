import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class CTRConfig(PretrainedConfig):
    model_type = "tiny-ctr"

    def __init__(self, n_users=50, n_items=80, n_dense=6, dim=16, **kwargs):
        super().__init__(**kwargs)
        self.n_users, self.n_items, self.n_dense, self.dim = n_users, n_items, n_dense, dim


class FactorizationMachine(nn.Module):
    def forward(self, emb):  # B x F x D
        square_of_sum = emb.sum(1) ** 2
        sum_of_square = (emb ** 2).sum(1)
        return 0.5 * (square_of_sum - sum_of_square).sum(1, keepdim=True)


class DeepFM(PreTrainedModel):
    config_class = CTRConfig

    def __init__(self, config):
        super().__init__(config)
        self.user_emb = nn.Embedding(config.n_users, config.dim)
        self.item_emb = nn.Embedding(config.n_items, config.dim)
        self.dense_proj = nn.Linear(config.n_dense, config.dim)
        self.fm = FactorizationMachine()
        self.dnn = nn.Sequential(nn.Linear(3 * config.dim, 32), nn.ReLU(), nn.Linear(32, 1))
        self.post_init()

    def forward(self, user_id=None, item_id=None, dense=None, labels=None):
        emb = torch.stack([self.user_emb(user_id), self.item_emb(item_id), self.dense_proj(dense)], dim=1)
        logits = (self.fm(emb) + self.dnn(emb.flatten(1))).squeeze(-1)
        return {"logits": logits}


class CTRTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = F.binary_cross_entropy_with_logits(outputs["logits"], labels.float())
        loss = self._log_and_detach(loss, outputs["logits"], labels)
        return (loss, outputs) if return_outputs else loss

    def _log_and_detach(self, loss, logits, labels):
        """Record loss/accuracy for the progress bar without keeping the graph alive."""
        acc = ((logits > 0).long() == labels).float().mean()
        self.state.log_history.append({"loss": loss.item(), "acc": acc.item()})
        return loss.detach()


def make_dataset(n=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    users = torch.randint(0, 50, (n,), generator=g)
    items = torch.randint(0, 80, (n,), generator=g)
    dense = torch.randn(n, 6, generator=g)
    labels = (dense[:, 0] + 0.1 * torch.randn(n, generator=g) > 0).long()
    return [{"user_id": users[i], "item_id": items[i], "dense": dense[i], "labels": labels[i]} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = DeepFM(CTRConfig())
    args = TrainingArguments(output_dir="tmp_ctr", num_train_epochs=1, per_device_train_batch_size=16,
                             learning_rate=1e-3, report_to="none", seed=0)
    CTRTrainer(model=model, args=args, train_dataset=make_dataset()).train()
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
