"""GG404 integer-requires-grad: ``requires_grad=True`` on a tensor of integer dtype (raises)."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.model import Applicability, Edit, Severity
from gradguard.core.torchapi import INT_DTYPES, PARAMETER_CTORS
from gradguard.fixes import alias_for, fix, replace_node
from gradguard.rules._leafs import leaf_creation_calls
from gradguard.rules.base import Example, Rule

INT_FACTORIES = {"randint", "randperm"}


def _kw(call: ast.Call, name: str) -> Optional[ast.AST]:
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def _int_literal(node: ast.AST) -> bool:
    """A literal whose elements are all ints/bools (torch infers int64/bool)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (int, bool)) and not isinstance(node.value, float)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _int_literal(node.operand)
    if isinstance(node, (ast.List, ast.Tuple)):
        return bool(node.elts) and all(_int_literal(e) for e in node.elts)
    return False


def integer_creation(facts, call: ast.AST) -> Optional[str]:
    """Why ``call`` (a torch factory) creates an integer tensor, or None when it does not (or unknown)."""
    if not isinstance(call, ast.Call):
        return None
    q = facts.imports.qualname(call.func) or ""
    if not q.startswith("torch."):
        return None
    short = q.rsplit(".", 1)[-1]
    dtype = _kw(call, "dtype")
    if dtype is not None:
        dq = facts.imports.qualname(dtype) or ""
        return f"dtype={facts.text(dtype)}" if dq in INT_DTYPES else None
    if short in ("LongTensor", "IntTensor", "BoolTensor", "ByteTensor"):
        return f"torch.{short}"
    if short in ("tensor", "as_tensor") and call.args and _int_literal(call.args[0]):
        return "a literal of Python ints (int64)"
    if short == "arange" and call.args and all(_int_literal(a) for a in call.args):
        return "integer arguments (int64)"
    if short == "full" and len(call.args) >= 2 and _int_literal(call.args[1]):
        return "an integer fill value (int64)"
    if short in INT_FACTORIES:
        return f"`torch.{short}` (int64 by default)"
    return None


class IntegerRequiresGrad(Rule):
    code = "GG404"
    name = "integer-requires-grad"
    summary = "`requires_grad=True` on an integer tensor: only floating point and complex tensors can require gradients."
    severity = Severity.ERROR
    needs = ("requires_grad", "Parameter")
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags `requires_grad=True` (or `.requires_grad_()`, or wrapping in `nn.Parameter`) on a tensor whose dtype
is certainly integral: `torch.tensor([1, 2, 3])` from Python ints, `dtype=torch.long`,
`torch.arange(5)`, `torch.full(size, 3)`, `torch.randint(...)`, `torch.randperm(...)`.

## Why is this bad?
Gradients only exist for floating point and complex tensors; the constructor raises
`RuntimeError: Only Tensors of floating point and complex dtype can require gradients`.

## Example
```python
class_weights = torch.tensor([1, 2, 3], requires_grad=True)
```

## Use instead
```python
class_weights = torch.tensor([1, 2, 3], requires_grad=True, dtype=torch.float32)
```

## Fix safety
Creating the tensor as `float32` is safe: the integer version could not be created at all.
"""
    examples = (
        Example(
            name="int-literal-weights",
            code="""import torch


def main():
    torch.manual_seed(0)
    feats = torch.randn(5, 3)
    scale = torch.tensor([2, 1, 1], requires_grad=True)
    loss = (feats * scale).pow(2).mean()
    loss.backward()
    return {"scale": scale}
""",
            lines=(7,),
            expect={"error": "Only Tensors of floating point and complex dtype can require gradients"},
        ),
        Example(
            name="arange-and-long-dtype",
            code="""import torch
import torch.nn as nn


def main():
    pos = torch.arange(6, requires_grad=True)
    bias = nn.Parameter(torch.zeros(6, dtype=torch.long))
    loss = (pos * 0.5 + bias).sum()
    loss.backward()
    return {"pos": pos, "bias": bias}
