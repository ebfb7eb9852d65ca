"""GG608 unfreeze-guarded-by-requires-grad: ``if p.requires_grad: p.requires_grad = True`` unfreezes nothing."""
from __future__ import annotations

import ast
import textwrap
from functools import partial
from typing import Optional

from gradguard.core.model import Applicability, Fix, Severity
from gradguard.fixes import fix, line_indent, replace_node
from gradguard.rules.base import Example, Rule


class UnfreezeGuardedByRequiresGrad(Rule):
    code = "GG608"
    name = "unfreeze-guarded-by-requires-grad"
    summary = "`if p.requires_grad: p.requires_grad = flag` sets the flag only on tensors that already require grad: with `flag` true it unfreezes nothing."
    severity = Severity.WARNING
    needs = ("requires_grad",)
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Flags an `if p.requires_grad:` whose body sets the same tensor's flag (`p.requires_grad = flag`,
`p.requires_grad_(flag)`) when the flag is `True`: written as a literal, or a parameter of the enclosing helper that a
call in the file passes `True` (`set_trainable(model.backbone, True)` to unfreeze after a warm-up). The report is on the
guard, with the calls that pass `True` as related information.

## Why is this bad?
The guard keeps only the tensors that already require grad, so setting their flag to `True` changes nothing: the
frozen ones, which the call meant to release, are skipped. The "unfreeze" is a no-op, and the layers stay frozen (no
`.grad`, never updated) for the rest of training. For `False` the guard is redundant (a frozen tensor stays frozen
either way), so it never does anything useful.

## Example
```python
def set_trainable(module, flag):
    for p in module.parameters():
        if p.requires_grad:
            p.requires_grad = flag

set_trainable(model.backbone, False)   # warm up the head
...
set_trainable(model.backbone, True)    # does nothing
```

## Use instead
```python
def set_trainable(module, flag):
    for p in module.parameters():
        p.requires_grad = flag
```

## Fix safety
The fix drops the guard. A call with `True` then unfreezes every tensor it reaches, which is what it asks for, but
also tensors that were frozen on purpose before (a pretrained embedding kept frozen for the whole run): it changes
which parameters train, so it is unsafe.
"""
    examples = (
        Example(
            name="unfreeze-after-warm-up-through-a-guarded-helper",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def set_trainable(module, flag):
    for p in module.parameters():
        if p.requires_grad:
            p.requires_grad = flag


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    set_trainable(model[0], False)
    for step in range(2):
        if step == 1:
            set_trainable(model[0], True)
        opt.zero_grad()
        F.mse_loss(model(torch.randn(8, 4)), torch.randn(8, 1)).backward()
        opt.step()
    return {"model": model}
""",
            lines=(8,),
            expect={"grad_none": ["model.0.weight"], "grad_ok": ["model.2.weight"]},
        ),
        Example(
            bad=False,
            name="guard-that-freezes-only-what-still-trains",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def freeze(module):
    frozen = 0
    for p in module.parameters():
        if p.requires_grad:
            p.requires_grad = False
            frozen += 1
    return frozen


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    freeze(model[0])
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    opt.zero_grad()
    F.mse_loss(model(torch.randn(8, 4)), torch.randn(8, 1)).backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_none": ["model.0.weight"], "grad_ok": ["model.2.weight"]},
        ),
    )

    def check(self, facts):
        for node in facts.walk(ast.If):
            t = node.test
            if node.orelse or not (isinstance(t, ast.Attribute) and t.attr == "requires_grad" and isinstance(t.value, ast.Name)):
                continue
            setter = next((v for st in node.body if (v := _flag_set(st, t.value.id)) is not None), None)
            if setter is None:
                continue
            related: list = []
            if not (isinstance(setter, ast.Constant) and setter.value is True):
                if not isinstance(setter, ast.Name):
                    continue
                fn = facts.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                if fn is None:
                    continue
                related = [(c, "passes `True`: this call unfreezes nothing") for c in _calls_passing_true(facts, fn, setter.id)]
                if not related:
                    continue
            flag = facts.text(setter)
            yield self.finding(
                facts,
                node.test,
                f"only tensors that already require grad pass `if {facts.text(t)}:`, so setting their flag to `{flag if not related else 'True'}` "
                f"changes nothing: the frozen ones stay frozen",
                related=related,
                fixes=[partial(_drop_guard, facts, node)],
                explanation=(
                    "The guard skips exactly the tensors an unfreeze is meant to release; for those it keeps, setting "
                    "`requires_grad = True` is a no-op. Set the flag without the guard (or `module.requires_grad_(flag)`)."
                ),
            )


def _flag_set(st: ast.stmt, name: str) -> Optional[ast.AST]:
    """The value ``st`` sets ``<name>.requires_grad`` to (``name.requires_grad = v`` / ``name.requires_grad_(v)``)."""
    if isinstance(st, ast.Assign) and len(st.targets) == 1:
        tg = st.targets[0]
        if isinstance(tg, ast.Attribute) and tg.attr == "requires_grad" and isinstance(tg.value, ast.Name) and tg.value.id == name:
            return st.value
    if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call):
        c = st.value
        if isinstance(c.func, ast.Attribute) and c.func.attr == "requires_grad_" and isinstance(c.func.value, ast.Name) and c.func.value.id == name:
            if c.args:
                return c.args[0]
            kw = next((k.value for k in c.keywords if k.arg == "requires_grad"), None)
            return kw if kw is not None else ast.Constant(value=True)
    return None


def _calls_passing_true(facts, fn: ast.AST, param: str) -> list:
    """Calls of ``fn`` in the file (``fn(...)``, ``self.fn(...)``) that pass the literal ``True`` for ``param``."""
    a = fn.args  # type: ignore[attr-defined]
    names = [p.arg for p in [*a.posonlyargs, *a.args]]
    if param not in names and param not in [p.arg for p in a.kwonlyargs]:
        return []
    index = names.index(param) if param in names else None
    if index is not None and names and names[0] in ("self", "cls") and facts.enclosing(fn, (ast.ClassDef,)) is not None:
        index -= 1  # (a method: ``self`` is not among the call's arguments)
    out = []
    for call in facts.walk(ast.Call):
        f = call.func
        called = f.id if isinstance(f, ast.Name) else (f.attr if isinstance(f, ast.Attribute) else None)
        if called != fn.name:  # type: ignore[attr-defined]
            continue
        got = next((k.value for k in call.keywords if k.arg == param), None)
        if got is None and index is not None and 0 <= index < len(call.args) and not any(isinstance(x, ast.Starred) for x in call.args[: index + 1]):
            got = call.args[index]
        if isinstance(got, ast.Constant) and got.value is True:
            out.append(call)
    return out


def _drop_guard(facts, node: ast.If) -> Optional[Fix]:
    """``if p.requires_grad:`` and its body -> the body, at the ``if``'s indentation."""
    start, end = facts.start(node), facts.end(node)
    body_start = facts.start(node.body[0])
    if body_start.line == start.line:
        return None  # ``if p.requires_grad: p.requires_grad = flag`` on one line
    lines = [facts.source.line(i) for i in range(body_start.line, end.line + 1)]
    text = textwrap.dedent("\n".join(lines).rstrip("\n"))
    indent = line_indent(facts, start.line)
    body = "\n".join((indent + ln if ln.strip() else ln) for ln in text.split("\n"))
    return fix("Set the flag without the `if p.requires_grad:` guard", replace_node(facts, node, body[len(indent):]), unsafe=True)
