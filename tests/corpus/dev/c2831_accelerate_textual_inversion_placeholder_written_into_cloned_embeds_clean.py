import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed


class FrozenTextEncoder(nn.Module):
    def __init__(self, vocab=30, dim=16, max_len=6):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, dim)
        self.position_embedding = nn.Parameter(0.02 * torch.randn(max_len, dim))
        self.layers = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))
        self.final_norm = nn.LayerNorm(dim)

    def encode(self, embeds):
        h = embeds + self.position_embedding[: embeds.shape[1]]
        h = h + self.layers(h)
        return self.final_norm(h).mean(dim=1)

    def forward(self, ids):
        return self.encode(self.token_embedding(ids))


class PlaceholderToken(nn.Module):
    """The only trainable thing in textual inversion: the embedding vector of the new token."""

    def __init__(self, text_encoder, init_token_id, placeholder_id):
        super().__init__()
        self.placeholder_id = placeholder_id
        self.vector = nn.Parameter(text_encoder.token_embedding.weight[init_token_id].detach().clone())

    def embed(self, text_encoder, ids):
        embeds = text_encoder.token_embedding(ids).clone()
        embeds[ids == self.placeholder_id] = self.vector.to(embeds.dtype)
        return embeds


def prompts(placeholder_id, n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 20, (n, 6), generator=g)
    ids[:, 2] = placeholder_id
    return ids


def similarity_to_concept(text_encoder, token, target):
    with torch.no_grad():
        feats = text_encoder.encode(token.embed(text_encoder, prompts(token.placeholder_id, n=4, seed=123)))
    return float(F.cosine_similarity(feats, target.expand_as(feats), dim=-1).mean())


def learned_embeds(token, name="<cat-toy>"):
    return {name: token.vector.detach().cpu().clone()}


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    text_encoder = FrozenTextEncoder()
    text_encoder.requires_grad_(False)
    placeholder_id = 29
    token = PlaceholderToken(text_encoder, init_token_id=5, placeholder_id=placeholder_id)
    concept_target = F.normalize(torch.randn(16), dim=0) * 3.0
    optimizer = torch.optim.AdamW(token.parameters(), lr=5e-2, weight_decay=0.0)
    token, optimizer = accelerator.prepare(token, optimizer)
    vec_before = token.vector.detach().clone()
    encoder_before = text_encoder.layers[1].weight.detach().clone()
    for step in range(8):
        ids = prompts(placeholder_id, seed=step)
        with accelerator.accumulate(token):
            features = text_encoder.encode(token.embed(text_encoder, ids))
            loss = F.mse_loss(features, concept_target.expand_as(features))
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()
    print("similarity", similarity_to_concept(text_encoder, token, concept_target))
    saved = learned_embeds(accelerator.unwrap_model(token))
    with torch.no_grad():
        text_encoder.token_embedding.weight[placeholder_id] = accelerator.unwrap_model(token).vector
    facts = {"placeholder_changed": not torch.equal(vec_before, token.vector),
             "encoder_frozen": torch.equal(encoder_before, text_encoder.layers[1].weight),
             "saved_into_vocab": torch.equal(text_encoder.token_embedding.weight[placeholder_id], saved["<cat-toy>"])}
    return {}, facts

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
