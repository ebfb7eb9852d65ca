"""GG801 optimizer-before-layer-replaced: a layer of the model is replaced after the optimizer captured its parameters."""
from __future__ import annotations

import ast
import re
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.classes import forward_calls_of, layers_made_by_forward, may_have_parameters, run_by_forward, self_path
from gradguard.core.model import Applicability, Fix, Severity
from gradguard.core.order import mutually_exclusive, position
from gradguard.core.paramnames import single_binding
from gradguard.core.starvation import display_root
from gradguard.core.torchapi import (
    OPTIMIZER_BUILDERS,
    PARAMETER_CTORS,
    PARAMLESS_SUFFIXES,
    RUN_AFTER_OPTIMIZERS,
    STEP_METHODS_BY_FRAMEWORK,
    is_module_ctor,
    is_optimizer_ctor,
)
from gradguard.core.training import constructor_optimizers, hf_trainer_optimizer_builds, lightning_callback_hooks, method_rebuilds, method_steps
from gradguard.fixes import fix, insert_after_stmt, replace_node
from gradguard.rules.base import Example, Rule

_PARAMS_CALL = re.compile(r"parameters\(")
_OPTIMIZER_HINT = re.compile(r"optim|Adam|SGD|RMSprop|Adagrad|Adadelta|LBFGS|Lion|Lamb|Optimizer")


def _dotted(node: ast.AST):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _loops_around(facts, node: ast.AST, before: ast.AST) -> list:
    """The ``for`` / ``while`` loops around ``node`` (in its function) that do not also hold ``before``."""
    out = []
    cur = facts.parent(node)
    while cur is not None and not isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module, ast.Lambda)):
        if isinstance(cur, (ast.For, ast.AsyncFor, ast.While)) and not _within(before, cur):
            out.append(cur)
        cur = facts.parent(cur)
    return out


def _within(node: ast.AST, outer: ast.AST) -> bool:
    return position(outer) <= position(node) and (getattr(node, "end_lineno", 0) or 0) <= (getattr(outer, "end_lineno", 0) or 0)


def _target_root(node: ast.AST):
    """``model.fc`` / ``model.classifier[6]`` -> (``model``, text path)."""
    cur = node
    while isinstance(cur, (ast.Attribute, ast.Subscript)):
        cur = cur.value
    return cur.id if isinstance(cur, ast.Name) else None


# A model with an input-embedding setter and a helper that grows its vocabulary through it (shared by examples).
_TAGGER = """import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(nn.Module):
    def __init__(self, vocab=10):
        super().__init__()
        self.emb = nn.Embedding(vocab, 4)
        self.head = nn.Linear(4, 2)

    def set_input_embeddings(self, value):
        self.emb = value

    def forward(self, ids):
        return self.head(self.emb(ids).mean(1))


def grow_vocab(model, n):
    old = model.emb
    new = nn.Embedding(old.num_embeddings + n, old.embedding_dim)
    with torch.no_grad():
        new.weight[: old.num_embeddings] = old.weight
    model.set_input_embeddings(new)


def fit(model, optimizer, steps=3):
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(torch.randint(0, 12, (8, 5))), torch.randint(0, 2, (8,))).backward()
        optimizer.step()


"""


class OptimizerBeforeLayerReplaced(Rule):
    code = "GG801"
    name = "optimizer-before-layer-replaced"
    summary = "A layer is replaced after the optimizer was built from `model.parameters()`: the new layer's parameters are never updated."
    severity = Severity.WARNING
    needs = ("parameters(", "Trainer")
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags `model.fc = nn.Linear(...)` (or `model.classifier[6] = ...`) when, earlier in the same function,
an optimizer was built from `model.parameters()` and it is stepped afterwards (also in the next iteration of a loop
around the replacement that the optimizer was built before: `if epoch == 0: densify(field)` after the epoch's steps),
without being rebuilt or
given the new parameters (`add_param_group`); handing it to a Hugging Face `Trainer(..., optimizers=(optimizer,
scheduler))` afterwards counts as stepping it (the Trainer steps the optimizer it is given). The replacement may
happen in a helper or method, with the new layer built there first (`fc1 = nn.Linear(...)`, then
`model.fc1, model.fc2 = fc1, fc2`, as structured pruning does), or through a setter of the model that a helper calls
with a layer it built (`model.set_input_embeddings(new)`, whose body is `self.wte = value`, to grow a vocabulary), or
through a method of the model that builds the new layer itself (`bigger = nn.Linear(...)`, then `self.out = bigger`),
also when a method of an object that keeps the model and its optimizer calls it (`trainer.extend_label_set(2)` running
`self.model.add_tags(n)`):
the finding is on the call, the calls it goes through and the assignment related. A new layer that the optimizer
was given as well (`SGD([*model.parameters(), *head.parameters()])`, then `model.set_head(head)`) is not reported.
A parameter replaced the same way is the same bug: a calibration helper that puts a new `nn.Parameter` on the model
(`model.quant.scale = nn.Parameter(observed_max / 127)`) after the optimizer took the old one leaves the new
scale out of every step (calibrate in place instead: `model.quant.scale.copy_(...)` under `torch.no_grad()`).
Also a layer or `nn.Parameter` made in `forward` (`if self.fc is None: self.fc = nn.Linear(...)`, or on every call),
or in a method of the class that `forward` runs (`self.time_embedding(t)` building `self.time_mlp`),
of a Module whose instance's parameters an optimizer took with no forward pass before it (a dry run): the
optimizer never holds the layer made later. A Hugging Face `Trainer` given the model and no optimizer builds its
optimizer when `trainer.train()` starts, before its first forward pass: the same bug, unless the program runs the
model once before `train()`.
Also a layer `forward` uses created in a hook that Lightning runs after `configure_optimizers` built the
optimizers (`on_fit_start`, `on_train_start`, `on_train_epoch_start`, `training_step`...): the optimizers hold
the parameters of the layer it replaced (silent when the file rebuilds or extends the optimizers); the same for a
layer a `Callback`'s hook puts on the module it is given (`pl_module.head = nn.Linear(...)` in `on_fit_start`). And
`model.load_state_dict(state, assign=True)` (directly or in a helper given the model) after the optimizer was built:
`assign=True` makes the checkpoint's tensors the new parameters instead of copying into the old ones. The
runtime proof is in `tests/test_framework_hooks.py`, under the Lightning shim that keeps the framework's order.

## Why is this bad?
An optimizer keeps references to the parameter tensors it was given. Replacing a submodule creates new
parameters the optimizer has never seen: they receive gradients, but `optimizer.step()` never updates
them, so the new head stays at its random initialization (typical when fine-tuning a pretrained model).

## Example
```python
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
model.fc = nn.Linear(512, n_classes)
```

## Use instead
```python
model.fc = nn.Linear(512, n_classes)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
```

## Fix safety
The fix adds `optimizer.add_param_group({"params": model.fc.parameters()})` right after the
replacement: the new parameters are trained with the optimizer's default settings. Moving the
optimizer construction below the replacement is equivalent and may read better.
"""
    examples = (
        Example(
            name="in-file-head-class-built-lazily-after-the-optimizer",
            code="""import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.proj = nn.Linear(d, 2)

    def forward(self, h):
        return self.proj(h)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 6)
        self.head = None

    def forward(self, x):
        h = torch.tanh(self.body(x))
        if self.head is None:
            self.head = Head(h.shape[-1])
        return self.head(h)


def main():
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.randn(2, 4))
    head0 = model.head.proj.weight.detach().clone()
    for _ in range(3):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"head_changed": not torch.equal(head0, model.head.proj.weight)}
""",
            lines=(23,),
            expect={'facts': {'head_changed': False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="in-file-head-class-built-by-a-dry-run-before-the-optimizer",
            code="""import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.proj = nn.Linear(d, 2)

    def forward(self, h):
        return self.proj(h)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 6)
        self.head = None

    def forward(self, x):
        h = torch.tanh(self.body(x))
        if self.head is None:
            self.head = Head(h.shape[-1])
        return self.head(h)


def main():
    torch.manual_seed(0)
    model = Net()
    model(torch.randn(2, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    head0 = model.head.proj.weight.detach().clone()
    for _ in range(3):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"head_changed": not torch.equal(head0, model.head.proj.weight)}
""",
            expect={'facts': {'head_changed': True}},
        ),
        Example(
            name="lightning-callback-rewinds-weights-with-new-parameters",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch import Callback
from torch.utils.data import DataLoader, TensorDataset


def rewind_layer(layer, init):
    layer.weight = nn.Parameter(init.clone())


class Net(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.hidden = nn.ModuleList([nn.Linear(4, 8), nn.Linear(8, 8)])
        self.out = nn.Linear(8, 2)

    def forward(self, x):
        for layer in self.hidden:
            x = F.relu(layer(x))
        return self.out(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class Rewind(Callback):
    def __init__(self):
        self.init = None
        self.starts, self.ends = [], []

    def on_fit_start(self, trainer, pl_module):
        self.init = [layer.weight.detach().clone() for layer in pl_module.hidden]

    def on_train_epoch_start(self, trainer, pl_module):
        self.starts.append(pl_module.hidden[0].weight.detach().clone())

    def on_train_epoch_end(self, trainer, pl_module):
        self.ends.append(pl_module.hidden[0].weight.detach().clone())
        for layer, init in zip(pl_module.hidden, self.init):
            rewind_layer(layer, init)


def main():
    torch.manual_seed(0)
    model = Net()
    cb = Rewind()
    x, y = torch.randn(32, 4), torch.randint(0, 2, (32,))
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, callbacks=[cb]).fit(model, DataLoader(TensorDataset(x, y), batch_size=8))
    return {"model": model}, {"trained_after_rewind": not torch.equal(cb.starts[-1], cb.ends[-1])}
""",
            lines=(10,),
            expect={'facts': {'trained_after_rewind': False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="lightning-callback-rewinds-weights-in-place",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch import Callback
from torch.utils.data import DataLoader, TensorDataset


def rewind_layer(layer, init):
    with torch.no_grad():
        layer.weight.copy_(init)


class Net(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.hidden = nn.ModuleList([nn.Linear(4, 8), nn.Linear(8, 8)])
        self.out = nn.Linear(8, 2)

    def forward(self, x):
        for layer in self.hidden:
            x = F.relu(layer(x))
        return self.out(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class Rewind(Callback):
    def __init__(self):
        self.init = None
        self.starts, self.ends = [], []

    def on_fit_start(self, trainer, pl_module):
        self.init = [layer.weight.detach().clone() for layer in pl_module.hidden]

    def on_train_epoch_start(self, trainer, pl_module):
        self.starts.append(pl_module.hidden[0].weight.detach().clone())

    def on_train_epoch_end(self, trainer, pl_module):
        self.ends.append(pl_module.hidden[0].weight.detach().clone())
        for layer, init in zip(pl_module.hidden, self.init):
            rewind_layer(layer, init)


def main():
    torch.manual_seed(0)
    model = Net()
    cb = Rewind()
    x, y = torch.randn(32, 4), torch.randint(0, 2, (32,))
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, callbacks=[cb]).fit(model, DataLoader(TensorDataset(x, y), batch_size=8))
    return {"model": model}, {"trained_after_rewind": not torch.equal(cb.starts[-1], cb.ends[-1])}
""",
            expect={'facts': {'trained_after_rewind': True}},
        ),
        Example(
            name="decoder-from-a-factory-swapped-in-after-the-optimizer",
            code="""import torch
import torch.nn as nn


class DotDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, h):
        return self.scale * h.sum(-1)


class MLPDecoder(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 1))

    def forward(self, h):
        return self.mlp(h).squeeze(-1)


class LinkPredictor(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.encoder = nn.Linear(d, d)
        self.decoder = DotDecoder()

    def forward(self, x):
        return self.decoder(self.encoder(x))


def build_decoder(kind, d=4):
    return MLPDecoder(d) if kind == "mlp" else DotDecoder()


def main():
    torch.manual_seed(0)
    model = LinkPredictor()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.decoder = build_decoder("mlp")
    dec0 = model.decoder.mlp[0].weight.detach().clone()
    for _ in range(3):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"decoder_changed": not torch.equal(dec0, model.decoder.mlp[0].weight)}
""",
            lines=(41,),
            expect={'grad_ok': ['model.decoder.mlp.0.weight'], 'facts': {'decoder_changed': False}},
            fixed_expect={'facts': {'decoder_changed': True}},
        ),
        Example(
            bad=False,
            name="decoder-from-a-factory-swapped-in-before-the-optimizer",
            code="""import torch
import torch.nn as nn


class DotDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, h):
        return self.scale * h.sum(-1)


class MLPDecoder(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 1))

    def forward(self, h):
        return self.mlp(h).squeeze(-1)


