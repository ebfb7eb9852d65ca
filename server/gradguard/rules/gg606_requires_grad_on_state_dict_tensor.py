"""GG606 requires-grad-on-state-dict-tensor: ``requires_grad`` set on a tensor of ``model.state_dict()``, a detached copy."""
from __future__ import annotations

import ast
from functools import partial
from typing import Optional

from gradguard.core.model import Applicability, Fix, Severity
from gradguard.fixes import fix, replace_node
from gradguard.rules.base import Example, Rule


class RequiresGradOnStateDictTensor(Rule):
    code = "GG606"
    name = "requires-grad-on-state-dict-tensor"
    summary = "`requires_grad` set on a tensor of `model.state_dict()`: a detached alias, so the parameter's flag does not change."
    severity = Severity.WARNING
    needs = ("state_dict",)
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags `t.requires_grad = flag` and `t.requires_grad_(flag)` where `t` is a tensor taken from `X.state_dict()`:
the loop variable of `for name, t in X.state_dict().items()` / `for t in X.state_dict().values()`, an entry
`X.state_dict()[key]`, or the same through a name bound once to `X.state_dict()`. `state_dict(keep_vars=True)`,
which returns the parameters themselves, is left alone.

## Why is this bad?
`Module.state_dict()` returns `param.detach()` for every parameter (unless `keep_vars=True`): a new tensor that
shares the storage but not the autograd identity. Setting `requires_grad` on it changes that alias only; the
parameter keeps its flag. Unfreezing a stage this way unfreezes nothing (an optimizer built from the parameters
that require grad then gets an empty list, or the frozen part never trains); freezing this way freezes nothing.

## Example
```python
model.requires_grad_(False)
for name, tensor in model.state_dict().items():
    if name.startswith("head."):
        tensor.requires_grad = True
```

## Use instead
```python
for name, tensor in model.named_parameters():
    if name.startswith("head."):
        tensor.requires_grad = True
```

## Fix safety
Iterating `named_parameters()` (`parameters()` for `.values()`) instead gives the parameters under the same names,
so the flag lands where it was meant to. Buffers, which `state_dict()` also holds, are no longer visited; a
buffer's `requires_grad` is never trained anyway.
"""
    examples = (
        Example(
            name="stage-unfreeze-through-state-dict",
            code="""import torch
import torch.nn as nn


