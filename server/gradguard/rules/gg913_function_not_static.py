"""GG913 function-not-static: ``forward`` / ``backward`` of a ``torch.autograd.Function`` without
``@staticmethod``."""
from __future__ import annotations

import ast
from functools import partial
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.classes import function_classes
from gradguard.core.model import Applicability, Edit, Fix, Severity
from gradguard.core.modules import ClassInfo
from gradguard.core.source import Pos
from gradguard.fixes import fix, line_indent, newline, replace_node
from gradguard.rules._leafs import lexically_no_grad
from gradguard.rules.base import Example, Rule


def _apply_fix(facts, call: ast.Call, new: str):
    return fix(f"Call `{new.split('(')[0]}`", replace_node(facts, call, new))


def _decorated(fn) -> bool:
    return any(isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod") for d in fn.decorator_list)


def _params(fn) -> list:
    return [p.arg for p in [*fn.args.posonlyargs, *fn.args.args]]


class FunctionNotStatic(Rule):
    code = "GG913"
    name = "function-not-static"
    summary = "`forward` / `backward` of a `torch.autograd.Function` are not `@staticmethod`s."
    severity = Severity.ERROR
    needs = ("Function",)
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags `forward` and `backward` methods of `torch.autograd.Function` subclasses that are not decorated
with `@staticmethod`. What happens depends on the call:

- the legacy style, instantiating the Function and calling the instance (`Square()(x)`), raises
  `RuntimeError: Legacy autograd function with non-static forward method is deprecated` (error). It is
  reported on the call: `Function.__call__` raises there whatever `forward` is (static methods called through
  an instance raise too), so the call is the line every fix changes; the non-static methods are related
  information;
- `forward(self, ctx, x)` called through `Cls.apply(x)` binds `ctx` to `x` and raises `TypeError: missing
  1 required positional argument` (error);
- `forward(ctx, x)` without the decorator, called through `Cls.apply`, works in torch 2.x (the plain function
  is looked up on the class), so it is only reported as information.

Also the forward called directly, `Cls.forward(None, z, codebook)` outside the Functions of the file and outside
`torch.no_grad()` (warning): it runs as plain code, autograd differentiates its operations (an `argmin`, a `round`) and
`Cls.backward` never runs, so a straight-through or hand-written gradient is lost; the fix calls `Cls.apply(z, codebook)`.

## Why is this bad?
Since PyTorch 1.3 custom Functions are used through the class: `Cls.apply(...)` calls the static
`forward(ctx, *inputs)` and `backward(ctx, *grad_outputs)`. Old tutorials' instance style
(`def forward(self, x)` + `Cls()(x)`) no longer runs at all.

## Example
```python
class Square(torch.autograd.Function):
    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, grad):
        (x,) = self.saved_tensors
        return 2 * x * grad

y = Square()(x)     # RuntimeError
```

## Use instead
```python
class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad

y = Square.apply(x)
```

## Fix safety
Safe: the fix adds `@staticmethod` (the first parameter keeps its name and plays the role of `ctx`), drops
a leading `self` in front of `ctx`, and rewrites `Cls()(args)` into `Cls.apply(args)`. When the Function
is constructed with arguments or kept in a variable, the call sites are left to you.
"""
    examples = (
        Example(
            name="legacy-instance-call",
            code="""import torch


class Square(torch.autograd.Function):
    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, grad):
        (x,) = self.saved_tensors
        return 2 * x * grad


def main():
    x = torch.randn(4, requires_grad=True)
    y = Square()(x)
    y.sum().backward()
    return {"x": x}
""",
            lines=(16,),
            expect={"error": "Legacy autograd function with non-static forward method is deprecated"},
        ),
        Example(
            name="static-methods-instance-called",
            code="""import torch


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad


def main():
    x = torch.randn(4, requires_grad=True)
    y = Square()(x)
    y.sum().backward()
    return {"x": x}