class LinkPredictor(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.encoder = nn.Linear(d, d)
        self.decoder = DotDecoder()

    def forward(self, x):
        return self.decoder(self.encoder(x))


def build_decoder(kind, d=4):
    return MLPDecoder(d) if kind == "mlp" else DotDecoder()


def main():
    torch.manual_seed(0)
    model = LinkPredictor()
    model.decoder = build_decoder("mlp")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    dec0 = model.decoder.mlp[0].weight.detach().clone()
    for _ in range(3):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"decoder_changed": not torch.equal(dec0, model.decoder.mlp[0].weight)}
""",
            expect={'facts': {'decoder_changed': True}},
        ),
        Example(
            name="trainer-method-grows-the-model-head-through-a-model-method-after-the-optimizer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(nn.Module):
    def __init__(self, vocab, n_tags):
        super().__init__()
        self.embed = nn.Embedding(vocab, 8)
        self.out = nn.Linear(8, n_tags)

    def add_tags(self, n_new):
        old = self.out
        bigger = nn.Linear(old.in_features, old.out_features + n_new)
        with torch.no_grad():
            bigger.weight[: old.out_features] = old.weight
            bigger.bias[: old.out_features] = old.bias
        self.out = bigger

    def forward(self, tokens):
        return self.out(self.embed(tokens).mean(1))


class TaggerTrainer:
    def __init__(self, model, lr=1e-2):
        self.model, self.lr = model, lr
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def extend_label_set(self, n_new):
        self.model.add_tags(n_new)

    def step(self, tokens, tags):
        loss = F.cross_entropy(self.model(tokens), tags)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()


def main():
    torch.manual_seed(0)
    model = Tagger(vocab=50, n_tags=4)
    trainer = TaggerTrainer(model)
    trainer.step(torch.randint(0, 50, (8, 5)), torch.randint(0, 4, (8,)))
    trainer.extend_label_set(2)
    before = model.out.weight.detach().clone()
    trainer.step(torch.randint(0, 50, (8, 5)), torch.randint(0, 6, (8,)))
    return {"model": model}, {"new_head_changed": not torch.equal(before, model.out.weight)}
""",
            lines=(44,),
            expect={"facts": {"new_head_changed": False}},
            fixable=False,
        ),
        Example(
            name="trainer-method-grows-the-model-head-and-rebuilds-its-optimizer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(nn.Module):
    def __init__(self, vocab, n_tags):
        super().__init__()
        self.embed = nn.Embedding(vocab, 8)
        self.out = nn.Linear(8, n_tags)

    def add_tags(self, n_new):
        old = self.out
        bigger = nn.Linear(old.in_features, old.out_features + n_new)
        with torch.no_grad():
            bigger.weight[: old.out_features] = old.weight
            bigger.bias[: old.out_features] = old.bias
        self.out = bigger

    def forward(self, tokens):
        return self.out(self.embed(tokens).mean(1))


class TaggerTrainer:
    def __init__(self, model, lr=1e-2):
        self.model, self.lr = model, lr
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def extend_label_set(self, n_new):
        self.model.add_tags(n_new)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.lr)

    def step(self, tokens, tags):
        loss = F.cross_entropy(self.model(tokens), tags)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()


def main():
    torch.manual_seed(0)
    model = Tagger(vocab=50, n_tags=4)
    trainer = TaggerTrainer(model)
    trainer.step(torch.randint(0, 50, (8, 5)), torch.randint(0, 4, (8,)))
    trainer.extend_label_set(2)
    before = model.out.weight.detach().clone()
    trainer.step(torch.randint(0, 50, (8, 5)), torch.randint(0, 6, (8,)))
    return {"model": model}, {"new_head_changed": not torch.equal(before, model.out.weight)}
""",
            bad=False,
            expect={"facts": {"new_head_changed": True}},
        ),
        Example(
            name="worker-syncs-by-replacing-the-model-its-optimizer-holds",
            code="""import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class Worker:
    def __init__(self, model, lr=0.1):
        self.lr = lr
        self.model = model
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr)

    def sync(self, reference):
        self.model = copy.deepcopy(reference)

    def train_step(self, x, y):
        loss = F.mse_loss(self.model(x), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()


def main():
    torch.manual_seed(0)
    shared = nn.Linear(4, 1)
    w0 = shared.weight.detach().clone()
    worker = Worker(copy.deepcopy(shared))
    for _ in range(3):
        worker.sync(shared)
        worker.train_step(torch.randn(8, 4), torch.randn(8, 1))
        with torch.no_grad():
            shared.weight.copy_(worker.model.weight)
    return {"model": worker.model}, {"shared_trained": not torch.equal(w0, shared.weight)}
""",
            lines=(15,),
            expect={"facts": {"shared_trained": False}},
            fixed_expect={"facts": {"shared_trained": True}},
        ),
        Example(
            bad=False,
            name="worker-syncs-by-replacing-the-model-and-rebuilds-its-optimizer",
            code="""import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class Worker:
    def __init__(self, model, lr=0.1):
        self.lr = lr
        self.model = model
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr)

    def sync(self, reference):
        self.model = copy.deepcopy(reference)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=self.lr)

    def train_step(self, x, y):
        loss = F.mse_loss(self.model(x), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()


def main():
    torch.manual_seed(0)
    shared = nn.Linear(4, 1)
    w0 = shared.weight.detach().clone()
    worker = Worker(copy.deepcopy(shared))
    for _ in range(3):
        worker.sync(shared)
        worker.train_step(torch.randn(8, 4), torch.randn(8, 1))
        with torch.no_grad():
            shared.weight.copy_(worker.model.weight)
    return {"model": worker.model}, {"shared_trained": not torch.equal(w0, shared.weight)}
""",
            expect={"facts": {"shared_trained": True}},
        ),
        Example(
            name="lightning-head-made-in-on-fit-start-after-configure-optimizers",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Detector(pl.LightningModule):
    def __init__(self, num_classes=3):
        super().__init__()
        self.encoder = nn.Linear(4, 8)
        self.fuse = nn.Linear(8, 8)
        self.classifier = nn.Linear(8, 1)
        self.num_classes = num_classes

    def on_fit_start(self):
        self.classifier = nn.Linear(8, self.num_classes)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.classifier(torch.relu(self.fuse(self.encoder(x)))), y)

    def configure_optimizers(self):
        params = set(self.parameters()).difference(self.encoder.parameters())
        return torch.optim.SGD(params, lr=0.1)


def main():
    torch.manual_seed(0)
    x, y = torch.randn(12, 4), torch.randint(0, 3, (12,))
    model = Detector()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(TensorDataset(x, y), batch_size=4))
    held = any(p is model.classifier.weight for g in model.optimizers().param_groups for p in g["params"])
    return {"model": model}, {"head_in_optimizer": held}
""",
            lines=(17,),
            expect={"facts": {"head_in_optimizer": False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="lightning-head-made-in-configure-model-before-configure-optimizers",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Detector(pl.LightningModule):
    def __init__(self, num_classes=3):
        super().__init__()
        self.encoder = nn.Linear(4, 8)
        self.fuse = nn.Linear(8, 8)
        self.classifier = nn.Linear(8, 1)
        self.num_classes = num_classes

    def configure_model(self):
        self.classifier = nn.Linear(8, self.num_classes)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.classifier(torch.relu(self.fuse(self.encoder(x)))), y)

    def configure_optimizers(self):
        params = set(self.parameters()).difference(self.encoder.parameters())
        return torch.optim.SGD(params, lr=0.1)


def main():
    torch.manual_seed(0)
    x, y = torch.randn(12, 4), torch.randint(0, 3, (12,))
    model = Detector()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(TensorDataset(x, y), batch_size=4))
    held = any(p is model.classifier.weight for g in model.optimizers().param_groups for p in g["params"])
    return {"model": model}, {"head_in_optimizer": held}
""",
            expect={"facts": {"head_in_optimizer": True}},
        ),
        Example(
            name="helper-swaps-in-a-pruned-layer-built-in-a-local",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(F.relu(self.fc1(x)))


@torch.no_grad()
def prune(model, keep):
    fc1 = nn.Linear(6, len(keep))
    fc1.weight.copy_(model.fc1.weight[keep])
    head = nn.Linear(len(keep), 2)
    head.weight.copy_(model.head.weight[:, keep])
    model.fc1, model.head = fc1, head


def main():
    torch.manual_seed(0)
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    prune(model, [0, 2, 4, 6])
    start = model.fc1.weight.detach().clone()
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(model(torch.randn(8, 6)), torch.randint(0, 2, (8,))).backward()
        optimizer.step()
    return {"model": model}, {"fc1_changed": not torch.equal(start, model.fc1.weight)}
""",
            lines=(29,),
            expect={"grad_ok": ["model.fc1.weight"], "facts": {"fc1_changed": False}},
            fixed_expect={"facts": {"fc1_changed": True}},
        ),
        Example(
            bad=False,
            name="helper-swaps-in-a-pruned-layer-before-the-optimizer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(F.relu(self.fc1(x)))


@torch.no_grad()
def prune(model, keep):
    fc1 = nn.Linear(6, len(keep))
    fc1.weight.copy_(model.fc1.weight[keep])
    head = nn.Linear(len(keep), 2)
    head.weight.copy_(model.head.weight[:, keep])
    model.fc1, model.head = fc1, head


def main():
    torch.manual_seed(0)
    model = MLP()
    prune(model, [0, 2, 4, 6])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    start = model.fc1.weight.detach().clone()
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(model(torch.randn(8, 6)), torch.randint(0, 2, (8,))).backward()
        optimizer.step()
    return {"model": model}, {"fc1_changed": not torch.equal(start, model.fc1.weight)}
""",
            expect={"facts": {"fc1_changed": True}},
        ),
        Example(
            name="calibration-helper-puts-a-new-scale-parameter-after-the-optimizer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class FakeQuant(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        q = torch.clamp(x / self.scale, -127, 127)
        return ((q.round() - q).detach() + q) * self.scale


class QuantMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(6, 8), nn.Linear(8, 2)
        self.quant = FakeQuant()

    def forward(self, x):
        return self.fc2(self.quant(F.relu(self.fc1(x))))


@torch.no_grad()
def calibrate(model, x):
    observed = F.relu(model.fc1(x)).abs().max()
    model.quant.scale = nn.Parameter(observed.reshape(1) / 127)


def main():
    torch.manual_seed(0)
    model = QuantMLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    calibrate(model, torch.randn(16, 6))
    start = model.quant.scale.detach().clone()
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(model(torch.randn(8, 6)), torch.randint(0, 2, (8,))).backward()
        optimizer.step()
    return {"model": model}, {"scale_changed": not torch.equal(start, model.quant.scale)}
""",
            lines=(36,),
            expect={"grad_ok": ["model.quant.scale"], "facts": {"scale_changed": False}},
            fixed_expect={"facts": {"scale_changed": True}},
        ),
        Example(
            bad=False,
            name="calibration-helper-copies-the-scale-into-the-parameter",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class FakeQuant(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        q = torch.clamp(x / self.scale, -127, 127)
        return ((q.round() - q).detach() + q) * self.scale


class QuantMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(6, 8), nn.Linear(8, 2)
        self.quant = FakeQuant()

    def forward(self, x):
        return self.fc2(self.quant(F.relu(self.fc1(x))))


@torch.no_grad()
def calibrate(model, x):
    observed = F.relu(model.fc1(x)).abs().max()
    model.quant.scale.copy_(observed.reshape(1) / 127)


def main():
    torch.manual_seed(0)
    model = QuantMLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    calibrate(model, torch.randn(16, 6))
    start = model.quant.scale.detach().clone()
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(model(torch.randn(8, 6)), torch.randint(0, 2, (8,))).backward()
        optimizer.step()
    return {"model": model}, {"scale_changed": not torch.equal(start, model.quant.scale)}
""",
            expect={"grad_ok": ["model.quant.scale"], "facts": {"scale_changed": True}},
        ),
        Example(
            name="head-replaced-after-the-optimizer-handed-to-the-hf-trainer",
            code="""import torch
import torch.nn as nn
from transformers import Trainer, TrainingArguments, get_constant_schedule


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x=None, labels=None):
        logits = self.head(torch.relu(self.body(x)))
        return {"loss": nn.functional.cross_entropy(logits, labels), "logits": logits}


def main():
    torch.manual_seed(0)
    model = Classifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.head = nn.Linear(8, 2)
    rows = [{"x": torch.randn(4), "labels": torch.tensor(i % 2)} for i in range(16)]
    args = TrainingArguments(output_dir="tmp_gg801", num_train_epochs=1, per_device_train_batch_size=8, report_to="none")
    Trainer(model=model, args=args, train_dataset=rows, optimizers=(optimizer, get_constant_schedule(optimizer))).train()
    held = any(p is model.head.weight for g in optimizer.param_groups for p in g["params"])
    return {"model": model}, {"head_in_optimizer": held}
""",
            lines=(21,),
            expect={"facts": {"head_in_optimizer": False}},
            fixed_expect={"facts": {"head_in_optimizer": True}},
        ),
        Example(
            bad=False,
            name="head-replaced-before-the-optimizer-handed-to-the-hf-trainer",
            code="""import torch
import torch.nn as nn
from transformers import Trainer, TrainingArguments, get_constant_schedule


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x=None, labels=None):
        logits = self.head(torch.relu(self.body(x)))
        return {"loss": nn.functional.cross_entropy(logits, labels), "logits": logits}


