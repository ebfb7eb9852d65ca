import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments, CausalLMOutput
from transformers import TrainerCallback


class MidiConfig(PretrainedConfig):
    model_type = "midi-decoder"

    def __init__(self, vocab_size=48, num_tracks=3, d_model=32, n_layers=2, n_heads=4, max_len=24, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.num_tracks = num_tracks
        self.d_model = d_model
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.max_len = max_len


class MidiDecoder(PreTrainedModel):
    config_class = MidiConfig

    def __init__(self, config):
        super().__init__(config)
        self.token_embedding = nn.Embedding(config.vocab_size, config.d_model)
        # one table per instrument (piano, bass, drums): the same event id sounds different per track
        self.track_embeddings = [nn.Embedding(config.vocab_size, config.d_model) for _ in range(config.num_tracks)]
        self.pos_embedding = nn.Embedding(config.max_len, config.d_model)
        layer = nn.TransformerEncoderLayer(config.d_model, config.n_heads, 4 * config.d_model,
                                           dropout=0.0, batch_first=True)
        self.layers = nn.TransformerEncoder(layer, config.n_layers)
        self.norm = nn.LayerNorm(config.d_model)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size)
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)

    def embed(self, input_ids, track_ids):
        x = self.token_embedding(input_ids)
        for k, table in enumerate(self.track_embeddings):
            x = x + table(input_ids) * (track_ids == k).unsqueeze(-1)
        pos = torch.arange(input_ids.size(1), device=input_ids.device)
        return x + self.pos_embedding(pos)

    def forward(self, input_ids, track_ids, labels=None):
        L = input_ids.size(1)
        causal = torch.triu(torch.full((L, L), float("-inf")), diagonal=1)
        h = self.layers(self.embed(input_ids, track_ids), mask=causal)
        logits = self.lm_head(self.norm(h))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1))
        return CausalLMOutput(loss=loss, logits=logits)


class EventDataset(Dataset):
    """REMI-like event streams: bar / position / pitch / duration tokens, each tagged with its track."""

    def __init__(self, n=32, length=24, vocab=48, tracks=3):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, vocab, (n, length), generator=g)
        self.tracks = torch.randint(0, tracks, (n, length), generator=g)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "track_ids": self.tracks[i], "labels": self.ids[i]}


class PerplexityLogger(TrainerCallback):
    def __init__(self):
        self.history = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "train_loss" in logs:
            self.history.append(float(torch.tensor(logs["train_loss"]).exp()))


@torch.no_grad()
def sample_continuation(model, prompt_ids, prompt_tracks, steps=8, temperature=1.0):
    """Greedy-ish continuation of a prompt, keeping the track of the last event."""
    model.eval()
    ids, tracks = prompt_ids.clone(), prompt_tracks.clone()
    for _ in range(steps):
        logits = model(ids[:, -model.config.max_len:], tracks[:, -model.config.max_len:]).logits[:, -1]
        nxt = torch.multinomial(F.softmax(logits / temperature, dim=-1), 1)
        ids = torch.cat([ids, nxt], dim=1)
        tracks = torch.cat([tracks, tracks[:, -1:]], dim=1)
    return ids


def main():
    config = MidiConfig()
    model = MidiDecoder(config)
    track0 = model.track_embeddings[0].weight.detach().clone()
    tok0 = model.token_embedding.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/midi-decoder", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=3e-3, weight_decay=0.01, report_to="none")
    logger = PerplexityLogger()
    data = EventDataset()
    trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[logger])
    trainer.train()
    sample_continuation(model, data.ids[:2, :8], data.tracks[:2, :8])
    return {"model": model, "track_emb0": model.track_embeddings[0]}, {
        "track_embedding_changed": not torch.equal(track0, model.track_embeddings[0].weight),
        "token_embedding_changed": not torch.equal(tok0, model.token_embedding.weight),
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
