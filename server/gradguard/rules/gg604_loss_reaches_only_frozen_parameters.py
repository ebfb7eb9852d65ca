"""GG604 loss-reaches-only-frozen-parameters: everything a loss reaches was frozen, so backward() raises."""
from __future__ import annotations

import ast
import re
from typing import Optional

from gradguard.core.flow import Event
from gradguard.core.model import Severity
from gradguard.core.order import position
from gradguard.core.starvation import helper_freezes
from gradguard.core.torchapi import CHANGES_REQUIRES_GRAD, LOSS_SINK_WORDS
from gradguard.rules.base import Example, Rule

_FREEZE = re.compile(r"requires_grad_\(\s*(?:False|requires_grad\s*=\s*False)|requires_grad\s*=\s*False|\.freeze\(\)")
_TOUCHES_REQUIRES_GRAD = CHANGES_REQUIRES_GRAD

# methods a framework runs before the training steps of the same module
_RUNS_BEFORE_TRAINING = {"__init__", "setup", "configure_model", "on_fit_start", "on_train_start", "on_train_epoch_start"}


class LossReachesOnlyFrozenParameters(Rule):
    code = "GG604"
    name = "loss-reaches-only-frozen-parameters"
    summary = "Every parameter a backpropagated loss reaches was frozen (`requires_grad_(False)`, `freeze()`): backward() raises."
    severity = Severity.ERROR
    needs = LOSS_SINK_WORDS
    fix_applicability = None
    docs = """
## What it does
Flags a freeze (`model.requires_grad_(False)`, `for p in model.parameters(): p.requires_grad = False`,
Lightning's `self.freeze()`) that covers every parameter a later backpropagated loss reaches: the loss has
no `grad_fn`. Freezing a backbone while a head still trains, unfreezing part of the model again, or losses
that also reach tensors of unknown origin stay silent.

## Why is this bad?
With every input of the graph frozen, autograd records nothing: the loss is a constant and
`loss.backward()` raises `RuntimeError: element 0 of tensors does not require grad and does not have a
grad_fn` (Lightning and the Hugging Face Trainer call it for you and raise the same). Usually the freeze
was meant for the pretrained part only, and caught the new head or the adapters too.

## Example
```python
model.requires_grad_(False)          # meant: the backbone
```

## Use instead
```python
model.backbone.requires_grad_(False)
```

## Fix safety
No automatic fix: which part should stay trainable is a decision only the author can make.
"""
    examples = (
        Example(
            name="helper-freezes-the-model-it-returns",
            code="""import torch
import torch.nn as nn


def prepare_for_finetuning(model):
    # meant to freeze the pretrained backbone only
    model.requires_grad_(False)
    return model


def main():
    torch.manual_seed(0)
    model = prepare_for_finetuning(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    model(torch.randn(3, 4)).pow(2).mean().backward()
    opt.step()
    return {"model": model}
""",
            lines=(7,),
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="helper-freezes-only-the-backbone",
            code="""import torch
import torch.nn as nn


def prepare_for_finetuning(backbone):
    backbone.requires_grad_(False)
    return backbone


def main():
    torch.manual_seed(0)
    backbone = prepare_for_finetuning(nn.Sequential(nn.Linear(4, 8), nn.ReLU()))
    head = nn.Linear(8, 2)
    opt = torch.optim.SGD(head.parameters(), lr=0.1)
    opt.zero_grad()
    head(backbone(torch.randn(3, 4))).pow(2).mean().backward()
    opt.step()
    return {"head": head}
""",
            expect={"grad_ok": ["head.weight"]},
        ),
        Example(
            name="whole-model-frozen",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    model.requires_grad_(False)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(8, 4)).pow(2).mean()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(8,),
            expect={"error": "does not require grad"},
        ),
        Example(
            name="helper-freezes-what-it-is-given",
            code="""import torch
import torch.nn as nn


def freeze_backbone(model):
    for name, param in model.named_parameters():
        param.requires_grad = False
    return model


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    freeze_backbone(model)
    loss = model(torch.randn(8, 4)).pow(2).mean()
    loss.backward()
    return {"model": model}
""",
            lines=(6,),
            expect={"error": "does not require grad"},
        ),
        Example(
            name="frozen-in-a-loop-over-parameters",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))


def main():
    torch.manual_seed(0)
    net = Net()
    for p in net.parameters():
        p.requires_grad = False
    net(torch.randn(8, 4)).pow(2).mean().backward()
    return {"net": net}
