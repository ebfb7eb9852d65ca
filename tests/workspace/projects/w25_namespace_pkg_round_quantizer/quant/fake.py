import torch


def fake_quantize(x, bits=4):
    """Simulate low-bit activations during training (quantization-aware training)."""
    levels = 2 ** bits - 1
    lo, hi = x.min().detach(), x.max().detach()
    scale = (hi - lo).clamp(min=1e-8) / levels
    return torch.round((x - lo) / scale) * scale + lo
