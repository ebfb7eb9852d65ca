import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class TextModel(nn.Module):
    def __init__(self, vocab=30, dim=16):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, dim)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(dim, 2, 32, dropout=0.0, batch_first=True), 2)
        self.final_layer_norm = nn.LayerNorm(dim)

    def forward(self, ids):
        return self.final_layer_norm(self.encoder(self.token_embedding(ids)))


class FrozenDenoiser(nn.Module):
    def __init__(self, ch=4, dim=16):
        super().__init__()
        self.conv = nn.Conv2d(ch, 16, 3, padding=1)
        self.ctx = nn.Linear(dim, 16)
        self.out = nn.Conv2d(16, ch, 3, padding=1)

    def forward(self, x, states):
        return self.out(F.silu(self.conv(x) + self.ctx(states.mean(1))[:, :, None, None]))


def add_placeholder_token(text_model, init_token_id, vocab_size):
    old = text_model.token_embedding
    new = nn.Embedding(vocab_size + 1, old.embedding_dim)
    with torch.no_grad():
        new.weight[:vocab_size] = old.weight
        new.weight[vocab_size] = old.weight[init_token_id]
    text_model.token_embedding = new
    return vocab_size


def freeze_all_but_embeddings(text_model, denoiser):
    denoiser.requires_grad_(False)
    text_model.encoder.requires_grad_(False)
    text_model.final_layer_norm.requires_grad_(False)


def main():
    set_seed(0)
    accelerator = Accelerator()
    text_model, denoiser = TextModel(), FrozenDenoiser()
    placeholder_id = add_placeholder_token(text_model, init_token_id=3, vocab_size=30)
    freeze_all_but_embeddings(text_model, denoiser)
    optimizer = torch.optim.AdamW(text_model.token_embedding.parameters(), lr=5e-2, weight_decay=0.0)
    orig_embeds = text_model.token_embedding.weight.detach().clone()
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 30, (12, 5), generator=g)
    ids[:, 2] = placeholder_id
    loader = DataLoader(TensorDataset(torch.randn(12, 4, 8, 8, generator=g), ids), batch_size=4, shuffle=True)
    text_model, optimizer, loader = accelerator.prepare(text_model, optimizer, loader)
    keep = torch.ones(31, dtype=torch.bool)
    keep[placeholder_id] = False
    for latents, prompt_ids in loader:
        noise = torch.randn_like(latents)
        pred = denoiser(latents + 0.5 * noise, text_model(prompt_ids))
        loss = F.mse_loss(pred, noise)
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
        with torch.no_grad():
            accelerator.unwrap_model(text_model).token_embedding.weight[keep] = orig_embeds[keep]
    emb = text_model.token_embedding.weight
    F.mse_loss(denoiser(latents, text_model(prompt_ids)), noise).backward()
    facts = {"placeholder_changed": not torch.equal(emb[placeholder_id], orig_embeds[placeholder_id]),
             "other_rows_unchanged": torch.equal(emb[keep], orig_embeds[keep])}
    return {"token_embedding": text_model.token_embedding}, facts

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
