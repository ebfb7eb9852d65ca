"""A single-process CPU Trainer with the real class's order of operations (no logging / saving / eval loop)."""
import inspect
import math

import torch
from torch import nn
from torch.utils.data import DataLoader, RandomSampler

from .data.data_collator import default_data_collator
from .optimization import get_scheduler
from .trainer_callback import TrainerControl, TrainerState
from .trainer_utils import TrainOutput, set_seed
from .training_args import TrainingArguments

ALL_LAYERNORM_LAYERS = [nn.LayerNorm]


def get_parameter_names(model, forbidden_layer_types):
    result = []
    for name, child in model.named_children():
        result += [f"{name}.{n}" for n in get_parameter_names(child, forbidden_layer_types)
                   if not isinstance(child, tuple(forbidden_layer_types))]
    result += list(model._parameters.keys())
    return result


class RemoveColumnsCollator:
    """Drops batch keys that model.forward does not accept (the real Trainer does this for non-`datasets` data)."""

    def __init__(self, data_collator, signature_columns):
        self.data_collator = data_collator
        self.signature_columns = signature_columns

    def __call__(self, features):
        features = [{k: v for k, v in f.items() if k in self.signature_columns} if isinstance(f, dict) else f
                    for f in features]
        return self.data_collator(features)


class _Accelerator:
    def backward(self, loss, **kwargs):
        loss.backward(**kwargs)

    def clip_grad_norm_(self, parameters, max_norm):
        return torch.nn.utils.clip_grad_norm_(parameters, max_norm)

    def unwrap_model(self, model):
        while hasattr(model, "module"):
            model = model.module
        return model


