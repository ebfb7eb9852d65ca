"""GG802 missing-zero-grad: a training loop that calls ``backward()`` and ``step()`` but never clears gradients."""
from __future__ import annotations

import ast
from typing import Optional, cast

from gradguard.core.astindex import walk_nodes
from gradguard.core.flow import BackwardSite
from gradguard.core.model import Applicability, Fix, Severity
from gradguard.core.training import params_of, stepped_optimizer
from gradguard.fixes import fix, insert_before_stmt
from gradguard.rules.base import Example, Rule

_CLEAR_HINTS = ("zero_grad", "zero_grads", "clear_grad", "reset_grad", "zerograd", "set_to_none", "zero_gradients", "grads_to_none")


def is_tensor_backward(site) -> bool:
    call = site.node
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "backward"


def _call_position(site: BackwardSite) -> tuple[int, int]:
    call = cast(ast.Call, site.node)  # an is_tensor_backward() site
    return (call.lineno, call.col_offset)


def optimizer_of_step(facts, ev) -> Optional[str]:
    """The optimizer a ``step`` event steps, as source text (the training model binds it by value)."""
    return stepped_optimizer(ev)


def _names_clearing(node: ast.AST) -> bool:
    for sub in walk_nodes(node):
        if isinstance(sub, ast.Call):
            f = sub.func
            fname = f.attr if isinstance(f, ast.Attribute) else (f.id if isinstance(f, ast.Name) else "")
            low = fname.lower()
            if any(h in low for h in _CLEAR_HINTS):
                return True
            if fname in ("zero_", "detach_", "fill_", "mul_") and isinstance(f, ast.Attribute):
                for x in walk_nodes(f.value):
                    if isinstance(x, ast.Attribute) and x.attr == "grad":
                        return True
                    if isinstance(x, ast.Name) and "grad" in x.id.lower():
                        return True
            for kw in sub.keywords:
                if kw.arg == "set_to_none":
                    return True
        elif isinstance(sub, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = sub.targets if isinstance(sub, (ast.Assign, ast.Delete)) else [sub.target]
            for t in targets:
                for x in walk_nodes(t):
                    if isinstance(x, ast.Attribute) and x.attr == "grad":
                        return True
    return False


# what a call named for gradients does when it is not clearing them: clipping or measuring them, switching grad
# mode, marking tensors (``accelerator.clip_grad_norm_(...)``, ``self.clip_gradients(...)``, ``log_grad_norm(model)``)
_KEEPS_GRADIENTS = ("clip", "norm", "no_grad", "enable_grad", "grad_enabled", "requires_grad", "retain_grad", "checkpoint", "autograd")


def _may_clear(name: str) -> bool:
    """Can an unseen callable of this name clear gradients? Named for gradients, and not for what keeps them."""
    low = name.lower()
    return "grad" in low and name != "backward" and not any(k in low for k in _KEEPS_GRADIENTS)


def clears_gradients(facts, fl, loop: ast.AST) -> bool:
    """Does anything in ``loop`` (or a function it calls, one level deep) clear gradients?"""
    if _names_clearing(loop):
        return True
    info = facts.modules.classes.get(fl.owner) if fl.owner else None
    for sub in walk_nodes(loop):
        if not isinstance(sub, ast.Call):
            continue
        f = sub.func
        target = None
        if isinstance(f, ast.Name):
            target = facts.flow.functions.get(f.id)
            if target is None and _may_clear(f.id):
                return True
        elif isinstance(f, ast.Attribute):
            if isinstance(f.value, ast.Name) and f.value.id == "self" and info is not None:
                target = facts.modules.method(info.name, f.attr)
            if target is None and facts.imports.qualname(f) is None and _may_clear(f.attr):
                return True
        if target is not None and _names_clearing(target) and not _clears_only_own_objects(facts, target):
            return True
    return False


def _clears_only_own_objects(facts, fn) -> bool:
    """A helper whose every ``zero_grad()`` clears a model it created itself (``probe = copy.deepcopy(model)``)
    does not clear the caller's gradients."""
    fl = facts.flow.flow(fn)
    zeros = [e for e in fl.events if e.what == "zero_grad"]
    if not zeros or any(isinstance(n, ast.Attribute) and n.attr == "grad" and isinstance(n.ctx, ast.Store) for n in walk_nodes(fn)):
        return False
    def own(r: str) -> bool:
        return any(r == c or r.startswith(c + ".") for c in fl.created)
    return all(e.target is not None and params_of(e.target) and all(own(r) for r in params_of(e.target)) for e in zeros)


def loop_contains(loop: ast.stmt, node: ast.stmt) -> bool:
    start = (loop.lineno, loop.col_offset)
    end = (loop.end_lineno, loop.end_col_offset)
    return start <= (node.lineno, node.col_offset) and (node.lineno, node.col_offset) <= end


class MissingZeroGrad(Rule):
    code = "GG802"
    name = "missing-zero-grad"
    summary = "A training loop calls `backward()` and `optimizer.step()` but never clears gradients: each step applies the sum of all previous gradients."
    severity = Severity.WARNING
    needs = ("backward",)
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Finds loops whose body calls `loss.backward()` and `optimizer.step()` (or `scaler.step(optimizer)`)
but clears gradients nowhere in the loop: no `zero_grad()` (of the optimizer or the model), no
`p.grad = None`, no `p.grad.zero_()`, no helper that does it. Gradient accumulation stays silent: when
`backward()` runs in an inner loop and the step (and `zero_grad()`) happen outside it, or when the step
sits under `if (i + 1) % k == 0:` next to its `zero_grad()`.

## Why is this bad?
`backward()` *adds* into `.grad`. Without clearing, the gradient used at step *k* is the sum of the
gradients of steps 1..k: updates grow, momentum and Adam statistics are corrupted and training diverges
or stalls, with no error.

## Example
```python
for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
```

## Use instead
```python
for x, y in loader:
    loss = criterion(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
```

## Fix safety
Inserting `optimizer.zero_grad()` at the start of the loop's body (or, for a one-line body, right before the
`backward()`) is safe: the gradient that `step()` applies becomes the current iteration's gradient, which is what a
loop that steps every iteration means, and code between the start of the iteration and the `backward()` that reads
the gradients (a check, a log) sees them cleared too. If accumulation across iterations is intended, the step belongs under a condition.
"""
    examples = (
        Example(
            name="accelerate-loop-that-clips-but-never-clears",
            code="""import torch
