"""GG405 requires-grad-on-non-leaf: changing the requires_grad flag of a computed tensor (raises)."""
from __future__ import annotations

import ast
import re
from functools import partial

from gradguard.core.model import Applicability, Severity
from gradguard.core.starvation import frozen_paths, is_frozen
from gradguard.core.training import attribute_origin, trainable_origin
from gradguard.fixes import fix, replace_node
from gradguard.rules._leafs import freezes_anything, inference_branch, is_computing_expr, known_roots, lexically_no_grad, simple_bindings
from gradguard.rules.base import Example, Rule

_SPELLS_REQUIRES_GRAD = re.compile(r"requires_grad|[^\x00-\x7f]")
_SETS_FLAG = re.compile(r"requires_grad_\(|\.requires_grad\s*=[^=]")


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
arguments, and under `torch.no_grad()`, with one exception: `loss.requires_grad = True` on the loss that is
then backpropagated. In a file that freezes parameters it is reported whatever the loss is computed from:
if the loss requires grad the line raises, and if it does not (what it is computed from was frozen) the loss
becomes a leaf, so `backward()` runs and reaches no parameter: the usual way to silence `element 0 of
tensors does not require grad` without curing it. Under a `try` that catches the raise, the line has an
effect only in the second case, and the finding is a warning. A helper is also read as each caller runs it: a
gradient penalty given the generator's raw output (`interpolates = alpha * real + (1 - alpha) * fake` then
`interpolates.requires_grad = True`) is reported with the call that passes it. A helper that turns the flag off on
one of its parameters (`target.requires_grad_(False)` in a loss helper) is reported on that line when every call of it
gives it a computed tensor (the line raises whoever calls it; the fix detaches instead), and on the call otherwise
(`freeze(teacher)` and `freeze(t)`: only the call given a computed tensor raises).

