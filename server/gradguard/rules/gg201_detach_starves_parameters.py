"""GG201 detach-starves-parameters: a ``.detach()`` / ``.data`` on the only path from parameters to a loss."""
from __future__ import annotations

import ast

from gradguard.core.model import Applicability, Severity
from gradguard.core.source import Pos
from gradguard.core.starvation import find_starvations
from gradguard.core.torchapi import LOSS_SINK_WORDS
from gradguard.fixes import delete_between, delete_method_call, fix, replace_node
from gradguard.rules._cuts import cut_findings, roots_label, sole_cut
from gradguard.rules.base import Example, Rule


class DetachStarvesParameters(Rule):
    code = "GG201"
    name = "detach-starves-parameters"
    summary = "`.detach()` or `.data` cuts the only gradient path from trained parameters to a backpropagated loss."
    severity = Severity.WARNING
    needs = LOSS_SINK_WORDS
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Follows values from parameters, modules and `requires_grad=True` tensors to each loss that is
backpropagated, and flags a `.detach()` (or `.data`, also an assignment `w.data = f(m)`, which gives `w` the values
of `f(m)` but none of its graph, also into a layer's weight that the layer's call then uses: `self.conv.weight.data =
self.kernel_gen(t)`, then `self.conv(x)`) when some parameters reach that loss *only*
through it, and an optimizer steps them (or, with no optimizer in sight, they were created right there and something may want their gradient: a
tensor whose `.grad` is read, or that is returned or stored; a unit test's input copied into fresh leaves with
`.clone().detach().requires_grad_()` to compare gradients is not reported, nor is a tensor whose `.grad` the function
sets itself, `x1.grad = torch.cat([c.grad for c in chunks])` after a backward per detached chunk). A layer put into a
frozen model after the freeze (`model.requires_grad_(False)`, then `model.mid = LoRALinear(model.mid)`) holds new
parameters that require grad, and a name filter over the model's parameters (`"lora_" in n`) is not decided for it:
`self.lora_up.data @ self.lora_down` in its forward starves `lora_up`.
A detach that runs only when a flag parameter is true (`if detach: h = h.detach()` in `forward(self, x, detach=False)`)
is reported where a call on the path to the loss turns the flag on (`critic(obs, act, detach_encoder=True)`, passed on
as `self.encoder(obs, detach=detach_encoder)`), since that call is what to change; a call that turns it on for a loss
whose optimizer does not hold those parameters (a linear probe's `encoder(x, detach=True)`) is the flag's purpose and
is not reported.
Intentional detaches stay silent: values that never reach the backpropagated loss (logging, metrics),
GAN `netD(fake.detach())` when the generator trains through another loss (the same detached fake reused for the
generator's loss is reported, also in a trainer object's method, `GANTrainer(G, D, opt_g, opt_d).step(real)`, whose
constructor keeps the modules and optimizers the caller gives it), stop-gradient designs
(SimSiam, straight-through estimators, `loss + (s - s.detach())`), targets, and anything under `no_grad`.
`torch.func.functional_call(model, params, args)` runs the model with the tensors of `params` in place of its own:
when `params` is built from every parameter of the model, the loss reaches the model only through what `params`
carries, so fast weights cloned with `p.detach().clone().requires_grad_()` (MAML) starve the meta-parameters.

A forward hook whose every `return` gives `None` or a value made from `output.data` / `output.detach()` replaces the
hooked part's output with a tensor off the graph (torch uses a hook's return value as the output): the part and everything
before it get no gradient through it. The part is found through `self.<part>.register_forward_hook(h)`, `model.<part>` of
a model built in the same function, or `getattr(net, name)` in a helper whose every call passes a part holder and a
constant name (a literal, or a constructor default never passed); the hook may be a function, a method, a lambda or an
object with `__call__`.

Layers a helper swaps in after the model is built (`blk.proj = LoRALinear(blk.proj)` in a loop over `net.blocks`, or
`setattr(blk, "proj", LoRALinear(blk.proj))` with a constant name,
also in a helper that returns the model it was given: `model = add_adapters(Net())`) are followed like the model's own:
a `.data` in the adapter's `forward` (an update `B @ A` built from `lora_B.weight.data`) starves the adapter's
parameters. The adapter's own parameters are made when it is swapped in, so a freeze of the model before the swap does
not cover them.

A straight-through estimator (`z_q = z + (q - z).detach()`: the value of `q`, the gradient of `z`) passes no gradient to
what `q` came from. When that is all that stands between such parameters (a VQ codebook) and the loss, and a loss term
compares the estimator's output with a detached copy of its input (`codebook_loss = F.mse_loss(z_q, z.detach())`, also
with the estimator in another method), the term is reported: it was meant to move `q` and moves `z`; compute it on `q`.
The estimator's own `.detach()` is never offered for removal (without it, `z` loses its gradient).

## Why is this bad?
`detach()` returns a tensor with no history. Everything upstream of it gets no gradient from this loss:
their `.grad` stays `None` and the optimizer leaves them at their initial values, silently. When nothing
else in the loss requires grad, `backward()` raises
`element 0 of tensors does not require grad and does not have a grad_fn`.

## Example
```python
feats = encoder(x)
logits = head(feats.detach())
loss = F.cross_entropy(logits, y)
loss.backward()          # encoder.weight.grad is None
```

## Use instead
```python
logits = head(feats)
```

## Fix safety
Removing `.detach()` is safe when the cut starves parameters an optimizer steps: the only change is that
they now receive the gradient they were meant to. If the stop-gradient was intended, silence the line
with `# noqa: GG201` instead.
"""
    examples = (
        Example(
            name="detach-chosen-by-a-flag-the-constructor-sets",
            code="""import torch
import torch.nn as nn


def masked(plane, logits):
    return (plane * (torch.sigmoid(logits) >= 0.5)).detach()


class Field(nn.Module):
    def __init__(self):
        super().__init__()
        self.plane = nn.Parameter(torch.randn(4, 4))
        self.mask_logits = nn.Parameter(torch.ones(4, 4))
        self.use_mask = True

    def forward(self, x):
        plane = masked(self.plane, self.mask_logits) if self.use_mask else self.plane
        return x @ plane


def main():
    torch.manual_seed(0)
    field = Field()
    head = nn.Linear(4, 1)
    opt = torch.optim.Adam([*field.parameters(), *head.parameters()], lr=1e-2)
    loss = head(field(torch.randn(6, 4))).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"field": field, "head": head}
""",
            lines=(6,),
            expect={'grad_none': ['field.plane'], 'grad_ok': ['head.weight']},
            fixed_expect={'grad_ok': ['field.plane', 'head.weight']},
        ),
        Example(
            bad=False,
            name="detach-branch-the-constructor-turns-off",
            code="""import torch
import torch.nn as nn


def masked(plane, logits):
    return (plane * (torch.sigmoid(logits) >= 0.5)).detach()


class Field(nn.Module):
    def __init__(self):
        super().__init__()
        self.plane = nn.Parameter(torch.randn(4, 4))
        self.mask_logits = nn.Parameter(torch.ones(4, 4))
        self.use_mask = False

    def forward(self, x):
        plane = masked(self.plane, self.mask_logits) if self.use_mask else self.plane
        return x @ plane


def main():
    torch.manual_seed(0)
    field = Field()
    head = nn.Linear(4, 1)
    opt = torch.optim.Adam([*field.parameters(), *head.parameters()], lr=1e-2)
    loss = head(field(torch.randn(6, 4))).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"field": field, "head": head}
