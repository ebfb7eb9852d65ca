import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class BlockCheckpoint(torch.autograd.Function):
    """Activation checkpointing: run the block without saving activations, recompute it in backward."""

    @staticmethod
    def forward(ctx, run_function, *inputs):
        ctx.run_function = run_function
        ctx.save_for_backward(*inputs)
        with torch.no_grad():
            return run_function(*inputs)

    @staticmethod
    def backward(ctx, *output_grads):
        inputs = [x.detach().requires_grad_(x.requires_grad) for x in ctx.saved_tensors]
        with torch.enable_grad():
            outputs = ctx.run_function(*inputs)
        grads = torch.autograd.grad(outputs, [x for x in inputs if x.requires_grad], output_grads, allow_unused=True)
        grads = iter(grads)
        return (None,) + tuple(next(grads) if x.requires_grad else None for x in inputs)


class ProteinConfig(PretrainedConfig):
    model_type = "tiny-protein"

    def __init__(self, vocab_size=25, hidden=32, n_layers=2, num_labels=2, gradient_checkpointing=True, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden, self.n_layers = vocab_size, hidden, n_layers
        self.gradient_checkpointing = gradient_checkpointing


class ConvBlock(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.conv = nn.Conv1d(h, h, 5, padding=2)
        self.norm = nn.LayerNorm(h)
        self.ff = nn.Sequential(nn.Linear(h, 2 * h), nn.GELU(), nn.Linear(2 * h, h))

    def forward(self, x):
        x = self.norm(x + self.conv(x.transpose(1, 2)).transpose(1, 2))
        return x + self.ff(x)


class ProteinClassifier(PreTrainedModel):
    config_class = ProteinConfig
    supports_gradient_checkpointing = True

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.blocks = nn.ModuleList(ConvBlock(config.hidden) for _ in range(config.n_layers))
        self.head = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h = self.embed(input_ids)
        for block in self.blocks:
            h = BlockCheckpoint.apply(block, h) if self.config.gradient_checkpointing and self.training else block(h)
        logits = self.head(h.mean(dim=1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_dataset(n=32, length=20):
    g = torch.Generator().manual_seed(0)
    seqs = torch.randint(0, 25, (n, length), generator=g)
    return [{"input_ids": seqs[i], "label": int((seqs[i] < 5).sum() > 4)} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = ProteinClassifier(ProteinConfig())
    snap = {n: p.detach().clone() for n, p in model.named_parameters()}
    args = TrainingArguments(output_dir="/tmp/protein-ckpt", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=5e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=make_dataset()).train()
    changed = {n: not torch.equal(snap[n], p.detach()) for n, p in model.named_parameters()}
    return ({"model": model},
            {"embed_changed": changed["embed.weight"], "head_changed": changed["head.weight"],
             "block_conv_changed": changed["blocks.0.conv.weight"], "block_ff_changed": changed["blocks.1.ff.0.weight"]})

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