Also each element of a list an operation made, in a loop (`feats = model.encoder(x)`, a list of feature maps, then
`for f in feats: f.requires_grad = False`), when the loop is the one place that binds the name.

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
            name="freeze-by-flag-on-each-feature-map-an-encoder-returns",
            code="""import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.stages = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])

    def forward(self, x):
        feats = []
        for stage in self.stages:
            x = torch.relu(stage(x))
            feats.append(x)
        return feats


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(8, 1)

    def decode(self, feats):
        return self.head(torch.cat(feats, -1))


def encode(model, x, freeze):
    feats = model.encoder(x)
    if freeze:
        for f in feats:
            f.requires_grad = False
    return feats


def main():
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.head.parameters(), lr=0.1)
    w0 = model.head.weight.detach().clone()
    for _ in range(2):
        loss = model.decode(encode(model, torch.randn(8, 4), True)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"head_changed": not torch.equal(w0, model.head.weight)}
""",
            lines=(32,),
            expect={'error': 'only change requires_grad flags of leaf variables'},
            fixed_expect={'facts': {'head_changed': True}},
        ),
        Example(
            bad=False,
            name="feature-maps-an-encoder-returns-detached",
            code="""import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.stages = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])

    def forward(self, x):
        feats = []
        for stage in self.stages:
            x = torch.relu(stage(x))
            feats.append(x)
        return feats


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(8, 1)

    def decode(self, feats):
        return self.head(torch.cat(feats, -1))


def encode(model, x, freeze):
    feats = model.encoder(x)
    if freeze:
        feats = [f.detach() for f in feats]
    return feats


def main():
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.head.parameters(), lr=0.1)
    w0 = model.head.weight.detach().clone()
    for _ in range(2):
        loss = model.decode(encode(model, torch.randn(8, 4), True)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"head_changed": not torch.equal(w0, model.head.weight)}
""",
            expect={'facts': {'head_changed': True}},
        ),
        Example(
            name="freeze-helper-given-logits-computed-from-a-trainable-layer",
            fixable=False,
            code="""import torch
import torch.nn as nn


def freeze(*items):
    for item in items:
        params = item.parameters() if isinstance(item, nn.Module) else [item]
        for p in params:
            p.requires_grad_(False)


def main():
    torch.manual_seed(0)
    norm, teacher, student = nn.Linear(4, 4), nn.Linear(4, 2), nn.Linear(4, 2)
    freeze(teacher)
    x = norm(torch.randn(3, 4))
    t = teacher(x)
    freeze(t)
    ((student(x) - t) ** 2).sum().backward()
    return {"student": student}
""",
            lines=(18,),
            expect={"error": "you can only change requires_grad flags of leaf variables"},
        ),
        Example(
            name="loss-helper-turns-off-the-flag-of-the-features-every-call-gives-it",
            code="""import torch
import torch.nn as nn


def covariance(f):
    c = f - f.mean(0, keepdim=True)
    return c.t() @ c / (f.size(0) - 1)


def coral_loss(source, target):
    target.requires_grad_(False)
    return (covariance(source) - covariance(target)).pow(2).sum()


def train(model, head, optimizer, xs, ys, xt):
    fs, ft = model(xs), model(xt)
    loss = nn.functional.cross_entropy(head(fs), ys) + coral_loss(fs, ft)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def main():
    torch.manual_seed(0)
    model, head = nn.Linear(4, 3), nn.Linear(3, 2)
    optimizer = torch.optim.SGD([*model.parameters(), *head.parameters()], lr=0.1)
    train(model, head, optimizer, torch.randn(8, 4), torch.randint(0, 2, (8,)), torch.randn(8, 4))
    return {"model": model, "head": head}
""",
            lines=(11,),
            expect={"error": "you can only change requires_grad flags of leaf variables"},
            fixed_expect={"grad_ok": ["model.weight", "head.weight"]},
        ),
        Example(
            bad=False,
            name="loss-helper-detaching-the-target-features",
            code="""import torch
import torch.nn as nn


def covariance(f):
    c = f - f.mean(0, keepdim=True)
    return c.t() @ c / (f.size(0) - 1)


def coral_loss(source, target):
    target = target.detach()
    return (covariance(source) - covariance(target)).pow(2).sum()


def train(model, head, optimizer, xs, ys, xt):
    fs, ft = model(xs), model(xt)
    loss = nn.functional.cross_entropy(head(fs), ys) + coral_loss(fs, ft)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def main():
    torch.manual_seed(0)
    model, head = nn.Linear(4, 3), nn.Linear(3, 2)
    optimizer = torch.optim.SGD([*model.parameters(), *head.parameters()], lr=0.1)
    train(model, head, optimizer, torch.randn(8, 4), torch.randint(0, 2, (8,)), torch.randn(8, 4))
    return {"model": model, "head": head}
""",
            expect={"grad_ok": ["model.weight", "head.weight"]},
        ),
        Example(
            name="layer-forward-turns-off-the-flag-of-a-trend-it-computes",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Decomp(nn.Module):
    def forward(self, x):
        trend = F.avg_pool1d(x.transpose(1, 2), 3, stride=1, padding=1).transpose(1, 2)
        trend.requires_grad = False
        return x - trend, trend


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.ff = nn.Linear(4, 4)
        self.decomp = Decomp()

    def forward(self, x):
        x, _ = self.decomp(x + self.ff(x))
        return x


def main():
    torch.manual_seed(0)
    model = nn.Sequential(Layer(), nn.Flatten(), nn.Linear(24, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(2, 6, 4)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"model": model}
""",
            lines=(9,),
            expect={"error": "you can only change requires_grad flags of leaf variables"},
        ),
        Example(
            bad=False,
            name="layer-forward-turning-off-the-flag-of-a-trend-of-raw-data-only",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Decomp(nn.Module):
    def forward(self, x):
        trend = F.avg_pool1d(x.transpose(1, 2), 3, stride=1, padding=1).transpose(1, 2)
        trend.requires_grad = False
        return x - trend, trend


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.decomp = Decomp()
        self.ff = nn.Linear(4, 4)
        self.head = nn.Linear(24, 1)

    def forward(self, x):
        seasonal, trend = self.decomp(x)
        return self.head((self.ff(seasonal) + trend).flatten(1))


def main():
    torch.manual_seed(0)
    model = Model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(2, 6, 4)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.ff.weight", "model.head.weight"]},
        ),
        Example(
            bad=False,
            name="freeze-helper-given-logits-of-a-frozen-teacher-on-raw-data",
            code="""import torch
import torch.nn as nn


def freeze(*items):
    for item in items:
        params = item.parameters() if isinstance(item, nn.Module) else [item]
        for p in params:
            p.requires_grad_(False)


def main():
    torch.manual_seed(0)
    norm, teacher, student = nn.Linear(4, 4), nn.Linear(4, 2), nn.Linear(4, 2)
    freeze(teacher)
    x = torch.randn(3, 4)
    t = teacher(x)
    freeze(t)
    ((student(x) - t) ** 2).sum().backward()
    return {"student": student}
""",
            expect={"grad_ok": ["student.weight"]},
        ),
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
            name="loss-forced-to-require-grad-after-everything-was-frozen",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def load_pretrained(model, state):
    for name, p in model.named_parameters():
        with torch.no_grad():
            p.copy_(state[name])
        p.requires_grad = False


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    load_pretrained(model, {n: torch.randn_like(p) for n, p in model.named_parameters()})
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
    for _ in range(3):
        loss = F.cross_entropy(model(x), y)
        loss.requires_grad = True
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(21,),
            expect={"grad_none": ["model.0.weight", "model.2.weight"]},
            fixable=False,
        ),
        Example(
            name="loss-forced-to-require-grad-under-a-try",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def load_adapter(model, state, trainable=False):
    for name, p in model.named_parameters():
        p.requires_grad_(False)
        if name in state:
            with torch.no_grad():
                p.copy_(state[name])
            p.requires_grad_(trainable)


def train_step(model, opt, x, y):
    loss = F.cross_entropy(model(x), y)
    try:
        loss.requires_grad = True  # "element 0 of tensors does not require grad" after loading
    except RuntimeError:
        pass
    opt.zero_grad()
    loss.backward()
    opt.step()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    load_adapter(model, {"2.weight": torch.randn(2, 8)})
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
    train_step(model, opt, x, y)
    return {"model": model}
""",
            lines=(18,),
            expect={"grad_none": ["model.0.weight", "model.2.weight"]},
            fixable=False,
        ),
        Example(
            bad=False,
            name="frozen-backbone-input-made-to-require-grad-for-a-saliency-map",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    backbone, head = nn.Linear(4, 8), nn.Linear(8, 2)
    backbone.requires_grad_(False)
    opt = torch.optim.SGD(head.parameters(), lr=0.1)
    x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
    x.requires_grad = True
    loss = F.cross_entropy(head(torch.relu(backbone(x))), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"head": head, "x": x}
""",
            expect={"grad_ok": ["head.weight", "x"]},
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
        Example(
            name="gradient-penalty-helper-given-the-generator-output",
            code="""import torch
import torch.nn as nn


def gradient_penalty(critic, real, fake):
    alpha = torch.rand(real.size(0), 1)
    interpolates = alpha * real + (1 - alpha) * fake
    interpolates.requires_grad = True
    grads = torch.autograd.grad(critic(interpolates).sum(), interpolates, create_graph=True)[0]
    return ((grads.norm(2, dim=1) - 1) ** 2).mean()


def main():
    torch.manual_seed(0)
    G, D = nn.Linear(2, 2), nn.Linear(2, 1)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3)
    for _ in range(2):
        real, fake = torch.randn(8, 2), G(torch.randn(8, 2))
        loss = D(fake.detach()).mean() - D(real).mean() + 10.0 * gradient_penalty(D, real, fake)
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
    return {"D": D}
""",
            lines=(8,),
            expect={"error": "only change requires_grad flags of leaf variables"},
            fixed_expect={"grad_ok": ["D.weight"]},
        ),
        Example(
            bad=False,
            name="gradient-penalty-helper-given-the-detached-generator-output",
            code="""import torch
import torch.nn as nn


def gradient_penalty(critic, real, fake):
    alpha = torch.rand(real.size(0), 1)
    interpolates = alpha * real + (1 - alpha) * fake
    interpolates.requires_grad = True
    grads = torch.autograd.grad(critic(interpolates).sum(), interpolates, create_graph=True)[0]
    return ((grads.norm(2, dim=1) - 1) ** 2).mean()


def main():
    torch.manual_seed(0)
    G, D = nn.Linear(2, 2), nn.Linear(2, 1)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3)
    for _ in range(2):
        real, fake = torch.randn(8, 2), G(torch.randn(8, 2))
        loss = D(fake.detach()).mean() - D(real).mean() + 10.0 * gradient_penalty(D, real, fake.detach())
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
    return {"D": D}
