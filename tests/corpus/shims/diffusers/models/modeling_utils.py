import torch
from torch import nn

from ..configuration_utils import ConfigMixin


class ModelMixin(nn.Module, ConfigMixin):
    _supports_gradient_checkpointing = False

    def __init__(self):
        super().__init__()

    def __getattr__(self, name):
        # like the real class: config attributes are reachable as model.<name> (with a deprecation warning)
        internal = self.__dict__.get("_internal_dict")
        if internal is not None and name in internal:
            return internal[name]
        return super().__getattr__(name)

    @property
    def device(self):
        for p in self.parameters():
            return p.device
        return torch.device("cpu")

    @property
    def dtype(self):
        for p in self.parameters():
            return p.dtype
        return torch.get_default_dtype()

    def num_parameters(self, only_trainable=False, exclude_embeddings=False):
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not only_trainable)

    def enable_gradient_checkpointing(self):
        pass
