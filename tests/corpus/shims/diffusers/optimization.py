from torch.optim.lr_scheduler import LambdaLR


def get_scheduler(name, optimizer, num_warmup_steps=None, num_training_steps=None, **kwargs):
    name = getattr(name, "value", name)
    warm = num_warmup_steps or 0
    if name == "constant":
        return LambdaLR(optimizer, lambda _: 1.0)
    if name == "constant_with_warmup":
        return LambdaLR(optimizer, lambda s: min(1.0, float(s) / max(1.0, warm)))
    if name == "linear":
        def lr_lambda(s):
            if s < warm:
                return float(s) / float(max(1, warm))
            return max(0.0, float(num_training_steps - s) / float(max(1, num_training_steps - warm)))
        return LambdaLR(optimizer, lr_lambda)
    raise ValueError(f"shim: unsupported scheduler {name!r}")