import torch.nn as nn
from accelerate import Accelerator


def train(accelerator, model, optimizer, batches):
    fresh = True
    for x, y in batches:
        loss = nn.functional.mse_loss(model(x), y)
        (expected,) = torch.autograd.grad(loss, model.weight, retain_graph=True)
        accelerator.backward(loss)
        fresh = fresh and bool(torch.allclose(model.weight.grad, expected))
        accelerator.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return fresh


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    model, optimizer = accelerator.prepare(model, optimizer)
    batches = [(torch.randn(8, 3), torch.randn(8, 1)) for _ in range(3)]
    return {"model": model}, {"grad_is_fresh": train(accelerator, model, optimizer, batches)}
""",
            lines=(11,),
            expect={"grad_ok": ["model.weight"], "facts": {"grad_is_fresh": False}},
        ),
        Example(
            bad=False,
            name="accelerate-loop-that-clears-then-clips",
            code="""import torch
import torch.nn as nn
from accelerate import Accelerator


def train(accelerator, model, optimizer, batches):
    fresh = True
    for x, y in batches:
        loss = nn.functional.mse_loss(model(x), y)
        (expected,) = torch.autograd.grad(loss, model.weight, retain_graph=True)
        optimizer.zero_grad()
        accelerator.backward(loss)
        fresh = fresh and bool(torch.allclose(model.weight.grad, expected))
        accelerator.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return fresh


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    model, optimizer = accelerator.prepare(model, optimizer)
    batches = [(torch.randn(8, 3), torch.randn(8, 1)) for _ in range(3)]
    return {"model": model}, {"grad_is_fresh": train(accelerator, model, optimizer, batches)}
