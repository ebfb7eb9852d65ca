"""Minimal, behaviour-faithful stand-in for ``lightning.pytorch`` (test shim, not the real package).

Reproduces what matters for where gradients flow (see /work/shared/docs/frameworks.md and the Lightning
docs on automatic / manual optimization):

* ``LightningModule`` is a plain ``torch.nn.Module`` subclass.
* ``Trainer.fit`` calls ``setup("fit")`` and ``configure_model()`` (when defined), then ``configure_optimizers()``
  (Optimizer, list/tuple of them, ``([opts], [scheds])``, a dict with ``"optimizer"`` / ``"lr_scheduler"``, or a list
  of such dicts), then ``on_fit_start``, in Lightning 2.x's order.
* Automatic optimization, per batch: ``out = training_step(batch, batch_idx)``; ``None`` skips the
  step; a dict must carry ``"loss"``; then ``optimizer.zero_grad()``, ``loss.backward()``,
  ``optimizer.step()`` (Lightning runs step/zero_grad/backward through a closure in that order).
  Several optimizers under automatic optimization raise, as in Lightning 2.x.
* Manual optimization (``self.automatic_optimization = False``): the user calls ``self.optimizers()``,
  ``self.manual_backward(loss)``, ``opt.step()``, ``opt.zero_grad()``.
* ``validation_step`` / ``test_step`` / ``predict_step`` run under ``torch.inference_mode()`` (``torch.no_grad()``
  with ``Trainer(inference_mode=False)``).
* ``freeze()`` sets ``requires_grad=False`` on every parameter and calls ``eval()``.
"""

import torch
from torch import nn


class MisconfigurationException(Exception):
    pass


def seed_everything(seed=None, workers=False):
    seed = 0 if seed is None else int(seed)
    torch.manual_seed(seed)
    import random
    random.seed(seed)
    try:
        import numpy as np
        np.random.seed(seed)
    except Exception:  # pragma: no cover
        pass
    return seed


class LightningModule(nn.Module):
    def __init__(self, *args, **kwargs):
        super().__init__()
        self._automatic_optimization = True
        self._trainer = None
        self._optimizers = []
        self._schedulers = []
        self.hparams = {}

    # --- properties Lightning exposes -------------------------------------------------------
    @property
    def automatic_optimization(self):
        return self._automatic_optimization

    @automatic_optimization.setter
    def automatic_optimization(self, value):
        self._automatic_optimization = bool(value)

    @property
    def trainer(self):
        return self._trainer

    @property
    def device(self):
        for p in self.parameters():
            return p.device
        return torch.device("cpu")

    @property
    def current_epoch(self):
        return self._trainer.current_epoch if self._trainer is not None else 0

    @property
    def global_step(self):
        return self._trainer.global_step if self._trainer is not None else 0

    # --- user hooks (defaults) ----------------------------------------------------------------
    def configure_optimizers(self):
        raise MisconfigurationException("`configure_optimizers` must be implemented to be used with the Lightning Trainer")

    def training_step(self, *args, **kwargs):
        raise MisconfigurationException("`training_step` must be implemented to be used with the Lightning Trainer")

    def save_hyperparameters(self, *args, **kwargs):
        return None

    def log(self, *args, **kwargs):
        return None

    def log_dict(self, *args, **kwargs):
        return None

    def print(self, *args, **kwargs):
        return None

    # --- optimization helpers -------------------------------------------------------------------
    def optimizers(self, use_pl_optimizer=True):
        opts = self._optimizers
        if len(opts) == 1:
            return opts[0]
        return list(opts)

    def lr_schedulers(self):
        if not self._schedulers:
            return None
        scheds = [s["scheduler"] for s in self._schedulers]
        return scheds[0] if len(scheds) == 1 else scheds

    def manual_backward(self, loss, *args, **kwargs):
        if self._automatic_optimization:
            raise MisconfigurationException("`manual_backward` is only supported with manual optimization")
        loss.backward(*args, **kwargs)

    def toggle_optimizer(self, optimizer):
        return None

    def untoggle_optimizer(self, optimizer):
        return None

    def freeze(self):
        for p in self.parameters():
            p.requires_grad = False
        self.eval()

    def unfreeze(self):
        for p in self.parameters():
            p.requires_grad = True
        self.train()

    # --- data hooks (Lightning's DataHooks): a module that trains without loaders passed to fit defines them
    def train_dataloader(self):
        raise MisconfigurationException("`train_dataloader` must be implemented to be used with the Lightning Trainer")

    def val_dataloader(self):
        raise MisconfigurationException("`val_dataloader` must be implemented to be used with the Lightning Trainer")


