import torch
import torch.nn as nn
from transformers import CausalLMOutput, PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers import get_constant_schedule


class ChatConfig(PretrainedConfig):
    model_type = "tiny-chat"

    def __init__(self, vocab_size=40, hidden_size=16, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class TinyChatLM(PreTrainedModel):
    config_class = ChatConfig

    def __init__(self, config):
        super().__init__(config)
        self.wte = nn.Embedding(config.vocab_size, config.hidden_size)
        self.mixer = nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.GELU())
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)
        self.post_init()

    def get_input_embeddings(self):
        return self.wte

    def set_input_embeddings(self, value):
        self.wte = value

    def forward(self, input_ids=None, labels=None):
        logits = self.lm_head(self.mixer(self.wte(input_ids)))
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1))
        return CausalLMOutput(loss=loss, logits=logits)


def add_special_tokens(model, n_new):
    old = model.get_input_embeddings()
    new = nn.Embedding(old.num_embeddings + n_new, old.embedding_dim)
    with torch.no_grad():
        new.weight[: old.num_embeddings] = old.weight
        new.weight[old.num_embeddings:] = old.weight.mean(0)
    model.set_input_embeddings(new)
    model.config.vocab_size = new.num_embeddings
    return list(range(old.num_embeddings, new.num_embeddings))


def make_dataset(special_ids, n=32):
    g = torch.Generator().manual_seed(27)
    rows = []
    for _ in range(n):
        ids = torch.cat([torch.tensor(special_ids[:1]), torch.randint(0, 36, (6,), generator=g), torch.tensor(special_ids[1:])])
        rows.append({"input_ids": ids, "label_ids": ids.clamp(max=39)})
    return rows


def main():
    torch.manual_seed(0)
    model = TinyChatLM(ChatConfig())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = get_constant_schedule(optimizer)
    special_ids = add_special_tokens(model, n_new=2)
    rows0 = model.get_input_embeddings().weight[special_ids].detach().clone()
    args = TrainingArguments(output_dir="tmp_chat", num_train_epochs=1, per_device_train_batch_size=8, report_to="none", seed=0)
    Trainer(model=model, args=args, train_dataset=make_dataset(special_ids), optimizers=(optimizer, scheduler)).train()
    emb = model.get_input_embeddings()
    facts = {"special_token_rows_changed": not torch.equal(rows0, emb.weight[special_ids]),
             "embedding_in_optimizer": any(p is emb.weight for grp in optimizer.param_groups for p in grp["params"])}
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
