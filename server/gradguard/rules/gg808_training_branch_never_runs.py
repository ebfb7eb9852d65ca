"""GG808 training-branch-never-runs: the branch holding ``backward()`` is skipped on every call the file makes,
because its test is false for every value the callers pass."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.model import Severity
from gradguard.rules.base import Example, Rule


class TrainingBranchNeverRuns(Rule):
    code = "GG808"
    name = "training-branch-never-runs"
    summary = "The branch that calls `backward()` is skipped on every call: its test is false for every value the callers pass (in this file, or in the workspace files that call it), so the model is never trained."
    severity = Severity.WARNING
    needs = ("backward",)
    docs = """
## What it does
Follows the constants a function is called with (`run_phase(model, loader, opt, phase)` inside
`for phase in ("train", "val")`) into its branches. When the branch holding `backward()` is skipped on
every call in the file, because its test is false for every value passed (`is_training = phase ==
"training"`, `if is_training:`), the test is flagged: the loss is computed and logged, but no gradient is
ever computed or applied. Reported only when every call of the function in the file is analyzed with its
arguments; a function some call site gives an unknown value stays silent.

## Why is this bad?
Nothing raises: the loop runs, the loss is printed, the scheduler steps. Only the weights never change,
which shows up hours later as a flat validation curve.

## Example
```python
def run_phase(model, loader, optimizer, phase):
    is_training = phase == "training"      # the phases are "train" and "val"
    for x, y in loader:
        loss = criterion(model(x), y)
        if is_training:
            loss.backward()
            optimizer.step()

for phase in ("train", "val"):
    run_phase(model, loaders[phase], optimizer, phase)
```

## Use instead
```python
    is_training = phase == "train"
```

## Fix safety
No fix is offered: which of the test and the values passed is wrong is for the author to decide.
"""
    examples = (
        Example(
            name="training-branch-keyed-on-a-phase-name-never-passed",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def run_phase(model, batches, optimizer, phase):
    is_training = phase == "training"
    model.train(is_training)
    total = 0.0
    for x, y in batches:
        loss = F.mse_loss(model(x), y)
        if is_training:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        total += loss.item()
    return total


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = {p: [(torch.randn(8, 4), torch.randn(8, 1))] for p in ("train", "val")}
    before = model[0].weight.detach().clone()
    for phase in ("train", "val"):
        run_phase(model, batches[phase], optimizer, phase)
    return {"model": model}, {"changed": not torch.equal(before, model[0].weight.detach())}
""",
            lines=(7,),
            expect={"grad_none": ["model.0.weight"], "facts": {"changed": False}},
        ),
        Example(
            bad=False,
            name="training-branch-keyed-on-the-phase-passed",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def run_phase(model, batches, optimizer, phase):
    is_training = phase == "train"
    model.train(is_training)
    total = 0.0
    for x, y in batches:
        loss = F.mse_loss(model(x), y)
        if is_training:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        total += loss.item()
    return total


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = {p: [(torch.randn(8, 4), torch.randn(8, 1))] for p in ("train", "val")}
    before = model[0].weight.detach().clone()
    for phase in ("train", "val"):
        run_phase(model, batches[phase], optimizer, phase)
    return {"model": model}, {"changed": not torch.equal(before, model[0].weight.detach())}
""",
            expect={"facts": {"changed": True}},
        ),
        Example(
            bad=False,
            name="evaluation-only-calls-with-a-training-call-too",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def run(model, batches, optimizer, train=False):
    total = 0.0
    for x, y in batches:
        with torch.set_grad_enabled(train):
            loss = F.mse_loss(model(x), y)
        if train:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        total += loss.item()
    return total


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [(torch.randn(8, 4), torch.randn(8, 1))]
    before = model[0].weight.detach().clone()
    run(model, batches, optimizer, False)
    run(model, batches, optimizer, train=True)
    run(model, batches, optimizer)
    return {"model": model}, {"changed": not torch.equal(before, model[0].weight.detach())}
""",
            expect={"facts": {"changed": True}},
        ),
    )

    def check(self, facts):
        calls = facts.flow.call_contexts
        if not calls:
            return
        by_fn: dict = {}
        for node, ctxs in calls.values():
            if not ctxs or any(c is None for c in ctxs):
                continue
            fns = {id(c.node) for c in ctxs}
            if len(fns) != 1:
                continue
            by_fn.setdefault(id(ctxs[0].node), (ctxs[0].node, []))[1].append((node, ctxs))
        for fn, walked in by_fn.values():
            if not _every_call_walked(facts, fn, {id(n) for n, _ in walked}):
                continue
            summary = facts.flow.flow(fn)
            flows = [c for _, ctxs in walked for c in ctxs]
            for site in summary.backward_sites:
                if site.implicit or not isinstance(site.node, ast.Call):
                    continue
                tests = []
                for ctx in flows:
                    if any(s.node is site.node for s in ctx.backward_sites):
                        break
                    dead = _dead_branch_around(ctx, site.node)
                    if dead is None:
                        break
                    tests.append(dead)
                else:
                    if not tests:
                        continue
                    st = tests[0]
                    yield self._finding(facts, fn, st, site)
                    break

    def _finding(self, facts, fn, st: ast.If, site):
        test = st.test
        where: ast.AST = test
        related = [(site.node, "this backward() never runs"), (st, "the branch skipped on every call")]
        if isinstance(test, ast.Name):
            binds = [b for b in facts.own_nodes(fn) if isinstance(b, ast.Assign) and len(b.targets) == 1 and isinstance(b.targets[0], ast.Name)
                     and b.targets[0].id == test.id and b.lineno < st.lineno]
            if len(binds) == 1:
                where = binds[0].value
        return self.finding(
            facts,
            where,
            f"`{facts.text(test)}` is false on every call of `{getattr(fn, 'name', '?')}` (for every value its callers pass): "
            f"the branch with backward() at line {site.node.lineno} never runs, so no gradient is computed or applied and the model is never trained",
            related=related,
            explanation="The test of the training branch depends on values the callers pass, and none of them makes it true: the loss is "
            "computed (and usually logged) but never backpropagated. Compare against the values the callers really pass.",
        )


def _dead_branch_around(ctx, node: ast.AST) -> Optional[ast.If]:
    """The ``if`` whose skipped block (in flow ``ctx``) holds ``node``; None when there is none."""
    for ev in ctx.events:
        if ev.what != "dead_branch" or not isinstance(ev.node, ast.If):
            continue
        block = ev.node.body if ev.extra == "body" else ev.node.orelse
        if any(n is node for st in block for n in walk_nodes(st)):
            return ev.node
    return None


def _every_call_walked(facts, fn, walked: set) -> bool:
    """Is every call of ``fn`` in the file (by name; ``self.<name>`` for a method) one the model walked with
    its arguments? A call nobody analyzed may pass anything."""
    name = getattr(fn, "name", None)
    if name is None:
        return False
    method = facts.flow.owner.get(id(fn)) is not None
    found = 0
    for node in walk_nodes(facts.tree):
        if not isinstance(node, ast.Call):
            if isinstance(node, ast.Name) and node.id == name and not isinstance(facts.parent(node), ast.Call):
                return False  # handed out as a value (a callback): called with who knows what
            continue
        f = node.func
        hit = (isinstance(f, ast.Attribute) and f.attr == name) if method else (isinstance(f, ast.Name) and f.id == name)
        if hit:
            found += 1
            if id(node) not in walked:
                return False
    return found > 0
