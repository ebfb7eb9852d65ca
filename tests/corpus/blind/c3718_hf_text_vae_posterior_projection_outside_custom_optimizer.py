import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import CausalLMOutput
from transformers.optimization import get_constant_schedule


class Seq2SeqConfig(PretrainedConfig):
    model_type = "tiny_seq2seq"

    def __init__(self, vocab_size=30, hidden_size=16, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size


class TinySeq2Seq(PreTrainedModel):
    """Pretrained encoder-decoder backbone (BART-like, GRU-sized)."""

    config_class = Seq2SeqConfig

    def __init__(self, config):
        super().__init__(config)
        self.shared = nn.Embedding(config.vocab_size, config.hidden_size)
        self.encoder = nn.GRU(config.hidden_size, config.hidden_size, batch_first=True)
        self.decoder = nn.GRU(config.hidden_size, config.hidden_size, batch_first=True)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()


class TextVAE(nn.Module):
    def __init__(self, backbone, nz=4, beta=0.5):
        super().__init__()
        self.model = backbone
        hidden = backbone.config.hidden_size
        self.z_linear = nn.Linear(hidden, 2 * nz, bias=False)
        self.z_to_hidden = nn.Linear(nz, hidden)
        self.beta = beta

    def forward(self, input_ids, labels=None):
        _, h = self.model.encoder(self.model.shared(input_ids))
        mu, logvar = self.z_linear(h[-1]).chunk(2, dim=-1)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        h0 = torch.tanh(self.z_to_hidden(z)).unsqueeze(0)
        dec, _ = self.model.decoder(self.model.shared(input_ids[:, :-1]), h0)
        logits = self.model.lm_head(dec)
        rec = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), input_ids[:, 1:].reshape(-1))
        kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(-1).mean()
        return CausalLMOutput(loss=rec + self.beta * kl, logits=logits)


def make_dataset(n=32, seq=6):
    g = torch.Generator().manual_seed(5)
    ids = torch.randint(0, 30, (n, seq), generator=g)
    return [{"input_ids": ids[i]} for i in range(n)]


def main():
    torch.manual_seed(0)
    vae = TextVAE(TinySeq2Seq(Seq2SeqConfig()))
    optimizer = torch.optim.AdamW(vae.model.parameters(), lr=1e-2)
    scheduler = get_constant_schedule(optimizer)
    z0 = vae.z_linear.weight.detach().clone()
    dec0 = vae.model.decoder.weight_hh_l0.detach().clone()
    args = TrainingArguments(output_dir="/tmp/textvae", per_device_train_batch_size=8, num_train_epochs=1,
                             report_to="none")
    Trainer(model=vae, args=args, train_dataset=make_dataset(), optimizers=(optimizer, scheduler)).train()
    return {"z_linear": vae.z_linear}, {
        "posterior_projection_changed": not torch.equal(z0, vae.z_linear.weight),
        "decoder_changed": not torch.equal(dec0, vae.model.decoder.weight_hh_l0),
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