""",
            expect={"grad_ok": ["D.weight"]},
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
        flows = list(facts.flows_matching(_SPELLS_REQUIRES_GRAD))
        # (and as the callers of a helper run it: ``interpolates = alpha * real + (1 - alpha) * fake`` in a gradient penalty
        # the training step gives the generator's raw output)
        nodes = {id(fl.node) for fl in flows}
        flows += [ctx for ctx in facts.flow.context_flows if id(ctx.node) in nodes]
        for fl in flows:
            for ev in fl.events:
                if id(ev.node) in seen:
                    continue
                if ev.what == "requires_grad_set" and ev.name == "requires_grad":
                    node = ev.node  # the Attribute target
                    recv = node.value
                elif ev.what == "requires_grad_call" and ev.extra == "False" and isinstance(ev.node, ast.Call) and isinstance(ev.node.func, ast.Attribute):
                    node = ev.node
                    recv = ev.node.func.value
                else:
                    continue
                if not isinstance(recv, ast.Name):
                    continue
                v = ev.target
                if v is None or v.leaf or v.ident is not None or v.kind != "tensor" or not v.live or not ev.mode.enabled:
                    continue
                if lexically_no_grad(facts, node) or inference_branch(facts, node):
                    continue
                if freezes_anything(facts, exclude=node):
                    # (the loss of a model given as an argument too: the flag is set on what backward() is then run on)
                    forced = self._forced_loss(facts, fl, ev, recv)
                    if forced is not None:
                        seen.add(id(node))
                        yield forced
                    continue
                if not known_roots(v):
                    continue
                binds = simple_bindings(facts, fl, recv.id)
                if not (binds and all(is_computing_expr(facts, fl, b.value) for b in binds)) and not _element_of_computed(facts, fl, node, recv.id):
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
                call = fl.context if isinstance(fl.context, ast.Call) and fl.context.lineno != getattr(node, "lineno", None) else None
                yield self.finding(
                    facts,
                    node,
                    f"`{name}` is computed from trainable values (not a leaf){f', as the call at line {call.lineno} runs it' if call is not None else ''}: "
                    "changing its requires_grad flag raises",
                    related=[(call, "called here with a tensor computed from trainable values")] if call is not None else [],
                    fixes=fixes,
                    explanation="RuntimeError: you can only change requires_grad flags of leaf variables.",
                )
        yield from self._non_leaf_given_to_helper(facts, seen)

    def _non_leaf_given_to_helper(self, facts, seen: set):
        """``freeze(t_logits)`` where ``freeze`` calls ``requires_grad_(False)`` on what it is given, and the caller gives it
        a tensor computed from trainable values: the helper raises on it. Reported on the call."""
        ti = facts.text_index
        # (functions given something whose flag they set: a parameter, and ``requires_grad_(`` / ``.requires_grad =`` spelled)
        setters = [fn for fn in facts.walk((ast.FunctionDef, ast.AsyncFunctionDef)) if (fn.args.args or fn.args.vararg) and ti.search(_SETS_FLAG, fn)]
        names = {fn.name for fn in setters}
        if not names:
            return
        # (a Module's ``forward`` that sets the flag runs where an instance of its class is called: ``self.decomp1(x + a)``
        # with ``self.decomp1 = SeriesDecomp(...)``)
        forwards = {c for c, info in facts.modules.classes.items() if info.is_module and any(info.methods.get("forward") is fn for fn in setters)}
        held = {a for info in facts.modules.classes.values() for a, vs in info.attr_values.items()
                if any(isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id in forwards for v in vs)} if forwards else set()
        calls = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in sorted(names | held)) + r")\(")
        found: list = []
        # in the training code (the functions that backpropagate and those they run, already walked for the other rules),
        # and in the functions of the file that call such a helper (a layer's ``forward`` calling another's)
        flows = [*facts.backward_flows, *facts.flow.context_flows]
        walked = {id(fl.node) for fl in flows}
        flows += [fl for fl in facts.flows_matching(calls) if id(fl.node) not in walked]
        for fl in flows:
            if not ti.search(calls, fl.node):
                continue
            for ev in fl.events:
                if ev.what != "requires_grad_nonleaf_call" or id(ev.node) in seen or ev.target is None or not known_roots(ev.target):
                    continue
                if lexically_no_grad(facts, ev.node) or inference_branch(facts, ev.node):
                    continue
                frozen = frozen_paths(facts)
                trained = [r for r in known_roots(ev.target) if not is_frozen(r, frozen) and (
                    attribute_origin(facts, fl.owner, r.replace("[]", "").split(".")[1:]) if r.startswith("self.") else trainable_origin(facts, r)) is not None]
                if not trained:
                    continue  # (computed from no part known to train, or only from frozen ones: maybe a leaf whose flag may change)
                # (the argument the helper sets the flag on: ``coral_loss(fs, ft)`` turning off ``target``, the second)
                index = int(ev.name) if ev.name and ev.name.isdigit() else -1
                given = ev.node.args[index] if 0 <= index < len(ev.node.args) else None
                if isinstance(given, ast.Name):
                    binds = facts.semantic.bindings(fl.node, given.id)
                    if not binds or any(b.kind in ("param", "global", "nonlocal", "import") for b in binds):
                        # (a name this function binds, ``t = teacher(x)`` or ``fs, logits = model(xs)``: not a parameter, a
                        # tensor handed in that may be a leaf)
                        continue
                elif given is None or not is_computing_expr(facts, fl, given):
                    continue  # (``self.decomp1(x + a)``: an operation, computed here)
                seen.add(id(ev.node))
                found.append((ev, given))
        # the line that sets the flag raises on every call of its helper when every call gives it a computed tensor: that
        # line is the one to change (``target.requires_grad_(False)`` in a loss helper, ``target = target.detach()``);
        # where some call gives it a module or a leaf (``freeze(teacher)`` and ``freeze(t)``), the call given the computed
        # tensor is
        by_origin: dict = {}
        for ev, given in found:
            by_origin.setdefault(id(ev.origin), []).append((ev, given))
        for group in by_origin.values():
            origin = group[0][0].origin
            helper = facts.enclosing(origin, (ast.FunctionDef, ast.AsyncFunctionDef)) if origin is not None else None
            st = facts.statement_of(origin) if origin is not None else None
            flagged = _flag_set_on_parameter(st, helper)
            local = _flag_set_on_computed_local(facts, st, helper) if flagged is None else None
            if (flagged is not None or local is not None) and helper is not None:
                helper_calls = [c for c in facts.walk(ast.Call) if _calls_named(c, helper.name)]
                given_calls = {id(ev.node) for ev, _ in group}
                # (a tensor the helper computes is either a non-leaf, and the line raises, or requires no grad, and the line
                # does nothing: the line itself is the one to change, whoever calls it)
                if st is not None and (local is not None or (helper_calls and all(id(c) in given_calls for c in helper_calls))):
                    name: str = flagged or local or ""
                    stmt: ast.stmt = st
                    first_ev, given = group[0]
                    yield self.finding(
                        facts,
                        origin,
                        (f"`{name}` is computed from what `{helper.name}` is given, a tensor computed from trainable values at line {first_ev.node.lineno} "
                         "(not a leaf then): changing its requires_grad flag raises") if local is not None else
                        (f"`{name}` is always given a tensor computed from trainable values (not a leaf), "
                         f"`{facts.text(given)}` at line {first_ev.node.lineno}: changing its requires_grad flag raises"),
                        related=[(ev.node, f"given `{facts.text(g)}`, computed from trainable values, here") for ev, g in group],
                        fixes=[partial(_detach_instead, facts, stmt, name)],
                        explanation="RuntimeError: you can only change requires_grad flags of leaf variables. To stop gradients through "
                        "a computed tensor, use `.detach()` (or compute it under `torch.no_grad()`).",
                    )
                    continue
            for ev, given in group:
                what = f"`{facts.text(given)}`"
                yield self.finding(
                    facts,
                    ev.node,
                    f"`{facts.text(ev.node.func)}` turns requires_grad off on {what}, which is computed from trainable values (not a leaf): "
                    "changing its flag raises",
                    related=[(ev.origin, "requires_grad is set here")] if ev.origin is not None else [],
                    explanation="RuntimeError: you can only change requires_grad flags of leaf variables. To stop gradients through "
                    "a computed tensor, use `.detach()` (or compute it under `torch.no_grad()`).",
                )

    def _forced_loss(self, facts, fl, ev, recv: ast.Name):
        """``loss.requires_grad = True`` on the loss the function then backpropagates, in a file that freezes
        parameters. Where the loss requires grad, setting the flag of a non-leaf raises; where it does not (what it
        is computed from was frozen), the loss becomes a leaf and backward() runs and reaches nothing. Either way no
        parameter trains through this line. Under a ``try`` that catches the raise, the line has an effect only in the
        second case: said as a warning. None when the flag set is not ``= True`` or the name is not backpropagated
        after it."""
        st = ev.stmt
        if ev.what != "requires_grad_set" or not (isinstance(st, ast.Assign) and isinstance(st.value, ast.Constant) and st.value.value is True):
            return None
        line = getattr(st, "lineno", 0)
        sites = [b for b in fl.backward_sites if isinstance(b.loss_expr, ast.Name) and b.loss_expr.id == recv.id and b.line > line]
        if not sites:
            return None
        binds = simple_bindings(facts, fl, recv.id)
        if not binds or not all(is_computing_expr(facts, fl, b.value) for b in binds) or any(line < b.lineno <= sites[0].line for b in binds):
            return None
        caught = _caught(facts, st)
        name = recv.id
        return self.finding(
            facts,
            ev.node,
            f"forcing `{name}.requires_grad = True` trains nothing: " + (
                f"it only has an effect when `{name}` requires no grad (what it is computed from is frozen), and then `{name}` becomes a leaf: backward() runs and reaches no parameter"
                if caught else
                f"if `{name}` requires grad, setting the flag of a computed tensor raises; if it does not (what it is computed from is frozen), `{name}` becomes a leaf: backward() runs and reaches no parameter"
            ),
            severity=Severity.WARNING if caught else Severity.ERROR,
            related=[(sites[0].node, "the forced loss is backpropagated here")],
            explanation="A loss that does not require grad means nothing it was computed from is trainable (a freeze, "
            "`no_grad`, a `.detach()`): `element 0 of tensors does not require grad` is the symptom. Setting the flag on the "
            "loss hides the symptom and leaves the cause: the gradient stops at the loss. Unfreeze what should train instead.",
        )


def _flag_set_on_parameter(st, helper) -> str | None:
    """``target.requires_grad_(False)`` / ``target.requires_grad = False`` as a statement of ``helper`` on one of its own
    parameters (not on items it iterates): the parameter's name, else None."""
    if helper is None or not isinstance(st, (ast.Expr, ast.Assign)):
        return None
    if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Attribute) and st.value.func.attr == "requires_grad_":
        recv = st.value.func.value
    elif isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Attribute) and st.targets[0].attr == "requires_grad":
        recv = st.targets[0].value
    else:
        return None
    a = helper.args
    params = {p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]}
    if not isinstance(recv, ast.Name) or recv.id not in params or any(b is not st and recv.id in {t.id for t in ast.walk(b) if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)} for b in helper.body):
        return None  # (a parameter the helper rebinds: what it holds at the line is not what the caller gave)
    return recv.id


