"""GG903 second-backward-without-retain-graph: two backward passes through the same graph, the first one
freeing it."""
from __future__ import annotations

import ast
import re
from typing import Optional, cast

from gradguard.core.astindex import statement_nodes, walk_nodes
from gradguard.core.flow import BackwardSite
from gradguard.core.flow import related as related_roots
from gradguard.core.model import Applicability, Edit, Fix, Severity
from gradguard.core.paramnames import single_binding
from gradguard.core.source import Pos
from gradguard.core.starvation import frozen_paths, is_frozen, plain_object_data
from gradguard.core.torchapi import FACTORIES, LOSS_SINK_WORDS, NOTHING_SAVED_METHODS, is_module_ctor
from gradguard.fixes import fix, replace_node
from gradguard.rules.base import Example, Rule

DETACHING_ATTRS = {"detach", "item", "data", "tolist", "numpy", "numel", "size", "shape", "dtype", "device"}
DETACHING_CALLS = {"float", "int", "len", "bool"}
_BACKWARD_CALL = re.compile(r"backward\(|\.grad\(")


class SecondBackwardWithoutRetainGraph(Rule):
    code = "GG903"
    name = "second-backward-without-retain-graph"
    summary = "Two `backward()` calls go through the same graph (the same loss, or losses sharing an intermediate computed once) without `retain_graph=True` on the first."
    severity = Severity.ERROR
    needs = LOSS_SINK_WORDS
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags an optimizer step between a `backward(retain_graph=True)` and a second backward through the kept graph
(two losses from one forward, `logits, rec = model(x)`), when the step holds parameters that graph computed with:
the step updates them in place, and the second backward raises (error; a part recomputed after the step, such as
a GAN's discriminator run again on the kept `fake`, records a new graph and is fine).
It also looks at consecutive backward passes in the same block (`a.backward()` ... `b.backward()`, or
`torch.autograd.grad`) and flags the first one when it has no `retain_graph=True` (or `create_graph=True`)
and the second goes through part of the same graph: the same loss tensor, or a non-leaf intermediate
(`z = encoder(x)`) that both losses were built from and that is not recomputed in between; also one
`backward()` inside a loop whose loss is built, every iteration, from a graph computed once before the
loop (`outputs = model(x)`, then one backward per task; also the value the last iteration of an earlier loop left, a
GAN's `fake = G(z)` from the discriminator steps reused by every generator step), also when that value is an argument the caller computed
once, before the call (`adj = model.normalized_adjacency(edges)`, then `train(model, adj, loader, opt)`), or unpacked
from what the caller passes (`states, old_logp = batch` in `update(policy, opt, collect(policy, states))`, whose rollout
kept the log-probabilities' graph through the policy: the PPO epochs backpropagate through it again), or by a
helper that runs a module it is given (`loader = build_loader(model, x)`), or by arithmetic that saves tensors
(`*`, `/`, `**`, `exp`, ...; `+`, `-` and views save none) on a leaf that requires grad (`t = 3.0 * torch.rand(n, 1,
requires_grad=True)`, also in a helper the value comes from): there the fix is to make the value the leaf
(`(3.0 * torch.rand(n, 1)).requires_grad_()`), so none is offered; a value the code reads `.grad` of or hands to an
optimizer is left to GG401 / GG403, which say what fails first. A `DataLoader` over a `TensorDataset` of such a
value carries its graph: every batch is a slice of the one graph built before the loop. When an optimizer steps inside
that loop, keeping the graph (`retain_graph=True`) would not help: the finding is then on the statement that computes the
value (detach it, as a PPO advantage or a fixed target, or compute it in the loop), with the backward as related
information; the value may also come through names assigned once before the loop (`advantages = returns - values` with
`values = self.critic(state)`), in a trainer object's method run with its caller's objects. Losses built
from separate forward passes, from detached values (`D(fake.detach())`, also through a helper that returns
`t.clone().detach().requires_grad_()`: a new leaf per call), or a first backward with `retain_graph=True` stay
silent.
Also the same two passes spread over an object's methods, as pix2pix-style models write them: a method runs
`self.forward(...)`, which keeps a graph tensor on the object (`self.pred_fake = self.netD(...)`), then
`self.backward_D()` and `self.backward_G()`, whose losses are both built from that attribute (not detached) and
backpropagated, with nothing computing it again in between.
Also a `loss.backward()` of your own in a method whose returned loss the framework backpropagates (a Lightning
`training_step` under automatic optimization, a Hugging Face Trainer's `compute_loss`), before that `return loss`: the
framework's backward is the second one (the fix removes yours).

A `backward(retain_graph=True)` inside a loop whose loss is built in every iteration from a value computed once before
the loop (a GAN's `fake = G(z)` reused by each of several generator steps), with an optimizer stepping in the loop the
parameters that value's graph saved: the graph is kept, but the next iteration's backward goes through it after the
step changed those parameters in place, and raises `one of the variables needed for gradient computation has been
modified by an inplace operation`. Reported on the step, without a fix (compute the value again in every iteration).

## Why is this bad?
`backward()` frees the intermediate buffers of every graph node it traverses. The second pass reaches
those nodes again and raises `RuntimeError: Trying to backward through the graph a second time (or
directly access saved tensors after they have already been freed)`.

## Example
```python
z = encoder(x)
loss_a = crit_a(head_a(z), ya)
loss_b = crit_b(head_b(z), yb)
loss_a.backward()
loss_b.backward()      # RuntimeError
```

## Use instead
```python
loss_a.backward(retain_graph=True)
loss_b.backward()
```
(or, usually better, `(loss_a + loss_b).backward()`).

## Fix safety
Adding `retain_graph=True` to the first call is safe: the gradients are the same, the graph's buffers are
only kept until the last pass frees them. It is not offered when an optimizer steps between the two passes
(or inside the loop): the step changes in place the parameters the kept graph saved, and the second pass
would raise anyway; compute the second loss from a fresh forward pass instead.

A value computed once before a loop whose optimizer holds none of the parameters it carries (a fixed target: style
Gram matrices made through a network only the image is optimized against) gets an unsafe fix computing it under
`with torch.no_grad():`, which changes no gradient the stepped optimizer uses.
"""
    examples = (
        Example(
            name="style-target-computed-once-through-a-network-the-image-is-optimized-against",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def gram(f):
    return f @ f.t() / f.numel()


def targets_of(net, style):
    return gram(net(style))


def transfer(net, content, style, steps=3):
    style_target = targets_of(net, style)
    image = content.clone().requires_grad_(True)
    opt = torch.optim.Adam([image], lr=0.05)
    for _ in range(steps):
        loss = F.mse_loss(gram(net(image)), style_target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return image


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 8), nn.Tanh())
    content, style = torch.rand(4, 8), torch.rand(4, 8)
    image = transfer(net, content, style)
    return {"net": net}, {"image_changed": not torch.equal(image.detach(), content)}
""",
            lines=(15,),
            expect={'error': 'backward through the graph a second time'},
            fixed_expect={'facts': {'image_changed': True}},
        ),
        Example(
            bad=False,
            name="style-target-computed-once-without-a-graph",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def gram(f):
    return f @ f.t() / f.numel()


def targets_of(net, style):
    return gram(net(style))


def transfer(net, content, style, steps=3):
    with torch.no_grad():
        style_target = targets_of(net, style)
    image = content.clone().requires_grad_(True)
    opt = torch.optim.Adam([image], lr=0.05)
    for _ in range(steps):
        loss = F.mse_loss(gram(net(image)), style_target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return image


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 8), nn.Tanh())
    content, style = torch.rand(4, 8), torch.rand(4, 8)
    image = transfer(net, content, style)
    return {"net": net}, {"image_changed": not torch.equal(image.detach(), content)}
""",
            expect={'facts': {'image_changed': True}},
        ),
        Example(
            name="generator-steps-reuse-one-fake-through-a-kept-graph",
            code="""import torch
import torch.nn as nn


def train_round(G, D, opt_g, opt_d, real, g_steps=3):
    z = torch.randn(real.shape[0], 4)
    fake = G(z)
    opt_d.zero_grad()
    d_loss = D(fake.detach()).mean() - D(real).mean()
    d_loss.backward()
    opt_d.step()
    for _ in range(g_steps):
        opt_g.zero_grad()
        g_loss = -D(fake).mean()
        g_loss.backward(retain_graph=True)
        opt_g.step()


def main():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    D = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3)
    for _ in range(2):
        train_round(G, D, opt_g, opt_d, torch.randn(8, 2))
    return {"G": G}
""",
            lines=(16,),
            expect={"error": "modified by an inplace operation"},
            fixable=False,
        ),
        Example(
            name="generator-steps-each-make-a-fresh-fake",
            code="""import torch
import torch.nn as nn


def train_round(G, D, opt_g, opt_d, real, g_steps=3):
    z = torch.randn(real.shape[0], 4)
    fake = G(z)
    opt_d.zero_grad()
    d_loss = D(fake.detach()).mean() - D(real).mean()
    d_loss.backward()
    opt_d.step()
    for _ in range(g_steps):
        fake = G(z)
        opt_g.zero_grad()
        g_loss = -D(fake).mean()
        g_loss.backward(retain_graph=True)
        opt_g.step()


def main():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    D = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3)
    for _ in range(2):
        train_round(G, D, opt_g, opt_d, torch.randn(8, 2))
    return {"G": G}
""",
            bad=False,
            expect={"grad_ok": ["G.0.weight", "G.2.weight"]},
        ),
        Example(
            name="object-keeps-the-critic-score-and-both-losses-backpropagate-it",
            code="""import torch
import torch.nn as nn


class Pix2Pix:
    def __init__(self):
        self.netG, self.netD = nn.Linear(4, 4), nn.Linear(8, 1)
        self.opt_G = torch.optim.SGD(self.netG.parameters(), lr=0.1)
        self.opt_D = torch.optim.SGD(self.netD.parameters(), lr=0.1)

    def forward(self, real_A, real_B):
        self.real_A, self.real_B = real_A, real_B
        self.fake_B = self.netG(real_A)
        self.pred_fake = self.netD(torch.cat([real_A, self.fake_B], 1))

    def backward_D(self):
        pred_fake = self.pred_fake
        pred_real = self.netD(torch.cat([self.real_A, self.real_B], 1))
        self.loss_D = pred_fake.mean() - pred_real.mean()
        self.loss_D.backward()

    def backward_G(self):
        pred_fake = self.pred_fake
        self.loss_G = -pred_fake.mean() + (self.fake_B - self.real_B).abs().mean()
        self.loss_G.backward()

    def optimize(self, real_A, real_B):
        self.forward(real_A, real_B)
        self.opt_D.zero_grad()
        self.backward_D()
        self.opt_D.step()
        self.opt_G.zero_grad()
        self.backward_G()
        self.opt_G.step()


def main():
    torch.manual_seed(0)
    gan = Pix2Pix()
    for _ in range(2):
        gan.optimize(torch.randn(8, 4), torch.randn(8, 4))
    return {"netG": gan.netG, "netD": gan.netD}
""",
            lines=(20,),
            expect={"error": "backward through the graph a second time"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="object-keeps-the-fake-the-critic-scores-it-detached-then-again-for-the-generator",
            code="""import torch
import torch.nn as nn


class Pix2Pix:
    def __init__(self):
        self.netG, self.netD = nn.Linear(4, 4), nn.Linear(8, 1)
        self.opt_G = torch.optim.SGD(self.netG.parameters(), lr=0.1)
        self.opt_D = torch.optim.SGD(self.netD.parameters(), lr=0.1)

    def forward(self, real_A, real_B):
        self.real_A, self.real_B = real_A, real_B
        self.fake_B = self.netG(real_A)
        self.pred_fake = self.netD(torch.cat([real_A, self.fake_B], 1))

    def backward_D(self):
        pred_fake = self.netD(torch.cat([self.real_A, self.fake_B.detach()], 1))
        pred_real = self.netD(torch.cat([self.real_A, self.real_B], 1))
        self.loss_D = pred_fake.mean() - pred_real.mean()
        self.loss_D.backward()

    def backward_G(self):
        pred_fake = self.netD(torch.cat([self.real_A, self.fake_B], 1))
        self.loss_G = -pred_fake.mean() + (self.fake_B - self.real_B).abs().mean()
        self.loss_G.backward()

    def optimize(self, real_A, real_B):
        self.forward(real_A, real_B)
        self.opt_D.zero_grad()
        self.backward_D()
        self.opt_D.step()
        self.opt_G.zero_grad()
        self.backward_G()
        self.opt_G.step()


def main():
    torch.manual_seed(0)
    gan = Pix2Pix()
    for _ in range(2):
        gan.optimize(torch.randn(8, 4), torch.randn(8, 4))
    return {"netG": gan.netG, "netD": gan.netD}
""",
            expect={"grad_ok": ["netG.weight", "netD.weight"]},
        ),
        Example(
            name="features-computed-once-before-the-loop",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    enc, head = nn.Linear(4, 4), nn.Linear(4, 1)
    opt = torch.optim.SGD(head.parameters(), lr=0.1)
    x = torch.randn(8, 4)
    feats = enc(x)
    for _ in range(3):
        loss = head(feats).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"head": head}
""",
            lines=(10,),
            expect={"error": "backward through the graph a second time"},
            fixable=False,
        ),
        Example(
            name="learned-mask-built-once-by-the-caller-and-passed-to-the-loop",
            code="""import torch
import torch.nn as nn


class Masked(nn.Module):
    def __init__(self):
        super().__init__()
        self.mask_logits = nn.Parameter(torch.zeros(4))
        self.lin = nn.Linear(4, 1)

    def mask(self):
        return torch.sigmoid(self.mask_logits) * 2.0

    def forward(self, x, mask):
        return self.lin(x * mask)


def fit(model, mask, batches, opt):
    for x, y in batches:
        loss = (model(x, mask) - y).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    torch.manual_seed(0)
    model = Masked()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    mask = model.mask()
    fit(model, mask, [(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(3)], opt)
    return {"model": model}
""",
            lines=(22,),
            expect={"error": "backward through the graph a second time"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="mask-rebuilt-each-step-or-built-once-without-a-graph",
            code="""import torch
import torch.nn as nn


class Masked(nn.Module):
    def __init__(self):
        super().__init__()
        self.mask_logits = nn.Parameter(torch.zeros(4))
        self.lin = nn.Linear(4, 1)

    def mask(self):
        return torch.sigmoid(self.mask_logits) * 2.0

    def forward(self, x, mask):
        return self.lin(x * mask)


def fit(model, mask, batches, opt):
    for x, y in batches:
        loss = (model(x, mask if mask is not None else model.mask()) - y).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    torch.manual_seed(0)
    model = Masked()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(3)]
    fit(model, None, batches, opt)
    with torch.no_grad():
        fixed = model.mask()
    fit(model, fixed, batches, opt)
    return {"model": model}
""",
            expect={"grad_ok": ["model.lin.weight"]},
        ),
        Example(
            bad=False,
            name="frozen-features-detached-once-before-the-loop",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    enc, head = nn.Linear(4, 4), nn.Linear(4, 1)
    opt = torch.optim.SGD(head.parameters(), lr=0.1)
    x = torch.randn(8, 4)
    feats = enc(x).detach()
    for _ in range(3):
        loss = head(feats).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"head": head}
""",
            expect={"grad_ok": ["head.weight"]},
        ),
        Example(
            name="two-heads-shared-trunk",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    trunk = nn.Sequential(nn.Linear(5, 8), nn.ReLU())
    reg, clf = nn.Linear(8, 1), nn.Linear(8, 2)
    x = torch.randn(6, 5)
    feats = trunk(x)
    loss_reg = reg(feats).pow(2).mean()
    loss_clf = nn.functional.cross_entropy(clf(feats), torch.randint(0, 2, (6,)))
    loss_reg.backward()
    loss_clf.backward()
    return {"trunk": trunk, "reg": reg, "clf": clf}
""",
            lines=(13,),
            expect={"error": "Trying to backward through the graph a second time"},
        ),
        Example(
            name="same-loss-twice",
            code="""import torch


def main():
    w = torch.randn(3, requires_grad=True)
    loss = (w.exp() * 2).sum()
    loss.backward()
    first = w.grad.clone()
    loss.backward()
    return {"w": w}
""",
            lines=(7,),
            expect={"error": "Trying to backward through the graph a second time"},
        ),
        Example(
            name="one-backward-per-task-in-a-loop",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    trunk = nn.Sequential(nn.Linear(5, 8), nn.ReLU())
    heads = nn.ModuleDict({"a": nn.Linear(8, 1), "b": nn.Linear(8, 1)})
    opt = torch.optim.SGD([*trunk.parameters(), *heads.parameters()], lr=0.1)
    feats = trunk(torch.randn(6, 5))
    opt.zero_grad()
    for name, head in heads.items():
        loss = head(feats).pow(2).mean()
        loss.backward()
    opt.step()
    return {"trunk": trunk, "heads": heads}
""",
            lines=(14,),
            expect={"error": "Trying to backward through the graph a second time"},
        ),
        Example(
            bad=False,
            name="features-detached-before-the-probe-loop",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    trunk, probe = nn.Linear(5, 8), nn.Linear(8, 1)
    opt = torch.optim.SGD(probe.parameters(), lr=0.1)
    feats = trunk(torch.randn(6, 5)).detach()
    for _ in range(3):
        loss = probe(feats).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"probe": probe}
""",
            expect={"grad_ok": ["probe.weight"]},
        ),
        Example(
            bad=False,
            name="gan-detached-fake",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    gen, disc = nn.Linear(3, 3), nn.Linear(3, 1)
    fake = gen(torch.randn(5, 3))
    d_loss = disc(fake.detach()).mean() - disc(torch.randn(5, 3)).mean()
    d_loss.backward()
    g_loss = -disc(fake).mean()
    g_loss.backward()
    return {"gen": gen, "disc": disc}
""",
            expect={"grad_ok": ["gen.weight", "disc.weight"]},
        ),
        Example(
            bad=False,
            name="helper-copies-the-shared-value-into-fresh-leaves",
            code="""import torch
import torch.nn as nn


def fresh_copy(t):
    return t.clone().detach().requires_grad_(True)


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 4)
    feats = net(torch.randn(3, 4))
    a = fresh_copy(feats)
    b = fresh_copy(feats)
    opt = torch.optim.SGD([a, b], lr=0.1)
    opt.zero_grad()
    torch.roll(a * 2, 1, 0).sum().backward()
    b.tanh().sum().backward()
    opt.step()
    return {"a": a, "b": b}
""",
            expect={"grad_ok": ["a", "b"]},
        ),
        Example(
            bad=False,
            name="recomputed-between",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 2)
    x = torch.randn(4, 3)
    out = net(x)
    out.pow(2).mean().backward()
    out = net(x)
    out.abs().mean().backward()
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight"]},
        ),
        Example(
            name="features-computed-once-by-a-helper-and-served-by-a-dataloader",
            code="""import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def make_loader(encoder, x, y):
    feats = torch.relu(encoder(x))
    return DataLoader(TensorDataset(feats, y), batch_size=4)


def fit(head, loader, opt):
    for f, y in loader:
        loss = (head(f).squeeze(-1) - y).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    torch.manual_seed(0)
    encoder, head = nn.Linear(6, 4), nn.Linear(4, 1)
    opt = torch.optim.SGD([*encoder.parameters(), *head.parameters()], lr=0.1)
    loader = make_loader(encoder, torch.randn(12, 6), torch.randn(12))
    fit(head, loader, opt)
    return {"head": head}
""",
            lines=(15,),
            expect={"error": "backward through the graph a second time"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="features-served-by-a-dataloader-computed-without-a-graph-or-per-batch",
            code="""import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


@torch.no_grad()
def make_loader(encoder, x, y):
    feats = torch.relu(encoder(x))
    return DataLoader(TensorDataset(feats, y), batch_size=4)


def fit(encoder, head, loader, opt):
    for x, y in loader:
        loss = (head(torch.relu(encoder(x))).squeeze(-1) - y).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    torch.manual_seed(0)
    encoder, head = nn.Linear(6, 4), nn.Linear(4, 1)
    x, y = torch.randn(12, 6), torch.randn(12)
    opt = torch.optim.SGD(head.parameters(), lr=0.1)
    fixed = make_loader(encoder, x, y)
    fit(nn.Identity(), head, fixed, opt)
    opt = torch.optim.SGD([*encoder.parameters(), *head.parameters()], lr=0.1)
    fit(encoder, head, DataLoader(TensorDataset(x, y), batch_size=4), opt)
    return {"head": head, "encoder": encoder}
""",
            expect={"grad_ok": ["head.weight", "encoder.weight"]},
        ),
        Example(
            name="lightning-training-step-backpropagates-the-loss-it-returns",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Regressor(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.mse_loss(self.net(x).squeeze(-1), y)
        loss.backward()
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(16, 4), torch.randn(16))
    model = Regressor()
    before = model.net.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=8))
    return {"model": model}, {"changed": not torch.equal(before, model.net.weight)}
""",
            expect={"error": "backward through the graph a second time"},
            lines=(16,),
        ),
        Example(
            bad=False,
            name="lightning-training-step-returns-the-loss-for-the-trainer",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Regressor(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.mse_loss(self.net(x).squeeze(-1), y)
        self.log("train_loss", loss.item())
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(16, 4), torch.randn(16))
    model = Regressor()
    before = model.net.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=8))
    return {"model": model}, {"changed": not torch.equal(before, model.net.weight)}
