import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PatchTokenizer(nn.Module):
    def __init__(self, in_ch=3 + 6, dim=32, patch=4):
        super().__init__()
        self.proj = nn.Conv2d(in_ch, dim, patch, stride=patch)

    def forward(self, *maps):
        return self.proj(torch.cat(maps, dim=1)).flatten(2).transpose(1, 2)


class ViewSynthesizer(nn.Module):
    """Input view + Plucker rays -> target view (LVSM-like decoder-only transformer, tiny)."""

    def __init__(self, dim=32, patch=4, size=8):
        super().__init__()
        self.tokenizer = PatchTokenizer(dim=dim, patch=patch)
        self.target_tokenizer = PatchTokenizer(in_ch=6, dim=dim, patch=patch)
        self.blocks = nn.TransformerEncoder(nn.TransformerEncoderLayer(dim, 4, 2 * dim, dropout=0.0, batch_first=True), 2)
        self.unpatch = nn.Linear(dim, 3 * patch * patch)
        self.patch, self.size = patch, size

    def forward(self, src_img, src_rays, tgt_rays):
        src = self.tokenizer(src_img, src_rays)
        tgt = self.target_tokenizer(tgt_rays)
        out = self.blocks(torch.cat([src, tgt], dim=1))[:, src.shape[1]:]
        n = self.size // self.patch
        img = self.unpatch(out).view(-1, n, n, 3, self.patch, self.patch).permute(0, 3, 1, 4, 2, 5)
        return torch.sigmoid(img.reshape(-1, 3, self.size, self.size))


def train(model, loader, optimizer, scaler, accum_steps=2, max_norm=1.0, skip_norm=50.0):
    step, skipped = 0, 0
    optimizer.zero_grad(set_to_none=True)
    for i, (src_img, src_rays, tgt_rays, tgt_img) in enumerate(loader):
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            pred = model(src_img, src_rays, tgt_rays)
        loss = F.mse_loss(pred.float(), tgt_img) / accum_steps
        scaler.scale(loss).backward()
        if (i + 1) % accum_steps != 0:
            continue
        scaler.unscale_(optimizer)
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        if torch.isfinite(grad_norm) and grad_norm.item() < skip_norm:
            scaler.step(optimizer)
            step += 1
        else:
            skipped += 1
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
    return step, skipped


def main():
    torch.manual_seed(0)
    model = ViewSynthesizer()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    scaler = torch.amp.GradScaler("cpu")
    n = 16
    data = TensorDataset(torch.rand(n, 3, 8, 8), torch.randn(n, 6, 8, 8), torch.randn(n, 6, 8, 8), torch.rand(n, 3, 8, 8))
    w0 = model.unpatch.weight.detach().clone()
    steps, skipped = train(model, DataLoader(data, batch_size=4, shuffle=True), optimizer, scaler)
    # one more accumulation window without the zero_grad, to inspect the gradients that reach the model
    src_img, src_rays, tgt_rays, tgt_img = data.tensors
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        pred = model(src_img[:4], src_rays[:4], tgt_rays[:4])
    scaler.scale(F.mse_loss(pred.float(), tgt_img[:4])).backward()
    return ({"model": model},
            {"optimizer_steps": steps, "skipped": skipped, "unpatch_changed": not torch.equal(w0, model.unpatch.weight.detach())})

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
