from torch.optim.lr_scheduler import LambdaLR


def get_constant_schedule(optimizer, last_epoch=-1):
    return LambdaLR(optimizer, lambda _: 1.0, last_epoch=last_epoch)


def get_linear_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps, last_epoch=-1):
    def lr_lambda(current_step):
        if current_step < num_warmup_steps:
            return float(current_step) / float(max(1, num_warmup_steps))
        return max(0.0, float(num_training_steps - current_step) / float(max(1, num_training_steps - num_warmup_steps)))

    return LambdaLR(optimizer, lr_lambda, last_epoch)


def get_scheduler(name, optimizer, num_warmup_steps=None, num_training_steps=None, **kwargs):
    name = getattr(name, "value", name)
    if name == "constant":
        return get_constant_schedule(optimizer)
    if name == "linear":
        return get_linear_schedule_with_warmup(optimizer, num_warmup_steps or 0, num_training_steps)
    raise ValueError(f"shim: unsupported scheduler {name!r}")
