import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class FastSpeech2Config(PretrainedConfig):
    model_type = "fastspeech2-lite"

    def __init__(self, vocab_size=30, hidden=32, n_mels=16, filter_size=32, kernel=3, **kw):
        super().__init__(**kw)
        self.vocab_size, self.hidden, self.n_mels = vocab_size, hidden, n_mels
        self.filter_size, self.kernel = filter_size, kernel


class VariancePredictor(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.conv1 = nn.Conv1d(cfg.hidden, cfg.filter_size, cfg.kernel, padding=cfg.kernel // 2)
        self.ln1 = nn.LayerNorm(cfg.filter_size)
        self.conv2 = nn.Conv1d(cfg.filter_size, cfg.filter_size, cfg.kernel, padding=cfg.kernel // 2)
        self.ln2 = nn.LayerNorm(cfg.filter_size)
        self.linear = nn.Linear(cfg.filter_size, 1)

    def forward(self, x, pad_mask):
        h = self.ln1(F.relu(self.conv1(x.transpose(1, 2))).transpose(1, 2))
        h = self.ln2(F.relu(self.conv2(h.transpose(1, 2))).transpose(1, 2))
        out = self.linear(h).squeeze(-1)
        out.masked_fill_(pad_mask, 0.0)   # padded positions predict exactly zero
        return out


class FastSpeech2(PreTrainedModel):
    config_class = FastSpeech2Config

    def __init__(self, config):
        super().__init__(config)
        d = config.hidden
        self.embed = nn.Embedding(config.vocab_size, d, padding_idx=0)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(d, 2, 2 * d, dropout=0.0, batch_first=True), 1)
        self.duration_predictor = VariancePredictor(config)
        self.pitch_predictor = VariancePredictor(config)
        self.pitch_embed = nn.Conv1d(1, d, 3, padding=1)
        self.decoder = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, config.n_mels))
        self.post_init()

    def length_regulate(self, h, durations, max_frames):
        frames = [torch.repeat_interleave(seq, dur, dim=0) for seq, dur in zip(h, durations)]
        return torch.stack([F.pad(f, (0, 0, 0, max_frames - len(f))) for f in frames])

    def forward(self, phonemes, durations, pitch, mel, mel_mask):
        pad = phonemes.eq(0)
        h = self.encoder(self.embed(phonemes), src_key_padding_mask=pad)
        h = h.masked_fill(pad.unsqueeze(-1), 0.0)
        log_dur = self.duration_predictor(h, pad)
        pitch_pred = self.pitch_predictor(h, pad)
        h = h + self.pitch_embed(pitch.unsqueeze(1)).transpose(1, 2)
        frames = self.length_regulate(h, durations, mel.shape[1])
        mel_pred = self.decoder(frames)
        valid = ~pad
        loss = (F.l1_loss(mel_pred[mel_mask], mel[mel_mask])
                + F.mse_loss(log_dur[valid], torch.log1p(durations[valid].float()))
                + F.mse_loss(pitch_pred[valid], pitch[valid]))
        return ModelOutput(loss=loss, mel=mel_pred)


class TTSDataset(torch.utils.data.Dataset):
    def __init__(self, cfg, n=16, max_phon=6, max_frames=18):
        g = torch.Generator().manual_seed(0)
        self.items = []
        for i in range(n):
            L = 4 + i % 3
            phon = torch.zeros(max_phon, dtype=torch.long)
            phon[:L] = torch.randint(1, cfg.vocab_size, (L,), generator=g)
            dur = torch.zeros(max_phon, dtype=torch.long)
            dur[:L] = torch.randint(1, 4, (L,), generator=g)
            T = int(dur.sum())
            mask = torch.zeros(max_frames, dtype=torch.bool)
            mask[:T] = True
            self.items.append({"phonemes": phon, "durations": dur, "pitch": torch.randn(max_phon, generator=g) * (phon > 0),
                               "mel": torch.randn(max_frames, cfg.n_mels, generator=g) * mask[:, None], "mel_mask": mask})

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def main():
    torch.manual_seed(0)
    cfg = FastSpeech2Config()
    model = FastSpeech2(cfg)
    dur0 = model.duration_predictor.linear.weight.detach().clone()
    pitch0 = model.pitch_predictor.conv1.weight.detach().clone()
    dec0 = model.decoder[0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/fs2", per_device_train_batch_size=4, num_train_epochs=2,
                             learning_rate=1e-3, max_grad_norm=1.0, report_to="none")
    Trainer(model=model, args=args, train_dataset=TTSDataset(cfg)).train()
    return {"model": model}, {
        "duration_predictor_changed": not torch.equal(dur0, model.duration_predictor.linear.weight),
        "pitch_predictor_changed": not torch.equal(pitch0, model.pitch_predictor.conv1.weight),
        "decoder_changed": not torch.equal(dec0, model.decoder[0].weight),
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
