"""GG601 module-requires-grad-attribute: ``module.requires_grad = False`` sets a plain attribute (a no-op)."""
from __future__ import annotations

import ast

from gradguard.core.astindex import walk_nodes
from gradguard.core.model import Applicability, Severity
from gradguard.core.torchapi import is_module_ctor
from gradguard.core.training import concrete
from gradguard.fixes import fix, replace_node
from gradguard.rules._leafs import flow_of, module_class_of_expr, reads_self_attr
from gradguard.rules.base import Example, Rule


class ModuleRequiresGradAttribute(Rule):
    code = "GG601"
    name = "module-requires-grad-attribute"
    summary = "`module.requires_grad = False` only sets a Python attribute on the nn.Module; its parameters still train."
    severity = Severity.WARNING
    needs = ("requires_grad",)
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags an assignment to `.requires_grad` on an object that is certainly an `nn.Module`: a local created by
a module constructor (`model = Net()`, `enc = nn.Linear(...)`), a submodule attribute that the class only
ever assigns module constructors (`model.backbone`), an element of an `nn.Sequential`/`nn.ModuleList` (indexed,
or walked by a `for` loop, also over a slice: `for layer in model.layers[-2:]`), a module passed to a helper
(`freeze(Net())`), the loop variable of `for m in model.modules()`, or `getattr(model, name)` on such a module (a
constant name, or a computed one, such as names listed in a config, when every attribute the class assigns is a
submodule). Assignments on tensors and parameters
(`p.requires_grad = False`) are the right way to freeze and are not flagged; neither is `self.requires_grad
= flag` or a class that reads its own `requires_grad` attribute (a configuration field).
A helper's argument counts as its callers hand it: `freeze_stages(model.module.backbone, 2)` with `for stage in
backbone.stages[:n]: stage.requires_grad = False` is flagged when every caller that runs it passes a part the model's
classes build as a module.

## Why is this bad?
`nn.Module` has no `requires_grad` property. The assignment silently creates a new Python attribute; every
parameter keeps `requires_grad=True`, so the "frozen" part still receives gradients and the optimizer
keeps updating it.

## Example
```python
model.backbone.requires_grad = False
```

## Use instead
```python
model.backbone.requires_grad_(False)
```

## Fix safety
Rewriting to `requires_grad_(value)` is safe: it does what the assignment was evidently meant to do, on
every parameter of the module.
"""
    examples = (
        Example(
            name="helper-unfreezes-named-modules-by-attribute",
            code="""import torch
import torch.nn as nn


class Denoiser(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.spatial = nn.Linear(d, d)
        self.temporal = nn.Linear(d, d)

    def forward(self, x):
        return self.temporal(torch.relu(self.spatial(x)))


def unfreeze_modules(model, keys):
    for name, module in model.named_modules():
        if any(k in name for k in keys):
            module.requires_grad = True


def main():
    torch.manual_seed(0)
    model = Denoiser()
    model.requires_grad_(False)
    unfreeze_modules(model, ["temporal"])
    head = nn.Linear(4, 1)
    params = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    optimizer = torch.optim.SGD(params, lr=0.1)
    for _ in range(2):
        loss = head(model(torch.randn(8, 4))).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model, "head": head}
""",
            lines=(18,),
            expect={'grad_none': ['model.temporal.weight'], 'grad_ok': ['head.weight']},
            fixed_expect={'grad_ok': ['model.temporal.weight', 'head.weight']},
        ),
        Example(
            bad=False,
            name="helper-unfreezes-named-modules-with-requires-grad-call",
            code="""import torch
import torch.nn as nn


class Denoiser(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.spatial = nn.Linear(d, d)
        self.temporal = nn.Linear(d, d)

    def forward(self, x):
        return self.temporal(torch.relu(self.spatial(x)))


def unfreeze_modules(model, keys):
    for name, module in model.named_modules():
        if any(k in name for k in keys):
            module.requires_grad_(True)


def main():
    torch.manual_seed(0)
    model = Denoiser()
    model.requires_grad_(False)
    unfreeze_modules(model, ["temporal"])
    head = nn.Linear(4, 1)
    params = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    optimizer = torch.optim.SGD(params, lr=0.1)
    for _ in range(2):
        loss = head(model(torch.randn(8, 4))).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model, "head": head}
""",
            expect={'grad_ok': ['model.temporal.weight', 'head.weight']},
        ),
        Example(
            name="freeze-helper-sets-the-flag-on-stages-of-the-model-it-is-given",
            code="""import torch
import torch.nn as nn


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.stages = nn.ModuleList([nn.Sequential(nn.Linear(4, 4), nn.ReLU()) for _ in range(3)])

    def forward(self, x):
        for stage in self.stages:
            x = stage(x)
        return x


class Tracker(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        return self.head(self.backbone(x))


def freeze_stages(backbone, n):
    for stage in backbone.stages[:n]:
        stage.requires_grad = False


def train(model, opt):
    freeze_stages(model.backbone, 2)
    loss = model(torch.randn(8, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()


def main():
    torch.manual_seed(0)
    model = Tracker()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    train(model, opt)
    return {"model": model}
""",
            lines=(28,),
            expect={'grad_ok': ['model.backbone.stages.0.0.weight', 'model.head.weight']},
            fixed_expect={'grad_none': ['model.backbone.stages.0.0.weight', 'model.backbone.stages.1.0.weight'], 'grad_ok': ['model.backbone.stages.2.0.weight', 'model.head.weight']},
        ),
        Example(
            name="modules-named-by-a-list-switched-on-through-getattr-attribute",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Captioner(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(6, 8)
        self.bridge = nn.Linear(8, 8)
        self.decoder = nn.Linear(8, 3)

    def forward(self, x):
        return self.decoder(torch.relu(self.bridge(torch.relu(self.encoder(x)))))


def freeze_except(model, trainable):
    model.requires_grad_(False)
    for name in trainable:
        getattr(model, name).requires_grad = True


def main():
    torch.manual_seed(0)
    model = Captioner()
    freeze_except(model, ["bridge"])
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad] or [torch.zeros(1, requires_grad=True)], lr=0.1)
    loss = F.cross_entropy(model(torch.randn(4, 6)), torch.tensor([0, 1, 2, 0]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(20,),
            expect={"error": "does not require grad"},
            fixed_expect={"grad_ok": ["model.bridge.weight"]},
        ),
        Example(
            name="modules-named-by-a-list-switched-on-with-requires-grad-call",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Captioner(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(6, 8)
        self.bridge = nn.Linear(8, 8)
        self.decoder = nn.Linear(8, 3)

    def forward(self, x):
        return self.decoder(torch.relu(self.bridge(torch.relu(self.encoder(x)))))


def freeze_except(model, trainable):
    model.requires_grad_(False)
    for name in trainable:
        getattr(model, name).requires_grad_(True)


def main():
    torch.manual_seed(0)
    model = Captioner()
    freeze_except(model, ["bridge"])
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad] or [torch.zeros(1, requires_grad=True)], lr=0.1)
    loss = F.cross_entropy(model(torch.randn(4, 6)), torch.tensor([0, 1, 2, 0]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            bad=False,
            expect={"grad_ok": ["model.bridge.weight"]},
        ),
        Example(
            name="flag-set-on-a-submodule-of-a-class-whose-base-counts-trainable-parameters",
            code="""import torch
import torch.nn as nn


class Base(nn.Module):
    def num_parameters(self, only_trainable=False):
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not only_trainable)


class Net(Base):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 4)
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))


def main():
    torch.manual_seed(0)
    model = Net()
    model.body.requires_grad = False
    model(torch.randn(8, 4)).sum().backward()
    return {"model": model}, {"trainable": model.num_parameters(only_trainable=True)}
""",
            lines=(23,),
            expect={"grad_ok": ["model.body.weight"], "facts": {"trainable": 25}},
        ),
        Example(
            name="flag-set-on-a-layer-a-builder-returns-beside-the-model",
            code="""import torch
import torch.nn as nn


def build():
    body = nn.Linear(4, 8)
    head = nn.Linear(8, 1)
    return nn.Sequential(body, nn.ReLU(), head), body, head


def main():
    torch.manual_seed(0)
    model, body, head = build()
    body.requires_grad = False
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    w0 = body.weight.detach().clone()
    opt.zero_grad()
    model(torch.randn(8, 4)).pow(2).mean().backward()
    opt.step()
    return {"model": model}, {"body_frozen": torch.equal(w0, body.weight.detach())}
""",
            lines=(14,),
            expect={"grad_ok": ["model.0.weight"], "facts": {"body_frozen": False}},
        ),
        Example(
            bad=False,
            name="layer-a-builder-returns-frozen-with-requires-grad-underscore",
            code="""import torch
import torch.nn as nn


def build():
    body = nn.Linear(4, 8)
    head = nn.Linear(8, 1)
    return nn.Sequential(body, nn.ReLU(), head), body, head


def main():
    torch.manual_seed(0)
    model, body, head = build()
    body.requires_grad_(False)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    w0 = body.weight.detach().clone()
    opt.zero_grad()
    model(torch.randn(8, 4)).pow(2).mean().backward()
    opt.step()
    return {"model": model}, {"body_frozen": torch.equal(w0, body.weight.detach())}
""",
            expect={"grad_ok": ["model.2.weight"], "grad_none": ["model.0.weight"], "facts": {"body_frozen": True}},
        ),
        Example(
            name="unfreeze-helper-given-a-slice-of-a-module-list",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList(nn.Linear(4, 4) for _ in range(3))
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        for block in self.blocks:
            x = torch.relu(block(x))
        return self.head(x)


def unfreeze(items):
    for item in items:
        item.requires_grad = True


def main():
    torch.manual_seed(0)
    model = Net()
    model.blocks.requires_grad_(False)
    unfreeze(model.blocks[-1:])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.blocks[2].weight.detach().clone()
    model(torch.randn(8, 4)).pow(2).mean().backward()
    opt.step()
    return {"model": model}, {"top_changed": not torch.equal(before, model.blocks[2].weight.detach())}
""",
            lines=(19,),
            expect={"grad_none": ["model.blocks.2.weight"], "grad_ok": ["model.head.weight"], "facts": {"top_changed": False}},
        ),
        Example(
            bad=False,
            name="unfreeze-helper-given-the-parameters-of-a-block",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList(nn.Linear(4, 4) for _ in range(3))
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        for block in self.blocks:
            x = torch.relu(block(x))
        return self.head(x)


def unfreeze(items):
    for item in items:
        item.requires_grad = True


def main():
    torch.manual_seed(0)
    model = Net()
    model.blocks.requires_grad_(False)
    unfreeze(list(model.blocks[-1].parameters()))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.blocks[2].weight.detach().clone()
    model(torch.randn(8, 4)).pow(2).mean().backward()
    opt.step()
    return {"model": model}, {"top_changed": not torch.equal(before, model.blocks[2].weight.detach())}
""",
            expect={"grad_ok": ["model.blocks.2.weight", "model.head.weight"], "facts": {"top_changed": True}},
        ),
        Example(
            name="freeze-submodule",
            code="""import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(5, 7)
        self.proj = nn.Linear(7, 3)

    def forward(self, x):
        return self.proj(torch.tanh(self.stem(x)))


def main():
    torch.manual_seed(0)
    net = Encoder()
    net.stem.requires_grad = False
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    before = net.stem.weight.detach().clone()
    net(torch.randn(9, 5)).pow(2).mean().backward()
    opt.step()
    return {"net": net}, {"stem_frozen": torch.equal(before, net.stem.weight.detach())}
""",
            lines=(18,),
            expect={"grad_ok": ["net.stem.weight", "net.proj.weight"], "facts": {"stem_frozen": False}},
        ),
        Example(
            name="freeze-helper-loops-over-the-modules-it-is-given",
            code="""import torch
import torch.nn as nn


def freeze(*modules):
    for module in modules:
        module.requires_grad = False


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Embedding(20, 8), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1))
    freeze(net[0], net[1])
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.5)
    before = net[0].weight.detach().clone()
    net(torch.randint(0, 20, (6,))).pow(2).mean().backward()
    opt.step()
    return {"net": net}, {"embedding_frozen": torch.equal(before, net[0].weight.detach())}
""",
            lines=(7,),
            expect={"facts": {"embedding_frozen": False}},
        ),
        Example(
            bad=False,
            name="freeze-helper-loops-over-the-parameters-it-is-given",
            code="""import torch
import torch.nn as nn


def freeze(*params):
    for p in params:
        p.requires_grad = False


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Embedding(20, 8), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1))
    freeze(net[0].weight, net[1].weight, net[1].bias)
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.5)
    before = net[0].weight.detach().clone()
    net(torch.randint(0, 20, (6,))).pow(2).mean().backward()
    opt.step()
    return {"net": net}, {"embedding_frozen": torch.equal(before, net[0].weight.detach())}
""",
            expect={"grad_ok": ["net.3.weight"], "facts": {"embedding_frozen": True}},
        ),
        Example(
            name="freeze-sequential-item",
            code="""import torch
from torch import nn


def main():
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    mlp[0].requires_grad = False
    out = mlp(torch.randn(6, 4))
    out.sum().backward()
    return {"mlp": mlp}, {"first_trainable": mlp[0].weight.requires_grad}
""",
            lines=(8,),
            expect={"grad_ok": ["mlp.0.weight", "mlp.2.weight"], "facts": {"first_trainable": True}},
        ),
        Example(
            name="unfreeze-top-layers-of-a-module-list-in-a-helper",
            code="""import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, d=6, n=3):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(d, d) for _ in range(n))
        self.head = nn.Linear(d, 2)

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return self.head(x)


def freeze_all_but_top(model, n_top=1):
    for p in model.layers.parameters():
        p.requires_grad = False
    for layer in model.layers[-n_top:]:
        layer.requires_grad = True
    return model


def main():
    torch.manual_seed(0)
    model = freeze_all_but_top(Encoder())
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model(torch.randn(5, 6)).pow(2).mean().backward()
    opt.step()
    return {"model": model}, {"top_trainable": model.layers[2].weight.requires_grad}
""",
            lines=(21,),
            expect={"grad_none": ["model.layers.2.weight", "model.layers.2.bias"], "grad_ok": ["model.head.weight"], "facts": {"top_trainable": False}},
        ),
        Example(
            bad=False,
            name="unfreeze-top-layers-with-requires-grad-method",
            code="""import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, d=6, n=3):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(d, d) for _ in range(n))
        self.head = nn.Linear(d, 2)
        self.requires_grad = True  # a flag of its own, read by nothing

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return self.head(x)


def freeze_all_but_top(model, n_top=1):
    for p in model.layers.parameters():
        p.requires_grad = False
    for layer in model.layers[-n_top:]:
        layer.requires_grad_(True)
    return model


def main():
    torch.manual_seed(0)
    model = freeze_all_but_top(Encoder())
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model(torch.randn(5, 6)).pow(2).mean().backward()
    opt.step()
    return {"model": model}, {"top_trainable": model.layers[2].weight.requires_grad}
""",
            expect={"grad_ok": ["model.layers.2.weight", "model.head.weight"], "grad_none": ["model.layers.0.weight"], "facts": {"top_trainable": True}},
        ),
        Example(
            bad=False,
            name="freeze-parameters-and-config-flag",
            code="""import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self, trainable=True):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.requires_grad = trainable

    def forward(self, x):
        out = self.fc(x)
        return out if self.requires_grad else out.detach()


def main():
    torch.manual_seed(0)
    body, head = nn.Linear(4, 4), Head()
    for p in body.parameters():
        p.requires_grad = False
    head.fc.requires_grad_(True)
    head(body(torch.randn(3, 4))).sum().backward()
    return {"head": head}
""",
            expect={"grad_ok": ["head.fc.weight"]},
        ),
    )

    def check(self, facts):
        for node in facts.walk(ast.Assign):
            for t in node.targets:
                if not (isinstance(t, ast.Attribute) and t.attr == "requires_grad"):
                    continue
                if isinstance(t.value, ast.Name) and t.value.id in ("self", "cls"):
                    continue
                fl = flow_of(facts, node)
                if fl is None:
                    continue
                cls = module_class_of_expr(facts, fl, t.value) or _modules_loop_var(facts, fl, node, t.value) or _engine_module(facts, fl, t)
                if cls is None:
                    continue
                if not cls.startswith("torch:") and reads_self_attr(facts, cls, "requires_grad"):
                    continue
                fixes = []
                if len(node.targets) == 1:
                    recv, val = facts.text(t.value), facts.text(node.value)
                    fixes.append(lambda n=node, r=recv, v=val: fix("Use `requires_grad_()` to (un)freeze the module's parameters", replace_node(facts, n, f"{r}.requires_grad_({v})")))
                what = facts.text(t.value)
                yield self.finding(
                    facts,
                    t,
                    f"`{what}` is an nn.Module: setting `.requires_grad` on it changes none of its parameters",
                    fixes=fixes,
                    explanation="nn.Module has no `requires_grad` property; the assignment creates a plain attribute and every parameter keeps `requires_grad=True`, so it is still trained.",
                )


def _modules_loop_var(facts, fl, stmt, expr):
    """``for m in model.modules(): m.requires_grad = False``, or ``for name, m in unet.named_modules(): ...``: the loop
    variable is a module. ``named_modules()`` / ``named_children()`` are ``nn.Module``'s own API, so their receiver is a
    module whatever the analysis knows of it (a model handed to a helper); ``modules()`` / ``children()`` are common
    names, so there the receiver must be known to be a module."""
    if not isinstance(expr, ast.Name):
        return None
    cur = facts.parent(stmt)
    while cur is not None and cur is not fl.node:
        if isinstance(cur, ast.For):
            it = cur.iter
            method = it.func.attr if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and not it.args else None
            t = cur.target
            if isinstance(t, ast.Name) and t.id == expr.id and method in ("modules", "children"):
                base = module_class_of_expr(facts, fl, it.func.value)  # type: ignore[attr-defined]
                return "torch:" + method if base is not None else None
            if isinstance(t, ast.Tuple) and len(t.elts) == 2 and isinstance(t.elts[1], ast.Name) and t.elts[1].id == expr.id and method in ("named_modules", "named_children"):
                return "torch:" + method
            if any(isinstance(n, ast.Name) and n.id == expr.id for n in walk_nodes(t)):
                return None
        cur = facts.parent(cur)
    return None


def _engine_module(facts, fl, target: ast.Attribute):
    """The program model's reading of a name whose flag is set: a module object a call made and returned (``model,
    l1, l2 = build_model()`` with ``l1 = nn.Linear(...)`` in the builder), bound to that name. 'torch:module' then,
    else None."""
    if not isinstance(target.value, ast.Name):
        return None
    for ev in fl.events:
        if ev.what == "requires_grad_set" and ev.node is target and ev.target is not None:
            v = ev.target
            origin = facts.flow.root_origins.get(v.ident or "")
            if v.kind == "module" and v.ident and "." not in v.ident and "@" not in v.ident and origin is not None and origin.kind == "module" \
                    and isinstance(getattr(origin.stmt, "value", None), ast.Call):
                return "torch:module"
            break
    # a helper's argument (``freeze_stages(model.module.backbone, 2)`` with ``for stage in backbone.stages[:n]: stage.requires_grad
    # = False``): what the callers that run it hand it, walked in their contexts; a module there in every one
    seen = [ev.target for ctx in facts.flow.context_flows if ctx.node is fl.node
            for ev in ctx.events if ev.what == "requires_grad_set" and ev.node is target and ev.target is not None]
    if seen and all(v.kind == "module" and v.live and all(concrete(r) and _module_path(facts, r) for r in v.live) for v in seen):
        return "torch:module"
    return None


def _module_path(facts, root: str) -> bool:
    """Does ``root`` (``model.backbone.stages``, ``model.backbone.stages[]``) name a module: a part the model's in-file
    classes build with a ``torch.nn`` constructor or an in-file Module class, followed from the object's class?"""
    parts = root.replace("[]", "").split(".")
    origin = facts.flow.root_origins.get(parts[0])
    cls = origin.cls if origin is not None and origin.kind == "module" else None
    if cls is None or len(parts) < 2:
        return False
    for i, part in enumerate(parts[1:]):
        ctor = facts.modules.part_ctor(cls, part) if cls in facts.modules.classes else None
        if not isinstance(ctor, ast.Call):
            return False
        if isinstance(ctor.func, ast.Name) and ctor.func.id in facts.modules.classes and facts.modules.classes[ctor.func.id].is_module:
            cls = ctor.func.id
            continue
        return i == len(parts) - 2 and is_module_ctor(facts.imports.qualname(ctor.func) or "")
    return True
