"""GG810 parameter-name-test-never-matches: ``name.startswith("backbone.")`` over the ``named_parameters()`` of a
DataParallel / DDP wrapper, whose parameter names all begin with ``module.``."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.model import Applicability, Fix, Severity
from gradguard.fixes import fix, replace_node
from gradguard.rules.base import Example, Rule


class ParameterNameTestNeverMatches(Rule):
    code = "GG810"
    name = "parameter-name-test-never-matches"
    summary = (
        "A parameter-name test that no parameter passes: the names of an `nn.DataParallel` / `DistributedDataParallel` "
        "wrapper's `named_parameters()` all begin with `module.`, so `name.startswith(\"backbone.\")` is never true."
    )
    severity = Severity.WARNING
    needs = ("DataParallel",)  # (DistributedDataParallel too; and the text must read named_parameters and startswith)
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Follows a model wrapped in `nn.DataParallel` or `DistributedDataParallel` into the code that reads its
`named_parameters()` (also through helpers: `build_param_groups(model)` called with the wrapper), and flags a
`name.startswith(...)` test on those names whose prefixes can never match, because they do not begin with
`module.`. Reported when the test is decided on some call the file makes with the wrapper; a helper only ever
given the bare model is not flagged.

## Why is this bad?
The wrappers register the model as their submodule `module`, so every name they yield is `module.backbone.0.weight`,
never `backbone.0.weight`. A test written against the bare model's names is then false for every parameter:
parameter groups split by prefix come out empty (PyTorch accepts empty groups, and the optimizer steps nothing, so
the model never changes), a freeze by prefix freezes nothing, a per-layer learning rate or weight-decay exemption
applies to nothing. Nothing raises.

## Example
```python
model = nn.DataParallel(net)
backbone = [p for n, p in model.named_parameters() if n.startswith("backbone.")]   # always empty
```

## Use instead
```python
backbone = [p for n, p in model.module.named_parameters() if n.startswith("backbone.")]
```
or match both spellings: `n.startswith(("backbone.", "module.backbone."))`.

## Fix safety
The fix makes the test also accept the wrapped spelling (`("backbone.", "module.backbone.")`). It is unsafe: it
changes which parameters the code selects (which is its purpose), so the training that follows changes.
"""
    examples = (
        Example(
            name="param-groups-split-by-prefix-on-the-wrapper",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.backbone(x))


def param_groups(model, lr):
    backbone, head = [], []
    for name, p in model.named_parameters():
        if name.startswith("backbone."):
            backbone.append(p)
        elif name.startswith("head."):
            head.append(p)
    return [{"params": backbone, "lr": lr * 0.1}, {"params": head, "lr": lr}]


def train(model, batches, lr=0.1):
    optimizer = torch.optim.SGD(param_groups(model, lr), lr=lr)
    for x, y in batches:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    net = Net()
    model = nn.DataParallel(net)
    before = net.head.weight.detach().clone()
    train(model, [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(3)])
    return {"model": net}, {"changed": not torch.equal(before, net.head.weight)}
""",
            expect={"facts": {"changed": False}, "grad_ok": ["model.head.weight", "model.backbone.0.weight"]},
            lines=(19, 21),
            fixed_expect={"facts": {"changed": True}},
        ),
        Example(
            name="groups-from-the-wrapped-model",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(torch.relu(self.backbone(x)))


def param_groups(model, lr):
    backbone = [p for n, p in model.named_parameters() if n.startswith("backbone.")]
    head = [p for n, p in model.named_parameters() if n.startswith("head.")]
    return [{"params": backbone, "lr": lr * 0.1}, {"params": head, "lr": lr}]


def main():
    torch.manual_seed(0)
    net = Net()
    model = nn.DataParallel(net)
    optimizer = torch.optim.SGD(param_groups(model.module, 0.1), lr=0.1)
    before = net.head.weight.detach().clone()
    optimizer.zero_grad()
    F.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 2, (8,))).backward()
    optimizer.step()
    return {"model": net}, {"changed": not torch.equal(before, net.head.weight)}
""",
            expect={"facts": {"changed": True}, "grad_ok": ["model.head.weight", "model.backbone.weight"]},
        ),
        Example(
            name="prefix-written-with-module-on-the-wrapper",
            bad=False,
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(torch.relu(self.stem(x)))


def main():
    model = nn.DataParallel(Net())
    for name, p in model.named_parameters():
        if name.startswith(("stem.", "module.stem.")):
            p.requires_grad = False
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model(torch.randn(3, 4)).sum().backward()
    optimizer.step()
    return {"model": model.module}, {"stem_frozen": not model.module.stem.weight.requires_grad}
""",
            expect={"facts": {"stem_frozen": True}, "grad_ok": ["model.head.weight"], "grad_none": ["model.stem.weight"]},
        ),
        Example(
            name="prefix-groups-with-an-else-that-collects-the-rest",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def groups(model, lr):
    slow, rest = [], []
    for name, p in model.named_parameters():
        if name.startswith("0."):
            slow.append(p)
        else:
            rest.append(p)
    return [{"params": slow, "lr": lr * 0.1}, {"params": rest, "lr": lr}]


def main():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    model = nn.DataParallel(net)
    optimizer = torch.optim.SGD(groups(model, 0.1), lr=0.1)
    before = net[0].weight.detach().clone()
    optimizer.zero_grad()
    F.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 2, (8,))).backward()
    optimizer.step()
    return {"model": net}, {"changed": not torch.equal(before, net[0].weight)}
""",
            expect={"facts": {"changed": True}, "grad_ok": ["model.0.weight", "model.2.weight"]},
        ),
        Example(
            name="helper-given-the-bare-model-and-the-wrapper",
            bad=False,
            code="""import torch
import torch.nn as nn


def no_decay_groups(model, wd):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if name.startswith("norm") or name.endswith(".bias"):
            no_decay.append(p)
        else:
            decay.append(p)
    return [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]


def main():
    net = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    model = nn.DataParallel(net)
    optimizer = torch.optim.AdamW(no_decay_groups(model, 0.01), lr=0.1)
    before = net[2].weight.detach().clone()
    optimizer.zero_grad()
    model(torch.randn(3, 4)).sum().backward()
    optimizer.step()
    return {"model": net}, {"changed": not torch.equal(before, net[2].weight)}
""",
            expect={"facts": {"changed": True}, "grad_ok": ["model.2.weight"]},
        ),
    )

    def check(self, facts):
        if "named_parameters" not in facts.source.text or "startswith" not in facts.source.text:
            return
        facts.backward_flows  # noqa: B018 - analyzes functions with their callers' values (context flows)
        done: set = set()
        for fl in [*facts.flows, *facts.flow.context_flows]:
            never = {id(ev.node): ev for ev in fl.events if ev.what == "name_test_never_true" and isinstance(ev.node, ast.Call)}
            if not never:
                continue
            for ev in fl.events:
                if ev.what != "dead_branch" or ev.extra != "body" or not isinstance(ev.node, ast.If):
                    continue
                branch = ev.node
                call = next((n for n in ast.walk(branch.test) if id(n) in never and isinstance(n, ast.Call)), None)
                if not isinstance(call, ast.Call) or id(call) in done or not (isinstance(call.func, ast.Attribute) and call.args):
                    continue
                if not _collects(branch.body) or _collecting_else(branch):
                    continue  # (not a parameter selection; or what it misses goes to the last group)
                done.add(id(call))
                prefix = never[id(call)].extra or "module."
                arg = call.args[0]
                texts = [getattr(e, "value", None) for e in arg.elts] if isinstance(arg, ast.Tuple) else [getattr(arg, "value", None)]
                if not all(isinstance(t, str) for t in texts):
                    continue
                name = facts.text(call.func.value)
                related = [(fl.context, "called here with the wrapper")] if fl.context is not None else []
                yield self.finding(
                    facts,
                    call,
                    f"`{facts.text(call)}` is never true: `{name}` comes from the `named_parameters()` of a DataParallel / "
                    f"DistributedDataParallel wrapper, whose parameter names all begin with `{prefix}`; the parameters this "
                    f"branch should collect are in none of the lists the loop builds",
                    related=related,
                    fixes=[_fix(facts, arg, texts, prefix)],
                    explanation=(
                        f"The wrapper registers the model as its submodule `module`, so it yields `{prefix}{texts[0]}...`, never "
                        f"`{texts[0]}...`: nothing passes the test, and with no `else` that collects the rest, those parameters "
                        f"land in no parameter group (PyTorch accepts empty groups): the optimizer never changes them. Read the "
                        f"names of the wrapped model (`model.module.named_parameters()`), or also accept the wrapped spelling."
                    ),
                )


def _collects(body: list) -> bool:
    """Does the block store into a container (``backbone.append(p)``, ``groups[k] += [p]``)?"""
    for st in body:
        for n in ast.walk(st):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("append", "extend", "add", "insert"):
                return True
            if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add):
                return True
    return False


def _collecting_else(branch: ast.If) -> bool:
    """Does the ``if`` / ``elif`` chain end in an ``else`` that collects what the tests let through?"""
    cur = branch
    while len(cur.orelse) == 1 and isinstance(cur.orelse[0], ast.If):
        cur = cur.orelse[0]
    return bool(cur.orelse) and _collects(cur.orelse)


def _fix(facts, arg: ast.AST, texts: list, prefix: str):
    both = []
    for t in texts:
        for s in (t, prefix + t):
            if s not in both:
                both.append(s)
    new = "(" + ", ".join(repr(s) for s in both) + ")"

    def build() -> Optional[Fix]:
        return fix(f"Also accept the wrapped names: `{new}`", replace_node(facts, arg, new), unsafe=True)

    return build