""",
            lines=(18,),
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="backbone-frozen-head-trains",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))


def main():
    torch.manual_seed(0)
    net = Net()
    net.requires_grad_(False)
    net.head.requires_grad_(True)
    net(torch.randn(8, 4)).pow(2).mean().backward()
    return {"net": net}
""",
            expect={"grad_ok": ["net.head.weight"]},
        ),
        Example(
            bad=False,
            name="helper-freezes-the-parameters-a-name-test-selects",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(torch.relu(self.bn(self.body(x))))


def freeze_norms(model):
    for name, p in model.named_parameters():
        if "bn" in name:
            p.requires_grad = False


def main():
    torch.manual_seed(0)
    model = Net()
    freeze_norms(model)
    model(torch.randn(8, 4)).pow(2).mean().backward()
    return {"model": model}
""",
            expect={"grad_ok": ["model.head.weight", "model.body.weight"]},
        ),
        Example(
            bad=False,
            name="frozen-after-training-for-export",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        model(torch.randn(8, 4)).pow(2).mean().backward()
        opt.step()
    model.requires_grad_(False)
    return {"model": model}, {"frozen": not model.weight.requires_grad}
""",
            expect={"facts": {"frozen": True}},
        ),
    )

    def check(self, facts):
        if not _FREEZE.search(facts.source.text) or not any(fl.loss_sites for fl in facts.backward_flows):
            return
        freezes, unfrozen = _freezes(facts)
        if not freezes:
            return
        reported: set = set()
        for fl in facts.backward_flows:
            for site in fl.loss_sites:
                live = site.loss.live
                if not site.mode.enabled or not live or any(r == "?" or r.startswith("arg:") for r in live):
                    continue
                covering: list = []
                for r in live:
                    f = _freeze_of(facts, fl, site, r, freezes)
                    if f is None or any(_related(r, u) for u in unfrozen):
                        covering = []
                        break
                    covering.append(f)
                if not covering:
                    continue
                ev = covering[0]
                at = _loop_header(facts, getattr(ev, "report", ev.node))  # a helper's freeze: reported in the helper, its call related
                if id(at) in reported:
                    continue
                reported.add(id(at))
                via = [(ev.node, "the helper freezes what this call passes")] if at is not ev.node else []
                yield self.finding(
                    facts,
                    at,
                    f"this freezes every parameter the loss at line {site.line} reaches: it has no gradient path and backward() raises",
                    related=[*via, (site.node, f"{site.implicit} backpropagates this loss" if site.implicit else "backward() raises here")],
                    explanation="With every parameter the loss depends on set to requires_grad=False, autograd records nothing: the loss "
                    "has no grad_fn and `backward()` raises `RuntimeError: element 0 of tensors does not require grad`. Freeze only the "
                    "part meant to stay fixed.",
                )


def _loop_header(facts, node):
    """``for p in model.parameters(): p.requires_grad = False``: what selects *every* parameter is the loop's
    header, the line to change (``model.backbone.parameters()``); other freezes are reported where they are."""
    stmt = facts.statement_of(node) if not isinstance(node, ast.stmt) else node
    loop = facts.parent(stmt) if stmt is not None else None
    if isinstance(loop, ast.For) and stmt in loop.body and len(loop.body) == 1:
        it = loop.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in ("parameters", "named_parameters"):
            return loop
    return node


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _freezes(facts) -> tuple:
    """Freeze events (requires_grad off on a module or on every parameter of one) with their flow, and the
    paths unfrozen anywhere."""
    out: list = []
    on: set = set()
    for fl in facts.flows_matching(_TOUCHES_REQUIRES_GRAD):
        for ev in fl.events:
            if ev.target is None:
                continue
            roots = set(ev.target.live) | ({ev.target.ident} if ev.target.ident else set())
            kind = _change(facts, ev)
            if kind is None:
                continue
            off, whole = kind
            if off and whole:
                out.extend((r, ev, fl) for r in roots if r != "?" and not r.startswith("arg:"))
            elif not off:
                on.update(roots)
    # a helper that freezes what it is given (``freeze_backbone(model)``): the change at each call
    for caller, hf in helper_freezes(facts):
        kind = _change(facts, hf.event)
        if kind is None:
            continue
        off, whole = kind
        if off and whole:
            out.append((hf.root, hf, caller))
        elif not off:
            on.add(hf.root)
    return out, on


