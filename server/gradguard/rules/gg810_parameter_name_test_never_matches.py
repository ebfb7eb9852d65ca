"""GG810 parameter-name-test-never-matches: ``name.startswith("backbone.")`` over the ``named_parameters()`` of a
DataParallel / DDP wrapper, whose parameter names all begin with ``module.``."""
from __future__ import annotations

import ast
import re
from functools import partial
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.model import Applicability, Fix, Severity
from gradguard.core.paramnames import Unknown, all_parameter_names, evaluate_name_test, models_of, module_constants, single_binding, truth
from gradguard.fixes import fix, replace_node
from gradguard.rules.base import Example, Rule


class ParameterNameTestNeverMatches(Rule):
    code = "GG810"
    name = "parameter-name-test-never-matches"
    summary = (
        "A parameter-name test that misses the parameters it was written for: the names of an `nn.DataParallel` / "
        "`DistributedDataParallel` wrapper's `named_parameters()` all begin with `module.`, so `name.startswith(\"backbone.\")` "
        "is never true; a keyword in another case (`\"adapter\"` for `T_Adapter`) freezes what it should spare."
    )
    severity = Severity.WARNING
    needs = ("named_parameters",)  # (and a DataParallel wrapper and startswith, or a requires_grad switch under a name test)
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Follows a model wrapped in `nn.DataParallel` or `DistributedDataParallel` into the code that reads its
`named_parameters()` (also through helpers: `build_param_groups(model)` called with the wrapper), and flags a
`name.startswith(...)` test on those names whose prefixes can never match, because they do not begin with
`module.`: in an `if` whose branch collects parameters, or in a list comprehension that selects them (`named =
list(model.named_parameters())`, then `[p for n, p in named if n.startswith("alphas")]`, always empty). Reported when the test is decided on some call the file makes with the wrapper; a helper only ever
given the bare model is not flagged.

Also flags `p.requires_grad = any(name.startswith(k) for k in keep)` in a loop over such a wrapper's names when the
test is false for every name: the prefixes are known from string constants, lists of them, f-strings that begin with
a literal (`[f"encoder.layers.{i}." for i in range(...)]`) and lists extended with `+=`; the loop then freezes the
whole model.

Also flags a freeze loop over `model.named_parameters()` (`if not any(k in name for k in ("adapter", "head")):
p.requires_grad = False`) whose name test freezes parameters it would keep trainable if the names' case matched its
strings (the model names its adapters `T_Adapter`), decided over every parameter name of the model's in-file class for
every model the file passes to the loop's function (also a part of it, `detector.neck.named_parameters()`, and the model a
`DataParallel` wrapper holds, passed as `model.module`).

Also flags a loop that switches parameters back on by name after the model was frozen whole (`model.requires_grad_(False)`,
then `if any(k in name for k in patterns): p.requires_grad_(True)`) when no parameter name of the model's in-file class
passes the test, for the strings every call of the function passes (a literal, a module-level constant, an entry of a
module-level config dict such as `CONFIG["trainable_modules"]`): nothing is switched back on, and the whole model
stays frozen (an optimizer built from what requires grad raises `optimizer got an empty parameter list`). Decided
only when every parameter name of the model is known from its code.

Also flags a freeze loop over `model.named_parameters()` whose test is an `or` with a bare non-empty string among its
operands (`if "time_embedding" in name or "conv_in": p.requires_grad_(False)`): the string is true on its own, so the
test holds for every name and the loop freezes every parameter, not only those it names (the fix writes the missing
`in name`).

## Why is this bad?
The wrappers register the model as their submodule `module`, so every name they yield is `module.backbone.0.weight`,
never `backbone.0.weight`. A test written against the bare model's names is then false for every parameter:
parameter groups split by prefix come out empty (PyTorch accepts empty groups, and the optimizer steps nothing, so
the model never changes), a freeze by prefix freezes nothing, a per-layer learning rate or weight-decay exemption
applies to nothing. Nothing raises.

String tests on names are case-sensitive too: `"adapter" in "blocks.0.T_Adapter.fc1.weight"` is false, so a freeze that
should spare the adapters freezes them, the optimizer built from what still requires grad skips them, and the run
trains only the head.

## Example
```python
model = nn.DataParallel(net)
backbone = [p for n, p in model.named_parameters() if n.startswith("backbone.")]   # always empty
```

## Use instead
```python
backbone = [p for n, p in model.module.named_parameters() if n.startswith("backbone.")]
```
or match both spellings: `n.startswith(("backbone.", "module.backbone."))`.

## Fix safety
For a case mismatch the fix compares `name.lower()` (offered when every keyword is lower case). The fix makes the test also accept the wrapped spelling (`("backbone.", "module.backbone.")`). It is unsafe: it
changes which parameters the code selects (which is its purpose), so the training that follows changes.
"""
    examples = (
        Example(
            name="freeze-test-with-a-bare-string-operand-freezes-everything",
            code="""import torch
import torch.nn as nn


class Denoiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.time_embedding = nn.Linear(1, 4)
        self.conv_in = nn.Linear(4, 4)
        self.blocks = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4))

    def forward(self, x, t):
        return self.blocks(self.conv_in(x) + self.time_embedding(t))


def freeze_pretrained(model):
    for name, p in model.named_parameters():
        if "time_embedding" in name or "conv_in":
            p.requires_grad_(False)


def main():
    torch.manual_seed(0)
    model = Denoiser()
    cond = nn.Linear(4, 4)
    freeze_pretrained(model)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad] + list(cond.parameters()), lr=0.01)
    w0 = model.blocks[0].weight.detach().clone()
    for _ in range(2):
        x = torch.randn(8, 4)
        loss = model(cond(x), torch.rand(8, 1)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"blocks_changed": not torch.equal(w0, model.blocks[0].weight)}
