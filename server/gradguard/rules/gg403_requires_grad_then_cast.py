"""GG403 requires-grad-then-cast: ``.to()/.cuda()/.double()`` applied after creating a leaf (result is a non-leaf)."""
from __future__ import annotations

import ast
import re
from functools import partial
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.model import Applicability, Fix, Severity
from gradguard.core.paramnames import single_binding
from gradguard.core.starvation import frozen_paths, is_frozen, leaf_wanted
from gradguard.core.torchapi import (
    NUMPY_DTYPE_KEEPING,
    NUMPY_FLOAT64_MAKERS,
    NUMPY_FLOAT_FUNCTIONS,
    OPTIMIZER_HINTS,
    PARAMETER_CTORS,
    SHAPE_METHODS,
    TENSOR_CASTS,
    TENSORS_FROM_NUMPY,
    is_optimizer_ctor,
)
from gradguard.fixes import fix, replace_node
from gradguard.rules._leafs import flow_of, leaf_creation_calls
from gradguard.rules.base import Example, Rule

DTYPE_OF_CAST = {"double": {"torch.float64", "torch.double"}, "half": {"torch.float16", "torch.half"}, "bfloat16": {"torch.bfloat16"}, "float": {"torch.float32", "torch.float"}}
FLOAT32 = {"torch.float32", "torch.float"}


ARITH_OPS = {ast.Mult: "*", ast.Div: "/", ast.Add: "+", ast.Sub: "-", ast.Pow: "**", ast.MatMult: "@", ast.FloorDiv: "//"}
# methods that return a differentiable copy of a parameter (never the parameter itself)
COPYING_METHODS = {"clone", "double", "half", "bfloat16", "mul", "div", "add", "sub", "pow", "exp", "neg", "abs", "multiply", "divide"}
ARITH_METHODS = {"mul", "div", "add", "sub", "pow", "multiply", "divide", "clamp", "abs", "exp", "log", "sigmoid", "tanh", "softmax"}


OPTIMIZER_WORDS = {"optim", *OPTIMIZER_HINTS}
# a comprehension over ``.parameters()`` (a cheap text test before looking at optimizer constructors)
_COPY_COMPREHENSION = re.compile(r"for(?<!\wfor)\s+\w+\s+in\s+[\w.\[\]]+\.parameters\(\)")


def _uncopied(facts, elt: ast.AST, var: str) -> Optional[Fix]:
    return fix("Give the optimizer the parameters themselves", replace_node(facts, elt, var), unsafe=True)


def _numpy_float64(facts, expr: ast.AST, scope: ast.AST, depth: int = 0) -> bool:
    """Is ``expr`` a NumPy array of float64: made by a float64 constructor without a dtype (``np.zeros((n, 6))``), an
    ``np.array`` of float literals, or a name bound once in ``scope`` to one of those?"""
    if depth > 6:
        return False
    if isinstance(expr, ast.Subscript):  # (rows of a float64 array: ``table[list(keep)]``, ``table[:n]``)
        return _numpy_float64(facts, expr.value, scope, depth + 1)
    if isinstance(expr, ast.Name):
        bound = single_binding(scope, expr.id)
        if bound is None:
            unpacked = _unpacked(facts, scope, expr.id)
            if unpacked is not None:  # (``xy, rgb = load_points(n)``, ``xb, yb = specs[i:j], labels[i:j]``)
                return bool(unpacked) and all(_numpy_float64(facts, e, sc, depth + 1) for e, sc in unpacked)
            top = _module_binding(facts, scope, expr.id)
            if top is not None:  # (a module-level array the function reads: ``POINTS = rng.uniform(...)``)
                return _numpy_float64(facts, top, facts.tree, depth + 1)
            return _float64_argument(facts, expr.id, scope, depth)
        return _numpy_float64(facts, bound, scope, depth + 1)
    if not isinstance(expr, ast.Call) or any(k.arg == "dtype" for k in expr.keywords):
        return False
    q = facts.imports.qualname(expr.func) or ""
    if q in NUMPY_FLOAT64_MAKERS:
        return not (q in ("numpy.zeros", "numpy.ones", "numpy.empty", "numpy.loadtxt", "numpy.genfromtxt") and len(expr.args) > 1)  # (a dtype by position)
    if isinstance(expr.func, ast.Attribute) and expr.func.attr in NUMPY_GENERATOR_FLOAT64 and isinstance(expr.func.value, (ast.Name, ast.Call)):
        # ``rng.normal(size=...)`` with ``rng = np.random.default_rng(seed)``: a Generator's float draws are float64
        gen = single_binding(scope, expr.func.value.id) if isinstance(expr.func.value, ast.Name) else expr.func.value
        return isinstance(gen, ast.Call) and (facts.imports.qualname(gen.func) or "") in ("numpy.random.default_rng", "numpy.random.RandomState", "numpy.random.Generator")
    if isinstance(expr.func, ast.Name):
        fn = _module_function(facts, expr.func.id)
        if fn is not None:  # a helper of the file every return of which is such an array (``load_glove()``)
            rets = [r.value for r in walk_nodes(fn) if isinstance(r, ast.Return)]
            return bool(rets) and all(r is not None and _numpy_float64(facts, r, fn, depth + 1) for r in rets)
    if q.startswith("numpy.") and (q[6:] in NUMPY_FLOAT_FUNCTIONS or q[6:] in NUMPY_DTYPE_KEEPING) and expr.args and not expr.keywords \
            and not (q in ("numpy.array", "numpy.asarray") and isinstance(expr.args[0], (ast.List, ast.Tuple))):
        # ``np.log(1.0 / init)``, ``np.mean(table, axis=0)``: float64 of Python numbers (float functions only) or float64 arrays
        numbers = q[6:] in NUMPY_FLOAT_FUNCTIONS
        return all(_numpy_float64(facts, a, scope, depth + 1) or (numbers and _python_number(facts, a, scope)) for a in expr.args)
    if q in ("numpy.array", "numpy.asarray") and len(expr.args) == 1 and isinstance(expr.args[0], (ast.List, ast.Tuple)):
        elts = expr.args[0].elts
        return bool(elts) and all(isinstance(e, ast.Constant) and type(e.value) is float for e in elts)
    return False


def _python_number(facts, e: ast.AST, scope: ast.AST, depth: int = 0) -> bool:
    """A Python number: a numeric literal, arithmetic of such, a name bound once in ``scope`` to one, or a parameter of
    ``scope`` whose default is one and for which no call of the file passes anything else."""
    if depth > 3:
        return False
    if isinstance(e, ast.Constant):
        return isinstance(e.value, (int, float)) and not isinstance(e.value, bool)
    if isinstance(e, ast.UnaryOp):
        return _python_number(facts, e.operand, scope, depth + 1)
    if isinstance(e, ast.BinOp):
        return _python_number(facts, e.left, scope, depth + 1) and _python_number(facts, e.right, scope, depth + 1)
    if not isinstance(e, ast.Name):
        return False
    bound = single_binding(scope, e.id)
    if bound is not None:
        return _python_number(facts, bound, scope, depth + 1)
    if not isinstance(scope, ast.FunctionDef) or not any(scope is n for n in facts.tree.body):
        return False
    args = scope.args
    params = [a.arg for a in args.posonlyargs + args.args]
    if e.id not in params:
        return False
    i = params.index(e.id)
    defaults: list = [None] * (len(params) - len(args.defaults)) + list(args.defaults)
    default = defaults[i]
    if default is None or not _python_number(facts, default, scope, depth + 1):
        return False
    for call in (c for c in facts.nodes_near(ast.Call, (scope.name,)) if isinstance(c.func, ast.Name) and c.func.id == scope.name):
        given = call.args[i] if i < len(call.args) else next((k.value for k in call.keywords if k.arg == e.id), None)
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            return False
        outer = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
        if given is not None and not _python_number(facts, given, outer, depth + 1):
            return False
    return True


NUMPY_GENERATOR_FLOAT64 = frozenset({"normal", "standard_normal", "random", "uniform", "random_sample", "randn", "rand"})


def _float64_tensor(facts, expr: ast.AST, scope: ast.AST, depth: int = 0) -> bool:
    """Is ``expr`` a tensor made from a NumPy float64 array without a dtype (``torch.from_numpy(np.zeros(...))``,
    ``torch.tensor(table)``), also wrapped in ``nn.Parameter`` or bound once to a name of ``scope``? Such a tensor keeps
    NumPy's float64."""
    if depth > 3:
        return False
    if isinstance(expr, ast.Name):
        bound = single_binding(scope, expr.id)
        return bound is not None and _float64_tensor(facts, bound, scope, depth + 1)
    if not isinstance(expr, ast.Call) or not expr.args or any(k.arg == "dtype" for k in expr.keywords):
        return False
    q = facts.imports.qualname(expr.func) or ""
    if q in PARAMETER_CTORS:
        return _float64_tensor(facts, expr.args[0], scope, depth + 1)
    return q in TENSORS_FROM_NUMPY and (q == "torch.from_numpy" or len(expr.args) == 1) and _numpy_float64(facts, expr.args[0], scope)


def _module_function(facts, name: str) -> Optional[ast.FunctionDef]:
    """The module-level function ``name`` of the file, defined once, else None."""
    found = [n for n in facts.tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    return found[0] if len(found) == 1 else None


def _unpacked(facts, scope: ast.AST, name: str) -> Optional[list]:
    """``[(expr, its scope), ...]``: what ``name`` holds when its one binding in ``scope`` is an element of a tuple
    assignment (``xb, yb = specs[i:j], labels[i:j]``: that element; ``xy, rgb = load_points(n)``: that element of every
    ``return`` of the file's function, each a tuple); None when it is bound otherwise, or more than once."""
    found = None
    for n in ast.walk(scope):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Tuple):
            elts = n.targets[0].elts
            at = [k for k, t in enumerate(elts) if isinstance(t, ast.Name) and t.id == name]
            if not at:
                continue
            if found is not None or len(at) > 1 or any(isinstance(t, ast.Starred) for t in elts):
                return None
            found = (n, at[0], len(elts))
    if found is None:
        return None
    node, i, width = found
    value = node.value
    if isinstance(value, ast.Tuple):
        return [(value.elts[i], scope)] if len(value.elts) == width and not any(isinstance(e, ast.Starred) for e in value.elts) else None
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        fn = _module_function(facts, value.func.id)
        if fn is None:
            return None
        out = []
        for r in walk_nodes(fn):
            if isinstance(r, ast.Return):
                if not isinstance(r.value, ast.Tuple) or len(r.value.elts) != width:
                    return None
                out.append((r.value.elts[i], fn))
        return out
    return None


