import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class WordEmbedding(nn.Module):
    def __init__(self, vocab_size, hidden):
        super().__init__()
        self.word_embedding = nn.Embedding(vocab_size, hidden)

    def forward(self, src, seg):
        return self.word_embedding(src)


class SegmentPositionEmbedding(nn.Module):
    def __init__(self, max_len, hidden, n_segments=3):
        super().__init__()
        self.segment_table = nn.Parameter(torch.randn(n_segments, hidden) * 0.02)
        self.position_embedding = nn.Embedding(max_len, hidden)

    def forward(self, src, seg):
        pos = torch.arange(src.shape[1]).expand_as(src)
        return self.segment_table[seg] + self.position_embedding(pos)


class Embedding(nn.Module):
    """Composable embedding assembled from config: each part's output is summed."""

    def __init__(self):
        super().__init__()
        self.embedding_list = []
        self.embedding_name_list = []
        self.layer_norm = nn.LayerNorm(32)

    def update(self, embedding, embedding_name):
        self.embedding_list.append(embedding.forward)
        self.embedding_name_list.append(embedding_name)
        self.__dict__["_modules"].update(embedding.__dict__["_modules"])

    def forward(self, src, seg):
        emb = None
        for embedding in self.embedding_list:
            emb = embedding(src, seg) if emb is None else emb + embedding(src, seg)
        return self.layer_norm(emb)


class Classifier(nn.Module):
    def __init__(self, vocab_size=40, hidden=32, max_len=16, labels_num=3):
        super().__init__()
        self.embedding = Embedding()
        self.embedding.update(WordEmbedding(vocab_size, hidden), "word")
        self.embedding.update(SegmentPositionEmbedding(max_len, hidden), "seg_pos")
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(hidden, 4, 64, batch_first=True, dropout=0.0), 1)
        self.output_layer = nn.Linear(hidden, labels_num)

    def forward(self, src, seg):
        return self.output_layer(self.encoder(self.embedding(src, seg))[:, 0])


def sentence_pairs(n=32, length=12):
    g = torch.Generator().manual_seed(0)
    src = torch.randint(0, 40, (n, length), generator=g)
    seg = torch.cat([torch.ones(n, length // 2, dtype=torch.long), 2 * torch.ones(n, length // 2, dtype=torch.long)], 1)
    return TensorDataset(src, seg, src[:, 0] % 3)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(Classifier())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    seg_part = model.module.embedding.embedding_list[1].__self__
    table0 = seg_part.segment_table.detach().clone()
    for epoch in range(2):
        for src, seg, y in DataLoader(sentence_pairs(), batch_size=8, shuffle=True):
            loss = F.cross_entropy(model(src, seg), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    registered = any(p is seg_part.segment_table for p in model.parameters())
    return ({"classifier": model.module, "segment_table": seg_part.segment_table},
            {"segment_table_registered": registered,
             "segment_table_changed": not torch.equal(table0, seg_part.segment_table.detach())})

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