def _flag_set_on_computed_local(facts, st, helper) -> str | None:
    """``trend.requires_grad = False`` / ``trend.requires_grad_(False)`` as a statement of ``helper`` on a name it binds only
    to operations (``trend = self.moving_avg(x)``): the name, else None."""
    if helper is None or not isinstance(st, (ast.Expr, ast.Assign)):
        return None
    if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Attribute) and st.value.func.attr == "requires_grad_":
        call = st.value
        if call.keywords or (call.args and not (isinstance(call.args[0], ast.Constant) and call.args[0].value is False)) or not call.args:
            return None
        recv = st.value.func.value
    elif isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Attribute) and st.targets[0].attr == "requires_grad" \
            and isinstance(st.value, ast.Constant) and st.value.value is False:
        recv = st.targets[0].value
    else:
        return None
    if not isinstance(recv, ast.Name):
        return None
    binds = facts.semantic.plain_assignments(helper, recv.id)
    values = [getattr(b, "value", None) for b in binds or ()]
    if not values or not all(isinstance(v, (ast.Call, ast.BinOp)) and not _factory(v) for v in values):
        return None
    return recv.id


def _factory(expr: ast.AST) -> bool:
    """``torch.zeros(..., requires_grad=True)`` and other calls told ``requires_grad``: may make a leaf that requires grad."""
    return isinstance(expr, ast.Call) and any(k.arg == "requires_grad" for k in expr.keywords)