def _module_binding(facts, scope: ast.AST, name: str) -> Optional[ast.AST]:
    """The value of a module-level ``name = ...`` that a function reads without binding or taking it (the file's one
    top-level assignment of that name), else None."""
    if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    a = scope.args
    if name in {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, *([a.vararg] if a.vararg else []), *([a.kwarg] if a.kwarg else []))}:
        return None
    if any(isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load) for n in walk_nodes(scope)):
        return None
    found = [st for st in facts.tree.body if isinstance(st, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and any(
        isinstance(t, ast.Name) and t.id == name for t in (st.targets if isinstance(st, ast.Assign) else [st.target]))]
    if len(found) != 1 or not isinstance(found[0], ast.Assign) or len(found[0].targets) != 1:
        return None
    if any(isinstance(n, ast.Global) and name in n.names for n in facts.walk(ast.Global)):
        return None
    return found[0].value


def _float64_argument(facts, name: str, scope: ast.AST, depth: int) -> bool:
    """``name`` is a parameter of ``scope`` (a function of the file, a class's ``__init__``, or another method) and every
    call the file makes to it passes a NumPy float64 array for it (at least one call). A method's calls are those on
    ``self`` inside its class, or any call of that method name when no other class of the file defines one."""
    if not isinstance(scope, ast.FunctionDef):
        return False
    params = [a.arg for a in scope.args.posonlyargs + scope.args.args]
    if name not in params:
        return False
    i = params.index(name)
    callee = scope.name
    cls = facts.parent(scope)
    if scope.name == "__init__":
        if not isinstance(cls, ast.ClassDef):
            return False
        callee, i = cls.name, i - 1
    elif isinstance(cls, ast.ClassDef) and i > 0 and not scope.decorator_list:
        unique = sum(1 for c in facts.walk(ast.ClassDef) if any(isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name == callee for m in c.body)) == 1
        first, last = cls.lineno, cls.end_lineno or cls.lineno
        calls = [c for c in facts.nodes_near(ast.Call, (callee,)) if isinstance(c.func, ast.Attribute) and c.func.attr == callee and (
            unique or (isinstance(c.func.value, ast.Name) and c.func.value.id == params[0] and first <= c.lineno <= last))]
        return _every_call_passes_float64(facts, calls, i - 1, name, depth)
    elif not any(scope is n for n in facts.tree.body):
        return False
    calls = [c for c in facts.nodes_near(ast.Call, (callee,)) if isinstance(c.func, ast.Name) and c.func.id == callee]
    return _every_call_passes_float64(facts, calls, i, name, depth)


def _every_call_passes_float64(facts, calls: list, i: int, name: str, depth: int) -> bool:
    if not calls or i < 0:
        return False
    for call in calls:
        if any(isinstance(a, ast.Starred) for a in call.args[: i + 1]):
            return False
        arg = call.args[i] if i < len(call.args) else next((k.value for k in call.keywords if k.arg == name), None)
        outer = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
        if arg is None or not _numpy_float64(facts, arg, outer, depth + 1):
            return False
    return True


def _other_operand(op: ast.AST, one: ast.AST) -> ast.AST:
    assert isinstance(op, ast.BinOp)
    return op.right if op.left is one else op.left


def _plain_number(e: ast.AST) -> bool:
    """A plain number in arithmetic: a constant, a name or attribute (``eps``, ``self.eps``), or arithmetic of those."""
    if isinstance(e, ast.UnaryOp):
        return _plain_number(e.operand)
    if isinstance(e, ast.BinOp):
        return _plain_number(e.left) and _plain_number(e.right)
    return isinstance(e, (ast.Constant, ast.Name, ast.Attribute))


def _kw(call: ast.Call, name: str) -> Optional[ast.AST]:
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def _true(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _args_text(facts, call: ast.Call, drop: str = "") -> str:
    parts = []
    for a in call.args:
        parts.append(facts.text(a))
    for k in call.keywords:
        if k.arg == drop:
            continue
        parts.append(f"{k.arg}={facts.text(k.value)}" if k.arg else f"**{facts.text(k.value)}")
    return ", ".join(parts)


def _atom_text(text: str) -> str:
    return text if text.replace("_", "a").replace(".", "a").isalnum() else f"({text})"


def _short(text: str) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= 40 else text[:37] + "..."


def _atom(facts, node: ast.AST) -> str:
    t = facts.text(node)
    return t if isinstance(node, (ast.Name, ast.Call, ast.Attribute, ast.Subscript)) else f"({t})"


class RequiresGradThenCast(Rule):
    code = "GG403"
    name = "requires-grad-then-cast"
    summary = "A leaf is created with `requires_grad` and then cast or moved: the result is a non-leaf copy that never gets `.grad`."
    severity = Severity.WARNING
    needs = ("requires_grad", "Parameter", ".parameters()]", ".parameters())")
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags `.to(...)`, `.cuda()`, `.double()`, `.half()`, `.bfloat16()`, `.type(...)` (and `.float()` when the
dtype is known to change: a tensor made from a NumPy float64 array, NumPy's default for `np.zeros`, `np.random.randn`,
`np.loadtxt` and a `default_rng()` Generator's `normal` / `random` draws, also when a helper of the file returns it or
every call of a constructor passes it: `torch.tensor(vectors, requires_grad=True).float()` in `__init__` with
`Model(load_vectors())`; an element of a tuple a helper returns, `xy, rgb = load_points(n)`; a module-level array; a
method's parameter that every call on `self` passes, or every call of that method name when one class defines it), and arithmetic bound to a name or appended to a list (`w = torch.randn(3, requires_grad=True) * 0.01`,
`.mul(...)`), applied directly to a freshly created leaf: `torch.randn(..., requires_grad=True)`,
`nn.Parameter(t)`, or `torch.zeros(...).requires_grad_()`. Casts that are known no-ops (`.to("cpu")`, `.float()`
on a float32 tensor) are not flagged, nor is a cast bound to a name that is only used as a value (a unit test's
input, copied with `.clone().detach()` for comparison) in a file that builds no optimizer: nothing reads its
`.grad`, returns or stores it; nor a cast handed straight to a call other than an optimizer's constructor, bound to no
name (`model(torch.rand(5, 5, requires_grad=True).cuda())`: the model's input). Also an optimizer built over copies of the parameters
(`[p.clone() for p in model.parameters()]`, `[p * 1.0 for p in ...]`), and leaves that a cast changing
their dtype (`.double()`, `.half()`, `.to(torch.float64)`, `.to(dtype=...)` with the dtype its caller passes)
turns into copies anywhere on their way to an optimizer's constructor (`[t.to(device, dtype) for t in
tensors]` in a helper, or kept on an object by its constructor and given to the optimizer in a param group,
`{"params": self.phys, "lr": 1e-2}`; `.float()` of a leaf whose factory named another dtype,
`torch.tensor(v, dtype=torch.float16, requires_grad=True)`, in a helper that returns the upcast): reported on the
cast, as an error. A cast to the dtype the factory named (`.double()` of a `dtype=torch.float64` leaf) returns the
leaf itself and is not reported. Likewise a slice or index of such a leaf
(`emb.requires_grad_(True)`, then `emb[:, 1:3]`) given to an optimizer: a non-leaf view, reported on the
indexing, as an error. Likewise arithmetic on a leaf that requires grad (`canvas = torch.rand(shape,
requires_grad=True)`, then `return (canvas - mean) / std` from a helper) whose result reaches an optimizer's
constructor: reported on the arithmetic, as an error. Also a Module's constructor (or a method it calls) writing a
tensor computed in grad mode from one that requires grad into a `_parameters` slot (`self.lstm._parameters["weight_hh_l0"]
= F.dropout(raw, p)`, AWD-LSTM's weight drop): `parameters()` now yields a non-leaf, so an optimizer built over them
raises; reported on the write, as an error, when the file builds an optimizer.

## Why is this bad?
A cast or a device move that changes anything is an operation recorded by autograd: the name is bound to
its *output*, a non-leaf tensor (for `nn.Parameter` a plain tensor, so a Module does not register it).
The real leaf is unreachable: `.grad` of the variable stays `None`, an optimizer refuses it
(`ValueError: can't optimize a non-leaf Tensor`), and on a GPU machine `.cuda()` / `.to(device)` breaks
training that worked on the CPU.

## Example
```python
weight = nn.Parameter(torch.randn(4, 2)).to(torch.float64)
w = torch.randn(3, requires_grad=True).cuda()
v = torch.randn(3, requires_grad=True) * 0.01
```

## Use instead
```python
weight = nn.Parameter(torch.randn(4, 2).to(torch.float64))
w = torch.randn(3).cuda().requires_grad_()        # or torch.randn(3, device="cuda", requires_grad=True)
v = (torch.randn(3) * 0.01).requires_grad_()
```

## Fix safety
Casting first and making the leaf afterwards is safe: the values and dtype/device are the same, and the
variable is now the leaf the rest of the code expected.
"""
    examples = (
        Example(
            name="parameter-indexed-to-its-shape-in-init",
            code="""import torch
import torch.nn as nn


class EnergyHead(nn.Module):
    def __init__(self, n_elements=5, dim=8):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.Tanh(), nn.Linear(dim, 1))
        self.atom_ref = nn.Parameter(torch.zeros(n_elements))[:, None]

    def forward(self, h, z):
        return self.mlp(h) + self.atom_ref[z]


def main():
    torch.manual_seed(0)
    model = EnergyHead()
    ref0 = model.atom_ref.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        h, z = torch.randn(6, 8), torch.randint(0, 5, (6,))
        loss = (model(h, z) - 1.0).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model, "atom_ref": model.atom_ref}, {"atom_ref_changed": not torch.equal(ref0, model.atom_ref)}
