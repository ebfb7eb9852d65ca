"""GG305 tensor-assigned-to-parameter: a computed tensor (or a number) assigned to a name a Module registered as a
parameter: ``nn.Module.__setattr__`` raises TypeError."""
from __future__ import annotations

import ast
import re
from typing import Optional

from gradguard.core.model import Severity
from gradguard.core.torchapi import NEW_TENSOR_RESULT_METHODS, PARAMETER_CTORS, PARAMETER_SLOTS, is_module_ctor
from gradguard.rules.base import Example, Rule

# a file that takes parameters out of ``_parameters`` (the legacy ``weight_norm`` / ``spectral_norm`` hooks, pruning, a
# parametrization, a hand-written reparametrization through ``_parameters``): its slots are not what the constructors say
_UNREGISTERS = ("weight_norm", "spectral_norm", "parametriz", "prune", "._parameters", "delattr(")
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


class TensorAssignedToParameter(Rule):
    code = "GG305"
    name = "tensor-assigned-to-parameter"
    summary = "A computed tensor assigned to a registered parameter of a Module: `nn.Module.__setattr__` raises TypeError."
    severity = Severity.ERROR
    needs = ("Parameter", "register_parameter", ".weight", ".bias")
    docs = """
## What it does
Flags an assignment of something that is not an `nn.Parameter` (a tensor computed from the parameter, a
`torch` factory's tensor, a NumPy array, a number) to an attribute a Module registered as a parameter:
`self.w = nn.Parameter(...)` in `__init__`, `register_parameter("w", ...)`, or the `weight` / `bias` of a
`torch.nn` layer (`self.fc.weight`, `model.head.bias`), by assignment, `setattr` or `register_parameter`.

## Why is this bad?
`nn.Module.__setattr__` keeps a registered name for parameters: it accepts an `nn.Parameter` or None and raises
`TypeError: cannot assign 'torch.FloatTensor' as parameter 'weight' (torch.nn.Parameter or None expected)`
for anything else. Normalizing, clipping or re-scaling a weight by assigning the result back to it
(`self.fc.weight = self.fc.weight / self.fc.weight.norm(...)`, `self.layer_weights = F.softmax(self.layer_weights, 0)`)
therefore stops training on the first step that runs it. (Wrapping the result in `nn.Parameter` silences the error
but makes a new leaf every time, cut from the parameter the optimizer holds.)

## Example
```python
def forward(self, feat):
    self.fc.weight = self.fc.weight / self.fc.weight.norm(dim=1, keepdim=True)
    return self.fc(feat)
```

## Use instead
```python
def forward(self, feat):
    w = self.fc.weight / self.fc.weight.norm(dim=1, keepdim=True)
    return F.linear(feat, w, self.fc.bias)     # differentiable through the normalization
```
or, for a projection meant to change the stored values (weight clipping after `optimizer.step()`):
```python
with torch.no_grad():
    model.critic.weight.clamp_(-0.01, 0.01)
```

## Fix safety
No automatic fix: whether the value should be used in the computation (the gradient flows through it) or written
into the parameter outside autograd depends on intent.
"""
    examples = (
        Example(
            bad=False,
            name="lazy-build-branch-a-registered-parameter-never-takes",
            code="""import torch
import torch.nn as nn


class Prototypes(nn.Module):
    def __init__(self, n, dim):
        super().__init__()
        self.n, self.dim = n, dim
        self.centers = nn.Parameter(torch.randn(n, dim) * 0.1)

    def forward(self, x):
        if self.centers is None:
            self.centers = torch.zeros(self.n, self.dim)
        return -torch.cdist(x, self.centers)


def main():
    torch.manual_seed(0)
    model = Prototypes(3, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = nn.functional.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 3, (8,)))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"centers": model.centers}
""",
            expect={"grad_ok": ["centers"]},
        ),
        Example(
            name="softmax-mix-weights-in-forward",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class ScalarMix(nn.Module):
    def __init__(self, n_layers, dim):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(dim, dim) for _ in range(n_layers))
        self.layer_weights = nn.Parameter(torch.zeros(n_layers))

    def forward(self, x):
        hs = []
        for layer in self.layers:
            x = torch.tanh(layer(x))
            hs.append(x)
        self.layer_weights = F.softmax(self.layer_weights, dim=0)
        return sum(w * h for w, h in zip(self.layer_weights, hs))


def main():
    torch.manual_seed(0)
    model = ScalarMix(3, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(8, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"mix": model.layer_weights}
""",
            lines=(17,),
            expect={"error": "cannot assign 'torch.FloatTensor' as parameter 'layer_weights'"},
        ),
        Example(
            name="normalized-classifier-weight",
            code="""import torch
import torch.nn as nn


class CosineHead(nn.Module):
    def __init__(self, dim, n_classes, scale=16.0):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(dim, dim), nn.ReLU())
        self.fc = nn.Linear(dim, n_classes, bias=False)
        self.scale = scale

    def forward(self, x):
        feat = nn.functional.normalize(self.body(x), dim=1)
        self.fc.weight = self.fc.weight / torch.norm(self.fc.weight, dim=1, keepdim=True)
        return self.scale * self.fc(feat)


def train(model, steps=2):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    torch.manual_seed(0)
    model = CosineHead(6, 3)
    train(model)
    return {"fc": model.fc}
""",
            lines=(14,),
            expect={"error": "cannot assign 'torch.FloatTensor' as parameter 'weight'"},
        ),
        Example(
            name="popart-rescale-through-a-name",
            code="""import torch
import torch.nn as nn


class PopArtValue(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(1, dim) * 0.1)
        self.bias = nn.Parameter(torch.zeros(1))
        self.register_buffer("mu", torch.zeros(1))
        self.register_buffer("sigma", torch.ones(1))

    def forward(self, x):
        return x @ self.weight.t() + self.bias

    def update_stats(self, returns):
        old_mu, old_sigma = self.mu.clone(), self.sigma.clone()
        self.mu = 0.9 * self.mu + 0.1 * returns.mean()
        self.sigma = (0.9 * self.sigma + 0.1 * returns.std()).clamp(min=1e-4)
        new_weight = self.weight * old_sigma / self.sigma
        self.weight = new_weight
        self.bias = (old_sigma * self.bias + old_mu - self.mu) / self.sigma


def main():
    torch.manual_seed(0)
    value = PopArtValue(4)
    opt = torch.optim.Adam(value.parameters(), lr=1e-2)
    for _ in range(2):
        obs, ret = torch.randn(16, 4), torch.randn(16, 1) * 5
        value.update_stats(ret)
        loss = (value(obs) - (ret - value.mu) / value.sigma).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"value": value}
