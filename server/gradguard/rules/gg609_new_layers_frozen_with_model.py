"""GG609 new-layers-frozen-with-model: layers added to a built model (adapters, a new head) and then frozen with it
keep their initial values for good."""
from __future__ import annotations

import ast
import re
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.flow import per_part_branches
from gradguard.core.model import Applicability, Severity
from gradguard.core.order import position
from gradguard.core.torchapi import CHANGES_REQUIRES_GRAD
from gradguard.fixes import fix, insert_after_stmt
from gradguard.rules.base import Example, Rule

# what may make the added layers trainable or give them values after all: an unfreeze anywhere (a name filter in a
# callback, ``mark_only_lora_as_trainable``), weights loaded into the model
_UNFREEZE = re.compile(r"\.requires_grad\s*=\s*(?!False\b)[A-Za-z_]|requires_grad_\(\s*(?!False\b|requires_grad\s*=\s*False\b)[^\s)]|requires_grad_\(\s*\)|\.unfreeze\(|\bunfreeze_\w*\(|trainable\w*\(")
# unfreezes whose target the flow engine does not follow (a framework's ``unfreeze()``, a ``set_trainable(...)`` helper)
_OPAQUE_UNFREEZE = re.compile(r"\.unfreeze\(|\bunfreeze_\w*\(|trainable\w*\(")
_LOADS = re.compile(r"load_state_dict\(|load_adapter|set_adapter|from_pretrained\([^)]*adapter|\.copy_\(|load_checkpoint|torch\.load\(")
_ADDS = re.compile(r"\.append\(|\.insert\(|add_module\(|register_module\(|setattr\(|\]\s*=|\.\w+\s*=\s*[\w.]+\(|\bself\.\w+\s*=\s*\w+\s*$", re.M)