""",
            expect={'grad_ok': ['field.plane', 'head.weight']},
        ),
        Example(
            name="first-order-fast-weights-built-from-data",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(1, 8)
        self.head_w = nn.Parameter(torch.zeros(1, 8))

    def head(self, feats, w):
        return feats @ w.t()


def adapt(model, feats, y, cfg):
    w = model.head_w
    for _ in range(cfg["inner_steps"]):
        loss = F.mse_loss(model.head(feats, w), y)
        (g,) = torch.autograd.grad(loss, (w,), create_graph=not cfg["first_order"])
        w = w.data - cfg["inner_lr"] * g
    return w


def meta_step(model, opt, cfg):
    x, y = torch.randn(5, 1), torch.randn(5, 1)
    w = adapt(model, torch.tanh(model.body(x)), y, cfg)
    loss = F.mse_loss(model.head(torch.tanh(model.body(x)), w), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


def main():
    torch.manual_seed(0)
    cfg = {"inner_steps": 1, "inner_lr": 0.1, "first_order": True}
    model = Model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    meta_step(model, opt, cfg)
    return {"model": model}
""",
            lines=(21,),
            expect={'grad_none': ['model.head_w'], 'grad_ok': ['model.body.weight']},
            fixable=False,
        ),
        Example(
            bad=False,
            name="first-order-fast-weights-built-from-the-parameter",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(1, 8)
        self.head_w = nn.Parameter(torch.zeros(1, 8))

    def head(self, feats, w):
        return feats @ w.t()


def adapt(model, feats, y, cfg):
    w = model.head_w
    for _ in range(cfg["inner_steps"]):
        loss = F.mse_loss(model.head(feats, w), y)
        (g,) = torch.autograd.grad(loss, (w,), create_graph=not cfg["first_order"])
        w = w - cfg["inner_lr"] * g
    return w


def meta_step(model, opt, cfg):
    x, y = torch.randn(5, 1), torch.randn(5, 1)
    w = adapt(model, torch.tanh(model.body(x)), y, cfg)
    loss = F.mse_loss(model.head(torch.tanh(model.body(x)), w), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


def main():
    torch.manual_seed(0)
    cfg = {"inner_steps": 1, "inner_lr": 0.1, "first_order": True}
    model = Model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    meta_step(model, opt, cfg)
    return {"model": model}
""",
            expect={'grad_ok': ['model.head_w', 'model.body.weight']},
        ),
        Example(
            name="detach-flag-turned-on-by-the-call-that-trains",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(2, 4, 3), nn.ReLU(), nn.Flatten())
        self.fc = nn.Linear(4 * 6, 8)

    def forward(self, x, detach=False):
        h = self.conv(x)
        if detach:
            h = h.detach()
        return self.fc(h)


class Classifier(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(8, 3)

    def forward(self, x, freeze_encoder=False):
        return self.head(self.encoder(x, detach=freeze_encoder))


def train_step(model, opt, x, y):
    loss = F.cross_entropy(model(x, freeze_encoder=True), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


def main():
    torch.manual_seed(0)
    encoder = Encoder()
    model = Classifier(encoder)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        train_step(model, opt, torch.randn(5, 2, 8), torch.randint(0, 3, (5,)))
    return {"model": model}
""",
            lines=(30,),
            expect={"grad_none": ["model.encoder.conv.0.weight"], "grad_ok": ["model.encoder.fc.weight", "model.head.weight"]},
            fixed_expect={"grad_ok": ["model.encoder.conv.0.weight", "model.encoder.fc.weight", "model.head.weight"]},
        ),
        Example(
            bad=False,
            name="detach-flag-turned-on-only-for-a-linear-probe",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(2, 4, 3), nn.ReLU(), nn.Flatten())
        self.fc = nn.Linear(4 * 6, 8)

    def forward(self, x, detach=False):
        h = self.conv(x)
        if detach:
            h = h.detach()
        return self.fc(h)


class Classifier(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(8, 3)

    def forward(self, x, freeze_encoder=False):
        return self.head(self.encoder(x, detach=freeze_encoder))


def main():
    torch.manual_seed(0)
    encoder = Encoder()
    model = Classifier(encoder)
    probe = nn.Linear(8, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    probe_opt = torch.optim.SGD(probe.parameters(), lr=0.1)
    for _ in range(2):
        x, y, z = torch.randn(5, 2, 8), torch.randint(0, 3, (5,)), torch.randint(0, 2, (5,))
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        probe_loss = F.cross_entropy(probe(encoder(x, detach=True)), z)
        probe_opt.zero_grad()
        probe_loss.backward()
        probe_opt.step()
    return {"model": model, "probe": probe}
""",
            expect={"grad_ok": ["model.encoder.conv.0.weight", "model.head.weight", "probe.weight"]},
        ),
        Example(
            name="lora-factor-read-through-data-in-a-layer-injected-after-the-freeze",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRALinear(nn.Module):
    def __init__(self, base, rank=2):
        super().__init__()
        self.base = base
        self.lora_down = nn.Parameter(torch.randn(rank, base.in_features) * 0.1)
        self.lora_up = nn.Parameter(torch.randn(base.out_features, rank) * 0.1)

    def forward(self, x):
        delta = self.lora_up.data @ self.lora_down
        return F.linear(x, self.base.weight + delta, self.base.bias)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(4, 8)
        self.mid = nn.Linear(8, 8)
        self.out = nn.Linear(8, 1)

    def forward(self, x):
        return self.out(torch.relu(self.mid(torch.relu(self.inp(x)))))


def add_lora(model):
    model.requires_grad_(False)
    model.mid = LoRALinear(model.mid)
    return [p for n, p in model.named_parameters() if "lora_" in n]


def main():
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.AdamW(add_lora(model), lr=1e-2, weight_decay=0.0)
    for _ in range(2):
        loss = F.mse_loss(model(torch.randn(8, 4)), torch.randn(8, 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(14,),
            expect={"grad_none": ["model.mid.lora_up"], "grad_ok": ["model.mid.lora_down"]},
            fixed_expect={"grad_ok": ["model.mid.lora_up", "model.mid.lora_down"]},
        ),
        Example(
            name="lora-factors-both-trained-in-a-layer-injected-after-the-freeze",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRALinear(nn.Module):
    def __init__(self, base, rank=2):
        super().__init__()
        self.base = base
        self.lora_down = nn.Parameter(torch.randn(rank, base.in_features) * 0.1)
        self.lora_up = nn.Parameter(torch.randn(base.out_features, rank) * 0.1)

    def forward(self, x):
        delta = self.lora_up @ self.lora_down
        return F.linear(x, self.base.weight + delta, self.base.bias)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(4, 8)
        self.mid = nn.Linear(8, 8)
        self.out = nn.Linear(8, 1)

    def forward(self, x):
        return self.out(torch.relu(self.mid(torch.relu(self.inp(x)))))


def add_lora(model):
    model.requires_grad_(False)
    model.mid = LoRALinear(model.mid)
    return [p for n, p in model.named_parameters() if "lora_" in n]


def main():
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.AdamW(add_lora(model), lr=1e-2, weight_decay=0.0)
    for _ in range(2):
        loss = F.mse_loss(model(torch.randn(8, 4)), torch.randn(8, 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            bad=False,
            expect={"grad_ok": ["model.mid.lora_up", "model.mid.lora_down"]},
        ),
        Example(
            name="codebook-loss-computed-on-the-straight-through-output",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Quantizer(nn.Module):
    def __init__(self, n_codes=8, dim=4):
        super().__init__()
        self.codebook = nn.Embedding(n_codes, dim)

    def forward(self, z):
        idx = torch.cdist(z, self.codebook.weight).argmin(1)
        q = self.codebook(idx)
        z_q = z + (q - z).detach()
        return z_q, q


def main():
    torch.manual_seed(0)
    encoder, quantizer, decoder = nn.Linear(6, 4), Quantizer(), nn.Linear(4, 6)
    params = [*encoder.parameters(), *quantizer.parameters(), *decoder.parameters()]
    optimizer = torch.optim.Adam(params, lr=1e-2)
    for _ in range(3):
        x = torch.randn(16, 6)
        z = encoder(x)
        z_q, q = quantizer(z)
        codebook_loss = F.mse_loss(z_q, z.detach())
        commitment_loss = F.mse_loss(z, q.detach())
        loss = F.mse_loss(decoder(z_q), x) + codebook_loss + 0.25 * commitment_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"quantizer": quantizer, "encoder": encoder}
""",
            lines=(27,),
            expect={"grad_none": ["quantizer.codebook.weight"], "grad_ok": ["encoder.weight"]},
            fixable=False,
        ),
        Example(
            bad=False,
            name="codebook-loss-computed-on-the-codebook-output",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Quantizer(nn.Module):
    def __init__(self, n_codes=8, dim=4):
        super().__init__()
        self.codebook = nn.Embedding(n_codes, dim)

    def forward(self, z):
        idx = torch.cdist(z, self.codebook.weight).argmin(1)
        q = self.codebook(idx)
        z_q = z + (q - z).detach()
        return z_q, q


def main():
    torch.manual_seed(0)
    encoder, quantizer, decoder = nn.Linear(6, 4), Quantizer(), nn.Linear(4, 6)
    params = [*encoder.parameters(), *quantizer.parameters(), *decoder.parameters()]
    optimizer = torch.optim.Adam(params, lr=1e-2)
    for _ in range(3):
        x = torch.randn(16, 6)
        z = encoder(x)
        z_q, q = quantizer(z)
        codebook_loss = F.mse_loss(q, z.detach())
        commitment_loss = F.mse_loss(z, q.detach())
        loss = F.mse_loss(decoder(z_q), x) + codebook_loss + 0.25 * commitment_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"quantizer": quantizer, "encoder": encoder}
""",
            expect={"grad_ok": ["quantizer.codebook.weight", "encoder.weight"]},
        ),
        Example(
            name="edge-weights-normalized-from-a-detached-copy-before-message-passing",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def normalize_edges(edge_weight, col, n):
    w = edge_weight.detach()
    deg = torch.zeros(n).index_add_(0, col, w)
    return w / deg.detach()[col]


class EdgeGCN(nn.Module):
    def __init__(self, n_edges=6, d=4):
        super().__init__()
        self.edge_logits = nn.Parameter(torch.zeros(n_edges))
        self.lin = nn.Linear(d, 3)

    def propagate(self, x, row, col, w):
        h = self.lin(x)
        return torch.zeros_like(h).index_add_(0, col, w[:, None] * h[row])

    def forward(self, x, row, col):
        w = normalize_edges(torch.sigmoid(self.edge_logits), col, x.size(0))
        return self.propagate(x, row, col, w)


def main():
    torch.manual_seed(0)
    model = EdgeGCN()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    row, col = torch.tensor([0, 1, 2, 3, 4, 0]), torch.tensor([1, 2, 3, 4, 0, 2])
    x, y = torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])
    for _ in range(2):
        optimizer.zero_grad()
        F.cross_entropy(model(x, row, col), y).backward()
        optimizer.step()
    return {"model": model}
""",
            lines=(7,),
            expect={"grad_none": ["model.edge_logits"], "grad_ok": ["model.lin.weight"]},
            fixed_expect={"grad_ok": ["model.edge_logits", "model.lin.weight"]},
        ),
        Example(
            bad=False,
            name="edge-weights-normalized-with-only-the-degree-detached",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def normalize_edges(edge_weight, col, n):
    w = edge_weight
    deg = torch.zeros(n).index_add_(0, col, w)
    return w / deg.detach()[col]


class EdgeGCN(nn.Module):
    def __init__(self, n_edges=6, d=4):
        super().__init__()
        self.edge_logits = nn.Parameter(torch.zeros(n_edges))
        self.lin = nn.Linear(d, 3)

    def propagate(self, x, row, col, w):
        h = self.lin(x)
        return torch.zeros_like(h).index_add_(0, col, w[:, None] * h[row])

    def forward(self, x, row, col):
        w = normalize_edges(torch.sigmoid(self.edge_logits), col, x.size(0))
        return self.propagate(x, row, col, w)


def main():
    torch.manual_seed(0)
    model = EdgeGCN()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    row, col = torch.tensor([0, 1, 2, 3, 4, 0]), torch.tensor([1, 2, 3, 4, 0, 2])
    x, y = torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])
    for _ in range(2):
        optimizer.zero_grad()
        F.cross_entropy(model(x, row, col), y).backward()
        optimizer.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.edge_logits", "model.lin.weight"]},
        ),
        Example(
            bad=False,
            name="test-input-copied-into-fresh-leaves-to-compare-gradients",
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
            name="gan-discriminator-step-scores-collected-per-scale-in-lists",
            code="""import torch
import torch.nn as nn


class ScaleCritic(nn.Module):
    def __init__(self):
        super().__init__()
        self.critics = nn.ModuleList([nn.Linear(8, 1), nn.Linear(8, 1)])

    def forward(self, real, fake):
        real_scores = []
        fake_scores = []
        for critic in self.critics:
            real_scores.append(critic(real))
            fake_scores.append(critic(fake))
        return real_scores, fake_scores


def critic_loss(real_scores, fake_scores):
    loss = 0
    logged = []
    for r, f in zip(real_scores, fake_scores):
        term = torch.mean((1 - r) ** 2) + torch.mean(f ** 2)
        loss += term
        logged.append(term.item())
    return loss, logged


def main():
    torch.manual_seed(0)
    gen = nn.Linear(4, 8)
    critic = ScaleCritic()
    opt_g = torch.optim.AdamW(gen.parameters(), 1e-3)
    opt_d = torch.optim.AdamW(critic.parameters(), 1e-3)
    for _ in range(2):
        z, real = torch.randn(5, 4), torch.randn(5, 8)
        fake = gen(z)
        opt_d.zero_grad()
        real_s, fake_s = critic(real, fake.detach())
        loss_d, _ = critic_loss(real_s, fake_s)
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        _, fake_s = critic(real, fake)
        loss_g = sum(torch.mean((1 - f) ** 2) for f in fake_s)
        loss_g.backward()
        opt_g.step()
    return {"gen": gen, "critic": critic}
""",
            expect={"grad_ok": ["gen.weight", "critic.critics.0.weight", "critic.critics.1.weight"]},
        ),
        Example(
            bad=False,
            name="data-attribute-of-a-plain-class-is-not-tensor-data",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class TokenStream:
    def __init__(self, n=64, vocab=10):
        self.data = torch.arange(n) % vocab

    def rows(self, batch):
        n = self.data.numel() // batch
        return self.data[: n * batch].view(batch, n)

    def windows(self, batch, size):
        grid = self.rows(batch)
        for i in range(0, grid.size(1) - 1 - size, size):
            yield grid[:, i:i + size], grid[:, i + 1:i + 1 + size]


class Fitter:
    def __init__(self, model):
        self.model = model
        self.opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def epoch(self, stream):
        for x, y in stream.windows(2, 6):
            logits = self.model(x)
            loss = F.cross_entropy(logits.reshape(-1, 10), y.reshape(-1))
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()


def main():
    torch.manual_seed(0)
    stream = TokenStream()
    model = nn.Sequential(nn.Embedding(10, 8), nn.Linear(8, 10))
    Fitter(model).epoch(stream)
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.weight", "model.1.weight"]},
        ),
        Example(
            name="custom-layer-inside-a-sequential-built-by-a-helper",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class StdConv(nn.Conv2d):
    def forward(self, x):
        w = self.weight.data
        w = (w - w.mean(dim=(1, 2, 3), keepdim=True)) / (w.std(dim=(1, 2, 3), keepdim=True) + 1e-5)
        return F.conv2d(x, w, self.bias, self.stride, self.padding)


def block(cin, cout):
    return nn.Sequential(StdConv(cin, cout, 3, padding=1), nn.GroupNorm(2, cout), nn.ReLU())


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = block(3, 4)
        self.head = nn.Conv2d(4, 2, 1)

    def forward(self, x):
        return self.head(self.stem(x))


def main():
    torch.manual_seed(0)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = net(torch.randn(2, 3, 8, 8)).pow(2).mean()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            lines=(8,),
            expect={"grad_none": ["net.stem.0.weight"], "grad_ok": ["net.stem.0.bias", "net.head.weight"]},
        ),
        Example(
            bad=False,
            name="custom-layer-inside-a-sequential-keeps-the-graph",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class StdConv(nn.Conv2d):
    def forward(self, x):
        w = self.weight
        w = (w - w.mean(dim=(1, 2, 3), keepdim=True)) / (w.std(dim=(1, 2, 3), keepdim=True) + 1e-5)
        return F.conv2d(x, w, self.bias, self.stride, self.padding)


def block(cin, cout):
    return nn.Sequential(StdConv(cin, cout, 3, padding=1), nn.GroupNorm(2, cout), nn.ReLU())


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = block(3, 4)
        self.head = nn.Conv2d(4, 2, 1)

    def forward(self, x):
        return self.head(self.stem(x))


def main():
    torch.manual_seed(0)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = net(torch.randn(2, 3, 8, 8)).pow(2).mean()
    loss.backward()
    opt.step()
    with torch.no_grad():
        stats = net.stem[0].weight.data.abs().mean()
    return {"net": net}, {"stats_positive": bool(stats > 0)}
""",
            expect={"grad_ok": ["net.stem.0.weight", "net.head.weight"], "facts": {"stats_positive": True}},
        ),
        Example(
            bad=False,
            name="gan-trainer-detach-in-discriminator-helper",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class GANTrainer:
    def __init__(self):
        self.G, self.D = nn.Linear(4, 4), nn.Linear(4, 1)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=1e-3)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=1e-3)

    def backward_d(self, real, fake):
        # the generator is not trained by the discriminator's loss: stop its gradient here
        loss_d = F.softplus(self.D(fake.detach())).mean() + F.softplus(-self.D(real)).mean()
        loss_d.backward()

    def backward_g(self, fake):
        F.softplus(-self.D(fake)).mean().backward()

    def step(self, real, z):
        fake = self.G(z)
        self.opt_d.zero_grad()
        self.backward_d(real, fake)
        self.opt_d.step()
        self.opt_g.zero_grad()
        self.backward_g(fake)
        self.opt_g.step()


def main():
    torch.manual_seed(0)
    t = GANTrainer()
    for _ in range(2):
        t.step(torch.randn(8, 4), torch.randn(8, 4))
    return {"G": t.G, "D": t.D}
""",
            expect={"grad_ok": ["G.weight", "D.weight"]},
        ),
        Example(
            name="generator-step-on-the-discriminator-s-detached-fake",
            code="""import torch
import torch.nn as nn


def d_step(D, opt_d, real, fake):
    opt_d.zero_grad()
    (D(fake).mean() - D(real).mean()).backward()
    opt_d.step()


def g_step(D, opt_g, fake):
    opt_g.zero_grad()
    (-D(fake).mean()).backward()
    opt_g.step()


def main():
    torch.manual_seed(0)
    G, D = nn.Linear(2, 2), nn.Linear(2, 1)
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    w0 = G.weight.detach().clone()
    for _ in range(2):
        fake = G(torch.randn(8, 2)).detach()
        d_step(D, opt_d, torch.randn(8, 2), fake)
        g_step(D, opt_g, fake)
    return {"G": G}, {"generator_changed": not torch.equal(w0, G.weight.detach())}
""",
            lines=(24,),
            fixable=False,
            expect={"facts": {"generator_changed": False}},
        ),
        Example(
            name="detached-intermediate",
            code="""import torch


def main():
    w = torch.tensor([0.5, -1.0], requires_grad=True)
    h = w * 3.0
    h2 = h.detach()
    loss = (h2 ** 2).sum()
    loss.backward()
    return {"w": w}
""",
            lines=(7,),
            expect={"error": "element 0 of tensors does not require grad"},
        ),
        Example(
            name="helper-detaches-every-metric-including-the-loss",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def step_metrics(loss, logits, y):
    metrics = {"loss": loss, "acc": ((logits > 0).float() == y).float().mean()}
    return {k: v.detach() for k, v in metrics.items()}


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 4), (torch.rand(8) > 0.5).float()
    logits = model(x).squeeze(-1)
    out = step_metrics(F.binary_cross_entropy_with_logits(logits, y), logits, y)
    opt.zero_grad()
    out["loss"].backward()
    opt.step()
    return {"model": model}