def main():
    torch.manual_seed(0)
    model = Classifier()
    model.head = nn.Linear(8, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    rows = [{"x": torch.randn(4), "labels": torch.tensor(i % 2)} for i in range(16)]
    args = TrainingArguments(output_dir="tmp_gg801", num_train_epochs=1, per_device_train_batch_size=8, report_to="none")
    Trainer(model=model, args=args, train_dataset=rows, optimizers=(optimizer, get_constant_schedule(optimizer))).train()
    held = any(p is model.head.weight for g in optimizer.param_groups for p in g["params"])
    return {"model": model}, {"head_in_optimizer": held}
""",
            expect={"facts": {"head_in_optimizer": True}},
        ),
        Example(
            name="head-made-on-the-first-forward",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.n_classes = n_classes
        self.features = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = None

    def forward(self, x):
        x = torch.flatten(F.relu(self.features(x)), 1)
        if self.fc is None:
            self.fc = nn.Linear(x.size(1), self.n_classes)
        return self.fc(x)


def main():
    torch.manual_seed(0)
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(6, 1, 4, 4), torch.randint(0, 3, (6,))
    loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    w0 = model.fc.weight.detach().clone()
    optimizer.step()
    return {"model": model}, {"fc_changed": not torch.equal(w0, model.fc.weight.detach())}
""",
            lines=(16,),
            expect={"grad_ok": ["model.fc.weight"], "facts": {"fc_changed": False}},
            fixable=False,
        ),
        Example(
            name="conditioning-mlp-made-in-a-method-forward-runs",
            code="""import torch
import torch.nn as nn


class Denoiser(nn.Module):
    def __init__(self, d=4, t_dim=6):
        super().__init__()
        self.inp = nn.Linear(d, 8)
        self.out = nn.Linear(8, d)
        self.t_dim = t_dim

    def embed_time(self, t):
        self.time_mlp = nn.Sequential(nn.Linear(self.t_dim, 8), nn.SiLU())
        return self.time_mlp(t[:, None].float().expand(-1, self.t_dim))

    def forward(self, x, t):
        return self.out(self.inp(x) + self.embed_time(t))


def main():
    torch.manual_seed(0)
    model = Denoiser()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, t = torch.randn(5, 4), torch.randint(0, 10, (5,))
    loss = (model(x, t) - x).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    held = {id(p) for g in optimizer.param_groups for p in g["params"]}
    return {"model": model}, {"time_mlp_in_optimizer": any(id(p) in held for p in model.time_mlp.parameters())}
""",
            lines=(13,),
            expect={"grad_ok": ["model.inp.weight", "model.time_mlp.0.weight"], "facts": {"time_mlp_in_optimizer": False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="conditioning-mlp-made-once-by-a-method-init-runs",
            code="""import torch
import torch.nn as nn


class Denoiser(nn.Module):
    def __init__(self, d=4, t_dim=6):
        super().__init__()
        self.inp = nn.Linear(d, 8)
        self.out = nn.Linear(8, d)
        self.t_dim = t_dim
        self.build_time_mlp()

    def build_time_mlp(self):
        self.time_mlp = nn.Sequential(nn.Linear(self.t_dim, 8), nn.SiLU())

    def embed_time(self, t):
        return self.time_mlp(t[:, None].float().expand(-1, self.t_dim))

    def forward(self, x, t):
        return self.out(self.inp(x) + self.embed_time(t))


def main():
    torch.manual_seed(0)
    model = Denoiser()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, t = torch.randn(5, 4), torch.randint(0, 10, (5,))
    loss = (model(x, t) - x).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    held = {id(p) for g in optimizer.param_groups for p in g["params"]}
    return {"model": model}, {"time_mlp_in_optimizer": all(id(p) in held for p in model.time_mlp.parameters())}
""",
            expect={"grad_ok": ["model.inp.weight", "model.time_mlp.0.weight"], "facts": {"time_mlp_in_optimizer": True}},
        ),
        Example(
            name="submodule-weight-rewrapped-as-a-new-parameter-in-forward",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class CosineHead(nn.Module):
    def __init__(self, d=4, n=3):
        super().__init__()
        self.linear = nn.Linear(d, n, bias=False)

    def forward(self, x):
        self.linear.weight = nn.Parameter(F.normalize(self.linear.weight, dim=1))
        return 8.0 * self.linear(F.normalize(x, dim=1))


def main():
    torch.manual_seed(0)
    head = CosineHead()
    held = head.linear.weight
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
    w0 = held.detach().clone()
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(head(torch.randn(6, 4)), torch.arange(6) % 3).backward()
        optimizer.step()
    return {"held": held}, {"held_weight_changed": not torch.equal(w0, held)}
""",
            lines=(12,),
            expect={"grad_none": ["held"], "facts": {"held_weight_changed": False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="submodule-weight-renormalized-in-place-without-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class CosineHead(nn.Module):
    def __init__(self, d=4, n=3):
        super().__init__()
        self.linear = nn.Linear(d, n, bias=False)

    def forward(self, x):
        with torch.no_grad():
            self.linear.weight.copy_(F.normalize(self.linear.weight, dim=1))
        return 8.0 * self.linear(F.normalize(x, dim=1))


def main():
    torch.manual_seed(0)
    head = CosineHead()
    held = head.linear.weight
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
    w0 = held.detach().clone()
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(head(torch.randn(6, 4)), torch.arange(6) % 3).backward()
        optimizer.step()
    return {"held": held}, {"held_weight_changed": not torch.equal(w0, held)}
""",
            expect={"grad_ok": ["held"], "facts": {"held_weight_changed": True}},
        ),
        Example(
            name="head-moved-to-the-device-on-the-first-forward-param-groups-built-before",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.n_classes = n_classes
        self.features = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = None

    def forward(self, x):
        x = torch.flatten(F.relu(self.features(x)), 1)
        if self.fc is None:
            self.fc = nn.Linear(x.size(1), self.n_classes).to(x.device)
        return self.fc(x)


def build_optimizer(model):
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    rest = [p for n, p in model.named_parameters() if p.ndim <= 1]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=0.1)


def main():
    torch.manual_seed(0)
    model = Classifier()
    optimizer = build_optimizer(model)
    x, y = torch.randn(6, 1, 4, 4), torch.randint(0, 3, (6,))
    loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    w0 = model.fc.weight.detach().clone()
    optimizer.step()
    return {"model": model}, {"fc_changed": not torch.equal(w0, model.fc.weight.detach())}
""",
            lines=(16,),
            expect={"grad_ok": ["model.fc.weight"], "facts": {"fc_changed": False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="head-made-by-a-dry-run-before-the-optimizer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.n_classes = n_classes
        self.features = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = None

    def forward(self, x):
        x = torch.flatten(F.relu(self.features(x)), 1)
        if self.fc is None:
            self.fc = nn.Linear(x.size(1), self.n_classes)
        return self.fc(x)


def main():
    torch.manual_seed(0)
    model = Classifier()
    model(torch.zeros(1, 1, 4, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(6, 1, 4, 4), torch.randint(0, 3, (6,))
    loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    w0 = model.fc.weight.detach().clone()
    optimizer.step()
    return {"model": model}, {"fc_changed": not torch.equal(w0, model.fc.weight.detach())}
""",
            expect={"grad_ok": ["model.fc.weight"], "facts": {"fc_changed": True}},
        ),
        Example(
            name="adapters-injected-by-setattr-after-optimizer",
            code="""import torch
import torch.nn as nn


class LoRALinear(nn.Module):
    def __init__(self, base, rank=2):
        super().__init__()
        self.base = base
        self.lora_A = nn.Parameter(torch.randn(rank, base.in_features) * 0.1)
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x):
        return self.base(x) + x @ self.lora_A.t() @ self.lora_B.t()


class Block(nn.Module):
    def __init__(self, dim=4):
        super().__init__()
        self.q, self.v = nn.Linear(dim, dim), nn.Linear(dim, dim)

    def forward(self, x):
        return x + self.q(x) * self.v(x)


def inject_lora(model):
    for block in model:
        for name in ("q", "v"):
            setattr(block, name, LoRALinear(getattr(block, name)))


def main():
    torch.manual_seed(0)
    model = nn.Sequential(Block(), Block())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    inject_lora(model)
    for _ in range(2):
        opt.zero_grad()
        model(torch.randn(3, 4)).pow(2).mean().backward()
        opt.step()
    return {"model": model}, {"lora_B_trained": bool(model[0].q.lora_B.abs().sum() > 0)}
""",
            lines=(35,),
            expect={"facts": {"lora_B_trained": False}},
        ),
        Example(
            bad=False,
            name="adapters-injected-before-optimizer",
            code="""import torch
import torch.nn as nn


class LoRALinear(nn.Module):
    def __init__(self, base, rank=2):
        super().__init__()
        self.base = base
        self.lora_A = nn.Parameter(torch.randn(rank, base.in_features) * 0.1)
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x):
        return self.base(x) + x @ self.lora_A.t() @ self.lora_B.t()


class Block(nn.Module):
    def __init__(self, dim=4):
        super().__init__()
        self.q, self.v = nn.Linear(dim, dim), nn.Linear(dim, dim)

    def forward(self, x):
        return x + self.q(x) * self.v(x)


def inject_lora(model):
    for block in model:
        for name in ("q", "v"):
            setattr(block, name, LoRALinear(getattr(block, name)))


def main():
    torch.manual_seed(0)
    model = nn.Sequential(Block(), Block())
    inject_lora(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        model(torch.randn(3, 4)).pow(2).mean().backward()
        opt.step()
    return {"model": model}, {"lora_B_trained": bool(model[0].q.lora_B.abs().sum() > 0)}
""",
            expect={"facts": {"lora_B_trained": True}},
        ),
        Example(
            name="head-swapped-by-a-method-after-the-optimizer",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, 10)

    def reset_classifier(self, n):
        self.head = nn.Linear(8, n)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))


