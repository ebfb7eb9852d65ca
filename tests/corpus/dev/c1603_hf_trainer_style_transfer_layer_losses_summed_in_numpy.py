import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class StyleNetConfig(PretrainedConfig):
    model_type = "tiny-style-net"

    def __init__(self, channels=8, style_weight=5.0, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.style_weight = channels, style_weight


class StyleTransferNet(PreTrainedModel):
    config_class = StyleNetConfig
    main_input_name = "pixel_values"

    def __init__(self, config):
        super().__init__(config)
        c = config.channels
        self.encode = nn.Sequential(nn.Conv2d(3, c, 3, padding=1), nn.InstanceNorm2d(c, affine=True), nn.ReLU())
        self.residual = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.ReLU(), nn.Conv2d(c, c, 3, padding=1))
        self.decode = nn.Conv2d(c, 3, 3, padding=1)
        self.post_init()

    def forward(self, pixel_values=None):
        h = self.encode(pixel_values)
        h = h + self.residual(h)
        return {"stylized": torch.sigmoid(self.decode(h))}


class FeatureNet(nn.Module):
    """Fixed loss network: activations of its blocks give the content and style targets."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU()),
                                     nn.Sequential(nn.Conv2d(6, 6, 3, padding=1, stride=2), nn.ReLU())])
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x):
        feats = []
        for blk in self.blocks:
            x = blk(x)
            feats.append(x)
        return feats


def gram(feat):
    b, c, h, w = feat.shape
    f = feat.reshape(b, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


class StyleTrainer(Trainer):
    def __init__(self, *args, loss_net=None, style_image=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_net = loss_net.eval()
        self.style_grams = [gram(f) for f in self.loss_net(style_image)]

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        out_feats = self.loss_net(outputs["stylized"])
        content_feats = self.loss_net(inputs["pixel_values"])
        layer_losses = [F.mse_loss(out_feats[-1], content_feats[-1])]
        for feat, target in zip(out_feats, self.style_grams):
            layer_losses.append(model.config.style_weight * F.mse_loss(gram(feat), target.expand(feat.size(0), -1, -1)))
        loss = torch.tensor(np.sum([l.detach().cpu().numpy() for l in layer_losses]), requires_grad=True)
        return (loss, outputs) if return_outputs else loss


def make_photos(n=32):
    g = torch.Generator().manual_seed(5)
    return [{"pixel_values": torch.rand(3, 12, 12, generator=g)} for _ in range(n)]


def main():
    torch.manual_seed(0)
    model = StyleTransferNet(StyleNetConfig())
    w0 = model.encode[0].weight.detach().clone()
    style = torch.rand(1, 3, 12, 12, generator=torch.Generator().manual_seed(9))
    args = TrainingArguments(output_dir="tmp_style", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=1e-2, report_to="none", seed=0)
    trainer = StyleTrainer(model=model, args=args, train_dataset=make_photos(), loss_net=FeatureNet(), style_image=style)
    trainer.train()
    return {"model": model}, {"stylizer_changed": not torch.equal(w0, model.encode[0].weight)}

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