""",
            lines=(8,),
            expect={"error": "element 0 of tensors does not require grad"},
        ),
        Example(
            name="trainer-takes-the-loss-entry-of-detached-metrics",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def step_metrics(loss, logits, y):
    metrics = {"loss": loss, "acc": ((logits > 0).float() == y).float().mean()}
    return {k: v.detach() for k, v in metrics.items()}


def run_step(opt, out):
    if isinstance(out, dict):
        loss = out["loss"]
    else:
        loss = out
    opt.zero_grad()
    loss.backward()
    opt.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 4), (torch.rand(8) > 0.5).float()
    logits = model(x).squeeze(-1)
    run_step(opt, step_metrics(F.binary_cross_entropy_with_logits(logits, y), logits, y))
    return {"model": model}
""",
            lines=(8,),
            expect={"error": "element 0 of tensors does not require grad"},
        ),
        Example(
            bad=False,
            name="langevin-sampler-starts-from-a-detached-buffer",
            code="""import torch
import torch.nn as nn


class Sampler:
    def __init__(self, model, n=16):
        self.model = model
        self.examples = [torch.rand(1, 4) * 2 - 1 for _ in range(n)]

    def sample(self, steps=5):
        start = torch.cat(self.examples, dim=0).detach()
        x = Sampler.langevin(self.model, start, steps)
        self.examples = list(x.chunk(len(self.examples), dim=0))
        return x

    @staticmethod
    def langevin(model, x, steps, step_size=10.0):
        for p in model.parameters():
            p.requires_grad = False
        x.requires_grad = True
        for _ in range(steps):
            energy = -model(x)
            energy.sum().backward()
            x.data.add_(-step_size * x.grad.data.clamp(-0.03, 0.03))
            x.grad.zero_()
        for p in model.parameters():
            p.requires_grad = True
        return x.detach()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.SiLU(), nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sampler = Sampler(model)
    before = torch.cat(sampler.examples, dim=0)
    fake = sampler.sample()
    loss = model(fake).mean() - model(torch.randn(16, 4)).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}, {"samples_moved": not torch.equal(fake, before)}
""",
            expect={"grad_ok": ["model.0.weight", "model.2.weight"], "facts": {"samples_moved": True}},
        ),
        Example(
            bad=False,
            name="helper-detaches-the-logged-metrics-but-not-the-loss",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def step_metrics(loss, logits, y):
    metrics = {"loss": loss, "acc": ((logits > 0).float() == y).float().mean()}
    return {k: (v if k == "loss" else v.detach()) for k, v in metrics.items()}


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 4), (torch.rand(8) > 0.5).float()
    logits = model(x).squeeze(-1)
    out = step_metrics(F.binary_cross_entropy_with_logits(logits, y), logits, y)
    opt.zero_grad()
    out["loss"].backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight", "model.bias"]},
        ),
        Example(
            name="encoder-through-helper",
            code="""import torch
from torch import nn


def scale(t):
    return (t / t.norm(dim=1, keepdim=True)).detach()


def main():
    torch.manual_seed(0)
    encoder, head = nn.Linear(4, 6), nn.Linear(6, 1)
    opt = torch.optim.SGD(list(encoder.parameters()) + list(head.parameters()), lr=0.1)
    x, y = torch.randn(8, 4), torch.randn(8, 1)
    out = head(scale(encoder(x)))
    loss = nn.functional.mse_loss(out, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"encoder": encoder, "head": head}
""",
            lines=(6,),
            expect={"grad_none": ["encoder.weight", "encoder.bias"], "grad_ok": ["head.weight"]},
        ),
        Example(
            name="forward-hook-keeps-a-detached-copy-of-the-encoder-output",
            code="""import torch
from torch import nn


class Tapped(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.feats = None
        encoder[-1].register_forward_hook(self._keep)

    def _keep(self, module, inputs, output):
        self.feats = output.detach()

    def forward(self, x):
        self.encoder(x)
        return self.feats


def main():
    torch.manual_seed(0)
    model = nn.Sequential(Tapped(nn.Sequential(nn.Linear(4, 6), nn.Tanh())), nn.Linear(6, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 4), torch.randn(8, 1)
    loss = nn.functional.mse_loss(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(13,),
            expect={"grad_none": ["model.0.encoder.0.weight"], "grad_ok": ["model.1.weight"]},
        ),
        Example(
            bad=False,
            name="forward-hook-keeps-detached-features-for-a-metric",
            code="""import torch
from torch import nn


class Tapped(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.feats = None
        encoder[-1].register_forward_hook(self._keep)

    def _keep(self, module, inputs, output):
        self.feats = output.detach()

    def forward(self, x):
        return self.encoder(x)


def main():
    torch.manual_seed(0)
    tapped = Tapped(nn.Sequential(nn.Linear(4, 6), nn.Tanh()))
    model = nn.Sequential(tapped, nn.Linear(6, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 4), torch.randn(8, 1)
    loss = nn.functional.mse_loss(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    sparsity = (tapped.feats.abs() < 0.1).float().mean().item()
    return {"model": model}, {"sparsity_is_fraction": 0.0 <= sparsity <= 1.0}
""",
            expect={"grad_ok": ["model.0.encoder.0.weight", "model.1.weight"], "facts": {"sparsity_is_fraction": True}},
        ),
        Example(
            name="data-attribute",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    body, out = nn.Linear(3, 3), nn.Linear(3, 1)
    h = body(torch.randn(5, 3)).data
    loss = out(h).pow(2).mean()
    loss.backward()
    return {"body": body, "out": out}
""",
            lines=(8,),
            expect={"grad_none": ["body.weight"], "grad_ok": ["out.weight"]},
        ),
        Example(
            name="in-place-detach-before-the-head",
            code="""import torch
import torch.nn as nn


def step(encoder, head, opt, bank, x, y):
    feats = encoder(x)
    feats.detach_()
    bank.append(feats)
    loss = nn.functional.cross_entropy(head(feats), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


def main():
    torch.manual_seed(0)
    encoder, head = nn.Sequential(nn.Linear(8, 16), nn.ReLU()), nn.Linear(16, 3)
    opt = torch.optim.SGD([*encoder.parameters(), *head.parameters()], lr=0.1)
    bank = []
    step(encoder, head, opt, bank, torch.randn(6, 8), torch.randint(0, 3, (6,)))
    return {"encoder": encoder, "head": head}
""",
            lines=(7,),
            expect={"grad_none": ["encoder.0.weight"], "grad_ok": ["head.weight"]},
        ),
        Example(
            name="adapter-injected-from-outside-merges-through-data",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRA(nn.Module):
    def __init__(self, base, rank=2):
        super().__init__()
        self.base = base.requires_grad_(False)
        self.a = nn.Parameter(torch.randn(rank, base.in_features) * 0.1)
        self.b = nn.Parameter(torch.randn(base.out_features, rank) * 0.1)

    def forward(self, x):
        return F.linear(x, self.base.weight + (self.b @ self.a).data, self.base.bias)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        return self.head(torch.relu(self.proj(x)))


def main():
    torch.manual_seed(0)
    model = Net()
    model.proj = LoRA(model.proj)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss = model(torch.randn(8, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(14,),
            expect={"grad_none": ["model.proj.a", "model.proj.b"], "grad_ok": ["model.head.weight"]},
        ),
        Example(
            bad=False,
            name="adapter-injected-from-outside",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRA(nn.Module):
    def __init__(self, base, rank=2):
        super().__init__()
        self.base = base.requires_grad_(False)
        self.a = nn.Parameter(torch.randn(rank, base.in_features) * 0.1)
        self.b = nn.Parameter(torch.randn(base.out_features, rank) * 0.1)

    def forward(self, x):
        return F.linear(x, self.base.weight.detach() + self.b @ self.a, self.base.bias)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        return self.head(torch.relu(self.proj(x)))


def main():
    torch.manual_seed(0)
    model = Net()
    model.proj = LoRA(model.proj)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss = model(torch.randn(8, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.proj.a", "model.proj.b", "model.head.weight"]},
        ),
        Example(
            bad=False,
            name="truncated-bptt-hidden-state-detached-in-place",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    rnn, head = nn.GRU(4, 8, batch_first=True), nn.Linear(8, 1)
    opt = torch.optim.SGD([*rnn.parameters(), *head.parameters()], lr=0.1)
    h = torch.zeros(1, 2, 8)
    for _ in range(3):
        x, y = torch.randn(2, 5, 4), torch.randn(2, 1)
        out, h = rnn(x, h)
        loss = nn.functional.mse_loss(head(out[:, -1]), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        h.detach_()
    return {"rnn": rnn, "head": head}
""",
            expect={"grad_ok": ["rnn.weight_ih_l0", "head.weight"]},
        ),
        Example(
            bad=False,
            name="gan-discriminator-step",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    G, D = nn.Linear(2, 2), nn.Linear(2, 1)
    optG, optD = torch.optim.SGD(G.parameters(), lr=0.1), torch.optim.SGD(D.parameters(), lr=0.1)
    fake = G(torch.randn(4, 2))
    d_loss = D(fake.detach()).mean() - D(torch.randn(4, 2)).mean()
    optD.zero_grad()
    d_loss.backward()
    optD.step()
    g_loss = -D(fake).mean()
    optG.zero_grad()
    g_loss.backward()
    optG.step()
    return {"G": G, "D": D}
""",
            expect={"grad_ok": ["G.weight", "D.weight"]},
        ),
        Example(
            bad=False,
            name="stop-gradient-target-and-logging",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 3)
    x = torch.randn(6, 3)
    z1, z2 = net(x), net(x + 0.1)
    loss = ((z1 - z2.detach()) ** 2).mean()
    loss.backward()
    logged = z1.detach().cpu()
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight"]},
        ),
        Example(
            name="soft-mask-written-into-the-weight-through-data",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class MaskedLinear(nn.Linear):
    def __init__(self, n_in, n_out):
        super().__init__(n_in, n_out)
        self.scores = nn.Parameter(torch.full((n_out, 1), 2.0))

    def forward(self, x):
        mask = torch.sigmoid(self.scores)
        self.weight.data = self.weight * mask
        return F.linear(x, self.weight, self.bias)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(MaskedLinear(4, 6), nn.ReLU(), nn.Linear(6, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    model(torch.randn(8, 4)).pow(2).mean().backward()
    opt.step()
    return {"model": model}
""",
            lines=(13,),
            fixable=False,
            expect={"grad_none": ["model.0.scores"], "grad_ok": ["model.0.weight"]},
        ),
        Example(
            bad=False,
            name="pruning-mask-buffer-applied-to-the-weight-through-data",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class MaskedLinear(nn.Linear):
    def __init__(self, n_in, n_out):
        super().__init__(n_in, n_out)
        self.register_buffer("mask", (torch.rand(n_out, 1) > 0.3).float())

    def forward(self, x):
        self.weight.data = self.weight.data * self.mask
        return F.linear(x, self.weight, self.bias)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(MaskedLinear(4, 6), nn.ReLU(), nn.Linear(6, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    model(torch.randn(8, 4)).pow(2).mean().backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.weight", "model.2.weight"]},
        ),
        Example(
            name="helper-detaches-when-its-flag-is-set-and-the-loss-passes-true",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 8)
        self.head = nn.Linear(8, 1)

    def features(self, x, frozen):
        h = torch.relu(self.encoder(x))
        if frozen:
            h = h.detach()
        return h

    def forward(self, x):
        return self.head(self.features(x, frozen=True))


def main():
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    w0 = model.encoder.weight.detach().clone()
    for _ in range(2):
        opt.zero_grad()
        model(torch.randn(8, 4)).pow(2).mean().backward()
        opt.step()
    return {"model": model}, {"encoder_changed": not torch.equal(w0, model.encoder.weight.detach())}
""",
            lines=(14,),
            expect={"grad_none": ["model.encoder.weight"], "grad_ok": ["model.head.weight"], "facts": {"encoder_changed": False}},
        ),
        Example(
            bad=False,
            name="helper-detaches-when-its-flag-is-set-only-for-a-queue-of-negatives",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 8)

    def embed(self, x, frozen):
        z = F.normalize(self.net(x), dim=1)
        if frozen:
            z = z.detach()
        return z


def main():
    torch.manual_seed(0)
    enc = Encoder()
    opt = torch.optim.SGD(enc.parameters(), lr=0.1)
    queue = [enc.embed(torch.randn(8, 4), True)]
    w0 = enc.net.weight.detach().clone()
    for _ in range(2):
        x = torch.randn(8, 4)
        q = enc.embed(x, False)
        k = enc.embed(x + 0.05 * torch.randn(8, 4), True)
        logits = torch.cat([(q * k).sum(1, keepdim=True), q @ torch.cat(queue).T], dim=1) / 0.1
        loss = F.cross_entropy(logits, torch.zeros(8, dtype=torch.long))
        opt.zero_grad()
        loss.backward()
        opt.step()
        queue = [k]
    return {"enc": enc}, {"encoder_changed": not torch.equal(w0, enc.net.weight.detach())}
""",
            expect={"grad_ok": ["enc.net.weight"], "facts": {"encoder_changed": True}},
        ),
        Example(
            name="stage-boundary-detach-without-requires-grad-guarded-second-backward-never-runs",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    stage1, stage2 = nn.Linear(4, 4), nn.Linear(4, 2)
    opt1 = torch.optim.SGD(stage1.parameters(), lr=0.1)
    opt2 = torch.optim.SGD(stage2.parameters(), lr=0.1)
    for _ in range(2):
        opt1.zero_grad()
        opt2.zero_grad()
        h1 = stage1(torch.randn(3, 4))
        h2 = h1.detach()
        loss = F.cross_entropy(stage2(h2), torch.tensor([0, 1, 0]))
        loss.backward()
        if h2.grad is not None:
            h1.backward(gradient=h2.grad)
        opt2.step()
        opt1.step()
    return {"stage1": stage1, "stage2": stage2}
""",
            lines=(15,),
            expect={"grad_none": ["stage1.weight"], "grad_ok": ["stage2.weight"]},
            fixed_expect={"grad_ok": ["stage1.weight", "stage2.weight"]},
        ),
        Example(
            bad=False,
            name="stage-boundary-detached-as-a-leaf-that-requires-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    stage1, stage2 = nn.Linear(4, 4), nn.Linear(4, 2)
    opt1 = torch.optim.SGD(stage1.parameters(), lr=0.1)
    opt2 = torch.optim.SGD(stage2.parameters(), lr=0.1)
    for _ in range(2):
        opt1.zero_grad()
        opt2.zero_grad()
        h1 = stage1(torch.randn(3, 4))
        h2 = h1.detach().requires_grad_()
        loss = F.cross_entropy(stage2(h2), torch.tensor([0, 1, 0]))
        loss.backward()
        if h2.grad is not None:
            h1.backward(gradient=h2.grad)
        opt2.step()
        opt1.step()
    return {"stage1": stage1, "stage2": stage2}
""",
            expect={"grad_ok": ["stage1.weight", "stage2.weight"]},
        ),
        Example(
            name="maml-fast-weights-cloned-detached-for-functional-call",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call


def fast_weights(model):
    return {n: p.detach().clone().requires_grad_(True) for n, p in model.named_parameters()}


def adapt(model, params, x, y, lr=0.05):
    loss = F.mse_loss(functional_call(model, params, (x,)), y)
    grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
    return {n: p - lr * g for (n, p), g in zip(params.items(), grads)}


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
    meta_opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    meta_loss = 0.0
    for _ in range(2):
        xs, xq = torch.randn(5, 1), torch.randn(5, 1)
        params = adapt(model, fast_weights(model), xs, torch.sin(xs))
        meta_loss = meta_loss + F.mse_loss(functional_call(model, params, (xq,)), torch.sin(xq))
    meta_opt.zero_grad()
    meta_loss.backward()
    meta_opt.step()
    return {"model": model}
""",
            lines=(8,),
            fixable=False,
            expect={"grad_none": ["model.0.weight", "model.2.weight"]},
        ),
        Example(
            bad=False,
            name="maml-fast-weights-are-the-model-parameters-for-functional-call",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call


def fast_weights(model):
    return dict(model.named_parameters())


def adapt(model, params, x, y, lr=0.05):
    loss = F.mse_loss(functional_call(model, params, (x,)), y)
    grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
    return {n: p - lr * g for (n, p), g in zip(params.items(), grads)}


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
    meta_opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    meta_loss = 0.0
    for _ in range(2):
        xs, xq = torch.randn(5, 1), torch.randn(5, 1)
        params = adapt(model, fast_weights(model), xs, torch.sin(xs))
        meta_loss = meta_loss + F.mse_loss(functional_call(model, params, (xq,)), torch.sin(xq))
    meta_opt.zero_grad()
    meta_loss.backward()
    meta_opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.weight", "model.2.weight"]},
        ),
        Example(
            name="weight-noise-through-functional-call-on-the-state-dict",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call


def noisy_weights(model, std=0.01):
    return {n: t + std * torch.randn_like(t) for n, t in model.state_dict().items()}


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
        loss = F.cross_entropy(functional_call(model, noisy_weights(model), (x,)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(8,),
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="weight-noise-through-functional-call-on-the-parameters",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call


def noisy_weights(model, std=0.01):
    return {n: t + std * torch.randn_like(t) for n, t in dict(model.named_parameters()).items()}


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
        loss = F.cross_entropy(functional_call(model, noisy_weights(model), (x,)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.weight", "model.2.weight"]},
        ),
        Example(
            name="stored-prototypes-detached-in-place-by-another-method",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Aligner(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(6, 8)
        self.classifier = nn.Linear(8, 3)
        self.proto_head = nn.Linear(8, 4)
        self.register_buffer("anchors", torch.randn(4))
        self.src_protos = None

    def alignment(self):
        # meant to keep the stored prototypes from holding the graph across steps
        self.src_protos.detach_()
        return (self.src_protos - self.anchors).pow(2).mean()

    def step_loss(self, xs, ys):
        hs = self.encoder(xs)
        self.src_protos = self.proto_head(hs).mean(0)
        return F.cross_entropy(self.classifier(hs), ys) + 0.5 * self.alignment()


def main():
    torch.manual_seed(0)
    model = Aligner()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        loss = model.step_loss(torch.randn(8, 6), torch.randint(0, 3, (8,)))
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(17,),
            expect={"grad_none": ["model.proto_head.weight", "model.proto_head.bias"], "grad_ok": ["model.encoder.weight"]},
            fixed_expect={"grad_ok": ["model.proto_head.weight", "model.encoder.weight"]},
        ),
        Example(
            name="two-critics-backpropagated-then-one-step",
            bad=False,
            code="""import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F


class TwoCriticGAN:
    def __init__(self):
        self.G = nn.Linear(4, 4)
        self.D_a, self.D_b = nn.Linear(4, 1), nn.Linear(4, 1)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=1e-3)
        self.opt_d = torch.optim.Adam(itertools.chain(self.D_a.parameters(), self.D_b.parameters()), lr=1e-3)

    def forward(self, z):
        self.fake = self.G(z)

    def backward_g(self):
        (F.softplus(-self.D_a(self.fake)).mean() + F.softplus(-self.D_b(self.fake)).mean()).backward()

    def backward_d(self, critic, real, fake):
        # the generator is trained by backward_g: stop its gradient in the critics' losses
        loss = F.softplus(critic(fake.detach())).mean() + F.softplus(-critic(real)).mean()
        loss.backward()

    def optimize(self, real, z):
        self.forward(z)
        self.opt_g.zero_grad()
        self.backward_g()
        self.opt_g.step()
        self.opt_d.zero_grad()
        self.backward_d(self.D_a, real, self.fake)
        self.backward_d(self.D_b, real, self.fake)
        self.opt_d.step()


def main():
    torch.manual_seed(0)
    gan = TwoCriticGAN()
    for _ in range(2):
        gan.optimize(torch.randn(8, 4), torch.randn(8, 4))
    return {"G": gan.G, "D_a": gan.D_a, "D_b": gan.D_b}
""",
            expect={"grad_ok": ["G.weight", "D_a.weight", "D_b.weight"]},
        ),
        Example(
            name="forward-hook-replaces-a-block-output-with-its-data",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 8)
        self.block = nn.Linear(8, 8)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(torch.relu(self.block(torch.relu(self.stem(x)))))


class ChannelDrop:
    def __init__(self, p=0.25):
        self.p = p

    def __call__(self, module, inputs, output):
        if not module.training:
            return None
        mask = (torch.rand(output.shape[1]) > self.p).float()
        return output.data * mask


def attach(net, name, p):
    gate = ChannelDrop(p)
    return getattr(net, name).register_forward_hook(gate)


def main():
    torch.manual_seed(0)
    model = Net()
    attach(model, "block", 0.25)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(16, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(24,),
            expect={"grad_none": ["model.stem.weight", "model.block.weight"], "grad_ok": ["model.head.weight"]},
        ),
        Example(
            bad=False,
            name="forward-hook-scales-a-block-output-in-the-graph",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 8)
        self.block = nn.Linear(8, 8)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(torch.relu(self.block(torch.relu(self.stem(x)))))


class ChannelDrop:
    def __init__(self, p=0.25):
        self.p = p

    def __call__(self, module, inputs, output):
        if not module.training:
            return None
        mask = (torch.rand(output.shape[1]) > self.p).float()
        return output * mask


def attach(net, name, p):
    gate = ChannelDrop(p)
    return getattr(net, name).register_forward_hook(gate)


def main():
    torch.manual_seed(0)
    model = Net()
    attach(model, "block", 0.25)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(16, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.stem.weight", "model.block.weight", "model.head.weight"]},
        ),
        Example(
            name="adapter-swapped-in-by-a-helper-builds-its-delta-from-data",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRALinear(nn.Module):
    def __init__(self, base, rank=2):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, rank, bias=False)
        self.lora_B = nn.Linear(rank, base.out_features, bias=False)
        nn.init.zeros_(self.lora_B.weight)

    def delta(self):
        return self.lora_B.weight.data @ self.lora_A.weight.data

    def forward(self, x):
        return F.linear(x, self.base.weight + self.delta(), self.base.bias)


class Block(nn.Module):
    def __init__(self, dim=4):
        super().__init__()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        return x + torch.tanh(self.proj(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Block() for _ in range(2)])
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return self.head(x)


def add_adapters(net):
    net.requires_grad_(False)
    for blk in net.blocks:
        blk.proj = LoRALinear(blk.proj)
    return net


def main():
    torch.manual_seed(0)
    model = add_adapters(Net())
    model.head.requires_grad_(True)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(5, 4)), torch.randint(0, 2, (5,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            lines=(15,),
            expect={"grad_none": ["model.blocks.0.proj.lora_A.weight", "model.blocks.0.proj.lora_B.weight"], "grad_ok": ["model.head.weight"]},
            fixed_expect={"grad_ok": ["model.blocks.0.proj.lora_A.weight", "model.head.weight"]},
        ),
        Example(
            bad=False,
            name="adapter-swapped-in-by-a-helper-merges-from-data-only-for-export",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRALinear(nn.Module):
    def __init__(self, base, rank=2):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, rank, bias=False)
        self.lora_B = nn.Linear(rank, base.out_features, bias=False)
        nn.init.zeros_(self.lora_B.weight)

    def delta(self):
        return self.lora_B.weight @ self.lora_A.weight

    @torch.no_grad()
    def merge(self):
        self.base.weight.data += self.lora_B.weight.data @ self.lora_A.weight.data

    def forward(self, x):
        return F.linear(x, self.base.weight + self.delta(), self.base.bias)


class Block(nn.Module):
    def __init__(self, dim=4):
        super().__init__()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        return x + torch.tanh(self.proj(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Block() for _ in range(2)])
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return self.head(x)


def add_adapters(net):
    net.requires_grad_(False)
    for blk in net.blocks:
        blk.proj = LoRALinear(blk.proj)
    return net


def main():
    torch.manual_seed(0)
    model = add_adapters(Net())
    model.head.requires_grad_(True)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(5, 4)), torch.randint(0, 2, (5,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.blocks.0.proj.lora_A.weight", "model.blocks.0.proj.lora_B.weight", "model.head.weight"]},
        ),
        Example(
            bad=False,
            name="input-gradient-assembled-by-hand-from-detached-chunks",
            code="""import torch
import torch.nn as nn


def chunked_input_grad(net, x, size=2):
    x1 = x.detach().requires_grad_(True)
    chunks = [c.detach() for c in torch.split(x1, size)]
    for c in chunks:
        c.requires_grad_(True)
        net(c).pow(2).sum().backward()
    x1.grad = torch.cat([c.grad for c in chunks])
    return x1


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    x1 = chunked_input_grad(net, torch.randn(6, 3))
    return {"x1": x1, "net": net}
""",
            expect={"grad_ok": ["x1", "net.weight"]},
        ),
        Example(
            name="adapter-swapped-in-with-setattr-builds-its-delta-from-data",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRALinear(nn.Module):
    def __init__(self, base, rank=2):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, rank, bias=False)
        self.lora_B = nn.Linear(rank, base.out_features, bias=False)
        nn.init.zeros_(self.lora_B.weight)

    def delta(self):
        return self.lora_B.weight.data @ self.lora_A.weight.data

    def forward(self, x):
        return F.linear(x, self.base.weight + self.delta(), self.base.bias)


class Block(nn.Module):
    def __init__(self, dim=4):
        super().__init__()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        return x + torch.tanh(self.proj(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Block() for _ in range(2)])
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return self.head(x)


def add_adapters(net):
    net.requires_grad_(False)
    for blk in net.blocks:
        setattr(blk, "proj", LoRALinear(blk.proj))
    return net


def main():
    torch.manual_seed(0)
    model = add_adapters(Net())
    model.head.requires_grad_(True)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(5, 4)), torch.randint(0, 2, (5,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            lines=(15,),
            expect={"grad_none": ["model.blocks.0.proj.lora_A.weight", "model.blocks.0.proj.lora_B.weight"], "grad_ok": ["model.head.weight"]},
            fixed_expect={"grad_ok": ["model.blocks.0.proj.lora_A.weight", "model.head.weight"]},
        ),
        Example(
            name="generated-kernel-installed-through-weight-data",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class HyperConv(nn.Module):
    def __init__(self, ch=3):
        super().__init__()
        self.kernel_gen = nn.Linear(2, ch * ch * 9)
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x, t):
        self.conv.weight.data = self.kernel_gen(t).view_as(self.conv.weight)
        return self.conv(x)


def main():
    torch.manual_seed(0)
    model = HyperConv()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, t = torch.randn(2, 3, 5, 5), torch.randn(2)
    for _ in range(2):
        loss = model(x, t).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            lines=(13,),
            expect={"grad_none": ["model.kernel_gen.bias", "model.kernel_gen.weight"]},
            fixable=False,
        ),
        Example(
            bad=False,
            name="generated-kernel-applied-functionally",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class HyperConv(nn.Module):
    def __init__(self, ch=3):
        super().__init__()
        self.kernel_gen = nn.Linear(2, ch * ch * 9)
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x, t):
        w = self.kernel_gen(t).view_as(self.conv.weight)
        self.conv.weight.data = self.conv.weight.data.clamp(-1, 1)
        return F.conv2d(x, w, self.conv.bias, padding=1) + self.conv(x)


def main():
    torch.manual_seed(0)
    model = HyperConv()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, t = torch.randn(2, 3, 5, 5), torch.randn(2)
    for _ in range(2):
        loss = model(x, t).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.conv.weight", "model.kernel_gen.weight"]},
        ),
        Example(
            name="trainer-class-reuses-the-detached-fakes-for-the-generator-loss",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class GANTrainer:
    def __init__(self, G, D, opt_g, opt_d):
        self.G, self.D, self.opt_g, self.opt_d = G, D, opt_g, opt_d

    def step(self, real):
        fake = self.G(torch.randn(real.size(0), 4)).detach()
        self.opt_d.zero_grad()
        (F.softplus(-self.D(real)).mean() + F.softplus(self.D(fake)).mean()).backward()
        self.opt_d.step()
        self.opt_g.zero_grad()
        F.softplus(-self.D(fake)).mean().backward()
        self.opt_g.step()


def main():
    torch.manual_seed(0)
    G, D = nn.Linear(4, 2), nn.Linear(2, 1)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3)
    trainer = GANTrainer(G, D, opt_g, opt_d)
    for _ in range(3):
        trainer.step(torch.randn(8, 2))
    return {"G": G, "D": D}
""",
            lines=(11,),
            expect={"grad_none": ["G.bias", "G.weight"]},
            fixable=False,  # (the detach is right for the critic's loss: the fix detaches there only, a restructuring)
        ),
        Example(
            bad=False,
            name="trainer-class-detaches-the-fakes-for-the-critic-only",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class GANTrainer:
    def __init__(self, G, D, opt_g, opt_d):
        self.G, self.D, self.opt_g, self.opt_d = G, D, opt_g, opt_d

    def step(self, real):
        fake = self.G(torch.randn(real.size(0), 4))
        self.opt_d.zero_grad()
        (F.softplus(-self.D(real)).mean() + F.softplus(self.D(fake.detach())).mean()).backward()
        self.opt_d.step()
        self.opt_g.zero_grad()
        F.softplus(-self.D(fake)).mean().backward()
        self.opt_g.step()


def main():
    torch.manual_seed(0)
    G, D = nn.Linear(4, 2), nn.Linear(2, 1)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3)
    trainer = GANTrainer(G, D, opt_g, opt_d)
    for _ in range(3):
        trainer.step(torch.randn(8, 2))
    return {"G": G, "D": D}
""",
            expect={"grad_ok": ["D.weight", "G.bias", "G.weight"]},
        ),
        Example(
            name="generated-features-read-through-data-real-ones-under-no-grad-of-a-frozen-critic",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(4, 8), nn.Linear(8, 8)])

    def forward(self, x):
        feats = []
        for block in self.blocks:
            x = torch.relu(block(x))
            feats.append(x)
        return feats


def features(critic, x):
    return [f.data for f in critic(x)]


def main():
    torch.manual_seed(0)
    critic = Critic()
    critic.requires_grad_(False)
    generator = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 4))
    optimizer = torch.optim.Adam(generator.parameters(), lr=1e-3)
    for _ in range(3):
        real = torch.randn(16, 4)
        fake_feats = features(critic, generator(torch.randn(16, 2)))
        with torch.no_grad():
            real_feats = critic(real)
        loss = sum(F.l1_loss(f, r) for f, r in zip(fake_feats, real_feats))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"generator": generator}
""",
            lines=(20,),
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="gradient-penalty-differentiates-only-its-input",
            code="""import torch
import torch.nn as nn


class GPTrainer:
    def __init__(self, gen, critic):
        self.gen, self.critic = gen, critic
        self.opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3)
        self.opt_d = torch.optim.Adam(critic.parameters(), lr=1e-3)

    def penalty(self, real, fake):
        eps = torch.rand(real.size(0), 1)
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        (g,) = torch.autograd.grad(self.critic(x_hat).sum(), x_hat, create_graph=True)
        return ((g.norm(dim=1) - 1) ** 2).mean()

    def critic_step(self, real):
        fake = self.gen(torch.randn(real.size(0), 2)).detach()
        loss = self.critic(fake).mean() - self.critic(real).mean() + 10.0 * self.penalty(real, fake)
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()

    def generator_step(self, n):
        loss = -self.critic(self.gen(torch.randn(n, 2))).mean()
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()


def main():
    torch.manual_seed(0)
    gen, critic = nn.Linear(2, 3), nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    trainer = GPTrainer(gen, critic)
    for step in range(4):
        trainer.critic_step(torch.randn(4, 3))
        if step % 2 == 1:
            trainer.generator_step(4)
    return {"gen": gen, "critic": critic}
""",
            expect={'grad_ok': ['gen.weight', 'critic.0.weight']},
        ),
        Example(
            bad=False,
            name="embedding-kept-under-a-second-name",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_emb = nn.Embedding(10, 4)
        self.out = nn.Linear(4, 10)

    def forward(self, x):
        h = self.token_emb(x)
        return self.out(h), h


class Wrapper(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net
        self.token_emb = net.token_emb
        self.dynamics = nn.Linear(4, 4)

    def forward(self, x):
        logits, h = self.net(x)
        ce = nn.functional.cross_entropy(logits.flatten(0, 1), x.flatten())
        nxt = self.token_emb(x[:, 1:])
        pred = self.dynamics(h[:, :-1])
        return ce + (pred - nxt.detach()).pow(2).mean()


def main():
    torch.manual_seed(0)
    w = Wrapper(Net())
    opt = torch.optim.SGD(w.parameters(), lr=0.1)
    for _ in range(2):
        loss = w(torch.randint(0, 10, (2, 5)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"w": w}
""",
            expect={'grad_ok': ['w.net.token_emb.weight', 'w.dynamics.weight']},
        ),
        Example(
            bad=False,
            name="temperature-leaf-turned-on-after-creation",
            code="""import numpy as np
import torch
import torch.nn as nn


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.optimizer = torch.optim.Adam(self.parameters(), lr=1e-3)
        self.log_alpha = torch.tensor(np.log(0.1))
        self.log_alpha.requires_grad = True
        self.log_alpha_optimizer = torch.optim.Adam([self.log_alpha], lr=1e-2)

    def train_net(self, s):
        mu, log_std = self.fc(s).unbind(-1)
        log_prob = -log_std - 0.5 * ((torch.randn_like(mu)) ** 2)
        loss = (self.log_alpha.exp().detach() * log_prob - mu).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        alpha_loss = -(self.log_alpha.exp() * (log_prob - 1.0).detach()).mean()
        self.log_alpha_optimizer.zero_grad()
        alpha_loss.backward()
        self.log_alpha_optimizer.step()


def main():
    torch.manual_seed(0)
    pi = Policy()
    before = pi.log_alpha.item()
    for _ in range(2):
        pi.train_net(torch.randn(8, 3))
    return {"pi": pi}, {"alpha_changed": pi.log_alpha.item() != before}
""",
            expect={'grad_ok': ['pi.fc.weight'], 'facts': {'alpha_changed': True}},
        ),
        Example(
            name="per-layer-output-dicts-with-the-boxes-detached",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Decoder(nn.Module):
    def __init__(self, d=8):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(d, d) for _ in range(2)])
        self.cls_head = nn.Linear(d, 3)
        self.box_head = nn.Linear(d, 4)

    def forward(self, x):
        outs = []
        for layer in self.layers:
            x = torch.relu(layer(x))
            outs.append({"logits": self.cls_head(x), "boxes": self.box_head(x).sigmoid()})
        return outs


def box_part(pred):
    return pred.detach()


def set_loss(out, labels, boxes):
    return F.cross_entropy(out["logits"], labels) + F.l1_loss(box_part(out["boxes"]), boxes)


def main():
    torch.manual_seed(0)
    model = Decoder()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, labels, boxes = torch.randn(6, 8), torch.randint(0, 3, (6,)), torch.rand(6, 4)
    opt.zero_grad()
    loss = sum(set_loss(o, labels, boxes) for o in model(x))
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(22,),
            expect={'grad_none': ['model.box_head.weight'], 'grad_ok': ['model.cls_head.weight']},
            fixed_expect={'grad_ok': ['model.box_head.weight', 'model.cls_head.weight']},
        ),
        Example(
            bad=False,
            name="per-layer-output-dicts-all-trained",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Decoder(nn.Module):
    def __init__(self, d=8):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(d, d) for _ in range(2)])
        self.cls_head = nn.Linear(d, 3)
        self.box_head = nn.Linear(d, 4)

    def forward(self, x):
        outs = []
        for layer in self.layers:
            x = torch.relu(layer(x))
            outs.append({"logits": self.cls_head(x), "boxes": self.box_head(x).sigmoid()})
        return outs


def box_part(pred):
    return pred


def set_loss(out, labels, boxes):
    return F.cross_entropy(out["logits"], labels) + F.l1_loss(box_part(out["boxes"]), boxes)


def main():
    torch.manual_seed(0)
    model = Decoder()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, labels, boxes = torch.randn(6, 8), torch.randint(0, 3, (6,)), torch.rand(6, 4)
    opt.zero_grad()
    loss = sum(set_loss(o, labels, boxes) for o in model(x))
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={'grad_ok': ['model.box_head.weight', 'model.cls_head.weight']},
        ),
    )

    cut_kinds = frozenset({"detach", "data"})  # the GradientFlow cut kinds this rule reports

    def check(self, facts):
        def describe(kind, node, st):
            if kind == "data":
                return "`.data`"
            if _state_dict(node):
                return "`.state_dict()` (detached copies of the parameters)"
            return "`.detach_()`" if _in_place(node) else "`.detach()`"

        def fixes_for(kind, node, st):
            if id(node) in facts.flow.straight_through:
                return []  # ``z + (q - z).detach()`` without the detach is ``q``: ``z`` would lose its gradient
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                return []  # ``w.data = f(m)``: without ``.data`` the assignment rebinds (or, for a parameter, raises)
            if _state_dict(node):
                if not sole_cut(st, self.cut_kinds) or node.args or node.keywords:
                    return []
                # ``keep_vars=True``: the parameters themselves; unsafe, since an in-place write into an entry now
                # changes the parameter
                return [lambda: fix("Keep the parameters' graph: `state_dict(keep_vars=True)`", replace_node(facts, node, f"{facts.text(node.func)}(keep_vars=True)"), unsafe=True)]
            if _serves_another_loss(facts, node, st):
                return []  # the same detached value feeds a loss that must not reach these parameters
            if not sole_cut(st, self.cut_kinds):
                return []  # a cut of another kind starves the same parameters: removing this one restores nothing
            if _in_place(node):
                # ``h.detach_()`` on its own line: the statement goes (a detached copy, if one was wanted
                # elsewhere, is ``h.detach()`` there); unsafe, since other code may rely on the tensor being cut
                stmt = facts.parent(node)
                if not isinstance(stmt, ast.Expr):
                    return []
                start, end = facts.start(stmt), facts.end(stmt)
                if facts.source.line(start.line)[: start.col].strip() or facts.source.line(end.line)[end.col :].strip():
                    return []
                edit = delete_between(facts, Pos(start.line, 0), Pos(end.line + 1, 0))
                return [lambda: fix("Remove the in-place `.detach_()`", edit, unsafe=True)]
            what = "`.data`" if kind == "data" else "`.detach()`"
            return [lambda: fix(f"Remove {what}", delete_method_call(facts, node, also_following=("requires_grad_",)))]

        moved: set = set()
        starvations = find_starvations(facts)  # (walks the training code: the estimators are known after it)
        if starvations and facts.flow.straight_through:
            for f, st in _straight_through_terms(self, facts):
                # one fact, one finding: the other detaches in front of the same parameters at that loss (the commitment
                # term's ``q.detach()``, meant) are not reported apart
                moved.update(id(o.cut.node) for o in starvations if o.site is st.site and o.cut.kind in self.cut_kinds and set(o.roots) & set(st.roots))
                yield f
        yield from cut_findings(self, facts, self.cut_kinds, describe, fixes_for, skip=moved)


