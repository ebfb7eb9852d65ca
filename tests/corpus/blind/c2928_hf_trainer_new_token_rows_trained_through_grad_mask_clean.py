import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import CausalLMOutput


class TinyLMConfig(PretrainedConfig):
    model_type = "tiny-lm"

    def __init__(self, vocab_size=30, hidden=16, **kw):
        super().__init__(**kw)
        self.vocab_size, self.hidden = vocab_size, hidden


class TinyLM(PreTrainedModel):
    config_class = TinyLMConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden)
        self.rnn = nn.GRU(config.hidden, config.hidden, batch_first=True)
        self.lm_head = nn.Linear(config.hidden, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.embed_tokens

    def resize_token_embeddings(self, new_size):
        old = self.embed_tokens
        new = nn.Embedding(new_size, old.embedding_dim)
        with torch.no_grad():
            new.weight[:old.num_embeddings] = old.weight
            new.weight[old.num_embeddings:] = old.weight.mean(0)
        self.embed_tokens = new
        head = nn.Linear(old.embedding_dim, new_size, bias=False)
        with torch.no_grad():
            head.weight[:old.num_embeddings] = self.lm_head.weight
            head.weight[old.num_embeddings:] = 0.0
        self.lm_head = head
        self.config.vocab_size = new_size

    def forward(self, input_ids=None, labels=None):
        h, _ = self.rnn(self.embed_tokens(input_ids))
        logits = self.lm_head(h)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1))
        return CausalLMOutput(loss=loss, logits=logits)


def train_only_new_token_rows(model, n_old):
    """Freeze everything except the input embedding and LM head, and mask their gradients to the new rows."""
    for name, param in model.named_parameters():
        param.requires_grad = name.startswith(("embed_tokens", "lm_head"))
    mask = torch.zeros(model.config.vocab_size, 1)
    mask[n_old:] = 1.0
    model.embed_tokens.weight.register_hook(lambda grad: grad * mask)
    model.lm_head.weight.register_hook(lambda grad: grad * mask)


class ToolCallData(Dataset):
    """Sequences that use the two new special tokens (ids 30 and 31)."""

    def __init__(self, n=24, seq=8):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 30, (n, seq), generator=g)
        self.ids[:, 2] = 30
        self.ids[:, 5] = 31

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "label_ids": self.ids[i]}


def main():
    torch.manual_seed(0)
    model = TinyLM(TinyLMConfig())
    n_old = model.config.vocab_size
    model.resize_token_embeddings(n_old + 2)
    train_only_new_token_rows(model, n_old)
    emb_before = model.embed_tokens.weight.detach().clone()
    rnn_before = model.rnn.weight_ih_l0.detach().clone()
    args = TrainingArguments(output_dir="/tmp/newtok_out", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, weight_decay=0.0, report_to="none", seed=0)
    Trainer(model=model, args=args, train_dataset=ToolCallData()).train()
    emb_after = model.embed_tokens.weight.detach()
    facts = {"old_rows_changed": not torch.equal(emb_before[:n_old], emb_after[:n_old]),
             "new_rows_changed": not torch.equal(emb_before[n_old:], emb_after[n_old:]),
             "rnn_changed": not torch.equal(rnn_before, model.rnn.weight_ih_l0)}
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