""",
            expect={"facts": {"changed": True}},
        ),
        Example(
            name="step-between-a-retained-backward-and-the-second-backward-of-a-shared-forward",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU())
        self.cls_head = nn.Linear(8, 3)
        self.rec_head = nn.Linear(8, 6)

    def forward(self, x):
        h = self.encoder(x)
        return self.cls_head(h), self.rec_head(h)


def main():
    torch.manual_seed(0)
    model = TwoHeads()
    opt_sup = torch.optim.SGD(model.parameters(), lr=0.1)
    opt_rec = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
    for _ in range(2):
        opt_sup.zero_grad()
        opt_rec.zero_grad()
        logits, rec = model(x)
        loss_sup = F.cross_entropy(logits, y)
        loss_rec = F.mse_loss(rec, x)
        loss_sup.backward(retain_graph=True)
        opt_sup.step()
        loss_rec.backward()
        opt_rec.step()
    return {"model": model}
""",
            lines=(31,),
            fixable=False,
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            name="discriminator-stepped-after-a-retained-backward-then-run-again-for-the-generator",
            bad=False,
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6))
    D = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 1))
    opt_g = torch.optim.Adam(G.parameters())
    opt_d = torch.optim.Adam(D.parameters())
    bce = nn.BCEWithLogitsLoss()
    for _ in range(2):
        fake = G(torch.randn(5, 4))
        opt_d.zero_grad()
        d_loss = bce(D(fake), torch.zeros(5, 1))
        d_loss.backward(retain_graph=True)
        opt_d.step()
        opt_g.zero_grad()
        g_loss = bce(D(fake), torch.ones(5, 1))
        g_loss.backward()
        opt_g.step()
    return {"G": G, "D": D}
