import torch
import torch.nn as nn
import torch.nn.functional as F


class FrozenTextEncoder(nn.Module):
    def __init__(self, vocab=40, d=16, seq_len=6):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, d)
        self.position_embedding = nn.Parameter(torch.randn(seq_len, d) * 0.02)
        self.mlp = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, d))

    def forward(self, ids):
        h = self.token_embedding(ids) + self.position_embedding[: ids.shape[1]]
        return h + self.mlp(h)


class CrossAttentionSegmenter(nn.Module):
    """Frozen image features attend to the text tokens; the attention maps are the masks."""

    def __init__(self, d=16):
        super().__init__()
        self.image_proj = nn.Conv2d(3, d, 3, padding=1)
        self.to_q = nn.Linear(d, d, bias=False)
        self.to_k = nn.Linear(d, d, bias=False)

    def forward(self, images, text_emb):
        f = self.image_proj(images).flatten(2).transpose(1, 2)
        attn = (self.to_q(f) @ self.to_k(text_emb).transpose(1, 2)) / 4.0
        return attn.softmax(-1)


class PromptOptimizer:
    """One-shot part segmentation: learn text embeddings so that token i's attention map matches part i."""

    def __init__(self, text_encoder, segmenter, prompt_ids, part_tokens=(1, 2), lr=0.1):
        for p in list(text_encoder.parameters()) + list(segmenter.parameters()):
            p.requires_grad_(False)
        self.segmenter = segmenter
        with torch.no_grad():
            text_embedding = text_encoder(prompt_ids)
        self.text_embedding = text_embedding.requires_grad_(True)
        self.embeddings_to_optimize = self.text_embedding[:, part_tokens[0]: part_tokens[-1] + 1]
        self.part_tokens = part_tokens
        self.optimizer = torch.optim.Adam([self.embeddings_to_optimize], lr=lr)

    def step(self, image, masks):
        attn = self.segmenter(image, self.text_embedding)
        pred = attn[..., self.part_tokens[0]: self.part_tokens[-1] + 1].transpose(1, 2)
        loss = F.mse_loss(pred, masks.flatten(2))
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


def main():
    torch.manual_seed(0)
    text_encoder, segmenter = FrozenTextEncoder(), CrossAttentionSegmenter()
    prompt_ids = torch.tensor([[0, 7, 9, 3, 0, 0]])
    image = torch.rand(1, 3, 8, 8)
    masks = (torch.rand(1, 2, 8, 8) > 0.5).float()
    opt = PromptOptimizer(text_encoder, segmenter, prompt_ids)
    for _ in range(5):
        opt.step(image, masks)
    return {"text_embedding": opt.text_embedding}

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
