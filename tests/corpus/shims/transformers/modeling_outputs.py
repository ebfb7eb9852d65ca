import dataclasses
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Optional, Tuple


class ModelOutput(OrderedDict):
    """Like transformers.utils.ModelOutput: a dataclass subclass whose non-None fields are dict items.

    Integer indexing goes through ``to_tuple()`` (None fields skipped), string indexing is a key lookup.
    """

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not None:
                self[field.name] = value

    def __getitem__(self, k):
        if isinstance(k, str):
            return dict(self.items())[k]
        return self.to_tuple()[k]

    def __setattr__(self, name, value):
        if name in self.keys() and value is not None:
            super().__setitem__(name, value)
        super().__setattr__(name, value)

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        super().__setattr__(key, value)

    def to_tuple(self) -> Tuple[Any, ...]:
        return tuple(self[k] for k in self.keys())


@dataclass
class BaseModelOutput(ModelOutput):
    last_hidden_state: Any = None
    hidden_states: Optional[Tuple[Any, ...]] = None
    attentions: Optional[Tuple[Any, ...]] = None


@dataclass
class SequenceClassifierOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: Optional[Tuple[Any, ...]] = None
    attentions: Optional[Tuple[Any, ...]] = None


@dataclass
class TokenClassifierOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: Optional[Tuple[Any, ...]] = None
    attentions: Optional[Tuple[Any, ...]] = None


@dataclass
class CausalLMOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: Optional[Tuple[Any, ...]] = None
    attentions: Optional[Tuple[Any, ...]] = None


@dataclass
class MaskedLMOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: Optional[Tuple[Any, ...]] = None
    attentions: Optional[Tuple[Any, ...]] = None