""",
            expect={"grad_ok": ["G.0.weight", "D.0.weight"]},
        ),
        Example(
            name="loss-from-a-helper-backpropagated-again-after-a-sam-first-step",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def task_loss(model, x, y):
    return F.cross_entropy(model(x), y)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        x, y = torch.randn(5, 6), torch.randint(0, 3, (5,))
        loss = task_loss(model, x, y)
        loss.backward()
        with torch.no_grad():
            eps = [0.05 * p.grad / (p.grad.norm() + 1e-12) for p in model.parameters()]
            for p, e in zip(model.parameters(), eps):
                p.add_(e)
        opt.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p, e in zip(model.parameters(), eps):
                p.sub_(e)
        opt.step()
        opt.zero_grad()
    return {"model": model}
""",
            lines=(17,),
            fixable=False,
            expect={"error": "backward through the graph a second time"},
        ),
        Example(
            bad=False,
            name="loss-recomputed-by-the-helper-before-the-sam-second-backward",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def task_loss(model, x, y):
    return F.cross_entropy(model(x), y)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        x, y = torch.randn(5, 6), torch.randint(0, 3, (5,))
        loss = task_loss(model, x, y)
        loss.backward()
        with torch.no_grad():
            eps = [0.05 * p.grad / (p.grad.norm() + 1e-12) for p in model.parameters()]
            for p, e in zip(model.parameters(), eps):
                p.add_(e)
        opt.zero_grad()
        loss = task_loss(model, x, y)
        loss.backward()
        with torch.no_grad():
            for p, e in zip(model.parameters(), eps):
                p.sub_(e)
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.weight"]},
        ),
        Example(
            name="collocation-points-scaled-once-from-a-leaf-before-the-loop",
            code="""import torch
import torch.nn as nn


def collocation_points(n=16, t_max=3.0):
    return t_max * torch.rand(n, 1, requires_grad=True)


def train(model, opt, steps=3):
    t = collocation_points()
    for _ in range(steps):
        u = model(t)
        du = torch.autograd.grad(u.sum(), t, create_graph=True)[0]
        loss = (du + u).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, opt)
    return {"model": model}
""",
            lines=(16,),
            expect={"error": "Trying to backward through the graph a second time"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="collocation-points-made-a-leaf-after-the-scaling",
            code="""import torch
import torch.nn as nn


def collocation_points(n=16, t_max=3.0):
    return (t_max * torch.rand(n, 1)).requires_grad_()


def train(model, opt, steps=3):
    t = collocation_points()
    for _ in range(steps):
        u = model(t)
        du = torch.autograd.grad(u.sum(), t, create_graph=True)[0]
        loss = (du + u).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, opt)
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.weight", "model.2.weight"]},
        ),
        Example(
            bad=False,
            name="offset-added-once-to-a-trained-leaf-saves-nothing",
            code="""import torch
import torch.nn as nn


def train(model, opt, steps=3):
    base = torch.rand(16, 1, requires_grad=True)
    opt.add_param_group({"params": [base]})
    t = base + 1.0
    for _ in range(steps):
        u = model(t)
        du = torch.autograd.grad(u.sum(), t, create_graph=True)[0]
        loss = (du + u).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, opt)
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.weight", "model.2.weight"]},
        ),
        Example(
            name="item-table-encoded-once-before-the-epoch-loop",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    users, items = nn.Linear(4, 8), nn.Linear(3, 8)
    opt = torch.optim.Adam([*users.parameters(), *items.parameters()], lr=1e-2)
    item_feats = torch.randn(10, 3)
    batches = [(torch.randn(6, 4), torch.randint(0, 10, (6,))) for _ in range(2)]
    item_table = items(item_feats)
    for epoch in range(2):
        for x, liked in batches:
            loss = F.cross_entropy(users(x) @ item_table.T, liked)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return {"users": users, "items": items}
""",
            lines=(12,),
            fixable=False,
            expect={"error": "Trying to backward through the graph a second time"},
        ),
        Example(
            bad=False,
            name="item-table-encoded-again-every-epoch-under-no-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    users, items = nn.Linear(4, 8), nn.Linear(3, 8)
    opt = torch.optim.Adam(users.parameters(), lr=1e-2)
    item_feats = torch.randn(10, 3)
    batches = [(torch.randn(6, 4), torch.randint(0, 10, (6,))) for _ in range(2)]
    for epoch in range(2):
        with torch.no_grad():
            item_table = items(item_feats)
        for x, liked in batches:
            loss = F.cross_entropy(users(x) @ item_table.T, liked)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return {"users": users}
""",
            expect={"grad_ok": ["users.weight"]},
        ),
        Example(
            name="fake-left-by-the-discriminator-steps-reused-by-every-generator-step",
            code="""import torch
import torch.nn as nn


def train_round(G, D, opt_g, opt_d, real, d_steps=2, g_steps=2):
    for _ in range(d_steps):
        fake = G(torch.randn_like(real))
        opt_d.zero_grad()
        (D(fake.detach()).mean() - D(real).mean()).backward()
        opt_d.step()
    for _ in range(g_steps):
        opt_g.zero_grad()
        loss = -D(fake).mean()
        loss.backward()
        opt_g.step()


def main():
    torch.manual_seed(0)
    G, D = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 4)), nn.Linear(4, 1)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3)
    train_round(G, D, opt_g, opt_d, torch.randn(8, 4))
    return {"G": G}
""",
            lines=(14,),
            expect={"error": "backward through the graph a second time"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="fake-generated-anew-in-every-generator-step",
            code="""import torch
import torch.nn as nn


def train_round(G, D, opt_g, opt_d, real, d_steps=2, g_steps=2):
    for _ in range(d_steps):
        fake = G(torch.randn_like(real))
        opt_d.zero_grad()
        (D(fake.detach()).mean() - D(real).mean()).backward()
        opt_d.step()
    for _ in range(g_steps):
        opt_g.zero_grad()
        fake = G(torch.randn_like(real))
        loss = -D(fake).mean()
        loss.backward()
        opt_g.step()


def main():
    torch.manual_seed(0)
    G, D = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 4)), nn.Linear(4, 1)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3)
    train_round(G, D, opt_g, opt_d, torch.randn(8, 4))
    return {"G": G}
""",
            expect={"grad_ok": ["G.0.weight", "G.2.weight"]},
        ),
        Example(
            name="gan-fake-scored-undetached-by-the-critic-then-reused-for-the-generator",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    D = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3)
    for _ in range(3):
        real = torch.randn(16, 2) + 3
        fake = G(torch.randn(16, 2))
        loss_d = F.softplus(D(fake)).mean() + F.softplus(-D(real)).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = F.softplus(-D(fake)).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return {"G": G, "D": D}
""",
            lines=(17,),
            expect={"error": "backward through the graph a second time"},
        ),
        Example(
            name="old-log-probs-from-the-caller-keep-the-rollout-graph",
            code="""import torch
import torch.nn as nn


def collect(policy, states):
    logps = []
    for s in states:
        logps.append(policy(s).log_softmax(-1)[0])
    return states, torch.stack(logps)


def update(policy, opt, batch, epochs=3):
    states, old_logp = batch
    for _ in range(epochs):
        new_logp = policy(states).log_softmax(-1)[:, 0]
        loss = -torch.exp(new_logp - old_logp).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    torch.manual_seed(0)
    policy = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    opt = torch.optim.Adam(policy.parameters(), lr=1e-3)
    update(policy, opt, collect(policy, torch.randn(5, 4)))
    return {"policy": policy}
""",
            lines=(18,),
            expect={'error': 'Trying to backward through the graph a second time'},
            fixable=False,
        ),
        Example(
            bad=False,
            name="old-log-probs-from-the-caller-detached",
            code="""import torch
import torch.nn as nn


def collect(policy, states):
    logps = []
    for s in states:
        logps.append(policy(s).log_softmax(-1)[0].detach())
    return states, torch.stack(logps)


def update(policy, opt, batch, epochs=3):
    states, old_logp = batch
    for _ in range(epochs):
        new_logp = policy(states).log_softmax(-1)[:, 0]
        loss = -torch.exp(new_logp - old_logp).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    torch.manual_seed(0)
    policy = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    opt = torch.optim.Adam(policy.parameters(), lr=1e-3)
    update(policy, opt, collect(policy, torch.randn(5, 4)))
    return {"policy": policy}
""",
            expect={'grad_ok': ['policy.0.weight']},
        ),
        Example(
            bad=False,
            name="two-heads-backpropagated-on-one-batch-from-the-objects-own-loader",
            code="""import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class HeadComparison:
    def __init__(self):
        self.head_a = nn.Linear(4, 3)
        self.head_b = nn.Linear(4, 3)

    def run(self):
        self.loader = DataLoader(TensorDataset(torch.randn(16, 4), torch.randint(0, 3, (16,))), batch_size=8)
        crit = nn.CrossEntropyLoss()
        inputs, targets = list(self.loader)[0]
        loss_a = crit(self.head_a(inputs), targets)
        loss_a.backward()
        loss_b = crit(self.head_b(inputs), targets)
        loss_b.backward()


def main():
    torch.manual_seed(0)
    cmp = HeadComparison()
    cmp.run()
    return {"head_a": cmp.head_a, "head_b": cmp.head_b}
""",
            expect={'grad_ok': ['head_a.bias', 'head_a.weight', 'head_b.bias', 'head_b.weight']},
        ),
        Example(
            name="product-of-a-leaf-backpropagated-twice",
            code="""import torch


def main():
    w = torch.ones(2, 2, requires_grad=True)
    s = (w * w).sum()
    s.backward()
    first = w.grad.clone()
    s.backward()
    return {"w": w}, {"accumulated": bool((w.grad == 2 * first).all())}
""",
            lines=(7,),
            expect={'error': 'backward through the graph a second time'},
            fixed_expect={'grad_ok': ['w'], 'facts': {'accumulated': True}},
        ),
        Example(
            bad=False,
            name="sum-of-a-leaf-backpropagated-twice-to-show-accumulation",
            code="""import torch


def main():
    w = torch.ones(2, 2, requires_grad=True)
    s = w.sum()
    s.backward()
    first = w.grad.clone()
    s.backward()
    return {"w": w}, {"accumulated": bool((w.grad == 2 * first).all())}
""",
            expect={'grad_ok': ['w'], 'facts': {'accumulated': True}},
        ),
        Example(
            name="trainer-state-computed-once-in-its-constructor",
            code="""import torch
import torch.nn as nn


class PromptTrainer:
    def __init__(self, generator, head, codes):
        self.generator, self.head = generator, head
        self.optimizer = torch.optim.SGD(list(generator.parameters()) + list(head.parameters()), lr=0.1)
        self.prompts = generator(codes)

    def step(self, x, y):
        pred = self.head(x + self.prompts.mean(0))
        loss = (pred - y).pow(2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


def main():
    torch.manual_seed(0)
    generator, head = nn.Sequential(nn.Linear(3, 4), nn.Tanh()), nn.Linear(4, 1)
    trainer = PromptTrainer(generator, head, torch.randn(5, 3))
    for _ in range(3):
        trainer.step(torch.randn(8, 4), torch.randn(8, 1))
    return {"generator": generator}
""",
            lines=(9,),
            expect={'error': 'backward through the graph a second time'},
            fixable=False,
        ),
        Example(
            bad=False,
            name="trainer-state-computed-in-each-step",
            code="""import torch
import torch.nn as nn


class PromptTrainer:
    def __init__(self, generator, head, codes):
        self.generator, self.head = generator, head
        self.optimizer = torch.optim.SGD(list(generator.parameters()) + list(head.parameters()), lr=0.1)
        self.codes = codes

    def step(self, x, y):
        prompts = self.generator(self.codes)
        pred = self.head(x + prompts.mean(0))
        loss = (pred - y).pow(2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


def main():
    torch.manual_seed(0)
    generator, head = nn.Sequential(nn.Linear(3, 4), nn.Tanh()), nn.Linear(4, 1)
    trainer = PromptTrainer(generator, head, torch.randn(5, 3))
    for _ in range(3):
        trainer.step(torch.randn(8, 4), torch.randn(8, 1))
    return {"generator": generator}
""",
            expect={'grad_ok': ['generator.0.weight']},
        ),
    )

    def _framework_backpropagates_again(self, facts):
        """``loss.backward()`` in a method whose returned loss the framework backpropagates itself (Lightning's
        ``training_step`` under automatic optimization, a Hugging Face Trainer's ``compute_loss``), with ``loss`` returned
        after it: the framework's backward goes through the graph the first one freed."""
        for fl in facts.backward_flows:
            for isite in fl.implicit_sites:
                if not isite.mode.enabled or not isinstance(isite.stmt, ast.Return) or not isite.loss.live:
                    continue
                returned = {n.id for n in walk_nodes(isite.stmt) if isinstance(n, ast.Name)}
                block = _block_of(fl.node, isite.stmt)
                if block is None:
                    continue
                ret_at = next(i for i, x in enumerate(block) if x is isite.stmt)
                for site in fl.backward_sites:
                    call = site.node
                    if site.implicit or site.retain_graph or _has_retain_kw(call) or not site.loss.live or not isinstance(site.stmt, ast.Expr):
                        continue
                    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "backward" and isinstance(call.func.value, ast.Name)):
                        continue
                    name = call.func.value.id
                    at = next((i for i, x in enumerate(block) if x is site.stmt), None)
                    if at is None or at >= ret_at or name not in returned:
                        continue
                    if any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for x in block[at + 1 : ret_at] for n in walk_nodes(x)):
                        continue  # rebound between the backward and the return
                    st = site.stmt

                    def build(st: ast.stmt = st) -> Optional[Fix]:
                        return fix("Remove the backward() call (the framework runs it)", Edit(Pos(st.lineno, 0), Pos(st.lineno + 1, 0), ""))

                    yield self.finding(
                        facts,
                        call,
                        f"`{facts.text(call)}` runs here, and {isite.implicit} backpropagates the `{name}` returned at line {isite.stmt.lineno} again: "
                        f"the second backward() goes through the graph the first one freed and raises",
                        related=[(isite.stmt, f"{isite.implicit} calls backward() on what this returns")],
                        fixes=[build] if st.lineno == st.end_lineno and facts.source.line(st.lineno).strip().split("#")[0].strip() == facts.text(st).strip() else [],
                        explanation=f"{isite.implicit} calls `backward()` itself on the loss this method returns (and steps the optimizer "
                        "after it). A `backward()` of your own on the same loss frees its graph first, so the framework's raises "
                        "`RuntimeError: Trying to backward through the graph a second time`. Return the loss and let the framework "
                        "backpropagate it (or switch to manual optimization / override `training_step` of the Trainer).",
                    )
                    break

    def _step_between_retained(self, facts, fl, sites, blocks, reported: set):
        """``loss_a.backward(retain_graph=True); opt.step(); loss_b.backward()`` where both losses share an intermediate
        computed once and ``opt`` holds parameters the second loss reaches: the graph was kept, but the step changed in
        place the weights it saved for backward, so the second backward raises."""
        if len(sites) < 2:
            return
        for s1 in sites:
            if id(s1.node) in reported or not s1.loss.live or not isinstance(s1.node, ast.Call) or not _retained_true(s1.node):
                continue
            pos1 = blocks.get(id(s1.stmt))
            if pos1 is None:
                continue
            for s2 in sites:
                pos2 = blocks.get(id(s2.stmt))
                if s2 is s1 or not s2.loss.live or pos2 is None or pos2[0] is not pos1[0] or pos2[1] <= pos1[1]:
                    continue
                body = pos1[0]
                if any(b is not s2.stmt and any(b is x.stmt for x in sites) for b in body[pos1[1] + 1 : pos2[1]]):
                    break
                a, b = (s1.node.lineno, s1.node.col_offset), (s2.node.lineno, s2.node.col_offset)
                steps = [e for e in fl.events if e.what == "step" and isinstance(e.node, ast.Call) and a < (e.node.lineno, e.node.col_offset) < b
                         and e.target is not None and e.target.kind == "optimizer" and e.target.params]
                # the roots whose graph both losses share (computed once, before the first backward): a step of those
                # changes what the kept graph saved (a part recomputed after the step records a new graph)
                kept = _shared_statement(facts, fl, body, pos1[1], pos2[1], s1, s2)
                hit = next((e for e in steps if any(related_roots(p, r) for p in e.target.params for r in kept)), None)
                if hit is None:
                    continue
                reported.add(id(s1.node))
                yield self.finding(
                    facts,
                    hit.node,
                    f"this step changes in place the parameters that the graph kept by `retain_graph=True` at line {s1.node.lineno} saved "
                    f"for backward; the backward() at line {s2.node.lineno} goes through that graph again and raises",
                    severity=Severity.ERROR,
                    related=[(s1.node, "the graph is kept here"), (s2.node, "second backward through the kept graph, after the step")],
                    explanation="`optimizer.step()` updates the parameters in place, which bumps their version counters. The graph kept by "
                    "`retain_graph=True` saved some of them for backward (a layer's weight is saved to compute its input's gradient), so "
                    "the second backward raises `one of the variables needed for gradient computation has been modified by an inplace "
                    "operation`. Run both backward passes before stepping (or step once on the summed loss).",
                )
                break
        return

    def _state_computed_once(self, facts):
        """A trainer whose ``__init__`` computes state through the parameters its optimizer trains (``self.weights =
        {t: hnet(t) for t in tasks}``) and a method that backpropagates through that state, run again and again (called
        in a loop, or looping itself): the first backward() frees the graph the state belongs to, the second raises."""
        if "__init__" not in facts.source.text:
            return
        for info in facts.modules.classes.values():
            init = info.methods.get("__init__")
            if init is None or info.is_autograd_function:
                continue
            fl0 = facts.flow.flow(init)
            trained: set = set()
            state: dict = {}
            for ev in fl0.events:
                if ev.what != "attr_assign" or ev.value is None or not (isinstance(ev.node, ast.Attribute) and isinstance(ev.node.value, ast.Name) and ev.node.value.id == "self"):
                    continue
                v = ev.value
                if v.kind == "optimizer":
                    trained |= set(v.params)
                elif v.kind in ("tensor", None) and not v.leaf and v.ident is None and v.live - {"?"}:
                    state[ev.name] = (ev.node, v)
            if not trained or not state:
                continue
            state = {a: (n, v) for a, (n, v) in state.items() if _calls_trained_module(facts, init, n, trained)}
            if not state:
                continue
            # (state rebuilt by another method, ``self.weights = ...`` per step, is fresh every time)
            for name, m in info.methods.items():
                if name == "__init__":
                    continue
                for n in walk_nodes(m):
                    if isinstance(n, ast.Attribute) and isinstance(n.ctx, (ast.Store, ast.Del)) and isinstance(n.value, ast.Name) and n.value.id == "self":
                        state.pop(n.attr, None)
            for name, m in info.methods.items():
                if name == "__init__" or not state:
                    continue
                fl = facts.flow.flow(m)
                for site in fl.backward_sites:
                    if site.retain_graph or _has_retain_kw(site.node) or not site.mode.enabled:
                        continue
                    used = [a for a in state if any(r == f"self.{a}" or r.startswith((f"self.{a}.", f"self.{a}[")) for r in site.loss.live)]
                    if not used:
                        continue
                    loop = site.loops[-1] if site.loops else _loop_calling(facts, m)
                    if loop is None:
                        continue
                    a = used[0]
                    node, _v = state.pop(a)
                    yield self.finding(
                        facts,
                        node,
                        f"`self.{a}` is computed once, in `__init__`, through parameters the optimizer trains; the backward() at line {site.line} "
                        f"frees its graph, and the next run of `{name}` backpropagates through it again: it raises",
                        related=[(site.node, f"backward() through `self.{a}`, without retain_graph"), (loop, f"`{name}` runs again and again here")],
                        explanation="A tensor computed in the constructor keeps the graph of that one forward pass; the first backward() frees "
                        "its saved tensors, so every later backward() through it raises `Trying to backward through the graph a second time`. "
                        "Compute it inside the step (from the current parameters), or detach it if it is meant as a constant.",
                    )

    def check(self, facts):
        yield from self._framework_backpropagates_again(facts)
        yield from self._through_methods(facts)
        yield from self._state_computed_once(facts)
        for fl in facts.backward_flows:
            sites = [s for s in fl.backward_sites if isinstance(s.stmt, ast.Expr)]
            if not sites or facts.flow.is_autograd_function_method(fl.node):
                continue
            blocks = _blocks(fl.node) if len(sites) > 1 else {}
            reported: set = set()
            for _i, s1 in enumerate(sites if len(sites) > 1 else []):
                if s1.retain_graph or _has_retain_kw(s1.node) or not s1.loss.live:
                    continue
                pos1 = blocks.get(id(s1.stmt))
                if pos1 is None:
                    continue
                for s2 in sites:
                    if s2 is s1 or not s2.loss.live:
                        continue
                    pos2 = blocks.get(id(s2.stmt))
                    if pos2 is None or pos2[0] is not pos1[0] or pos2[1] <= pos1[1]:
                        continue
                    body = pos1[0]
                    # the first later backward only
                    between = body[pos1[1] + 1 : pos2[1]]
                    if any(b is not s2.stmt and any(b is x.stmt for x in sites) for b in between):
                        break
                    shared = _shared_intermediate(facts, fl, body, pos1[1], pos2[1], s1, s2)
                    if shared is None or id(s1.node) in reported:
                        continue
                    reported.add(id(s1.node))
                    what = f"`{shared}`" if shared else "the same graph"

                    def build(s1: BackwardSite = s1) -> Optional[Fix]:
                        return _add_retain(facts, cast(ast.Call, s1.node))  # backward_sites hold the backward()/grad() calls

                    related: list = [(s2.node, "second backward through the freed graph")]
                    reuse = _first_read(body[pos1[1] + 1 : pos2[1] + 1], shared) if shared else None
                    if reuse is not None and reuse.lineno != s2.node.lineno:
                        related.insert(0, (reuse, f"`{shared}` is read again here, after backward() freed its graph"))
                    fixes: list = []
                    if not _steps_between(fl, s1.node, s2.node):
                        fixes.append(build)
                    elif shared:
                        # (a GAN's discriminator step on the generator's output: the optimizers stepped in between do not
                        # hold what made it, so the first loss need not reach it: detach it there)
                        reads = _detachable_reads(facts, fl, body, pos1[1], s1, shared, s1.node, s2.node)
                        if reads:
                            fixes.append(lambda reads=reads, name=shared: fix(
                                f"Detach `{name}` in the first loss (its optimizer does not train what made `{name}`)",
                                *[replace_node(facts, r, f"{name}.detach()") for r in reads],
                                unsafe=True,
                            ))
                    yield self.finding(
                        facts,
                        s1.node,
                        f"backward() here frees the graph of {what}, which the backward() at line {s2.node.lineno} goes through again: it raises",
                        related=related,
                        fixes=fixes,
                        explanation="The first backward frees the buffers saved in the graph it traverses; the second one reaches the same "
                        "nodes and raises `RuntimeError: Trying to backward through the graph a second time`. Pass `retain_graph=True` to the "
                        "first call (or sum the losses and call backward once).",
                    )
                    break
            yield from self._step_between_retained(facts, fl, sites, blocks, reported)
            yield from self._in_loop(facts, fl, reported)
            yield from self._retained_in_loop_across_steps(facts, fl, reported)

    def _retained_in_loop_across_steps(self, facts, fl, reported: set):
        """A backward(retain_graph=True) inside a loop whose loss is built, in every iteration, from a graph computed once
        before the loop (a GAN's ``fake = G(z)`` reused by every generator step), with an optimizer in the loop stepping
        parameters that graph saved: the next iteration's backward goes through the kept graph again, after the step
        changed those parameters in place, and raises."""
        frozen: Optional[set] = None
        for site in fl.backward_sites:
            if not site.loops or not isinstance(site.stmt, ast.Expr) or not isinstance(site.node, ast.Call) or not _retained_true(site.node):
                continue
            if id(site.node) in reported or not site.mode.enabled:
                continue
            if frozen is None:
                frozen = frozen_paths(facts)
            for loop in reversed(site.loops):
                if not isinstance(loop, (ast.For, ast.AsyncFor)) or _single_pass(loop):
                    break
                found = _graph_from_before(facts, fl, loop, site, frozen)
                if found is None or len(found) > 2:
                    continue
                name, stmt = found[0], found[1]
                v = next((fl.assigned.get(id(t)) for t in walk_nodes(stmt) if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store) and t.id == name), None)
                roots = {r for r in (v.live if v is not None else ()) if r != "?"}
                a, b = (loop.lineno, loop.col_offset), (loop.end_lineno or loop.lineno, 10**9)
                hit = next((e for e in fl.events if e.what == "step" and isinstance(e.node, ast.Call) and a < (e.node.lineno, e.node.col_offset) < b
                            and e.target is not None and e.target.kind == "optimizer" and any(related_roots(p, r) for p in e.target.params for r in roots)), None)
                if hit is None:
                    break
                reported.add(id(site.node))
                yield self.finding(
                    facts,
                    hit.node,
                    f"this step changes in place the parameters that the graph of `{name}` (computed once, before the loop, at line {stmt.lineno}) "
                    f"saved for backward; `retain_graph=True` at line {site.node.lineno} keeps that graph, and the next iteration's backward goes "
                    "through it again and raises",
                    severity=Severity.ERROR,
                    related=[(stmt, f"`{name}` is computed here, once"), (site.node, "backpropagated through the kept graph in every iteration")],
                    explanation="`optimizer.step()` updates the parameters in place, which bumps their version counters. The graph of the value "
                    "computed before the loop saved some of them for backward, so the next iteration's backward through it raises `one of the "
                    "variables needed for gradient computation has been modified by an inplace operation`. Compute the value again in every "
                    "iteration (a fresh forward pass), or detach it where it is only a fixed input.",
                )
                break

    def _in_loop(self, facts, fl, reported: set):
        """One backward() inside a loop whose loss is built, in every iteration, from a graph computed once before
        the loop (``outputs = model(x)``, then ``for task, out in outputs.items(): loss(out).backward()``)."""
        frozen: Optional[set] = None
        for site in fl.backward_sites:
            if not site.loops or not isinstance(site.stmt, ast.Expr) or site.retain_graph or _has_retain_kw(site.node) or id(site.node) in reported:
                continue
            if not isinstance(site.node, ast.Call) or not site.mode.enabled:
                continue
            if frozen is None:
                frozen = frozen_paths(facts)
            found = None
            # (the innermost loop first; then the loops around it: a value computed once before the epoch loop is
            # reused by every batch of every epoch)
            for loop in reversed(site.loops):
                if not isinstance(loop, (ast.For, ast.AsyncFor)) or _single_pass(loop):
                    break
                found = _graph_from_before(facts, fl, loop, site, frozen)
                if found is not None:
                    break
            if found is None:
                continue
            name, stmt = found[:2]
            made = found[2] if len(found) > 2 else None
            reported.add(id(site.node))
            # (or an argument the caller computed once)
            where = f"computed once before the loop (line {stmt.lineno})" if (facts.enclosing(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree) is fl.node else f"passed in, computed once by the caller (line {stmt.lineno})"
            passed_in = made is None and _from_the_caller(facts, fl, stmt)
            if passed_in:
                where = f"passed in (unpacked at line {stmt.lineno}), computed once by the caller (line {fl.context.lineno})"

            def build(s: BackwardSite = site) -> Optional[Fix]:
                return _add_retain(facts, cast(ast.Call, s.node))

            if made is not None:
                yield self.finding(
                    facts,
                    site.node,
                    f"backward() here frees the graph of `{name}`, {where} by arithmetic on a tensor that requires grad; the next "
                    f"iteration's backward() goes through it again: it raises (make `{name}` a leaf: `.requires_grad_()` after the arithmetic)",
                    related=[(stmt, f"`{name}` is computed here, once: not a leaf"), *([(made, "by this arithmetic, whose graph saved tensors")] if made is not stmt.value else []), (loop, "every iteration backpropagates through it")],
                    explanation="`requires_grad=True` on the factory makes that tensor the leaf; the arithmetic after it (`* scale`, `/ n`) records "
                    "a small graph whose nodes save tensors. The first iteration's backward frees them, and the second iteration's loss reaches "
                    "them again: `RuntimeError: Trying to backward through the graph a second time`. Build the value without `requires_grad` and "
                    "call `.requires_grad_()` on the result, so it is the leaf (or make it anew in every iteration).",
                )
                continue
            if _steps_between(fl, loop, None) and (facts.enclosing(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree) is fl.node \
                    and made is None and not passed_in and facts.enclosing(stmt, (ast.For, ast.AsyncFor, ast.While)) is facts.enclosing(loop, (ast.For, ast.AsyncFor, ast.While)):
                # an optimizer steps inside the loop: keeping the graph (``retain_graph=True``) would not do, the value itself
                # must change (detached, as a fixed target, or computed again in every iteration): reported where it is made
                yield self.finding(
                    facts,
                    stmt,
                    fixes=_fixed_target_fixes(facts, fl, stmt, name, site),
                    message=f"`{name}` is computed here, once, before the loop, with a graph the first iteration's backward() (line {site.node.lineno}) "
                    f"frees; every later iteration's loss is built from it and backpropagates through it again: it raises "
                    f"(detach it if it is a fixed target, or compute it inside the loop)",
                    related=[(site.node, "backward() frees the graph here, in the first iteration"), (loop, "every iteration backpropagates through it")],
                    explanation="The first iteration's backward frees the buffers saved in the graph of the value computed before the loop; the "
                    "second iteration's loss is built from that value too, so its backward reaches the freed nodes and raises `RuntimeError: "
                    "Trying to backward through the graph a second time`. An optimizer steps in between, so keeping the graph would not help "
                    "(its parameters change in place): detach the value (a PPO advantage is a fixed target) or compute it in the loop.",
                )
                continue
            yield self.finding(
                facts,
                site.node,
                f"backward() here frees the graph of `{name}`, {where}; the next iteration's backward() goes through it again: it raises",
                related=[(stmt, f"`{name}` is computed here, once") if not passed_in else (fl.context, f"`{name}` is computed here, once, by this call's argument"),
                         (loop, "every iteration backpropagates through it")],
                fixes=[] if _steps_between(fl, loop, None) else [build],
                explanation="The first iteration's backward frees the buffers saved in the graph of the value computed before the loop; the "
                "second iteration's loss is built from that value too, so its backward reaches the freed nodes and raises `RuntimeError: "
                "Trying to backward through the graph a second time`. Pass `retain_graph=True` (or sum the losses and call backward once "
                "after the loop).",
            )


    def _through_methods(self, facts):
        """The same bug spread over an object's methods (the pix2pix shape): a method runs ``self.forward(...)``, which
        keeps a graph tensor on the object (``self.pred_fake = self.netD(self.real_A, self.fake_B)``), then
        ``self.backward_D()`` and ``self.backward_G()``, each of whose losses is built from that attribute and
        backpropagated (the first without ``retain_graph``), with nothing setting it again in between: the second
        backward goes through the graph the first one freed."""
        if "self." not in facts.source.text or not facts.text_index.anywhere(_BACKWARD_CALL):
            return
        for info in facts.modules.classes.values():
            # (a class whose methods run no backward() has no such sequence: its text tells, before any walk)
            if len(info.methods) < 3 or info.is_autograd_function or not facts.text_index.search(_BACKWARD_CALL, info.node):
                continue
            summaries: dict = {}
            for caller in info.methods.values():
                for body in _statement_lists(caller):
                    calls = [(i, st.value.func.attr) for i, st in enumerate(body)
                             if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Attribute)
                             and isinstance(st.value.func.value, ast.Name) and st.value.func.value.id == "self" and st.value.func.attr in info.methods]
                    if len(calls) < 3:
                        continue
                    for name in {n for _i, n in calls}:
                        if name not in summaries:
                            summaries[name] = _method_summary(facts, info.methods[name])
                    for a, (i0, setter) in enumerate(calls):
                        for attr in summaries[setter][0]:
                            users = []
                            for i, name in calls[a + 1:]:
                                sets, sites = summaries[name]
                                hit = next((st for st, reach in sites if attr in reach), None)
                                if hit is not None:
                                    users.append((i, name, hit))
                                if attr in sets or len(users) == 2:
                                    break
                            if len(users) < 2:
                                continue
                            (i1, m1, s1), (i2, m2, s2) = users
                            if s1.retain_graph or _has_retain_kw(s1.node) or id(s1.node) in self._reported(facts):
                                continue
                            self._reported(facts).add(id(s1.node))
                            stepped = any(isinstance(x, ast.Call) and isinstance(x.func, ast.Attribute) and x.func.attr == "step"
                                          for st in body[i1 + 1:i2] for x in walk_nodes(st))

                            def build(s1: BackwardSite = s1) -> Optional[Fix]:
                                return _add_retain(facts, cast(ast.Call, s1.node))

                            yield self.finding(
                                facts,
                                s1.node,
                                f"backward() here frees the graph of `self.{attr}`, which `{setter}` computed and `{m2}` backpropagates "
                                f"again (line {s2.node.lineno}), both run by `{caller.name}` after one `{setter}`: it raises",
                                related=[(body[i0], f"`self.{attr}` is computed once, here"), (body[i1], f"`{m1}` backpropagates through it first"),
                                         (body[i2], f"`{m2}` backpropagates through it again"), (s2.node, "second backward through the freed graph")],
                                fixes=[] if stepped else [build],
                                explanation="The first backward frees the buffers saved in the graph of the kept tensor; the second one reaches "
                                "the same nodes and raises `RuntimeError: Trying to backward through the graph a second time`. Detach it where "
                                "only one loss should train through it (`self.pred_fake.detach()` in the discriminator's loss), or recompute it "
                                "for the second loss.",
                            )
                            break

    @staticmethod
    def _reported(facts) -> set:
        return facts.__dict__.setdefault("_gg903_reported", set())


def _statement_lists(fn: ast.AST):
    """The statement lists of a function: its body and those of its loops, branches and ``with`` blocks. (Only a
    statement, an except clause or a match case holds a statement list: ``statement_nodes`` gives those, in the
    order ``ast.walk`` visits them, without walking every expression.)"""
    for n in statement_nodes(fn):
        if n is not fn and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        for f in ("body", "orelse", "finalbody"):
            b = getattr(n, f, None)
            if isinstance(b, list) and b and isinstance(b[0], ast.stmt):
                yield b


def _method_summary(facts, m: ast.AST) -> tuple:
    """``(graph attributes, backward sites)`` of a method: the ``self.<attr>`` it sets, with grad enabled, to a tensor
    computed by the object's modules (a graph whose nodes saved tensors); and each ``backward()`` it runs as a statement
    of its body, outside loops and branches, with the attributes its loss is built from (through other attributes the
    method sets first: ``self.loss_D = self.pred_fake.mean() - ...``)."""
    fl = facts.flow.flow(m)
    sets: set = set()
    made: dict = {}
    for e in fl.events:
        if e.what == "attr_assign" and e.target is not None and e.target.ident == "self" and e.value is not None and e.name:
            made[e.name] = e.value
            if e.mode.enabled and e.value.kind == "tensor" and _runs_modules(facts, fl.owner, e.value):
                sets.add(e.name)
    sites = []
    body = getattr(m, "body", [])
    for site in fl.backward_sites:
        if site.loops or not any(site.stmt is st for st in body) or not site.mode.enabled:
            continue
        reach: set = set()
        kept = _kept_reads(m)
        todo = list(site.loss.live)
        seen: set = set()
        while todo:
            r = todo.pop()
            if r in seen or not r.startswith("self."):
                continue
            seen.add(r)
            attr = r.split(".")[1]
            if attr in made and made[attr] is not None:
                reach.add(attr)
                todo.extend(made[attr].live)
            elif attr in kept:
                reach.add(attr)
        sites.append((site, reach))
    return sets, sites


def _kept_reads(m: ast.AST) -> set:
    """Attributes ``m`` reads as ``self.<attr>`` other than to detach them (``self.fake_B.detach()``, ``.data``,
    ``.item()``...): those whose graph its computations may keep."""
    parents: dict = {}
    out: set = set()
    for n in walk_nodes(m):
        for c in ast.iter_child_nodes(n):
            parents[id(c)] = n
    for n in walk_nodes(m):
        if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load) and isinstance(n.value, ast.Name) and n.value.id == "self":
            p = parents.get(id(n))
            if isinstance(p, ast.Attribute) and p.attr in DETACHING_ATTRS:
                continue
            out.add(n.attr)
    return out


def _runs_modules(facts, owner, v) -> bool:
    """Is ``v`` computed by a module the object holds (``self.netD(...)``): a root naming an attribute built as an
    in-file Module class or a torch layer? (Its graph has nodes that saved tensors.)"""
    mm = facts.modules
    for r in v.live:
        if r.startswith("self."):
            attr = r.split(".")[1]
            if mm.attr_class(owner or "", attr)[0] is not None or mm.attr_torch_ctor(owner or "", attr) is not None:
                return True
    return False


def _retained_true(call: ast.Call) -> bool:
    """``retain_graph=True`` spelled as the literal."""
    return any(k.arg == "retain_graph" and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords)


def _detachable_reads(facts, fl, body: list, i1: int, s1, name: str, start: ast.AST, end: ast.AST) -> list:
    """The reads of ``name`` in the one statement of ``body`` (before index ``i1``) that binds the first loss, when every
    optimizer stepped between the two backwards is known and holds none of the parameters ``name`` was computed from
    (nor does any other statement before the first backward read ``name`` into that loss); else []."""
    loss = s1.loss_expr
    if not isinstance(loss, ast.Name):
        return []
    binds = [st for st in body[: i1 + 1] if isinstance(st, (ast.Assign, ast.AugAssign, ast.AnnAssign))
             and any(isinstance(t, ast.Name) and t.id == loss.id for tgt in (st.targets if isinstance(st, ast.Assign) else [st.target]) for t in walk_nodes(tgt))]
    if len(binds) != 1 or not isinstance(binds[0], ast.Assign) or len(binds[0].targets) != 1:
        return []
    st = binds[0]
    stores = [n for b in body[: i1 + 1] for n in walk_nodes(b) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)]
    v = fl.assigned.get(id(stores[-1])) if stores else None
    if v is None:
        return []
    made_from = {r for r in v.live if r != "?" and not r.startswith("arg:")}
    a = (getattr(start, "lineno", 0), getattr(start, "col_offset", 0))
    b = (getattr(end, "lineno", 0), getattr(end, "col_offset", 0))
    steps = [e for e in fl.events if e.what == "step" and isinstance(e.node, ast.Call) and a < (e.node.lineno, e.node.col_offset) < b]
    if not made_from or not steps:
        return []
    for e in steps:
        t = e.target
        if t is None or t.kind != "optimizer" or not t.params or any(related_roots(p, r) for p in t.params for r in made_from):
            return []
    # (another statement before the loss's binding that computes a value from ``name`` may carry it into the loss: then
    # detaching it in the loss's own statement is not enough, and no fix is offered)
    i = next(k for k, x in enumerate(body) if x is st)
    for x in body[:i]:
        if isinstance(x, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) for n in walk_nodes(x)):
            return []
    return [n for n in walk_nodes(st.value) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]


