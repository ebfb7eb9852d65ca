import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import BaseModelOutput


class EcapaConfig(PretrainedConfig):
    model_type = "ecapa-tdnn"

    def __init__(self, n_mels=20, channels=32, emb_dim=16, n_speakers=6, margin=0.2, scale=30.0, **kw):
        super().__init__(**kw)
        self.n_mels, self.channels, self.emb_dim = n_mels, channels, emb_dim
        self.n_speakers, self.margin, self.scale = n_speakers, margin, scale


class SEBlock(nn.Module):
    def __init__(self, c, r=4):
        super().__init__()
        self.fc1, self.fc2 = nn.Conv1d(c, c // r, 1), nn.Conv1d(c // r, c, 1)

    def forward(self, x):
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean(-1, keepdim=True)))))


class TDNNBlock(nn.Module):
    def __init__(self, c_in, c_out, k, d):
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, k, dilation=d, padding=d * (k - 1) // 2)
        self.bn = nn.BatchNorm1d(c_out)
        self.se = SEBlock(c_out)

    def forward(self, x):
        return self.se(self.bn(F.relu(self.conv(x))))


class AttentiveStatsPool(nn.Module):
    def __init__(self, c, att=16):
        super().__init__()
        self.attention = nn.Sequential(nn.Conv1d(c, att, 1), nn.Tanh(), nn.Conv1d(att, c, 1))

    def forward(self, x):
        w = torch.softmax(self.attention(x), dim=-1)
        mu = (x * w).sum(-1)
        sigma = ((x ** 2 * w).sum(-1) - mu ** 2).clamp(min=1e-5).sqrt()
        return torch.cat([mu, sigma], dim=1)


class EcapaTDNN(PreTrainedModel):
    config_class = EcapaConfig

    def __init__(self, config):
        super().__init__(config)
        c = config.channels
        self.blocks = nn.Sequential(TDNNBlock(config.n_mels, c, 5, 1), TDNNBlock(c, c, 3, 2), TDNNBlock(c, c, 3, 3))
        self.pool = AttentiveStatsPool(c)
        self.bn_pool = nn.BatchNorm1d(2 * c)
        self.embedding = nn.Linear(2 * c, config.emb_dim)
        self.post_init()

    def forward(self, feats, labels=None):
        emb = self.embedding(self.bn_pool(self.pool(self.blocks(feats))))
        return BaseModelOutput(last_hidden_state=emb)


class AAMMarginFn(torch.autograd.Function):
    """Additive angular margin on the target logit; gradient passes straight through the margin (as in ArcFace)."""

    @staticmethod
    def forward(ctx, cosine, labels, margin, scale):
        ctx.scale = scale
        theta = torch.acos(cosine.clamp(-1 + 1e-7, 1 - 1e-7))
        target = torch.cos(theta + margin)
        one_hot = F.one_hot(labels, cosine.shape[1]).to(cosine.dtype)
        return scale * (one_hot * target + (1 - one_hot) * cosine)

    @staticmethod
    def backward(ctx, grad_logits):
        grad_cosine = grad_logits * ctx.scale
        return None, grad_cosine, None, None


class AAMSoftmaxHead(nn.Module):
    def __init__(self, emb_dim, n_speakers, margin, scale):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_speakers, emb_dim))
        nn.init.xavier_uniform_(self.weight)
        self.margin, self.scale = margin, scale

    def forward(self, emb, labels):
        cosine = F.linear(F.normalize(emb), F.normalize(self.weight))
        return AAMMarginFn.apply(cosine, labels, self.margin, self.scale)


class SpeakerTrainer(Trainer):
    def __init__(self, *args, aam_head=None, **kw):
        super().__init__(*args, **kw)
        self.aam_head = aam_head

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        logits = self.aam_head(outputs.last_hidden_state, labels)
        loss = F.cross_entropy(logits, labels)
        return (loss, outputs) if return_outputs else loss


class VoxCelebLike(torch.utils.data.Dataset):
    def __init__(self, cfg, n=24, frames=40):
        g = torch.Generator().manual_seed(0)
        self.y = torch.arange(n) % cfg.n_speakers
        proto = torch.randn(cfg.n_speakers, cfg.n_mels, 1, generator=g)
        self.x = proto[self.y] + 0.5 * torch.randn(n, cfg.n_mels, frames, generator=g)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"feats": self.x[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    cfg = EcapaConfig()
    model = EcapaTDNN(cfg)
    head = AAMSoftmaxHead(cfg.emb_dim, cfg.n_speakers, cfg.margin, cfg.scale)
    model.add_module("aam_head", head)  # saved with the checkpoint and optimized with the encoder
    conv0 = model.blocks[0].conv.weight.detach().clone()
    w0 = head.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/ecapa", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=2e-3, report_to="none")
    SpeakerTrainer(model=model, args=args, train_dataset=VoxCelebLike(cfg), aam_head=head).train()
    return {"model": model}, {
        "tdnn_changed": not torch.equal(conv0, model.blocks[0].conv.weight),
        "aam_weight_changed": not torch.equal(w0, head.weight),
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
