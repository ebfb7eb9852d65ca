"""GG406 grad-input-without-grad: ``torch.autograd.grad(outputs, inputs)`` with an input that does not require grad."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.model import Applicability, Severity
from gradguard.fixes import fix, insert_after_stmt
from gradguard.rules.base import Example, Rule


class GradInputWithoutGrad(Rule):
    code = "GG406"
    name = "grad-input-without-grad"
    summary = "`torch.autograd.grad(outputs, inputs)` is asked for the gradient with respect to a tensor that does not require grad: it raises."
    severity = Severity.ERROR
    needs = ("autograd.grad", "autograd import grad")
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Flags a tensor passed as `inputs` to `torch.autograd.grad` that does not require grad where the call runs: data
(a batch, random numbers), or a value computed only from data and from detached tensors, in grad mode or not. The
usual case is a WGAN-GP gradient penalty whose interpolates mix real samples with the generator's output detached
(`alpha * real + (1 - alpha) * fake.detach()`, `torch.lerp(fake.detach(), real, alpha)`) and are never made to
require grad. Inputs built from a function's arguments are followed where the function is called with known values;
the batch a framework hands its step (`training_step(self, batch, batch_idx)`, the Hugging Face Trainer's
`compute_loss(model, inputs)`) comes from a DataLoader and does not require grad.

## Why is this bad?
`autograd.grad` differentiates the outputs with respect to the given tensors, which must be part of the graph: one
that does not require grad makes the call raise `RuntimeError: One of the differentiated Tensors does not require
grad`, so the step that computes the penalty (or the input gradient) never runs.

## Example
```python
interpolates = alpha * real + (1 - alpha) * fake.detach()
scores = critic(interpolates)
grads = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)[0]
```

## Use instead
```python
interpolates = alpha * real + (1 - alpha) * fake.detach()
interpolates.requires_grad_(True)
```

## Fix safety
The fix makes the tensor require grad right after the assignment that builds it (`x.requires_grad_(True)`), which
is what the call asks for; unsafe because the tensor also takes part in the graph from then on.
"""
    examples = (
        Example(
            name="gradient-penalty-on-interpolates-of-detached-fakes",
            code="""import torch
import torch.nn as nn


def gradient_penalty(critic, real, fake):
    alpha = torch.rand(real.size(0), 1)
    interpolates = alpha * real + (1 - alpha) * fake.detach()
    scores = critic(interpolates)
    grads = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)[0]
    return ((grads.norm(2, dim=1) - 1) ** 2).mean()


def main():
    torch.manual_seed(0)
    gen, critic = nn.Linear(4, 6), nn.Sequential(nn.Linear(6, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    opt = torch.optim.Adam(critic.parameters(), lr=1e-3)
    real, fake = torch.randn(8, 6), gen(torch.randn(8, 4))
    loss = critic(fake.detach()).mean() - critic(real).mean() + 10.0 * gradient_penalty(critic, real, fake)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"critic": critic}
""",
            lines=(7,),
            expect={"error": "does not require grad"},
            fixed_expect={"grad_ok": ["critic.0.weight"]},
        ),
        Example(
            name="input-gradient-of-a-batch-for-a-saliency-penalty",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        x, y = torch.randn(6, 5), torch.randint(0, 2, (6,))
        task = F.cross_entropy(model(x), y)
        (gx,) = torch.autograd.grad(task, x, create_graph=True)
        loss = task + 0.1 * gx.pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(11,),
            expect={"error": "does not require grad"},
            fixed_expect={"grad_ok": ["model.0.weight"]},
        ),
        Example(
            bad=False,
            name="gradient-penalty-on-interpolates-made-to-require-grad",
            code="""import torch
import torch.nn as nn


def gradient_penalty(critic, real, fake):
    alpha = torch.rand(real.size(0), 1)
    interpolates = (alpha * real + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = critic(interpolates)
    grads = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)[0]
    return ((grads.norm(2, dim=1) - 1) ** 2).mean()


def main():
    torch.manual_seed(0)
    gen, critic = nn.Linear(4, 6), nn.Sequential(nn.Linear(6, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    opt = torch.optim.Adam(critic.parameters(), lr=1e-3)
    real, fake = torch.randn(8, 6), gen(torch.randn(8, 4))
    loss = critic(fake.detach()).mean() - critic(real).mean() + 10.0 * gradient_penalty(critic, real, fake)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"critic": critic}
""",
            expect={"grad_ok": ["critic.0.weight"]},
        ),
        Example(
            bad=False,
            name="gradient-with-respect-to-interpolates-of-live-fakes",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    gen, critic = nn.Linear(4, 6), nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 1))
    opt = torch.optim.Adam(gen.parameters(), lr=1e-3)
    real = torch.randn(8, 6)
    mixed = 0.5 * real + 0.5 * gen(torch.randn(8, 4))
    (g,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    loss = g.pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"gen": gen}