def make_optimizer(model):
    return torch.optim.SGD(model.parameters(), lr=0.1)


def fit(model, optimizer):
    for _ in range(3):
        optimizer.zero_grad()
        model(torch.randn(8, 4)).pow(2).mean().backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = Net()
    optimizer = make_optimizer(model)
    model.reset_classifier(3)
    w0 = model.head.weight.detach().clone()
    fit(model, optimizer)
    return {"model": model}, {"head_changed": not torch.equal(w0, model.head.weight.detach())}
""",
            lines=(33,),
            fixable=False,
            expect={"facts": {"head_changed": False}},
        ),
        Example(
            name="head-swapped-through-dataparallel-after-param-groups",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, n=10):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.fc = nn.Linear(8, n)

    def forward(self, x):
        return self.fc(torch.relu(self.body(x)))


def build_model():
    return nn.DataParallel(Net())


def build_optimizer(model):
    groups = [{"params": model.module.body.parameters(), "lr": 0.01}, {"params": model.module.fc.parameters()}]
    return torch.optim.SGD(groups, lr=0.1)


def reset_classifier(model, n):
    net = model.module if isinstance(model, nn.DataParallel) else model
    net.fc = nn.Linear(8, n)


def main():
    torch.manual_seed(0)
    model = build_model()
    optimizer = build_optimizer(model)
    reset_classifier(model, 3)
    before = model.module.fc.weight.detach().clone()
    for _ in range(3):
        optimizer.zero_grad()
        model(torch.randn(8, 4)).pow(2).mean().backward()
        optimizer.step()
    return {"model": model}, {"new_fc_changed": not torch.equal(before, model.module.fc.weight.detach())}
""",
            lines=(33,),
            expect={"facts": {"new_fc_changed": False}},
            fixed_expect={"facts": {"new_fc_changed": True}},
        ),
        Example(
            bad=False,
            name="head-swapped-through-dataparallel-before-the-optimizer",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, n=10):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.fc = nn.Linear(8, n)

    def forward(self, x):
        return self.fc(torch.relu(self.body(x)))


def build_model():
    return nn.DataParallel(Net())


def build_optimizer(model):
    groups = [{"params": model.module.body.parameters(), "lr": 0.01}, {"params": model.module.fc.parameters()}]
    return torch.optim.SGD(groups, lr=0.1)


def reset_classifier(model, n):
    net = model.module if hasattr(model, "module") else model
    net.fc = nn.Linear(8, n)


def main():
    torch.manual_seed(0)
    model = build_model()
    reset_classifier(model, 3)
    optimizer = build_optimizer(model)
    before = model.module.fc.weight.detach().clone()
    for _ in range(3):
        optimizer.zero_grad()
        model(torch.randn(8, 4)).pow(2).mean().backward()
        optimizer.step()
    return {"model": model}, {"new_fc_changed": not torch.equal(before, model.module.fc.weight.detach())}
""",
            expect={"facts": {"new_fc_changed": True}},
        ),
        Example(
            name="replace-head-after-optimizer",
            code="""import torch
import torch.nn as nn


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(6, 12)
        self.head = nn.Linear(12, 5)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))


def main():
    torch.manual_seed(0)
    net = Backbone()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    net.head = nn.Linear(12, 2)
    h0 = net.head.weight.detach().clone()
    for _ in range(2):
        loss = nn.functional.cross_entropy(net(torch.randn(8, 6)), torch.randint(0, 2, (8,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"net": net}, {"head_changed": not torch.equal(h0, net.head.weight.detach())}
""",
            lines=(19,),
            expect={"grad_ok": ["net.head.weight"], "facts": {"head_changed": False}},
        ),
        Example(
            name="replace-inside-sequential",
            code="""import torch
from torch import nn


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4))
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    model[2] = nn.Linear(4, 1)
    w0 = model[2].weight.detach().clone()
    sgd.zero_grad()
    model(torch.randn(5, 3)).pow(2).mean().backward()
    sgd.step()
    return {"model": model}, {"last_changed": not torch.equal(w0, model[2].weight.detach())}
""",
            lines=(9,),
            expect={"grad_ok": ["model.2.weight"], "facts": {"last_changed": False}},
        ),
        Example(
            bad=False,
            name="replace-then-build-optimizer",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4))
    probe = torch.optim.SGD(model.parameters(), lr=0.1)
    model[2] = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    model(torch.randn(5, 3)).pow(2).mean().backward()
    opt.step()
    model.act = nn.ReLU()
    return {"model": model}
""",
            expect={"grad_ok": ["model.2.weight"]},
        ),
        Example(
            name="trainer-constructor-builds-optimizer-then-a-method-swaps-the-head",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, n=10):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, n)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))


class Trainer:
    def __init__(self, model):
        self.model = model
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1)

    def replace_head(self, n):
        self.model.head = nn.Linear(8, n)

    def fit(self, steps=3):
        for _ in range(steps):
            self.optimizer.zero_grad()
            self.model(torch.randn(8, 4)).pow(2).mean().backward()
            self.optimizer.step()


def main():
    torch.manual_seed(0)
    trainer = Trainer(Net())
    trainer.replace_head(3)
    before = trainer.model.head.weight.detach().clone()
    trainer.fit()
    return {"model": trainer.model}, {"head_changed": not torch.equal(before, trainer.model.head.weight.detach())}
