import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments
from transformers.modeling_outputs import TokenClassifierOutput


class NerConfig(PretrainedConfig):
    model_type = "tiny-ner"

    def __init__(self, vocab_size=40, hidden_size=16, num_layers=2, num_labels=5, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers


class TransformerForTokenClassification(PreTrainedModel):
    config_class = NerConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.transformer = nn.ModuleList(nn.TransformerEncoderLayer(config.hidden_size, 2, 32, dropout=0.1, batch_first=True)
                                         for _ in range(config.num_layers))
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h = self.embeddings(input_ids)
        for layer in self.transformer:
            h = layer(h)
        logits = self.classifier(self.dropout(h))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=-100)
        return TokenClassifierOutput(loss=loss, logits=logits)


def freeze_transformer(model):
    """Train only the token-classification head on top of the pretrained encoder."""
    for param in model.embeddings.parameters():
        param.requires_grad = False
    model.transformer.requires_grad_(False)


class TrainableParamsLogger(TrainerCallback):
    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        n_opt = sum(p.numel() for group in optimizer.param_groups for p in group["params"])
        state.log_history.append({"trainable_in_optimizer": n_opt})


class NerDataset(Dataset):
    def __init__(self, n=12, seq_len=6):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 40, (n, seq_len), generator=g)
        self.tags = torch.randint(0, 5, (n, seq_len), generator=g)
        self.tags[:, 0] = -100

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.tags[i]}


def main():
    model = TransformerForTokenClassification(NerConfig())
    freeze_transformer(model)
    head_before = model.classifier.weight.detach().clone()
    body_before = model.transformer[0].linear1.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2632", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=5e-3, weight_decay=0.01, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=NerDataset(), callbacks=[TrainableParamsLogger()])
    trainer.train()
    facts = {"classifier_changed": not torch.equal(head_before, model.classifier.weight),
             "encoder_frozen_unchanged": torch.equal(body_before, model.transformer[0].linear1.weight),
             "optimizer_params": trainer.state.log_history[0]["trainable_in_optimizer"]}
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
