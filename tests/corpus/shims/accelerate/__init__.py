"""Test shim for Hugging Face ``accelerate`` (single CPU process; not the real package).

What it reproduces (see /work/shared/docs/frameworks.md):
* ``prepare(*objs)`` returns the objects in the order given: the model itself (single process, no
  wrapping), optimizers wrapped in ``AcceleratedOptimizer`` (same param_groups; step/zero_grad are skipped
  while gradients are being accumulated), schedulers wrapped to step with the optimizer, data loaders as is.
* ``backward(loss)`` divides by ``gradient_accumulation_steps`` and calls ``loss.backward()``.
* ``accumulate(model)`` is a context that counts steps and sets ``sync_gradients``.
* ``unwrap_model`` strips DataParallel/DDP (``.module``) and ``torch.compile`` (``._orig_mod``) wrappers.
"""
import contextlib

import torch
from torch import nn

from .utils import set_seed  # noqa: F401

__version__ = "0.0-shim"


class GradientState:
    def __init__(self):
        self.sync_gradients = True


class AcceleratedOptimizer(torch.optim.Optimizer):
    def __init__(self, optimizer, gradient_state):
        # deliberately not calling Optimizer.__init__: this is a view of `optimizer`
        self.optimizer = optimizer
        self.gradient_state = gradient_state
        self._step_was_skipped = False

    @property
    def param_groups(self):
        return self.optimizer.param_groups

    @param_groups.setter
    def param_groups(self, value):
        self.optimizer.param_groups = value

    @property
    def state(self):
        return self.optimizer.state

    @property
    def defaults(self):
        return self.optimizer.defaults

    def add_param_group(self, param_group):
        self.optimizer.add_param_group(param_group)

    def state_dict(self):
        return self.optimizer.state_dict()

    def load_state_dict(self, state_dict):
        self.optimizer.load_state_dict(state_dict)

    def zero_grad(self, set_to_none=True):
        if self.gradient_state.sync_gradients:
            self.optimizer.zero_grad(set_to_none=set_to_none)

    def step(self, closure=None):
        if self.gradient_state.sync_gradients:
            self._step_was_skipped = False
            return self.optimizer.step(closure) if closure is not None else self.optimizer.step()
        self._step_was_skipped = True
        return None

    @property
    def step_was_skipped(self):
        return self._step_was_skipped

    def __repr__(self):
        return "AcceleratedOptimizer(" + repr(self.optimizer) + ")"


class AcceleratedScheduler:
    def __init__(self, scheduler, optimizers, gradient_state):
        self.scheduler = scheduler
        self.optimizers = optimizers
        self.gradient_state = gradient_state

    def step(self, *args, **kwargs):
        if not self.gradient_state.sync_gradients:
            return None
        return self.scheduler.step(*args, **kwargs)

    def get_last_lr(self):
        return self.scheduler.get_last_lr()

    def state_dict(self):
        return self.scheduler.state_dict()

    def __getattr__(self, name):
        return getattr(self.scheduler, name)


class Accelerator:
    def __init__(self, device_placement=True, split_batches=False, mixed_precision=None,
                 gradient_accumulation_steps=1, cpu=False, log_with=None, project_dir=None, **kwargs):
        self.gradient_accumulation_steps = int(gradient_accumulation_steps)
        self.mixed_precision = mixed_precision or "no"
        self.device = torch.device("cpu")
        self.gradient_state = GradientState()
        self.step = 0
        self.num_processes = 1
        self.process_index = 0
        self.local_process_index = 0
        self.is_main_process = True
        self.is_local_main_process = True
        self.is_last_process = True
        self.distributed_type = "NO"
        self._optimizers = []

    @property
    def sync_gradients(self):
        return self.gradient_state.sync_gradients

    def prepare(self, *args, device_placement=None):
        out = []
        for obj in args:
            if isinstance(obj, torch.optim.Optimizer) and not isinstance(obj, AcceleratedOptimizer):
                obj = AcceleratedOptimizer(obj, self.gradient_state)
                self._optimizers.append(obj)
            elif isinstance(obj, torch.optim.lr_scheduler.LRScheduler):
                obj = AcceleratedScheduler(obj, self._optimizers, self.gradient_state)
            out.append(obj)
        return out[0] if len(out) == 1 else tuple(out)

    def prepare_model(self, model, device_placement=None, evaluation_mode=False):
        return model

    def prepare_optimizer(self, optimizer, device_placement=None):
        return self.prepare(optimizer)

    def prepare_data_loader(self, data_loader, device_placement=None):
        return data_loader

    def prepare_scheduler(self, scheduler):
        return self.prepare(scheduler)

    def backward(self, loss, **kwargs):
        if self.gradient_accumulation_steps > 1:
            loss = loss / self.gradient_accumulation_steps
        loss.backward(**kwargs)

    @contextlib.contextmanager
    def accumulate(self, *models):
        self.step += 1
        self.gradient_state.sync_gradients = (self.step % self.gradient_accumulation_steps) == 0
        try:
            yield
        finally:
            pass

    @contextlib.contextmanager
    def no_sync(self, model):
        yield

    def unwrap_model(self, model, keep_fp32_wrapper=True):
        while True:
            if isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
                model = model.module
            elif hasattr(model, "_orig_mod"):
                model = model._orig_mod
            else:
                return model

    def clip_grad_norm_(self, parameters, max_norm, norm_type=2):
        return torch.nn.utils.clip_grad_norm_(parameters, max_norm, norm_type=norm_type)

    def clip_grad_value_(self, parameters, clip_value):
        torch.nn.utils.clip_grad_value_(parameters, clip_value)

    def autocast(self, *args, **kwargs):
        return contextlib.nullcontext()

    def gather(self, tensor):
        return tensor

    def gather_for_metrics(self, input_data, use_gather_object=False):
        return input_data

    def reduce(self, tensor, reduction="sum", scale=1.0):
        return tensor

    def pad_across_processes(self, tensor, dim=0, pad_index=0, pad_first=False):
        return tensor

    def wait_for_everyone(self):
        return None

    def print(self, *args, **kwargs):
        return None

    def log(self, values, step=None, log_kwargs=None):
        return None

    def init_trackers(self, project_name, config=None, init_kwargs=None):
        return None

    def end_training(self):
        return None

    def save(self, obj, f, safe_serialization=False):
        torch.save(obj, f)

    def get_state_dict(self, model, unwrap=True):
        return (self.unwrap_model(model) if unwrap else model).state_dict()

    def free_memory(self, *objects):
        return [None for _ in objects]


__all__ = ["Accelerator", "AcceleratedOptimizer", "AcceleratedScheduler", "set_seed"]