class LightningDataModule:
    def __init__(self, *args, **kwargs):
        pass

    def prepare_data(self):
        return None

    def setup(self, stage=None):
        return None

    def train_dataloader(self):
        raise MisconfigurationException("no train_dataloader")

    def val_dataloader(self):
        return None


class Callback:
    pass


def _normalize_optimizers(conf):
    """The forms configure_optimizers may return -> (optimizers, scheduler configs)."""
    if conf is None:
        return [], []
    if isinstance(conf, torch.optim.Optimizer):
        return [conf], []
    if isinstance(conf, dict):
        conf = [conf]
    if isinstance(conf, (list, tuple)) and len(conf) == 2 and isinstance(conf[0], (list, tuple)) \
            and isinstance(conf[1], (list, tuple)):
        opts = list(conf[0])
        scheds = [_sched_cfg(s) for s in conf[1]]
        return opts, scheds
    opts, scheds = [], []
    for item in conf:
        if isinstance(item, dict):
            if "optimizer" not in item:
                raise MisconfigurationException("configure_optimizers dict must have an 'optimizer' key")
            opts.append(item["optimizer"])
            if item.get("lr_scheduler") is not None:
                scheds.append(_sched_cfg(item["lr_scheduler"]))
        elif isinstance(item, torch.optim.Optimizer):
            opts.append(item)
        else:
            raise MisconfigurationException(f"Unknown configuration for model optimizers: {item!r}")
    return opts, scheds


def _sched_cfg(s):
    if isinstance(s, dict):
        cfg = {"interval": "epoch", "frequency": 1}
        cfg.update(s)
        return cfg
    return {"scheduler": s, "interval": "epoch", "frequency": 1}


