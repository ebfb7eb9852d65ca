import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class LowerBound(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, bound):
        ctx.save_for_backward(x, bound)
        return torch.max(x, bound)

    @staticmethod
    def backward(ctx, grad_output):
        x, bound = ctx.saved_tensors
        pass_through = (x >= bound) | (grad_output < 0)
        return pass_through.type(grad_output.dtype) * grad_output


class GDN(nn.Module):
    """Generalized divisive normalization with reparametrized, lower-bounded beta and gamma."""

    def __init__(self, channels, beta_min=1e-6, gamma_init=0.1):
        super().__init__()
        self.beta = nn.Parameter(torch.ones(channels))
        self.gamma = nn.Parameter(gamma_init * torch.eye(channels))
        self.register_buffer("beta_bound", torch.tensor(beta_min))
        self.register_buffer("gamma_bound", torch.tensor(0.0))

    def forward(self, x):
        beta = LowerBound.apply(self.beta, self.beta_bound)
        gamma = LowerBound.apply(self.gamma, self.gamma_bound)
        norm = F.conv2d(x ** 2, gamma[:, :, None, None], beta)
        return x * torch.rsqrt(norm)


class BallePriorConfig(PretrainedConfig):
    model_type = "balle-gdn"

    def __init__(self, n=12, m=8, lmbda=0.01, **kwargs):
        super().__init__(**kwargs)
        self.n, self.m, self.lmbda = n, m, lmbda


class GDNCodec(PreTrainedModel):
    config_class = BallePriorConfig
    main_input_name = "pixel_values"

    def __init__(self, config):
        super().__init__(config)
        n, m = config.n, config.m
        self.g_a = nn.Sequential(nn.Conv2d(3, n, 5, 2, 2), GDN(n), nn.Conv2d(n, m, 5, 2, 2))
        self.g_s = nn.Sequential(nn.ConvTranspose2d(m, n, 5, 2, 2, output_padding=1), nn.ReLU(),
                                 nn.ConvTranspose2d(n, 3, 5, 2, 2, output_padding=1))
        self.log_scales = nn.Parameter(torch.zeros(1, m, 1, 1))
        self.post_init()

    def forward(self, pixel_values):
        y = self.g_a(pixel_values)
        y_hat = y + torch.empty_like(y).uniform_(-0.5, 0.5)
        dist = torch.distributions.Laplace(0.0, self.log_scales.exp())
        likelihood = (dist.cdf(y_hat + 0.5) - dist.cdf(y_hat - 0.5)).clamp_min(1e-9)
        return {"x_hat": self.g_s(y_hat), "likelihood": likelihood}


class RDTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        x = inputs["pixel_values"]
        out = model(pixel_values=x)
        bpp = -torch.log2(out["likelihood"]).sum() / (x.shape[0] * x.shape[2] * x.shape[3])
        loss = model.config.lmbda * 255 ** 2 * F.mse_loss(out["x_hat"], x) + bpp
        return (loss, out) if return_outputs else loss


class Crops(Dataset):
    def __init__(self, n=24, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.x = F.interpolate(torch.rand(n, 3, 4, 4, generator=g), size=(16, 16), mode="bilinear", align_corners=False)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, k):
        return {"pixel_values": self.x[k]}


def main():
    torch.manual_seed(0)
    model = GDNCodec(BallePriorConfig())
    args = TrainingArguments(output_dir="/tmp/gdn_codec", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-3, report_to="none", seed=0)
    RDTrainer(model=model, args=args, train_dataset=Crops()).train()
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
