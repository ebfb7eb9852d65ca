"""GG813 ddp-unused-parameters: a DistributedDataParallel model whose forward runs a part the loss never reaches."""
from __future__ import annotations

import ast
from functools import partial
from typing import Optional

from gradguard.core.model import Applicability, Severity
from gradguard.core.starvation import frozen_paths, is_frozen
from gradguard.core.torchapi import DDP_CLASSES
from gradguard.core.training import attribute_origin
from gradguard.fixes import fix, keyword_edit
from gradguard.rules.base import Example, Rule


def _ddp_call(facts, root: str) -> Optional[ast.Call]:
    """The ``DistributedDataParallel(...)`` call that made the object ``root`` names, when it was built without
    ``find_unused_parameters`` / ``static_graph`` (or with them literally False)."""
    origin = facts.flow.root_origins.get(root)
    value = getattr(origin.stmt, "value", None) if origin is not None else None
    if not isinstance(value, ast.Call) or (facts.imports.qualname(value.func) or "") not in DDP_CLASSES:
        return None
    for k in value.keywords:
        if k.arg is None:
            return None
        if k.arg in ("find_unused_parameters", "static_graph") and not (isinstance(k.value, ast.Constant) and k.value.value is False):
            return None
    return value


def _wrapped_class(facts, call: ast.Call) -> Optional[str]:
    """The in-file Module class of the module ``DDP(...)`` wraps: ``DDP(Net())``, or a name bound once to ``Net(...)``."""
    inner = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "module"), None)
    while isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr in ("to", "cuda", "cpu"):
        inner = inner.func.value
    if isinstance(inner, ast.Name):
        origin = facts.flow.root_origins.get(inner.id)
        inner = getattr(origin.stmt, "value", None) if origin is not None else None
        while isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr in ("to", "cuda", "cpu"):
            inner = inner.func.value
    if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id in facts.modules.classes:
        info = facts.modules.classes[inner.func.id]
        return info.name if info.is_module else None
    return None


def _keyword_fix(facts, call: ast.Call):
    """``DDP(model)`` -> ``DDP(model, find_unused_parameters=True)`` (an explicit ``=False`` is replaced)."""
    edit = keyword_edit(facts, call, "find_unused_parameters", "True")
    return fix("Let DDP find the unused parameters (`find_unused_parameters=True`)", edit, unsafe=True) if edit is not None else None


class DdpUnusedParameters(Rule):
    code = "GG813"
    name = "ddp-unused-parameters"
    summary = "A `DistributedDataParallel` model's `forward` runs a part whose output never reaches the loss: the next iteration raises."
    severity = Severity.ERROR
    needs = ("DistributedDataParallel",)
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Flags a model wrapped in `DistributedDataParallel` (without `find_unused_parameters=True` or `static_graph=True`)
whose `forward` returns the output of a part that holds trainable parameters (a second head, an auxiliary branch)
while the loss backpropagated in the training loop never reaches that part. Reported on the `DDP(...)` call, with
`forward`'s return and the backward as related information.

## Why is this bad?
DDP expects every parameter that requires grad and was used in `forward` to receive its gradient from the backward
that follows, so that it can reduce the gradients bucket by bucket. The unused part's gradients never arrive, the
reduction never finishes, and the next forward raises `RuntimeError: Expected to have finished reduction in the prior
iteration before starting a new one` (the parameters "were used in producing loss" check). Training stops at the
second step.

## Example
```python
def forward(self, x):
    feat = self.backbone(x)
    return self.src_head(feat), self.tgt_head(feat)
...
model = DDP(Segmenter())
for x, y in batches:
    src_pred, tgt_pred = model(x)
    loss = F.cross_entropy(src_pred, y)      # tgt_head's output is never used
    loss.backward()
```

## Use instead
Put every output that should train into the loss, return only what is used, or, if the part is meant to stay unused on
some steps:
```python
model = DDP(Segmenter(), find_unused_parameters=True)
```

## Fix safety
The fix passes `find_unused_parameters=True`: DDP then marks the unused parameters ready itself, and training runs. It
is unsafe: the unused part still does not train (if it was meant to, add its output to the loss instead), and finding
unused parameters costs a traversal of the graph on every step.
"""
    examples = (
        Example(
            name="second-head-output-left-out-of-the-loss",
            code="""import os
import tempfile

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP


class TwoHeadNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(6, 8)
        self.main_head = nn.Linear(8, 3)
        self.aux_head = nn.Linear(8, 1)

    def forward(self, x):
        h = torch.relu(self.body(x))
        return self.main_head(h), self.aux_head(h)