class NewLayersFrozenWithModel(Rule):
    code = "GG609"
    name = "new-layers-frozen-with-model"
    summary = (
        "Layers added to a model after it was built (adapters, a new head) and then frozen with the whole model are never "
        "trained: they keep their initial values."
    )
    severity = Severity.WARNING
    needs = ("requires_grad",)
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Flags a freeze of a whole model (`model.requires_grad_(False)`, `for p in model.parameters(): p.requires_grad =
False`, a helper that does either) that runs after new layers were put into that model: appended to one of its
`ModuleList`s, set under a key of a `ModuleDict` (also of each `ModuleDict` in a container of the model, `for blk in
model.blocks: blk[name] = Adapter(blk[name])`), assigned to an attribute or swapped in with `setattr` (adapters,
LoRA wrappers, a new classification head), directly, by a helper, or by a method of the model that keeps what it is
given (`unet.attach_adapter(adapter)` storing `self.cond_adapter = adapter`, called in a setup helper given the model).
Layers put in under a computed name by a helper that walks the model's own children (`for name, child in
module.named_children(): setattr(module, name, LoRAInjectedLinear(child))`) take the place of parts the model runs. It stays quiet when the file unfreezes
parameters again in a way that may reach the added layers (the whole model, a name filter that switches the adapters
back on, the part that holds them, a target the analysis cannot follow, `unfreeze()`, anything named `trainable`);
unfreezing another part only (`for p in model.mm_projector.parameters(): p.requires_grad = True`) does not silence it, when weights are loaded into a model (`load_state_dict`, `load_adapter`, `copy_`), and when the
added layers are not read by any `forward` of the file.

## Why is this bad?
`requires_grad_(False)` on a module recurses into every submodule it holds at that moment, the ones just added
included. The new layers were built a moment ago with random (or zero) initial values; frozen, they get no
gradient, an optimizer built from the parameters that require grad never sees them, and they stay at their
initial values while the rest of the program trains. Nothing raises: the adapters silently contribute a fixed
random transform (or nothing at all, for zero-initialized ones).

## Example
```python
unet = inject_adapters(UNet())      # unet.adapters.append(nn.Conv2d(...))
unet.requires_grad_(False)          # also freezes the adapters
params = [p for p in unet.parameters() if p.requires_grad]
```

## Use instead
Freeze the pretrained model first and add the new layers after it, or switch them back on:
```python
unet.requires_grad_(False)
unet.adapters.requires_grad_(True)
```

## Fix safety
The fix switches the added layers back on right after the freeze (`unet.adapters.requires_grad_(True)`). It
changes what trains, so it is unsafe; it is offered only for a freeze written as `<model>.requires_grad_(False)`.
"""
    examples = (
        Example(
            name="adapters-put-into-moduledict-blocks-by-a-helper-then-frozen",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Adapter(nn.Module):
    def __init__(self, base, rank=2):
        super().__init__()
        self.base = base
        self.down = nn.Parameter(torch.randn(rank, base.in_features) * 0.1)
        self.up = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x):
        return self.base(x) + F.linear(F.linear(x, self.down), self.up)


class Stack(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.blocks = nn.ModuleList([nn.ModuleDict({"proj": nn.Linear(d, d)}) for _ in range(2)])
        self.head = nn.Linear(d, 1)

    def forward(self, x):
        for blk in self.blocks:
            x = x + blk["proj"](x)
        return self.head(x)


def add_adapters(model, names):
    for blk in model.blocks:
        for name in names:
            blk[name] = Adapter(blk[name])
    return model


def main():
    torch.manual_seed(0)
    model = add_adapters(Stack(), ("proj",))
    model.requires_grad_(False)
    model.head.requires_grad_(True)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    up0 = model.blocks[0]["proj"].up.detach().clone()
    for _ in range(2):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"adapter_trained": not torch.equal(up0, model.blocks[0]["proj"].up)}
""",
            lines=(39,),
            expect={'facts': {'adapter_trained': False}},
            fixed_expect={'facts': {'adapter_trained': True}},
        ),
        Example(
            bad=False,
            name="model-frozen-before-a-helper-puts-adapters-into-its-blocks",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Adapter(nn.Module):
    def __init__(self, base, rank=2):
        super().__init__()
        self.base = base
        self.down = nn.Parameter(torch.randn(rank, base.in_features) * 0.1)
        self.up = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x):
        return self.base(x) + F.linear(F.linear(x, self.down), self.up)


class Stack(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.blocks = nn.ModuleList([nn.ModuleDict({"proj": nn.Linear(d, d)}) for _ in range(2)])
        self.head = nn.Linear(d, 1)

    def forward(self, x):
        for blk in self.blocks:
            x = x + blk["proj"](x)
        return self.head(x)


def add_adapters(model, names):
    for blk in model.blocks:
        for name in names:
            blk[name] = Adapter(blk[name])
    return model


def main():
    torch.manual_seed(0)
    model = Stack()
    model.requires_grad_(False)
    model = add_adapters(model, ("proj",))
    model.head.requires_grad_(True)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    up0 = model.blocks[0]["proj"].up.detach().clone()
    for _ in range(2):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"adapter_trained": not torch.equal(up0, model.blocks[0]["proj"].up)}
""",
            expect={'facts': {'adapter_trained': True}},
        ),
        Example(
            name="adapters-injected-under-their-children-names-then-frozen-with-the-model",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Adapted(nn.Module):
    def __init__(self, base, rank=2):
        super().__init__()
        self.base = base
        self.down = nn.Linear(base.in_features, rank, bias=False)
        self.up = nn.Linear(rank, base.out_features, bias=False)

    def forward(self, x):
        return self.base(x) + self.up(self.down(x))


def add_adapters(module):
    for name, child in list(module.named_children()):
        if isinstance(child, nn.Linear):
            setattr(module, name, Adapted(child))
        else:
            add_adapters(child)
    return [p for n, p in module.named_parameters() if ".down." in n or ".up." in n]


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    adapters = add_adapters(model)
    model.requires_grad_(False)
    opt = torch.optim.SGD([p for p in adapters if p.requires_grad] or [torch.zeros(1, requires_grad=True)], lr=0.1)
    for _ in range(2):
        loss = F.mse_loss(model(torch.randn(8, 4)), torch.randn(8, 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(30,),
            expect={"error": "does not require grad"},
            fixable=False,
        ),
        Example(
            name="model-frozen-before-adapters-are-injected-under-their-children-names",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Adapted(nn.Module):
    def __init__(self, base, rank=2):
        super().__init__()
        self.base = base
        self.down = nn.Linear(base.in_features, rank, bias=False)
        self.up = nn.Linear(rank, base.out_features, bias=False)

    def forward(self, x):
        return self.base(x) + self.up(self.down(x))


def add_adapters(module):
    for name, child in list(module.named_children()):
        if isinstance(child, nn.Linear):
            setattr(module, name, Adapted(child))
        else:
            add_adapters(child)
    return [p for n, p in module.named_parameters() if ".down." in n or ".up." in n]


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    model.requires_grad_(False)
    adapters = add_adapters(model)
    opt = torch.optim.SGD([p for p in adapters if p.requires_grad] or [torch.zeros(1, requires_grad=True)], lr=0.1)
    for _ in range(2):
        loss = F.mse_loss(model(torch.randn(8, 4)), torch.randn(8, 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            bad=False,
            expect={"grad_ok": ["model.0.down.weight", "model.2.up.weight"]},
        ),
        Example(
            name="head-set-by-a-method-of-the-model-then-frozen-with-it",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(6, 16), nn.ReLU())
        self.head = None

    def set_head(self, head):
        self.head = head

    def forward(self, x):
        return self.head(self.features(x))


def prepare_linear_probe(model, n_classes):
    head = nn.Linear(16, n_classes)
    model.set_head(head)
    model.requires_grad_(False)
    return head


def main():
    torch.manual_seed(0)
    model = Backbone()
    head = prepare_linear_probe(model, 3)
    opt = torch.optim.SGD(head.parameters(), lr=0.1)
    for _ in range(3):
        x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"head": head}
""",
            lines=(22,),
            expect={"error": "does not require grad"},
        ),
        Example(
            name="model-frozen-before-a-method-sets-the-new-head",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(6, 16), nn.ReLU())
        self.head = None

    def set_head(self, head):
        self.head = head

    def forward(self, x):
        return self.head(self.features(x))


def prepare_linear_probe(model, n_classes):
    head = nn.Linear(16, n_classes)
    model.requires_grad_(False)
    model.set_head(head)
    return head


def main():
    torch.manual_seed(0)
    model = Backbone()
    head = prepare_linear_probe(model, 3)
    opt = torch.optim.SGD(head.parameters(), lr=0.1)
    for _ in range(3):
        x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"head": head}
""",
            bad=False,
            expect={"grad_ok": ["head.weight", "head.bias"]},
        ),
        Example(
            name="helper-refreezes-the-model-and-unfreezes-only-the-head",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Adapter(nn.Module):
    def __init__(self, base, r=2):
        super().__init__()
        self.base = base
        self.down = nn.Linear(base.in_features, r, bias=False)
        self.up = nn.Linear(r, base.out_features, bias=False)

    def forward(self, x):
        return self.base(x) + self.up(self.down(x))


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        return torch.relu(self.proj(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Block(6) for _ in range(2)])
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def add_adapters(model):
    model.requires_grad_(False)
    for block in model.blocks:
        setattr(block, "proj", Adapter(block.proj))
    return model


def choose_tuned_parts(model):
    model.requires_grad_(False)
    for p in model.head.parameters():
        p.requires_grad = True


def main():
    torch.manual_seed(0)
    model = add_adapters(Net())
    choose_tuned_parts(model)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    down0 = model.blocks[0].proj.down.weight.detach().clone()
    for _ in range(2):
        x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"adapters_trained": not torch.equal(down0, model.blocks[0].proj.down.weight)}
""",
            lines=(54,),
            fixable=False,
            expect={"facts": {"adapters_trained": False}},
        ),
        Example(
            bad=False,
            name="helper-refreezes-the-model-and-unfreezes-head-and-adapters-by-name",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Adapter(nn.Module):
    def __init__(self, base, r=2):
        super().__init__()
        self.base = base
        self.down = nn.Linear(base.in_features, r, bias=False)
        self.up = nn.Linear(r, base.out_features, bias=False)

    def forward(self, x):
        return self.base(x) + self.up(self.down(x))


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        return torch.relu(self.proj(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Block(6) for _ in range(2)])
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def add_adapters(model):
    model.requires_grad_(False)
    for block in model.blocks:
        setattr(block, "proj", Adapter(block.proj))
    return model


def choose_tuned_parts(model):
    model.requires_grad_(False)
    for name, p in model.named_parameters():
        if name.startswith("head") or ".down." in name or ".up." in name:
            p.requires_grad = True


def main():
    torch.manual_seed(0)
    model = add_adapters(Net())
    choose_tuned_parts(model)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    down0 = model.blocks[0].proj.down.weight.detach().clone()
    for _ in range(2):
        x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"adapters_trained": not torch.equal(down0, model.blocks[0].proj.down.weight)}
""",
            expect={"facts": {"adapters_trained": True}},
        ),
        Example(
            name="adapters-appended-by-a-helper-then-frozen-with-the-model",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Denoiser(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.inp = nn.Linear(4, dim)
        self.out = nn.Linear(dim, 4)
        self.adapters = nn.ModuleList()

    def forward(self, x, cond):
        h = torch.relu(self.inp(x))
        for adapter in self.adapters:
            h = h + adapter(cond)
        return self.out(h)


def add_adapter(model, dim=8):
    model.adapters.append(nn.Linear(2, dim))
    return model


def main():
    torch.manual_seed(0)
    model = add_adapter(Denoiser())
    model.requires_grad_(False)
    head = nn.Linear(4, 4)
    params = [p for p in list(model.parameters()) + list(head.parameters()) if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=1e-2)
    for _ in range(3):
        x, cond = torch.randn(8, 4), torch.randn(8, 2)
        loss = F.mse_loss(head(model(x, cond)), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"adapter": model.adapters[0], "head": head}
""",
            lines=(28,),
            expect={"grad_none": ["adapter.weight", "adapter.bias"], "grad_ok": ["head.weight", "head.bias"]},
            fixed_expect={"grad_ok": ["adapter.weight", "adapter.bias", "head.weight", "head.bias"]},
        ),
        Example(
            bad=False,
            name="model-frozen-before-the-adapters-are-added",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Denoiser(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.inp = nn.Linear(4, dim)
        self.out = nn.Linear(dim, 4)
        self.adapters = nn.ModuleList()

    def forward(self, x, cond):
        h = torch.relu(self.inp(x))
        for adapter in self.adapters:
            h = h + adapter(cond)
        return self.out(h)


def add_adapter(model, dim=8):
    model.adapters.append(nn.Linear(2, dim))
    return model


def main():
    torch.manual_seed(0)
    model = Denoiser()
    model.requires_grad_(False)
    model = add_adapter(model)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=1e-2)
    for _ in range(3):
        x, cond = torch.randn(8, 4), torch.randn(8, 2)
        loss = F.mse_loss(model(x, cond), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"adapter": model.adapters[0]}
""",
            expect={"grad_ok": ["adapter.weight", "adapter.bias"]},
        ),
        Example(
            bad=False,
            name="head-swapped-then-frozen-and-unfrozen-by-name",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))


def main():
    torch.manual_seed(0)
    model = Net()
    model.head = nn.Linear(8, 3)
    model.requires_grad_(False)
    for name, p in model.named_parameters():
        if name.startswith("head."):
            p.requires_grad = True
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 3, (8,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.head.weight", "model.head.bias"]},
        ),
    )

    def check(self, facts):
        text = facts.source.text
        if not facts.text_index.anywhere(CHANGES_REQUIRES_GRAD) or _LOADS.search(text) or _OPAQUE_UNFREEZE.search(text) or not _ADDS.search(text):
            return
        # the parts something switches back on (relative to the model it is called on), None when one is not known: an
        # unfreeze that may reach the added layers silences the rule; one of another part (``mm_projector``) does not
        unfrozen = _unfrozen_parts(facts) if _UNFREEZE.search(text) else set()
        if unfrozen is None:
            return
        if "backward(" not in text and not any(info.framework for info in facts.modules.classes.values()):
            return  # (nothing trains in this file)
        reported: set = set()
        own = list(facts.flows_matching(CHANGES_REQUIRES_GRAD))
        nodes = {id(fl.node) for fl in own}
        # (and the same functions walked with their callers' values: ``unet.attach_adapter(adapter)`` in a setup helper
        # given the model resolves to the method that puts the adapter on it)
        for fl in [*own, *(c for c in facts.flow.context_flows if id(c.node) in nodes)]:
            if getattr(fl.node, "name", None) == "__init__":
                continue  # (a constructor building layers and freezing them is the model's own design: a fixed random network)
            adds = [ev for ev in fl.events if ev.what == "replace" and ev.name and ev.extra != "assign" and ev.value is not None and ev.value.kind == "module"]
            if not adds:
                continue
            partial = per_part_branches(fl.node, facts.imports)
            for ev in fl.events:
                if id(ev.node) in reported or id(ev.node) in partial or ev.target is None or not _freezes(facts, ev):
                    continue
                roots = {r for r in ev.target.live | ({ev.target.ident} if ev.target.ident else set()) if r}
                for add in adds:
                    path = _bound_path(facts, add)
                    root = next((r for r in roots if path.startswith(r + ".")), None)
                    if root is None or position(add.node) >= position(ev.node):
                        continue
                    if not _read_in_forward(facts, path[len(root) + 1:]) and not _replaces_existing_child(facts, add, path[len(root) + 1:]):
                        continue
                    rel = path[len(root) + 1:].replace("[]", "")
                    if any(u == "" or rel == u or rel.startswith(u + ".") or u.startswith(rel.rstrip(".?") + ".") for u in unfrozen):
                        continue  # (switched back on by an unfreeze that reaches them)
                    reported.add(id(ev.node))
                    yield self._finding(facts, ev, add, root, path)
                    break

    def _finding(self, facts, ev, add, root: str, path: str):
        rel = path[len(root) + 1:]
        container = rel[:-2] if rel.endswith(".?") else rel
        recv = ev.node.func.value if ev.what == "requires_grad_call" and isinstance(ev.node, ast.Call) and isinstance(ev.node.func, ast.Attribute) else None
        model = facts.text(recv) if recv is not None else (ev.name or root)
        shown = f"{model}.{container}"
        related = [(add.node, "the new layers are added here")]
        if add.origin is not None and getattr(add.origin, "lineno", None) != getattr(add.node, "lineno", None):
            related.append((add.origin, "by this call"))
        inner = _inner_add(facts, add)
        if inner is not None:
            related.append((inner, "the layers are built and added here"))
        inner_freeze = _inner_freeze(facts, ev)
        if inner_freeze is not None:
            related.append((inner_freeze, "the freeze inside the helper"))
        fixes = []
        st = facts.statement_of(ev.node)
        if recv is not None and isinstance(st, ast.Expr) and st.value is ev.node and re.fullmatch(r"[A-Za-z_][\w.]*", shown):
            fixes.append(lambda: fix(f"Switch `{shown}` back on after the freeze", insert_after_stmt(facts, st, f"{shown}.requires_grad_(True)"), unsafe=True))
        return self.finding(
            facts,
            ev.node,
            (f"this freezes `{shown}` too: " if "?" not in shown else "this freezes them too: ")
            + f"the layers added to `{model}` at line {add.node.lineno} are new (never trained), and nothing "
            "switches them back on, so they get no gradient and keep their initial values while the program trains",
            related=related,
            fixes=fixes,
            explanation="`requires_grad_(False)` recurses into every submodule the model holds when it runs, the layers just added "
            "included. Freeze the model before adding the new layers, or switch them back on after the freeze.",
        )


def _inner_freeze(facts, ev) -> Optional[ast.AST]:
    """For a freeze made by a helper of the file (``set_tunable_parts(model)``), the statement inside it that freezes
    everything (``model.requires_grad_(False)``, ``p.requires_grad = False``)."""
    if ev.what != "requires_grad_via_call" or not isinstance(ev.node, ast.Call) or not isinstance(ev.node.func, ast.Name):
        return None
    fn = next((f for f in facts.walk((ast.FunctionDef, ast.AsyncFunctionDef)) if f.name == ev.node.func.id), None)
    if fn is None:
        return None
    for n in walk_nodes(fn):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "requires_grad_" and n.args \
                and isinstance(n.args[0], ast.Constant) and n.args[0].value is False:
            return n
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant) and n.value.value is False \
                and any(isinstance(t, ast.Attribute) and t.attr == "requires_grad" for t in n.targets):
            return n
    return None


def _bound_path(facts, add) -> str:
    """The path of what ``add`` put in, named as the caller binds the model (``model = add_adapter(Denoiser())``: the
    new object the call was given is ``model``)."""
    path = add.name or ""
    head, dot, rest = path.partition(".")
    if head == "<new>" and dot:
        st = facts.statement_of(add.node)
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name) and st.value is add.node:
            return f"{st.targets[0].id}.{rest}"
    return path


def _unfrozen_parts(facts) -> Optional[set]:
    """The parts the file's code switches ``requires_grad`` back on for, each relative to the object it is reached from
    (``mm_projector`` for ``for p in model.mm_projector.parameters(): p.requires_grad = True``; ``""`` for the whole
    object or a name test over all its parameters); None when an unfreeze has a target the engine does not know."""
    out: set = set()
    for fl in [*facts.flows_matching(CHANGES_REQUIRES_GRAD), *facts.flow.context_flows]:
        for ev in fl.events:
            if ev.what in ("requires_grad_call", "requires_grad_via_call"):
                if ev.extra == "False":
                    continue
            elif ev.what == "requires_grad_set" and ev.name == "requires_grad":
                st = facts.statement_of(ev.node)
                if isinstance(st, ast.Assign) and isinstance(st.value, ast.Constant) and st.value.value is False:
                    continue
            else:
                continue
            t = ev.target
            roots = {r for r in ((t.live | ({t.ident} if t.ident else set())) if t is not None else set()) if r}
            if not roots or "?" in roots:
                return None
            for r in roots:
                out.add(r.split(".", 1)[1].replace("[]", "") if "." in r else "")
    return out


def _freezes(facts, ev) -> bool:
    """Does ``ev`` freeze the whole of its target (not some parts by a test)?"""
    if ev.what in ("requires_grad_call", "requires_grad_via_call"):
        return ev.extra == "False"
    if ev.what == "requires_grad_set" and ev.name == "requires_grad":
        st = facts.statement_of(ev.node)
        return isinstance(st, ast.Assign) and isinstance(st.value, ast.Constant) and st.value.value is False
    return False


def _read_in_forward(facts, rel: str) -> bool:
    """Is the first attribute of ``rel`` (``adapters`` of ``adapters.?``) read as ``self.<attr>`` by a ``forward``?"""
    attr = rel.split(".", 1)[0]
    if not attr.isidentifier():
        return False
    pattern = re.compile(r"\bself\." + re.escape(attr) + r"\b")
    for info in facts.modules.classes.values():
        fwd = info.methods.get("forward")
        if fwd is not None and facts.text_index.search(pattern, fwd):
            return True
    return False


def _replaces_existing_child(facts, add, rel: str) -> bool:
    """A layer put in under a computed name (``setattr(module, name, LoRAInjectedLinear(child))``) by a helper that
    walks the module's own children (``for name, child in module.named_children()``): it takes the place of a part
    that exists, which the model's ``forward`` runs."""
    if not rel.startswith("?"):
        return False
    inner = _inner_add(facts, add)
    fn = facts.enclosing(inner, (ast.FunctionDef, ast.AsyncFunctionDef)) if inner is not None else None
    if fn is None:
        return False
    for loop in walk_nodes(fn):
        if isinstance(loop, ast.For) and any(n is inner for n in walk_nodes(loop)):
            it = loop.iter
            while isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id in ("list", "tuple") and it.args:
                it = it.args[0]
            if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in ("named_children", "named_modules"):
                return True
    return False


def _inner_add(facts, add) -> Optional[ast.AST]:
    """The line inside a helper where the layers were put in (the ``append`` or assignment), when the event is a call's."""
    if not (isinstance(add.node, ast.Call) and add.extra and add.extra.isdigit()):
        return None
    line = int(add.extra)
    return next((n for n in facts.walk(ast.Call) if getattr(n, "lineno", None) == line), None)