def _steps_between(fl, start: ast.AST, end) -> bool:
    """Is an optimizer stepped between ``start`` and ``end`` (or anywhere inside ``start``, a loop)? Then keeping
    the graph does not help: the step changes in place the parameters it saved, and the second backward raises."""
    a = (getattr(start, "lineno", 0), getattr(start, "col_offset", 0))
    b = (end.lineno, end.col_offset) if end is not None else (getattr(start, "end_lineno", None) or a[0], 10**9)
    if any(e.what == "step" and isinstance(e.node, ast.Call) and a < (e.node.lineno, e.node.col_offset) < b for e in fl.events):
        return True
    # a method named for a step of its own (SAM's ``optimizer.first_step()``, an ``ascent_step()``): it may change the
    # parameters in place too, so no fix that keeps the graph is offered
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr.endswith("_step") and a < (n.lineno, n.col_offset) < b
        for n in walk_nodes(fl.node)
    )


def _single_pass(loop) -> bool:
    """``for _ in range(1)`` and loops that end with an unconditional ``break``/``return``."""
    it = loop.iter
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" and len(it.args) == 1 and isinstance(it.args[0], ast.Constant) and it.args[0].value == 1:
        return True
    return bool(loop.body) and isinstance(loop.body[-1], (ast.Break, ast.Return))