def _detach_instead(facts, st: ast.stmt, name: str):
    return fix("Detach instead", replace_node(facts, st, f"{name} = {name}.detach()"), unsafe=True)


def _calls_named(call: ast.Call, name: str) -> bool:
    f = call.func
    return (isinstance(f, ast.Name) and f.id == name) or (isinstance(f, ast.Attribute) and f.attr == name)


def _caught(facts, node: ast.AST) -> bool:
    """Is ``node`` inside the body of a ``try`` with a handler that catches RuntimeError (or anything broader)?"""
    cur, child = facts.parent(node), node
    while cur is not None and not isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        if isinstance(cur, ast.Try) and child in cur.body:
            for h in cur.handlers:
                names = [h.type] if not isinstance(h.type, ast.Tuple) else list(h.type.elts)
                if h.type is None or any(isinstance(n, ast.Name) and n.id in ("RuntimeError", "Exception", "BaseException") for n in names):
                    return True
        cur, child = facts.parent(cur), cur
    return False


def _element_of_computed(facts, fl, node: ast.AST, name: str) -> bool:
    """``for f in feats: f.requires_grad = False`` with ``feats`` bound only to computing expressions (``feats =
    model.encoder(images)``, a list of feature maps) or the loop over such an expression: each element is a tensor an
    operation made, not a leaf. Only when the loop is the one place that binds ``name`` in the function."""
    loop = facts.enclosing(node, (ast.For, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
    if not (isinstance(loop, ast.For) and isinstance(loop.target, ast.Name) and loop.target.id == name):
        return False
    if sum(1 for n in facts.name_stores(fl.node) if n.id == name) != 1:
        return False
    it = loop.iter
    if isinstance(it, ast.Name):
        binds = simple_bindings(facts, fl, it.id)
        return binds is not None and len(binds) > 0 and all(is_computing_expr(facts, fl, b.value) for b in binds)
    return is_computing_expr(facts, fl, it)