""",
            lines=(9,),
            expect={'grad_none': ['atom_ref'], 'facts': {'atom_ref_changed': False}},
            fixed_expect={'grad_ok': ['atom_ref'], 'facts': {'atom_ref_changed': True}},
        ),
        Example(
            name="leaf-unsqueezed-before-the-optimizer",
            code="""import torch


def fit_offsets(points, steps=3):
    offsets = torch.zeros(points.shape[1], requires_grad=True).unsqueeze(0)
    optimizer = torch.optim.SGD([offsets], lr=0.1)
    for _ in range(steps):
        loss = (points + offsets).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return offsets


def main():
    torch.manual_seed(0)
    offsets = fit_offsets(torch.randn(10, 3) + 2.0)
    return {"offsets": offsets}
""",
            lines=(5,),
            expect={'error': "can't optimize a non-leaf Tensor"},
            fixed_expect={'grad_ok': ['offsets']},
        ),
        Example(
            name="optimizer-given-a-view-of-the-leaf",
            code="""import torch


def main():
    torch.manual_seed(0)
    w = torch.randn(3, 4, requires_grad=True)
    optimizer = torch.optim.SGD([w.view(-1)], lr=0.1)
    loss = (w ** 2).sum()
    loss.backward()
    optimizer.step()
    return {"w": w}
""",
            lines=(7,),
            expect={'error': "can't optimize a non-leaf Tensor"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="parameter-viewed-in-forward",
            code="""import torch
import torch.nn as nn


class EnergyHead(nn.Module):
    def __init__(self, n_elements=5, dim=8):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.Tanh(), nn.Linear(dim, 1))
        self.atom_ref = nn.Parameter(torch.zeros(n_elements))

    def forward(self, h, z):
        ref = self.atom_ref[:, None]
        return self.mlp(h) + ref[z]


def main():
    torch.manual_seed(0)
    model = EnergyHead()
    ref0 = model.atom_ref.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        h, z = torch.randn(6, 8), torch.randint(0, 5, (6,))
        loss = (model(h, z) - 1.0).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"atom_ref_changed": not torch.equal(ref0, model.atom_ref)}
""",
            expect={'grad_ok': ['model.atom_ref'], 'facts': {'atom_ref_changed': True}},
        ),
        Example(
            name="init-helper-returns-a-scaled-parameter",
            code="""import torch
import torch.nn as nn


def init_weight(*shape, sigma=0.01):
    return nn.Parameter(torch.randn(*shape)) * sigma


class Cell(nn.Module):
    def __init__(self, n_in=4, n_hidden=6):
        super().__init__()
        self.W_x = init_weight(n_in, n_hidden)
        self.b = nn.Parameter(torch.zeros(n_hidden))

    def forward(self, x):
        return torch.tanh(x @ self.W_x + self.b)


def main():
    torch.manual_seed(0)
    cell = Cell()
    optimizer = torch.optim.SGD(cell.parameters(), lr=0.1)
    for _ in range(2):
        loss = cell(torch.randn(3, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"cell": cell}
""",
            lines=(6,),
            expect={"error": "backward through the graph a second time"},
            fixed_expect={"grad_ok": ["cell.W_x", "cell.b"]},
        ),
        Example(
            name="prompt-made-a-leaf-then-cast-to-the-dtype-its-caller-picks",
            code="""import torch
import torch.nn as nn


class TextEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)

    def forward(self, ids):
        return self.embed(ids)


def init_prompt(encoder, n, dtype):
    init = encoder.embed.weight[:n].detach().clone()
    return init.requires_grad_(True).to(dtype=dtype)


def main():
    torch.manual_seed(0)
    precision = "64"
    weight_dtype = torch.float64 if precision == "64" else torch.float32
    encoder = TextEncoder()
    encoder.requires_grad_(False)
    prompt = init_prompt(encoder, 3, weight_dtype)
    optimizer = torch.optim.Adam([prompt], lr=0.1)
    x = torch.randn(5, 4, dtype=weight_dtype)
    for _ in range(2):
        optimizer.zero_grad()
        (x @ prompt.t()).pow(2).sum().backward()
        optimizer.step()
    return {"prompt": prompt}
""",
            lines=(16,),
            expect={"error": "can't optimize a non-leaf Tensor"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="prompt-cast-to-the-dtype-its-caller-picks-then-made-a-leaf",
            code="""import torch
import torch.nn as nn


class TextEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)

    def forward(self, ids):
        return self.embed(ids)


def init_prompt(encoder, n, dtype):
    init = encoder.embed.weight[:n].detach().clone()
    return init.to(dtype=dtype).requires_grad_(True)


def main():
    torch.manual_seed(0)
    precision = "64"
    weight_dtype = torch.float64 if precision == "64" else torch.float32
    encoder = TextEncoder()
    encoder.requires_grad_(False)
    prompt = init_prompt(encoder, 3, weight_dtype)
    optimizer = torch.optim.Adam([prompt], lr=0.1)
    x = torch.randn(5, 4, dtype=weight_dtype)
    for _ in range(2):
        optimizer.zero_grad()
        (x @ prompt.t()).pow(2).sum().backward()
        optimizer.step()
    return {"prompt": prompt}
""",
            expect={"grad_ok": ["prompt"]},
        ),
        Example(
            name="numpy-float64-array-made-a-leaf-then-cast-to-float32",
            code="""import numpy as np
import torch


def main():
    torch.manual_seed(0)
    init = np.ones((3, 2))
    offsets = torch.from_numpy(init).requires_grad_(True).float()
    optimizer = torch.optim.Adam([offsets], lr=0.1)
    x = torch.randn(5, 3)
    for _ in range(2):
        optimizer.zero_grad()
        (x @ offsets).pow(2).sum().backward()
        optimizer.step()
    return {"offsets": offsets}
""",
            lines=(8,),
            expect={"error": "can't optimize a non-leaf Tensor"},
            fixed_expect={"grad_ok": ["offsets"]},
        ),
        Example(
            bad=False,
            name="numpy-float32-array-made-a-leaf-then-float-is-no-copy",
            code="""import numpy as np
import torch


def main():
    torch.manual_seed(0)
    init = np.ones((3, 2)).astype(np.float32)
    offsets = torch.from_numpy(init).requires_grad_(True).float()
    optimizer = torch.optim.Adam([offsets], lr=0.1)
    x = torch.randn(5, 3)
    for _ in range(2):
        optimizer.zero_grad()
        (x @ offsets).pow(2).sum().backward()
        optimizer.step()
    return {"offsets": offsets}
""",
            expect={"grad_ok": ["offsets"]},
        ),
        Example(
            name="slice-of-a-leaf-given-to-the-optimizer",
            code="""import torch


class PromptTuner:
    def __init__(self, encoder, ids, lr=0.1):
        with torch.no_grad():
            embedding = encoder(ids)
        self.embedding = embedding.requires_grad_(True)
        self.tokens = self.embedding[:, 1:3]
        self.optimizer = torch.optim.Adam([self.tokens], lr=lr)


def main():
    torch.manual_seed(0)
    tuner = PromptTuner(torch.nn.Embedding(10, 4), torch.tensor([[0, 3, 5, 7, 1]]))
    loss = tuner.embedding.pow(2).sum()
    tuner.optimizer.zero_grad()
    loss.backward()
    tuner.optimizer.step()
    return {"embedding": tuner.embedding}
""",
            lines=(9,),
            fixable=False,  # the part must become a leaf of its own, used in the forward: a design change
            expect={"error": "can't optimize a non-leaf Tensor"},
        ),
        Example(
            bad=False,
            name="test-input-cast-then-copied-into-fresh-leaves",
            code="""import torch


def roll_reference(x, shift):
    return torch.roll(x, shifts=shift, dims=1)


def main():
    torch.manual_seed(0)
    x = torch.randn(2, 5, requires_grad=True).double()
    a = x.clone().detach().requires_grad_(True)
    b = x.clone().detach().requires_grad_(True)
    roll_reference(a, 1).pow(2).sum().backward()
    torch.cat([b[:, -1:], b[:, :-1]], dim=1).pow(2).sum().backward()
    return {"a": a, "b": b}, {"same_grad": bool(torch.equal(a.grad, b.grad))}
""",
            expect={"grad_ok": ["a", "b"], "facts": {"same_grad": True}},
        ),
        Example(
            bad=False,
            name="part-of-the-embedding-made-its-own-leaf",
            code="""import torch


class PromptTuner:
    def __init__(self, encoder, ids, lr=0.1):
        with torch.no_grad():
            embedding = encoder(ids)
        self.frozen = embedding
        self.tokens = embedding[:, 1:3].clone().requires_grad_(True)
        self.optimizer = torch.optim.Adam([self.tokens], lr=lr)

    def full(self):
        return torch.cat([self.frozen[:, :1], self.tokens, self.frozen[:, 3:]], dim=1)


def main():
    torch.manual_seed(0)
    tuner = PromptTuner(torch.nn.Embedding(10, 4), torch.tensor([[0, 3, 5, 7, 1]]))
    loss = tuner.full().pow(2).sum()
    tuner.optimizer.zero_grad()
    loss.backward()
    tuner.optimizer.step()
    return {"tokens": tuner.tokens}
""",
            expect={"grad_ok": ["tokens"]},
        ),
        Example(
            name="cast-leaves-kept-on-an-object-and-given-in-a-param-group",
            code="""import torch
import torch.nn as nn


class Fit:
    def __init__(self):
        raw = [torch.tensor(v, requires_grad=True) for v in (2.0, 0.5)]
        self.phys = [p.to(dtype=torch.float64) for p in raw]
        self.net = nn.Linear(2, 1).double()

    def run(self, steps=3):
        groups = [{"params": self.phys, "lr": 1e-2}]
        groups.append({"params": self.net.parameters(), "lr": 1e-3})
        opt = torch.optim.Adam(groups)
        x = torch.randn(8, 2, dtype=torch.float64)
        for _ in range(steps):
            loss = (self.net(x) * self.phys[0] + self.phys[1]).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()


def main():
    fit = Fit()
    fit.run()
    return {"net": fit.net}, {"first_is_leaf": fit.phys[0].is_leaf}