""",
            lines=(6, 7),
            expect={"error": "Only Tensors of floating point and complex dtype can require gradients"},
        ),
        Example(
            name="loss-class-weights",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    head = nn.Linear(4, 3)
    targets = torch.tensor([2, 0, 1, 1])
    balance = torch.tensor([3, 1, 1], requires_grad=True)
    criterion = nn.CrossEntropyLoss(weight=balance.float())
    loss = criterion(head(torch.randn(4, 4)), targets)
    loss.backward()
    return {"head": head}
""",
            lines=(9,),
            expect={"error": "Only Tensors of floating point and complex dtype can require gradients"},
        ),
        Example(
            bad=False,
            name="float-leaves-int-labels",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    labels = torch.randint(0, 3, (4,))
    idx = torch.arange(4)
    logits = torch.tensor([[1.0, 2.0, 0.5]] * 4, requires_grad=True)
    temp = nn.Parameter(torch.tensor([1, 1, 1], dtype=torch.float32))
    w = torch.full((3,), 2, dtype=torch.float64, requires_grad=True)
    loss = nn.functional.cross_entropy(logits[idx] / temp, labels) + w.sum()
    loss.backward()
    return {"logits": logits, "temp": temp, "w": w}
""",
            expect={"grad_ok": ["logits", "temp", "w"]},
        ),
    )

    def check(self, facts):
        for call in leaf_creation_calls(facts):
            q = facts.imports.qualname(call.func) or ""
            created = None
            anchor = call
            if q.startswith("torch.") and not q.startswith("torch.nn."):
                rg = _kw(call, "requires_grad")
                if isinstance(rg, ast.Constant) and rg.value is True:
                    created = call
            elif q in PARAMETER_CTORS and call.args:
                rg = _kw(call, "requires_grad") if _kw(call, "requires_grad") is not None else (call.args[1] if len(call.args) > 1 else None)
                if rg is None or (isinstance(rg, ast.Constant) and rg.value is True):
                    created = call.args[0]
            elif isinstance(call.func, ast.Attribute) and call.func.attr == "requires_grad_":
                a = call.args[0] if call.args else _kw(call, "requires_grad")
                if a is None or (isinstance(a, ast.Constant) and a.value is True):
                    created = call.func.value
            if created is None:
                continue
            why = integer_creation(facts, created)
            if why is None:
                continue
            fixes = [lambda c=created: _float_fix(facts, c)]
            if created is call and _used_as_loss_weight(facts, call):
                # class weights of a loss are constants (nll_loss is not differentiable in `weight`)
                fixes.insert(0, lambda c=call: _drop_requires_grad(facts, c))
            yield self.finding(
                facts,
                anchor,
                f"this tensor is integral ({why}) and cannot require gradients",
                fixes=fixes,
                explanation="Only floating point and complex tensors can require gradients: this raises `RuntimeError: Only Tensors of floating point and complex dtype can require gradients`.",
            )


def _float_fix(facts, call: ast.Call):
    torch_name = alias_for(facts, "torch") or "torch"
    dtype = _kw(call, "dtype")
    if dtype is not None:
        return fix("Create the tensor as float32", replace_node(facts, dtype, f"{torch_name}.float32"))
    q = facts.imports.qualname(call.func) or ""
    if q.rsplit(".", 1)[-1] in ("LongTensor", "IntTensor", "BoolTensor", "ByteTensor"):
        return None
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    last = max([*call.args, *(k.value for k in call.keywords)], key=lambda n: (n.end_lineno, n.end_col_offset), default=None)
    if last is None:
        return None
    pos = facts.end(last)
    return fix("Create the tensor as float32", Edit(pos, pos, f", dtype={torch_name}.float32"))


LOSS_WEIGHT_KWARGS = ("weight", "pos_weight")


def _used_as_loss_weight(facts, call: ast.Call) -> bool:
    st = facts.parent(call)
    if not (isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name)):
        return False
    name = st.targets[0].id
    fn = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    for node in walk_nodes(fn):
        if not isinstance(node, ast.Call):
            continue
        q = facts.imports.qualname(node.func) or ""
        if not (q.startswith("torch.nn.functional.") or (q.startswith("torch.nn.") and q.endswith("Loss"))):
            continue
        for k in node.keywords:
            if k.arg in LOSS_WEIGHT_KWARGS:
                v = k.value
                while isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and not v.args or (isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr == "to"):
                    v = v.func.value
                if isinstance(v, ast.Name) and v.id == name:
                    return True
    return False


def _drop_requires_grad(facts, call: ast.Call):
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    parts = [facts.text(a) for a in call.args] + [f"{k.arg}={facts.text(k.value)}" for k in call.keywords if k.arg != "requires_grad"]
    return fix("Loss class weights are constants: drop requires_grad=True", replace_node(facts, call, f"{facts.text(call.func)}({', '.join(parts)})"))