def _change(facts, ev) -> Optional[tuple]:
    """(turns requires_grad off, applies to every parameter of the target) for a requires_grad event."""
    if ev.what == "requires_grad_call":
        # on a module, or on a helper's whole argument (``def prepare(model): model.requires_grad_(False)``: what
        # the caller passes, module or tensor, is frozen whole; a parameter of it would be a leaf element)
        live = ev.target.live
        whole_arg = not ev.target.leaf and len(live) == 1 and next(iter(live)).startswith("arg:") and "." not in next(iter(live))
        return ev.extra == "False", (ev.target.kind == "module" or whole_arg) and not _filtered_submodule(facts, facts.statement_of(ev.node))
    if ev.what == "requires_grad_set" and ev.name == "requires_grad":
        stmt = facts.statement_of(ev.node)
        value = getattr(stmt, "value", None)
        off = isinstance(value, ast.Constant) and value.value is False
        # ``for p in m.parameters(): p.requires_grad = False``; under an ``if`` in that loop (``if "bn" in name``) it
        # freezes only the parameters the condition selects
        return off, bool(ev.target.leaf and not ev.target.ident) and not _selective(facts, stmt) and not _filtered_submodule(facts, stmt)
    return None


_SUBMODULE_ITERS = ("modules", "named_modules", "children", "named_children")
_PARAM_ITERS = ("parameters", "named_parameters")


def _iter_of(loop: ast.AST, attrs: tuple) -> Optional[ast.AST]:
    """The receiver ``X`` of ``for ... in X.<attr>(...)`` for one of ``attrs``."""
    it = getattr(loop, "iter", None)
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in attrs:
        return it.func.value
    return None


def _loop_names(loop: ast.AST) -> set:
    return {n.id for n in ast.walk(getattr(loop, "target", ast.Pass())) if isinstance(n, ast.Name)}


def _filtered_submodule(facts, stmt) -> bool:
    """Is ``stmt`` (``m.requires_grad_(False)``, or ``p.requires_grad = False`` in ``for p in m.parameters()``) run
    for the submodules an ``if`` selects in ``for m in model.modules()``: only some of ``model``'s parameters."""
    cur = facts.parent(stmt) if stmt is not None else None
    selected, names = False, _call_receivers(stmt)
    while cur is not None and not isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        if isinstance(cur, (ast.If, ast.Try, ast.While)):
            selected = True
        elif isinstance(cur, (ast.For, ast.AsyncFor)):
            recv = _iter_of(cur, _PARAM_ITERS)
            if isinstance(recv, ast.Name) and not selected:
                names = {recv.id}  # the parameters of ``m``: what matters is where ``m`` comes from
            elif _iter_of(cur, _SUBMODULE_ITERS) is not None and names & _loop_names(cur):
                return selected
            else:
                return False
        cur = facts.parent(cur)
    return False


def _call_receivers(stmt) -> set:
    call = getattr(stmt, "value", None)
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
        return {call.func.value.id}
    return set()


def _selective(facts, stmt) -> bool:
    """Is ``stmt`` under an ``if`` (or a comprehension filter's loop) inside the loop that runs it for each parameter?"""
    cur = facts.parent(stmt) if stmt is not None else None
    while cur is not None and not isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        if isinstance(cur, (ast.If, ast.Try, ast.While)):
            return True
        if isinstance(cur, (ast.For, ast.AsyncFor)):
            return False
        cur = facts.parent(cur)
    return False


def _freeze_of(facts, fl, site, root: str, freezes: list) -> Optional[Event]:
    """The freeze event that covers ``root`` and runs before ``site``, if any."""
    for froot, ev, ffl in freezes:
        if not _related(root, froot) or not root.startswith(froot):
            continue
        if froot == "self" or froot.startswith("self."):
            # a module freezing itself: counts for losses of the same class, frozen in a method that runs first
            name = getattr(ffl.node, "name", "")
            if ffl.owner is None or ffl.owner != fl.owner or name not in _RUNS_BEFORE_TRAINING:
                continue
            return ev
        if ffl is fl or ffl.node is fl.node:
            if position(ev.node) < position(site.node):
                return ev
            continue
        if fl.context is not None and (ffl.node is _enclosing_fn(facts, fl.context) or ffl.node is facts.tree and _enclosing_fn(facts, fl.context) is facts.tree):
            if position(ev.node) < position(fl.context):  # frozen before the call that runs the training step
                return ev
    return None


def _enclosing_fn(facts, node: ast.AST) -> ast.AST:
    return facts.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
