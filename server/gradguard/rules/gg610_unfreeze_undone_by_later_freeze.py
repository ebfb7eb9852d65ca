"""GG610 unfreeze-undone-by-later-freeze: parts switched back on and then frozen again, whole, by the next statement
that touches them stay frozen."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.flow import covers, per_part_branches
from gradguard.core.model import Applicability, Edit, Severity
from gradguard.core.order import position
from gradguard.core.source import Pos
from gradguard.core.torchapi import CHANGES_REQUIRES_GRAD
from gradguard.fixes import fix, insert_before_stmt
from gradguard.rules.base import Example, Rule

# what may run between the two statements without making the unfreeze matter: other switches and mode changes
_HARMLESS_METHODS = frozenset({"requires_grad_", "eval", "train", "to", "cuda", "cpu", "float", "half", "bfloat16"})


class UnfreezeUndoneByLaterFreeze(Rule):
    code = "GG610"
    name = "unfreeze-undone-by-later-freeze"
    summary = (
        "A part switched back on (`requires_grad_(True)`) and then frozen again by a freeze of a module that holds it, with "
        "nothing in between, stays frozen: the unfreeze has no effect."
    )
    severity = Severity.WARNING
    needs = ("requires_grad",)
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Flags a freeze of a whole module (`module.requires_grad_(False)`, `for p in module.parameters(): p.requires_grad =
False`, a helper or method that does either) that comes right after an unfreeze of a part of that module (the
last layers, a head) in the same function, with nothing but other `requires_grad` switches or mode changes
(`eval()`, `train()`, `.to()`) between them: no optimizer is built, no forward or backward runs, nothing reads the
flags. Freezes and unfreezes chosen by a test on each parameter (a name filter) are left alone.

## Why is this bad?
`requires_grad_(False)` on a module recurses into every parameter it holds, the ones just switched back on
included. The order of the two statements decides what trains: freeze-then-unfreeze keeps the part trainable,
unfreeze-then-freeze freezes everything. Nothing raises: an optimizer built afterwards from the parameters that
require grad simply leaves the part out, and it never changes.

## Example
```python
for layer in model.encoder.layers[-2:]:
    layer.requires_grad_(True)
model.encoder.requires_grad_(False)   # also re-freezes the last two layers
```

## Use instead
```python
model.encoder.requires_grad_(False)
for layer in model.encoder.layers[-2:]:
    layer.requires_grad_(True)
```

## Fix safety
The fix moves the freeze before the unfreeze. It changes what trains, so it is unsafe.
"""
    examples = (
        Example(
            name="top-layer-unfrozen-then-the-encoder-frozen-by-its-method",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])

    def freeze(self):
        for p in self.parameters():
            p.requires_grad = False

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return x


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.encoder(x))


def build(trainable_layers=1):
    model = Model()
    for layer in model.encoder.layers[-trainable_layers:]:
        layer.requires_grad_(True)
    model.encoder.freeze()
    return model


def main():
    torch.manual_seed(0)
    model = build()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 2, (8,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            lines=(35,),
            expect={"grad_none": ["model.encoder.layers.1.weight", "model.encoder.layers.1.bias"], "grad_ok": ["model.head.weight"]},
            fixed_expect={"grad_ok": ["model.encoder.layers.1.weight", "model.encoder.layers.1.bias", "model.head.weight"]},
        ),
        Example(
            bad=False,
            name="encoder-frozen-then-its-top-layer-unfrozen",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4))
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.encoder(x))


def main():
    torch.manual_seed(0)
    model = Model()
    model.encoder.requires_grad_(False)
    model.encoder[2].requires_grad_(True)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 2, (8,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.encoder.2.weight", "model.head.weight"], "grad_none": ["model.encoder.0.weight"]},
        ),
        Example(
            bad=False,
            name="head-trained-a-phase-then-refrozen-after-its-optimizer-ran",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))
    model[2].requires_grad_(True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = F.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 2, (8,)))
    loss.backward()
    optimizer.step()
    model.requires_grad_(False)  # (done training: frozen for export)
    return {"model": model}