""",
            lines=(21, 22),
            expect={"error": "cannot assign 'torch.FloatTensor' as parameter 'weight'"},
        ),
        Example(
            name="weight-clipping-by-assignment-in-the-loop",
            code="""import torch
import torch.nn as nn


class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 16)
        self.out = nn.Linear(16, 1)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


def main():
    torch.manual_seed(0)
    critic = Critic()
    opt = torch.optim.RMSprop(critic.parameters(), lr=5e-4)
    for _ in range(2):
        real, fake = torch.randn(8, 2) + 1, torch.randn(8, 2)
        loss = critic(fake).mean() - critic(real).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        critic.hidden.weight = torch.clamp(critic.hidden.weight, -0.01, 0.01)
    return {"critic": critic}
""",
            lines=(25,),
            expect={"error": "cannot assign 'torch.FloatTensor' as parameter 'weight'"},
        ),
        Example(
            name="register-parameter-with-a-plain-tensor",
            code="""import torch
import torch.nn as nn


class DCTAttention(nn.Module):
    def __init__(self, channels, size):
        super().__init__()
        self.register_parameter("filters", torch.rand(channels, size, size))
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        return self.proj(x * self.filters)


def main():
    torch.manual_seed(0)
    model = DCTAttention(3, 4)
    loss = model(torch.randn(2, 3, 4, 4)).pow(2).mean()
    loss.backward()
    return {"model": model}