""",
            expect={"grad_ok": ["gen.weight"]},
        ),
        Example(
            name="lightning-gradient-penalty-on-batch-interpolates",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def gradient_penalty(critic, real, fake):
    alpha = torch.rand(real.size(0), 1)
    interpolates = alpha * real + (1 - alpha) * fake
    grads = torch.autograd.grad(critic(interpolates).sum(), interpolates, create_graph=True)[0]
    return ((grads.norm(2, dim=1) - 1) ** 2).mean()


class WGAN(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.generator = nn.Linear(4, 6)
        self.critic = nn.Sequential(nn.Linear(6, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_c = self.optimizers()
        fake = self.generator(torch.randn(real.size(0), 4)).detach()
        loss = self.critic(fake).mean() - self.critic(real).mean() + 10.0 * gradient_penalty(self.critic, real, fake)
        opt_c.zero_grad()
        self.manual_backward(loss)
        opt_c.step()

    def configure_optimizers(self):
        return [torch.optim.Adam(self.generator.parameters(), lr=1e-3), torch.optim.Adam(self.critic.parameters(), lr=1e-3)]


def main():
    pl.seed_everything(0)
    model = WGAN()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(TensorDataset(torch.randn(8, 6)), batch_size=4))
    return {"model": model}
""",
            lines=(9,),
            expect={"error": "does not require grad"},
            fixed_expect={"grad_ok": ["model.critic.0.weight"]},
        ),
        Example(
            bad=False,
            name="lightning-gradient-penalty-on-batch-interpolates-made-to-require-grad",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def gradient_penalty(critic, real, fake):
    alpha = torch.rand(real.size(0), 1)
    interpolates = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    grads = torch.autograd.grad(critic(interpolates).sum(), interpolates, create_graph=True)[0]
    return ((grads.norm(2, dim=1) - 1) ** 2).mean()


class WGAN(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.generator = nn.Linear(4, 6)
        self.critic = nn.Sequential(nn.Linear(6, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_c = self.optimizers()
        fake = self.generator(torch.randn(real.size(0), 4)).detach()
        loss = self.critic(fake).mean() - self.critic(real).mean() + 10.0 * gradient_penalty(self.critic, real, fake)
        opt_c.zero_grad()
        self.manual_backward(loss)
        opt_c.step()

    def configure_optimizers(self):
        return [torch.optim.Adam(self.generator.parameters(), lr=1e-3), torch.optim.Adam(self.critic.parameters(), lr=1e-3)]


def main():
    pl.seed_everything(0)
    model = WGAN()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(TensorDataset(torch.randn(8, 6)), batch_size=4))
    return {"model": model}
""",
            expect={"grad_ok": ["model.critic.0.weight"]},
        ),
        Example(
            bad=False,
            name="points-made-a-leaf-in-a-helper-from-its-arguments",
            code="""import torch
import torch.nn as nn


def sample_points(n, t_max=2.0):
    return (t_max * torch.rand(n, 1)).requires_grad_()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    t = sample_points(16)
    u = model(t)
    du = torch.autograd.grad(u.sum(), t, create_graph=True)[0]
    loss = (du + u).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.weight", "model.2.weight"]},
        ),
        Example(
            bad=False,
            name="inputs-captured-by-a-forward-hook-closure",
            code="""import torch
import torch.nn as nn


def layer_grads(model, layer, x):
    store = {}

    def hook(mod, inp, out):
        out.requires_grad_(True)
        store[out.device] = (out,)
        return out.clone()

    handle = layer.register_forward_hook(hook)
    try:
        output = model(x).sum()
    finally:
        handle.remove()
    grad_inputs = tuple(t for dev in store for t in store[dev])
    return torch.autograd.grad(outputs=output, inputs=grad_inputs)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    g = layer_grads(model, model[0], torch.rand(2, 4))
    return {}, {"layer_output_grad_nonzero": bool(g[0].abs().sum() > 0)}
""",
            expect={'facts': {'layer_output_grad_nonzero': True}},
        ),
    )

    def check(self, facts):
        seen: set = set()
        for fl in facts.backward_flows:
            for ev in fl.events:
                if ev.what != "grad_inputs" or ev.value is None or not ev.mode.enabled or id(ev.node) in seen:
                    continue
                call = ev.node
                if not isinstance(call, ast.Call):
                    continue
                expr = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "inputs"), None)
                if expr is None or ev.target is None or not (ev.target.live - {"?"}):
                    continue  # (outputs that do not require grad raise another error, reported elsewhere)
                v = ev.value
                data = _batch_roots(facts, fl)
                pairs = list(zip(expr.elts, v.items)) if isinstance(expr, (ast.List, ast.Tuple)) and v.items is not None and len(v.items) == len(expr.elts) else [(expr, v)]
                for e, item in pairs:
                    if not _never_requires_grad(item, data) or (item.live and _made_to_require_grad(facts, fl, e)):
                        continue
                    if _filled_by_a_closure(facts, fl.node, e):
                        continue  # (what a hook of the function put in a container it reads: the hook's tensors)
                    seen.add(id(call))
                    made = _binding(facts, fl, e)
                    related = [(call, "`torch.autograd.grad` differentiates with respect to it here")]
                    if isinstance(fl.context, ast.Call):
                        related.append((fl.context, "called here with tensors that do not require grad"))
                    fixes = []
                    if made is not None and isinstance(e, ast.Name):
                        fixes.append(lambda made=made, name=e.id: fix(f"Make `{name}` require grad", insert_after_stmt(facts, made, f"{name}.requires_grad_(True)"), unsafe=True))
                    yield self.finding(
                        facts,
                        made or e,
                        f"`{facts.text(e)}` does not require grad (it is computed from data and detached tensors only), and "
                        f"`torch.autograd.grad` at line {call.lineno} differentiates with respect to it: the call raises",
                        related=related,
                        fixes=fixes,
                        explanation="autograd.grad needs every input to be part of the graph: `RuntimeError: One of the differentiated "
                        "Tensors does not require grad`. Call `.requires_grad_(True)` on it before it is used.",
                    )
                    break


