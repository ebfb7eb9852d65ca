import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class GatedResidualBlock(nn.Module):
    def __init__(self, res_ch, gate_ch, aux_ch, dilation):
        super().__init__()
        self.dilated = nn.Conv1d(res_ch, 2 * gate_ch, 3, padding=dilation, dilation=dilation)
        self.aux = nn.Conv1d(aux_ch, 2 * gate_ch, 1, bias=False)
        self.res_out = nn.Conv1d(gate_ch, res_ch, 1)
        self.skip_out = nn.Conv1d(gate_ch, res_ch, 1)

    def gated_activation(self, x, c):
        filt, gate = (self.dilated(x) + self.aux(c)).chunk(2, 1)
        z = torch.tanh(filt)
        z.mul_(torch.sigmoid(gate))
        return z

    def forward(self, x, c):
        z = self.gated_activation(x, c)
        return (x + self.res_out(z)) * 0.5 ** 0.5, self.skip_out(z)


class ParallelWaveGANGenerator(nn.Module):
    def __init__(self, res_ch=8, gate_ch=8, aux_ch=4, layers=3, hop=4):
        super().__init__()
        self.first = nn.Conv1d(1, res_ch, 1)
        self.upsample = nn.Upsample(scale_factor=hop, mode="nearest")
        self.blocks = nn.ModuleList([GatedResidualBlock(res_ch, gate_ch, aux_ch, 2 ** i) for i in range(layers)])
        self.last = nn.Sequential(nn.ReLU(), nn.Conv1d(res_ch, 1, 1))

    def forward(self, noise, mel):
        x, c = self.first(noise), self.upsample(mel)
        skips = 0
        for block in self.blocks:
            x, s = block(x, c)
            skips = skips + s
        return self.last(skips)


def stft_magnitude(wav, n_fft):
    return torch.stft(wav.squeeze(1), n_fft, hop_length=n_fft // 4, window=torch.hann_window(n_fft), return_complex=True).abs()


def multi_resolution_stft_loss(pred, target, ffts=(8, 16)):
    loss = 0.0
    for n in ffts:
        p, t = stft_magnitude(pred, n), stft_magnitude(target, n)
        loss = loss + torch.norm(t - p, p="fro") / torch.norm(t, p="fro") + F.l1_loss(torch.log(p + 1e-7), torch.log(t + 1e-7))
    return loss / len(ffts)


def train_one_epoch(gen, loader, optimizer, lr_scheduler, accelerator, cfg):
    for mel, wav in loader:
        with accelerator.accumulate(gen):
            noise = torch.randn_like(wav)
            loss = multi_resolution_stft_loss(gen(noise, mel), wav)
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(gen.parameters(), cfg["max_norm"])
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()


def vctk_like(n=8, frames=8, hop=4, aux=4):
    g = torch.Generator().manual_seed(0)
    wav = 0.5 * torch.tanh(torch.randn(n, 1, frames * hop, generator=g))
    mel = torch.randn(n, aux, frames, generator=g)
    return DataLoader(TensorDataset(mel, wav), batch_size=4)


def main():
    set_seed(0)
    cfg = {"max_norm": 10.0, "lr": 1e-3}
    accelerator = Accelerator(gradient_accumulation_steps=1)
    gen = ParallelWaveGANGenerator()
    optimizer = torch.optim.RAdam(gen.parameters(), lr=cfg["lr"])
    lr_scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=100, gamma=0.5)
    gen, optimizer, loader, lr_scheduler = accelerator.prepare(gen, optimizer, vctk_like(), lr_scheduler)
    w0 = gen.blocks[0].dilated.weight.detach().clone()
    for _ in range(2):
        train_one_epoch(gen, loader, optimizer, lr_scheduler, accelerator, cfg)
    return {"gen": gen}, {"generator_changed": not torch.equal(w0, gen.blocks[0].dilated.weight)}

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
