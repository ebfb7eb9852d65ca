"""GG807 scheduler-stepped-instead-of-optimizer: after ``backward()``, one branch steps the LR scheduler in place of the optimizer."""
from __future__ import annotations

import ast

from gradguard.core.astindex import walk_nodes
from gradguard.core.model import Applicability, Severity
from gradguard.core.order import position
from gradguard.core.training import blocks, has_backward, step_binding, steps_a_scheduler, stmt_call
from gradguard.fixes import fix, insert_before_stmt
from gradguard.rules.base import Example, Rule


class SchedulerSteppedInsteadOfOptimizer(Rule):
    code = "GG807"
    name = "scheduler-stepped-instead-of-optimizer"
    summary = "After `backward()`, a branch steps the LR scheduler where the other steps the optimizer: on that branch the parameters never change."
    severity = Severity.WARNING
    needs = ("sched",)
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Flags `if ...: scheduler.step() else: optimizer.step()` after a `backward()`: the two are used as
alternatives, as if the scheduler stepped the optimizer for you. Reported only when the value stepped is
known to be a learning-rate scheduler (`torch.optim.lr_scheduler.*`, a `transformers` / `diffusers`
schedule) and the other branch steps an optimizer. The `if` may be the body of a helper the training loop calls right
after `backward()` (`def update(self):` on a trainer object that keeps `self.scheduler = StepLR(...) if schedule ==
"step" else None`).

Also flags the scheduler step of a loop that backpropagates, clears a known optimizer's gradients with
`zero_grad()` every iteration and steps a scheduler, while nothing in the function steps an optimizer:
no other `.step()` call, no call that is handed the optimizer, no function of the file it calls that steps
something.

## Why is this bad?
A learning-rate scheduler only rewrites `lr` in the optimizer's parameter groups; it never applies a
gradient. Whenever the scheduler branch runs, `backward()` fills `.grad` and nothing updates the
parameters: the model does not learn, while the loss is computed and logged as usual.

## Example
```python
loss.backward()
if scheduler is not None:
    scheduler.step()
else:
    optimizer.step()
```

## Use instead
```python
loss.backward()
optimizer.step()
if scheduler is not None:
    scheduler.step()
```

or, in a loop:
```python
for x, y in loader:
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    scheduler.step()          # no optimizer.step() anywhere
```

## Fix safety
The fix steps the optimizer first on the scheduler's branch (or in the loop) too (`optimizer.step()` right before
`scheduler.step()`). It is unsafe: a per-batch scheduler stepped in the loop may have been meant to be
stepped once per epoch instead.
"""
    examples = (
        Example(
            name="trainer-helper-steps-the-scheduler-instead-of-the-optimizer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Trainer:
    def __init__(self, model, schedule="step"):
        self.model = model
        self.optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=2) if schedule == "step" else None

    def update(self):
        if self.scheduler is not None:
            self.scheduler.step()
        else:
            self.optimizer.step()

    def fit(self, batches):
        for x, y in batches:
            self.optimizer.zero_grad()
            loss = F.mse_loss(self.model(x), y)
            loss.backward()
            self.update()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    before = model.weight.detach().clone()
    Trainer(model).fit([(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(3)])
    return {"model": model}, {"weight_changed": not torch.equal(before, model.weight)}
""",
            lines=(14,),
            expect={"facts": {"weight_changed": False}},
            fixed_expect={"facts": {"weight_changed": True}},
        ),
        Example(
            bad=False,
            name="trainer-helper-steps-the-optimizer-then-the-scheduler",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Trainer:
    def __init__(self, model, schedule="step"):
        self.model = model
        self.optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=2) if schedule == "step" else None

    def update(self):
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()

    def fit(self, batches):
        for x, y in batches:
            self.optimizer.zero_grad()
            loss = F.mse_loss(self.model(x), y)
            loss.backward()
            self.update()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    before = model.weight.detach().clone()
    Trainer(model).fit([(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(3)])
    return {"model": model}, {"weight_changed": not torch.equal(before, model.weight)}
""",
            expect={"facts": {"weight_changed": True}},
        ),
        Example(
            name="scheduler-stepped-in-place-of-the-optimizer",
            code="""import torch
import torch.nn as nn


def train_epoch(model, optimizer, scheduler=None):
    for _ in range(3):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        if scheduler is not None:
            scheduler.step()
        else:
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2)
    before = model.weight.detach().clone()
    train_epoch(model, optimizer, scheduler)
    return {"model": model}, {"changed": not torch.equal(before, model.weight.detach())}