def _straight_through_terms(rule, facts):
    """A loss term on the output of a straight-through estimator, compared with a detached copy of the estimator's
    input (``codebook_loss = F.mse_loss(z_q, z_e.detach())`` with ``z_q = z_e + (q - z_e).detach()``): its gradient goes
    to ``z_e`` only (``z_q`` is ``z_e`` plus a constant), so the codebook ``q`` came from gets none through it. When that
    detach is all that stands between such parameters and the loss, the term is what to change: compute it on ``q``
    (the codebook output itself). (finding, the starvation) for each."""
    seen: set = set()
    for st in find_starvations(facts):
        cut = st.cut.node
        if st.cut.kind != "detach" or id(cut) not in facts.flow.straight_through or id(cut) in seen or st.no_path:
            continue
        for fl in (*facts.flows, *facts.flow.context_flows):
            term = next((ev for ev in fl.events if ev.what == "straight_through_loss" and _compares_with_its_input(ev, cut, st.roots)), None)
            if term is None:
                continue
            seen.add(id(cut))
            out = facts.text(term.node) if len(facts.text(term.node)) <= 60 else "this loss term"
            yield rule.finding(
                facts,
                term.node,
                f"`{out}` is computed on the output of the straight-through estimator at line {getattr(cut, 'lineno', 0)}, whose gradient goes "
                f"only to its input: {roots_label(st.roots)} {'gets' if len(st.roots) == 1 else 'get'} no gradient from it, nor from "
                f"anything else in {st.site.label}",
                related=[(cut, "the straight-through estimator: the value of its detached part, the gradient of the other"), (st.site.node, "backward() through the loss here")],
                explanation="`z + (q - z).detach()` equals `q` in the forward pass, but autograd sees `z` plus a constant: a loss on it "
                "trains only what `z` came from. A term meant to move `q` (a VQ codebook loss) must be computed on `q` itself, "
                "e.g. `F.mse_loss(q, z.detach())`; keep the straight-through output for the decoder.",
            ), st
            break


