"""GG703 inplace-on-backward-hooked-module: an in-place op on the input or output of a module with a full backward hook."""
from __future__ import annotations

import ast
import re

from gradguard.core.model import Applicability, Severity
from gradguard.fixes import fix, replace_node
from gradguard.rules.base import Example, Rule

_INPLACE_RESET = re.compile(r"\.inplace\s*=\s*False\b")


class InplaceOnBackwardHookedModule(Rule):
    code = "GG703"
    name = "inplace-on-backward-hooked-module"
    summary = "A module has a full backward hook and its input or output is then modified in place: the forward raises."
    severity = Severity.ERROR
    needs = ("register_full_backward",)
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags an in-place operation on the tensor a module with a *full* backward hook
(`register_full_backward_hook`, `register_full_backward_pre_hook`) takes or returns: an in-place activation right
after it (`nn.ReLU(inplace=True)` as the next layer of its `nn.Sequential`, `self.relu` of the same block,
`F.relu(out, inplace=True)`), an augmented assignment to the name its output is bound to (`out += identity`), an
in-place method (`out.relu_()`), or the hooked module itself being an in-place layer. The hooked modules are
followed from the registration: `self.bn1`, `model.block[1]`, a tuple of modules, or a loop over
`model.modules()` / `named_modules()` with an `isinstance` filter.

