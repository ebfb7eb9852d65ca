"""GG304 layer-built-per-call: ``nn.Linear(...)(x)`` inside ``forward``: a new, untrained layer on every call."""
from __future__ import annotations

import ast
import re
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.model import Applicability, Fix, Severity
from gradguard.core.paramnames import value_parameter_names
from gradguard.core.torchapi import LAYER_PARAMETER_NAMES, STEP_METHODS_BY_FRAMEWORK, TENSOR_MOVE_METHODS, is_module_ctor
from gradguard.fixes import fix, insert_after_stmt, replace_node
from gradguard.rules.base import Example, Rule

# methods a training run calls on every step: the module's own call, and what frameworks call per batch
_PER_CALL = ("forward", "__call__", "compute_loss")
# what the construction of a layer with parameters spells (``nn.Linear(``, ``Conv2d(``, ``nn.Sequential(``)
_LAYER_CALL = re.compile(r"\b(?:" + "|".join(sorted(LAYER_PARAMETER_NAMES)) + r"|Sequential)\(")


class LayerBuiltPerCall(Rule):
    code = "GG304"
    name = "layer-built-per-call"
    summary = "A layer with parameters is constructed inside `forward` (or a method it runs) and used right away: every call gets a new, randomly initialised layer that is not registered on the module and that no optimizer trains."
    severity = Severity.WARNING
    needs = ("nn.", "forward", "training_step")
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Flags a `torch.nn` layer that has parameters (`nn.Linear`, `nn.Conv2d`, `nn.Embedding`, a norm with affine
weights, an `nn.Sequential` of such layers) constructed inside a method of an `nn.Module` that runs on every
training step (`forward`, a Lightning `training_step`, a Hugging Face `compute_loss`, and the methods of the
class these call), when the new layer is only applied there: `nn.Linear(d, k)(x)`, or bound to a local name that is
only called. A layer stored on the module (`self.proj = nn.Linear(...)`, built lazily once), appended to a container,
returned or passed on is not reported, nor is a method that `__init__` itself calls, nor a layer without parameters
(`nn.ReLU()`, `nn.LayerNorm(d, elementwise_affine=False)`).

## Why is this bad?
Each call constructs a fresh layer with new random weights. It is not an attribute of the module, so it is not in
`model.parameters()`: no optimizer holds it, and its weights are thrown away after the call. The network computes
through a different random projection every step and never learns it; when every layer is built this way,
`model.parameters()` is empty and the optimizer raises `optimizer got an empty parameter list`.

## Example
```python
class VAE(nn.Module):
    def __init__(self, d=16, h=8):
        super().__init__()
        self.d, self.h = d, h

    def encode(self, x):
        return nn.Linear(self.d, self.h)(x)
```

## Use instead
```python
    def __init__(self, d=16, h=8):
        super().__init__()
        self.d, self.h = d, h
        self.encode_linear = nn.Linear(self.d, self.h)

    def encode(self, x):
        return self.encode_linear(x)
```

## Fix safety
The fix builds the layer once, at the end of `__init__`, and uses it in the method. It is offered only when the
constructor's arguments mean the same there (constants, and attributes `__init__` sets). It changes the program:
the module gains parameters (and state-dict entries) and the layer keeps its weights from call to call, which is
what training needs, so it is unsafe.
"""
    examples = (
        Example(
            name="vae-builds-its-layers-inside-encode-and-decode",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class VAE(nn.Module):
    def __init__(self, d=6, h=4):
        super().__init__()
        self.d, self.h = d, h
        self.head = nn.Linear(d, d)

    def encode(self, x):
        return F.relu(nn.Linear(self.d, self.h)(x))

    def forward(self, x):
        return self.head(nn.Linear(self.h, self.d)(self.encode(x)))


def main():
    torch.manual_seed(0)
    model = VAE()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(8, 6)
    first = model(x).detach()
    second = model(x).detach()
    opt.zero_grad()
    F.mse_loss(model(x), x).backward()
    opt.step()
    return {"model": model}, {"same_output_twice": bool(torch.allclose(first, second)), "n_params": len(list(model.parameters()))}
""",
            lines=(13, 16),
            expect={"grad_ok": ["model.head.weight"], "facts": {"same_output_twice": False, "n_params": 2}},
            fixed_expect={"grad_ok": ["model.head.weight"]},
        ),
        Example(
            name="lightning-step-runs-a-helper-that-builds-a-projection",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Probe(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(6, 8)

    def project(self, h):
        proj = nn.Linear(8, 3)
        return proj(torch.relu(h))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.project(self.encoder(x)), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    model = Probe()
    data = TensorDataset(torch.randn(16, 6), torch.randint(0, 3, (16,)))
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=8))
    return {"model": model}, {"n_params": len(list(model.parameters()))}