""",
            lines=(8,),
            expect={"error": "cannot assign 'torch.FloatTensor' object to parameter 'filters'"},
        ),
        Example(
            bad=False,
            name="normalized-weight-used-functionally-and-clipping-in-place",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class CosineHead(nn.Module):
    def __init__(self, dim, n_classes):
        super().__init__()
        self.body = nn.Linear(dim, dim)
        self.fc = nn.Linear(dim, n_classes, bias=False)
        self.mix = nn.Parameter(torch.zeros(2))
        self.register_buffer("temperature", torch.ones(1))

    def forward(self, x):
        feat = F.normalize(self.body(x), dim=1)
        weight = self.fc.weight / torch.norm(self.fc.weight, dim=1, keepdim=True)
        mix = F.softmax(self.mix, dim=0)
        self.temperature = self.temperature * 0.99
        logits = F.linear(feat, weight) / self.temperature
        return mix[0] * logits + mix[1] * torch.tanh(logits)


def main():
    torch.manual_seed(0)
    model = CosineHead(6, 3)
    model.fc.weight = nn.Parameter(torch.randn(3, 6) * 0.1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.body.weight.clamp_(-0.5, 0.5)
        model.body.bias.data = model.body.bias.data.clamp(-0.5, 0.5)
    return {"body": model.body, "fc": model.fc, "mix": model.mix}
""",
            expect={"grad_ok": ["body.weight", "body.bias", "fc.weight", "mix"]},
        ),
        Example(
            bad=False,
            name="slot-removed-before-a-computed-weight-is-set",
            code="""import torch
import torch.nn as nn


class MaskedLinear(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.inner = nn.Linear(dim, dim)
        self.weight_orig = nn.Parameter(self.inner.weight.detach().clone())
        del self.inner.weight
        self.register_buffer("mask", (torch.rand(dim, dim) > 0.5).float())

    def forward(self, x):
        self.inner.weight = self.weight_orig * self.mask
        return self.inner(x)


def main():
    torch.manual_seed(0)
    model = MaskedLinear(4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"weight_orig": model.weight_orig}
""",
            expect={"grad_ok": ["weight_orig"]},
        ),
        Example(
            bad=False,
            name="parameter-or-fixed-tensor-chosen-by-an-if-else-in-init",
            code="""import torch
import torch.nn as nn


class UncertaintyLoss(nn.Module):
    def __init__(self, learnable=True, init=0.0):
        super().__init__()
        if learnable:
            self.log_scale = nn.Parameter(torch.zeros(()))
        else:
            self.log_scale = torch.zeros(())
        self.log_scale.data.fill_(init)

    def forward(self, pred, target):
        err = (pred - target).abs()
        return (err / torch.exp(self.log_scale) + self.log_scale).mean()


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 1)
    learned = UncertaintyLoss(learnable=True)
    fixed = UncertaintyLoss(learnable=False)
    opt = torch.optim.SGD([*net.parameters(), *learned.parameters()], lr=0.1)
    for _ in range(3):
        x, y = torch.randn(8, 4), torch.randn(8, 1)
        loss = learned(net(x), y) + fixed(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"net": net, "learned": learned}
""",
            expect={'grad_ok': ['learned.log_scale', 'net.bias', 'net.weight']},
        ),
    )

    def check(self, facts):
        text = facts.source.text
        if any(w in text for w in _UNREGISTERS):
            return
        calls = [w for w in ("register_parameter", "setattr") if w + "(" in text]
        classes = {name: info for name, info in facts.modules.classes.items() if info.is_module}
        words = sorted({a for info in classes.values() for a in _own_slot_names(facts, info)} | {a for names in PARAMETER_SLOTS.values() for a in names})
        assigned = re.compile(r"\.\s*(?:" + "|".join(re.escape(w) for w in words) + r")\s*(?::[^=\n]*)?=(?!=)")
        if not calls and not assigned.search(text):
            return  # (no assignment to an attribute of such a name, no setattr / register_parameter)
        nodes: list = []
        sts = facts.statements_matching(assigned)
        if sts is None:
            sts = [st for st in facts.walk((ast.Assign, ast.AnnAssign))]
        slot_words = set(words)
        for st in sts:
            if isinstance(st, ast.Assign):
                nodes.extend(t for t in st.targets if isinstance(t, ast.Attribute) and t.attr in slot_words)
            elif isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Attribute) and st.target.attr in slot_words:
                nodes.append(st.target)
        if calls:
            nodes.extend(n for n in facts.nodes_near(ast.Call, calls) if isinstance(n.func, (ast.Name, ast.Attribute)))
        reported: set = set()
        for node in nodes:
            found = self._check_node(facts, classes, node)
            if found is not None and found.start not in reported:
                reported.add(found.start)
                yield found

    def _check_node(self, facts, classes, node):
        holder: ast.AST
        anchor: ast.AST
        if isinstance(node, ast.Attribute):
            if not isinstance(node.ctx, ast.Store):
                return None
            st = facts.statement_of(node)
            if not isinstance(st, (ast.Assign, ast.AnnAssign)) or st.value is None:
                return None
            if isinstance(st, ast.Assign) and not any(t is node for t in st.targets):
                return None  # (one element of a tuple target: its value is not the whole right-hand side)
            holder, attr, value, anchor = node.value, node.attr, st.value, node
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr" and len(node.args) == 3:
            if not (isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
                return None
            holder, attr, value, anchor = node.args[0], node.args[1].value, node.args[2], node
            st = facts.statement_of(node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "register_parameter" and len(node.args) == 2:
            if not (isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                return None
            scope = facts.enclosing(node, _FUNCTIONS)
            what = _plain(facts, scope, node.args[1])
            if what is None or not _is_module_object(facts, classes, scope, node.func.value):
                return None
            name = node.args[0].value
            return self.finding(
                facts, node,
                f"`register_parameter(\"{name}\", ...)` is given {what}, not an `nn.Parameter`: it raises `TypeError: cannot assign "
                f"... object to parameter '{name}' (torch.nn.Parameter or None required)`",
                explanation="`register_parameter` accepts an `nn.Parameter` or None. Wrap the tensor: "
                "`self.register_parameter(name, nn.Parameter(tensor))`.",
            )
        else:
            return None
        scope = facts.enclosing(anchor, _FUNCTIONS)
        what = _plain(facts, scope, value)
        if what is None or _under_none_test(facts, st, holder, attr):
            return None
        slot = _slot(facts, classes, scope, holder, attr, st)
        if slot is None:
            return None
        registered, owner = slot
        target = facts.text(holder) + "." + attr
        return self.finding(
            facts, anchor,
            f"`{target}` is a registered parameter of {owner}: assigning it {what} raises `TypeError: cannot assign ... as "
            f"parameter '{attr}' (torch.nn.Parameter or None expected)` when this line runs",
            related=[(registered, f"`{attr}` registered as a parameter here")],
            explanation="`nn.Module.__setattr__` accepts only an `nn.Parameter` or None for a name registered as a parameter. "
            "Use the computed value where it is needed instead of storing it back (e.g. `F.linear(x, w)` with "
            "`w = self.fc.weight / self.fc.weight.norm(...)`), or change the stored values outside autograd "
            "(`with torch.no_grad(): param.copy_(value)`, `param.clamp_(...)`).",
        )


def _under_none_test(facts, st, holder: ast.AST, attr: str) -> bool:
    """Is ``st`` in the body of an ``if <holder>.<attr> is None:`` (a lazily built tensor)? A registered parameter is never
    None unless something assigns None to it, so for a parameter slot that branch does not run."""
    target = facts.text(holder) + "." + attr
    child = st
    cur = facts.parent(st) if st is not None else None
    while cur is not None and not isinstance(cur, _FUNCTIONS):
        if isinstance(cur, ast.If) and any(x is child for x in cur.body) and isinstance(cur.test, ast.Compare) and len(cur.test.ops) == 1 \
                and isinstance(cur.test.ops[0], ast.Is) and isinstance(cur.test.comparators[0], ast.Constant) and cur.test.comparators[0].value is None \
                and facts.text(cur.test.left) == target:
            return True
        child, cur = cur, facts.parent(cur)
    return False


def _own_slot_names(facts, info) -> set:
    return {a for a, values in info.attr_values.items() if any(_parameter_ctor(facts, v) for v in values)}


def _parameter_ctor(facts, v) -> bool:
    return isinstance(v, ast.Call) and (facts.imports.qualname(v.func) or "") in PARAMETER_CTORS


def _owner_class(facts, scope) -> Optional[str]:
    """The in-file class ``scope`` is a method of (its body, not a nested function)."""
    if scope is None:
        return None
    for info in facts.modules.classes.values():
        if info.methods.get(getattr(scope, "name", "")) is scope:
            return info.name
    return None


def _slot(facts, classes, scope, holder: ast.AST, attr: str, st) -> Optional[tuple]:
    """Is ``<holder>.<attr>`` a registered parameter? (registering node, description of its owner) or None."""
    if _deleted(facts, attr):
        return None
    cls = _owner_class(facts, scope)
    if isinstance(holder, ast.Name):
        if holder.id == "self" and cls is not None and cls in classes:
            return facts.modules.registered_parameter(cls, attr, st.lineno if st is not None else None)
        if holder.id == "self":
            return None
        return facts.modules.layer_slot(facts.semantic.single_value(scope, holder.id), attr)
    if isinstance(holder, ast.Attribute) and isinstance(holder.value, ast.Name):
        base = holder.value.id
        if base == "self":
            owner = cls if cls in classes else None
        else:
            made = facts.semantic.single_value(scope, base)
            owner = made.func.id if isinstance(made, ast.Call) and isinstance(made.func, ast.Name) and made.func.id in classes else None
        if owner is None:
            return None
        return facts.modules.layer_slot(facts.modules.part_ctor(owner, holder.attr), attr)
    return None


def _deleted(facts, attr: str) -> bool:
    """``del <...>.<attr>`` anywhere in the file: the slot is emptied before something else is put there."""
    for n in facts.nodes_near(ast.Attribute, (attr,)):
        if n.attr == attr and isinstance(n.ctx, ast.Del):
            return True
    return False


def _is_module_object(facts, classes, scope, obj: ast.AST) -> bool:
    if isinstance(obj, ast.Name) and obj.id == "self":
        return _owner_class(facts, scope) in classes
    return False


def _plain(facts, scope, expr: ast.AST, depth: int = 0) -> Optional[str]:
    """What ``expr`` certainly is when it can never be an ``nn.Parameter`` nor None ("a computed tensor", "a Python
    number", ...); None when it may be one (a name of unknown origin, an attribute, a call of unknown result)."""
    if depth > 4:
        return None
    if isinstance(expr, ast.Constant):
        return None if expr.value is None else "a Python constant"
    if isinstance(expr, (ast.BinOp, ast.UnaryOp)):
        return "a computed tensor"
    if isinstance(expr, (ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp, ast.JoinedStr, ast.Compare)):
        return "a Python " + {ast.List: "list", ast.Tuple: "tuple", ast.Dict: "dict", ast.Set: "set", ast.ListComp: "list",
                              ast.DictComp: "dict", ast.SetComp: "set", ast.JoinedStr: "string", ast.Compare: "comparison"}[type(expr)]
    if isinstance(expr, ast.IfExp):
        a, b = _plain(facts, scope, expr.body, depth + 1), _plain(facts, scope, expr.orelse, depth + 1)
        return a if a is not None and b is not None else None
    if isinstance(expr, ast.Call):
        q = facts.imports.qualname(expr.func) or ""
        if q in PARAMETER_CTORS or q.endswith("_") or q.startswith("torch.nn.init"):
            return None
        if q.startswith("torch.") and not is_module_ctor(q) and not q.startswith(("torch.nn.parameter", "torch.nn.utils", "torch.nn.Module")):
            return "a computed tensor" if not q.startswith("torch.nn.") or q.startswith("torch.nn.functional.") else None
        if q.startswith(("numpy.", "np.")):
            return "a NumPy array"
        if isinstance(expr.func, ast.Attribute) and expr.func.attr in NEW_TENSOR_RESULT_METHODS and not q.startswith(("torch.nn.",)):
            base = expr.func.value
            if isinstance(base, ast.Name) and base.id in facts.imports.aliases:
                return None  # (a module's function: ``math.exp(...)``, answered above when it is torch or NumPy)
            return "a computed tensor" if expr.func.attr not in ("item", "tolist") else "a Python number"
        return None
    if isinstance(expr, ast.Subscript):
        return "a computed tensor" if _plain(facts, scope, expr.value, depth + 1) == "a computed tensor" else None
    if isinstance(expr, ast.Name) and scope is not None:
        defs = facts.semantic.reaching_defs(scope, expr.id, expr, facts.parent)
        if len(defs) == 1 and defs[0].kind == "param" and isinstance(scope, _FUNCTIONS):
            # a function's parameter: what every call of the function in this file passes for it
            got = [_plain(facts, caller, arg, depth + 1) for caller, arg in _passed(facts, scope, expr.id)]
            return got[0] if got and all(g is not None for g in got) else None
        if not defs or any(b.kind not in ("assign", "annassign") or b.value is None or not b.whole for b in defs):
            return None
        got = [_plain(facts, scope, b.value, depth + 1) for b in defs]
        return got[0] if all(g is not None for g in got) else None
    return None


def _passed(facts, fn, param: str) -> list:
    """(calling scope, argument) for every call in the file of ``fn`` (by its name, which no other function of the file
    has) that passes ``param``: by position or keyword; [] when a call passes it some other way (``*args``, ``**kw``) or
    leaves it at its default, or when the name is ambiguous."""
    if sum(1 for f in facts.walk(_FUNCTIONS) if f.name == fn.name) != 1:
        return []
    names = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    if param not in names:
        return []
    pos = names.index(param)
    method = bool(names) and names[0] == "self"
    out = []
    for call in facts.nodes_near(ast.Call, (fn.name,)):
        f = call.func
        if not ((isinstance(f, ast.Attribute) and f.attr == fn.name and method) or (isinstance(f, ast.Name) and f.id == fn.name and not method)):
            continue
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            return []
        i = pos - 1 if method else pos
        arg = call.args[i] if 0 <= i < len(call.args) else next((k.value for k in call.keywords if k.arg == param), None)
        if arg is None:
            return []
        out.append((facts.enclosing(call, _FUNCTIONS), arg))
    return out