""",
            lines=(18,),
            expect={"error": "Legacy autograd function with non-static forward method is deprecated"},
        ),
        Example(
            name="self-before-ctx",
            code="""import torch


class Shift(torch.autograd.Function):
    def forward(self, ctx, x):
        return x + 1.0

    def backward(self, ctx, grad):
        return grad


def main():
    x = torch.randn(3, requires_grad=True)
    Shift.apply(x).pow(2).sum().backward()
    return {"x": x}
""",
            lines=(5,),
            expect={"error": "missing 1 required positional argument"},
        ),
        Example(
            bad=False,
            name="undecorated-but-applied",
            code="""import torch


class Cube(torch.autograd.Function):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * grad


def main():
    x = torch.randn(3, requires_grad=True)
    Cube.apply(x).sum().backward()
    return {"x": x}
""",
            expect={"grad_ok": ["x"]},
        ),
        Example(
            name="forward-of-a-straight-through-function-called-directly",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class QuantizeST(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, codebook):
        idx = torch.cdist(z, codebook).argmin(-1)
        return codebook[idx]

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


class VQ(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(6, 3)
        self.codebook = nn.Parameter(torch.randn(5, 3))
        self.decoder = nn.Linear(3, 6)

    def forward(self, x):
        z = self.encoder(x)
        zq = QuantizeST.forward(None, z, self.codebook)
        codes = self.codebook[torch.cdist(z.detach(), self.codebook).argmin(-1)]
        return self.decoder(zq), F.mse_loss(codes, z.detach())


def main():
    torch.manual_seed(0)
    model = VQ()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(8, 6)
    recon, vq_loss = model(x)
    loss = F.mse_loss(recon, x) + vq_loss
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(26,),
            expect={'grad_none': ['model.encoder.weight'], 'grad_ok': ['model.codebook', 'model.decoder.weight']},
            fixed_expect={'grad_ok': ['model.encoder.weight']},
        ),
        Example(
            bad=False,
            name="straight-through-function-called-through-apply",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class QuantizeST(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, codebook):
        idx = torch.cdist(z, codebook).argmin(-1)
        return codebook[idx]

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


class VQ(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(6, 3)
        self.codebook = nn.Parameter(torch.randn(5, 3))
        self.decoder = nn.Linear(3, 6)

    def forward(self, x):
        z = self.encoder(x)
        zq = QuantizeST.apply(z, self.codebook)
        codes = self.codebook[torch.cdist(z.detach(), self.codebook).argmin(-1)]
        return self.decoder(zq), F.mse_loss(codes, z.detach())


def main():
    torch.manual_seed(0)
    model = VQ()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(8, 6)
    recon, vq_loss = model(x)
    loss = F.mse_loss(recon, x) + vq_loss
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={'grad_ok': ['model.encoder.weight', 'model.decoder.weight', 'model.codebook']},
        ),
        Example(
            bad=False,
            name="legacy-function-methods-called-directly",
            code="""import torch
import torch.nn as nn


class ScaleFunction(torch.autograd.Function):
    def forward(self, x, s):
        self.s = s
        return x * s

    def backward(self, grad):
        return grad * self.s, None


def check_gradient(x):
    fn = ScaleFunction()
    y = fn.forward(x, 3.0)
    g, _ = fn.backward(torch.ones_like(y))
    return bool(torch.allclose(g, torch.full_like(x, 3.0)))


