import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments, ModelOutput


class MelGain(torch.autograd.Function):
    """Learned per-mel-bin gain applied to the predicted log-mel frames (fused for the export path)."""
    # backward was first written for a fixed calibration gain loaded from the vocoder

    @staticmethod
    def forward(ctx, mel, gain):
        ctx.save_for_backward(mel, gain)
        return mel * gain

    @staticmethod
    def backward(ctx, grad_output):
        mel, gain = ctx.saved_tensors
        return grad_output * gain, None


class AcousticConfig(PretrainedConfig):
    model_type = "tiny-acoustic"

    def __init__(self, vocab_size=30, hidden=32, n_mels=16, upsample=3, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden, self.n_mels, self.upsample = vocab_size, hidden, n_mels, upsample


class TinyAcousticModel(PreTrainedModel):
    """Phoneme encoder -> fixed-rate length regulator -> conv decoder -> mel frames (+ postnet residual)."""
    config_class = AcousticConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.encoder = nn.Sequential(nn.Conv1d(config.hidden, config.hidden, 5, padding=2), nn.ReLU(),
                                     nn.Conv1d(config.hidden, config.hidden, 5, padding=2), nn.ReLU())
        self.decoder = nn.GRU(config.hidden, config.hidden, batch_first=True)
        self.mel_proj = nn.Linear(config.hidden, config.n_mels)
        self.mel_gain = nn.Parameter(torch.ones(config.n_mels))
        self.postnet = nn.Sequential(nn.Conv1d(config.n_mels, config.hidden, 5, padding=2), nn.Tanh(),
                                     nn.Conv1d(config.hidden, config.n_mels, 5, padding=2))
        self.post_init()

    def forward(self, phonemes, mel_target=None):
        h = self.encoder(self.embed(phonemes).transpose(1, 2)).transpose(1, 2)
        h = h.repeat_interleave(self.config.upsample, dim=1)
        h, _ = self.decoder(h)
        mel = MelGain.apply(self.mel_proj(h), self.mel_gain)
        mel_post = mel + self.postnet(mel.transpose(1, 2)).transpose(1, 2)
        return ModelOutput(mel=mel, mel_post=mel_post)


class TTSTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(phonemes=inputs["phonemes"])
        target = inputs["mel_target"]
        loss = F.l1_loss(outputs["mel"], target) + F.l1_loss(outputs["mel_post"], target)
        return (loss, outputs) if return_outputs else loss


class PhonemeMelDataset(Dataset):
    def __init__(self, config, n=32, length=8):
        g = torch.Generator().manual_seed(0)
        self.phonemes = torch.randint(0, config.vocab_size, (n, length), generator=g)
        table = torch.randn(config.vocab_size, config.n_mels, generator=g)
        self.mels = table[self.phonemes].repeat_interleave(config.upsample, dim=1)

    def __len__(self):
        return len(self.phonemes)

    def __getitem__(self, i):
        return {"phonemes": self.phonemes[i], "mel_target": self.mels[i]}


def main():
    torch.manual_seed(0)
    config = AcousticConfig()
    model = TinyAcousticModel(config)
    gain0 = model.mel_gain.detach().clone()
    proj0 = model.mel_proj.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/tiny-tts", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=2e-3, remove_unused_columns=False, report_to="none")
    trainer = TTSTrainer(model=model, args=args, train_dataset=PhonemeMelDataset(config))
    trainer.train()
    return {"model": model}, {
        "mel_gain_changed": not torch.equal(gain0, model.mel_gain),
        "mel_proj_changed": not torch.equal(proj0, model.mel_proj.weight),
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