def _compares_with_its_input(ev, cut, roots: list) -> bool:
    """The event's two arguments: the straight-through output (carrying ``cut`` for ``roots``) and a detached copy of what
    it passes its gradient to (cut roots covering the output's live ones), in either order."""
    a, b = ev.value, ev.target
    if a is None or b is None:
        return False
    for st_out, other in ((a, b), (b, a)):
        carried = {r for r, c in st_out.cut if c.node is cut}
        live = {r for r in st_out.live if r != "?"}
        # (the estimator's own walk names the parts from its ``self``: ``self.codebook`` is the caller's ``self.quantizer.codebook``)
        named = any(r == c or (c.startswith("self.") and r.endswith(c[4:])) for c in carried for r in roots)
        if named and live and not other.live and live <= {r for r, c in other.cut if c.kind == "detach"}:
            return True
    return False


def _state_dict(node) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "state_dict"


def _in_place(node) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "detach_"


def _serves_another_loss(facts, node, st) -> bool:
    """Does this cut also stand between its roots and another backpropagated loss that does not want them
    trained (a discriminator step fed the same ``G(z).detach()``)? Then removing it would make that loss
    backpropagate into them, and the second backward through the shared graph raises."""
    for fl in facts.backward_flows:
        for site in fl.loss_sites:
            if site is st.site or site.node is st.site.node:
                continue
            if any(c.node is node for _, c in site.loss.cut):
                return True
    return False