""",
            lines=(18,),
            expect={'facts': {'blocks_changed': False}},
            fixed_expect={'facts': {'blocks_changed': True}},
        ),
        Example(
            bad=False,
            name="freeze-test-naming-each-keyword",
            code="""import torch
import torch.nn as nn


class Denoiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.time_embedding = nn.Linear(1, 4)
        self.conv_in = nn.Linear(4, 4)
        self.blocks = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4))

    def forward(self, x, t):
        return self.blocks(self.conv_in(x) + self.time_embedding(t))


def freeze_pretrained(model):
    for name, p in model.named_parameters():
        if "time_embedding" in name or "conv_in" in name:
            p.requires_grad_(False)


def main():
    torch.manual_seed(0)
    model = Denoiser()
    cond = nn.Linear(4, 4)
    freeze_pretrained(model)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad] + list(cond.parameters()), lr=0.01)
    w0 = model.blocks[0].weight.detach().clone()
    for _ in range(2):
        x = torch.randn(8, 4)
        loss = model(cond(x), torch.rand(8, 1)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"blocks_changed": not torch.equal(w0, model.blocks[0].weight)}
""",
            expect={'facts': {'blocks_changed': True}},
        ),
        Example(
            name="comprehension-selects-architecture-weights-by-prefix-on-a-wrapper",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class SearchNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.ops = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])
        self.head = nn.Linear(4, 2)
        self.alphas = nn.Parameter(1e-3 * torch.randn(2))

    def forward(self, x):
        w = F.softmax(self.alphas, dim=-1)
        return self.head(sum(w[i] * op(x) for i, op in enumerate(self.ops)))


def build_optimizers(model):
    named = list(model.named_parameters())
    weights = [p for n, p in named if "alphas" not in n]
    arch = [p for n, p in named if n.startswith("alphas")]
    return torch.optim.SGD(weights, lr=0.1), torch.optim.Adam([{"params": arch, "lr": 0.1}])


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(SearchNet())
    w_opt, a_opt = build_optimizers(model)
    a0 = model.module.alphas.detach().clone()
    for _ in range(2):
        x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
        a_opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        a_opt.step()
        w_opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        w_opt.step()
    return {"model": model.module}, {"alphas_changed": not torch.equal(a0, model.module.alphas)}
""",
            lines=(21,),
            expect={'facts': {'alphas_changed': False}},
            fixed_expect={'facts': {'alphas_changed': True}},
        ),
        Example(
            bad=False,
            name="comprehension-selects-architecture-weights-of-the-wrapped-model",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class SearchNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.ops = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])
        self.head = nn.Linear(4, 2)
        self.alphas = nn.Parameter(1e-3 * torch.randn(2))

    def forward(self, x):
        w = F.softmax(self.alphas, dim=-1)
        return self.head(sum(w[i] * op(x) for i, op in enumerate(self.ops)))


def build_optimizers(model):
    named = list(model.module.named_parameters())
    weights = [p for n, p in named if "alphas" not in n]
    arch = [p for n, p in named if n.startswith("alphas")]
    return torch.optim.SGD(weights, lr=0.1), torch.optim.Adam([{"params": arch, "lr": 0.1}])


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(SearchNet())
    w_opt, a_opt = build_optimizers(model)
    a0 = model.module.alphas.detach().clone()
    for _ in range(2):
        x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
        a_opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        a_opt.step()
        w_opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        w_opt.step()
    return {"model": model.module}, {"alphas_changed": not torch.equal(a0, model.module.alphas)}
""",
            expect={'facts': {'alphas_changed': True}},
        ),
        Example(
            name="neck-freeze-loop-through-the-wrapped-module-spells-the-adapter-in-capitals",
            code="""import torch
import torch.nn as nn


class Neck(nn.Module):
    def __init__(self):
        super().__init__()
        self.lateral = nn.Linear(6, 6)
        self.adapter = nn.Linear(6, 6)

    def forward(self, x):
        return self.adapter(self.lateral(x))


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.neck = Neck()
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        return self.head(self.neck(x))


def freeze_neck_but_adapter(detector):
    for name, p in detector.neck.named_parameters():
        if "ADAPTER" not in name:
            p.requires_grad = False


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(Detector())
    freeze_neck_but_adapter(model.module)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = model(torch.randn(4, 6)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model.module}
""",
            lines=(27,),
            expect={"grad_none": ["model.neck.adapter.weight"], "grad_ok": ["model.head.weight"]},
            fixable=False,
        ),
        Example(
            bad=False,
            name="neck-freeze-loop-through-the-wrapped-module-spells-the-adapter-as-named",
            code="""import torch
import torch.nn as nn


class Neck(nn.Module):
    def __init__(self):
        super().__init__()
        self.lateral = nn.Linear(6, 6)
        self.adapter = nn.Linear(6, 6)

    def forward(self, x):
        return self.adapter(self.lateral(x))


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.neck = Neck()
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        return self.head(self.neck(x))


def freeze_neck_but_adapter(detector):
    for name, p in detector.neck.named_parameters():
        if "adapter" not in name:
            p.requires_grad = False


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(Detector())
    freeze_neck_but_adapter(model.module)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = model(torch.randn(4, 6)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model.module}
