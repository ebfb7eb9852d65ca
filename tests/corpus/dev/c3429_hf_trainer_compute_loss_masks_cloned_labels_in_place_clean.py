import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import CausalLMOutput

PAD, EOS = 0, 1


class TinyLMConfig(PretrainedConfig):
    model_type = "tiny-lm"

    def __init__(self, vocab_size=48, hidden_size=32, max_len=16, **kw):
        super().__init__(**kw)
        self.vocab_size, self.hidden_size, self.max_len = vocab_size, hidden_size, max_len


class TinyCausalLM(PreTrainedModel):
    config_class = TinyLMConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.rnn = nn.GRU(config.hidden_size, config.hidden_size, batch_first=True)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, labels=None):
        h, _ = self.rnn(self.embed(input_ids))
        return CausalLMOutput(logits=self.lm_head(h))


class ResponseOnlyTrainer(Trainer):
    """Loss only on the response tokens; pads and the prompt are ignored (-100)."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels").clone()
        prompt_len = inputs.pop("prompt_len")
        labels[labels == PAD] = -100
        positions = torch.arange(labels.size(1))[None, :]
        labels[positions < prompt_len[:, None]] = -100
        outputs = model(**inputs)
        logits = outputs.logits[:, :-1]
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1), ignore_index=-100)
        return (loss, outputs) if return_outputs else loss


class InstructionDataset(Dataset):
    def __init__(self, n=24, seq=12):
        g = torch.Generator().manual_seed(14)
        self.ids = torch.randint(2, 48, (n, seq), generator=g)
        self.prompt_len = torch.randint(3, 6, (n,), generator=g)
        self.ids[::2, -3:] = PAD
        self.ids[1::2, -1] = EOS

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": (self.ids[i] != PAD).long(),
                "labels": self.ids[i], "prompt_len": self.prompt_len[i]}


def main():
    torch.manual_seed(0)
    model = TinyCausalLM(TinyLMConfig())
    args = TrainingArguments(output_dir="/tmp/c3429_out", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=5e-3, lr_scheduler_type="linear", remove_unused_columns=False,
                             report_to="none")
    dataset = InstructionDataset()
    ids0 = dataset.ids.clone()
    trainer = ResponseOnlyTrainer(model=model, args=args, train_dataset=dataset)
    emb0 = model.embed.weight.detach().clone()
    rnn0 = model.rnn.weight_hh_l0.detach().clone()
    trainer.train()
    return {"model": model}, {
        "embedding_changed": not torch.equal(emb0, model.embed.weight),
        "rnn_changed": not torch.equal(rnn0, model.rnn.weight_hh_l0),
        "dataset_untouched": torch.equal(ids0, dataset.ids),
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
