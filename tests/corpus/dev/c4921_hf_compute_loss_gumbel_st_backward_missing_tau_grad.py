import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class GumbelHardST(torch.autograd.Function):
    """Hard one-hot sample in the forward, softmax gradient in the backward (straight-through Gumbel)."""

    @staticmethod
    def forward(ctx, logits, tau):
        g = -torch.log(-torch.log(torch.rand_like(logits).clamp_min(1e-9)))
        y_soft = torch.softmax((logits + g) / tau, dim=-1)
        ctx.save_for_backward(y_soft)
        ctx.tau = tau
        return F.one_hot(y_soft.argmax(-1), logits.shape[-1]).to(logits.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (y_soft,) = ctx.saved_tensors
        grad_logits = y_soft * (grad_output - (grad_output * y_soft).sum(-1, keepdim=True)) / ctx.tau
        return grad_logits


class CatVAEConfig(PretrainedConfig):
    model_type = "cat-vae"

    def __init__(self, in_dim=16, n_latents=4, n_cats=6, tau=0.8, **kw):
        super().__init__(**kw)
        self.in_dim, self.n_latents, self.n_cats, self.tau = in_dim, n_latents, n_cats, tau


class CategoricalVAE(PreTrainedModel):
    config_class = CatVAEConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = nn.Sequential(nn.Linear(config.in_dim, 32), nn.ReLU(), nn.Linear(32, config.n_latents * config.n_cats))
        self.decoder = nn.Sequential(nn.Linear(config.n_latents * config.n_cats, 32), nn.ReLU(), nn.Linear(32, config.in_dim))
        self.post_init()

    def forward(self, x=None):
        logits = self.encoder(x).view(x.shape[0], self.config.n_latents, self.config.n_cats)
        z = GumbelHardST.apply(logits, self.config.tau)
        return {"recon": self.decoder(z.flatten(1)), "logits": logits}


class VAETrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        out = model(x=inputs["x"])
        recon = F.mse_loss(out["recon"], inputs["x"])
        q = torch.softmax(out["logits"], -1)
        kl = (q * (torch.log(q + 1e-9) + torch.log(torch.tensor(float(q.shape[-1]))))).sum(-1).mean()
        loss = recon + 0.1 * kl
        return (loss, out) if return_outputs else loss


class ClusterData(Dataset):
    def __init__(self, n=64, dim=16):
        g = torch.Generator().manual_seed(0)
        centers = torch.randn(6, dim, generator=g)
        self.x = centers[torch.randint(0, 6, (n,), generator=g)] + 0.1 * torch.randn(n, dim, generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"x": self.x[i]}


def main():
    torch.manual_seed(0)
    model = CategoricalVAE(CatVAEConfig())
    enc0 = model.encoder[0].weight.detach().clone()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=16, num_train_epochs=1, learning_rate=1e-3,
                             remove_unused_columns=False, report_to="none")
    VAETrainer(model=model, args=args, train_dataset=ClusterData()).train()
    return {"model": model}, {"encoder_changed": not torch.equal(enc0, model.encoder[0].weight)}

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
