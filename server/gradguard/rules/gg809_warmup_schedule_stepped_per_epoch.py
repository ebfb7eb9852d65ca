"""GG809 warmup-schedule-stepped-per-epoch: a warmup schedule counted in optimizer steps, whose learning rate is 0
until its first ``step()``, stepped once per epoch: the whole first epoch trains at lr 0."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.model import Applicability, Edit, Severity
from gradguard.core.source import Pos
from gradguard.core.training import step_binding, stmt_call
from gradguard.fixes import fix, insert_after_stmt, replace_node
from gradguard.rules.base import Example, Rule

# Schedules of transformers / diffusers whose factor is ``step / num_warmup_steps`` during warmup: 0 at step 0,
# which ``LambdaLR`` applies as soon as it is built. (The optimizer argument, then the warmup length.)
_WARMUP_FACTORIES = frozenset({
    "get_linear_schedule_with_warmup", "get_cosine_schedule_with_warmup", "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup", "get_constant_schedule_with_warmup",
})
# ``get_scheduler(name, optimizer, num_warmup_steps=...)``: the names whose schedule starts with that warmup
_WARMUP_NAMES = frozenset({"linear", "cosine", "cosine_with_restarts", "polynomial", "constant_with_warmup"})
_LIBRARIES = ("transformers", "diffusers")
_LOOPS = (ast.For, ast.AsyncFor, ast.While)


def _positive(facts, node: Optional[ast.AST], scope: ast.AST) -> Optional[int]:
    """``node`` as a positive int: a literal, or a name bound once in ``scope`` to one; else None."""
    if isinstance(node, ast.Name):
        binds = [st.value for st in walk_nodes(scope) if isinstance(st, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id for t in st.targets)]
        node = binds[0] if len(binds) == 1 else None
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool) and node.value > 0:
        return node.value
    return None


def warmup_steps(facts, call: ast.AST, scope: ast.AST) -> Optional[int]:
    """The warmup length of a schedule built by ``call`` that starts at lr 0 (a positive ``num_warmup_steps`` of a
    transformers / diffusers warmup schedule), else None."""
    if not isinstance(call, ast.Call):
        return None
    q = facts.imports.qualname(call.func) or _imported_from_a_library(facts, call.func)
    short = q.rsplit(".", 1)[-1]
    if not q.startswith(_LIBRARIES):
        return None
    kw = next((k.value for k in call.keywords if k.arg == "num_warmup_steps"), None)
    if short in _WARMUP_FACTORIES:
        return _positive(facts, kw if kw is not None else (call.args[1] if len(call.args) > 1 else None), scope)
    if short == "get_scheduler":
        name = next((k.value for k in call.keywords if k.arg == "name"), call.args[0] if call.args else None)
        if not (isinstance(name, ast.Constant) and name.value in _WARMUP_NAMES):
            return None
        return _positive(facts, kw if kw is not None else (call.args[2] if len(call.args) > 2 else None), scope)
    return None


def _imported_from_a_library(facts, func: ast.AST) -> str:
    """``get_linear_schedule_with_warmup(...)`` when the library's own source is linked into the program (its import
    then names a linked function, not ``transformers``): the factories' names are the library's, so
    ``transformers.<name>``; "" for any other call (``get_scheduler`` is too common a name to read alone)."""
    return f"transformers.{func.id}" if isinstance(func, ast.Name) and func.id in _WARMUP_FACTORIES and func.id not in facts.imports.aliases else ""


def _enclosing_loop(facts, node: ast.AST, stop: ast.AST) -> Optional[ast.AST]:
    p = facts.parent(node)
    while p is not None and p is not stop:
        if isinstance(p, _LOOPS):
            return p
        p = facts.parent(p)
    return None


def _within(node: ast.AST, outer: Optional[ast.AST]) -> bool:
    if outer is None:
        return False
    start, end = getattr(node, "lineno", 0), getattr(node, "end_lineno", None) or getattr(node, "lineno", 0)
    return bool(outer.lineno <= start and end <= (outer.end_lineno or outer.lineno))  # type: ignore[attr-defined]


class WarmupScheduleSteppedPerEpoch(Rule):
    code = "GG809"
    name = "warmup-schedule-stepped-per-epoch"
    summary = "A warmup schedule counted in optimizer steps (its learning rate is 0 until its first `step()`) is stepped once per epoch: the whole first epoch trains at lr 0."
    severity = Severity.WARNING
    needs = ("warmup",)
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Finds a learning-rate schedule of `transformers` / `diffusers` with a warmup (`get_linear_schedule_with_warmup`,
`get_cosine_schedule_with_warmup`, `get_scheduler("linear", ...)`, ...) and a positive `num_warmup_steps`
(a literal, or a name bound once to one) that is stepped once per epoch:
- in a training loop, `scheduler.step()` in the epoch loop while the optimizer is stepped in the batch loop
  nested in it (and the scheduler is not stepped there too);
- in a Lightning `configure_optimizers` (automatic optimization), a scheduler returned without
  `"interval": "step"` (`return [optimizer], [scheduler]`, `{"optimizer": ..., "lr_scheduler": scheduler}`, or a
  scheduler dict without that key): Lightning steps it at the end of every epoch.

## Why is this bad?
These schedules multiply the learning rate by `step / num_warmup_steps` during the warmup: the factor is 0 at
step 0, and `LambdaLR` applies it as soon as the schedule is built. Stepped once per epoch, the schedule is still at
step 0 for every batch of the first epoch: each `optimizer.step()` applies a learning rate of 0 and the parameters
do not change (a one-epoch run trains nothing), and the warmup meant to last `num_warmup_steps` optimizer steps
lasts that many epochs. Nothing raises; the loss just stays flat.

## Example
```python
scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=100, num_training_steps=1000)
for epoch in range(epochs):
    for x, y in loader:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    scheduler.step()
```

## Use instead
```python
    for x, y in loader:
        ...
        optimizer.step()
        scheduler.step()
```
In Lightning: `return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}`.

## Fix safety
The fix steps the schedule after the optimizer in the batch loop (in Lightning, returns it with
`"interval": "step"`), which is the unit its arguments are counted in; it changes the learning rate of every
later step, so it is marked unsafe. A schedule meant per epoch needs its warmup length in epochs instead.
"""
    examples = (
        Example(
            name="warmup-schedule-stepped-in-the-epoch-loop",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import get_linear_schedule_with_warmup


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    start = model.weight.detach().clone()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=10, num_training_steps=100)
    data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(5)]
    for epoch in range(1):
        for x, y in data:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
        scheduler.step()
    return {"model": model}, {"trained": not torch.equal(start, model.weight)}