""",
            expect={"grad_ok": ["model.neck.adapter.weight", "model.head.weight"]},
        ),
        Example(
            name="freeze-keeps-adapters-by-a-keyword-spelled-in-another-case",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Adapter(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.down, self.up = nn.Linear(d, 2), nn.Linear(2, d)

    def forward(self, x):
        return x + self.up(F.relu(self.down(x)))


class Backbone(nn.Module):
    def __init__(self, d=4, n_classes=3):
        super().__init__()
        self.body = nn.Linear(d, d)
        self.Adapter = Adapter(d)
        self.head = nn.Linear(d, n_classes)

    def forward(self, x):
        return self.head(self.Adapter(torch.relu(self.body(x))))


def freeze_backbone(model, keep=("adapter", "head")):
    for name, param in model.named_parameters():
        if not any(k in name for k in keep):
            param.requires_grad = False


def main():
    torch.manual_seed(0)
    model = Backbone()
    freeze_backbone(model)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    a0 = model.Adapter.down.weight.detach().clone()
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(model(torch.randn(6, 4)), torch.arange(6) % 3).backward()
        optimizer.step()
    return {"model": model}, {"adapter_changed": not torch.equal(a0, model.Adapter.down.weight)}
""",
            lines=(28,),
            expect={"grad_ok": ["model.head.weight"], "grad_none": ["model.Adapter.down.weight"], "facts": {"adapter_changed": False}},
            fixed_expect={"grad_ok": ["model.head.weight", "model.Adapter.down.weight"], "facts": {"adapter_changed": True}},
        ),
        Example(
            bad=False,
            name="freeze-keeps-adapters-by-a-keyword-spelled-as-the-model-does",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Adapter(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.down, self.up = nn.Linear(d, 2), nn.Linear(2, d)

    def forward(self, x):
        return x + self.up(F.relu(self.down(x)))


class Backbone(nn.Module):
    def __init__(self, d=4, n_classes=3):
        super().__init__()
        self.body = nn.Linear(d, d)
        self.adapter = Adapter(d)
        self.head = nn.Linear(d, n_classes)

    def forward(self, x):
        return self.head(self.adapter(torch.relu(self.body(x))))


def freeze_backbone(model, keep=("adapter", "head")):
    for name, param in model.named_parameters():
        if not any(k in name for k in keep):
            param.requires_grad = False


def main():
    torch.manual_seed(0)
    model = Backbone()
    freeze_backbone(model)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    a0 = model.adapter.down.weight.detach().clone()
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(model(torch.randn(6, 4)), torch.arange(6) % 3).backward()
        optimizer.step()
    return {"model": model}, {"adapter_changed": not torch.equal(a0, model.adapter.down.weight)}
""",
            expect={"grad_ok": ["model.head.weight", "model.adapter.down.weight"], "facts": {"adapter_changed": True}},
        ),
        Example(
            name="param-groups-split-by-prefix-on-the-wrapper",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.backbone(x))


def param_groups(model, lr):
    backbone, head = [], []
    for name, p in model.named_parameters():
        if name.startswith("backbone."):
            backbone.append(p)
        elif name.startswith("head."):
            head.append(p)
    return [{"params": backbone, "lr": lr * 0.1}, {"params": head, "lr": lr}]


def train(model, batches, lr=0.1):
    optimizer = torch.optim.SGD(param_groups(model, lr), lr=lr)
    for x, y in batches:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    net = Net()
    model = nn.DataParallel(net)
    before = net.head.weight.detach().clone()
    train(model, [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(3)])
    return {"model": net}, {"changed": not torch.equal(before, net.head.weight)}
""",
            expect={"facts": {"changed": False}, "grad_ok": ["model.head.weight", "model.backbone.0.weight"]},
            lines=(19, 21),
            fixed_expect={"facts": {"changed": True}},
        ),
        Example(
            name="groups-from-the-wrapped-model",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(torch.relu(self.backbone(x)))


def param_groups(model, lr):
    backbone = [p for n, p in model.named_parameters() if n.startswith("backbone.")]
    head = [p for n, p in model.named_parameters() if n.startswith("head.")]
    return [{"params": backbone, "lr": lr * 0.1}, {"params": head, "lr": lr}]


def main():
    torch.manual_seed(0)
    net = Net()
    model = nn.DataParallel(net)
    optimizer = torch.optim.SGD(param_groups(model.module, 0.1), lr=0.1)
    before = net.head.weight.detach().clone()
    optimizer.zero_grad()
    F.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 2, (8,))).backward()
    optimizer.step()
    return {"model": net}, {"changed": not torch.equal(before, net.head.weight)}
""",
            expect={"facts": {"changed": True}, "grad_ok": ["model.head.weight", "model.backbone.weight"]},
        ),
        Example(
            name="prefix-written-with-module-on-the-wrapper",
            bad=False,
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(torch.relu(self.stem(x)))


def main():
    model = nn.DataParallel(Net())
    for name, p in model.named_parameters():
        if name.startswith(("stem.", "module.stem.")):
            p.requires_grad = False
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model(torch.randn(3, 4)).sum().backward()
    optimizer.step()
    return {"model": model.module}, {"stem_frozen": not model.module.stem.weight.requires_grad}
""",
            expect={"facts": {"stem_frozen": True}, "grad_ok": ["model.head.weight"], "grad_none": ["model.stem.weight"]},
        ),
        Example(
            name="prefix-groups-with-an-else-that-collects-the-rest",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def groups(model, lr):
    slow, rest = [], []
    for name, p in model.named_parameters():
        if name.startswith("0."):
            slow.append(p)
        else:
            rest.append(p)
    return [{"params": slow, "lr": lr * 0.1}, {"params": rest, "lr": lr}]


def main():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    model = nn.DataParallel(net)
    optimizer = torch.optim.SGD(groups(model, 0.1), lr=0.1)
    before = net[0].weight.detach().clone()
    optimizer.zero_grad()
    F.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 2, (8,))).backward()
    optimizer.step()
    return {"model": net}, {"changed": not torch.equal(before, net[0].weight)}