class Trainer:
    def __init__(self, max_epochs=None, max_steps=-1, limit_train_batches=None, limit_val_batches=None,
                 accumulate_grad_batches=1, gradient_clip_val=None, callbacks=None, inference_mode=True, **kwargs):
        self.inference_mode = inference_mode  # evaluation under torch.inference_mode() (default) or torch.no_grad()
        self.max_epochs = 1000 if max_epochs is None and max_steps == -1 else (max_epochs or 1000)
        self.max_steps = max_steps
        self.limit_train_batches = limit_train_batches
        self.limit_val_batches = limit_val_batches
        self.accumulate_grad_batches = accumulate_grad_batches
        self.gradient_clip_val = gradient_clip_val
        self.callbacks = list(callbacks or [])
        self.current_epoch = 0
        self.global_step = 0
        self.callback_metrics = {}
        self.lightning_module = None
        self.optimizers = []
        self.should_stop = False

    def _hook(self, model, name, *args):
        for cb in self.callbacks:
            fn = getattr(cb, name, None)
            if fn is not None:
                fn(self, model, *args)
        fn = getattr(model, name, None)
        if fn is not None:
            return fn(*args)
        return None

    @staticmethod
    def _overridden(model, name):
        return getattr(type(model), name, None) is not getattr(LightningModule, name, None)

    def fit(self, model, train_dataloaders=None, val_dataloaders=None, datamodule=None, ckpt_path=None):
        model._trainer = self
        self.lightning_module = model
        if datamodule is not None:
            datamodule.setup("fit")
            train_dataloaders = datamodule.train_dataloader()
            if val_dataloaders is None:
                val_dataloaders = datamodule.val_dataloader()
        if train_dataloaders is None:
            train_dataloaders = model.train_dataloader()
        # as in Lightning 2.x: setup("fit") and configure_model() run first, then the strategy sets up the optimizers,
        # then on_fit_start runs
        self._hook(model, "setup", "fit")
        if getattr(model, "configure_model", None) is not None:
            model.configure_model()
        opts, scheds = _normalize_optimizers(model.configure_optimizers())
        if model.automatic_optimization and len(opts) > 1:
            raise RuntimeError("Training with multiple optimizers is only supported with manual optimization. "
                               "Set `self.automatic_optimization = False`.")
        model._optimizers, model._schedulers = opts, scheds
        self.optimizers = opts
        self._hook(model, "on_fit_start")
        model.train()
        self._hook(model, "on_train_start")
        for epoch in range(self.max_epochs):
            self.current_epoch = epoch
            model.train()
            self._hook(model, "on_train_epoch_start")
            n_batches = 0
            for batch_idx, batch in enumerate(train_dataloaders):
                if self.limit_train_batches is not None and batch_idx >= self.limit_train_batches:
                    break
                n_batches += 1
                if model.automatic_optimization:
                    self._automatic_step(model, opts, scheds, batch, batch_idx)
                else:
                    out = model.training_step(batch, batch_idx)
                    self.global_step += 1
                    self._hook(model, "on_train_batch_end", out, batch, batch_idx)
                if self.max_steps != -1 and self.global_step >= self.max_steps:
                    self.should_stop = True
                    break
            self._hook(model, "on_train_epoch_end")
            if val_dataloaders is not None and self._overridden(model, "validation_step"):
                self._run_eval(model, val_dataloaders, "validation_step", "on_validation_epoch_end")
            if model.automatic_optimization:
                for cfg in scheds:
                    if cfg["interval"] == "epoch":
                        cfg["scheduler"].step()
            if self.should_stop:
                break
        self._hook(model, "on_train_end")
        self._hook(model, "on_fit_end")

    def _automatic_step(self, model, opts, scheds, batch, batch_idx):
        opt = opts[0] if opts else None
        out = model.training_step(batch, batch_idx)
        if out is None:
            return
        if isinstance(out, dict):
            if "loss" not in out:
                raise MisconfigurationException(
                    "In automatic_optimization, when `training_step` returns a dict, the 'loss' key needs to be present")
            loss = out["loss"]
        else:
            loss = out
        if not isinstance(loss, torch.Tensor):
            raise MisconfigurationException("training_step must return a Tensor, a dict with 'loss', or None")
        n = max(1, int(self.accumulate_grad_batches))
        first_of_window = (batch_idx % n) == 0
        last_of_window = ((batch_idx + 1) % n) == 0
        if opt is not None and first_of_window:
            opt.zero_grad()
        (loss / n if n > 1 else loss).backward()
        self._hook(model, "on_after_backward")
        if opt is not None and last_of_window:
            self._hook(model, "on_before_optimizer_step", opt)
            if self.gradient_clip_val:
                torch.nn.utils.clip_grad_norm_(model.parameters(), self.gradient_clip_val)
            opt.step()
            self.global_step += 1
            for cfg in scheds:
                if cfg["interval"] == "step":
                    cfg["scheduler"].step()
        self._hook(model, "on_train_batch_end", out, batch, batch_idx)

    def _run_eval(self, model, loaders, step_name, end_hook):
        was_training = model.training
        model.eval()
        outs = []
        with torch.inference_mode() if self.inference_mode else torch.no_grad():
            for batch_idx, batch in enumerate(loaders):
                if self.limit_val_batches is not None and batch_idx >= self.limit_val_batches:
                    break
                outs.append(getattr(model, step_name)(batch, batch_idx))
        self._hook(model, end_hook)
        if was_training:
            model.train()
        return outs

    def validate(self, model, dataloaders=None, datamodule=None):
        model._trainer = self
        if dataloaders is None and datamodule is not None:
            datamodule.setup("validate")
            dataloaders = datamodule.val_dataloader()
        self._run_eval(model, dataloaders, "validation_step", "on_validation_epoch_end")
        return [dict(self.callback_metrics)]

    def test(self, model, dataloaders=None, datamodule=None):
        model._trainer = self
        self._run_eval(model, dataloaders, "test_step", "on_test_epoch_end")
        return [dict(self.callback_metrics)]

    def predict(self, model, dataloaders=None):
        model._trainer = self
        return self._run_eval(model, dataloaders, "predict_step", "on_predict_epoch_end")
