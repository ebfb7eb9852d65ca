import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import CausalLMOutput


class TinyWav2Vec2Config(PretrainedConfig):
    model_type = "tiny-wav2vec2"

    def __init__(self, hidden_size=16, vocab_size=8, **kwargs):
        super().__init__(**kwargs)
        self.hidden_size, self.vocab_size = hidden_size, vocab_size


class FeatureEncoder(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_layers = nn.Sequential(nn.Conv1d(1, dim, 10, stride=5), nn.GELU(), nn.Conv1d(dim, dim, 3, stride=2), nn.GELU())

    def forward(self, wav):
        return self.conv_layers(wav[:, None]).transpose(1, 2)


class TinyWav2Vec2ForCTC(PreTrainedModel):
    config_class = TinyWav2Vec2Config

    def __init__(self, config):
        super().__init__(config)
        self.feature_extractor = FeatureEncoder(config.hidden_size)
        self.feature_projection = nn.Sequential(nn.LayerNorm(config.hidden_size), nn.Linear(config.hidden_size, config.hidden_size))
        layer = nn.TransformerEncoderLayer(config.hidden_size, 2, 32, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)
        self.post_init()

    def freeze_feature_encoder(self):
        for param in self.feature_extractor.parameters():
            param.requires_grad = False

    def forward(self, input_values, labels=None):
        hidden = self.encoder(self.feature_projection(self.feature_extractor(input_values)))
        logits = self.lm_head(hidden)
        loss = None
        if labels is not None:
            log_probs = F.log_softmax(logits, -1).transpose(0, 1)
            in_len = torch.full((logits.shape[0],), logits.shape[1], dtype=torch.long)
            tgt_len = (labels > 0).sum(-1)
            loss = F.ctc_loss(log_probs, labels, in_len, tgt_len, blank=0, zero_infinity=True)
        return CausalLMOutput(loss=loss, logits=logits)


class SpeechDataset(Dataset):
    def __init__(self, n=16):
        g = torch.Generator().manual_seed(0)
        self.wav = torch.randn(n, 200, generator=g)
        self.labels = torch.randint(1, 8, (n, 4), generator=g)

    def __len__(self):
        return len(self.wav)

    def __getitem__(self, i):
        return {"input_values": self.wav[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = TinyWav2Vec2ForCTC(TinyWav2Vec2Config())
    model.freeze_feature_encoder()
    conv0 = model.feature_extractor.conv_layers[0].weight.detach().clone()
    head0 = model.lm_head.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/w2v", per_device_train_batch_size=4, num_train_epochs=2, learning_rate=1e-3,
                             warmup_steps=2, report_to="none")
    Trainer(model=model, args=args, train_dataset=SpeechDataset()).train()
    facts = {"feature_encoder_changed": not torch.equal(conv0, model.feature_extractor.conv_layers[0].weight),
             "lm_head_changed": not torch.equal(head0, model.lm_head.weight),
             "encoder_trainable": all(p.requires_grad for p in model.encoder.parameters())}
    return {"model": model}, facts

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