def _name_stores(facts, scope) -> dict:
    """Name -> the Name nodes binding it in ``scope`` (not in nested scopes), in one pass per scope."""
    cache = facts.__dict__.setdefault("_gg903_name_stores", {})
    got = cache.get(id(scope))
    if got is None:
        got = {}
        for n in facts.own_nodes(scope):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                got.setdefault(n.id, []).append(n)
        cache[id(scope)] = got
    return got


def _graph_from_before(facts, fl, loop, site, frozen: set):
    """(name, statement) of a value the loss depends on that is assigned only before ``loop`` (in this
    function) and holds a graph built by a call from trained roots; None when there is none."""
    assigned_in_loop: dict = {}
    for n in walk_nodes(loop):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            assigned_in_loop.setdefault(n.id, []).append(n)
    deps: dict = {}
    for n in walk_nodes(loop):
        if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and n.value is not None:
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            reads = _names(n.value)
            for t in targets:
                for tn in walk_nodes(t):
                    if isinstance(tn, ast.Name):
                        deps.setdefault(tn.id, set()).update(reads)
        elif isinstance(n, (ast.For, ast.AsyncFor, ast.comprehension)):
            for tn in walk_nodes(n.target):
                if isinstance(tn, ast.Name):
                    deps.setdefault(tn.id, set()).update(_names(n.iter))
    todo, seen = list(_names(site.loss_expr)), set()
    free = []
    while todo:
        nm = todo.pop()
        if nm in seen:
            continue
        seen.add(nm)
        if nm in assigned_in_loop:
            todo.extend(deps.get(nm, ()))
        else:
            free.append(nm)
    if not free:
        return None
    passed = _passed_graph(facts, fl, loop, site, free, frozen)
    if passed is not None:
        return passed
    stores = _name_stores(facts, fl.node)
    for nm in sorted(free):
        before = [n for n in stores.get(nm, ()) if n.lineno < loop.lineno]
        if len(before) != 1:
            continue
        stmt = facts.statement_of(before[0])
        if not isinstance(stmt, ast.Assign):
            continue
        v = fl.assigned.get(id(before[0]))
        if _builds_object(stmt.value) and (v is None or v.kind != "tensor"):
            continue  # (a capitalized callee the model knows to be a module, ``fake = G(z)``, runs a forward)
        if not _used_as_value(facts, loop, nm):
            continue  # only called or asked to do things (a policy, an environment): an object, not a tensor
        loops = (ast.For, ast.AsyncFor, ast.While)
        home, around = facts.enclosing(stmt, loops), facts.enclosing(loop, loops)
        if home is not around and not (
            home is not None and (home.end_lineno or home.lineno) < loop.lineno and facts.enclosing(home, loops) is around
        ):
            continue  # (a value the last iteration of an earlier loop left, ``fake`` of the discriminator steps, is computed once too)
        if v is None or v.leaf or v.ident or v.kind in ("module", "params", "optimizer", "python", "numpy", "instance", "class", "function", "none", "import"):
            continue
        roots = {r for r in v.live if r != "?" and not r.startswith("arg:") and not is_frozen(r, frozen, inner=False) and _made_trainable(facts, r)}
        called = _run_modules_through(facts, stores, stmt.value, loop.lineno)
        # (a method run with its caller's objects names the parts by the caller's names, ``critic.net`` for ``self.critic``:
        # a value made by calling a part of ``self`` ran that part)
        if roots and roots & set(site.loss.live) and (called & {r.replace("[]", "").split(".")[0] for r in roots} or ("self" in called and fl.context is not None)):
            return nm, stmt  # built by running one of those modules (``model(x)``), not only from its attributes
        mine = {r for r in v.live if r.startswith("self.") and not is_frozen(r, frozen, inner=False) and _self_part_made(facts, fl, r)}
        if (roots | mine) & set(site.loss.live) and _from_the_caller(facts, fl, stmt) and any(_part_of_a_module(facts, r) for r in (roots | mine) & set(site.loss.live)):
            # unpacked from what the caller passes (``obs, actions, old_logp, adv = batch`` with ``self.update(self.collect())``),
            # a graph the caller built by running parts of the model: every iteration backpropagates through it again
            return nm, stmt
        made = _saves_from_leaf(facts, stmt.value, v.live, 0) if set(v.live) & set(site.loss.live) else None
        if made is not None and not _used_as_leaf(facts, fl.node, nm):
            return nm, stmt, made  # arithmetic that saves tensors on a leaf that requires grad (``3.0 * torch.rand(n, 1, requires_grad=True)``)
    return None


