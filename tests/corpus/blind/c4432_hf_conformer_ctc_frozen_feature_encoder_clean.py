import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import CausalLMOutput


class SpeechConfig(PretrainedConfig):
    model_type = "conformer-ctc-lite"

    def __init__(self, conv_dim=(16, 32), hidden_size=32, num_heads=4, num_layers=2, vocab_size=12, pad_token_id=0, **kw):
        super().__init__(pad_token_id=pad_token_id, **kw)
        self.conv_dim, self.hidden_size = list(conv_dim), hidden_size
        self.num_heads, self.num_layers, self.vocab_size = num_heads, num_layers, vocab_size


class FeatureEncoder(nn.Module):
    """Strided conv feature extractor over the raw waveform (wav2vec2-style)."""

    def __init__(self, dims):
        super().__init__()
        layers, cin = [], 1
        for d in dims:
            layers += [nn.Conv1d(cin, d, 5, stride=3), nn.GELU()]
            cin = d
        self.conv = nn.Sequential(*layers)
        self._requires_grad = True

    def _freeze_parameters(self):
        for p in self.parameters():
            p.requires_grad = False
        self._requires_grad = False

    def forward(self, wave):
        return self.conv(wave[:, None]).transpose(1, 2)


class ConformerLayer(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ff = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.SiLU(), nn.Linear(2 * d, d))
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.norm = nn.LayerNorm(d)
        self.dw = nn.Conv1d(d, d, 3, padding=1, groups=d)

    def forward(self, x):
        x = x + 0.5 * self.ff(x)
        x = x + self.attn(self.norm(x), self.norm(x), self.norm(x), need_weights=False)[0]
        return x + self.dw(x.transpose(1, 2)).transpose(1, 2)


class ConformerForCTC(PreTrainedModel):
    config_class = SpeechConfig

    def __init__(self, config):
        super().__init__(config)
        self.feature_extractor = FeatureEncoder(config.conv_dim)
        self.feature_projection = nn.Linear(config.conv_dim[-1], config.hidden_size)
        self.layers = nn.ModuleList([ConformerLayer(config.hidden_size, config.num_heads) for _ in range(config.num_layers)])
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)
        self.post_init()

    def freeze_feature_encoder(self):
        self.feature_extractor._freeze_parameters()

    def forward(self, input_values, labels=None):
        x = self.feature_projection(self.feature_extractor(input_values))
        for layer in self.layers:
            x = layer(x)
        logits = self.lm_head(x)
        loss = None
        if labels is not None:
            log_probs = logits.log_softmax(-1).transpose(0, 1)
            in_lens = torch.full((logits.shape[0],), logits.shape[1], dtype=torch.long)
            tgt_lens = (labels > 0).sum(-1)
            loss = F.ctc_loss(log_probs, labels, in_lens, tgt_lens, blank=self.config.pad_token_id, zero_infinity=True)
        return CausalLMOutput(loss=loss, logits=logits)


class CommonVoiceLike(torch.utils.data.Dataset):
    def __init__(self, n=24, samples=200, vocab=12):
        g = torch.Generator().manual_seed(0)
        self.labels = torch.randint(1, vocab, (n, 4), generator=g)
        t = torch.linspace(0, 1, samples)
        self.waves = torch.sin(2 * 3.14159 * (self.labels[:, :1].float() * 5) * t) + 0.1 * torch.randn(n, samples, generator=g)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_values": self.waves[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = ConformerForCTC(SpeechConfig())
    model.freeze_feature_encoder()
    conv0 = model.feature_extractor.conv[0].weight.detach().clone()
    proj0 = model.feature_projection.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/conformer-ctc", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-3, warmup_ratio=0.1, report_to="none")
    Trainer(model=model, args=args, train_dataset=CommonVoiceLike()).train()
    return {"model": model}, {
        "feature_encoder_frozen": torch.equal(conv0, model.feature_extractor.conv[0].weight),
        "projection_changed": not torch.equal(proj0, model.feature_projection.weight),
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
