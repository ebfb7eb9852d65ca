"""Test shim for Hugging Face ``transformers`` (CPU only; not the real package).

Only the pieces the gradguard corpus cases import, reproducing the behaviour that matters for gradient
flow (see /work/shared/docs/frameworks.md):

* ``PreTrainedModel`` subclasses ``torch.nn.Module`` and keeps ``self.config``; ``post_init()`` runs
  ``_init_weights`` over the submodules like the real class.
* ``ModelOutput`` (and the usual ``*Output`` dataclasses) is an ordered dict whose non-None fields are also
  attributes; ``outputs[0]`` is the first non-None field, ``outputs["loss"]`` a key lookup.
* ``Trainer.train()`` builds its optimizer when training starts (AdamW over the parameters that have
  ``requires_grad=True`` at that moment, split into decay / no-decay groups), then per batch calls
  ``training_step`` -> ``compute_loss(model, inputs, return_outputs=False, num_items_in_batch=...)`` ->
  ``loss.backward()``; every ``gradient_accumulation_steps`` it clips, steps the optimizer and the
  scheduler and calls ``model.zero_grad()`` (so ``.grad`` is None again after training).
* The default ``compute_loss`` runs ``model(**inputs)`` and takes ``outputs["loss"]`` (dict / ModelOutput;
  a ``ValueError`` when the model returned no loss) or ``outputs[0]`` (tuple).
* ``TrainingArguments`` is a dataclass: unknown keyword arguments raise ``TypeError``.
"""
from .configuration_utils import PretrainedConfig
from .modeling_outputs import (
    BaseModelOutput,
    CausalLMOutput,
    MaskedLMOutput,
    ModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from .modeling_utils import PreTrainedModel
from .optimization import get_constant_schedule, get_linear_schedule_with_warmup, get_scheduler
from .trainer import Trainer
from .trainer_callback import TrainerCallback, TrainerControl, TrainerState
from .trainer_utils import TrainOutput, set_seed
from .training_args import TrainingArguments
from .data.data_collator import DataCollatorWithPadding, default_data_collator

__version__ = "0.0-shim"

__all__ = [
    "BaseModelOutput", "CausalLMOutput", "DataCollatorWithPadding", "MaskedLMOutput", "ModelOutput",
    "PreTrainedModel", "PretrainedConfig", "SequenceClassifierOutput", "TokenClassifierOutput", "TrainOutput",
    "Trainer", "TrainerCallback", "TrainerControl", "TrainerState", "TrainingArguments",
    "default_data_collator", "get_constant_schedule", "get_linear_schedule_with_warmup", "get_scheduler",
    "set_seed",
]