""",
            lines=(11,),
            expect={"facts": {"changed": False}},
            fixed_expect={"facts": {"changed": True}},
        ),
        Example(
            bad=False,
            name="scheduler-stepped-after-the-optimizer",
            code="""import torch
import torch.nn as nn


def train_epoch(model, optimizer, scheduler=None):
    for _ in range(3):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2)
    before = model.weight.detach().clone()
    train_epoch(model, optimizer, scheduler)
    return {"model": model}, {"changed": not torch.equal(before, model.weight.detach())}
""",
            expect={"facts": {"changed": True}},
        ),
        Example(
            bad=False,
            name="either-optimizer-is-stepped",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    sgd = torch.optim.SGD(model.parameters(), lr=0.01)
    adam = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(adam, step_size=2)
    before = model.weight.detach().clone()
    for i in range(4):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        sgd.zero_grad()
        adam.zero_grad()
        loss.backward()
        if i < 2:
            sgd.step()
        else:
            adam.step()
            scheduler.step()
    return {"model": model}, {"changed": not torch.equal(before, model.weight.detach())}
""",
            expect={"facts": {"changed": True}},
        ),
        Example(
            name="scheduler-stepped-in-a-loop-that-never-steps-the-optimizer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def fit(model, batches, optimizer, scheduler):
    for x, y in batches:
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        scheduler.step()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, total_iters=4)
    batches = [(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(4)]
    before = model[0].weight.detach().clone()
    fit(model, batches, optimizer, scheduler)
    return {"model": model}, {"changed": not torch.equal(before, model[0].weight.detach())}
""",
            lines=(11,),
            expect={"facts": {"changed": False}},
            fixed_expect={"facts": {"changed": True}},
        ),
        Example(
            bad=False,
            name="optimizer-stepped-by-a-helper-in-the-loop",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def apply_update(model, optimizer, max_norm=1.0):
    nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()


def fit(model, batches, optimizer, scheduler):
    for x, y in batches:
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        apply_update(model, optimizer)
        scheduler.step()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, total_iters=4)
    batches = [(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(4)]
    before = model[0].weight.detach().clone()
    fit(model, batches, optimizer, scheduler)
    return {"model": model}, {"changed": not torch.equal(before, model[0].weight.detach())}
""",
            expect={"facts": {"changed": True}},
        ),
    )

    def check(self, facts):
        yield from self._loop_steps_no_optimizer(facts)
        binding = None
        for _owner, body in blocks(facts):
            for k, st in enumerate(body):
                # (cheap first: an if / else whose two arms both step something)
                if not (isinstance(st, ast.If) and st.orelse and _steps(st.body) and _steps(st.orelse)):
                    continue
                if not any(has_backward(x) for x in body[:k]) and not _called_after_backward(facts, st):
                    continue
                binding = binding or step_binding(facts)
                yield from self._arms(facts, binding, st)

    def _arms(self, facts, binding, st: ast.If):
        for sched_arm, opt_arm in ((st.body, st.orelse), (st.orelse, st.body)):
            opts = [c for x in opt_arm if (c := stmt_call(x, "step")) is not None and binding.optimizer(c)]
            if not opts or any((c := stmt_call(x, "step")) is not None and binding.optimizer(c) for x in sched_arm):
                continue
            scheds = [(x, c) for x in sched_arm if (c := stmt_call(x, "step")) is not None and steps_a_scheduler(binding, c)]
            if not scheds:
                continue
            sst, scall = scheds[0]
            opt = binding.optimizer(opts[0])
            ftext = facts.text(opts[0].func)

            def build(sst=sst, ftext=ftext, opt=opt):
                return fix(f"Step `{opt}` before the scheduler", insert_before_stmt(facts, sst, f"{ftext}()"), unsafe=True)

            yield self.finding(
                facts,
                scall,
                f"`{facts.text(scall.func)}()` runs here instead of `{opt}.step()`: a learning-rate scheduler only changes the "
                "learning rate, so whenever this branch runs the gradients of the backward() above are never applied and the "
                "parameters never change",
                related=[(opts[0], "the optimizer is stepped only on the other branch")],
                fixes=[build] if not opts[0].args and not opts[0].keywords else [],
                explanation="`scheduler.step()` updates `lr` in the optimizer's parameter groups; only `optimizer.step()` applies "
                "gradients. Step the optimizer on every branch, then the scheduler.",
            )
            return


    def _loop_steps_no_optimizer(self, facts):
        """A loop that backpropagates, clears a known optimizer's gradients and steps a scheduler every
        iteration, but steps no optimizer: each iteration's gradients are cleared before anything applies them."""
        if "zero_grad" not in facts.source.text:
            return
        binding = step_binding(facts)
        done: set = set()
        for fl in facts.backward_flows:
            for site in fl.backward_sites:
                if site.implicit or not site.loops or not isinstance(site.node, ast.Call):
                    continue
                loop = site.loops[-1]
                if id(loop) in done:
                    continue
                inside = [e for e in fl.events if loop in e.loops]
                scheds = [e for e in inside if e.what == "step" and isinstance(e.node, ast.Call) and position(e.node) > position(site.node) and steps_a_scheduler(binding, e.node)]
                zeros = [e for e in inside if e.what == "zero_grad" and e.target is not None and e.target.kind == "optimizer" and e.target.params and e.name]
                if not scheds or not zeros:
                    continue
                opt = zeros[0].name
                assert opt is not None
                if not _steps_nothing_else(facts, binding, fl.node, opt):
                    continue
                done.add(id(loop))
                scall = scheds[0].node
                sst = scheds[0].stmt
                assert isinstance(scall, ast.Call)

                def build(sst=sst, opt=opt):
                    return fix(f"Step `{opt}` before the scheduler", insert_before_stmt(facts, sst, f"{opt}.step()"), unsafe=True) if sst is not None else None

                yield self.finding(
                    facts,
                    scall,
                    f"`{facts.text(scall.func)}()` runs where `{opt}.step()` belongs: nothing in this loop steps `{opt}`, so the "
                    f"gradients of each backward() are cleared by `{opt}.zero_grad()` before anything applies them and the "
                    "parameters do not train; a learning-rate scheduler only changes the learning rate",
                    related=[(site.node, "the gradients computed here are never applied"), (zeros[0].node, "and cleared here on the next iteration")],
                    fixes=[build],
                    explanation="`scheduler.step()` updates `lr` in the optimizer's parameter groups; only `optimizer.step()` applies "
                    "gradients. Step the optimizer after backward(), then the scheduler.",
                )