def main():
    torch.manual_seed(0)
    dist.init_process_group("gloo", init_method="file://" + os.path.join(tempfile.mkdtemp(), "init"), rank=0, world_size=1)
    try:
        model = DDP(TwoHeadNet())
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(3):
            logits, aux = model(torch.randn(4, 6))
            loss = F.cross_entropy(logits, torch.randint(0, 3, (4,)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        dist.destroy_process_group()
    return {"model": model.module}
""",
            lines=(27,),
            expect={"error": "Expected to have finished reduction"},
            fixed_expect={"grad_ok": ["model.body.weight", "model.main_head.weight"]},
        ),
        Example(
            bad=False,
            name="both-head-outputs-in-the-loss",
            code="""import os
import tempfile

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP


class TwoHeadNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(6, 8)
        self.main_head = nn.Linear(8, 3)
        self.aux_head = nn.Linear(8, 1)

    def forward(self, x):
        h = torch.relu(self.body(x))
        return self.main_head(h), self.aux_head(h)


def main():
    torch.manual_seed(0)
    dist.init_process_group("gloo", init_method="file://" + os.path.join(tempfile.mkdtemp(), "init"), rank=0, world_size=1)
    try:
        model = DDP(TwoHeadNet())
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(3):
            logits, aux = model(torch.randn(4, 6))
            loss = F.cross_entropy(logits, torch.randint(0, 3, (4,))) + 0.1 * aux.pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        dist.destroy_process_group()
    return {"model": model.module}
""",
            expect={"grad_ok": ["model.body.weight", "model.aux_head.weight"]},
        ),
        Example(
            bad=False,
            name="unused-head-with-find-unused-parameters",
            code="""import os
import tempfile

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP


class TwoHeadNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(6, 8)
        self.main_head = nn.Linear(8, 3)
        self.aux_head = nn.Linear(8, 1)

    def forward(self, x):
        h = torch.relu(self.body(x))
        return self.main_head(h), self.aux_head(h)


def main():
    torch.manual_seed(0)
    dist.init_process_group("gloo", init_method="file://" + os.path.join(tempfile.mkdtemp(), "init"), rank=0, world_size=1)
    try:
        model = DDP(TwoHeadNet(), find_unused_parameters=True)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(3):
            logits, aux = model(torch.randn(4, 6))
            loss = F.cross_entropy(logits, torch.randint(0, 3, (4,)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        dist.destroy_process_group()
    return {"model": model.module}
""",
            expect={"grad_ok": ["model.body.weight", "model.main_head.weight"]},
        ),
        Example(
            bad=False,
            name="frozen-head-is-not-waited-for",
            code="""import os
import tempfile

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP


class TwoHeadNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(6, 8)
        self.main_head = nn.Linear(8, 3)
        self.aux_head = nn.Linear(8, 1)

    def forward(self, x):
        h = torch.relu(self.body(x))
        return self.main_head(h), self.aux_head(h)


def main():
    torch.manual_seed(0)
    dist.init_process_group("gloo", init_method="file://" + os.path.join(tempfile.mkdtemp(), "init"), rank=0, world_size=1)
    try:
        net = TwoHeadNet()
        net.aux_head.requires_grad_(False)
        model = DDP(net)
        optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
        for _ in range(3):
            logits, aux = model(torch.randn(4, 6))
            loss = F.cross_entropy(logits, torch.randint(0, 3, (4,)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        dist.destroy_process_group()
    return {"model": model.module}
""",
            expect={"grad_ok": ["model.body.weight", "model.main_head.weight"]},
        ),
    )

    def check(self, facts):
        frozen = None
        done: set = set()
        for fl in facts.backward_flows:
            enabled = [s for s in fl.backward_sites if s.mode.enabled]  # (a loop's sites come once per pass over it)
            if len({id(s.node) for s in enabled}) != 1 or not enabled[0].loops:
                continue  # (one backward per iteration of a loop: what DDP reduces is what that loss reaches)
            site = enabled[0]
            live = frozenset().union(*(s.loss.live for s in enabled))
            heads = {r.replace("[]", "").split(".")[0] for r in live if r != "?" and not r.startswith("arg:")}
            for head in sorted(heads):
                call = _ddp_call(facts, head)
                if call is None or id(call) in done:
                    continue
                cls = _wrapped_class(facts, call)
                fwd = facts.modules.method(cls, "forward") if cls else None
                if fwd is None:
                    continue
                ret = facts.flow.flow(fwd).returns
                used = {r.split(".")[1] for r in ret.live if r.startswith("self.") and r.count(".") >= 1}
                reached = {r.split(".")[1] for r in live if r.startswith(head + ".") and r.count(".") >= 1}
                if not reached or any(r == head for r in live):
                    continue
                if frozen is None:
                    frozen = frozen_paths(facts)
                unused = sorted(a for a in used - reached if attribute_origin(facts, cls, [a]) is not None and not is_frozen(f"{head}.{a}", frozen) and not is_frozen(a, frozen))
                if not unused:
                    continue
                done.add(id(call))
                names = ", ".join(f"`{a}`" for a in unused)
                ret_stmt = next((n for n in ast.walk(fwd) if isinstance(n, ast.Return) and n.value is not None), None)
                yield self.finding(
                    facts,
                    call,
                    f"`{cls}.forward` runs {names}, but the loss backpropagated at line {site.line} never reaches "
                    f"{'it' if len(unused) == 1 else 'them'}: DistributedDataParallel waits for those gradients, and the next "
                    "iteration raises \"Expected to have finished reduction in the prior iteration\"",
                    related=[*((ret_stmt, "the output of the unused part is returned here") for _ in ([ret_stmt] if ret_stmt is not None else [])), (site.node, "the loss reaches only the other parts")],
                    fixes=[partial(_keyword_fix, facts, call)],
                )
