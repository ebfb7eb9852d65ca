import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class FTTransformerConfig(PretrainedConfig):
    model_type = "ft_transformer"

    def __init__(self, n_numeric=4, d_token=8, n_heads=2, n_layers=1, **kwargs):
        super().__init__(**kwargs)
        self.n_numeric, self.d_token, self.n_heads, self.n_layers = n_numeric, d_token, n_heads, n_layers


class FTTransformer(PreTrainedModel):
    config_class = FTTransformerConfig

    def __init__(self, config):
        super().__init__(config)
        d = config.d_token
        self.feature_tokenizers = [nn.Linear(1, d) for _ in range(config.n_numeric)]
        self.cls_token = nn.Parameter(0.02 * torch.randn(1, 1, d))
        layer = nn.TransformerEncoderLayer(d, config.n_heads, dim_feedforward=16, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.n_layers, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.LayerNorm(d), nn.ReLU(), nn.Linear(d, config.num_labels))
        self.post_init()

    def tokenize(self, numeric):
        tokens = [tok(numeric[:, i:i + 1]) for i, tok in enumerate(self.feature_tokenizers)]
        return torch.stack(tokens, dim=1)

    def forward(self, numeric=None, labels=None):
        x = self.tokenize(numeric)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        logits = self.head(self.encoder(x)[:, 0])
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_rows(n=48):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=g)
    y = ((x[:, 0] * 1.5 - x[:, 2]) > 0).long()
    return [{"numeric": x[i], "label": int(y[i])} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = FTTransformer(FTTransformerConfig(num_labels=2))
    tok0 = model.feature_tokenizers[0].weight.detach().clone()
    head0 = model.head[2].weight.detach().clone()
    enc0 = model.encoder.layers[0].linear1.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/ft_transformer", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=make_rows()).train()
    return {"model": model, "tokenizer0": model.feature_tokenizers[0].weight}, {
        "tokenizers_changed": not torch.equal(tok0, model.feature_tokenizers[0].weight),
        "head_changed": not torch.equal(head0, model.head[2].weight),
        "encoder_changed": not torch.equal(enc0, model.encoder.layers[0].linear1.weight),
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