""",
            lines=(8,),
            expect={"error": "can't optimize a non-leaf Tensor"},
            fixed_expect={"facts": {"first_is_leaf": True}, "grad_ok": ["net.weight"]},
        ),
        Example(
            bad=False,
            name="leaves-made-in-float64-kept-on-an-object-and-given-in-a-param-group",
            code="""import torch
import torch.nn as nn


class Fit:
    def __init__(self):
        self.phys = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (2.0, 0.5)]
        self.net = nn.Linear(2, 1).double()

    def run(self, steps=3):
        groups = [{"params": self.phys, "lr": 1e-2}]
        groups.append({"params": self.net.parameters(), "lr": 1e-3})
        opt = torch.optim.Adam(groups)
        x = torch.randn(8, 2, dtype=torch.float64)
        for _ in range(steps):
            loss = (self.net(x) * self.phys[0] + self.phys[1]).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()


def main():
    fit = Fit()
    fit.run()
    return {"net": fit.net}, {"first_is_leaf": fit.phys[0].is_leaf}
""",
            expect={"facts": {"first_is_leaf": True}, "grad_ok": ["net.weight"]},
        ),
        Example(
            name="leaves-cast-to-float64-in-a-helper",
            code="""import torch


def make_scales(n):
    return [torch.ones(2, requires_grad=True) for _ in range(n)]


def to_device(tensors, device, dtype=None):
    return [t.to(device=device, dtype=dtype) for t in tensors]


def main():
    torch.manual_seed(0)
    scales = to_device(make_scales(3), torch.device("cpu"), torch.float64)
    optimizer = torch.optim.SGD(scales, lr=0.1)
    x = torch.randn(4, 2, dtype=torch.float64)
    loss = sum((x * s).pow(2).mean() for s in scales)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"scale_0": scales[0]}
""",
            lines=(9,),
            expect={"error": "can't optimize a non-leaf Tensor"},
        ),
        Example(
            bad=False,
            name="leaves-moved-to-the-cpu",
            code="""import torch


def make_scales(n):
    return [torch.ones(2, requires_grad=True) for _ in range(n)]


def to_device(tensors, device, dtype=None):
    return [t.to(device) for t in tensors]


def main():
    torch.manual_seed(0)
    scales = to_device(make_scales(3), torch.device("cpu"))
    optimizer = torch.optim.SGD(scales, lr=0.1)
    x = torch.randn(4, 2, dtype=torch.float32)
    loss = sum((x * s).pow(2).mean() for s in scales)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"scale_0": scales[0]}
""",
            expect={"grad_ok": ["scale_0"]},
        ),
        Example(
            name="optimizer-over-copies-of-the-parameters",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    params = [p.clone() for p in model.parameters()]
    opt = torch.optim.SGD(params, lr=0.1)
    loss = model(torch.randn(8, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(8,),
            expect={"error": "can't optimize a non-leaf Tensor"},
        ),
        Example(
            name="parameter-cast-then-optimizer",
            code="""import torch
from torch import nn


def main():
    torch.manual_seed(0)
    scale = nn.Parameter(torch.ones(3)).to(torch.float64)
    shift = nn.Parameter(torch.zeros(3)).double()
    opt = torch.optim.Adam([scale, shift], lr=0.01)
    x = torch.randn(10, 3, dtype=torch.float64)
    loss = ((x * scale + shift) ** 2).mean()
    loss.backward()
    opt.step()
    return {"scale": scale, "shift": shift}
""",
            lines=(7, 8),
            expect={"error": "can't optimize a non-leaf Tensor"},
        ),
        Example(
            name="leaf-then-double",
            code="""import torch


def main():
    torch.manual_seed(0)
    coeffs = torch.randn(3, requires_grad=True).double()
    t = torch.linspace(0, 1, 8, dtype=torch.float64)
    pred = coeffs[0] + coeffs[1] * t + coeffs[2] * t ** 2
    loss = (pred - t.sin()).pow(2).mean()
    loss.backward()
    return {"coeffs": coeffs}
""",
            lines=(6,),
            expect={"grad_none": ["coeffs"]},
        ),
        Example(
            name="scaled-leaf-given-to-the-optimizer",
            code="""import torch
import torch.nn.functional as F


def init_prompt(n_tokens, dim):
    prompt = torch.randn(n_tokens, dim, requires_grad=True) * 0.02
    return prompt


def main():
    torch.manual_seed(0)
    prompt = init_prompt(4, 8)
    opt = torch.optim.Adam([prompt], lr=0.01)
    target = torch.randn(4, 8)
    for _ in range(3):
        loss = F.mse_loss(torch.tanh(prompt), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"prompt": prompt}