def _filled_by_a_closure(facts, scope: ast.AST, expr: ast.AST) -> bool:
    """Is ``expr`` (or what the name ``expr`` is bound to in ``scope``) read from a container that a function nested in
    ``scope`` writes into (``store[key] = (out,)`` in a forward hook the function registers)? Those contents are whatever
    the nested function stores when it runs, which a walk of ``scope`` does not see."""
    if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    nested = [n for n in walk_nodes(scope) if n is not scope and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))]
    if not nested:
        return False
    written = set()
    for fn in nested:
        for n in walk_nodes(fn):
            target = None
            if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store):
                target = n.value
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("append", "extend", "update", "setdefault", "insert", "add"):
                target = n.func.value
            if isinstance(target, ast.Name):
                written.add(target.id)
    if not written:
        return False
    exprs = [expr]
    if isinstance(expr, ast.Name):
        exprs += [b.value for b in facts.semantic.bindings(scope, expr.id) if b.value is not None]
    return any(isinstance(n, ast.Name) and n.id in written for x in exprs for n in walk_nodes(x))


def _never_requires_grad(v, data: frozenset) -> bool:
    """A tensor value known to carry no gradient: no root reaches it alive (but the batch a framework hands its step),
    it is not a leaf that requires grad, and nothing of unknown origin went into it."""
    return v.kind == "tensor" and not v.leaf and all(r.split(".", 1)[0] in data for r in v.live) and v.items is None and v.fields is None


# A framework's step methods and the positions (after ``self``) of the batch it hands them: tensors a DataLoader made,
# which never require grad.
_BATCH_ARGS = {"training_step": (0, 1, 2), "validation_step": (0, 1, 2), "compute_loss": (1,)}


def _batch_roots(facts, fl) -> frozenset:
    """The roots ``arg:N`` of ``fl`` that stand for the batch a framework passes its step method: those of the method
    itself, or (``fl`` a helper walked with the method's values) of the method that calls it."""
    fn = fl.node if fl.context is None else facts.enclosing(fl.context, (ast.FunctionDef, ast.AsyncFunctionDef))
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or fn.name not in _BATCH_ARGS:
        return frozenset()
    cls = facts.enclosing(fn, (ast.ClassDef,))
    info = facts.modules.classes.get(cls.name) if cls is not None else None
    if info is None or info.framework not in ("lightning", "hf_trainer") or (fn.name == "compute_loss") != (info.framework == "hf_trainer"):
        return frozenset()
    return frozenset(f"arg:{i}" for i in _BATCH_ARGS[fn.name])


def _made_to_require_grad(facts, fl, expr: ast.AST) -> bool:
    """Is the name ``expr`` made to require grad in the function (``x = (...).requires_grad_(True)``, ``x.requires_grad_()``,
    ``x.requires_grad = True``)? (The walk keeps a batch's roots on such a value, so it is asked here.)"""
    if not isinstance(expr, ast.Name):
        return False
    for n in walk_nodes(fl.node):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "requires_grad_":
            st = facts.statement_of(n)
            base = n.func.value
            if (isinstance(base, ast.Name) and base.id == expr.id) or (isinstance(st, ast.Assign) and any(isinstance(t, ast.Name) and t.id == expr.id for t in st.targets)):
                return True
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "requires_grad" and isinstance(t.value, ast.Name) and t.value.id == expr.id for t in n.targets):
            return True
    return False


def _binding(facts, fl, expr: ast.AST) -> Optional[ast.stmt]:
    """The one plain assignment of the name ``expr`` in the flow's function, made before the call."""
    if not isinstance(expr, ast.Name) or not isinstance(fl.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        return None
    bs = facts.semantic.bindings(fl.node, expr.id)
    if len(bs) != 1 or bs[0].kind not in ("assign", "annassign") or not isinstance(bs[0].node, ast.stmt):
        return None
    return bs[0].node