""",
            lines=(33,),
            fixable=False,
            expect={"facts": {"head_changed": False}},
        ),
        Example(
            bad=False,
            name="trainer-method-swaps-the-head-and-rebuilds-the-optimizer",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, n=10):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, n)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))


class Trainer:
    def __init__(self, model):
        self.model = model
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1)

    def replace_head(self, n):
        self.model.head = nn.Linear(8, n)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1)

    def fit(self, steps=3):
        for _ in range(steps):
            self.optimizer.zero_grad()
            self.model(torch.randn(8, 4)).pow(2).mean().backward()
            self.optimizer.step()


def main():
    torch.manual_seed(0)
    trainer = Trainer(Net())
    trainer.replace_head(3)
    before = trainer.model.head.weight.detach().clone()
    trainer.fit()
    return {"model": trainer.model}, {"head_changed": not torch.equal(before, trainer.model.head.weight.detach())}
""",
            expect={"facts": {"head_changed": True}, "grad_ok": ["model.head.weight"]},
        ),
        Example(
            name="helper-grows-the-vocabulary-through-the-model-setter-after-the-optimizer",
            code=_TAGGER + """def main():
    torch.manual_seed(0)
    model = Tagger()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    grow_vocab(model, 2)
    before = model.emb.weight.detach().clone()
    fit(model, optimizer)
    return {"model": model}, {"emb_changed": not torch.equal(before, model.emb.weight)}
""",
            expect={"facts": {"emb_changed": False}, "grad_ok": ["model.emb.weight"]},
            lines=(38,),
            fixed_expect={"facts": {"emb_changed": True}},
        ),
        Example(
            bad=False,
            name="setter-given-a-layer-the-optimizer-already-holds",
            code=_TAGGER + """def main():
    torch.manual_seed(0)
    model = Tagger()
    extra = nn.Embedding(12, 4)
    optimizer = torch.optim.SGD([*model.parameters(), *extra.parameters()], lr=0.1)
    model.set_input_embeddings(extra)
    before = model.emb.weight.detach().clone()
    fit(model, optimizer)
    return {"model": model}, {"emb_changed": not torch.equal(before, model.emb.weight)}
""",
            expect={"facts": {"emb_changed": True}, "grad_ok": ["model.emb.weight"]},
        ),
        Example(
            bad=False,
            name="vocabulary-grown-through-the-setter-before-the-optimizer",
            code=_TAGGER + """def main():
    torch.manual_seed(0)
    model = Tagger()
    grow_vocab(model, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.emb.weight.detach().clone()
    fit(model, optimizer)
    return {"model": model}, {"emb_changed": not torch.equal(before, model.emb.weight)}
""",
            expect={"facts": {"emb_changed": True}, "grad_ok": ["model.emb.weight"]},
        ),
        Example(
            name="hf-trainer-head-made-on-the-first-forward",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyConfig(PretrainedConfig):
    model_type = "tiny-lazy"

    def __init__(self, dim=8, num_labels=2, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.dim = dim


class LazyHeadClassifier(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = nn.Sequential(nn.Linear(config.dim, 2 * config.dim), nn.Tanh())
        self.head = None
        self.post_init()

    def _build_head(self, feats):
        self.head = nn.Linear(feats.shape[-1], self.config.num_labels)

    def forward(self, x, labels=None):
        feats = self.encoder(x)
        if self.head is None:
            self._build_head(feats)
        logits = self.head(feats)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def main():
    torch.manual_seed(0)
    model = LazyHeadClassifier(TinyConfig())
    data = [{"x": torch.randn(8), "labels": i % 2} for i in range(16)]
    args = TrainingArguments(output_dir="/tmp/gg801-lazy", per_device_train_batch_size=8, num_train_epochs=2, learning_rate=0.1, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=data)
    trainer.train()
    return {}, {"head_in_optimizer": any(p is model.head.weight for g in trainer.optimizer.param_groups for p in g["params"])}
""",
            lines=(26,),
            fixable=False,
            expect={"facts": {"head_in_optimizer": False}},
        ),
        Example(
            name="hf-trainer-head-made-by-a-dry-run-before-train",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyConfig(PretrainedConfig):
    model_type = "tiny-lazy"

    def __init__(self, dim=8, num_labels=2, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.dim = dim


class LazyHeadClassifier(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = nn.Sequential(nn.Linear(config.dim, 2 * config.dim), nn.Tanh())
        self.head = None
        self.post_init()

    def _build_head(self, feats):
        self.head = nn.Linear(feats.shape[-1], self.config.num_labels)

    def forward(self, x, labels=None):
        feats = self.encoder(x)
        if self.head is None:
            self._build_head(feats)
        logits = self.head(feats)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def main():
    torch.manual_seed(0)
    model = LazyHeadClassifier(TinyConfig())
    data = [{"x": torch.randn(8), "labels": i % 2} for i in range(16)]
    model(torch.randn(2, 8))  # a dry run builds the head before the Trainer builds its optimizer
    args = TrainingArguments(output_dir="/tmp/gg801-lazy", per_device_train_batch_size=8, num_train_epochs=2, learning_rate=0.1, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=data)
    trainer.train()
    return {}, {"head_in_optimizer": any(p is model.head.weight for g in trainer.optimizer.param_groups for p in g["params"])}
""",
            expect={"facts": {"head_in_optimizer": True}},
        ),
        Example(
            name="lightning-callback-replaces-the-head-in-on-fit-start",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch import Callback
from torch.utils.data import DataLoader, TensorDataset


class Classifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 8)
        self.head = nn.Linear(8, 5)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.head(torch.relu(self.encoder(x))), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class NewLabelSet(Callback):
    def __init__(self, num_labels):
        self.num_labels = num_labels

    def on_fit_start(self, trainer, pl_module):
        pl_module.head = nn.Linear(8, self.num_labels)


def main():
    torch.manual_seed(0)
    x, y = torch.randn(12, 4), torch.randint(0, 3, (12,))
    model = Classifier()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, callbacks=[NewLabelSet(3)])
    trainer.fit(model, DataLoader(TensorDataset(x, y), batch_size=4))
    held = any(p is model.head.weight for g in model.optimizers().param_groups for p in g["params"])
    return {"model": model}, {"head_in_optimizer": held}
""",
            lines=(28,),
            expect={"facts": {"head_in_optimizer": False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="lightning-callback-replaces-the-head-in-setup",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch import Callback
from torch.utils.data import DataLoader, TensorDataset


class Classifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 8)
        self.head = nn.Linear(8, 5)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.head(torch.relu(self.encoder(x))), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class NewLabelSet(Callback):
    def __init__(self, num_labels):
        self.num_labels = num_labels

    def setup(self, trainer, pl_module, stage):
        pl_module.head = nn.Linear(8, self.num_labels)


def main():
    torch.manual_seed(0)
    x, y = torch.randn(12, 4), torch.randint(0, 3, (12,))
    model = Classifier()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, callbacks=[NewLabelSet(3)])
    trainer.fit(model, DataLoader(TensorDataset(x, y), batch_size=4))
    held = any(p is model.head.weight for g in model.optimizers().param_groups for p in g["params"])
    return {"model": model}, {"head_in_optimizer": held}
""",
            expect={"facts": {"head_in_optimizer": True}},
        ),
        Example(
            name="checkpoint-assigned-after-the-optimizer-was-built",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    state = {k: v.clone() for k, v in nn.Linear(4, 2).state_dict().items()}
    reference = state["weight"].clone()
    model = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.load_state_dict(state, assign=True)
    for _ in range(3):
        loss = F.mse_loss(model(torch.randn(8, 4)), torch.randn(8, 2))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"changed": not torch.equal(model.weight, reference)}
""",
            lines=(12,),
            expect={"facts": {"changed": False}},
            fixed_expect={"facts": {"changed": True}},
        ),
        Example(
            name="helper-assigns-the-checkpoint-after-the-optimizer-was-built",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def restore(model, state):
    model.load_state_dict(state, assign=True)  # no copy: the checkpoint's tensors become the parameters


def main():
    torch.manual_seed(0)
    state = {k: v.clone() for k, v in nn.Linear(4, 2).state_dict().items()}
    reference = state["weight"].clone()
    model = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    restore(model, state)
    for _ in range(3):
        loss = F.mse_loss(model(torch.randn(8, 4)), torch.randn(8, 2))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"changed": not torch.equal(model.weight, reference)}
""",
            lines=(16,),
            expect={"facts": {"changed": False}},
            fixed_expect={"facts": {"changed": True}},
        ),
        Example(
            bad=False,
            name="checkpoint-assigned-before-the-optimizer-is-built",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def restore(model, state):
    model.load_state_dict(state, assign=True)  # no copy: the checkpoint's tensors become the parameters


def main():
    torch.manual_seed(0)
    state = {k: v.clone() for k, v in nn.Linear(4, 2).state_dict().items()}
    reference = state["weight"].clone()
    model = nn.Linear(4, 2)
    restore(model, state)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        loss = F.mse_loss(model(torch.randn(8, 4)), torch.randn(8, 2))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"changed": not torch.equal(model.weight, reference)}
""",
            expect={"facts": {"changed": True}},
        ),
        Example(
            name="head-added-to-a-module-dict-by-a-method-after-the-optimizer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiTask(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, dim), nn.ReLU())
        self.heads = nn.ModuleDict()
        self.dim = dim

    def add_head(self, name, n_out):
        self.heads[name] = nn.Linear(self.dim, n_out)

    def forward(self, x, task):
        return self.heads[task](self.encoder(x))


def main():
    torch.manual_seed(0)
    model = MultiTask()
    model.add_head("topic", 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.add_head("sentiment", 2)
    before = model.heads["sentiment"].weight.detach().clone()
    for _ in range(3):
        x = torch.randn(8, 4)
        loss = F.cross_entropy(model(x, "topic"), torch.randint(0, 3, (8,))) + F.cross_entropy(model(x, "sentiment"), torch.randint(0, 2, (8,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"sentiment_changed": not torch.equal(before, model.heads["sentiment"].weight)}
""",
            lines=(25,),
            expect={"facts": {"sentiment_changed": False}},
            fixed_expect={"facts": {"sentiment_changed": True}},
        ),
        Example(
            bad=False,
            name="head-added-to-a-module-dict-before-the-optimizer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiTask(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, dim), nn.ReLU())
        self.heads = nn.ModuleDict()
        self.dim = dim

    def add_head(self, name, n_out):
        self.heads[name] = nn.Linear(self.dim, n_out)

    def forward(self, x, task):
        return self.heads[task](self.encoder(x))


def main():
    torch.manual_seed(0)
    model = MultiTask()
    model.add_head("topic", 3)
    model.add_head("sentiment", 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = model.heads["sentiment"].weight.detach().clone()
    for _ in range(3):
        x = torch.randn(8, 4)
        loss = F.cross_entropy(model(x, "topic"), torch.randint(0, 3, (8,))) + F.cross_entropy(model(x, "sentiment"), torch.randint(0, 2, (8,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"sentiment_changed": not torch.equal(before, model.heads["sentiment"].weight)}
""",
            expect={"facts": {"sentiment_changed": True}},
        ),
        Example(
            name="layer-appended-to-a-module-list-after-the-optimizer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 4)])

    def grow(self):
        self.layers.append(nn.Linear(4, 4))

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return x


def main():
    torch.manual_seed(0)
    model = Stack()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.grow()
    before = model.layers[1].weight.detach().clone()
    for _ in range(3):
        loss = F.mse_loss(model(torch.randn(8, 4)), torch.randn(8, 4))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"new_layer_changed": not torch.equal(before, model.layers[1].weight)}
""",
            lines=(24,),
            expect={"facts": {"new_layer_changed": False}},
            fixed_expect={"facts": {"new_layer_changed": True}},
        ),
        Example(
            bad=False,
            name="layer-appended-then-the-optimizer-rebuilt",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 4)])

    def grow(self):
        self.layers.append(nn.Linear(4, 4))

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return x


def main():
    torch.manual_seed(0)
    model = Stack()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.grow()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)  # rebuilt over the grown model
    before = model.layers[1].weight.detach().clone()
    for _ in range(3):
        loss = F.mse_loss(model(torch.randn(8, 4)), torch.randn(8, 4))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"new_layer_changed": not torch.equal(before, model.layers[1].weight)}
""",
            expect={"facts": {"new_layer_changed": True}},
        ),
        Example(
            name="head-swapped-after-a-trainer-built-its-optimizer-from-the-model",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, n=10):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, n)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))


class Trainer:
    def __init__(self, model, lr=0.1):
        self.model = model
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def fit(self, steps=3):
        for _ in range(steps):
            loss = F.cross_entropy(self.model(torch.randn(8, 4)), torch.randint(0, 3, (8,)))
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()


def main():
    torch.manual_seed(0)
    model = Net()
    trainer = Trainer(model)
    model.head = nn.Linear(8, 3)
    before = model.head.weight.detach().clone()
    trainer.fit()
    return {"model": model}, {"head_changed": not torch.equal(before, model.head.weight)}
""",
            lines=(33,),
            fixable=False,
            expect={"facts": {"head_changed": False}},
        ),
        Example(
            bad=False,
            name="head-swapped-before-the-trainer-is-built",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, n=10):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, n)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))


class Trainer:
    def __init__(self, model, lr=0.1):
        self.model = model
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def fit(self, steps=3):
        for _ in range(steps):
            loss = F.cross_entropy(self.model(torch.randn(8, 4)), torch.randint(0, 3, (8,)))
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()


def main():
    torch.manual_seed(0)
    model = Net()
    model.head = nn.Linear(8, 3)
    trainer = Trainer(model)
    before = model.head.weight.detach().clone()
    trainer.fit()
    return {"model": model}, {"head_changed": not torch.equal(before, model.head.weight)}