def _from_the_caller(facts, fl, stmt: ast.stmt) -> bool:
    """Is ``stmt`` (in a function analyzed with its caller's values) a binding of what the function's parameters hold
    (``a, b = batch``, ``x = inputs[0]``), so that the value was computed by the caller?"""
    if fl.context is None or not isinstance(stmt, ast.Assign) or not isinstance(fl.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    value = stmt.value
    while isinstance(value, (ast.Subscript, ast.Starred)):
        value = value.value
    return isinstance(value, ast.Name) and value.id in fl.args


def _self_part_made(facts, fl, root: str) -> bool:
    """``self.model...`` of a method whose class builds that attribute as a module (``self.model = ActorCritic(...)``)."""
    info = facts.modules.classes.get(fl.owner or fl.self_cls or "")
    parts = root.replace("[]", "").split(".")
    if info is None or len(parts) < 2:
        return False
    for value in info.attr_values.get(parts[1], ()):
        if isinstance(value, ast.Call):
            q = facts.imports.qualname(value.func) or ""
            made = facts.modules.classes.get(value.func.id) if isinstance(value.func, ast.Name) else None
            if is_module_ctor(q) or (made is not None and made.is_module):
                return True
    return False


def _part_of_a_module(facts, root: str) -> bool:
    """Is ``root`` (``self.model.pi``, ``model.encoder``) a part whose forward runs layers, not a bare ``nn.Parameter``
    attribute (a graph of arithmetic on a parameter may save nothing)?"""
    name = root.replace("[]", "").rsplit(".", 1)[-1]
    if "." not in root.replace("[]", ""):
        origin = facts.flow.root_origins.get(name)
        return origin is not None and origin.kind == "module"  # (``model = nn.Linear(4, 3)``: a module the program made)
    if not name.isidentifier():
        return False
    return re.search(r"\." + re.escape(name) + r"\s*=\s*(?:\w+\.)*Parameter\(", facts.source.text) is None


def _run_modules_through(facts, stores: dict, value: ast.AST, before: int, depth: int = 0) -> set:
    """The modules ``value`` runs (``_run_modules``), also through the names it reads that are assigned once, before line
    ``before``, to a value that runs them (``advantages = returns - values`` with ``values = critic(state)``)."""
    called = _run_modules(facts, value) if any(isinstance(c, ast.Call) for c in walk_nodes(value)) else set()
    if depth >= 4:
        return called
    for n in _operands(value):
        made = [m for m in stores.get(n.id, ()) if m.lineno < before]
        st = facts.statement_of(made[0]) if len(made) == 1 else None
        if isinstance(st, ast.Assign) and st.value is not value:
            called |= _run_modules_through(facts, stores, st.value, st.lineno, depth + 1)
    return called


def _operands(value: ast.AST) -> list:
    """The names ``value`` computes with as operands (``returns - values``, ``-x``, ``a if c else b``, ``x[i]``), not the
    ones it hands to a call (``random_dataloader(model=model)``: an object given to a helper is not a value computed from)."""
    out: list = []
    todo = [value]
    while todo:
        e = todo.pop()
        if isinstance(e, ast.Name) and isinstance(e.ctx, ast.Load):
            out.append(e)
        elif isinstance(e, ast.BinOp):
            todo += [e.left, e.right]
        elif isinstance(e, ast.UnaryOp):
            todo.append(e.operand)
        elif isinstance(e, ast.IfExp):
            todo += [e.body, e.orelse]
        elif isinstance(e, ast.Subscript):
            todo.append(e.value)
        elif isinstance(e, (ast.Tuple, ast.List)):
            todo += list(e.elts)
    return out


def _used_as_leaf(facts, fn: ast.AST, name: str) -> bool:
    """Does ``fn`` treat ``name`` as a leaf: read its ``.grad`` or hand it to an optimizer? Then the first thing that
    goes wrong is that (GG401 / GG403 say so), before any second backward."""
    for node in walk_nodes(fn):
        if isinstance(node, ast.Attribute) and node.attr == "grad" and isinstance(node.value, ast.Name) and node.value.id == name:
            return True
        if isinstance(node, ast.Call) and (facts.imports.qualname(node.func) or "").startswith("torch.optim."):
            if any(isinstance(n, ast.Name) and n.id == name for a in [*node.args, *node.keywords] for n in walk_nodes(a)):
                return True
    return False


# operators and functions whose backward needs a tensor they saved (``x * 3.0`` saves the scalar operand,
# ``x.sin()`` saves ``x``): a second backward through them raises; ``+``, ``-``, views and copies save none
_SAVING_BINOPS = (ast.Mult, ast.Div, ast.Pow, ast.MatMult, ast.FloorDiv, ast.Mod)
_SAVING_FUNCS = {
    "mul", "div", "pow", "matmul", "mm", "bmm", "exp", "log", "sin", "cos", "tan", "tanh", "sigmoid", "sqrt", "rsqrt",
    "square", "abs", "softmax", "log_softmax", "norm", "prod", "reciprocal", "atan", "asin", "acos", "sinh", "cosh",
    "erf", "relu", "gelu", "softplus", "linear", "conv1d", "conv2d", "einsum", "cumprod", "addcmul", "lerp", "where",
}
_PASSING_FUNCS = {
    "view", "reshape", "unsqueeze", "squeeze", "expand", "expand_as", "flatten", "transpose", "permute", "t",
    "contiguous", "clone", "float", "double", "half", "to", "cat", "stack", "narrow", "add", "sub", "neg", "repeat",
}


def _grad_leaf_call(facts, node: ast.AST) -> bool:
    """``torch.rand(n, 1, requires_grad=True)``: a fresh leaf that requires grad."""
    return (isinstance(node, ast.Call) and (facts.imports.qualname(node.func) or "").startswith("torch.")
            and any(k.arg == "requires_grad" and isinstance(k.value, ast.Constant) and k.value.value is True for k in node.keywords))


def _saves_from_leaf(facts, value: ast.AST, live, depth: int) -> Optional[ast.AST]:
    """Does ``value`` compute, from a leaf that requires grad (a fresh one it makes, or a root of ``live`` the program
    made as one), through an operation that saves tensors for backward? Followed into an in-file function whose
    every ``return`` gives the value (``collocation_points()``). The expression where it does, or None."""
    if depth > 2:
        return None
    leaves = {r for r in live if (o := facts.flow.root_origins.get(r)) is not None and o.leaf and o.kind == "tensor"}
    for node in walk_nodes(value):
        if _grad_leaf_call(facts, node) or (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in leaves):
            if _saving_path(facts, node, value):
                return value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and depth < 2:
            fn = next((st for st in facts.tree.body if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)) and st.name == node.func.id), None)
            rets = [r.value for r in walk_nodes(fn) if isinstance(r, ast.Return)] if fn is not None else []
            inner = [_saves_from_leaf(facts, r, (), depth + 1) if r is not None else None for r in rets]
            if inner and all(inner):
                return inner[0]
    return None


