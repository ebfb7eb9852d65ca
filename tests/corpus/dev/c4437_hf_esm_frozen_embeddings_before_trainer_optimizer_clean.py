import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments, TrainerCallback
from transformers.modeling_outputs import SequenceClassifierOutput

AA = "ACDEFGHIKLMNPQRSTVWY"


class EsmLiteConfig(PretrainedConfig):
    model_type = "esm-lite"

    def __init__(self, vocab_size=25, hidden_size=32, num_layers=2, num_heads=4, num_labels=2,
                 freeze_embeddings=True, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.num_layers, self.num_heads, self.freeze_embeddings = num_layers, num_heads, freeze_embeddings


class EsmLiteForSolubility(PreTrainedModel):
    config_class = EsmLiteConfig
    base_model_prefix = "esm"

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=1)
        layer = nn.TransformerEncoderLayer(config.hidden_size, config.num_heads, 2 * config.hidden_size,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.num_layers)
        self.classifier = nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.Tanh(),
                                        nn.Linear(config.hidden_size, config.num_labels))
        self.post_init()

    def get_input_embeddings(self):
        return self.embeddings

    def forward(self, input_ids, attention_mask=None, labels=None):
        pad = attention_mask == 0 if attention_mask is not None else None
        h = self.encoder(self.embeddings(input_ids), src_key_padding_mask=pad)
        mask = attention_mask[..., None].float()
        pooled = (h * mask).sum(1) / mask.sum(1)
        logits = self.classifier(pooled)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_token_embeddings(model):
    """The pretrained amino-acid embeddings are kept fixed; encoder and head are fine-tuned."""
    model.get_input_embeddings().weight.requires_grad_(False)


class LossRecorder(TrainerCallback):
    def __init__(self):
        self.losses = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.losses.append(float(logs["loss"]))


class ProteinDataset(torch.utils.data.Dataset):
    def __init__(self, n=32, L=12):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(4, 4 + len(AA), (n, L), generator=g)
        self.mask = torch.ones(n, L, dtype=torch.long)
        self.mask[n // 2:, L - 3:] = 0
        self.labels = (self.ids[:, :4].float().mean(1) > 13).long()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": self.mask[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    config = EsmLiteConfig()
    model = EsmLiteForSolubility(config)
    if config.freeze_embeddings:
        freeze_token_embeddings(model)
    emb0 = model.embeddings.weight.detach().clone()
    enc0 = model.encoder.layers[0].linear1.weight.detach().clone()
    head0 = model.classifier[0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/esm-lite", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-3, weight_decay=0.01, report_to="none")
    Trainer(model=model, args=args, train_dataset=ProteinDataset(), callbacks=[LossRecorder()]).train()
    return {"model": model}, {
        "embeddings_frozen": torch.equal(emb0, model.embeddings.weight),
        "encoder_changed": not torch.equal(enc0, model.encoder.layers[0].linear1.weight),
        "head_changed": not torch.equal(head0, model.classifier[0].weight),
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