""",
            lines=(14,),
            expect={"grad_ok": ["model.encoder.weight"], "facts": {"n_params": 2}},
            fixed_expect={"grad_ok": ["model.encoder.weight", "model.proj.weight"], "facts": {"n_params": 4}},
        ),
        Example(
            bad=False,
            name="layer-built-lazily-once-and-stored-on-the-module",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class LazyHead(nn.Module):
    def __init__(self, k=3):
        super().__init__()
        self.k = k
        self.body = nn.Linear(5, 7)
        self.head = None

    def forward(self, x):
        h = torch.relu(self.body(x))
        if self.head is None:
            self.head = nn.Linear(h.size(-1), self.k)
        return self.head(h)


def main():
    torch.manual_seed(0)
    model = LazyHead()
    model(torch.randn(2, 5))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    F.cross_entropy(model(torch.randn(8, 5)), torch.randint(0, 3, (8,))).backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.body.weight", "model.head.weight"]},
        ),
        Example(
            bad=False,
            name="parameter-free-layers-and-a-non-affine-norm-built-in-forward",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        h = nn.LayerNorm(4, elementwise_affine=False)(self.fc(x))
        return nn.Dropout(0.1)(nn.ReLU()(h))


def main():
    torch.manual_seed(0)
    net = Net()
    net(torch.randn(8, 4)).pow(2).mean().backward()
    return {"net": net}
""",
            expect={"grad_ok": ["net.fc.weight"]},
        ),
        Example(
            bad=False,
            name="helper-called-from-init-builds-the-layers",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = self.make_blocks(3)

    def make_blocks(self, n):
        blocks = nn.ModuleList()
        for _ in range(n):
            layer = nn.Linear(4, 4)
            blocks.append(layer)
        return blocks

    def forward(self, x):
        for b in self.blocks:
            x = torch.tanh(b(x))
        return x


def main():
    torch.manual_seed(0)
    net = Net()
    net(torch.randn(8, 4)).pow(2).mean().backward()
    return {"net": net}
""",
            expect={"grad_ok": ["net.blocks.0.weight", "net.blocks.2.weight"]},
        ),
    )

    def check(self, facts):
        ti = facts.text_index
        if not ti.anywhere(_LAYER_CALL):
            return
        # (cheap first: a function other than ``__init__`` that spells a layer's construction; the program model of the
        # classes is asked only then)
        if not any(fn.name != "__init__" and ti.search(_LAYER_CALL, fn) for fn in facts.walk((ast.FunctionDef, ast.AsyncFunctionDef))):
            return
        for cls_name, info in facts.modules.classes.items():
            if not info.is_module or not ti.search(_LAYER_CALL, info.node):
                continue
            per_call = {m for m in _per_call_methods(info) if ti.search(_LAYER_CALL, info.methods[m])}
            if not per_call:
                continue
            init = info.methods.get("__init__")
            taken = set(info.attrs) | set(info.methods)
            for mname in sorted(per_call, key=lambda n: info.methods[n].lineno):
                m = info.methods[mname]
                for ctor, local in _layers_used_in_place(facts, m):
                    short = (facts.imports.qualname(ctor.func) or "").rsplit(".", 1)[-1]
                    base = local or f"{mname.strip('_')}_{short.lower()}"
                    name, k = base, 2
                    while name in taken:
                        name, k = f"{base}_{k}", k + 1
                    taken.add(name)
                    builds = [lambda c=ctor, n=name, i=info, it=init, fn=m: _move_to_init(facts, i, it, fn, c, n)]
                    yield self.finding(
                        facts,
                        ctor,
                        f"`{facts.text(ctor)}` builds a new `{short}` on every call of `{mname}`: its random weights are not registered on "
                        f"`{cls_name}`, so no optimizer trains them and each call uses different ones",
                        fixes=builds,
                        explanation=(
                            "A layer constructed inside a method that runs every step is a fresh object each time: it is not an attribute "
                            "of the module, so it is not in `model.parameters()`, no optimizer holds it and its weights are discarded after "
                            "the call. Build it once in `__init__` (`self.<name> = ...`) and use `self.<name>` here."
                        ),
                    )


def _per_call_methods(info) -> set:
    """The methods of a Module class that run on every training step: ``forward`` and the framework's per-batch
    methods, and the methods of the class these call (``self.encode(x)``), minus any that ``__init__`` calls."""
    start = [n for n in (*_PER_CALL, STEP_METHODS_BY_FRAMEWORK.get(info.framework or "", "")) if n in info.methods]
    init = info.methods.get("__init__")
    from_init = _self_calls(init) if init is not None else set()
    seen: set = set()
    todo = list(start)
    while todo:
        n = todo.pop()
        if n in seen or n == "__init__":
            continue
        seen.add(n)
        todo.extend(c for c in _self_calls(info.methods[n]) if c in info.methods)
    return seen - from_init


def _self_calls(fn: ast.AST) -> set:
    return {
        n.func.attr for n in walk_nodes(fn)  # (ast.walk's nodes, kept on the method for the next rule that walks it)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == "self"
    }


def _own_nodes(fn: ast.AST):
    """The nodes of ``fn``'s body, not those of functions or lambdas nested in it."""
    todo = list(fn.body)  # type: ignore[attr-defined]
    while todo:
        n = todo.pop()
        yield n
        for c in ast.iter_child_nodes(n):
            if not isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                todo.append(c)


def _layers_used_in_place(facts, fn: ast.AST) -> list:
    """(constructor call, local name or None) for each ``torch.nn`` layer with parameters that ``fn`` builds and only
    applies: called right away (``nn.Linear(a, b)(x)``, also after ``.to(...)``), or bound to a local name whose every
    other use in ``fn`` is a call of it."""
    out: list[tuple[ast.Call, Optional[str]]] = []
    nodes = list(_own_nodes(fn))
    parents = {id(c): n for n in nodes for c in ast.iter_child_nodes(n)}  # (this method's own: no index of the file)
    for ctor in nodes:
        if not isinstance(ctor, ast.Call):
            continue
        q = facts.imports.qualname(ctor.func) or ""
        if not is_module_ctor(q) or not value_parameter_names(facts.modules, facts.imports, ctor):
            continue  # (not a layer, no parameters, or ones the table does not know)
        value: ast.AST = ctor
        parent = parents.get(id(value))
        while isinstance(parent, ast.Attribute) and parent.attr in TENSOR_MOVE_METHODS and isinstance(parents.get(id(parent)), ast.Call) and parents[id(parent)].func is parent:
            value = parents[id(parent)]
            parent = parents.get(id(value))
        if isinstance(parent, ast.Call) and parent.func is value:
            out.append((ctor, None))
            continue
        if isinstance(parent, ast.Assign) and parent.value is value and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
            name = parent.targets[0].id
            uses = [n for n in nodes if isinstance(n, ast.Name) and n.id == name and n is not parent.targets[0]]
            if uses and all(isinstance(n.ctx, ast.Load) and isinstance(parents.get(id(n)), ast.Call) and parents[id(n)].func is n for n in uses):
                out.append((ctor, name))
    return out


def _movable(facts, info, init: ast.AST, fn: ast.AST, ctor: ast.Call) -> bool:
    """Do the constructor's arguments mean the same at the end of ``__init__``? Constants, names ``fn`` does not bind
    (module-level names), attributes of ``self`` that ``__init__`` sets, and arithmetic on those."""
    bound = {a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg)} if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) else set()
    bound |= {n.id for n in _own_nodes(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    set_in_init = {t.attr for t in ast.walk(init) if isinstance(t, ast.Attribute) and isinstance(t.ctx, ast.Store) and isinstance(t.value, ast.Name) and t.value.id == "self"}
    for a in [*ctor.args, *(k.value for k in ctor.keywords)]:
        for n in ast.walk(a):
            if isinstance(n, ast.Name) and n.id in bound and n.id != "self":
                return False
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self" and n.attr not in set_in_init:
                return False
            if isinstance(n, (ast.Call, ast.Subscript, ast.Starred, ast.Lambda, ast.NamedExpr)):
                return False
    return not any(k.arg is None for k in ctor.keywords)


def _move_to_init(facts, info, init: Optional[ast.AST], fn: ast.AST, ctor: ast.Call, name: str) -> Optional[Fix]:
    if init is None or not getattr(init, "body", None) or not _movable(facts, info, init, fn, ctor):
        return None
    return fix(
        f"Build it once in `__init__` as `self.{name}`",
        insert_after_stmt(facts, init.body[-1], f"self.{name} = {facts.text(ctor)}"),  # type: ignore[attr-defined]
        replace_node(facts, ctor, f"self.{name}"),
        unsafe=True,
    )