def _saving_path(facts, node: ast.AST, top: ast.AST) -> bool:
    """From ``node`` up to ``top``: is one of the operations applied to it one that saves tensors (and none of them
    one that is not known to pass the graph on)?"""
    saving = False
    cur = node
    while cur is not top:
        parent = facts.parent(cur)
        if parent is None:
            return False
        if isinstance(parent, ast.BinOp):
            if isinstance(parent.op, _SAVING_BINOPS):
                saving = True
            elif not isinstance(parent.op, (ast.Add, ast.Sub)):
                return False
        elif isinstance(parent, ast.UnaryOp):
            if not isinstance(parent.op, (ast.USub, ast.UAdd)):
                return False
        elif isinstance(parent, ast.Call):
            f = parent.func
            name = f.attr if isinstance(f, ast.Attribute) else (f.id if isinstance(f, ast.Name) else "")
            if f is cur or name not in _SAVING_FUNCS | _PASSING_FUNCS:
                return False
            saving = saving or name in _SAVING_FUNCS
        elif isinstance(parent, ast.Attribute) and parent.value is cur:
            call = facts.parent(parent)
            if not (isinstance(call, ast.Call) and call.func is parent) or parent.attr not in _SAVING_FUNCS | _PASSING_FUNCS:
                return False
            saving = saving or parent.attr in _SAVING_FUNCS
            cur = call
            continue
        elif not isinstance(parent, (ast.List, ast.Tuple, ast.keyword)):
            return False
        cur = parent
    return saving


def _passed_graph(facts, fl, loop, site, free: list, frozen: set):
    """The same, for an argument: the function analyzed as its caller runs it (``train(model, adj, ...)``), the
    argument a name the caller binds once, before the call, to a graph built by running one of its trained modules
    (``adj = model.normalized_adjacency(edge_index, n)``). (name, the caller's statement) or None."""
    call = fl.context
    fn = fl.node
    if not isinstance(call, ast.Call) or not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    caller = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    for nm in sorted(free):
        if nm not in fl.args or not _used_as_value(facts, loop, nm):
            continue
        given = next((k.value for k in call.keywords if k.arg == nm), None)
        if given is None:
            i = fl.args.index(nm)
            given = call.args[i] if i < len(call.args) else None
        if not isinstance(given, ast.Name):
            continue
        before = [n for n in facts.name_stores(caller) if n.id == given.id]
        if len(before) != 1 or before[0].lineno >= call.lineno:
            continue
        stmt = facts.statement_of(before[0])
        if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1 or stmt.targets[0] is not before[0] or _builds_object(stmt.value):
            continue
        v = facts.flow.flow(caller).assigned.get(id(before[0]))
        if v is None or v.leaf or v.ident or v.kind not in ("tensor", None):
            continue
        roots = {r for r in v.live if r != "?" and not r.startswith("arg:") and not is_frozen(r, frozen, inner=False) and _made_trainable(facts, r)}
        called = _run_modules(facts, stmt.value)
        if roots and roots & set(site.loss.live) and called & {r.replace("[]", "").split(".")[0] for r in roots}:
            return nm, stmt
    return None


_VALUE_METHODS = {
    "items", "values", "keys", "get", "sum", "mean", "view", "reshape", "squeeze", "unsqueeze", "flatten", "chunk", "split",
    "unbind", "transpose", "permute", "float", "pow", "abs", "exp", "log", "softmax", "log_softmax", "sigmoid", "tanh",
    "clamp", "max", "min", "norm", "t", "contiguous", "gather", "index_select", "masked_select", "expand", "repeat",
}


def _builds_object(value: ast.AST) -> bool:
    """``Env(...)``, ``type(self)(...)``: an instance of some class (capitalized by convention), not a tensor."""
    if not isinstance(value, ast.Call):
        return False
    f = value.func
    if isinstance(f, ast.Call):
        return True
    last = f.attr if isinstance(f, ast.Attribute) else (f.id if isinstance(f, ast.Name) else "")
    return last[:1].isupper()


def _used_as_value(facts, loop, name: str) -> bool:
    """Is ``name`` used in ``loop`` as a value (an operand, an argument, indexed, a container's or a tensor's
    method receiver), not only called or asked to run methods of its own?"""
    for n in walk_nodes(loop):
        if not (isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)):
            continue
        parent = facts.parent(n)
        if isinstance(parent, ast.Call) and parent.func is n:
            continue
        if isinstance(parent, ast.Attribute) and parent.value is n:
            call = facts.parent(parent)
            if isinstance(call, ast.Call) and call.func is parent and parent.attr not in _VALUE_METHODS:
                continue
        return True
    return False


def _made_trainable(facts, root: str) -> bool:
    """A root this program makes: a module or a leaf that requires grad (not an object the model cannot see)."""
    origin = facts.flow.root_origins.get(root.replace("[]", "").split(".")[0])
    return origin is not None and (origin.leaf or (origin.kind == "module" and origin.cls is not None) or (origin.kind == "module" and _nn_ctor(facts, origin.stmt)))


def _nn_ctor(facts, stmt) -> bool:
    """``enc = nn.Linear(...)``, also ``enc, head = nn.Linear(...), nn.Linear(...)``."""
    value = getattr(stmt, "value", None)
    values = value.elts if isinstance(value, (ast.Tuple, ast.List)) else [value]
    return any(isinstance(v, ast.Call) and (facts.imports.qualname(v.func) or "").startswith("torch.nn.") for v in values)


def _run_modules(facts, value: ast.AST) -> set:
    """Names of the objects ``value`` runs: the receivers of its calls (``model(x)``, ``model.encode(x)``), and the
    arguments it hands to an in-file function that runs them (``build_loader(model, x)`` whose body calls
    ``model.featurize(x)``), directly or through a nested call."""
    out: set = set()
    for c in walk_nodes(value):
        if not isinstance(c, ast.Call):
            continue
        out.add(_base_name(c.func))
        fn = facts.flow.functions.get(c.func.id) if isinstance(c.func, ast.Name) else None
        if fn is None or any(isinstance(a, ast.Starred) for a in c.args):
            continue
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        runs = {_base_name(n.func) for n in facts.own_nodes(fn) if isinstance(n, ast.Call) and _forward_call(facts, n)}
        for i, a in enumerate(c.args):
            if isinstance(a, ast.Name) and i < len(params) and params[i] in runs:
                out.add(a.id)
        for k in c.keywords:
            if isinstance(k.value, ast.Name) and k.arg in runs and k.arg in params:
                out.add(k.value.id)
    return out


def _forward_call(facts, call: ast.Call) -> bool:
    """Does ``call`` run a module on data: ``model(x)``, or ``model.encode(x)`` for a method some in-file Module class
    defines (not a query such as ``model.train_micro_batch_size_per_gpu()``)?"""
    if not (call.args or call.keywords):
        return False
    f = call.func
    if isinstance(f, ast.Name):
        return True
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
        return any(info.is_module and f.attr in info.methods for info in facts.modules.classes.values())
    return False


def _base_name(f: ast.AST) -> str:
    while isinstance(f, ast.Attribute):
        f = f.value
    return f.id if isinstance(f, ast.Name) else ""


def _names(e) -> set:
    return {n.id for n in walk_nodes(e) if isinstance(n, ast.Name)} if e is not None else set()


def _block_of(fn: ast.AST, st: ast.stmt) -> Optional[list]:
    """The statement list of ``fn`` (not of a nested function) that holds ``st``."""
    todo = [fn]
    while todo:
        n = todo.pop()
        for name in ("body", "orelse", "finalbody"):
            block = getattr(n, name, None)
            if isinstance(block, list):
                if any(x is st for x in block):
                    return block
                todo.extend(x for x in block if not isinstance(x, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)))
        for h in getattr(n, "handlers", []) or []:
            todo.append(h)
    return None


def _has_retain_kw(call: ast.Call) -> bool:
    # retain_graph=<runtime flag>: unknown, trust the author
    return any(k.arg in ("retain_graph", "create_graph") and not (isinstance(k.value, ast.Constant) and not k.value.value) for k in call.keywords) or (
        len(call.args) >= 2 and not (isinstance(call.args[1], ast.Constant) and not call.args[1].value) and isinstance(call.func, ast.Attribute) and call.func.attr == "backward"
    )


def _blocks(fn) -> dict:
    """id(stmt) -> (the statement list holding it, index)."""
    out = {}
    for node in walk_nodes(fn):
        for field in ("body", "orelse", "finalbody"):
            lst = getattr(node, field, None)
            if isinstance(lst, list):
                for i, st in enumerate(lst):
                    if isinstance(st, ast.stmt):
                        out[id(st)] = (lst, i)
        for _h in getattr(node, "handlers", []) or []:
            pass
    return out


def _attached_names(facts, expr) -> set:
    out = set()
    for n in walk_nodes(expr):
        if not (isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)):
            continue
        cur, ok = n, True
        while cur is not expr:
            parent = facts.parent(cur)
            if parent is None:
                break
            if isinstance(parent, ast.Attribute) and parent.attr in DETACHING_ATTRS:
                ok = False
                break
            if isinstance(parent, ast.Attribute) and cur is n and not (isinstance(facts.parent(parent), ast.Call) and facts.parent(parent).func is parent):
                ok = False  # ``batch.observations``: a field of a container, not the tensor itself
                break
            if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id in DETACHING_CALLS:
                ok = False
                break
            cur = parent
        if ok:
            out.add(n.id)
    return out


