"""Test shim for Hugging Face ``diffusers`` (CPU only; not the real package).

Reproduces what matters for gradient flow: ``ModelMixin`` subclasses ``torch.nn.Module`` (and
``ConfigMixin``); ``@register_to_config`` records the ``__init__`` arguments in ``self.config`` and changes
nothing else; ``DDPMScheduler.add_noise`` is the closed-form forward process (a differentiable function of
its inputs, no parameters); ``training_utils.EMAModel`` keeps detached shadow copies updated under no_grad.
"""
from .configuration_utils import ConfigMixin, FrozenDict, register_to_config
from .models.modeling_utils import ModelMixin
from .schedulers.scheduling_ddpm import DDPMScheduler
from . import optimization, training_utils  # noqa: F401

__version__ = "0.0-shim"

__all__ = ["ConfigMixin", "DDPMScheduler", "FrozenDict", "ModelMixin", "register_to_config"]