""",
            expect={"facts": {"head_changed": True}},
        ),
        Example(
            name="task-head-added-by-a-method-inside-an-expression-after-the-optimizer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
        self.heads = nn.ModuleList()

    def add_head(self, n):
        self.heads.append(nn.Linear(8, n))
        return len(self.heads) - 1

    def forward(self, x, head):
        return self.heads[head](self.features(x))


def main():
    torch.manual_seed(0)
    model = MultiHead()
    model.add_head(2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for task in range(2):
        head = task if task < len(model.heads) else model.add_head(3)
        start = model.heads[head].weight.detach().clone()
        for _ in range(3):
            loss = F.cross_entropy(model(torch.randn(8, 4), head), torch.randint(0, 2, (8,)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return {"model": model}, {"last_head_changed": not torch.equal(start, model.heads[1].weight)}
""",
            lines=(26,),
            expect={"facts": {"last_head_changed": False}, "grad_ok": ["model.heads.1.weight"]},
        ),
        Example(
            name="parameters-replaced-by-a-helper-at-the-end-of-an-epoch",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Field(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.means = nn.Parameter(torch.rand(n, 2))
        self.colors = nn.Parameter(torch.zeros(n, 3))

    def forward(self, p):
        w = torch.exp(-(p[:, None] - self.means[None]).pow(2).sum(-1))
        return w @ torch.sigmoid(self.colors)


@torch.no_grad()
def densify(field):
    field.means = nn.Parameter(torch.cat([field.means, field.means + 0.01]))
    field.colors = nn.Parameter(torch.cat([field.colors, field.colors]))


def main():
    torch.manual_seed(0)
    field = Field(8)
    optimizer = torch.optim.Adam(field.parameters(), lr=1e-2)
    after = None
    for epoch in range(3):
        for _ in range(2):
            loss = F.l1_loss(field(torch.randn(16, 2)), torch.ones(16, 3))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if epoch == 0:
            densify(field)
            after = field.colors.detach().clone()
    return {"field": field}, {"colors_changed_after_densify": not torch.equal(after, field.colors)}
""",
            lines=(35,),
            expect={'facts': {'colors_changed_after_densify': False}},
            fixed_expect={'facts': {'colors_changed_after_densify': True}},
        ),
        Example(
            name="head-replaced-at-the-end-of-the-first-epoch",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
    model.head = nn.Linear(8, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    new_head = None
    for epoch in range(3):
        for _ in range(2):
            x = torch.randn(8, 4)
            loss = F.cross_entropy(model.head(model[1](model[0](x))), torch.randint(0, 2, (8,)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if epoch == 0:
            model.head = nn.Linear(8, 2)
            new_head = model.head.weight.detach().clone()
    return {"model": model}, {"new_head_changed": not torch.equal(new_head, model.head.weight)}
""",
            lines=(20,),
            expect={'facts': {'new_head_changed': False}},
            fixed_expect={'facts': {'new_head_changed': True}},
        ),
        Example(
            bad=False,
            name="optimizer-rebuilt-after-the-epoch-that-replaces-parameters",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Field(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.means = nn.Parameter(torch.rand(n, 2))
        self.colors = nn.Parameter(torch.zeros(n, 3))

    def forward(self, p):
        w = torch.exp(-(p[:, None] - self.means[None]).pow(2).sum(-1))
        return w @ torch.sigmoid(self.colors)


@torch.no_grad()
def densify(field):
    field.means = nn.Parameter(torch.cat([field.means, field.means + 0.01]))
    field.colors = nn.Parameter(torch.cat([field.colors, field.colors]))


def main():
    torch.manual_seed(0)
    field = Field(8)
    optimizer = torch.optim.Adam(field.parameters(), lr=1e-2)
    after = None
    for epoch in range(3):
        for _ in range(2):
            loss = F.l1_loss(field(torch.randn(16, 2)), torch.ones(16, 3))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if epoch == 0:
            densify(field)
            optimizer = torch.optim.Adam(field.parameters(), lr=1e-2)
            after = field.colors.detach().clone()
    return {"field": field}, {"colors_changed_after_densify": not torch.equal(after, field.colors)}
""",
            expect={'facts': {'colors_changed_after_densify': True}},
        ),
    )

    def check(self, facts):
        reported: set = set()
        for f in self._syntactic_pass(facts):
            reported.add(id(f))
            yield f
        yield from self._value_pass(facts, set())
        yield from self._made_in_forward(facts)
        yield from self._made_in_a_hook_after_the_optimizers(facts)
        yield from self._replaced_by_a_method_of_the_trainer(facts)

    def _replaced_by_a_method_of_the_trainer(self, facts):
        """An object whose constructor builds an optimizer over the parameters of a model it keeps (``self.optimizer =
        SGD(self.model.parameters())``) and a method of it, called in the file, that puts a new model in that attribute
        (``self.model = copy.deepcopy(global_model)``, ``self.model = Net()``) without rebuilding, extending or reloading the
        optimizer anywhere outside ``__init__``: the method that steps it keeps updating the first model's parameters, and
        the new one, which the loss is computed with, never changes (a federated client synced by replacement)."""
        text = facts.source.text
        built = facts.optimizer_constructions
        if not built or ".step(" not in text:
            return
        for info in facts.modules.classes.values():
            if "__init__" not in info.methods or not any(isinstance(n, ast.Attribute) and n.attr == "step" for m in info.methods.values() for n in walk_nodes(m)):
                continue  # (no method of it steps anything)
            opts = constructor_optimizers(facts, info.name)
            if not opts:
                continue
            for opt_attr, v in opts:
                held = {p.split(".")[1] for p in v.params if p.startswith("self.") and len(p.split(".")) > 1}
                if not held or any(method_rebuilds(facts, info.name, name, opt_attr) for name in info.methods if name != "__init__"):
                    continue
                steps = [name for name in info.methods if method_steps(facts, info.name, name, v.origin)]
                if not steps:
                    continue
                for name, m in info.methods.items():
                    if name == "__init__" or not re.search(rf"\.{re.escape(name)}\(", text):
                        continue  # (a method nobody calls replaces nothing)
                    for st in walk_nodes(m):
                        if not (isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.value, ast.Call)):
                            continue
                        t = st.targets[0]
                        if not (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self" and t.attr in held):
                            continue
                        if facts.enclosing(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) is not m:
                            continue
                        q = facts.imports.qualname(st.value.func) or ""
                        copied = q == "copy.deepcopy" and len(st.value.args) == 1
                        made = is_module_ctor(q) or (isinstance(st.value.func, ast.Name) and st.value.func.id in facts.modules.classes and facts.modules.classes[st.value.func.id].is_module)
                        if not (copied or made):
                            continue
                        step = facts.modules.method(info.name, steps[0])
                        fixes = []
                        if copied:
                            src = facts.text(st.value.args[0])
                            fixes.append(lambda st=st, src=src, a=t.attr, o=opt_attr: fix(
                                f"Load the weights into the model `self.{o}` holds instead of replacing it",
                                replace_node(facts, st, f"self.{a}.load_state_dict({src}.state_dict())"), unsafe=True))
                        yield self.finding(
                            facts,
                            st,
                            f"`{name}` puts a new model in `self.{t.attr}`, but `self.{opt_attr}` was built in `__init__` from the parameters "
                            f"of the one it replaces and is never rebuilt: `{steps[0]}` keeps stepping those, and the model the loss is "
                            "computed with never changes",
                            related=[(v.origin, f"`self.{opt_attr}` built from the first `self.{t.attr}` here"),
                                     (step, f"`{steps[0]}` steps `self.{opt_attr}`")],
                            fixes=fixes,
                            explanation="An optimizer holds the parameter tensors it was given. Replacing the model object (a deep copy, a "
                            "new instance) leaves the optimizer with the old parameters: backward fills the new model's `.grad`, `step()` "
                            "updates tensors no forward uses any more. Copy the weights into the existing model "
                            "(`self.model.load_state_dict(other.state_dict())`), or rebuild the optimizer after the replacement.",
                        )

    def _made_in_a_hook_after_the_optimizers(self, facts):
        """``self.classifier = nn.Linear(...)`` in a hook the framework runs after it built the optimizers
        (Lightning's ``on_fit_start``, ``on_train_start``, ``on_train_epoch_start``... run after
        ``configure_optimizers``), of a layer ``forward`` uses: the optimizers hold the parameters that existed
        before the hook, never the new layer's. Silent when the file rebuilds or extends the optimizers
        (``setup_optimizers``, ``add_param_group``, assigning ``trainer.optimizers``)."""
        text = facts.source.text
        if "add_param_group" in text or "setup_optimizers" in text or ".optimizers =" in text:
            return
        for info in facts.modules.classes.values():
            builder = OPTIMIZER_BUILDERS.get(info.framework or "")
            build = info.methods.get(builder) if builder else None
            if build is None or info.is_module is not True:
                continue
            # (the parameters given directly, or through a name bound once in the builder: ``params = set(self.parameters())
            # .difference(self.encoder.parameters())``)
            ctors = [n for n in walk_nodes(build) if isinstance(n, ast.Call) and is_optimizer_ctor(facts.imports.qualname(n.func) or "") and n.args
                     and (_reads_parameters(n.args[0]) or (isinstance(n.args[0], ast.Name) and _reads_parameters(single_binding(build, n.args[0].id) or ast.Pass())))]
            if not ctors:
                continue
            # what the steps use: ``forward`` and what it runs, and the framework's per-batch step
            step = info.methods.get(STEP_METHODS_BY_FRAMEWORK.get(info.framework or "", ""))
            used = {n.attr for m in [*run_by_forward(info), *([step] if step is not None else [])] for n in walk_nodes(m)
                    if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load) and isinstance(n.value, ast.Name) and n.value.id == "self"}
            seen: set = set()
            hooks = [(hook, "self", f"`{hook_name}`") for hook_name in RUN_AFTER_OPTIMIZERS.get(info.framework or "", ()) if (hook := info.methods.get(hook_name)) is not None]
            after = set(RUN_AFTER_OPTIMIZERS.get(info.framework or "", ()))
            for ch in lightning_callback_hooks(facts):
                # a Callback's hook the Trainer runs after the optimizers, given the module it fits as ``pl_module``
                if ch.module_cls == info.name and ch.hook.name in after and not any(h is ch.hook for h, _o, _w in hooks):
                    cb = facts.enclosing(ch.hook, (ast.ClassDef,))
                    hooks.append((ch.hook, ch.hook.args.args[2].arg, f"`{getattr(cb, 'name', '?')}.{ch.hook.name}` (a Callback's hook, given the module as `{ch.hook.args.args[2].arg}`)"))
            for hook, owner, where in hooks:
                for node in walk_nodes(hook):
                    if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Call)):
                        continue
                    t = node.targets[0]
                    if not (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == owner and t.attr in used):
                        continue
                    built = node.value
                    while isinstance(built.func, ast.Attribute) and built.func.attr in ("to", "cuda", "float", "double", "half", "train", "requires_grad_") and isinstance(built.func.value, ast.Call):
                        built = built.func.value  # ``nn.Linear(d, k).to(self.device)``: the same new layer
                    q = facts.imports.qualname(built.func) or ""
                    if not (q in PARAMETER_CTORS or (is_module_ctor(q) and not q.rsplit(".", 1)[-1].endswith(PARAMLESS_SUFFIXES))):
                        continue
                    seen.add(id(node))
                    yield self.finding(
                        facts,
                        node,
                        f"`{owner}.{t.attr}` is made in {where}, which the Trainer runs after `{builder}` built the optimizers: "
                        f"no optimizer holds the new layer, so it never trains",
                        related=[(ctors[0], "the optimizer takes the parameters that exist before the hook")],
                        explanation=f"Lightning calls `{builder}` while it sets up the strategy, before `on_fit_start` and the "
                        "training hooks. A layer created in one of those hooks is used by `forward` and gets gradients, but the "
                        "optimizer holds the parameters of the layer it replaced. Create the layer in `__init__`, `setup` or "
                        "`configure_model` (which run before the optimizers are built).",
                    )
            # what a Callback's hook replaces on the module through the program model: a helper it calls with a part of the
            # module (``for layer in pl_module.hidden: rewind_layer(layer, init, mask)``, ``layer.weight = nn.Parameter(...)``
            # there), in any hook the Trainer runs after the optimizers, the epoch and batch ends included
            for cb in facts.flow.lightning_callbacks():
                for hook_name in RUN_AFTER_OPTIMIZERS.get(info.framework or "", ()):
                    hook = cb.methods.get(hook_name)
                    fl = facts.flow.callback_hook_flow(hook, cb.name, info.name) if hook is not None else None
                    for ev in fl.events if fl is not None else ():
                        if ev.what != "replace" or not ev.name or not ev.name.startswith("self.") or ev.origin is None:
                            continue
                        part = ev.name[5:].split(".")[0].replace("[]", "")
                        at = ev.origin
                        if part not in used or id(at) in seen or id(ev.node) in seen:
                            continue
                        seen.add(id(at))
                        shown = ev.name.replace("self.", f"{hook.args.args[2].arg}.", 1)
                        yield self.finding(
                            facts,
                            at,
                            f"a new parameter replaces `{shown}` here, in `{cb.name}.{hook_name}` (a Callback's hook the Trainer runs "
                            f"after `{builder}` built the optimizers): no optimizer holds it, so it gets gradients but never changes",
                            related=[(ev.node, f"`{cb.name}.{hook_name}` makes the replacement here"), (ctors[0], "the optimizer takes the parameters that exist before the hook")],
                            explanation=f"Lightning calls `{builder}` once, before the training hooks; an optimizer holds the tensors it was "
                            "given. Assigning a new `nn.Parameter` to a layer afterwards leaves the optimizer stepping the old tensor, while "
                            "`forward` uses the new one. Change the values in place instead (`with torch.no_grad(): layer.weight.copy_(...)`), "
                            "so the optimizer keeps the tensor it holds.",
                        )

    def _made_in_forward(self, facts):
        """``self.fc = nn.Linear(...)`` (or ``nn.Parameter(...)``) in ``forward``: the layer is made on the first
        call (lazily, under ``if self.fc is None``) or anew on every call, after an optimizer was built from
        ``model.parameters()`` with no call of the model before it (a dry run): the optimizer never holds it."""
        if "add_param_group" in facts.source.text:
            return
        made_here = layers_made_by_forward(facts)  # (class, the assignment, its target)
        if not made_here:
            return  # (looked at first: the optimizers below are found in an index of every expression of the file)
        # optimizers built from a model's parameters: in their first argument (``Adam(model.parameters())``) or in
        # the function that builds them (param groups from ``model.named_parameters()`` comprehensions)
        ctors = [n for n in facts.walk(ast.Call) if is_optimizer_ctor(facts.imports.qualname(n.func) or "") and any(_reads_parameters(x) for x in [*n.args[:1], facts.enclosing(n, (ast.FunctionDef, ast.AsyncFunctionDef)) or ast.Pass()])]
        # (a Hugging Face Trainer given the model and no optimizer builds one when ``train()`` starts)
        builds = [call for call, _model in hf_trainer_optimizer_builds(facts)]
        ctors += builds
        if not ctors:
            return
        for info, node, t in made_here:
            instances = _instances_of(facts, info.name)
            if not instances:
                continue
            if any(_dry_run(facts, inst, builds) for inst in instances):
                continue
            lazy = _under_none_test(facts, node, t.attr)
            method = facts.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            where = "`forward`,"
            related = [(ctors[0], "the Trainer builds its optimizer here, from the parameters that exist then" if ctors[0] in builds else "the optimizer takes the parameters that exist here")]
            if method is not None and method.name != "forward":
                calls = forward_calls_of(info, method.name)
                lazy = lazy or any(_under_none_test(facts, c, t.attr) for c in calls)
                where = f"`{method.name}`, which `forward` runs,"
                related.insert(0, (calls[0] if calls else None, f"`forward` runs `{method.name}` here"))
            when = "on the first call" if lazy else "anew on every call"
            yield self.finding(
                facts,
                node,
                f"`self.{self_path(t)}` is made in {where} {when}, after the optimizer was built from the model's parameters: the optimizer never holds it, so it never trains",
                related=related,
                explanation="An optimizer holds the parameter objects it was given. A layer created inside `forward` does not exist when "
                "`model.parameters()` is read (and one created on every call is a new, untrained layer each step). Create it in "
                "`__init__` (or `nn.LazyLinear`), or run one forward pass before building the optimizer.",
            )

    def _syntactic_pass(self, facts):
        scopes = facts.scopes_matching(_PARAMS_CALL, _OPTIMIZER_HINT)  # only scopes that build an optimizer
        cls_params: dict = {}
        for scope in scopes:
            opts = []
            for node in facts.own_nodes(scope):
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Call):
                    q = facts.imports.qualname(node.value.func) or ""
                    if not (q and is_optimizer_ctor(q)):
                        continue
                    oname = _dotted(node.targets[0])
                    if not oname:
                        continue
                    for sub in walk_nodes(node.value):
                        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "parameters":
                            m = _dotted(sub.func.value)
                            if m:
                                opts.append((oname, m, node))
            if not opts:
                continue
            nodes = [n for n in facts.own_nodes(scope) if hasattr(n, "lineno")]
            for oname, m, ostmt in opts:
                for node in nodes:
                    if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and position(node) > position(ostmt)):
                        continue
                    t = node.targets[0]
                    if not isinstance(t, (ast.Attribute, ast.Subscript)):
                        continue
                    tt = facts.text(t)
                    if not (tt.startswith(m + ".") or tt.startswith(m + "[")):
                        continue
                    if not self._param_module(facts, node.value, cls_params):
                        continue
                    if mutually_exclusive(facts, node, ostmt):
                        continue
                    # stepped afterwards, not rebuilt / extended in between (in a loop around the replacement that the
                    # optimizer was built before, the loop's earlier statements run again after it: the next epoch's steps)
                    again = _loops_around(facts, node, ostmt)
                    later = [n for n in nodes if position(n) > position(node) or any(_within(n, lp) for lp in again)]
                    rebuilt = any(
                        isinstance(n, ast.Assign) and any(_dotted(x) == oname for x in n.targets)
                        for n in later
                    )
                    extended = any(
                        isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("add_param_group", "load_state_dict") and _dotted(n.func.value) == oname
                        for n in nodes
                    )
                    steps = [n for n in later if isinstance(n, ast.Call) and ((isinstance(n.func, ast.Attribute) and n.func.attr == "step"
                             and (_dotted(n.func.value) == oname or any(_dotted(a) == oname for a in n.args))) or _hands_to_a_trainer(n, oname))]
                    if rebuilt or extended or not steps:
                        continue

                    def build(st: ast.Assign = node, tt: str = tt, o: str = oname) -> Optional[Fix]:
                        return fix(f"Add the new parameters with `{o}.add_param_group(...)`", insert_after_stmt(facts, st, f'{o}.add_param_group({{"params": {tt}.parameters()}})'))

                    yield self.finding(
                        facts,
                        t,
                        f"`{tt}` is replaced after `{oname}` was built from `{m}.parameters()`: the new layer's parameters are not in the optimizer and are never updated",
                        related=[(ostmt, "the optimizer captures the old parameters here"), (steps[0], "this step skips the new layer")],
                        fixes=[build],
                        explanation="An optimizer holds references to the parameter tensors it was built with; a replaced submodule brings new tensors that receive gradients but are never stepped.",
                    )

    def _value_pass(self, facts, reported: set):
        """The same bug through the program model: the optimizer built by a helper, the layer replaced by a
        method or helper (``model.reset_classifier(n)``), the optimizer stepped in a training function; or the
        optimizer built by a trainer's constructor (``self.optimizer = SGD(self.model.parameters())``), the layer
        replaced by one of its methods and the optimizer stepped by another, called in that order on the instance."""
        if not _REPLACE_HINT.search(facts.source.text):
            return
        flows = list(facts.flows_matching(_REPLACE_HINT))
        # the scopes that build an instance of a class whose constructor builds an optimizer (they need not name one)
        builders = [name for name, info in facts.modules.classes.items() if "__init__" in info.methods and facts.text_index.search(_REPLACE_HINT, info.methods["__init__"])
                    and (constructor_optimizers(facts, name) or _keeps_an_optimizer(facts, info.methods["__init__"]))]
        if builders:
            have = {id(fl.node) for fl in flows}
            flows += [fl for fl in facts.flows_matching(re.compile(r"\b(?:" + "|".join(builders) + r")\s*\(")) if id(fl.node) not in have]
        # and those functions in their callers' terms (``train_stream(model, stream)``: ``model.add_head(...)`` is a method of
        # the caller's model class, which the function's own flow sees only as an argument)
        hinted = {id(fl.node) for fl in flows}
        flows += [cfl for cfl in facts.flow.context_flows if id(cfl.node) in hinted]
        for fl in flows:
            opts = [(node, v, node.id, None) for node, v in _optimizer_bindings(fl, facts)] + _instance_optimizers(fl, facts)
            if not opts:
                continue
            for ev in fl.events:
                if ev.what != "replace" or not ev.name or id(ev.node) in reported:
                    continue
                if ev.extra and ev.extra.isdigit() and _in_forward(facts, int(ev.extra)):
                    continue  # a layer a forward makes: _made_in_forward
                path = ev.name
                for onode, ov, oname, held in opts:
                    # the replaced layer is part of what the optimizer holds (a whole model, or the very group replaced)
                    if position(onode) >= position(ev.node) or not any(path == c or path.startswith(c + ".") or c.startswith(path + ".") for c in ov.params):
                        continue
                    bound = facts.statement_of(onode) or onode
                    if any(n is ev.node for n in walk_nodes(getattr(bound, "value", None) or bound)):
                        continue  # (the replacement runs while the optimizer's arguments are evaluated: ``AdamW(add_lora(model))``)
                    if ev.given and any(ev.given == c or ev.given.startswith(c + ".") for c in ov.params):
                        continue  # the new layer is one the optimizer was given too (``SGD([*model.parameters(), *head.parameters()])``)
                    if mutually_exclusive(facts, ev.node, onode):
                        continue
                    if held is None:
                        if not _stepped_later(facts, fl, ev.node, oname, onode) or _rebuilt_or_extended(facts, fl, ev.node, oname, onode):
                            continue
                    elif not _instance_stepped_later(facts, fl, ev.node, held, ov) or _instance_rebuilt(facts, fl, ev.node, held):
                        continue
                    reported.add(id(ev.node))
                    fixes = []
                    owner = next((c for c in ov.params if path.startswith(c + ".")), path.rsplit(".", 1)[0])
                    st = facts.statement_of(ev.node)
                    if held is None and isinstance(st, ast.Assign) and len(st.targets) == 1 and st.targets[0] is ev.node and isinstance(ev.node, (ast.Attribute, ast.Subscript)):
                        # ``model[2] = nn.Linear(...)``: the new layer's parameters added as a group right after
                        tt = facts.text(ev.node)
                        fixes.append(lambda st=st, o=oname, tt=tt: fix(f"Add the new parameters with `{o}.add_param_group(...)`", insert_after_stmt(facts, st, f'{o}.add_param_group({{"params": {tt}.parameters()}})')))
                    elif held is None and owner.isidentifier() and isinstance(st, (ast.Expr, ast.Assign)) and (st.value is ev.node or isinstance(ev.node, ast.Call)):
                        # (also a method that adds the layer, called inside a statement: ``head_id = e if ... else model.add_head(n)``)
                        # the parameters the optimizer does not hold yet, added as a group right after the swap
                        missing = f'[p for p in {owner}.parameters() if all(p is not q for g in {oname}.param_groups for q in g["params"])]'
                        fixes.append(lambda st=st, o=oname, m=missing: fix(f"Add the new parameters with `{o}.add_param_group(...)`", insert_after_stmt(facts, st, f'{o}.add_param_group({{"params": {m}}})')))
                    # ``setattr(obj, name, ...)`` with a computed name: some submodule of ``obj``
                    shown = f"a submodule of `{display_root(path[:-2])}`" if path.endswith(".?") else (f"`{facts.text(ev.node)}`" if isinstance(ev.node, ast.Subscript) else f"`{display_root(path)}`")
                    related = [(ov.origin or onode, "the optimizer captures the old parameters here")]
                    if ev.origin is not None and getattr(ev.origin, "lineno", None) != getattr(ev.node, "lineno", None):
                        related.append((ev.origin, "through this call"))
                    inner = _replacing_statement(facts, ev)
                    if inner is not None:
                        related.append((inner, "the layer is replaced here, by the call"))
                    new = ("the new parameter is not in the optimizer and is never updated" if ev.value is not None and ev.value.kind == "tensor"
                           else "the new layer's parameters are not in the optimizer and are never updated")
                    message = f"{shown} is replaced after `{oname}` was built from its model's parameters: {new}"
                    if path.endswith(".?") and ev.value is not None and ev.value.kind == "module":  # (appended, or set under a computed key)
                        message = f"a new layer is put in `{display_root(path[:-2])}` after `{oname}` was built from its model's parameters: its parameters are not in the optimizer and are never updated"
                    if ev.extra == "assign":
                        message = (f"`load_state_dict(..., assign=True)` replaces every parameter of {shown} with the checkpoint's tensors after "
                                   f"`{oname}` was built from them: the optimizer keeps the old parameters, and the ones the model uses are never updated")
                    yield self.finding(
                        facts,
                        ev.node,
                        message,
                        related=related,
                        fixes=fixes,
                        explanation="An optimizer holds references to the parameter tensors it was built with; a replaced submodule "
                        "brings new tensors that receive gradients but are never stepped. Build the optimizer after replacing it.",
                    )
                    break

    @staticmethod
    def _param_module(facts, value: ast.AST, cache: dict) -> bool:
        if not isinstance(value, ast.Call):
            return False
        q = facts.imports.qualname(value.func) or ""
        if is_module_ctor(q):
            return not q.rsplit(".", 1)[-1].endswith(PARAMLESS_SUFFIXES)
        if isinstance(value.func, ast.Name) and value.func.id in facts.modules.classes:
            info = facts.modules.classes[value.func.id]
            if info.is_module is True:
                if info.name not in cache:
                    cache[info.name] = may_have_parameters(facts, info)
                return cache[info.name]
        return False


_REPLACE_HINT = re.compile(r"optim|Adam|SGD|zero_grad")


def _optimizer_bindings(fl, facts) -> list:
    """``name = <optimizer>`` bindings of a flow whose parameter set the model knows."""
    out = []
    for node in facts.name_stores(fl.node):
        v = fl.assigned.get(id(node))
        if v is not None and v.kind == "optimizer" and v.params and all(p != "?" and not p.startswith("arg:") for p in v.params):
            out.append((node, v))
    return out


def _instance_optimizers(fl, facts) -> list:
    """``(binding, optimizer, text, (instance name, class, attribute))`` for every optimizer an instance's constructor
    built, at the statement that builds the instance (``trainer = Trainer(model)`` with ``self.optimizer = ...`` in
    ``Trainer.__init__``), seen through the instance's name."""
    out = []
    classes = facts.modules.classes
    for node in facts.name_stores(fl.node):
        v = fl.assigned.get(id(node))
        if v is None or v.kind not in ("instance", "module") or v.cls not in classes or v.ident != node.id:
            continue
        seen = set()
        for attr, ov in constructor_optimizers(facts, v.cls, node.id):
            seen.add(attr)
            out.append((node, ov, f"{node.id}.{attr}", (node.id, v.cls, attr)))
        # an optimizer the constructor built from what the construction gives it (``Trainer(model)`` with
        # ``self.optimizer = SGD(model.parameters())``), known in this function's terms from the instance's value
        for attr, ov in v.fields or ():
            if attr not in seen and ov.kind == "optimizer" and ov.params and ov.origin is not None and all(not p.startswith(("arg:", "self")) for p in ov.params):
                out.append((node, ov, f"{node.id}.{attr}", (node.id, v.cls, attr)))
    return out


def _keeps_an_optimizer(facts, init: ast.AST) -> bool:
    """Does the constructor keep an optimizer on the instance (``self.optimizer = SGD(model.parameters())``), whatever
    it was built from?"""
    return any(ev.what == "attr_assign" and ev.value is not None and ev.value.kind == "optimizer" and ev.target is not None and ev.target.ident == "self"
               for ev in facts.flow.flow(init).events)


def _instance_stepped_later(facts, fl, after: ast.AST, held: tuple, ov) -> bool:
    """Is a method of the instance that steps its constructor's optimizer called after ``after``?"""
    inst, cls, _attr = held
    for node in facts.own_nodes(fl.node):
        if isinstance(node, ast.Call) and position(node) > position(after) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) and node.func.value.id == inst:
            if method_steps(facts, cls, node.func.attr, ov.origin):
                return True
    return False


def _instance_rebuilt(facts, fl, after: ast.AST, held: tuple) -> bool:
    """Is the instance's optimizer rebuilt, extended or reloaded from ``after`` on (by the replacing call itself, a
    later method call, or ``trainer.optimizer = ...`` here)?"""
    inst, cls, attr = held
    for node in facts.own_nodes(fl.node):
        if not hasattr(node, "lineno") or position(node) < position(after):
            continue
        if isinstance(node, ast.Attribute) and node.attr == attr and isinstance(node.value, ast.Name) and node.value.id == inst:
            parent = facts.parent(node)
            if isinstance(node.ctx, ast.Store) or (isinstance(parent, ast.Attribute) and parent.attr in ("add_param_group", "load_state_dict")):
                return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) and node.func.value.id == inst:
            if method_rebuilds(facts, cls, node.func.attr, attr):
                return True
    return False


def _replacing_statement(facts, ev) -> Optional[ast.AST]:
    """The statement in the called method or helper that replaced the layer (``self.model.module.fc = ...``), when
    the event is a call's."""
    if not (ev.extra and ev.extra.isdigit()) or int(ev.extra) == getattr(ev.node, "lineno", 0):
        return None
    line = int(ev.extra)
    return next((st for st in facts.walk((ast.Assign, ast.Expr)) if st.lineno == line), None)


def _runs_after(facts, after: ast.AST, built: Optional[ast.AST]):
    """A test of "``node`` runs after ``after``": later in the text, or anywhere in a loop around ``after`` that the
    optimizer (built at ``built``) was made before (the loop's earlier statements run again in its next iteration: the
    next epoch's steps after a replacement at the end of this one)."""
    loops = _loops_around(facts, facts.statement_of(after) or after, built) if built is not None else []
    start = position(after)

    def later(node: ast.AST) -> bool:
        return position(node) > start or any(_within(node, lp) for lp in loops)

    return later


def _stepped_later(facts, fl, after: ast.AST, oname: str, built: Optional[ast.AST] = None) -> bool:
    """Is the optimizer stepped after ``after``: ``opt.step()`` here, or passed to a function of this file that
    steps what it is given (a training loop)?"""
    later = _runs_after(facts, after, built)
    for ev in fl.events:
        if ev.node is after or not later(ev.node):
            continue
        if ev.what == "step" and ev.name == oname:
            return True
    for node in facts.own_nodes(fl.node):
        if isinstance(node, ast.Call) and later(node) and _hands_to_a_trainer(node, oname):
            return True
        if isinstance(node, ast.Call) and later(node) and any(isinstance(a, ast.Name) and a.id == oname for a in node.args):
            target = facts.flow.functions.get(node.func.id) if isinstance(node.func, ast.Name) else None
            if target is not None and any(e.what == "step" for e in facts.flow.flow(target).events):
                return True
    return False


def _hands_to_a_trainer(call: ast.Call, oname: str) -> bool:
    """``Trainer(..., optimizers=(optimizer, scheduler))``: the Hugging Face Trainer (and the trainers built on it)
    steps the optimizer it is given, once per optimization step of ``train()``."""
    given = next((k.value for k in call.keywords if k.arg == "optimizers"), None)
    return isinstance(given, (ast.Tuple, ast.List)) and bool(given.elts) and _dotted(given.elts[0]) == oname


def _rebuilt_or_extended(facts, fl, after: ast.AST, oname: str, built: Optional[ast.AST] = None) -> bool:
    later = _runs_after(facts, after, built)
    for node in facts.own_nodes(fl.node):
        if isinstance(node, ast.Name) and node.id == oname and isinstance(node.ctx, ast.Store) and later(node):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("add_param_group", "load_state_dict") and isinstance(node.func.value, ast.Name) and node.func.value.id == oname:
            return True
    return False


def _instances_of(facts, cls: str) -> list:
    """Assignments ``name = Cls(...)`` (or of a class holding ``Cls`` as a submodule) in the file."""
    mm = facts.modules
    holders = {cls}
    for name, info in mm.classes.items():
        if any((mm.attr_class(name, a)[0] or mm.attr_class(name, a)[1]) == cls for a in info.attrs):
            holders.add(name)
    return [n for n in facts.walk(ast.Assign) if isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Name) and n.value.func.id in holders and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)]


