import functools
import inspect
from collections import OrderedDict


class FrozenDict(OrderedDict):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, value in self.items():
            setattr(self, key, value)
        self.__frozen = True

    def __setitem__(self, name, value):
        if hasattr(self, "__frozen") and self.__frozen:
            raise Exception(f"You cannot use ``__setitem__`` on a {self.__class__.__name__} instance.")
        super().__setitem__(name, value)


class ConfigMixin:
    config_name = "config.json"

    def register_to_config(self, **kwargs):
        internal = dict(getattr(self, "_internal_dict", {}) or {})
        internal.update(kwargs)
        # bypass nn.Module.__setattr__ bookkeeping: a plain attribute like the real implementation
        object.__setattr__(self, "_internal_dict", FrozenDict(internal))

    @property
    def config(self):
        return getattr(self, "_internal_dict", FrozenDict())


def register_to_config(init):
    """Decorator for ``__init__``: after it runs, its (defaulted) keyword arguments land in ``self.config``."""

    @functools.wraps(init)
    def inner_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        signature = inspect.signature(init)
        params = {name: p.default for name, p in signature.parameters.items()
                  if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        for name, value in zip(list(params), args):
            params[name] = value
        params.update({k: v for k, v in kwargs.items() if k in params})
        getattr(self, "register_to_config")(**params)

    return inner_init
