import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class CodecConfig(PretrainedConfig):
    model_type = "tiny-codec"

    def __init__(self, channels=3, latent_channels=8, rate_weight=0.01, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.latent_channels, self.rate_weight = channels, latent_channels, rate_weight


class Analysis(nn.Module):
    def __init__(self, c, n):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(c, 16, 5, stride=2, padding=2), nn.GELU(), nn.Conv2d(16, n, 5, stride=2, padding=2))

    def forward(self, x):
        return self.net(x)


class Synthesis(nn.Module):
    def __init__(self, c, n):
        super().__init__()
        self.net = nn.Sequential(nn.ConvTranspose2d(n, 16, 4, stride=2, padding=1), nn.GELU(),
                                 nn.ConvTranspose2d(16, c, 4, stride=2, padding=1))

    def forward(self, y):
        return self.net(y)


def quantize(y, training):
    """Integer latents for the entropy coder."""
    return torch.round(y)


class TinyCodec(PreTrainedModel):
    config_class = CodecConfig

    def __init__(self, config):
        super().__init__(config)
        self.g_a = Analysis(config.channels, config.latent_channels)
        self.g_s = Synthesis(config.channels, config.latent_channels)
        self.post_init()

    def forward(self, pixel_values):
        y_hat = quantize(self.g_a(pixel_values), self.training)
        x_hat = self.g_s(y_hat)
        rate = y_hat.abs().mean()
        loss = F.mse_loss(x_hat, pixel_values) + self.config.rate_weight * rate
        return ModelOutput(loss=loss, reconstruction=x_hat)


def main():
    torch.manual_seed(0)
    images = torch.rand(24, 3, 16, 16)
    data = [{"pixel_values": images[i]} for i in range(24)]
    model = TinyCodec(CodecConfig())
    enc0 = model.g_a.net[0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/tiny-codec", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=data).train()
    model(images[:8])["loss"].backward()
    return {"model": model}, {"encoder_changed": not torch.equal(enc0, model.g_a.net[0].weight)}

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