## Why is this bad?
To call the hook with the gradients of the module's inputs and outputs, torch passes them through a
`BackwardHookFunction` that returns views of them. Autograd forbids modifying such a view in place, so the first
forward in grad mode raises `RuntimeError: Output 0 of BackwardHookFunctionBackward is a view and is being
modified inplace`, and nothing trains. Gradient monitors, Grad-CAM, K-FAC style optimizers and attribution
libraries that hook every `BatchNorm2d` or every `ReLU` of a torchvision-style network (whose activations are
`inplace=True`) hit it (pytorch/pytorch#61519).

## Example
```python
def conv_bn_relu(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

for m in model.modules():
    if isinstance(m, nn.BatchNorm2d):
        m.register_full_backward_hook(log_grad_norm)
```

## Use instead
```python
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())
```
or keep the in-place layers and read gradients with a tensor hook installed by a forward hook
(`output.register_hook(...)`), which adds no view.

## Fix safety
The fix turns the in-place activation out of place (`inplace=True` -> `inplace=False`), or rewrites `out += x` as
`out = out + x`: the same values, one more tensor in memory. A program that sets `m.inplace = False` on its layers
before the forward is not flagged for those layers.
"""
    examples = (
        Example(
            name="grad-norm-monitor-hooks-batchnorm-followed-by-inplace-relu",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn_act(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(conv_bn_act(3, 8), conv_bn_act(8, 8))
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.body(x).mean((2, 3)))


def main():
    torch.manual_seed(0)
    model = SmallNet()
    norms = []
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.register_full_backward_hook(lambda mod, gin, gout: norms.append(gout[0].norm().item()))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = F.cross_entropy(model(torch.randn(4, 3, 8, 8)), torch.tensor([0, 1, 2, 0]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(10,),
            expect={"error": "BackwardHookFunction"},
            fixed_expect={"grad_ok": ["model.head.weight", "model.body.0.0.weight"]},
        ),
        Example(
            name="residual-block-adds-identity-in-place-to-a-hooked-batchnorm",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        out = self.bn(self.conv(x))
        out += x
        return F.relu(out)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 6, 3, padding=1)
        self.block = Block(6)
        self.fc = nn.Linear(6, 2)

    def forward(self, x):
        return self.fc(self.block(self.stem(x)).mean((2, 3)))


def main():
    torch.manual_seed(0)
    net = Net()
    grads = {}
    net.block.bn.register_full_backward_hook(lambda m, gi, go: grads.update(bn=go[0].abs().mean().item()))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss = F.cross_entropy(net(torch.randn(2, 3, 8, 8)), torch.tensor([0, 1]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            lines=(14,),
            expect={"error": "BackwardHookFunction"},
            fixed_expect={"grad_ok": ["net.fc.weight", "net.block.conv.weight", "net.stem.weight"]},
        ),
        Example(
            name="every-module-hooked-including-an-inplace-activation",
            code="""import torch
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 16)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Linear(16, 1)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def train(model, steps=2):
    seen = []
    for m in model.modules():
        m.register_full_backward_hook(lambda mod, gi, go: seen.append(type(mod).__name__))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(steps):
        loss = (model(torch.randn(8, 5)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    torch.manual_seed(0)
    model = MLP()
    train(model)
    return {"model": model}
""",
            lines=(9,),
            expect={"error": "BackwardHookFunction"},
            fixed_expect={"grad_ok": ["model.fc1.weight", "model.fc2.weight"]},
        ),
        Example(
            bad=False,
            name="batchnorm-hooked-with-an-out-of-place-relu",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn_act(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


def main():
    torch.manual_seed(0)
    model = nn.Sequential(conv_bn_act(3, 8), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3))
    norms = []
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.register_full_backward_hook(lambda mod, gin, gout: norms.append(gout[0].norm().item()))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = F.cross_entropy(model(torch.randn(4, 3, 8, 8)), torch.tensor([0, 1, 2, 0]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.0.weight", "model.3.weight"]},
        ),
        Example(
            bad=False,
            name="conv-hooked-its-batchnorm-then-inplace-relu",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 2),
    )
    grads = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.register_full_backward_hook(lambda mod, gi, go: grads.append(go[0].norm().item()))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = F.cross_entropy(model(torch.randn(2, 3, 8, 8)), torch.tensor([0, 1]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.weight", "model.5.weight"]},
        ),
        Example(
            bad=False,
            name="inplace-turned-off-before-hooking-every-relu",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(inplace=True))
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.features(x).mean((2, 3)))


def main():
    torch.manual_seed(0)
    net = Net()
    for m in net.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
            m.register_full_backward_hook(lambda mod, gi, go: (go[0].clamp(min=0.0),))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = F.cross_entropy(net(torch.randn(2, 3, 8, 8)), torch.tensor([0, 1]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.features.0.weight", "net.fc.weight"]},
        ),
        Example(
            bad=False,
            name="tensor-hook-from-a-forward-hook-with-inplace-relu",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.relu(self.bn(self.conv(x))).mean((2, 3)))


def main():
    torch.manual_seed(0)
    net = Net()
    grads = []

    def keep_grad(module, inputs, out):
        out.register_hook(lambda g: grads.append(g.norm().item()))

    net.bn.register_forward_hook(keep_grad)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = F.cross_entropy(net(torch.randn(2, 3, 8, 8)), torch.tensor([0, 1]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.conv.weight", "net.fc.weight"]},
        ),
    )

    def check(self, facts):
        hooks = facts.hooks
        reset = bool(_INPLACE_RESET.search(facts.source.text))
        seen: set = set()
        for reg in hooks.registrations():
            if reg.kind not in ("full_backward", "full_backward_pre"):
                continue
            for layer in reg.layers:
                for node, what in hooks.inplace_writes(layer):
                    if id(node) in seen:
                        continue
                    is_layer = isinstance(node, ast.Call) and hooks.layer_of(node) is not None
                    if is_layer and reset:
                        continue  # (the program turns the in-place flag off at run time)
                    seen.add(id(node))
                    yield self.finding(
                        facts,
                        node,
                        f"`{layer.kind}` has a full backward hook (line {reg.call.lineno}) and {what}: the forward raises "
                        "`Output 0 of BackwardHookFunctionBackward is a view and is being modified inplace`",
                        related=[(reg.call, f"the full backward hook on `{layer.kind}` is registered here"), (layer.ctor, f"the hooked `{layer.kind}` is built here")],
                        fixes=self._fixes(facts, node),
                        explanation="A full backward hook passes the module's input and output tensors through a Function that returns "
                        "views of them; autograd forbids modifying those views in place.",
                    )

    @staticmethod
    def _fixes(facts, node):
        if isinstance(node, ast.Call):
            flag = next((k for k in node.keywords if k.arg == "inplace"), None)
            if flag is not None and isinstance(flag.value, ast.Constant) and flag.value.value is True:
                return [lambda: fix("Use the out-of-place layer (`inplace=False`)", replace_node(facts, flag.value, "False"))]
            return []
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            op = facts.text(node)
            name = node.target.id
            sym = op[len(name):].lstrip().split("=", 1)[0].strip()
            if sym in ("+", "-", "*", "/"):
                return [lambda: fix(f"Write `{name} = {name} {sym} ...` out of place", replace_node(facts, node, f"{name} = {name} {sym} ({facts.text(node.value)})"))]
        return []