def _last_assign(body, upto: int, name: str) -> Optional[tuple]:
    """The last statement of ``body[:upto]`` that assigns ``name`` at the top level: (stmt, target)."""
    for st in reversed(body[:upto]):
        targets = []
        if isinstance(st, ast.Assign):
            targets = st.targets
        elif isinstance(st, ast.AnnAssign) and st.value is not None:
            targets = [st.target]
        elif isinstance(st, ast.AugAssign):
            targets = [st.target]
        for t in targets:
            for n in walk_nodes(t):
                if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store):
                    return st, n
        # any nested (re)binding of the name: give up on it
        if not isinstance(st, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)):
            for n in walk_nodes(st):
                if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store):
                    return None
    return None


def _closure(facts, body, upto: int, expr) -> dict:
    """name -> (assigning stmt, store node) for the names ``expr`` is built from, transitively."""
    out: dict = {}
    todo = [(n, upto) for n in _attached_names(facts, expr)]
    while todo:
        name, limit = todo.pop()
        if name in out:
            continue
        found = _last_assign(body, limit, name)
        if found is None:
            continue
        st, store = found
        out[name] = (st, store)
        idx = next(i for i, b in enumerate(body) if b is st)
        if st.value is not None:
            for n in _attached_names(facts, st.value):
                todo.append((n, idx))
    return out


def _shared_intermediate(facts, fl, body, i1: int, i2: int, s1, s2) -> Optional[str]:
    c1 = _closure(facts, body, i1, s1.loss_expr)
    c2 = _closure(facts, body, i2, s2.loss_expr)
    for name, (st, store) in c1.items():
        other = c2.get(name)
        if other is None or other[0] is not st:
            continue
        v = fl.assigned.get(id(store))
        # only a value known to carry the gradient of this program's parameters has a graph to free
        # (data from a loader, a replay buffer or an unknown call is a leaf that records nothing)
        if v is None or v.leaf or v.kind != "tensor":
            continue
        # and both losses carry it: a value both are built from syntactically may reach them only through a cut
        # (``copy(x)`` where the helper returns ``x.clone().detach().requires_grad_()``: a new leaf each)
        # (and not data an object computes itself, ``list(self.loader)[0]``: a batch has no graph to free)
        if not any(r != "?" and not r.startswith("arg:") and r in s1.loss.live and r in s2.loss.live and not plain_object_data(facts, fl, r) for r in v.live):
            continue
        if isinstance(st, ast.AugAssign) or st.value is None:
            continue
        if not isinstance(st.value, (ast.Call, ast.BinOp, ast.UnaryOp, ast.Subscript)):
            continue
        if isinstance(st.value, ast.Call) and not _graph_op(facts, st.value) and not _helper_graph(facts, st.value, v, name):
            continue
        if _saves_nothing(facts, fl.node, st.value):
            continue  # (``s = w.sum()``: no node of the graph saved a tensor, so backward frees nothing a second one needs)
        return name
    return None


def _binding_before(facts, scope: ast.AST, name: ast.Name) -> Optional[ast.AST]:
    """The value of the assignment to ``name`` that the read runs after: its scope's only one, or (a notebook, a script
    that rebinds names) the last one before it in the same block."""
    bound = single_binding(scope, name.id)
    if bound is not None:
        return bound
    read_st = facts.statement_of(name)
    block = facts.parent(read_st) if read_st is not None else None
    last = None
    for st in getattr(block, "body", ()) if block is not None else ():
        if st is read_st or getattr(st, "lineno", 0) >= name.lineno:
            break
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name) and st.targets[0].id == name.id:
            last = st.value
        elif any(isinstance(n, ast.Name) and n.id == name.id and isinstance(n.ctx, ast.Store) for n in walk_nodes(st)):
            last = None  # (bound some other way: unknown)
    return last


def _saves_nothing(facts, scope: ast.AST, expr: ast.AST, depth: int = 0) -> bool:
    """Is ``expr`` computed by ops that save no tensor for backward (sums, means, additions, views) from leaves the
    function makes (``w = torch.ones(2, 2, requires_grad=True)``) and plain numbers? Backward frees no saved tensor of
    such a graph, so it can run through it again (how a tutorial shows gradients accumulating)."""
    if depth > 8:
        return False
    if isinstance(expr, ast.Constant):
        return isinstance(expr.value, (int, float))
    if isinstance(expr, ast.Name):
        bound = _binding_before(facts, scope, expr)
        if not isinstance(bound, ast.Call) or not any(k.arg == "requires_grad" and isinstance(k.value, ast.Constant) and k.value.value is True for k in bound.keywords):
            return False
        q = facts.imports.qualname(bound.func) or ""
        return q.startswith("torch.") and q.rsplit(".", 1)[-1] in FACTORIES
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Sub)):
        return _saves_nothing(facts, scope, expr.left, depth + 1) and _saves_nothing(facts, scope, expr.right, depth + 1)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in NOTHING_SAVED_METHODS:
        return _saves_nothing(facts, scope, expr.func.value, depth + 1) and all(
            isinstance(a, ast.Constant) or (isinstance(a, ast.UnaryOp) and isinstance(a.operand, ast.Constant)) for a in expr.args)
    return False


def _helper_graph(facts, call: ast.Call, v, name: str) -> bool:
    """A call of an in-file function whose result the flow knows to be a non-leaf tensor computed from this program's
    parameters (``loss = task_losses(model, x, y)`` returning ``F.cross_entropy(model(x), y)``): it carries the graph
    that function built, not a fresh leaf. Not when what it returns holds tensors it made itself (inputs built with
    ``requires_grad=True`` in a container: a root named after the variable bound here)."""
    if not (isinstance(call.func, ast.Name) and call.func.id in facts.flow.functions and v.kind == "tensor" and not v.leaf and v.ident is None and not v.cut and v.live):
        return False
    made = facts.flow.flow(facts.flow.functions[call.func.id]).created  # (tensors the helper makes: ``obs = torch.randn(..., requires_grad=True)``)
    return all(
        r != "?" and not r.startswith("arg:") and r != name and not r.startswith((name + ".", name + "["))
        and not any(r == c or r.startswith((c + ".", c + "[")) for c in made)
        for r in v.live
    )


def _shared_statement(facts, fl, body, i1: int, i2: int, s1, s2) -> set:
    """The roots both losses reach through values one statement computed once (``seg, rec = model(image)``: one
    forward whose encoder both heads share; ``h = encoder(x)`` read by both), before the first backward."""
    c1 = _closure(facts, body, i1, s1.loss_expr)
    c2 = _closure(facts, body, i2, s2.loss_expr)
    common = {r for r in s1.loss.live & s2.loss.live if r != "?" and not r.startswith("arg:")}
    out: set = set()
    if not common:
        return out
    second = {id(st) for st, _store in c2.values()}
    for st, store in c1.values():
        if id(st) not in second or isinstance(st, ast.AugAssign) or getattr(st, "value", None) is None:
            continue
        if not isinstance(st.value, (ast.Call, ast.BinOp, ast.UnaryOp, ast.Subscript)) or (isinstance(st.value, ast.Call) and not _graph_op(facts, st.value)):
            continue
        v = fl.assigned.get(id(store))
        if v is not None and v.kind == "tensor" and not v.leaf:
            out |= v.live & common
    return out


def _first_read(stmts, name: str) -> Optional[ast.Name]:
    """The first load of ``name`` in ``stmts`` (in source order): where the second loss re-enters the freed graph."""
    for st in stmts:
        loads = [n for n in ast.walk(st) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]
        if loads:
            return min(loads, key=lambda n: (n.lineno, n.col_offset))
    return None


def _graph_op(facts, call: ast.Call) -> bool:
    """A call recorded here: a module / tensor method / torch op, not a helper whose result may be a leaf."""
    q = facts.imports.qualname(call.func)
    if q is not None:
        return q.startswith("torch.")
    if isinstance(call.func, ast.Name):
        return call.func.id not in facts.flow.functions and call.func.id not in facts.modules.classes
    return True


def _add_retain(facts, call: ast.Call):
    for k in call.keywords:
        if k.arg == "retain_graph":
            return fix("Pass `retain_graph=True` to the first backward()", replace_node(facts, k.value, "True"))
    if call.args or call.keywords:
        last = max([*call.args, *(k.value for k in call.keywords)], key=lambda n: (n.end_lineno, n.end_col_offset))
        end = facts.end(last)
        return fix("Pass `retain_graph=True` to the first backward()", Edit(end, end, ", retain_graph=True"))
    text = facts.text(call)
    if not text.endswith(")"):
        return None
    end = facts.end(call)
    pos = type(end)(end.line, end.col - 1)
    return fix("Pass `retain_graph=True` to the first backward()", Edit(pos, pos, "retain_graph=True"))


def _fixed_target_fixes(facts, fl, stmt: ast.stmt, name: str, site: BackwardSite) -> list:
    """Compute the value before the loop without a graph (``with torch.no_grad():`` around its statement), when it is a
    fixed target: it carries none of the parameters the optimizers stepped after the backward hold (a style transfer's
    targets, made through a network only the image is optimized against). Unsafe: it also stops any gradient the value
    would give the other parameters it carries, which no optimizer here steps."""
    from gradguard.core.training import stepped_after
    from gradguard.fixes import ensure_import, line_indent, newline

    if not isinstance(stmt, ast.Assign) or facts.parent(stmt) is not fl.node and not isinstance(facts.parent(stmt), (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        return []
    v = next((fl.assigned.get(id(n)) for t in stmt.targets for n in walk_nodes(t) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)), None)
    opts = stepped_after(fl, site)
    if v is None or not v.live or not opts or any(related_roots(r, c) for r in v.live for o in opts for c in o.covered):
        return []
    first, last = stmt.lineno, stmt.end_lineno or stmt.lineno
    if facts.source.line(first)[: facts.start(stmt).col].strip() or facts.source.line(last)[facts.end(stmt).col:].strip():
        return []  # (shares its lines with another statement)

    def build():
        torch_name, extra = ensure_import(facts, "torch")
        indent = line_indent(facts, first)
        nl = newline(facts)
        body = "".join("    " + ln if ln.strip() else ln for ln in facts.source.lines[first - 1 : last])
        if not body.endswith(("\n", "\r")):
            body += nl
        return fix("Compute it without a graph (`with torch.no_grad():`): a fixed target", Edit(Pos(first, 0), Pos(last + 1, 0), f"{indent}with {torch_name}.no_grad():{nl}{body}"), *extra, unsafe=True)

    return [build]



def _loop_calling(facts, fn: ast.AST) -> Optional[ast.AST]:
    """A loop of this file that calls method ``fn`` by name (``self.train_step(...)`` in ``for x, y in loader``)."""
    name = getattr(fn, "name", None)
    if not name or name.startswith("__"):
        return None
    for node in facts.walk((ast.For, ast.While, ast.AsyncFor)):
        if any(isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == name for sub in walk_nodes(node)) \
                and not any(x is node for x in walk_nodes(fn)):
            return node
    return None


def _calls_trained_module(facts, init: ast.AST, target: ast.AST, trained: set) -> bool:
    """Does the value assigned to ``target`` in ``init`` call a model whose parameters the optimizer trains (a
    constructor parameter or a part of ``self`` the optimizer holds: ``hnet(t)``, ``self.encoder(x)``)? Its output
    then carries a graph that saved tensors (a wrapper of the object, ``RRef(self)``, is not such a call)."""
    st = facts.parent(target)
    value = getattr(st, "value", None)
    if value is None:
        return False
    a = init.args  # type: ignore[attr-defined]
    names = [p.arg for p in (*a.posonlyargs, *a.args)][1:]
    for n in walk_nodes(value):
        if not isinstance(n, ast.Call):
            continue
        f = n.func
        root = None
        if isinstance(f, ast.Name) and f.id in names:
            root = f"arg:{names.index(f.id)}"
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self":
            root = f"self.{f.attr}"
        if root is not None and any(root == t or root.startswith(t + ".") or t.startswith(root + ".") for t in trained):
            return True
    return False