class Trainer:
    def __init__(self, model=None, args=None, data_collator=None, train_dataset=None, eval_dataset=None,
                 processing_class=None, tokenizer=None, model_init=None, compute_loss_func=None,
                 compute_metrics=None, callbacks=None, optimizers=(None, None), **kwargs):
        if args is None:
            args = TrainingArguments(output_dir="tmp_trainer")
        self.args = args
        set_seed(self.args.seed)
        if model is None:
            if model_init is None:
                raise RuntimeError("`Trainer` requires either a `model` or `model_init` argument")
            model = model_init()
        self.model = model
        self.model_wrapped = model
        self.data_collator = data_collator if data_collator is not None else default_data_collator
        self.train_dataset = train_dataset
        self.eval_dataset = eval_dataset
        self.processing_class = processing_class if processing_class is not None else tokenizer
        self.compute_loss_func = compute_loss_func
        self.compute_metrics = compute_metrics
        self.callbacks = [cb() if isinstance(cb, type) else cb for cb in (callbacks or [])]
        self.optimizer, self.lr_scheduler = optimizers
        self.accelerator = _Accelerator()
        self.state = TrainerState()
        self.control = TrainerControl()
        self._signature_columns = None
        self.label_names = args.label_names if args.label_names is not None else ["labels"]

    # ---- callbacks -------------------------------------------------------------------------------------
    def add_callback(self, callback):
        self.callbacks.append(callback() if isinstance(callback, type) else callback)

    def _cb(self, event, **kwargs):
        for cb in self.callbacks:
            getattr(cb, event)(self.args, self.state, self.control, model=self.model, optimizer=self.optimizer,
                               lr_scheduler=self.lr_scheduler, **kwargs)

    # ---- data --------------------------------------------------------------------------------------------
    def _set_signature_columns_if_needed(self):
        if self._signature_columns is None:
            signature = inspect.signature(self.model.forward)
            self._signature_columns = list(signature.parameters.keys())
            self._signature_columns += list(set(["label", "label_ids"] + self.label_names))

    def get_train_dataloader(self):
        if self.train_dataset is None:
            raise ValueError("Trainer: training requires a train_dataset.")
        collator = self.data_collator
        if self.args.remove_unused_columns:
            self._set_signature_columns_if_needed()
            collator = RemoveColumnsCollator(collator, self._signature_columns)
        generator = torch.Generator()
        generator.manual_seed(self.args.data_seed if self.args.data_seed is not None else self.args.seed)
        return DataLoader(self.train_dataset, batch_size=self.args.per_device_train_batch_size,
                          sampler=RandomSampler(self.train_dataset, generator=generator), collate_fn=collator,
                          drop_last=self.args.dataloader_drop_last)

    def _prepare_inputs(self, inputs):
        if len(inputs) == 0:
            raise ValueError("The batch received was empty, your model won't be able to train on it.")
        return {k: (v.to(self.args.device) if isinstance(v, torch.Tensor) else v) for k, v in inputs.items()}

    # ---- optimizer -----------------------------------------------------------------------------------------
    def get_decay_parameter_names(self, model):
        decay_parameters = get_parameter_names(model, ALL_LAYERNORM_LAYERS)
        return [name for name in decay_parameters if "bias" not in name]

    def create_optimizer(self):
        if self.optimizer is None:
            decay_parameters = self.get_decay_parameter_names(self.model)
            optimizer_grouped_parameters = [
                {"params": [p for n, p in self.model.named_parameters() if (n in decay_parameters and p.requires_grad)],
                 "weight_decay": self.args.weight_decay},
                {"params": [p for n, p in self.model.named_parameters() if (n not in decay_parameters and p.requires_grad)],
                 "weight_decay": 0.0},
            ]
            self.optimizer = torch.optim.AdamW(optimizer_grouped_parameters, lr=self.args.learning_rate,
                                               betas=(self.args.adam_beta1, self.args.adam_beta2),
                                               eps=self.args.adam_epsilon)
        return self.optimizer

    def create_scheduler(self, num_training_steps, optimizer=None):
        if self.lr_scheduler is None:
            warmup = self.args.warmup_steps or math.ceil(num_training_steps * self.args.warmup_ratio)
            self.lr_scheduler = get_scheduler(self.args.lr_scheduler_type, optimizer or self.optimizer,
                                              num_warmup_steps=warmup, num_training_steps=num_training_steps)
        return self.lr_scheduler

    def create_optimizer_and_scheduler(self, num_training_steps):
        self.create_optimizer()
        self.create_scheduler(num_training_steps=num_training_steps, optimizer=self.optimizer)

    # ---- loss / step ---------------------------------------------------------------------------------------
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if self.compute_loss_func is not None and "labels" in inputs:
            labels = inputs.pop("labels")
        else:
            labels = None
        outputs = model(**inputs)
        if labels is not None:
            loss = self.compute_loss_func(outputs, labels, num_items_in_batch=num_items_in_batch)
        else:
            if isinstance(outputs, dict) and "loss" not in outputs:
                raise ValueError(
                    "The model did not return a loss from the inputs, only the following keys: "
                    f"{','.join(outputs.keys())}. For reference, the inputs it received are {','.join(inputs.keys())}."
                )
            loss = outputs["loss"] if isinstance(outputs, dict) else outputs[0]
        return (loss, outputs) if return_outputs else loss

    def training_step(self, model, inputs, num_items_in_batch=None):
        model.train()
        inputs = self._prepare_inputs(inputs)
        loss = self.compute_loss(model, inputs, num_items_in_batch=num_items_in_batch)
        if self.args.gradient_accumulation_steps > 1:
            loss = loss / self.args.gradient_accumulation_steps
        self.accelerator.backward(loss)
        return loss.detach()

    def train(self, resume_from_checkpoint=None, **kwargs):
        args = self.args
        train_dataloader = self.get_train_dataloader()
        ga = max(1, args.gradient_accumulation_steps)
        updates_per_epoch = max(len(train_dataloader) // ga, 1)
        if args.max_steps > 0:
            max_steps = args.max_steps
            num_train_epochs = math.ceil(max_steps / updates_per_epoch)
        else:
            num_train_epochs = math.ceil(args.num_train_epochs)
            max_steps = math.ceil(args.num_train_epochs * updates_per_epoch)
        self.create_optimizer_and_scheduler(num_training_steps=max_steps)
        self.state = TrainerState(max_steps=max_steps, num_train_epochs=num_train_epochs)
        model = self.model_wrapped
        self._cb("on_train_begin", train_dataloader=train_dataloader)
        tr_loss, seen = 0.0, 0
        model.zero_grad()
        for epoch in range(num_train_epochs):
            self._cb("on_epoch_begin")
            for step, inputs in enumerate(train_dataloader):
                if step % ga == 0:
                    self._cb("on_step_begin")
                tr_loss_step = self.training_step(model, inputs)
                tr_loss += float(tr_loss_step)
                seen += 1
                if (step + 1) % ga == 0 or (step + 1) == len(train_dataloader):
                    if args.max_grad_norm is not None and args.max_grad_norm > 0:
                        self.accelerator.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                    self._cb("on_pre_optimizer_step")
                    self.optimizer.step()
                    self._cb("on_optimizer_step")
                    self.lr_scheduler.step()
                    model.zero_grad()
                    self.state.global_step += 1
                    self.state.epoch = epoch + (step + 1) / len(train_dataloader)
                    self._cb("on_step_end")
                    if self.state.global_step >= max_steps:
                        break
            self._cb("on_epoch_end")
            if self.state.global_step >= max_steps:
                break
        self._cb("on_train_end")
        train_loss = tr_loss / max(seen, 1)
        self.state.log_history.append({"train_loss": train_loss, "step": self.state.global_step})
        return TrainOutput(self.state.global_step, train_loss, {"train_loss": train_loss})

    def log(self, logs, start_time=None):
        self.state.log_history.append({**logs, "step": self.state.global_step})
        self._cb("on_log", logs=logs)
