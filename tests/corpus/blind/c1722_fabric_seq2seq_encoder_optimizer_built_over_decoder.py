import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric

SOS = 0


class EncoderRNN(nn.Module):
    def __init__(self, vocab, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)

    def forward(self, src):
        return self.gru(self.embedding(src))


class AttnDecoderRNN(nn.Module):
    def __init__(self, vocab, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab, hidden)
        self.attn = nn.Linear(2 * hidden, hidden)
        self.gru = nn.GRU(2 * hidden, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, token, hidden, enc_out):
        emb = self.embedding(token)
        scores = enc_out @ self.attn(torch.cat([emb, hidden.transpose(0, 1)], -1)).transpose(1, 2)
        context = (scores.softmax(1) * enc_out).sum(1, keepdim=True)
        out, hidden = self.gru(torch.cat([emb, context], -1), hidden)
        return self.out(out), hidden


def build_optimizers(encoder, decoder, lr=0.01):
    encoder_optimizer = torch.optim.SGD(decoder.parameters(), lr=lr)
    decoder_optimizer = torch.optim.SGD(decoder.parameters(), lr=lr)
    return encoder_optimizer, decoder_optimizer


def train_step(fabric, src, tgt, encoder, decoder, encoder_optimizer, decoder_optimizer, teacher_forcing=True):
    encoder_optimizer.zero_grad()
    decoder_optimizer.zero_grad()
    enc_out, hidden = encoder(src)
    token = torch.full((src.size(0), 1), SOS)
    loss = 0.0
    for t in range(tgt.size(1)):
        logits, hidden = decoder(token, hidden, enc_out)
        loss = loss + F.cross_entropy(logits.squeeze(1), tgt[:, t])
        token = tgt[:, t:t + 1] if teacher_forcing else logits.argmax(-1)
    fabric.backward(loss)
    encoder_optimizer.step()
    decoder_optimizer.step()
    return loss.item() / tgt.size(1)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    encoder, decoder = EncoderRNN(30, 16), AttnDecoderRNN(30, 16)
    encoder_optimizer, decoder_optimizer = build_optimizers(encoder, decoder)
    encoder, encoder_optimizer = fabric.setup(encoder, encoder_optimizer)
    decoder, decoder_optimizer = fabric.setup(decoder, decoder_optimizer)
    w0 = encoder.module.gru.weight_ih_l0.detach().clone()
    for _ in range(3):
        src, tgt = torch.randint(1, 30, (8, 7), generator=g), torch.randint(1, 30, (8, 5), generator=g)
        train_step(fabric, src, tgt, encoder, decoder, encoder_optimizer, decoder_optimizer)
    return {"encoder": encoder.module, "decoder": decoder.module}, {
        "encoder_changed": not torch.equal(w0, encoder.module.gru.weight_ih_l0)}

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