""",
            expect={"grad_ok": ["model.2.weight", "model.0.weight"]},
        ),
        Example(
            bad=False,
            name="one-model-switched-on-and-another-frozen",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def load(kind):
    return nn.Linear(4, 4) if kind == "vae" else nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4))


def main():
    torch.manual_seed(0)
    vae = load("vae")
    transformer = load("transformer")
    transformer.requires_grad_(True)
    vae.requires_grad_(False)
    optimizer = torch.optim.AdamW([p for p in transformer.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        x = torch.randn(8, 4)
        loss = F.mse_loss(transformer(vae(x)), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"transformer": transformer}
""",
            expect={"grad_ok": ["transformer.0.weight", "transformer.2.weight"]},
        ),
    )

    def check(self, facts):
        if not facts.text_index.anywhere(CHANGES_REQUIRES_GRAD):
            return
        for fl in facts.flows_matching(CHANGES_REQUIRES_GRAD):
            fn = fl.node
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
                continue
            partial = per_part_branches(fn, facts.imports)
            turns = []  # (event, flag, roots, top-level statement)
            for ev in fl.events:
                flag = _turn(facts, ev)
                if flag is None or ev.target is None or id(ev.node) in partial:
                    continue
                top = _top_statement(facts, fn, ev.node)
                if top is None:
                    continue
                # (the object switched: the receiver itself, else what a loop over its parameters holds)
                roots = {ev.target.ident} if ev.target.ident else set(ev.target.live)
                roots = {r for r in roots if r and r not in ("?", "<new>") and _module_root(facts, r, ev.target)}
                if roots:
                    turns.append((ev, flag, roots, top))
            reported: set = set()
            for i, (_ev, flag, roots, top) in enumerate(turns):
                if flag is not True:
                    continue
                for ev2, flag2, roots2, top2 in turns[i + 1:]:
                    if top2 is top or position(top2) <= position(top):
                        continue
                    if flag2 is True and any(covers(r2, r) or covers(r, r2) for r in roots for r2 in roots2):
                        break  # (switched on again: the last switch wins)
                    if flag2 is not False or id(top2) in reported:
                        continue
                    if not all(any(covers(r2, r) for r2 in roots2) for r in roots):
                        continue
                    if not _only_switches_between(facts, fn, top, top2):
                        break
                    reported.add(id(top2))
                    yield self._finding(facts, ev2, top, top2, roots, roots2)
                    break

    def _finding(self, facts, freeze_ev, unfreeze_top: ast.stmt, freeze_top: ast.stmt, roots: set, roots2: set):
        whole = sorted(roots2)[0].replace("[]", "")
        fixes = []
        end = freeze_top.end_lineno or freeze_top.lineno
        if freeze_top.lineno == end and end < len(facts.source.lines) and isinstance(freeze_top, (ast.Expr, ast.For)):
            text = facts.source.line(freeze_top.lineno).strip()
            if isinstance(freeze_top, ast.Expr) and text:
                fixes.append(lambda: fix("Freeze first, then switch the part back on", insert_before_stmt(facts, unfreeze_top, text),
                                         Edit(Pos(freeze_top.lineno, 0), Pos(end + 1, 0), ""), unsafe=True))
        return self.finding(
            facts,
            freeze_ev.node,
            f"this freezes all of `{_shown(whole)}`, the part switched back on at line {unfreeze_top.lineno} included, and nothing ran in "
            f"between: the unfreeze has no effect, so those parameters stay frozen and never train",
            related=[(unfreeze_top, "the part is switched back on here, first")],
            fixes=fixes,
            explanation="`requires_grad_(False)` on a module recurses into every parameter it holds; freeze the whole first and switch "
            "the part back on after it.",
        )


def _module_root(facts, root: str, target) -> bool:
    """Is ``root`` a path of a module object the file makes or is given (not a value a library call computed from
    arguments, ``AutoencoderKL.from_pretrained(args.path)``)?"""
    head = root.split(".", 1)[0].split("@", 1)[0]
    if head == "self":
        return True
    if head.startswith("arg:"):
        return target.kind == "module" or target.ident == root
    origin = facts.flow.root_origins.get(head)
    return origin is not None and origin.kind == "module"


def _shown(root: str) -> str:
    return root[4:].split(".", 1)[1] if root.startswith("arg:") and "." in root else root


def _turn(facts, ev) -> Optional[bool]:
    """True / False: the event switches ``requires_grad`` on / off for what its target holds; None otherwise."""
    if ev.what in ("requires_grad_call", "requires_grad_via_call"):
        return {"True": True, "False": False}.get(ev.extra or "")
    if ev.what == "requires_grad_set" and ev.name == "requires_grad":
        st = facts.statement_of(ev.node)
        if isinstance(st, ast.Assign) and isinstance(st.value, ast.Constant) and isinstance(st.value.value, bool):
            return st.value.value
    return None


def _top_statement(facts, fn: ast.AST, node: ast.AST) -> Optional[ast.stmt]:
    """The statement of ``fn``'s own body that holds ``node`` (not inside a loop's ``while`` or a branch)."""
    cur: Optional[ast.AST] = node
    body = getattr(fn, "body", [])
    while cur is not None:
        if any(cur is s for s in body):
            return cur  # type: ignore[return-value]
        parent = facts.parent(cur)
        if isinstance(parent, (ast.If, ast.While, ast.Try, ast.With)) and not any(cur is s for s in body):
            return None  # (under a condition or in a while loop: the order of the two is not fixed)
        cur = parent
    return None


def _only_switches_between(facts, fn: ast.AST, a: ast.stmt, b: ast.stmt) -> bool:
    """Do the statements of ``fn``'s body strictly between ``a`` and ``b`` only switch flags or modes?"""
    body = list(getattr(fn, "body", []))
    i, j = next(k for k, s in enumerate(body) if s is a), next(k for k, s in enumerate(body) if s is b)
    for s in body[i + 1:j]:
        for n in ast.walk(s):
            if isinstance(n, ast.Call):
                f = n.func
                if isinstance(f, ast.Attribute) and f.attr in _HARMLESS_METHODS:
                    continue
                if isinstance(f, ast.Attribute) and f.attr in ("parameters", "named_parameters", "children", "modules"):
                    continue
                return False
    return True