""",
            lines=(6,),
            expect={"error": "can't optimize a non-leaf Tensor"},
        ),
        Example(
            bad=False,
            name="snapshot-copies-and-an-optimizer-over-the-parameters",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    snapshot = [p.detach().clone() for p in model.parameters()]
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(trainable, lr=0.1)
    loss = model(torch.randn(8, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    changed = not torch.equal(snapshot[0], model.weight.detach())
    return {"model": model}, {"changed": changed}
""",
            expect={"grad_ok": ["model.weight"], "facts": {"changed": True}},
        ),
        Example(
            name="helper-returns-the-normalized-leaf-to-the-optimizer",
            code="""import torch
import torch.nn as nn


def make_input(shape, shift=0.5, scale=0.25):
    image = torch.rand(shape, requires_grad=True)
    return (image - shift) / scale


def main():
    torch.manual_seed(0)
    net = nn.Linear(6, 1).requires_grad_(False)
    x = make_input((2, 6))
    opt = torch.optim.Adam([x], lr=0.1)
    loss = -net(x).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"x": x}
""",
            lines=(7,),
            fixable=False,
            expect={"error": "can't optimize a non-leaf Tensor"},
        ),
        Example(
            bad=False,
            name="leaf-optimized-and-normalized-in-the-objective",
            code="""import torch
import torch.nn as nn


def make_input(shape, shift=0.5, scale=0.25):
    image = torch.rand(shape, requires_grad=True)
    return image, (image - shift) / scale


def main():
    torch.manual_seed(0)
    net = nn.Linear(6, 1).requires_grad_(False)
    image, _ = make_input((2, 6))
    with torch.no_grad():
        start = (torch.rand(2, 6) - 0.5) / 0.25
    delta = start.clone().requires_grad_()
    opt = torch.optim.Adam([image, delta], lr=0.1)
    for _ in range(2):
        loss = -net((image - 0.5) / 0.25 + delta).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"image": image, "delta": delta}
""",
            expect={"grad_ok": ["image", "delta"]},
        ),
        Example(
            bad=False,
            name="scaled-before-the-leaf-is-made",
            code="""import torch
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    prompt = (torch.randn(4, 8) * 0.02).requires_grad_()
    scale = torch.ones(1, requires_grad=True)
    scaled = scale * 2.0
    opt = torch.optim.Adam([prompt, scale], lr=0.01)
    loss = F.mse_loss(torch.tanh(prompt) * scaled, torch.randn(4, 8))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"prompt": prompt, "scale": scale}
""",
            expect={"grad_ok": ["prompt", "scale"]},
        ),
        Example(
            bad=False,
            name="cast-before-leaf",
            code="""import torch
from torch import nn


def main():
    torch.manual_seed(0)
    a = torch.rand(3, dtype=torch.float64, requires_grad=True)
    b = torch.rand(3).double().requires_grad_()
    c = nn.Parameter(torch.rand(3).to(torch.float64))
    d = nn.Parameter(torch.rand(3)).float()
    e = torch.rand(3, requires_grad=True).to("cpu")
    opt = torch.optim.SGD([a, b, c, d, e], lr=0.1)
    (a * b * c).sum().backward()
    (d * e).sum().backward()
    opt.step()
    return {"a": a, "b": b, "c": c, "d": d, "e": e}
""",
            expect={"grad_ok": ["a", "b", "c", "d", "e"]},
        ),
        Example(
            name="constructor-keeps-a-scaled-copy-of-a-leaf-the-optimizer-is-given",
            code="""import torch


def init_projection(in_dim, out_dim, scale=0.1):
    return torch.randn(out_dim, in_dim, requires_grad=True) * scale


class Metric:
    def __init__(self, in_dim, out_dim):
        self.A = init_projection(in_dim, out_dim)

    def loss(self, x):
        return (x @ self.A.t()).pow(2).mean()


def main():
    torch.manual_seed(0)
    metric = Metric(6, 2)
    optimizer = torch.optim.SGD([metric.A], lr=0.1)
    optimizer.zero_grad()
    metric.loss(torch.randn(8, 6)).backward()
    optimizer.step()
    return {"A": metric.A}
""",
            expect={"error": "can't optimize a non-leaf Tensor"},
            lines=(5,),
            fixable=False,
        ),
        Example(
            bad=False,
            name="constructor-keeps-a-leaf-scaled-before-it-requires-grad",
            code="""import torch


def init_projection(in_dim, out_dim, scale=0.1):
    return (torch.randn(out_dim, in_dim) * scale).requires_grad_()


class Metric:
    def __init__(self, in_dim, out_dim):
        self.A = init_projection(in_dim, out_dim)

    def loss(self, x):
        return (x @ self.A.t()).pow(2).mean()


def main():
    torch.manual_seed(0)
    metric = Metric(6, 2)
    optimizer = torch.optim.SGD([metric.A], lr=0.1)
    optimizer.zero_grad()
    metric.loss(torch.randn(8, 6)).backward()
    optimizer.step()
    return {"A": metric.A}
""",
            expect={"grad_ok": ["A"]},
        ),
        Example(
            name="dropconnect-writes-the-dropped-weight-into-parameters",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class DropConnect(nn.Module):
    def __init__(self, layer, p=0.3):
        super().__init__()
        self.layer, self.p = layer, p
        self.weight_raw = nn.Parameter(layer.weight.detach().clone())
        self._set_weight()

    def _set_weight(self):
        self.layer._parameters["weight"] = F.dropout(self.weight_raw, self.p, self.training)

    def forward(self, x):
        self._set_weight()
        return self.layer(x)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(DropConnect(nn.Linear(4, 8)), nn.ReLU(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = (model(torch.randn(6, 4)) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(14,),
            fixable=False,
            expect={"error": "can't optimize a non-leaf Tensor"},
        ),
        Example(
            bad=False,
            name="dropconnect-computes-the-dropped-weight-in-forward",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class DropConnect(nn.Module):
    def __init__(self, layer, p=0.3):
        super().__init__()
        self.layer, self.p = layer, p
        self.layer._parameters["weight"] = nn.Parameter(layer.weight.detach().clone())

    def forward(self, x):
        w = F.dropout(self.layer.weight, self.p, self.training)
        return F.linear(x, w, self.layer.bias)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(DropConnect(nn.Linear(4, 8)), nn.ReLU(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = (model(torch.randn(6, 4)) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.layer.weight", "model.2.weight"]},
        ),
        Example(
            name="numpy-float64-table-from-a-loader-made-a-leaf-in-a-constructor-then-cast",
            code="""import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_vectors(vocab=12, dim=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=0.3, size=(vocab, dim))


class BagOfWords(nn.Module):
    def __init__(self, vectors, classes=3):
        super().__init__()
        self.vectors = torch.tensor(vectors, requires_grad=True).float()
        self.head = nn.Linear(vectors.shape[1], classes)

    def forward(self, ids):
        return self.head(F.embedding(ids, self.vectors).mean(1))


def main():
    torch.manual_seed(0)
    model = BagOfWords(load_vectors())
    optimizer = torch.optim.Adam([{"params": model.head.parameters()}, {"params": [model.vectors], "lr": 1e-3}], lr=1e-2)
    for _ in range(2):
        ids = torch.randint(0, 12, (5, 6))
        loss = F.cross_entropy(model(ids), torch.randint(0, 3, (5,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            lines=(15,),
            expect={"error": "can't optimize a non-leaf Tensor"},
            fixed_expect={"grad_ok": ["model.head.weight"]},
        ),
        Example(
            bad=False,
            name="numpy-float32-table-from-a-loader-made-a-leaf-then-float-is-no-copy",
            code="""import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_vectors(vocab=12, dim=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=0.3, size=(vocab, dim)).astype(np.float32)


class BagOfWords(nn.Module):
    def __init__(self, vectors, classes=3):
        super().__init__()
        self.vectors = torch.tensor(vectors, requires_grad=True).float()
        self.head = nn.Linear(vectors.shape[1], classes)

    def forward(self, ids):
        return self.head(F.embedding(ids, self.vectors).mean(1))


def main():
    torch.manual_seed(0)
    model = BagOfWords(load_vectors())
    optimizer = torch.optim.Adam([{"params": model.head.parameters()}, {"params": [model.vectors], "lr": 1e-3}], lr=1e-2)
    for _ in range(2):
        ids = torch.randint(0, 12, (5, 6))
        loss = F.cross_entropy(model(ids), torch.randint(0, 3, (5,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model, "vectors": model.vectors}
""",
            expect={"grad_ok": ["vectors", "model.head.weight"]},
        ),
        Example(
            name="rows-of-a-float64-checkpoint-wrapped-in-a-parameter-then-cast",
            code="""import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_rows(n=6, dim=4, seed=0):
    return np.random.default_rng(seed).normal(0, 0.1, size=(n, dim))


class Head(nn.Module):
    def __init__(self, dim=4, classes=2):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.classes = classes

    def forward(self, x):
        return torch.tanh(self.proj(x)) @ self.cls_weight.t()


def transplant(head, rows, keep=(0, 3)):
    picked = torch.from_numpy(rows[list(keep)])
    head.cls_weight = nn.Parameter(picked).float()
    return head


def main():
    torch.manual_seed(0)
    head = transplant(Head(), load_rows())
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
    for _ in range(2):
        loss = F.cross_entropy(head(torch.randn(5, 4)), torch.randint(0, 2, (5,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"head": head, "cls_weight": head.cls_weight}
""",
            lines=(23,),
            expect={"grad_none": ["cls_weight"], "grad_ok": ["head.proj.weight"]},
            fixed_expect={"grad_ok": ["cls_weight", "head.cls_weight", "head.proj.weight"]},
        ),
        Example(
            bad=False,
            name="rows-of-a-float32-checkpoint-wrapped-in-a-parameter-then-float-is-no-copy",
            code="""import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_rows(n=6, dim=4, seed=0):
    return np.random.default_rng(seed).normal(0, 0.1, size=(n, dim)).astype(np.float32)


class Head(nn.Module):
    def __init__(self, dim=4, classes=2):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.classes = classes

    def forward(self, x):
        return torch.tanh(self.proj(x)) @ self.cls_weight.t()


def transplant(head, rows, keep=(0, 3)):
    picked = torch.from_numpy(rows[list(keep)])
    head.cls_weight = nn.Parameter(picked).float()
    return head


def main():
    torch.manual_seed(0)
    head = transplant(Head(), load_rows())
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
    for _ in range(2):
        loss = F.cross_entropy(head(torch.randn(5, 4)), torch.randint(0, 2, (5,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"head": head, "cls_weight": head.cls_weight}
""",
            expect={"grad_ok": ["cls_weight", "head.cls_weight", "head.proj.weight"]},
        ),
        Example(
            name="half-precision-leaf-upcast-with-float-in-a-helper",
            code="""import torch
import torch.nn as nn


class TextEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)

    def forward(self, ids):
        return self.embed(ids)


def init_token(encoder, token_id):
    vec = encoder.embed.weight[token_id].detach().clone()
    token = torch.tensor(vec.tolist(), dtype=torch.float16, requires_grad=True)
    return token.float()


def main():
    torch.manual_seed(0)
    encoder = TextEncoder().half()
    encoder.requires_grad_(False)
    token = init_token(encoder, 3)
    optimizer = torch.optim.AdamW([token], lr=0.1)
    x = torch.randn(5, 4)
    for _ in range(2):
        optimizer.zero_grad()
        (x @ token).pow(2).sum().backward()
        optimizer.step()
    return {"token": token}
""",
            lines=(17,),
            expect={"error": "can't optimize a non-leaf Tensor"},
            fixed_expect={"grad_ok": ["token"]},
        ),
        Example(
            bad=False,
            name="leaves-cast-to-the-dtype-their-factory-gave-them",
            code="""import torch


def main():
    torch.manual_seed(0)
    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    w = w.double()
    h = torch.zeros(3, dtype=torch.float16, requires_grad=True)
    h = h.to(torch.float16)
    optimizer = torch.optim.SGD([w, h], lr=0.1)
    x = torch.randn(3, dtype=torch.float64)
    for _ in range(2):
        optimizer.zero_grad()
        loss = (w * x).sum() + (h.float() * 3).sum()
        loss.backward()
        optimizer.step()
    return {"w": w, "h": h}
""",
            expect={"grad_ok": ["h", "w"]},
        ),
        Example(
            name="random-start-scaled-after-the-leaf-is-made",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def perturb(model, x, y, eps=0.1, alpha=0.05, steps=2):
    delta = torch.rand_like(x, requires_grad=True) * 2 * eps - eps
    for _ in range(steps):
        loss = F.cross_entropy(model(x + delta), y)
        loss.backward()
        delta = (delta + alpha * delta.grad.sign()).clamp(-eps, eps).detach().requires_grad_()
    return (x + delta).detach()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    for _ in range(2):
        x_adv = perturb(model, x, y)
        optimizer.zero_grad()
        F.cross_entropy(model(x_adv), y).backward()
        optimizer.step()
    return {"model": model}
""",
            lines=(7,),
            expect={"error": "'NoneType' object has no attribute 'sign'"},
            fixed_expect={"grad_ok": ["model.bias", "model.weight"]},
        ),
        Example(
            name="float-of-a-leaf-made-from-numpy-log-of-a-python-float",
            code="""import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def make_temperature(init=0.07):
    return torch.tensor(np.log(1.0 / init), requires_grad=True).float()


def main():
    torch.manual_seed(0)
    img, txt = nn.Linear(4, 8), nn.Linear(6, 8)
    log_scale = make_temperature()
    optimizer = torch.optim.SGD([*img.parameters(), *txt.parameters()], lr=0.1)
    for _ in range(3):
        a = F.normalize(img(torch.randn(8, 4)), dim=-1)
        b = F.normalize(txt(torch.randn(8, 6)), dim=-1)
        logits = log_scale.exp() * a @ b.t()
        loss = F.cross_entropy(logits, torch.arange(8))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            log_scale -= 0.01 * log_scale.grad
    return {"log_scale": log_scale, "img": img}
""",
            lines=(8,),
            expect={"error": "unsupported operand"},
        ),
        Example(
            bad=False,
            name="float-of-a-float32-leaf-made-from-numpy-log",
            code="""import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def make_temperature(init=0.07):
    return torch.tensor(np.log(1.0 / init), dtype=torch.float32, requires_grad=True).float()


def main():
    torch.manual_seed(0)
    img, txt = nn.Linear(4, 8), nn.Linear(6, 8)
    log_scale = make_temperature()
    optimizer = torch.optim.SGD([*img.parameters(), *txt.parameters()], lr=0.1)
    for _ in range(3):
        a = F.normalize(img(torch.randn(8, 4)), dim=-1)
        b = F.normalize(txt(torch.randn(8, 6)), dim=-1)
        logits = log_scale.exp() * a @ b.t()
        loss = F.cross_entropy(logits, torch.arange(8))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            log_scale -= 0.01 * log_scale.grad
    return {"log_scale": log_scale, "img": img}
""",
            expect={"grad_ok": ["log_scale", "img.weight"]},
        ),
        Example(
            name="leaf-cast-then-scaled-in-a-table-helper",
            code="""import torch


def init_table(rows, dim, dtype=torch.float64, std=0.1):
    return torch.randn(rows, dim, requires_grad=True).to(dtype) * std


def main():
    torch.manual_seed(0)
    users, items = init_table(6, 3), init_table(5, 3)
    ratings = torch.rand(6, 5, dtype=torch.float64)
    for _ in range(3):
        loss = ((users @ items.t() - ratings) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            users -= 0.1 * users.grad
            items -= 0.1 * items.grad
        users.grad = None
        items.grad = None
    return {"users": users, "items": items}
""",
            lines=(5,),
            expect={"error": "unsupported operand"},
        ),
        Example(
            name="scaled-leaves-returned-in-a-list-comprehension",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def init_gates(n, init=0.5):
    return [torch.ones(4, requires_grad=True) * init for _ in range(n)]


def main():
    torch.manual_seed(0)
    layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])
    gates = init_gates(len(layers))
    optimizer = torch.optim.SGD(layers.parameters(), lr=0.1)
    for _ in range(3):
        x = torch.randn(8, 4)
        for layer, g in zip(layers, gates):
            x = torch.tanh(layer(x)) * g
        loss = F.mse_loss(x, torch.zeros(8, 4))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            for g in gates:
                g -= 0.1 * g.grad
    return {"layers": layers}
""",
            lines=(7,),
            expect={"error": "unsupported operand"},
        ),
        Example(
            name="numpy-points-unpacked-from-a-helper-made-a-leaf-in-a-method-then-cast",
            code="""import numpy as np
import torch


def load_points(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, size=(n, 2)), rng.uniform(0, 1, size=(n, 3))


class Fitter:
    def __init__(self, lr):
        self.lr = lr

    def make_means(self, points):
        return torch.tensor(points, requires_grad=True).float()

    def fit(self, points, target):
        means = self.make_means(points)
        start = means.detach().clone()
        opt = torch.optim.Adam([means], lr=self.lr)
        for _ in range(3):
            loss = (means - target).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        return not torch.equal(start, means.detach())


def main():
    xy, rgb = load_points(8)
    moved = Fitter(0.1).fit(xy, torch.zeros(8, 2))
    return {}, {"means_moved": moved}
""",
            lines=(15,),
            expect={'error': "can't optimize a non-leaf Tensor"},
            fixed_expect={'facts': {'means_moved': True}},
        ),
        Example(
            bad=False,
            name="float32-points-unpacked-from-a-helper-float-is-no-copy",
            code="""import numpy as np
import torch


def load_points(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, size=(n, 2)).astype(np.float32), rng.uniform(0, 1, size=(n, 3))


class Fitter:
    def __init__(self, lr):
        self.lr = lr

    def make_means(self, points):
        return torch.tensor(points, requires_grad=True).float()

    def fit(self, points, target):
        means = self.make_means(points)
        start = means.detach().clone()
        opt = torch.optim.Adam([means], lr=self.lr)
        for _ in range(3):
            loss = (means - target).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        return not torch.equal(start, means.detach())


def main():
    xy, rgb = load_points(8)
    moved = Fitter(0.1).fit(xy, torch.zeros(8, 2))
    return {}, {"means_moved": moved}
""",
            expect={'facts': {'means_moved': True}},
        ),
        Example(
            bad=False,
            name="cast-input-handed-straight-to-the-model",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Linear(5, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = model(torch.rand(4, 5, requires_grad=True).double().float()).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={'grad_ok': ['model.weight']},
        ),
        Example(
            bad=False,
            name="computed-requires-grad-inputs-only-given-to-autograd-grad",
            code="""import torch
import torch.nn as nn


def input_gradient(model, inputs, baseline):
    out = model(inputs - baseline).sum()
    return torch.autograd.grad(out, inputs)[0]


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 4), nn.Tanh(), nn.Linear(4, 1))
    inp = torch.arange(0.0, 6.0, requires_grad=True).unsqueeze(0)
    scaled = 10 * torch.randn(2, 6, requires_grad=True)
    a = input_gradient(model, inp, 0 * inp)
    b = input_gradient(model, scaled, torch.zeros(2, 6))
    return {}, {"attributions": bool(a.abs().sum() > 0 and b.abs().sum() > 0)}
""",
            expect={'facts': {'attributions': True}},
        ),
        Example(
            bad=False,
            name="scaled-copy-only-given-to-gradcheck-beside-a-function-of-the-same-argument-name",
            code="""import torch


class Scale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, table):
        ctx.save_for_backward(x, table)
        return x * table.sum()

    @staticmethod
    def backward(ctx, g):
        x, table = ctx.saved_tensors
        return g * table.sum(), (g * x).sum() * torch.ones_like(table)


torch.manual_seed(0)
device = torch.device("cpu")
x = torch.rand(4, dtype=torch.float64, requires_grad=True)
table = torch.randn(6, 2, dtype=torch.float64, requires_grad=True).to(device) * 0.1
ok = torch.autograd.gradcheck(Scale.apply, (x, table), eps=1e-6, atol=1e-4)
(g,) = torch.autograd.grad(Scale.apply(x, table).sum(), table)


def main():
    return {}, {"gradcheck_passed": bool(ok), "table_grad_nonzero": bool(g.abs().sum() > 0)}
""",
            expect={'facts': {'gradcheck_passed': True, 'table_grad_nonzero': True}},
        ),
        Example(
            bad=False,
            name="list-of-moved-copies-whose-grads-are-retained",
            code="""import numpy as np
import torch


def main():
    torch.manual_seed(0)
    device = torch.device("cpu")
    state = [torch.randn(2, 3) for _ in range(2)]
    accum = [np.zeros((2, 3), dtype=np.float32) for _ in state]
    for _ in range(3):
        delta = [torch.from_numpy(a).requires_grad_(True).to(device=device, dtype=torch.float64) for a in accum]
        for d in delta:
            d.retain_grad()
        loss = sum(((s + d) ** 2).sum() for s, d in zip(state, delta))
        loss.backward()
        accum = [a - 0.1 * d.grad.float().numpy() for a, d in zip(accum, delta)]
    return {}, {"delta_grad_nonzero": bool(delta[0].grad.abs().sum() > 0)}
""",
            expect={'facts': {'delta_grad_nonzero': True}},
        ),
        Example(
            name="list-of-moved-copies-whose-grads-are-read",
            code="""import numpy as np
import torch


def main():
    torch.manual_seed(0)
    device = torch.device("cpu")
    state = [torch.randn(2, 3) for _ in range(2)]
    accum = [np.zeros((2, 3), dtype=np.float32) for _ in state]
    for _ in range(3):
        delta = [torch.from_numpy(a).requires_grad_(True).to(device=device, dtype=torch.float64) for a in accum]
        loss = sum(((s + d) ** 2).sum() for s, d in zip(state, delta))
        loss.backward()
        accum = [a - 0.1 * d.grad.float().numpy() for a, d in zip(accum, delta)]
    return {}, {"delta_grad_nonzero": bool(delta[0].grad.abs().sum() > 0)}
""",
            lines=(11,),
            expect={'error': 'NoneType'},
            fixed_expect={'facts': {'delta_grad_nonzero': True}},
        ),
    )

    def check(self, facts):
        reported: set = set()
        yield from self._parameter_slot_written(facts)
        for f in self._copies_to_optimizer(facts):
            reported.add((f.start.line, f.start.col))
            yield f
        # casts applied right where the leaf is made are reported below, with their own fix
        made_here = {id(call) for call in leaf_creation_calls(facts) if isinstance(call.func, ast.Attribute) and call.func.attr in TENSOR_CASTS and isinstance(call.func.value, ast.Call) and self._leaf_kind(facts, call.func.value) is not None}
        arithmetic = list(self._arithmetic(facts))
        raising: dict = {}  # arithmetic on a fresh leaf whose result reaches an optimizer (-> where): reported below, as an error
        # (a copy made inside an arithmetic chain reported below is that chain's: ``torch.rand(..., requires_grad=True) * 0.5
        # + 0.25`` is one finding, on the whole chain)
        inside = {id(n): id(a[0]) for a in arithmetic for n in walk_nodes(a[0]) if isinstance(n, ast.BinOp) or n is a[0]}
        yield from self._flowed_copies(facts, reported, made_here | set(inside), raising, inside)
        for op, inner, kind, text in arithmetic:
            st = facts.parent(op)
            if id(op) not in raising and isinstance(st, ast.Assign) and st.value is op and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
                scope = facts.enclosing(st, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
                if not leaf_wanted(facts, scope, st.targets[0].id):
                    continue  # only used as a value (a test's input, given to a model or to autograd.grad): nothing reads its .grad
            what = {"parameter": "`nn.Parameter(...)`", "factory": "a `requires_grad=True` tensor", "requires_grad_": "a `requires_grad_()` leaf"}[kind[0]]
            related = self._related(facts, op)
            if id(op) in raising and not any(getattr(n, "lineno", None) == getattr(raising[id(op)], "lineno", 0) for n, _m in related):
                related = [*related, (raising[id(op)], "the computed tensor reaches the optimizer here: it raises `can't optimize a non-leaf Tensor`")]
            returned = isinstance(facts.parent(op), ast.Return)

            def build_arith(o: ast.AST = op, i: ast.Call = inner, k: tuple = kind) -> Optional[Fix]:
                return self._arith_fix(facts, o, i, k)

            yield self.finding(
                facts,
                op,
                f"{text} on {what} returns a non-leaf: what {'the function returns' if returned else 'is kept'} never gets `.grad` and optimizers reject it",
                severity=Severity.ERROR if id(op) in raising else None,
                related=related,
                fixes=[build_arith],
                explanation="The operation is recorded by autograd: the name is bound to its output, not to the leaf (which has no name left), "
                "so `.grad` of the variable stays None and `torch.optim` raises `can't optimize a non-leaf Tensor`.",
            )
        for call in leaf_creation_calls(facts):
            f = call.func
            if not (isinstance(f, ast.Attribute) and f.attr in TENSOR_CASTS):
                continue
            inner = f.value
            if not isinstance(inner, ast.Call):
                continue
            kind = self._leaf_kind(facts, inner)
            if kind is None:
                continue
            if self._noop(facts, call, kind[1]):
                continue
            st = facts.parent(call)
            elements = False  # (the copies are the elements of a list built by a comprehension)
            while isinstance(st, (ast.BinOp, ast.UnaryOp)) or (isinstance(st, ast.Attribute) and st.attr in TENSOR_CASTS and isinstance(facts.parent(st), ast.Call)) \
                    or (isinstance(st, (ast.ListComp, ast.GeneratorExp)) and not elements):
                elements = elements or isinstance(st, (ast.ListComp, ast.GeneratorExp))
                st = facts.parent(st) if not isinstance(st, ast.Attribute) else facts.parent(facts.parent(st))  # (``.to(device) * 0.1``)
            if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
                scope = facts.enclosing(st, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
                if not leaf_wanted(facts, scope, st.targets[0].id, elements=elements):
                    continue  # only used as a value: nothing reads its .grad or gives it to an optimizer
            top = call  # (through a chain of casts: ``torch.rand(..., requires_grad=True).double().float()``)
            while isinstance(facts.parent(top), ast.Attribute) and facts.parent(top).attr in TENSOR_CASTS and isinstance(facts.parent(facts.parent(top)), ast.Call) \
                    and facts.parent(facts.parent(top)).func is facts.parent(top):
                top = facts.parent(facts.parent(top))
            holder = facts.parent(top)
            if id(call) not in raising and (isinstance(holder, ast.keyword) or (isinstance(holder, ast.Call) and top in holder.args)) \
                    and not is_optimizer_ctor((facts.imports.qualname(holder.func) or "") if isinstance(holder, ast.Call) else "") \
                    and not (isinstance(holder, ast.keyword) and holder.arg in ("params",)):
                continue  # (``model(torch.rand(5, requires_grad=True).cuda())``: a value handed to a call, bound to no name: nothing reads its .grad)
            what = {"parameter": "`nn.Parameter(...)`", "factory": "a `requires_grad=True` tensor", "requires_grad_": "a `requires_grad_()` leaf"}[kind[0]]
            related = self._related(facts, call)
            if id(call) in raising and not any(getattr(n, "lineno", None) == getattr(raising[id(call)], "lineno", 0) for n, _m in related):
                related = [*related, (raising[id(call)], "the copy reaches the optimizer here: it raises `can't optimize a non-leaf Tensor`")]

            def build(c: ast.Call = call, k: tuple = kind) -> Optional[Fix]:
                return self._fix(facts, c, k)

            yield self.finding(
                facts,
                call,
                f"`.{f.attr}()` on {what} returns a non-leaf copy: the variable never gets `.grad` and optimizers reject it",
                severity=Severity.ERROR if id(call) in raising else None,
                related=related,
                fixes=[build],
                explanation="A cast or device move that changes the tensor is recorded by autograd; the result is not a leaf, so `.grad` stays None and `torch.optim` raises `can't optimize a non-leaf Tensor`.",
                method_span=True,
            )

    def _flowed_copies(self, facts, reported: set, made_here: set, raising: dict, outer: Optional[dict] = None):
        """Leaves cast to another dtype (``[t.to(dtype=torch.float64) for t in leaves]``, in a helper or not) that
        reach an optimizer's constructor: it raises ``can't optimize a non-leaf Tensor``. The flow engine tells of such
        copies only where it evaluates an optimizer's constructor call: without one in the file, no function is walked."""
        outer = outer or {}
        if "optim" not in facts.source.text or not facts.optimizer_constructions:
            return
        if "retain_grad" in facts.source.text or "differentiable" in facts.source.text:
            return  # optimizers also accept a non-leaf that retains its grad, and differentiable optimizers any tensor
        seen: set = set()
        for fl in [*facts.flows, *facts.flow.context_flows]:
            for ev in fl.events:
                if ev.what != "optimizer_leaf_copy" or ev.value is None or ev.value.leaf_copy is None:
                    continue
                frozen = frozen_paths(facts)
                if frozen and ev.value.live and all(is_frozen(r[5:] if r.startswith("self.") else r, frozen) for r in ev.value.live):
                    continue  # copies of frozen parameters (requires_grad=False) are leaves, which optimizers accept
                cast = ev.value.leaf_copy
                if id(cast) in made_here:
                    raising.setdefault(outer.get(id(cast), id(cast)), ev.node)
                if id(cast) in seen or id(cast) in made_here or any(cast.lineno == line and cast.col_offset >= col for line, col in reported):
                    continue
                seen.add(id(cast))
                what = f"`.{cast.func.attr}()`" if isinstance(cast, ast.Call) and isinstance(cast.func, ast.Attribute) else "the cast"
                if isinstance(cast, ast.Subscript):
                    yield self.finding(
                        facts,
                        cast,
                        f"indexing `{_short(facts.text(cast.value))}`, a leaf tensor that requires grad, gives a non-leaf view, and it is given to the optimizer: it raises `can't optimize a non-leaf Tensor`",
                        severity=Severity.ERROR,
                        related=[(ev.node, "the view reaches the optimizer here")],
                        explanation="Indexing or slicing a tensor that requires grad is an operation autograd records: the result has a "
                        "`grad_fn`, and `torch.optim` accepts only leaves. Optimize the whole leaf (and mask the gradient of the part "
                        "to keep, e.g. with a hook), or make the part its own leaf and build the full tensor from it in the forward.",
                    )
                    continue
                if isinstance(cast, ast.BinOp):
                    yield self.finding(
                        facts,
                        cast,
                        f"`{_short(facts.text(cast))}` computes a new tensor from a leaf that requires grad: the result is not a leaf, and it is given to the optimizer: it raises `can't optimize a non-leaf Tensor`",
                        severity=Severity.ERROR,
                        related=[(ev.node, "the computed tensor reaches the optimizer here")],
                        explanation="Arithmetic on a tensor that requires grad is recorded by autograd: the result has a `grad_fn`, the leaf "
                        "it was computed from is left behind, and `torch.optim` accepts only leaves. Optimize the leaf itself and apply the "
                        "arithmetic where the value is used (in the objective or the forward).",
                    )
                    continue

                def build(c=cast):
                    if not (isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)):
                        return None
                    recv = facts.text(c.func.value)
                    rest = facts.source.segment(facts.end(c.func.value), facts.end(c))
                    return fix("Make new leaves of the new dtype: `.detach()` first, `.requires_grad_()` after", replace_node(facts, c, f"{_atom_text(recv)}.detach(){rest}.requires_grad_()"), unsafe=True)

                yield self.finding(
                    facts,
                    cast,
                    f"{what} turns leaf tensors that require grad into non-leaf copies, and the copies are given to the optimizer: it raises `can't optimize a non-leaf Tensor`",
                    severity=Severity.ERROR,
                    related=[(ev.node, "the copies reach the optimizer here")],
                    fixes=[build],
                    explanation="A cast that changes dtype or device is recorded by autograd: its result is a new tensor computed from the leaf, "
                    "not a leaf, and `torch.optim` accepts only leaves. Cast before making the leaf (`t.detach().to(...).requires_grad_()`).",
                )

    def _parameter_slot_written(self, facts):
        """``self.module._parameters[name] = F.dropout(raw, p)`` in the constructor (or a method it calls): a tensor computed
        in grad mode from one that requires grad is put where ``parameters()`` looks, so the module now yields a non-leaf
        tensor, and an optimizer built over its parameters raises (AWD-LSTM's weight drop on newer PyTorch)."""
        if "._parameters[" not in facts.source.text or not facts.optimizer_constructions:
            return
        for info in facts.modules.classes.values():
            init = info.methods.get("__init__")
            if not info.is_module or init is None:
                continue
            run = {"__init__"} | {n.func.attr for n in walk_nodes(init) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                                  and isinstance(n.func.value, ast.Name) and n.func.value.id == "self" and n.func.attr in info.methods}
            for name in sorted(run):
                m = info.methods[name]
                for ev in facts.flow.flow(m).events:
                    t = ev.node
                    if ev.what != "inplace" or ev.extra != "setitem" or not isinstance(t, ast.Subscript) or not (isinstance(t.value, ast.Attribute) and t.value.attr == "_parameters"):
                        continue
                    v = ev.value
                    if v is None or v.leaf or not (v.live - {"?"}) or v.kind not in ("tensor", None) or not ev.mode.enabled:
                        continue
                    stmt = facts.statement_of(t)
                    yield self.finding(
                        facts,
                        stmt or t,
                        f"`{facts.text(t)} = ...` puts a tensor computed from one that requires grad (a non-leaf) where `parameters()` looks, "
                        f"in `{info.name}.{name}`{' (called by `__init__`)' if name != '__init__' else ''}: an optimizer built over the model's "
                        "parameters raises `can't optimize a non-leaf Tensor`",
                        severity=Severity.ERROR,
                        related=[(facts.optimizer_constructions[0], "an optimizer is built over parameters here")],
                        explanation="`Module.parameters()` yields whatever `_parameters` holds; torch.optim accepts only leaf tensors. Keep the raw "
                        "weight as the registered parameter and compute the dropped weight as a plain attribute in `forward` (after deleting "
                        "the original entry), instead of writing the result into `_parameters`.",
                    )

    def _copies_to_optimizer(self, facts):
        """``torch.optim.Adam([p.clone() for p in model.parameters()])`` (directly or through a name bound once):
        the optimizer gets differentiable copies of the parameters, non-leaf tensors it refuses."""
        text = facts.source.text
        if ".parameters()" not in text or _COPY_COMPREHENSION.search(text) is None:  # (the literal first: the regex starts with \b)
            return
        for ctor in facts.nodes_near(ast.Call, OPTIMIZER_WORDS):
            if not is_optimizer_ctor(facts.imports.qualname(ctor.func) or "") or not ctor.args:
                continue
            comp = ctor.args[0]
            if isinstance(comp, ast.Name):
                scope = facts.enclosing(ctor, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
                binds = [n for n in facts.own_nodes(scope) if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == comp.id for t in n.targets)]
                comp = binds[0].value if len(binds) == 1 and binds[0].lineno < ctor.lineno else None
            if not isinstance(comp, (ast.ListComp, ast.GeneratorExp)) or len(comp.generators) != 1:
                continue
            gen = comp.generators[0]
            it = gen.iter
            if not (isinstance(gen.target, ast.Name) and isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "parameters"):
                continue
            var, elt = gen.target.id, comp.elt
            owner = facts.text(it.func.value)
            if owner and is_frozen(owner[5:] if owner.startswith("self.") else owner, frozen_paths(facts)):
                continue  # parameters frozen (requires_grad=False): their copies are leaves, which optimizers accept
            copy = None
            if isinstance(elt, ast.BinOp) and any(isinstance(o, ast.Name) and o.id == var for o in (elt.left, elt.right)):
                copy = f"`{facts.text(elt)}`"
            elif isinstance(elt, ast.Call) and isinstance(elt.func, ast.Attribute) and isinstance(elt.func.value, ast.Name) and elt.func.value.id == var and elt.func.attr in COPYING_METHODS:
                copy = f"`.{elt.func.attr}()`"
            if copy is None:
                continue
            yield self.finding(
                facts,
                comp,
                f"{copy} makes non-leaf copies of the parameters: the optimizer raises `can't optimize a non-leaf Tensor` (and could never change the model)",
                related=[(ctor, "the copies are given to the optimizer here")],
                fixes=[partial(_uncopied, facts, comp.elt, var)],
                explanation="An operation on a parameter is recorded by autograd: its result is a new, non-leaf tensor, not the parameter. "
                "torch.optim accepts only leaf tensors, and stepping a copy would leave the model unchanged anyway.",
            )

    def _arithmetic(self, facts):
        """``w = torch.randn(3, requires_grad=True) * 0.01`` (an operator or ``.mul()``-style call applied to a
        fresh leaf, bound to a name or appended to a list): what is kept is the op's output, a non-leaf. Looks only
        at the statements that hold a leaf-creating word (no index of the whole file)."""
        words = {"requires_grad", "requires_grad_", "Parameter"}
        words |= {name for name, q in facts.imports.aliases.items() if q in PARAMETER_CTORS}
        sts = facts.statements_with_words(words)
        for st in sts if sts is not None else facts.walk((ast.Assign, ast.AnnAssign, ast.Expr)):
            if isinstance(st, (ast.Assign, ast.AnnAssign)):
                targets = st.targets if isinstance(st, ast.Assign) else [st.target]
                if st.value is None or not all(isinstance(t, (ast.Name, ast.Attribute)) for t in targets):
                    continue
                op = st.value
            elif isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Attribute) and st.value.func.attr in ("append", "insert") and st.value.args:
                op = st.value.args[-1]  # ``params.append(torch.randn(..., requires_grad=True) * scale)``
            elif isinstance(st, ast.Return) and st.value is not None:
                op = st.value  # ``return nn.Parameter(torch.randn(*shape)) * sigma``: the caller gets the op's output
            else:
                continue
            # (also each element of a list kept or returned: ``return [torch.ones(2, requires_grad=True) * s for _ in layers]``)
            ops = [op.elt] if isinstance(op, ast.ListComp) else (list(op.elts) if isinstance(op, (ast.List, ast.Tuple)) else [op])
            for op in ops:
                yield from self._arithmetic_op(facts, op)

    def _arithmetic_op(self, facts, op: ast.AST):
        """One element kept: an operator (or ``.mul()``-style call) applied to a fresh leaf, anywhere in a chain of arithmetic
        with plain numbers: ``(op, the leaf's call, its kind, the op as text)``."""
        if isinstance(op, ast.BinOp) and type(op.op) in ARITH_OPS:
            operands, text = [op.left, op.right], f"`{ARITH_OPS[type(op.op)]}`"
        elif isinstance(op, ast.Call) and isinstance(op.func, ast.Attribute) and op.func.attr in ARITH_METHODS | SHAPE_METHODS:
            operands, text = [op.func.value], f"`.{op.func.attr}()`"
        elif isinstance(op, ast.Subscript) and isinstance(op.value, ast.Call):
            # indexing is a view op too (``nn.Parameter(torch.zeros(n))[:, None]``): its output is a non-leaf
            operands, text = [op.value], "indexing"
        else:
            return
        # (the leaf may sit anywhere in a chain of arithmetic with plain numbers: ``torch.rand_like(x, requires_grad=True)
        # * 2 * eps - eps``, ``t_min + (t_max - t_min) * torch.rand(n, 1, requires_grad=True)``; a chain that also
        # computes with another tensor, ``torch.zeros(1, requires_grad=True) * logits.sum() * 1e-8``, is a computed
        # value such as a dummy loss, not a leaf being made)
        stack = [o for o in operands if not isinstance(o, ast.BinOp)]
        if isinstance(op, ast.BinOp):
            stack += [o for o, other in ((op.left, op.right), (op.right, op.left)) if isinstance(o, ast.BinOp) and _plain_number(other)]
        while stack:
            inner = stack.pop(0)
            if isinstance(inner, ast.BinOp):
                if type(inner.op) in ARITH_OPS:
                    stack[:0] = [o for o, other in ((inner.left, inner.right), (inner.right, inner.left)) if _plain_number(other)]
                continue
            kind = self._leaf_kind(facts, inner) if isinstance(inner, ast.Call) else None
            if kind is not None:
                yield op, inner, kind, text
                return

    def _leaf_kind(self, facts, inner: ast.Call):
        q = facts.imports.qualname(inner.func) or ""
        if q in PARAMETER_CTORS:
            rg = _kw(inner, "requires_grad")
            if rg is not None and not _true(rg):
                return None
            data = inner.args[0] if inner.args else None
            return ("parameter", data)
        if q.startswith("torch.") and not q.startswith("torch.nn.") and _true(_kw(inner, "requires_grad")):
            return ("factory", inner)
        if isinstance(inner.func, ast.Attribute) and inner.func.attr == "requires_grad_":
            a = inner.args[0] if inner.args else _kw(inner, "requires_grad")
            if a is not None and not _true(a):
                return None
            src = inner.func.value
            sq = facts.imports.qualname(src.func) if isinstance(src, ast.Call) else None
            if sq and sq.startswith("torch.") and not sq.startswith("torch.nn."):
                return ("requires_grad_", src)
        return None

    def _arith_fix(self, facts, op: ast.AST, inner: ast.Call, kind: tuple):
        how, data = kind
        whole = facts.source.segment(facts.start(op), facts.end(op))
        a, b = facts.source.offset(facts.start(inner)) - facts.source.offset(facts.start(op)), facts.source.offset(facts.end(inner)) - facts.source.offset(facts.start(op))
        if how == "parameter":
            if data is None or len(inner.args) != 1 or inner.keywords:
                return None
            new = f"{facts.text(inner.func)}({whole[:a]}{_atom(facts, data)}{whole[b:]})"
            return fix("Apply the operation before wrapping it in nn.Parameter", replace_node(facts, op, new))
        if how == "factory":
            plain = f"{facts.text(inner.func)}({_args_text(facts, inner, drop='requires_grad')})"
        else:
            plain = facts.text(data)
        made = f"{whole[:a]}{plain}{whole[b:]}"
        made = made if isinstance(op, (ast.Call, ast.Subscript)) else f"({made})"  # (an operator needs the parentheses)
        return fix("Make the leaf after the operation, with `requires_grad_()`", replace_node(facts, op, f"{made}.requires_grad_()"))

    def _noop(self, facts, call: ast.Call, data) -> bool:
        attr = call.func.attr  # type: ignore[attr-defined]
        dt_node = _kw(data, "dtype") if isinstance(data, ast.Call) else None
        dt = (facts.imports.qualname(dt_node) or "") if dt_node is not None else None  # None: default float32
        if dt is None and data is not None and _float64_tensor(facts, data, facts.enclosing(data, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree):
            dt = "torch.float64"  # ``torch.from_numpy(np.zeros(...))`` keeps NumPy's float64
        if attr in DTYPE_OF_CAST:
            if attr == "float":
                return dt is None or dt in FLOAT32
            return dt is not None and dt in DTYPE_OF_CAST[attr]
        if attr in ("to", "type"):
            if not call.args and not call.keywords:
                return True
            a = call.args[0] if call.args else (_kw(call, "dtype") or _kw(call, "device"))
            if a is None:
                return True
            if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.startswith("cpu"):
                return True
            aq = facts.imports.qualname(a) or ""
            if aq.startswith("torch.") and (aq in FLOAT32 and dt in (None, *FLOAT32) or aq == dt):
                return True
            if isinstance(a, ast.Call) and (facts.imports.qualname(a.func) or "") == "torch.device" and a.args and isinstance(a.args[0], ast.Constant) and str(a.args[0].value).startswith("cpu"):
                return True
        return False

    def _related(self, facts, call: ast.Call) -> list:
        st = facts.parent(call)
        if not (isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name)):
            return []
        name = st.targets[0].id
        fl = flow_of(facts, st)
        if fl is None:
            return []
        for opt in fl.optimizers:
            if any(isinstance(n, ast.Name) and n.id == name for n in walk_nodes(opt.node)):
                return [(opt.node, f"`{name}` is not a leaf here: `can't optimize a non-leaf Tensor`")]
        return []

    def _fix(self, facts, call: ast.Call, kind):
        attr = call.func.attr  # type: ignore[attr-defined]
        inner = call.func.value  # type: ignore[attr-defined]
        cast = f".{attr}({_args_text(facts, call)})"
        how, data = kind
        if how == "parameter":
            if data is None or any(isinstance(a, ast.Starred) for a in inner.args):
                return None
            rest = [facts.text(a) for a in inner.args[1:]] + [f"{k.arg}={facts.text(k.value)}" if k.arg else f"**{facts.text(k.value)}" for k in inner.keywords]
            new = f"{facts.text(inner.func)}({', '.join([_atom(facts, data) + cast, *rest])})"
            return fix("Cast the data before wrapping it in nn.Parameter", replace_node(facts, call, new))
        if how == "factory":
            made = f"{facts.text(inner.func)}({_args_text(facts, inner, drop='requires_grad')}){cast}"
        else:
            made = f"{facts.text(data)}{cast}"
        # (the cast copy scaled by plain numbers, ``randn(..., requires_grad=True).to(dtype) * std``: the leaf is made
        # from the whole chain, or the product would be a non-leaf again)
        outer: ast.AST = call
        while isinstance(facts.parent(outer), ast.BinOp) and _plain_number(_other_operand(facts.parent(outer), outer)):
            outer = facts.parent(outer)
        if outer is not call:
            text = facts.text(outer)
            s0, _e0 = facts.start(outer), facts.end(outer)
            cs, ce = facts.start(call), facts.end(call)
            if s0.line == ce.line == cs.line:
                chain = text[: cs.col - s0.col] + made + text[ce.col - s0.col:]
                return fix("Make the leaf from the whole computation with `requires_grad_()`", replace_node(facts, outer, f"({chain}).requires_grad_()"))
            return None
        return fix("Cast first, then make the leaf with `requires_grad_()`", replace_node(facts, call, made + ".requires_grad_()"))
