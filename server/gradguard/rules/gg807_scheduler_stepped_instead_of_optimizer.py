"""GG807 scheduler-stepped-instead-of-optimizer: after ``backward()``, one branch steps the LR scheduler in place of the optimizer."""
from __future__ import annotations

import ast

from gradguard.core.model import Applicability, Severity
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
schedule) and the other branch steps an optimizer.

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

## Fix safety
The fix steps the optimizer first on the scheduler's branch too (`optimizer.step()` right before
`scheduler.step()`). It is unsafe: a per-batch scheduler stepped in the loop may have been meant to be
stepped once per epoch instead.
"""
    examples = (
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
    )

    def check(self, facts):
        binding = None
        for _owner, body in blocks(facts):
            for k, st in enumerate(body):
                # (cheap first: an if / else whose two arms both step something)
                if not (isinstance(st, ast.If) and st.orelse and _steps(st.body) and _steps(st.orelse)):
                    continue
                if not any(has_backward(x) for x in body[:k]):
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


def _steps(arm: list) -> bool:
    return any(stmt_call(x, "step") is not None for x in arm)