def _steps_nothing_else(facts, binding, scope: ast.AST, opt: str) -> bool:
    """Does nothing in ``scope`` (the function holding the loop) step an optimizer: every ``.step()`` call
    there steps a scheduler, ``opt`` is handed to no call (a helper could step it), and no in-file function
    it calls steps anything?"""
    local = {n.id for n in walk_nodes(scope) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for node in walk_nodes(scope):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr == "step" and not steps_a_scheduler(binding, node):
            return False
        if any(facts.text(a) == opt or opt.startswith(facts.text(a) + ".") for a in (*node.args, *(k.value for k in node.keywords))):
            return False  # the optimizer (or the object holding it) goes to a call that may step it
        callee = None
        if isinstance(f, ast.Name) and f.id not in local:
            callee = facts.flow.functions.get(f.id)
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self":
            callee = next((info.methods.get(f.attr) for info in facts.modules.classes.values() if f.attr in info.methods), None)
        if callee is not None and ".step(" in facts.text(callee):
            return False
    return True


def _steps(arm: list) -> bool:
    return any(stmt_call(x, "step") is not None for x in arm)


def _called_after_backward(facts, st: ast.If) -> bool:
    """Is the ``if`` the body of a helper (``def update(self):``, at its top level) that the file calls right after a
    ``backward()`` (``loss.backward(); self.update()``), so its arms are what follows the backward?"""
    fn = facts.enclosing(st, (ast.FunctionDef, ast.AsyncFunctionDef))
    if fn is None or st not in fn.body:
        return False
    for _owner, body in blocks(facts):
        for k, x in enumerate(body):
            call = x.value if isinstance(x, (ast.Expr, ast.Assign)) else None
            if isinstance(call, ast.Call) and ((isinstance(call.func, ast.Attribute) and call.func.attr == fn.name) or (isinstance(call.func, ast.Name) and call.func.id == fn.name)) \
                    and any(has_backward(y) for y in body[:k]):
                return True
    return False