""",
            expect={"facts": {"changed": True}, "grad_ok": ["model.0.weight", "model.2.weight"]},
        ),
        Example(
            name="helper-given-the-bare-model-and-the-wrapper",
            bad=False,
            code="""import torch
import torch.nn as nn


def no_decay_groups(model, wd):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if name.startswith("norm") or name.endswith(".bias"):
            no_decay.append(p)
        else:
            decay.append(p)
    return [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]


def main():
    net = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    model = nn.DataParallel(net)
    optimizer = torch.optim.AdamW(no_decay_groups(model, 0.01), lr=0.1)
    before = net[2].weight.detach().clone()
    optimizer.zero_grad()
    model(torch.randn(3, 4)).sum().backward()
    optimizer.step()
    return {"model": net}, {"changed": not torch.equal(before, net[2].weight)}
""",
            expect={"facts": {"changed": True}, "grad_ok": ["model.2.weight"]},
        ),
        Example(
            name="freeze-by-fstring-prefixes-on-a-dataparallel-wrapper",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(nn.Module):
    def __init__(self, depth=4):
        super().__init__()
        self.blocks = nn.ModuleList(nn.Linear(6, 6) for _ in range(depth))
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        for block in self.blocks:
            x = torch.relu(block(x))
        return self.head(x)


def train_top(model, n, depth=4):
    keep = [f"blocks.{i}." for i in range(depth - n, depth)]
    keep += ["head."]
    for name, param in model.named_parameters():
        param.requires_grad = any(name.startswith(prefix) for prefix in keep)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(Tagger())
    train_top(model, n=1)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss = F.cross_entropy(model(torch.randn(4, 6)), torch.tensor([0, 1, 2, 0]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model.module}
""",
            lines=(22,),
            fixable=False,
            expect={"error": "empty parameter list"},
        ),
        Example(
            bad=False,
            name="freeze-by-fstring-prefixes-on-the-wrapped-model",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(nn.Module):
    def __init__(self, depth=4):
        super().__init__()
        self.blocks = nn.ModuleList(nn.Linear(6, 6) for _ in range(depth))
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        for block in self.blocks:
            x = torch.relu(block(x))
        return self.head(x)


def train_top(model, n, depth=4):
    keep = [f"blocks.{i}." for i in range(depth - n, depth)]
    keep += ["head."]
    for name, param in model.named_parameters():
        param.requires_grad = any(name.startswith(prefix) for prefix in keep)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(Tagger())
    train_top(model.module, n=1)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss = F.cross_entropy(model(torch.randn(4, 6)), torch.tensor([0, 1, 2, 0]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model.module}
""",
            expect={"grad_ok": ["model.head.weight", "model.blocks.3.weight"]},
        ),
        Example(
            name="unfreeze-patterns-from-a-config-match-no-parameter-name",
            code="""import torch
import torch.nn as nn

CONFIG = {"trainable": ["motion_modules."], "lr": 0.1}


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        return x + self.proj(x)


class VideoNet(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.spatial = nn.ModuleList([Block(d) for _ in range(2)])
        self.temporal = nn.ModuleList([Block(d) for _ in range(2)])

    def forward(self, x):
        for s, t in zip(self.spatial, self.temporal):
            x = t(s(x))
        return x


def select_trainable(model, patterns):
    model.requires_grad_(False)
    for name, param in model.named_parameters():
        if any(p in name for p in patterns):
            param.requires_grad_(True)
    return [p for p in model.parameters() if p.requires_grad]


def main():
    cfg = CONFIG
    model = VideoNet()
    opt = torch.optim.SGD(select_trainable(model, cfg["trainable"]), lr=cfg["lr"])
    loss = model(torch.randn(8, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(31,),
            expect={"error": "optimizer got an empty parameter list"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="unfreeze-patterns-from-a-config-match-the-temporal-blocks",
            code="""import torch
import torch.nn as nn

CONFIG = {"trainable": ["temporal."], "lr": 0.1}


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        return x + self.proj(x)


class VideoNet(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.spatial = nn.ModuleList([Block(d) for _ in range(2)])
        self.temporal = nn.ModuleList([Block(d) for _ in range(2)])

    def forward(self, x):
        for s, t in zip(self.spatial, self.temporal):
            x = t(s(x))
        return x


def select_trainable(model, patterns):
    model.requires_grad_(False)
    for name, param in model.named_parameters():
        if any(p in name for p in patterns):
            param.requires_grad_(True)
    return [p for p in model.parameters() if p.requires_grad]


def main():
    cfg = CONFIG
    model = VideoNet()
    opt = torch.optim.SGD(select_trainable(model, cfg["trainable"]), lr=cfg["lr"])
    loss = model(torch.randn(8, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.temporal.0.proj.weight", "model.temporal.1.proj.weight"], "grad_none": ["model.spatial.0.proj.weight"]},
        ),
    )

    def check(self, facts):
        yield from self._case_mismatched_freeze(facts)
        yield from self._unfreeze_matches_nothing(facts)
        yield from self._constant_operand_freeze(facts)
        if "named_parameters" not in facts.source.text or "startswith" not in facts.source.text:
            return
        facts.backward_flows  # noqa: B018 - analyzes functions with their callers' values (context flows)
        done: set = set()
        for fl in [*facts.flows, *facts.flow.context_flows]:
            never = {id(ev.node): ev for ev in fl.events if ev.what == "name_test_never_true" and isinstance(ev.node, ast.Call)}
            if not never:
                continue
            yield from self._switched_off_by_test(facts, fl, never, done)
            # an ``if`` whose branch collects parameters, or a comprehension that selects them (``[p for n, p in named if
            # n.startswith("alphas")]``): never true, it collects nothing
            candidates = [(call, "branch") for ev in fl.events if ev.what == "dead_branch" and ev.extra == "body" and isinstance(ev.node, ast.If)
                          and _collects(ev.node.body) and not _collecting_else(ev.node)
                          for call in [next((n for n in ast.walk(ev.node.test) if id(n) in never and isinstance(n, ast.Call)), None)] if call is not None]
            candidates += [(call, "comprehension") for call in _selecting_comprehension_tests(fl.node, never)]
            for call, where in candidates:
                if not isinstance(call, ast.Call) or id(call) in done or not (isinstance(call.func, ast.Attribute) and call.args):
                    continue
                done.add(id(call))
                prefix = never[id(call)].extra or "module."
                arg = call.args[0]
                texts = [getattr(e, "value", None) for e in arg.elts] if isinstance(arg, ast.Tuple) else [getattr(arg, "value", None)]
                if not all(isinstance(t, str) for t in texts):
                    continue
                name = facts.text(call.func.value)
                related = [(fl.context, "called here with the wrapper")] if fl.context is not None else []
                yield self.finding(
                    facts,
                    call,
                    f"`{facts.text(call)}` is never true: `{name}` comes from the `named_parameters()` of a DataParallel / "
                    f"DistributedDataParallel wrapper, whose parameter names all begin with `{prefix}`; "
                    + ("the parameters this branch should collect are in none of the lists the loop builds" if where == "branch"
                       else "this selection is always empty"),
                    related=related,
                    fixes=[_fix(facts, arg, texts, prefix)],
                    explanation=(
                        f"The wrapper registers the model as its submodule `module`, so it yields `{prefix}{texts[0]}...`, never "
                        f"`{texts[0]}...`: nothing passes the test, and with no `else` that collects the rest, those parameters "
                        f"land in no parameter group (PyTorch accepts empty groups): the optimizer never changes them. Read the "
                        f"names of the wrapped model (`model.module.named_parameters()`), or also accept the wrapped spelling."
                    ),
                )


    def _constant_operand_freeze(self, facts):
        """``for name, p in unet.named_parameters(): if "time_embedding" in name or "conv_in": p.requires_grad_(False)``: an
        operand of the ``or`` is a non-empty string, true on its own, so the test holds for every name and the loop freezes
        every parameter, the ones the name test was written to spare included."""
        if "named_parameters" not in facts.source.text or "requires_grad" not in facts.source.text:
            return
        for loop in facts.walk(ast.For):
            it, target = loop.iter, loop.target
            if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "named_parameters"
                    and isinstance(target, ast.Tuple) and len(target.elts) == 2 and all(isinstance(e, ast.Name) for e in target.elts)):
                continue
            name_var, param_var = target.elts[0].id, target.elts[1].id  # type: ignore[attr-defined]
            for st in loop.body:
                if not (isinstance(st, ast.If) and isinstance(st.test, ast.BoolOp) and isinstance(st.test.op, ast.Or) and _freezes_param(st.body, param_var)):
                    continue
                const = next((v for v in st.test.values if isinstance(v, ast.Constant) and isinstance(v.value, str) and v.value), None)
                tests_name = [v for v in st.test.values if any(isinstance(n, ast.Name) and n.id == name_var for n in walk_nodes(v))]
                if const is None or not tests_name:
                    continue
                model = facts.text(it.func.value)
                fixes = []
                pattern = next((v for v in tests_name if isinstance(v, ast.Compare) and len(v.ops) == 1 and isinstance(v.ops[0], ast.In)
                                and isinstance(v.comparators[0], ast.Name) and v.comparators[0].id == name_var), None)
                if pattern is not None:
                    fixes.append(lambda c=const, n=name_var: fix(f"Test the name: `{facts.text(c)} in {n}`", replace_node(facts, c, f"{facts.text(c)} in {n}"), unsafe=True))
                yield self.finding(
                    facts,
                    const,
                    f"`{facts.text(const)}` is a non-empty string, true on its own: this test holds for every name, so the loop freezes every "
                    f"parameter of `{model}`, not only those it names",
                    related=[(st.body[0], "every parameter is frozen here")],
                    fixes=fixes,
                    explanation="`a in name or \"b\"` reads as `(a in name) or \"b\"`, and a non-empty string is true: the condition never "
                    "depends on `b`, and every parameter passes. Write the test for each keyword (`\"b\" in name`), or `any(k in name for k in keys)`.",
                )

    def _switched_off_by_test(self, facts, fl, never: dict, done: set):
        """``p.requires_grad = any(name.startswith(k) for k in keep)`` over a wrapper's ``named_parameters()``: the test is
        false for every name, so the loop freezes every parameter it was meant to keep trainable."""
        for ev in fl.events:
            if ev.what != "requires_grad_set" or ev.name != "requires_grad" or ev.value is None or ev.value.consts != frozenset({False}):
                continue
            st = ev.stmt
            if not isinstance(st, ast.Assign) or isinstance(st.value, ast.Constant) or id(st) in done:
                continue
            call = next((n for n in walk_nodes(st.value) if id(n) in never), None)
            if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
                continue
            done.add(id(st))
            prefix = never[id(call)].extra or "module."
            name = facts.text(call.func.value)
            related = [(fl.context, "called here with the wrapper")] if fl.context is not None else []
            yield self.finding(
                facts,
                st,
                f"`{facts.text(st.value)}` is false for every parameter: `{name}` comes from the `named_parameters()` of a DataParallel / "
                f"DistributedDataParallel wrapper, whose parameter names all begin with `{prefix}`; this sets `requires_grad = False` on "
                "every parameter, the ones it should keep trainable included",
                related=related,
                explanation=(
                    f"The wrapper registers the model as its submodule `module`, so every name begins with `{prefix}` and no prefix the test "
                    "lists matches: the whole model is frozen (an optimizer over the parameters that require grad then gets an empty list, "
                    "and backward() has nothing to reach). Read the names of the wrapped model (`model.module.named_parameters()`)."
                ),
            )

    def _case_mismatched_freeze(self, facts):
        """``for name, p in model.named_parameters(): if not any(k in name for k in ("adapter", "head")): p.requires_grad =
        False`` where the model's parameters are spelled ``T_Adapter...``: a parameter the test would keep trainable if
        names matched ignoring case is frozen (strings compare case-sensitively). Decided over every name the model's
        in-file class yields (all known), for every model the file passes to the loop's function."""
        consts = module_constants(facts.tree)
        for loop, var, pvar, branch in _name_test_loops(facts):
            it = loop.iter
            on_true, on_false = _switch(branch.body, pvar), _switch(branch.orelse, pvar) if branch.orelse else None
            if on_true is None and on_false is None or (on_true is _NO and branch.body) or (on_false is _NO and branch.orelse):
                continue
            scope = facts.enclosing(loop, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
            bindings = _test_bindings(facts, scope, branch.test)
            if bindings is None:
                continue
            classes = models_of(facts, it.func.value, scope)
            if not classes:
                continue
            for cls in classes:
                names = all_parameter_names(facts.modules, facts.imports, cls)
                if not names:
                    break
                starved = []
                for env in bindings:
                    try:
                        for n in names:
                            real = truth(evaluate_name_test(branch.test, var, n, consts, env))
                            folded = truth(evaluate_name_test(branch.test, var, n, consts, env, fold=True))
                            now, meant = (on_true if real else on_false), (on_true if folded else on_false)
                            if now is False and meant is not False:
                                starved.append(n)
                    except Unknown:
                        starved = []
                        break
                if not starved:
                    continue
                shown = ", ".join(f"`{n}`" for n in starved[:2]) + (f" and {len(starved) - 2} more" if len(starved) > 2 else "")
                fixes = [partial(_lower_fix, facts, branch.test, var)] if _all_lowercase(branch.test, bindings[0], consts) else []
                yield self.finding(
                    facts,
                    branch.test,
                    f"this name test compares case-sensitively: it freezes {shown} of `{cls}`, which it would keep trainable "
                    f"if the names' case matched its strings; those parameters get no gradient and never train",
                    related=[(loop.iter, f"the names of `{cls}`'s parameters")],
                    fixes=fixes,
                    explanation="`in`, `==` and `startswith` on strings are case-sensitive: a keyword `\"adapter\"` is not in "
                    "`blocks.0.T_Adapter.fc1.weight`. The parameters the test was written to spare are frozen with the rest, "
                    "the optimizer (built from what still requires grad) skips them, and nothing raises. Spell the keyword as "
                    "the model does, or compare `name.lower()`.",
                )
                break


    def _unfreeze_matches_nothing(self, facts):
        """``model.requires_grad_(False)``, then ``for name, p in model.named_parameters(): if any(k in name for k in
        patterns): p.requires_grad_(True)`` where no parameter name of the model passes the test, for the strings every
        call of the function gives it (a literal, a module-level constant, an entry of a module-level config dict): the
        loop switches nothing back on and the whole model stays frozen."""
        consts = module_constants(facts.tree)
        for loop, var, pvar, branch in _name_test_loops(facts):
            it = loop.iter
            if branch.orelse or _switch(branch.body, pvar) is not True:
                continue
            scope = facts.enclosing(loop, (ast.FunctionDef, ast.AsyncFunctionDef))
            if scope is None or not _frozen_whole_before(facts, scope, it.func.value, loop):
                continue
            bindings = _call_bindings(facts, scope, branch.test, consts, var)
            if not bindings:
                continue
            classes = models_of(facts, it.func.value, scope)
            if not classes:
                continue
            for cls in classes:
                names = all_parameter_names(facts.modules, facts.imports, cls)
                if not names:
                    break
                try:
                    misses = [env for env in bindings if not any(truth(evaluate_name_test(branch.test, var, n, consts, env)) for n in names)]
                except Unknown:
                    break
                if not misses:
                    continue
                shown = "; ".join(f"`{k}` = " + ", ".join(f'"{x}"' for x in (v if isinstance(v, tuple) else (v,))) for k, v in sorted(misses[0].items()))
                yield self.finding(
                    facts,
                    branch.test,
                    f"no parameter name of `{cls}` passes this test (with {shown}): the loop switches nothing back on after "
                    f"`{facts.text(it.func.value)}` was frozen whole, so nothing of it trains",
                    related=[(loop.iter, f"the names of `{cls}`'s parameters (`{names[0]}`, ...)")],
                    explanation="The model is frozen first and the loop re-enables the parameters whose names match the "
                    "patterns; when no name contains them (a module renamed, a pattern from another model), every parameter "
                    "stays frozen. An optimizer built from what requires grad gets an empty list and raises; one built from all "
                    "parameters steps nothing. Spell the patterns as the model names its parts.",
                )
                break


def _frozen_whole_before(facts, scope: ast.AST, model: ast.AST, loop: ast.For) -> bool:
    """Does ``scope`` call ``<model>.requires_grad_(False)`` (the same expression) before ``loop``, outside any branch?"""
    want = facts.text(model)
    for st in scope.body:  # type: ignore[attr-defined]
        if st is loop or st.lineno >= loop.lineno:
            break
        if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Attribute) and st.value.func.attr == "requires_grad_":
            call = st.value
            recv = call.func.value  # type: ignore[attr-defined]
            if facts.text(recv) == want and len(call.args) == 1 and isinstance(call.args[0], ast.Constant) and call.args[0].value is False:
                return True
    return False


def _const_strings(facts, expr: ast.AST, scope: ast.AST, consts: dict, depth: int = 0):
    """The string, or tuple of strings, ``expr`` is in ``scope``: a literal, a module-level constant, ``CFG["key"]`` of
    a module-level dict literal, or a local bound once to one of those. None when not known."""
    if depth > 3:
        return None
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, (ast.Tuple, ast.List)):
        vals = [_const_strings(facts, e, scope, consts, depth + 1) for e in expr.elts]
        return tuple(vals) if vals and all(isinstance(v, str) for v in vals) else None
    if isinstance(expr, ast.Name):
        if expr.id in consts:
            return consts[expr.id]
        bound = single_binding(scope, expr.id) if not isinstance(scope, ast.Module) else None
        if bound is not None:
            return _const_strings(facts, bound, facts.tree, consts, depth + 1)
        return None
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant) and isinstance(expr.slice.value, str):
        d: Optional[ast.AST] = expr.value
        if isinstance(d, ast.Name):
            local = single_binding(scope, d.id) if not isinstance(scope, ast.Module) else None
            d = local if local is not None else d
            if isinstance(d, ast.Name):
                d = _module_binding(facts.tree, d.id)
        if isinstance(d, ast.Dict):
            for k, v in zip(d.keys, d.values):
                if isinstance(k, ast.Constant) and k.value == expr.slice.value:
                    return _const_strings(facts, v, facts.tree, consts, depth + 1)
    return None


def _module_binding(tree: ast.Module, name: str) -> Optional[ast.AST]:
    """The value of the one module-level ``name = ...`` (None when bound more than once or never)."""
    got = [st.value for st in tree.body if isinstance(st, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in st.targets)]
    return got[0] if len(got) == 1 else None


def _call_bindings(facts, fn, test: ast.AST, consts: dict, var: str) -> list:
    """One environment per call of ``fn`` in the file: the strings it passes for the parameters ``test`` reads (or their
    constant defaults). Empty when a call passes something not known, or there is no call."""
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    comp_vars = {t.id for c in ast.walk(test) if isinstance(c, ast.comprehension) for t in ast.walk(c.target) if isinstance(t, ast.Name)}
    free = {n.id for n in ast.walk(test) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - comp_vars - set(consts) - {"any", "all", var}
    a = fn.args
    params = [p.arg for p in [*a.posonlyargs, *a.args]]
    if not free or not free <= set(params):
        return []
    defaults = dict(zip(params[len(params) - len(a.defaults):], a.defaults))
    offset = 1 if params and params[0] in ("self", "cls") else 0
    envs = []
    for call in facts.walk(ast.Call):
        f = call.func
        if not ((isinstance(f, ast.Name) and f.id == fn.name) or (isinstance(f, ast.Attribute) and f.attr == fn.name and offset)):
            continue
        if any(isinstance(x, ast.Starred) for x in call.args) or any(k.arg is None for k in call.keywords):
            return []
        where = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
        env = {}
        for name in free:
            i = params.index(name) - offset
            given = next((k.value for k in call.keywords if k.arg == name), None)
            if given is None and 0 <= i < len(call.args):
                given = call.args[i]
            value = _const_strings(facts, given, where, consts) if given is not None else (_const_strings(facts, defaults[name], facts.tree, consts) if name in defaults else None)
            if value is None:
                return []
            env[name] = value
        envs.append(env)
    return envs


def _name_test_loops(facts):
    """``(loop, name variable, parameter variable, the if)`` for each ``for name, p in <x>.named_parameters():`` whose body
    is one ``if`` on the names (in files that switch requires_grad and test strings)."""
    text = facts.source.text
    if "requires_grad" not in text or not _IN_TEST.search(text):
        return
    for loop in facts.walk(ast.For):
        it, tgt = loop.iter, loop.target
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "named_parameters" and not it.args
                and isinstance(tgt, ast.Tuple) and len(tgt.elts) == 2 and all(isinstance(e, ast.Name) for e in tgt.elts)):
            continue
        if len(loop.body) != 1 or not isinstance(loop.body[0], ast.If) or loop.orelse:
            continue
        yield loop, tgt.elts[0].id, tgt.elts[1].id, loop.body[0]  # type: ignore[attr-defined]


_IN_TEST = re.compile(r"\bin\s+\w+|startswith\(|==")
_NO = object()


def _all_lowercase(test: ast.AST, env: dict, consts: dict) -> bool:
    """Every string the test compares with is lower case (so comparing ``name.lower()`` matches it ignoring case)."""
    strings = [n.value for n in ast.walk(test) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    for v in [*env.values(), *(consts[n.id] for n in ast.walk(test) if isinstance(n, ast.Name) and n.id in consts)]:
        strings += [v] if isinstance(v, str) else [x for x in v if isinstance(x, str)] if isinstance(v, tuple) else []
    return bool(strings) and all(x == x.lower() for x in strings)


def _lower_fix(facts, test: ast.AST, var: str):
    edits = [replace_node(facts, n, f"{var}.lower()") for n in ast.walk(test) if isinstance(n, ast.Name) and n.id == var and isinstance(n.ctx, ast.Load)]
    return fix(f"Compare `{var}.lower()` (match the names ignoring case)", *edits, unsafe=True)


def _switch(body: list, pvar: str):
    """The flag ``p.requires_grad = <bool>`` / ``p.requires_grad_(<bool>)`` sets when ``body`` is just that; ``_NO`` for a
    body that does something else; None for an empty body."""
    if not body:
        return None
    if len(body) != 1:
        return _NO
    st = body[0]
    if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Attribute) and st.targets[0].attr == "requires_grad" \
            and isinstance(st.targets[0].value, ast.Name) and st.targets[0].value.id == pvar and isinstance(st.value, ast.Constant) and isinstance(st.value.value, bool):
        return st.value.value
    if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Attribute) and st.value.func.attr == "requires_grad_" \
            and isinstance(st.value.func.value, ast.Name) and st.value.func.value.id == pvar and len(st.value.args) <= 1 and not st.value.keywords:
        a = st.value.args[0] if st.value.args else ast.Constant(True)
        return a.value if isinstance(a, ast.Constant) and isinstance(a.value, bool) else _NO
    return _NO


def _test_bindings(facts, scope, test: ast.AST) -> Optional[list]:
    """The values the free names of ``test`` (other than module constants) take: a parameter of ``scope`` with a
    constant default that no call in the file passes, or the one constant binding in ``scope``. One environment (a
    list for the callers' values to come); None when a name is not decided."""
    env: dict = {}
    bound = {n.id for n in ast.walk(test) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    comp_vars = {t.id for c in ast.walk(test) if isinstance(c, ast.comprehension) for t in ast.walk(c.target) if isinstance(t, ast.Name)}
    consts = module_constants(facts.tree)
    for name in bound - comp_vars:
        if name in consts or name in ("any", "all"):
            continue
        value = _default_never_passed(facts, scope, name) if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
        if value is None:
            continue  # (the loop variable, or a name the evaluator reports as unknown)
        env[name] = value
    return [env]


def _default_never_passed(facts, fn, name: str):
    a = fn.args
    params = [*a.posonlyargs, *a.args]
    names = [p.arg for p in params]
    if name not in names:
        return None
    i = names.index(name)
    first_default = len(params) - len(a.defaults)
    if i < first_default:
        return None
    try:
        value = ast.literal_eval(a.defaults[i - first_default])
    except ValueError:
        return None
    if not (isinstance(value, str) or (isinstance(value, (tuple, list)) and all(isinstance(x, str) for x in value))):
        return None
    for call in facts.walk(ast.Call):
        f = call.func
        if (isinstance(f, ast.Name) and f.id == fn.name) or (isinstance(f, ast.Attribute) and f.attr == fn.name):
            if any(k.arg in (name, None) for k in call.keywords) or len(call.args) > i - (1 if names and names[0] == "self" else 0) or any(isinstance(x, ast.Starred) for x in call.args):
                return None  # (given a value of its own somewhere)
    return tuple(value) if isinstance(value, list) else value


def _collects(body: list) -> bool:
    """Does the block store into a container (``backbone.append(p)``, ``groups[k] += [p]``)?"""
    for st in body:
        for n in ast.walk(st):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("append", "extend", "add", "insert"):
                return True
            if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add):
                return True
    return False


def _collecting_else(branch: ast.If) -> bool:
    """Does the ``if`` / ``elif`` chain end in an ``else`` that collects what the tests let through?"""
    cur = branch
    while len(cur.orelse) == 1 and isinstance(cur.orelse[0], ast.If):
        cur = cur.orelse[0]
    return bool(cur.orelse) and _collects(cur.orelse)


def _fix(facts, arg: ast.AST, texts: list, prefix: str):
    both = []
    for t in texts:
        for s in (t, prefix + t):
            if s not in both:
                both.append(s)
    new = "(" + ", ".join(repr(s) for s in both) + ")"

    def build() -> Optional[Fix]:
        return fix(f"Also accept the wrapped names: `{new}`", replace_node(facts, arg, new), unsafe=True)

    return build


def _selecting_comprehension_tests(scope: ast.AST, never: dict) -> list:
    """The never-true name tests (``never``: id -> event) that a list comprehension of ``scope`` requires of every element it
    keeps, when it keeps the loop's parameters (``[p for n, p in named if n.startswith("alphas")]``): an ``if`` of the
    comprehension, or a conjunct of one."""
    out: list = []
    for comp in walk_nodes(scope):
        if not (isinstance(comp, ast.ListComp) and len(comp.generators) == 1 and isinstance(comp.elt, ast.Name)):
            continue
        gen = comp.generators[0]
        if not (isinstance(gen.target, ast.Tuple) and len(gen.target.elts) == 2 and isinstance(gen.target.elts[1], ast.Name) and gen.target.elts[1].id == comp.elt.id):
            continue
        for test in gen.ifs:
            conjuncts = test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) else [test]
            out.extend(c for c in conjuncts if id(c) in never)
    return out


def _freezes_param(body: list, param: str) -> bool:
    """Does ``body`` switch ``param`` off directly (``param.requires_grad_(False)``, ``param.requires_grad = False``)?"""
    for st in body:
        if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Attribute) and st.value.func.attr == "requires_grad_" \
                and isinstance(st.value.func.value, ast.Name) and st.value.func.value.id == param and st.value.args \
                and isinstance(st.value.args[0], ast.Constant) and st.value.args[0].value is False:
            return True
        if isinstance(st, ast.Assign) and isinstance(st.value, ast.Constant) and st.value.value is False and any(
                isinstance(t, ast.Attribute) and t.attr == "requires_grad" and isinstance(t.value, ast.Name) and t.value.id == param for t in st.targets):
            return True
    return False

