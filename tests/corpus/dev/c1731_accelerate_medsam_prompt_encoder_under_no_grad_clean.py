import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class ImageEncoder(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, dim, 3, stride=2, padding=1), nn.GELU(),
                                 nn.Conv2d(dim, dim, 3, padding=1), nn.GELU())

    def forward(self, x):
        return self.net(x)


class PromptEncoder(nn.Module):
    """Embeds a bounding-box prompt (x0, y0, x1, y1) into a sparse token and a dense map."""

    def __init__(self, dim=16):
        super().__init__()
        self.box_embed = nn.Linear(4, dim)
        self.no_mask = nn.Embedding(1, dim)

    def forward(self, boxes, size):
        sparse = self.box_embed(boxes)
        dense = self.no_mask.weight.view(1, -1, 1, 1).expand(boxes.size(0), -1, size, size)
        return sparse, dense


class MaskDecoder(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.fuse = nn.Conv2d(dim, dim, 3, padding=1)
        self.head = nn.Conv2d(dim, 1, 1)

    def forward(self, image_embed, sparse, dense):
        h = F.gelu(self.fuse(image_embed + dense)) * torch.sigmoid(sparse)[:, :, None, None]
        return F.interpolate(self.head(h), scale_factor=2, mode="bilinear", align_corners=False)


class MedSAM(nn.Module):
    def __init__(self):
        super().__init__()
        self.image_encoder, self.prompt_encoder, self.mask_decoder = ImageEncoder(), PromptEncoder(), MaskDecoder()
        for p in self.prompt_encoder.parameters():
            p.requires_grad = False

    def forward(self, image, boxes):
        image_embed = self.image_encoder(image)
        with torch.no_grad():  # the prompt encoder is kept frozen (not fine-tuned)
            sparse, dense = self.prompt_encoder(boxes, image_embed.size(-1))
        return self.mask_decoder(image_embed, sparse, dense)


def dice_bce(logits, target):
    prob = torch.sigmoid(logits)
    dice = 1 - (2 * (prob * target).sum() + 1) / (prob.sum() + target.sum() + 1)
    return dice + F.binary_cross_entropy_with_logits(logits, target)


def main():
    set_seed(12)
    g = torch.Generator().manual_seed(12)
    images = torch.randn(16, 1, 16, 16, generator=g)
    masks = (images > 0.5).float()
    boxes = torch.rand(16, 4, generator=g)
    model = MedSAM()
    trainable = list(model.image_encoder.parameters()) + list(model.mask_decoder.parameters())
    optimizer = torch.optim.AdamW(trainable, lr=1e-3, weight_decay=0.01)
    accelerator = Accelerator()
    loader = DataLoader(TensorDataset(images, boxes, masks), batch_size=8, shuffle=True, generator=g)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    w0 = model.image_encoder.net[0].weight.detach().clone()
    for image, box, mask in loader:
        optimizer.zero_grad()
        accelerator.backward(dice_bce(model(image, box), mask))
        optimizer.step()
    return {"model": model}, {"image_encoder_changed": not torch.equal(w0, model.image_encoder.net[0].weight)}

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