def set_trainable(model, prefix):
    model.requires_grad_(False)
    for name, tensor in model.state_dict().items():
        if name.startswith(prefix):
            tensor.requires_grad = True


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    set_trainable(model, "2.")
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    loss = model(torch.randn(5, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(9,),
            expect={"error": "empty parameter list"},
        ),
        Example(
            bad=False,
            name="stage-unfreeze-through-named-parameters",
            code="""import torch
import torch.nn as nn


def set_trainable(model, prefix):
    model.requires_grad_(False)
    for name, tensor in model.named_parameters():
        if name.startswith(prefix):
            tensor.requires_grad = True
    sizes = {k: v.numel() for k, v in model.state_dict().items()}
    return sizes


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    set_trainable(model, "2.")
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    loss = model(torch.randn(5, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.2.weight"], "grad_none": ["model.0.weight"]},
        ),
        Example(
            bad=False,
            name="state-dict-with-keep-vars-holds-the-parameters",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    model.requires_grad_(False)
    for name, p in model.state_dict(keep_vars=True).items():
        if name.startswith("2."):
            p.requires_grad_(True)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    loss = model(torch.randn(5, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.2.weight"]},
        ),
    )

    def check(self, facts):
        ti = facts.text_index
        text, starts = ti.text, ti.starts
        if not _may_report(text, 0, len(text)):
            return
        for fn in [facts.tree, *facts.walk(ast.FunctionDef), *facts.walk(ast.AsyncFunctionDef)]:
            if fn is not facts.tree:
                # every node of fn (decorators included: own_nodes yields them) lies on these lines
                first = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
                n = len(starts) - 1
                if not _may_report(text, starts[min(max(first - 1, 0), n)], starts[min(max(fn.end_lineno or fn.lineno, first), n)]):
                    continue
            bound: Optional[dict] = None
            for node in facts.own_nodes(fn):
                target = None
                if isinstance(node, ast.Assign):
                    target = next((t for t in node.targets if isinstance(t, ast.Attribute) and t.attr == "requires_grad"), None)
                    tensor = target.value if target is not None else None
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "requires_grad_":
                    target, tensor = node.func, node.func.value
                if target is None or tensor is None:
                    continue
                if bound is None:
                    bound = _state_dict_names(facts, fn)
                origin = _state_dict_origin(facts, fn, tensor, bound)
                if origin is None:
                    continue
                call, loop = origin
                fixes = [partial(_named_parameters_fix, facts, loop, call)] if loop is not None else []
                yield self.finding(
                    facts,
                    target,
                    f"`{facts.text(tensor)}` comes from `{facts.text(call.func)}()`, which holds detached copies of the "
                    "parameters: setting `requires_grad` on it leaves the parameter's flag unchanged",
                    related=[(call, "`state_dict()` returns `param.detach()` for each parameter (unless `keep_vars=True`)")],
                    fixes=fixes,
                    explanation="`Module.state_dict()` stores `param.detach()`: a tensor sharing the values but not the autograd identity, "
                    "so its `requires_grad` is its own. Iterate `named_parameters()` (or `parameters()`) to change the parameters.",
                )


def _may_report(text: str, start: int, end: int) -> bool:
    """Can the nodes spelled in ``text[start:end]`` hold a finding? One needs a ``.requires_grad`` target or a
    ``.requires_grad_(`` call and a ``state_dict()`` call (directly, or bound to a name in the same scope):
    both words are in the text, unless a non-ASCII character spells one (identifiers are read NFKC-normalized)."""
    if text.find("requires_grad", start, end) != -1 and text.find("state_dict", start, end) != -1:
        return True
    return not text[start:end].isascii()


def _detached_state_dict(node) -> Optional[ast.Call]:
    """``X.state_dict()`` without ``keep_vars`` (which would hand out the parameters themselves)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "state_dict" and not node.args):
        return None
    if any(k.arg == "keep_vars" or k.arg is None for k in node.keywords):
        return None
    return node


def _state_dict_names(facts, fn) -> dict:
    """Names bound exactly once in ``fn``, to ``X.state_dict()``: name -> the call."""
    binds: dict = {}
    for node in facts.own_nodes(fn):
        if isinstance(node, (ast.Name,)) and isinstance(node.ctx, ast.Store):
            binds.setdefault(node.id, []).append(node)
    out = {}
    for node in facts.own_nodes(fn):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            call = _detached_state_dict(node.value)
            if call is not None and len(binds.get(node.targets[0].id, ())) == 1:
                out[node.targets[0].id] = call
    return out


def _dict_of(node, bound: dict) -> Optional[ast.Call]:
    """The ``state_dict()`` call ``node`` is (directly, or a name bound once to it)."""
    if isinstance(node, ast.Name):
        return bound.get(node.id)
    return _detached_state_dict(node)


def _state_dict_origin(facts, fn, tensor, bound: dict) -> Optional[tuple]:
    """(state_dict call, the for loop to rewrite or None) when ``tensor`` is an entry of a detached state dict."""
    if isinstance(tensor, ast.Subscript):
        call = _dict_of(tensor.value, bound)
        return (call, None) if call is not None else None
    if not isinstance(tensor, ast.Name):
        return None
    loops = [n for n in facts.own_nodes(fn) if isinstance(n, ast.For) and _binds(n.target, tensor.id)]
    stores = [n for n in facts.name_stores(fn) if n.id == tensor.id]
    if len(loops) != 1 or len(stores) != 1 or not (loops[0].lineno <= tensor.lineno <= (loops[0].end_lineno or loops[0].lineno)):
        return None
    loop = loops[0]
    it = loop.iter
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and not it.args and not it.keywords):
        return None
    call = _dict_of(it.func.value, bound)
    if call is None:
        return None
    t = loop.target
    if it.func.attr == "items" and isinstance(t, ast.Tuple) and len(t.elts) == 2 and isinstance(t.elts[1], ast.Name) and t.elts[1].id == tensor.id:
        return call, loop
    if it.func.attr == "values" and isinstance(t, ast.Name) and t.id == tensor.id:
        return call, loop
    return None


def _binds(target, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(target))


def _named_parameters_fix(facts, loop: ast.For, call: ast.Call) -> Optional[Fix]:
    """``for k, t in m.state_dict().items()`` -> ``for k, t in m.named_parameters()`` (``.values()`` -> ``.parameters()``)."""
    it, owner = loop.iter, call.func
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.value is call and isinstance(owner, ast.Attribute)):
        return None  # through a name bound to the dict: other uses of that name stay as they are
    method = "named_parameters" if it.func.attr == "items" else "parameters"
    return fix(f"Iterate `{method}()`", replace_node(facts, it, f"{facts.text(owner.value)}.{method}()"))
