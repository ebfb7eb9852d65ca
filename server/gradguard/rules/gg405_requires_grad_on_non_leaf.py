"""GG405 requires-grad-on-non-leaf: changing the requires_grad flag of a computed tensor (raises)."""
from __future__ import annotations

import ast
import re

from gradguard.core.model import Applicability, Severity
from gradguard.fixes import fix, replace_node
from gradguard.rules._leafs import freezes_anything, inference_branch, is_computing_expr, known_roots, lexically_no_grad, simple_bindings
from gradguard.rules.base import Example, Rule

_SPELLS_REQUIRES_GRAD = re.compile(r"requires_grad|[^\x00-\x7f]")


class RequiresGradOnNonLeaf(Rule):
    code = "GG405"
    name = "requires-grad-on-non-leaf"
    summary = "`y.requires_grad = ...` / `y.requires_grad_(False)` on a computed (non-leaf) tensor raises."
    severity = Severity.ERROR
    needs = ("requires_grad",)
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Flags setting `.requires_grad` (any value) or calling `.requires_grad_(False)` on a variable that is always
bound to the result of a differentiable operation on trainable values (a module output, arithmetic on
parameters or `requires_grad=True` tensors), with gradient recording on. Stays silent when the file
freezes parameters anywhere (the result might then not require grad and be a leaf), for function
arguments, and under `torch.no_grad()`.

## Why is this bad?
Only leaves have a settable flag: `RuntimeError: you can only change requires_grad flags of leaf
variables.` A computed tensor already requires grad because its inputs do.

## Example
```python
h = encoder(x)
h.requires_grad = True         # RuntimeError
```

## Use instead
```python
h = encoder(x)
h.retain_grad()                # to read h.grad after backward()
# or, to stop gradients: h = h.detach()
```

## Fix safety
Unsafe: `requires_grad = True` becomes `retain_grad()` (the usual intent: read the intermediate's
gradient), `requires_grad = False` / `requires_grad_(False)` becomes `y = y.detach()`. Check that this is
what you meant.
"""
    examples = (
        Example(
            name="flag-on-module-output",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    enc = nn.Linear(3, 4)
    h = enc(torch.randn(2, 3))
    h.requires_grad = True
    h.sum().backward()
    return {"enc": enc}
""",
            lines=(9,),
            expect={"error": "you can only change requires_grad flags of leaf variables"},
        ),
        Example(
            name="unflag-computed",
            code="""import torch


def main():
    w = torch.ones(3, requires_grad=True)
    target = w * 2.0
    target.requires_grad_(False)
    loss = ((w - target) ** 2).sum() + w.sum()
    loss.backward()
    return {"w": w}
""",
            lines=(7,),
            expect={"error": "you can only change requires_grad flags of leaf variables"},
        ),
        Example(
            bad=False,
            name="latent-repeated-by-a-size-the-module-computes",
            code="""import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Generator(nn.Module):
    def __init__(self, size=8):
        super().__init__()
        self.log_size = int(math.log(size, 2))
        self.n_latent = self.log_size * 2 - 2
        self.style = nn.Linear(4, 4)
        self.to_img = nn.Linear(4 * self.n_latent, size)

    def forward(self, latents):
        return self.to_img(self.style(latents).flatten(1))


def main():
    torch.manual_seed(0)
    g_ema = Generator()
    g_ema.eval()
    target = torch.randn(2, 8)
    with torch.no_grad():
        latent_mean = g_ema.style(torch.randn(100, 4)).mean(0)
    latent_in = latent_mean.detach().clone().unsqueeze(0).repeat(2, 1)
    latent_in = latent_in.unsqueeze(1).repeat(1, g_ema.n_latent, 1)
    latent_in.requires_grad = True
    optimizer = torch.optim.Adam([latent_in], lr=0.1)
    before = latent_in.detach().clone()
    for _ in range(5):
        loss = F.mse_loss(g_ema(latent_in), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"latent_in": latent_in}, {"latent_changed": not torch.equal(before, latent_in.detach())}
""",
            expect={"grad_ok": ["latent_in"], "facts": {"latent_changed": True}},
        ),
        Example(
            bad=False,
            name="flag-on-detached-and-leaf",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    enc = nn.Linear(3, 4)
    x = torch.randn(2, 3)
    x.requires_grad = True
    h = enc(x).detach()
    h.requires_grad = True
    with torch.no_grad():
        z = enc(x)
    z.requires_grad_(True)
    (h * z * enc(x)).sum().backward()
    return {"x": x, "h": h, "enc": enc}
""",
            expect={"grad_ok": ["x", "h", "enc.weight"]},
        ),
    )

    def check(self, facts):
        # the events below come from `x.requires_grad = ...` (a stored attribute) and `x.requires_grad_(...)`:
        # without either, skip the flow analysis of every function
        if "requires_grad_" not in facts.source.text and not facts.stores_attribute("requires_grad"):
            return
        # and the engine records them in the flow of the function (or module) whose code holds that statement: only
        # the functions whose lines spell requires_grad are walked (or hold a non-ASCII character: Python reads
        # identifiers NFKC-normalized, so one may be spelled otherwise than the tree has it)
        seen = set()
        for fl in facts.flows_matching(_SPELLS_REQUIRES_GRAD):
            for ev in fl.events:
                if id(ev.node) in seen:
                    continue
                if ev.what == "requires_grad_set" and ev.name == "requires_grad":
                    node = ev.node  # the Attribute target
                    recv = node.value
                elif ev.what == "requires_grad_call" and ev.extra == "False":
                    node = ev.node
                    recv = node.func.value
                else:
                    continue
                if not isinstance(recv, ast.Name):
                    continue
                v = ev.target
                if v is None or v.leaf or v.ident is not None or v.kind != "tensor" or not known_roots(v) or not ev.mode.enabled:
                    continue
                if lexically_no_grad(facts, node) or inference_branch(facts, node) or freezes_anything(facts, exclude=node):
                    continue
                binds = simple_bindings(facts, fl, recv.id)
                if not binds or not all(is_computing_expr(facts, fl, b.value) for b in binds):
                    continue
                seen.add(id(node))
                fixes = []
                st = ev.stmt
                name = recv.id
                if ev.what == "requires_grad_set" and isinstance(st, ast.Assign) and len(st.targets) == 1:
                    val = st.value
                    if isinstance(val, ast.Constant) and val.value is True:
                        fixes.append(lambda s=st, n=name: fix("Keep the intermediate's gradient with retain_grad()", replace_node(facts, s, f"{n}.retain_grad()"), unsafe=True))
                    elif isinstance(val, ast.Constant) and val.value is False:
                        fixes.append(lambda s=st, n=name: fix("Detach instead", replace_node(facts, s, f"{n} = {n}.detach()"), unsafe=True))
                elif ev.what == "requires_grad_call" and isinstance(st, ast.Expr) and st.value is node:
                    fixes.append(lambda s=st, n=name: fix("Detach instead", replace_node(facts, s, f"{n} = {n}.detach()"), unsafe=True))
                yield self.finding(
                    facts,
                    node,
                    f"`{name}` is computed from trainable values (not a leaf): changing its requires_grad flag raises",
                    fixes=fixes,
                    explanation="RuntimeError: you can only change requires_grad flags of leaf variables.",
                )