""",
            expect={"grad_ok": ["model.weight"], "facts": {"grad_is_fresh": True}},
        ),
        Example(
            name="accumulating-loop",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    fresh_each_time = True
    for epoch in range(4):
        loss = ((net(x) - y) ** 2).mean()
        (expected,) = torch.autograd.grad(loss, net.weight, retain_graph=True)
        loss.backward()
        fresh_each_time = fresh_each_time and bool(torch.allclose(net.weight.grad, expected))
        opt.step()
    return {"net": net}, {"grad_is_fresh": fresh_each_time}
""",
            lines=(14,),
            expect={"grad_ok": ["net.weight"], "facts": {"grad_is_fresh": False}},
        ),
        Example(
            name="method-with-self-optimizer",
            code="""import torch
from torch import nn


class Trainer:
    def __init__(self):
        self.model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-2)

    def fit(self, batches):
        ok = True
        for xb, yb in batches:
            loss = nn.functional.mse_loss(self.model(xb), yb)
            (g,) = torch.autograd.grad(loss, self.model[0].weight, retain_graph=True)
            loss.backward()
            ok = ok and bool(torch.allclose(self.model[0].weight.grad, g))
            self.optimizer.step()
        return ok


def main():
    torch.manual_seed(0)
    t = Trainer()
    ok = t.fit([(torch.randn(5, 4), torch.randn(5, 1)) for _ in range(3)])
    return {"model": t.model}, {"grad_is_fresh": ok}
""",
            lines=(15,),
            expect={"grad_ok": ["model.0.weight"], "facts": {"grad_is_fresh": False}},
        ),
        Example(
            bad=False,
            name="accumulate-then-step",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    data = [(torch.randn(4, 3), torch.randn(4, 1)) for _ in range(6)]
    for i, (x, y) in enumerate(data):
        loss = nn.functional.mse_loss(net(x), y) / 2
        loss.backward()
        if (i + 1) % 2 == 0:
            opt.step()
            opt.zero_grad()
    for x, y in data:
        for p in net.parameters():
            p.grad = None
        nn.functional.mse_loss(net(x), y).backward()
        opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight"]},
        ),
        Example(
            bad=False,
            name="scheduler-step-and-micro-batches",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1)
    for epoch in range(2):
        opt.zero_grad()
        for chunk in torch.randn(6, 3).chunk(3):
            net(chunk).pow(2).mean().backward()
        opt.step()
        sched.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight"]},
        ),
    )

    def check(self, facts):
        for fl in facts.backward_flows:
            sites: dict[int, BackwardSite] = {}
            for s in fl.backward_sites:
                if s.loops and is_tensor_backward(s) and s.mode.enabled:
                    sites.setdefault(id(s.node), s)
            if not sites:
                continue
            steps = [e for e in fl.events if e.what == "step" and e.loops]
            if not steps:
                continue
            done = set()
            for site in sorted(sites.values(), key=_call_position):
                for loop in reversed(site.loops):
                    in_loop = [e for e in steps if loop in e.loops]
                    if not in_loop:
                        continue
                    if id(loop) in done:
                        break
                    done.add(id(loop))
                    opts = [o for e in in_loop if (o := optimizer_of_step(facts, e))]
                    if not opts:
                        break
                    if clears_gradients(facts, fl, loop):
                        break
                    if any(o.stmt is not None and loop_contains(loop, o.stmt) for o in fl.optimizers):
                        break  # a fresh optimizer (and usually model) per iteration
                    opt = opts[0]
                    step_ev = next(e for e in in_loop if optimizer_of_step(facts, e))

                    # at the top of the loop's body, where each iteration starts afresh (code between that and the
                    # backward may read the gradients: a check, a log), else right before the backward
                    first = loop.body[0] if isinstance(loop, (ast.For, ast.AsyncFor, ast.While)) and loop.body else None
                    at = first if first is not None and first.lineno != loop.lineno else site.stmt

                    def build(st: Optional[ast.stmt] = at, o: str = opt) -> Optional[Fix]:
                        # no statement: no edit, so no fix (as when insert_before_stmt(None) raised)
                        return fix(f"Call `{o}.zero_grad()` at the start of each iteration", insert_before_stmt(facts, st, f"{o}.zero_grad()") if st is not None else None)

                    yield self.finding(
                        facts,
                        site.node,
                        f"gradients are never cleared in this loop: each `backward()` adds to `.grad`, so `{opt}.step()` applies the sum of all previous iterations' gradients",
                        related=[(step_ev.node, "steps with the accumulated gradient"), (loop, "loop without `zero_grad()`")],
                        fixes=[build],
                        explanation="`Tensor.backward()` accumulates into `.grad`; without `zero_grad()` (or `p.grad = None`) every step uses the running sum of gradients, not the current one.",
                    )
                    break
