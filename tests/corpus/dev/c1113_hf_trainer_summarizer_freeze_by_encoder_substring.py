import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import CausalLMOutput


class SummarizerConfig(PretrainedConfig):
    model_type = "tiny-summarizer"

    def __init__(self, vocab_size=40, d_model=16, n_layers=2, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.d_model = d_model
        self.n_layers = n_layers


class EncoderStack(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed_tokens = nn.Embedding(config.vocab_size, config.d_model)
        self.layers = nn.ModuleList([nn.Linear(config.d_model, config.d_model) for _ in range(config.n_layers)])

    def forward(self, input_ids):
        h = self.embed_tokens(input_ids)
        for layer in self.layers:
            h = h + torch.tanh(layer(h))
        return h


class DecoderLayer(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.self_proj = nn.Linear(d, d)
        self.encoder_attn = nn.MultiheadAttention(d, num_heads=2, batch_first=True)
        self.encoder_attn_layer_norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 2 * d)
        self.fc2 = nn.Linear(2 * d, d)

    def forward(self, h, memory):
        h = h + torch.relu(self.self_proj(h))
        attn, _ = self.encoder_attn(h, memory, memory)
        h = self.encoder_attn_layer_norm(h + attn)
        return h + self.fc2(F.relu(self.fc1(h)))


class TinySummarizer(PreTrainedModel):
    config_class = SummarizerConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = EncoderStack(config)
        self.decoder_embed = nn.Embedding(config.vocab_size, config.d_model)
        self.decoder_layers = nn.ModuleList([DecoderLayer(config.d_model) for _ in range(config.n_layers)])
        self.lm_head = nn.Linear(config.d_model, config.vocab_size)
        self.post_init()

    def forward(self, input_ids, decoder_input_ids, labels=None):
        memory = self.encoder(input_ids)
        h = self.decoder_embed(decoder_input_ids)
        for layer in self.decoder_layers:
            h = layer(h, memory)
        logits = self.lm_head(h)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1))
        return CausalLMOutput(loss=loss, logits=logits)


def freeze_encoder(model):
    """Keep the pretrained encoder fixed; fine-tune the decoder and LM head."""
    for name, param in model.named_parameters():
        if "encoder" in name:
            param.requires_grad = False


def make_dataset(n=32):
    g = torch.Generator().manual_seed(0)
    rows = []
    for _ in range(n):
        src = torch.randint(1, 40, (10,), generator=g)
        tgt = src[:5].flip(0)
        rows.append({"input_ids": src, "decoder_input_ids": torch.cat([torch.zeros(1, dtype=torch.long), tgt[:-1]]),
                     "labels": tgt})
    return rows


def main():
    torch.manual_seed(0)
    model = TinySummarizer(SummarizerConfig())
    freeze_encoder(model)
    cross_before = model.decoder_layers[0].encoder_attn.in_proj_weight.detach().clone()
    ffn_before = model.decoder_layers[0].fc1.weight.detach().clone()
    args = TrainingArguments(output_dir="tmp_sum", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none", seed=0)
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset())
    trainer.train()
    facts = {
        "cross_attention_changed": not torch.equal(cross_before, model.decoder_layers[0].encoder_attn.in_proj_weight),
        "decoder_ffn_changed": not torch.equal(ffn_before, model.decoder_layers[0].fc1.weight),
    }
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
