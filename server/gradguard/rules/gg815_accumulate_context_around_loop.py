"""GG815 accumulate-context-around-loop: ``with accelerator.accumulate(model):`` entered once around the training loop."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.model import Applicability, Edit, Severity
from gradguard.core.source import Pos
from gradguard.fixes import fix
from gradguard.rules.base import Example, Rule

_ACCELERATOR = "accelerate.Accelerator"


class AccumulateContextAroundLoop(Rule):
    code = "GG815"
    name = "accumulate-context-around-loop"
    summary = (
        "`with accelerator.accumulate(model):` wraps the whole loop instead of each batch: accelerate decides once, on "
        "entry, whether the steps inside apply, so with gradient accumulation every `optimizer.step()` of the loop is skipped."
    )
    severity = Severity.WARNING
    needs = ("accumulate(",)
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Flags `with accelerator.accumulate(model):` whose body holds the training loop (a `for` or `while` that calls
`backward` and `step()`), for an `Accelerator` built with `gradient_accumulation_steps` other than 1 (a number
above 1, or a value from the configuration). The accelerator is followed from its constructor: a local name, an
attribute set in `__init__`, or the argument of a training function that the file's callers pass one.

## Why is this bad?
`accumulate()` counts *entries*: on each one it advances its step counter and sets `sync_gradients` to whether
this entry completes an accumulation window. The prepared optimizer's `step()` and `zero_grad()` (and the
prepared scheduler's) do nothing while `sync_gradients` is false. Entered once around the loop, the decision made
for the first entry holds for every batch: with `gradient_accumulation_steps=2` the first epoch's loop never
updates the model, the next one updates on every batch without accumulating, and so on.

## Example
```python
with accelerator.accumulate(model):
    for batch in loader:
        accelerator.backward(loss_fn(model, batch))
        optimizer.step()
        optimizer.zero_grad()
```

## Use instead
```python
for batch in loader:
    with accelerator.accumulate(model):
        accelerator.backward(loss_fn(model, batch))
        optimizer.step()
        optimizer.zero_grad()
```

## Fix safety
The fix swaps the two headers when the `with` holds nothing but the loop (a `for` without `else`, each header on
one line): the body stays as it is, and `accumulate()` is entered once per batch. Unsafe because it changes which
steps apply (as intended).
"""
    examples = (
        Example(
            name="accumulate-entered-once-around-the-epoch-loop",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


def train_epoch(accelerator, model, loader, optimizer):
    model.train()
    with accelerator.accumulate(model):
        for x, y in loader:
            loss = F.mse_loss(model(x), y)
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()


def main():
    torch.manual_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=4)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(torch.randn(16, 3), torch.randn(16, 1)), batch_size=4)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    before = model[0].weight.detach().clone()
    train_epoch(accelerator, model, loader, optimizer)
    return {"model": model}, {"changed": not torch.equal(before, model[0].weight)}
""",
            lines=(10,),
            expect={"facts": {"changed": False}},
            fixed_expect={"facts": {"changed": True}},
        ),
        Example(
            bad=False,
            name="accumulate-entered-per-batch",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


def train_epoch(accelerator, model, loader, optimizer):
    model.train()
    for x, y in loader:
        with accelerator.accumulate(model):
            loss = F.mse_loss(model(x), y)
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()


def main():
    torch.manual_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=4)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(torch.randn(16, 3), torch.randn(16, 1)), batch_size=4)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    before = model[0].weight.detach().clone()
    train_epoch(accelerator, model, loader, optimizer)
    return {"model": model}, {"changed": not torch.equal(before, model[0].weight)}
""",
            expect={"facts": {"changed": True}},
        ),
        Example(
            bad=False,
            name="accumulate-around-the-loop-without-accumulation",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(torch.randn(8, 3), torch.randn(8, 1)), batch_size=4)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    before = model.weight.detach().clone()
    with accelerator.accumulate(model):
        for x, y in loader:
            loss = F.mse_loss(model(x), y)
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()
    return {"model": model}, {"changed": not torch.equal(before, model.weight)}