""",
            lines=(19,),
            expect={"grad_ok": ["model.weight"], "facts": {"trained": False}},
            fixed_expect={"facts": {"trained": True}},
        ),
        Example(
            bad=False,
            name="warmup-schedule-stepped-after-every-optimizer-step",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import get_linear_schedule_with_warmup


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    start = model.weight.detach().clone()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=10, num_training_steps=100)
    data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(5)]
    for epoch in range(1):
        for x, y in data:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
            scheduler.step()
    return {"model": model}, {"trained": not torch.equal(start, model.weight)}
""",
            expect={"grad_ok": ["model.weight"], "facts": {"trained": True}},
        ),
        Example(
            bad=False,
            name="schedule-without-warmup-stepped-per-epoch",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import get_linear_schedule_with_warmup


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    start = model.weight.detach().clone()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=0, num_training_steps=3)
    data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(5)]
    for epoch in range(1):
        for x, y in data:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
        scheduler.step()
    return {"model": model}, {"trained": not torch.equal(start, model.weight)}
""",
            expect={"grad_ok": ["model.weight"], "facts": {"trained": True}},
        ),
        Example(
            name="lightning-returns-the-warmup-schedule-without-an-interval",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset
from transformers import get_linear_schedule_with_warmup


class Classifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 2)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.net(x), y)

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-2)
        scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=10, num_training_steps=100)
        return [optimizer], [scheduler]


def main():
    torch.manual_seed(0)
    model = Classifier()
    start = model.net.weight.detach().clone()
    x = torch.randn(40, 4)
    loader = DataLoader(TensorDataset(x, (x[:, 0] > 0).long()), batch_size=8)
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"trained": not torch.equal(start, model.net.weight)}
""",
            lines=(21,),
            expect={"facts": {"trained": False}},
            fixed_expect={"facts": {"trained": True}},
        ),
        Example(
            bad=False,
            name="lightning-returns-the-warmup-schedule-stepped-every-step",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset
from transformers import get_linear_schedule_with_warmup


class Classifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 2)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.net(x), y)

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-2)
        scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=10, num_training_steps=100)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def main():
    torch.manual_seed(0)
    model = Classifier()
    start = model.net.weight.detach().clone()
    x = torch.randn(40, 4)
    loader = DataLoader(TensorDataset(x, (x[:, 0] > 0).long()), batch_size=8)
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"trained": not torch.equal(start, model.net.weight)}
""",
            expect={"facts": {"trained": True}},
        ),
    )

    def check(self, facts):
        for fn in facts.walk(ast.FunctionDef):
            if "warmup" not in facts.text(fn):
                continue
            for st in walk_nodes(fn):
                if not (isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name)):
                    continue
                if facts.enclosing(st, (ast.FunctionDef, ast.AsyncFunctionDef)) is not fn:
                    continue
                n = warmup_steps(facts, st.value, fn)
                if n is None:
                    continue
                var = st.targets[0].id
                yield from self._loop_steps(facts, fn, st, var, n)
                yield from self._lightning(facts, fn, st, var, n)

    def _loop_steps(self, facts, fn, built: ast.Assign, var: str, n: int):
        """``scheduler.step()`` in an epoch loop whose nested batch loop steps the optimizer."""
        steps = [(s, c) for s in walk_nodes(fn) if isinstance(s, ast.stmt) and (c := stmt_call(s, "step")) is not None]
        mine = [(s, c) for s, c in steps if isinstance(c.func, ast.Attribute) and isinstance(c.func.value, ast.Name) and c.func.value.id == var and not c.args and not c.keywords]
        binding = step_binding(facts)
        for s, c in mine:
            epoch = _enclosing_loop(facts, s, fn)
            if epoch is None or s.lineno < built.lineno:
                continue
            inner = [(os_, oc) for os_, oc in steps if (os_, oc) not in mine and binding.optimizer(oc) is not None and _within(os_, epoch)]
            inner = [(os_, oc) for os_, oc in inner if (lp := _enclosing_loop(facts, os_, fn)) is not None and lp is not epoch and _within(lp, epoch) and not _within(s, lp)]
            if not inner:
                continue
            batch_loop = _enclosing_loop(facts, inner[0][0], fn)
            if any(_within(ms, batch_loop) for ms, _ in mine):
                continue  # also stepped in the batch loop
            ost, ocall = inner[0]

            def build(s=s, ost=ost):
                line = s.lineno
                return fix(f"Step `{var}` after the optimizer, in the batch loop", Edit(Pos(line, 0), Pos((s.end_lineno or line) + 1, 0), ""),
                           insert_after_stmt(facts, ost, facts.text(s)), unsafe=True)

            yield self.finding(
                facts,
                c,
                f"`{var}` is a warmup counted in optimizer steps (`num_warmup_steps={n}`), whose learning rate is 0 until its first "
                f"`step()`, but it is stepped once per epoch here: every optimizer step of the first epoch uses lr 0 (the parameters "
                f"do not change in it), and the warmup lasts {n} epochs",
                related=[(ocall, "the optimizer is stepped once per batch here"), (built.value, "the schedule starts at lr 0")],
                fixes=[build],
                explanation="Warmup schedules of transformers / diffusers multiply the learning rate by `step / num_warmup_steps`, "
                "0 at step 0, applied when the schedule is built. Step the schedule after every `optimizer.step()`.",
            )

    def _lightning(self, facts, fn, built: ast.Assign, var: str, n: int):
        """A LightningModule's ``configure_optimizers`` returning the schedule without ``"interval": "step"``."""
        if fn.name != "configure_optimizers":
            return
        cls = facts.enclosing(fn, ast.ClassDef)
        info = facts.modules.classes.get(cls.name) if cls is not None else None
        if info is None or info.framework != "lightning" or info.manual_optimization:
            return
        for ret in walk_nodes(fn):
            if not isinstance(ret, ast.Return) or ret.value is None or facts.enclosing(ret, (ast.FunctionDef, ast.AsyncFunctionDef)) is not fn:
                continue
            ref = next((x for x in walk_nodes(ret.value) if isinstance(x, ast.Name) and x.id == var and isinstance(x.ctx, ast.Load)), None)
            if ref is None:
                continue
            parent = facts.parent(ref)
            edit: Optional[Edit] = None  # how ``"interval": "step"`` goes in
            if isinstance(parent, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == "scheduler" and v is ref for k, v in zip(parent.keys, parent.values)):
                if any(isinstance(k, ast.Constant) and k.value == "interval" for k in parent.keys):
                    continue  # an interval given (``"step"``, or a value the model does not know): not claimed
                if parent.keys[-1] is not None:  # (not after a ``**rest``)
                    at = facts.end(parent.values[-1])
                    edit = Edit(at, at, ', "interval": "step"')
            elif isinstance(parent, (ast.List, ast.Tuple)) or (
                isinstance(parent, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == "lr_scheduler" and v is ref for k, v in zip(parent.keys, parent.values))
            ):
                edit = replace_node(facts, ref, f'{{"scheduler": {var}, "interval": "step"}}')
            else:
                continue

            def build(edit=edit):
                return fix("Step the schedule after every optimizer step (`\"interval\": \"step\"`)", edit, unsafe=True)

            yield self.finding(
                facts,
                ret,
                f"Lightning steps `{var}` once per epoch (it is returned without `\"interval\": \"step\"`), but it is a warmup "
                f"counted in optimizer steps (`num_warmup_steps={n}`) whose learning rate is 0 until its first step: the first "
                f"epoch trains at lr 0 (the parameters do not change in it), and the warmup lasts {n} epochs",
                related=[(built.value, "the schedule starts at lr 0")],
                fixes=[build] if edit is not None else [],
                explanation="Lightning's default scheduler interval is the epoch. Warmup schedules of transformers / diffusers "
                "multiply the learning rate by `step / num_warmup_steps`, 0 at step 0. Return the scheduler as "
                "`{\"scheduler\": scheduler, \"interval\": \"step\"}`.",
            )
            return