def _dry_run(facts, inst: ast.Assign, builds: list = ()) -> bool:  # type: ignore[assignment]
    """Is the instance called (a forward pass) in its own function before anything builds an optimizer there
    (an optimizer's constructor, a helper named for one, or ``trainer.train()`` of a Trainer in ``builds``)?"""
    name = inst.targets[0].id  # type: ignore[attr-defined]
    scope = facts.enclosing(inst, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    calls = [c for c in walk_nodes(scope) if isinstance(c, ast.Call) and c.lineno > inst.lineno]
    first_opt = min((c.lineno for c in calls if is_optimizer_ctor(facts.imports.qualname(c.func) or "") or (isinstance(c.func, ast.Name) and "optim" in c.func.id.lower())
                     or any(c is b for b in builds)), default=None)
    return any(isinstance(c.func, ast.Name) and c.func.id == name and (first_opt is None or c.lineno < first_opt) for c in calls)


def _reads_parameters(node: ast.AST) -> bool:
    return any(isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr in ("parameters", "named_parameters") for c in walk_nodes(node))


def _under_none_test(facts, node: ast.AST, attr: str) -> bool:
    p = facts.parent(node)
    while p is not None and not isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if isinstance(p, ast.If):
            for n in walk_nodes(p.test):
                if isinstance(n, ast.Attribute) and n.attr == attr:
                    return True
        p = facts.parent(p)
    return False


def _in_forward(facts, line: int) -> bool:
    """Is ``line`` inside the ``forward`` of a Module class of the file, or a method of the class it runs?"""
    for info in facts.modules.classes.values():
        fwd = info.methods.get("forward")
        if info.is_module and fwd is not None and any(m.lineno <= line <= (m.end_lineno or m.lineno) for m in run_by_forward(info, facts.text_index)):
            return True
    return False
