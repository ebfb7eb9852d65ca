import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class EnhancerConfig(PretrainedConfig):
    model_type = "mask-postfilter-enhancer"

    def __init__(self, n_freq=17, hidden=32, **kwargs):
        super().__init__(**kwargs)
        self.n_freq, self.hidden = n_freq, hidden


class MaskEstimator(nn.Module):
    def __init__(self, n_freq, hidden):
        super().__init__()
        self.rnn = nn.GRU(n_freq, hidden, batch_first=True)
        self.out = nn.Linear(hidden, n_freq)

    def forward(self, log_mag):
        h, _ = self.rnn(log_mag)
        return torch.sigmoid(self.out(h))


class PostFilter(nn.Module):
    """Small residual conv stack that removes musical noise left by the mask."""

    def __init__(self, n_freq):
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(n_freq, n_freq, 3, padding=1), nn.PReLU(), nn.Conv1d(n_freq, n_freq, 3, padding=1))

    def forward(self, mag):
        return F.relu(mag + self.net(mag.transpose(1, 2)).transpose(1, 2))


class MaskPostFilterEnhancer(PreTrainedModel):
    config_class = EnhancerConfig

    def __init__(self, config):
        super().__init__(config)
        self.masker = MaskEstimator(config.n_freq, config.hidden)
        self.postfilter = PostFilter(config.n_freq)
        self.post_init()

    def forward(self, noisy_mag):
        mask = self.masker(torch.log1p(noisy_mag))
        masked = mask * noisy_mag
        return {"mask": mask, "masked": masked}


def spectral_convergence(est, ref):
    return torch.linalg.norm(ref - est) / torch.linalg.norm(ref)


class EnhancementTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(noisy_mag=inputs["noisy_mag"])
        enhanced = model.postfilter(outputs["masked"].detach())
        clean = inputs["clean_mag"]
        loss = F.l1_loss(torch.log1p(enhanced), torch.log1p(clean)) + 0.5 * spectral_convergence(enhanced, clean)
        return (loss, outputs) if return_outputs else loss


class NoisySpeech(torch.utils.data.Dataset):
    def __init__(self, n=32, frames=12, n_freq=17):
        g = torch.Generator().manual_seed(0)
        self.clean = torch.rand(n, frames, n_freq, generator=g) ** 2
        self.noisy = self.clean + 0.3 * torch.rand(n, frames, n_freq, generator=g)

    def __len__(self):
        return len(self.clean)

    def __getitem__(self, i):
        return {"noisy_mag": self.noisy[i], "clean_mag": self.clean[i]}


def main():
    torch.manual_seed(0)
    model = MaskPostFilterEnhancer(EnhancerConfig())
    mask0 = model.masker.out.weight.detach().clone()
    post0 = model.postfilter.net[0].weight.detach().clone()
    args = TrainingArguments(output_dir="out-enhancer", per_device_train_batch_size=8, learning_rate=3e-3,
                             num_train_epochs=2, remove_unused_columns=False, report_to=[], save_strategy="no")
    EnhancementTrainer(model=model, args=args, train_dataset=NoisySpeech()).train()
    return {"model": model}, {
        "mask_estimator_changed": not torch.equal(mask0, model.masker.out.weight),
        "postfilter_changed": not torch.equal(post0, model.postfilter.net[0].weight),
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