def main():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(4, 3)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}, {"manual_ok": check_gradient(torch.randn(5))}
""",
            expect={'grad_ok': ['model.weight'], 'facts': {'manual_ok': True}},
        ),
    )

    def _forward_called_directly(self, facts):
        """``Fn.forward(None, z, codebook)`` (or with any first argument for ``ctx``) outside the Functions of the file: the
        forward runs as plain code, autograd differentiates its ops and never calls ``Fn.backward``."""
        for info in function_classes(facts):
            fwd = info.methods.get("forward")
            if fwd is None or "backward" not in info.methods or f"{info.name}.forward" not in facts.source.text:
                continue
            with_ctx = "setup_context" not in info.methods
            params = _params(fwd)
            for call in facts.nodes_near(ast.Call, (info.name,)):
                f = call.func
                if not (isinstance(f, ast.Attribute) and f.attr == "forward" and isinstance(f.value, ast.Name) and f.value.id == info.name):
                    continue
                home = facts.enclosing(call, ast.ClassDef)
                if home is not None and home.name in facts.modules.classes and facts.modules.classes[home.name].is_autograd_function:
                    continue  # (a Function's forward composing another's: its own backward defines the gradient)
                if lexically_no_grad(facts, call) or any(isinstance(a, ast.Starred) for a in call.args):
                    continue
                given = call.args[1:] if with_ctx and len(call.args) == len(params) else (call.args if not with_ctx else None)
                if given is None:
                    continue
                new = f"{info.name}.apply({', '.join(facts.text(a) for a in given)})"
                yield self.finding(
                    facts,
                    call,
                    f"`{info.name}.forward(...)` runs the Function's forward as plain code: autograd differentiates its operations and "
                    f"never calls `{info.name}.backward` (line {info.methods['backward'].lineno}), so the gradient it defines is lost; "
                    f"call `{info.name}.apply(...)`",
                    severity=Severity.WARNING,
                    related=[(info.methods["backward"], "the custom backward, never used by this call")],
                    fixes=[partial(_apply_fix, facts, call, new)],
                    explanation="A custom `torch.autograd.Function` takes part in autograd only through `Cls.apply(*inputs)`, which records "
                    "one node whose backward is `Cls.backward`. Calling `Cls.forward(ctx, ...)` directly is an ordinary function call: "
                    "autograd records the operations inside it (an `argmin`, a `round`, an index, which may have no gradient) and the "
                    "straight-through or hand-written gradient of `backward` never runs.",
                )

    def check(self, facts):
        yield from self._forward_called_directly(facts)
        for info in function_classes(facts):
            bad = [info.methods[m] for m in ("forward", "backward") if m in info.methods and not _decorated(info.methods[m])]
            instances = [n for n in walk_nodes(facts.tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == info.name]
            # ``Cls(...)(...)``: ``Function.__call__`` raises whatever ``forward`` is, so the call is the line every fix
            # changes (to ``Cls.apply(...)``) and where torch raises: the finding goes there, the non-static
            # methods are related information
            called = [c for c in instances if _called(facts, c)]
            if not bad and not called:
                continue
            fwd = info.methods.get("forward")
            self_ctx = [m for m in bad if _params(m)[:2] == ["self", "ctx"]]
            # (an instance whose methods are only called directly, ``crf = Fn(); crf.forward(x, g); crf.backward(gy)``, is never
            # called through ``Function.__call__``: constructing it only warns)
            legacy = fwd is not None and fwd in bad and any(not _methods_only(facts, c) for c in instances)

            def build(info: ClassInfo = info, bad: list = bad, instances: list = instances) -> Optional[Fix]:
                return _fix(facts, info, bad, instances)

            explanation = (
                "Custom autograd Functions are used through the class: `Cls.apply(*inputs)` calls the static "
                "`forward(ctx, *inputs)` and later `backward(ctx, *grad_outputs)`. Calling an instance of a Function "
                "(`Cls(...)(x)`, the legacy style) raises `RuntimeError: Legacy autograd function with non-static forward "
                "method is deprecated`, whether or not `forward` is static."
            )
            if legacy or called:
                site = called[0] if called else instances[0]
                node = facts.parent(site) if called else site
                if legacy:
                    message = (f"`{info.name}` is instantiated and its `forward` (line {fwd.lineno}) is not a `@staticmethod`: "
                               "calling the instance raises `Legacy autograd function with non-static forward method is deprecated`; "
                               f"make `forward`/`backward` `@staticmethod`s and call `{info.name}.apply(...)`")
                else:
                    message = (f"`{info.name}` is an autograd Function called as an instance: `Function.__call__` raises "
                               f"`Legacy autograd function with non-static forward method is deprecated`; call `{info.name}.apply(...)`")
                related = [(m, f"`{info.name}.{m.name}` is not a `@staticmethod`") for m in bad]
                related += [(c, "the Function is also instantiated here") for c in instances if c is not site][:2]
                related += [(c, "calling the instance raises here") for c in _instance_calls(facts, site)[:1]]
                yield self.finding(facts, node, message, severity=Severity.ERROR, related=related, fixes=[build], explanation=explanation)
                continue
            if self_ctx:
                severity = Severity.ERROR
                message = (f"`{info.name}.{self_ctx[0].name}(self, ctx, ...)` is not a `@staticmethod`: `{info.name}.apply` passes the first input "
                           "as `ctx` and the call raises TypeError")
            else:
                severity = Severity.INFORMATION
                message = f"`{info.name}.{bad[0].name}` is not a `@staticmethod`; it works through `{info.name}.apply`, but custom Functions are written with static methods"
            related = [(c, "the Function is instantiated here") for c in instances[:2]]
            yield self.finding(facts, bad[0], message, severity=severity, related=related, end_node=bad[0], fixes=[build], explanation=explanation)


def _instance_calls(facts, call: ast.Call) -> list:
    """The calls of the instance ``call`` makes when it is bound to a name (``whdr = Cls(...)`` then ``whdr(r, c)`` in
    the same function): where ``Function.__call__`` raises."""
    st = facts.parent(call)
    if not (isinstance(st, ast.Assign) and st.value is call and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name)):
        return []
    name = st.targets[0].id
    scope = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    return sorted((n for n in walk_nodes(scope) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name), key=lambda n: (n.lineno, n.col_offset))


def _methods_only(facts, call: ast.Call) -> bool:
    """Is the instance ``call`` makes bound to a name in its function and used there only through its ``forward`` /
    ``backward`` methods (never called itself, stored or passed on)?"""
    st = facts.parent(call)
    if not (isinstance(st, ast.Assign) and st.value is call and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name)):
        return False
    name = st.targets[0].id
    scope = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    loads = [n for n in walk_nodes(scope) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]
    return bool(loads) and all(isinstance(p := facts.parent(n), ast.Attribute) and p.attr in ("forward", "backward")
                               and isinstance(facts.parent(p), ast.Call) and facts.parent(p).func is p for n in loads)


def _called(facts, call: ast.Call) -> bool:
    """Is the instance ``call`` makes called at once (``Cls(...)(x)``)?"""
    parent = facts.parent(call)
    return isinstance(parent, ast.Call) and parent.func is call


def _fix(facts, info, bad, instances):
    edits = []
    if instances:
        if "__init__" in info.methods:
            return None
        for call in instances:
            parent = facts.parent(call)
            if call.args or call.keywords or not (isinstance(parent, ast.Call) and parent.func is call):
                return None  # constructed with arguments or kept in a variable
            edits.append(Edit(facts.start(call), facts.end(call), f"{info.name}.apply"))
    nl = newline(facts)
    for m in bad:
        indent = line_indent(facts, m.lineno)
        first = min([m.lineno, *(d.lineno for d in m.decorator_list)])
        edits.append(Edit(Pos(first, 0), Pos(first, 0), f"{indent}@staticmethod{nl}"))
        params = [*m.args.posonlyargs, *m.args.args]
        if len(params) >= 2 and params[0].arg == "self" and params[1].arg == "ctx" and not m.args.posonlyargs:
            edits.append(Edit(facts.start(params[0]), facts.start(params[1]), ""))
    return fix("Make forward/backward `@staticmethod`s" + (" and call `.apply`" if instances else ""), *edits)
