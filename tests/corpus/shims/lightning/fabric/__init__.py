"""Test shim for ``lightning.fabric`` (not the real package).

``Fabric.setup(model, *optimizers)`` returns wrappers around the same module and optimizers (the
parameters are the very same tensors); ``fabric.backward(loss)`` is ``loss.backward()``;
``setup_dataloaders`` returns the loaders.
"""
import contextlib

import torch
from torch import nn

from lightning.pytorch.core import seed_everything


class _FabricModule(nn.Module):
    def __init__(self, module):
        super().__init__()
        self._forward_module = module
        self._original_module = module

    @property
    def module(self):
        return self._original_module

    def forward(self, *args, **kwargs):
        return self._forward_module(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._original_module, name)


class _FabricOptimizer:
    def __init__(self, optimizer):
        self._optimizer = optimizer

    @property
    def optimizer(self):
        return self._optimizer

    def step(self, closure=None):
        return self._optimizer.step(closure) if closure is not None else self._optimizer.step()

    def zero_grad(self, set_to_none=True):
        return self._optimizer.zero_grad(set_to_none=set_to_none)

    def __getattr__(self, name):
        return getattr(self._optimizer, name)


class Fabric:
    def __init__(self, accelerator="auto", strategy="auto", devices="auto", num_nodes=1, precision=None,
                 plugins=None, callbacks=None, loggers=None):
        self.device = torch.device("cpu")
        self.global_rank = 0
        self.local_rank = 0
        self.world_size = 1
        self.is_global_zero = True

    def launch(self, function=None, *args, **kwargs):
        if function is not None:
            return function(self, *args, **kwargs)
        return None

    def seed_everything(self, seed=None, workers=None):
        return seed_everything(seed)

    def setup(self, module, *optimizers, move_to_device=True):
        wrapped = _FabricModule(module)
        if not optimizers:
            return wrapped
        return (wrapped,) + tuple(_FabricOptimizer(o) for o in optimizers)

    def setup_module(self, module, move_to_device=True):
        return _FabricModule(module)

    def setup_optimizers(self, *optimizers):
        wrapped = tuple(_FabricOptimizer(o) for o in optimizers)
        return wrapped[0] if len(wrapped) == 1 else wrapped

    def setup_dataloaders(self, *dataloaders, use_distributed_sampler=True, move_to_device=True):
        return dataloaders[0] if len(dataloaders) == 1 else tuple(dataloaders)

    def backward(self, tensor, *args, model=None, **kwargs):
        tensor.backward(*args, **kwargs)

    def clip_gradients(self, module, optimizer, clip_val=None, max_norm=None, norm_type=2.0):
        if max_norm is not None:
            return torch.nn.utils.clip_grad_norm_(module.parameters(), max_norm, norm_type=norm_type)
        if clip_val is not None:
            torch.nn.utils.clip_grad_value_(module.parameters(), clip_val)
        return None

    def autocast(self):
        return contextlib.nullcontext()

    def no_backward_sync(self, module, enabled=True):
        return contextlib.nullcontext()

    def to_device(self, obj):
        return obj

    def print(self, *args, **kwargs):
        return None

    def log(self, *args, **kwargs):
        return None

    def log_dict(self, *args, **kwargs):
        return None

    def barrier(self, name=None):
        return None

    def all_gather(self, data, group=None, sync_grads=False):
        return data

    def all_reduce(self, data, group=None, reduce_op="mean"):
        return data


__all__ = ["Fabric", "seed_everything"]
