import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, TokenClassifierOutput, Trainer, TrainingArguments

BASE_VOCAB = 50
NEW_TOKENS = ["<drug>", "</drug>", "<dose>", "</dose>"]
TRAINABLE = ("tag_head",)


class TaggerConfig(PretrainedConfig):
    model_type = "tiny-tagger"

    def __init__(self, vocab_size=BASE_VOCAB, hidden_size=16, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class TinyTagger(PreTrainedModel):
    config_class = TaggerConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.encoder = nn.GRU(config.hidden_size, config.hidden_size, batch_first=True)
        self.tag_head = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def get_input_embeddings(self):
        return self.embed_tokens

    def resize_token_embeddings(self, new_size):
        old = self.embed_tokens
        new = nn.Embedding(new_size, old.embedding_dim)
        with torch.no_grad():
            new.weight[: old.num_embeddings] = old.weight
        self.embed_tokens = new
        self.config.vocab_size = new_size
        return new

    def forward(self, input_ids=None, labels=None):
        hidden, _ = self.encoder(self.embed_tokens(input_ids))
        logits = self.tag_head(hidden)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1))
        return TokenClassifierOutput(loss=loss, logits=logits)


def train_only_new_tokens_and_head(model, n_old):
    """Freeze the pretrained tagger except its head and the embedding rows of the added tokens."""
    for name, param in model.named_parameters():
        param.requires_grad = any(key in name for key in TRAINABLE)
        if name == "embed_tokens.weight":
            param[n_old:].requires_grad = True


def make_dataset(n=40, length=12):
    g = torch.Generator().manual_seed(13)
    rows = []
    for _ in range(n):
        ids = torch.randint(1, BASE_VOCAB, (length,), generator=g)
        start = int(torch.randint(0, length - 4, (1,), generator=g))
        ids[start], ids[start + 3] = BASE_VOCAB, BASE_VOCAB + 1
        tags = torch.zeros(length, dtype=torch.long)
        tags[start + 1:start + 3] = 1
        rows.append({"input_ids": ids, "labels": tags})
    return rows


def main():
    torch.manual_seed(0)
    model = TinyTagger(TaggerConfig())
    model.resize_token_embeddings(BASE_VOCAB + len(NEW_TOKENS))
    train_only_new_tokens_and_head(model, BASE_VOCAB)
    new_rows0 = model.embed_tokens.weight[BASE_VOCAB:].detach().clone()
    head0 = model.tag_head.weight.detach().clone()
    args = TrainingArguments(output_dir="tmp_tagger", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=1e-2, report_to="none", seed=0)
    Trainer(model=model, args=args, train_dataset=make_dataset()).train()
    return {"model": model}, {
        "new_token_rows_changed": not torch.equal(new_rows0, model.embed_tokens.weight[BASE_VOCAB:]),
        "embedding_requires_grad": model.embed_tokens.weight.requires_grad,
        "head_changed": not torch.equal(head0, model.tag_head.weight)}

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
