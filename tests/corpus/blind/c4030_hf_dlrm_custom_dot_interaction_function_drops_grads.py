import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class DotInteraction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, feats):
        ctx.save_for_backward(feats)
        return feats @ feats.transpose(1, 2)

    @staticmethod
    def backward(ctx, grad_out):
        (feats,) = ctx.saved_tensors
        grad_feats = (grad_out + grad_out.transpose(1, 2)) @ feats
        return None


class CTRConfig(PretrainedConfig):
    model_type = "tiny_ctr"

    def __init__(self, n_dense=4, cardinalities=(10, 12), d=8, **kwargs):
        super().__init__(**kwargs)
        self.n_dense, self.cardinalities, self.d = n_dense, list(cardinalities), d


class DotCTRModel(PreTrainedModel):
    config_class = CTRConfig

    def __init__(self, config):
        super().__init__(config)
        self.bottom = nn.Sequential(nn.Linear(config.n_dense, 16), nn.ReLU(), nn.Linear(16, config.d))
        self.tables = nn.ModuleList([nn.Embedding(c, config.d) for c in config.cardinalities])
        n_f = len(config.cardinalities) + 1
        self.top = nn.Sequential(nn.Linear(config.d + n_f * n_f, 16), nn.ReLU(), nn.Linear(16, 1))
        self.post_init()

    def forward(self, dense=None, sparse=None, labels=None, **kwargs):
        x = self.bottom(dense)
        feats = torch.stack([x] + [t(sparse[:, k]) for k, t in enumerate(self.tables)], dim=1)
        inter = DotInteraction.apply(feats).flatten(1)
        logits = self.top(torch.cat([x, inter], dim=1)).squeeze(-1)
        loss = F.binary_cross_entropy_with_logits(logits, labels.float())
        return ModelOutput(loss=loss, logits=logits)


def click_log(n=48):
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n):
        dense = torch.randn(4, generator=g)
        sparse = torch.stack([torch.randint(0, 10, (), generator=g), torch.randint(0, 12, (), generator=g)])
        out.append({"dense": dense, "sparse": sparse, "labels": int((sparse[0] % 2 == 0) ^ bool(dense[0] > 0))})
    return out


def main():
    torch.manual_seed(0)
    model = DotCTRModel(CTRConfig())
    emb0 = model.tables[0].weight.detach().clone()
    top0 = model.top[0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/ctr", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, report_to="none")
    Trainer(model=model, args=args, train_dataset=click_log()).train()
    return {}, {
        "embeddings_changed": not torch.equal(emb0, model.tables[0].weight),
        "top_mlp_changed": not torch.equal(top0, model.top[0].weight),
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