""",
            expect={"facts": {"changed": True}},
        ),
    )

    def check(self, facts):
        for w in facts.walk(ast.With):
            for item in w.items:
                call = item.context_expr
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "accumulate"):
                    continue
                ctor = _accelerator_ctor(facts, call.func.value, w, 0)
                if ctor is None or not _accumulates(ctor):
                    continue
                loop = next((st for st in w.body if isinstance(st, (ast.For, ast.AsyncFor, ast.While)) and _trains(st)), None)
                if loop is None:
                    continue
                fixes = []
                if len(w.body) == 1 and len(w.items) == 1 and isinstance(loop, ast.For) and not loop.orelse and loop.body and loop.body[0].lineno > loop.lineno == w.lineno + 1:
                    fixes.append(lambda w=w, loop=loop: _swap_fix(facts, w, loop))
                yield self.finding(
                    facts,
                    w,
                    f"`{facts.text(call)}` is entered once, around the whole loop (line {loop.lineno}): accelerate decides on entry "
                    "whether the steps inside apply, so with gradient accumulation every `optimizer.step()` of this loop is skipped on a "
                    "non-syncing entry",
                    related=[(ctor, "the accelerator accumulates gradients over several entries"), (loop, "the loop that should enter it once per batch")],
                    fixes=fixes,
                    explanation="`Accelerator.accumulate()` advances its step counter and sets `sync_gradients` once per entry; the prepared "
                    "optimizer steps only when it is true. Enter it once per batch, inside the loop.",
                    end_node=call,
                )


def _trains(loop: ast.AST) -> bool:
    back = step = False
    for n in walk_nodes(loop):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
            back = back or n.func.attr == "backward"
            step = step or n.func.attr == "step"
    return back and step


def _accumulates(ctor: ast.Call) -> bool:
    """Built with ``gradient_accumulation_steps`` other than 1 (a number above 1, or a value not known here)."""
    kw = next((k.value for k in ctor.keywords if k.arg == "gradient_accumulation_steps"), None)
    if kw is None:
        return any(k.arg is None for k in ctor.keywords)  # (``Accelerator(**cfg)``: may set it)
    if isinstance(kw, ast.Constant):
        return isinstance(kw.value, int) and kw.value > 1
    return True


def _accelerator_ctor(facts, expr: ast.AST, at: ast.AST, depth: int) -> Optional[ast.Call]:
    """The ``Accelerator(...)`` call ``expr`` holds: a local name bound to it, ``self.<attr>`` set to it in the class,
    or a parameter every caller in the file passes one to (the first such)."""
    if depth > 2:
        return None
    fn = facts.enclosing(at, (ast.FunctionDef, ast.AsyncFunctionDef))
    scope = fn if fn is not None else facts.tree
    if isinstance(expr, ast.Call) and (facts.imports.qualname(expr.func) or "") == _ACCELERATOR:
        return expr
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
        cls = facts.enclosing(at, (ast.ClassDef,))
        info = facts.modules.classes.get(cls.name) if cls is not None else None
        values = info.attr_values.get(expr.attr, []) if info is not None else []
        got = [v for v in values if isinstance(v, ast.Call) and (facts.imports.qualname(v.func) or "") == _ACCELERATOR]
        return got[0] if len(got) == 1 and len(values) == 1 else None
    if not isinstance(expr, ast.Name):
        return None
    values = facts.semantic.assigned_values(scope, expr.id)
    if values:
        got = [v for v in values if isinstance(v, ast.Call) and (facts.imports.qualname(v.func) or "") == _ACCELERATOR]
        return got[0] if len(got) == 1 and len(values) == 1 else None
    if fn is None or not facts.semantic.is_parameter(fn, expr.id):
        return None
    names = [a.arg for a in fn.args.args]
    i = names.index(expr.id) if expr.id in names else -1
    for call in facts.walk(ast.Call):
        if not (isinstance(call.func, ast.Name) and call.func.id == fn.name):
            continue
        arg = next((k.value for k in call.keywords if k.arg == expr.id), call.args[i] if 0 <= i < len(call.args) else None)
        if arg is not None:
            found = _accelerator_ctor(facts, arg, call, depth + 1)
            if found is not None:
                return found
    return None


def _swap_fix(facts, w: ast.With, loop: ast.For):
    """Swap the ``with`` and ``for`` header lines (each on one line): the body keeps its indentation."""
    src = facts.source
    with_line = src.line(w.lineno)
    for_line = src.line(loop.lineno)
    wi = len(with_line) - len(with_line.lstrip())
    fi = len(for_line) - len(for_line.lstrip())
    new = " " * wi + for_line.strip() + "\n" + " " * fi + with_line.strip() + "\n"
    return fix("Enter `accumulate()` once per batch, inside the loop", Edit(Pos(w.lineno, 0), Pos(loop.lineno + 1, 0), new), unsafe=True)
