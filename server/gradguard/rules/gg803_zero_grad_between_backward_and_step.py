"""GG803 zero-grad-between-backward-and-step: gradients are cleared after ``backward()`` and before ``step()``."""
from __future__ import annotations

import ast
from typing import cast

from gradguard.core.astindex import walk_nodes
from gradguard.core.flow import related as related_roots
from gradguard.core.model import Applicability, Edit, Severity
from gradguard.core.order import position
from gradguard.core.source import Pos
from gradguard.core.training import backpropagates, backward_blocks, clears, has_backward, step_binding, stmt_call
from gradguard.fixes import fix, insert_after_stmt, insert_before_stmt
from gradguard.rules.base import Example, Rule


def _whole_lines(facts, st: ast.stmt) -> bool:
    if st.lineno != st.end_lineno:
        return False
    return facts.source.line(st.lineno).strip().split("#")[0].strip() == facts.text(st).strip()


class ZeroGradBetweenBackwardAndStep(Rule):
    code = "GG803"
    name = "zero-grad-between-backward-and-step"
    summary = "`zero_grad()` runs after `backward()` and before `step()`: the optimizer steps with cleared gradients and nothing trains."
    severity = Severity.WARNING
    needs = ("backward",)
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Flags `optimizer.zero_grad()` (or `model.zero_grad()` of the model the optimizer trains) placed, in the
same block, after `loss.backward()` and before `optimizer.step()`, with no other `backward()` between; also when the
clear and the step sit together in a block nested in a later statement (`if (i + 1) % accumulate == 0:
optimizer.zero_grad(); optimizer.step()`, Lightning manual accumulation): every path that reaches the step has just
cleared the gradients.
Clearing the gradients of *another* optimizer there (GAN training) is fine and not flagged. Also through a
helper: a function called after `loss.backward()` whose body clears the gradients of the optimizer it is
given and then steps it (`optimizer.zero_grad()` right before `optimizer.step()`, with nothing between that
computes gradients); or a helper called between `loss.backward()` and `optimizer.step()` that ends by clearing
the gradients of the optimizer it is given (a clip-and-log helper that "resets the buffers for the next batch").

Also with another backward between: `opt.zero_grad()` after a backward that reached `opt`'s parameters, then a
backward that does not reach them, then `opt.step()`. The optimizers are the program's values, so this sees what the
names hide: in a Lightning module with manual optimization, `opt_g, opt_d = self.optimizers()` binds them in the
order `configure_optimizers` returns them (`return [opt_d, opt_g], [...]` swaps them), and the generator's
optimizer then steps after the discriminator's backward only (no fix is offered: which name is wrong is intent).
The same in a helper that clears, backpropagates and steps what it is given (`self._update(d_opt, d_loss)`), as each
call runs it: when the only backward before the step does not reach the optimizer's parameters, the step applies
nothing to them.

Across iterations too: a loop that clears the gradients before every `backward()` but steps only every few
iterations (`if (i + 1) % accumulation_steps == 0: optimizer.step()`) discards the accumulated gradients of
the micro-batches in between. A step skipped on a condition that is not a schedule (a non-finite loss) is
left alone.

A `.grad` set by hand between the clear and the step (`w.grad = torch.autograd.grad(gn, w)[0]`, GradNorm's task
weights) is what the step applies: not reported.

## Why is this bad?
`zero_grad()` sets every `.grad` to `None` (or zero). The following `step()` then has nothing to apply:
SGD and Adam skip parameters whose `.grad` is `None`, so the model never changes; with
`set_to_none=False` weight decay and momentum still move the weights, but not toward a lower loss.

## Example
```python
loss.backward()
optimizer.zero_grad()
optimizer.step()
```

## Use instead
```python
optimizer.zero_grad()
loss.backward()
optimizer.step()
```

## Fix safety
The fix moves the `zero_grad()` statement right before the block's first `backward()`; for gradient
accumulation, and in a helper that clears then steps, right after the `step()`. It is marked unsafe because statements in
between may have been meant to see the previous gradients.
"""
    examples = (
        Example(
            bad=False,
            name="gradnorm-weights-cleared-then-given-their-gradient-by-hand",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    trunk = nn.Linear(4, 4)
    heads = nn.ModuleList([nn.Linear(4, 1), nn.Linear(4, 1)])
    weights = nn.Parameter(torch.ones(2))
    opt_model = torch.optim.SGD([*trunk.parameters(), *heads.parameters()], lr=0.1)
    opt_w = torch.optim.SGD([weights], lr=0.1)
    w0 = weights.detach().clone()
    for _ in range(3):
        x = torch.randn(8, 4)
        h = trunk(x)
        losses = torch.stack([F.mse_loss(head(h).squeeze(-1), x[:, i]) for i, head in enumerate(heads)])
        opt_model.zero_grad()
        (weights.detach() * losses).sum().backward(retain_graph=True)
        norms = torch.stack([torch.autograd.grad(weights[i] * losses[i], trunk.weight, retain_graph=True, create_graph=True)[0].norm() for i in range(2)])
        gn = (norms - norms.mean().detach()).abs().sum()
        opt_w.zero_grad()
        weights.grad = torch.autograd.grad(gn, weights)[0]
        opt_model.step()
        opt_w.step()
    return {"trunk": trunk}, {"weights_changed": not torch.equal(w0, weights.detach())}
""",
            expect={'facts': {'weights_changed': True}},
        ),
        Example(
            name="cleared-before-step",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    w0 = net.weight.detach().clone()
    for _ in range(3):
        loss = net(torch.randn(6, 4)).pow(2).mean()
        loss.backward()
        opt.zero_grad()
        opt.step()
    return {"net": net}, {"changed": not torch.equal(w0, net.weight.detach())}
""",
            lines=(13,),
            expect={"grad_none": ["net.weight"], "facts": {"changed": False}},
            fixed_expect={"grad_ok": ["net.weight"], "facts": {"changed": True}},
        ),
        Example(
            name="accumulation-cleared-every-micro-batch",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    window, applied = [], []
    for i in range(8):
        x = torch.randn(2, 4)
        optimizer.zero_grad()
        g0 = model.weight.grad.clone() if model.weight.grad is not None else torch.zeros_like(model.weight)
        (model(x).pow(2).mean() / 4).backward()
        window.append(model.weight.grad - g0)
        if (i + 1) % 4 == 0:
            applied.append(bool(torch.allclose(model.weight.grad, sum(window))))
            window = []
            optimizer.step()
    return {"model": model}, {"steps_apply_whole_window": all(applied)}
""",
            lines=(12,),
            expect={"facts": {"steps_apply_whole_window": False}},
            fixed_expect={"facts": {"steps_apply_whole_window": True}},
        ),
        Example(
            name="update-helper-clears-then-steps",
            code="""import torch
import torch.nn as nn


def apply_update(model, optimizer, max_norm=1.0):
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.zero_grad()
    optimizer.step()


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    w0 = net.weight.detach().clone()
    for _ in range(3):
        loss = net(torch.randn(6, 4)).pow(2).mean()
        loss.backward()
        apply_update(net, opt)
    return {"net": net}, {"changed": not torch.equal(w0, net.weight.detach())}
""",
            lines=(7,),
            expect={"grad_none": ["net.weight"], "facts": {"changed": False}},
            fixed_expect={"facts": {"changed": True}},
        ),
        Example(
            bad=False,
            name="gan-discriminator-cleared-then-backpropagated-by-a-helper",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def backward_d(netD, real, fake):
    loss = F.softplus(-netD(real)).mean() + F.softplus(netD(fake.detach())).mean()
    loss.backward()


def main():
    torch.manual_seed(0)
    G, D = nn.Linear(4, 6), nn.Linear(6, 1)
    opt_g, opt_d = torch.optim.SGD(G.parameters(), lr=0.1), torch.optim.SGD(D.parameters(), lr=0.1)
    before = D.weight.detach().clone()
    for _ in range(3):
        fake = G(torch.randn(8, 4))
        loss_g = F.softplus(-D(fake)).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        opt_d.zero_grad()
        backward_d(D, torch.randn(8, 6), fake)
        opt_d.step()
    return {"G": G, "D": D}, {"d_changed": not torch.equal(before, D.weight)}
""",
            expect={"grad_ok": ["G.weight", "D.weight"], "facts": {"d_changed": True}},
        ),
        Example(
            bad=False,
            name="update-helper-steps-then-clears",
            code="""import torch
import torch.nn as nn


def apply_update(model, optimizer, max_norm=1.0):
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    optimizer.zero_grad()


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    w0 = net.weight.detach().clone()
    for _ in range(3):
        loss = net(torch.randn(6, 4)).pow(2).mean()
        loss.backward()
        apply_update(net, opt)
    return {"net": net}, {"changed": not torch.equal(w0, net.weight.detach())}
""",
            expect={"facts": {"changed": True}},
        ),
        Example(
            bad=False,
            name="accumulation-cleared-after-the-step",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    window, applied = [], []
    for i in range(8):
        x = torch.randn(2, 4)
        g0 = model.weight.grad.clone() if model.weight.grad is not None else torch.zeros_like(model.weight)
        (model(x).pow(2).mean() / 4).backward()
        window.append(model.weight.grad - g0)
        if (i + 1) % 4 == 0:
            applied.append(bool(torch.allclose(model.weight.grad, sum(window))))
            window = []
            optimizer.step()
            optimizer.zero_grad()
    return {"model": model}, {"steps_apply_whole_window": all(applied)}
""",
            expect={"facts": {"steps_apply_whole_window": True}},
        ),
        Example(
            bad=False,
            name="step-skipped-on-a-non-finite-loss",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    w0 = model.weight.detach().clone()
    for i in range(4):
        optimizer.zero_grad()
        loss = model(torch.randn(2, 4)).pow(2).mean()
        loss.backward()
        if torch.isfinite(loss):
            optimizer.step()
    return {"model": model}, {"changed": not torch.equal(w0, model.weight.detach())}
""",
            expect={"facts": {"changed": True}},
        ),
        Example(
            bad=False,
            name="gan-clears-other-optimizer",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    G, D = nn.Linear(2, 2), nn.Linear(2, 1)
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    opt_g.zero_grad()
    g_loss = -D(G(torch.randn(4, 2))).mean()
    g_loss.backward()
    opt_d.zero_grad()
    opt_g.step()
    return {"G": G}
""",
            expect={"grad_ok": ["G.weight"]},
        ),
        Example(
            name="helper-between-backward-and-step-clears-the-gradients",
            code="""import torch
import torch.nn as nn


def log_and_reset(model, optimizer, log):
    log.append(sum(p.grad.norm().item() for p in model.parameters()))
    optimizer.zero_grad()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.weight.detach().clone()
    log = []
    for _ in range(3):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        loss.backward()
        log_and_reset(model, optimizer, log)
        optimizer.step()
    return {"model": model}, {"changed": not torch.equal(before, model.weight)}
""",
            expect={"facts": {"changed": False}},
            lines=(7,),
            fixable=False,
        ),
        Example(
            bad=False,
            name="helper-clears-the-gradients-after-the-step",
            code="""import torch
import torch.nn as nn


def log_and_reset(model, optimizer, log):
    log.append(sum(p.grad.norm().item() for p in model.parameters()))
    optimizer.zero_grad()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.weight.detach().clone()
    log = []
    for _ in range(3):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        loss.backward()
        optimizer.step()
        log_and_reset(model, optimizer, log)
    return {"model": model}, {"changed": not torch.equal(before, model.weight)}
""",
            expect={"facts": {"changed": True}},
        ),
        Example(
            name="lightning-gan-optimizers-unpacked-in-the-other-order",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GAN(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.generator = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 6))
        self.discriminator = nn.Sequential(nn.Linear(6, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        fake = self.generator(torch.randn(len(real), 4))
        opt_g.zero_grad()
        g_loss = F.binary_cross_entropy_with_logits(self.discriminator(fake), torch.ones(len(real), 1))
        self.manual_backward(g_loss)
        opt_g.step()
        opt_d.zero_grad()
        d_real = F.binary_cross_entropy_with_logits(self.discriminator(real), torch.ones(len(real), 1))
        d_fake = F.binary_cross_entropy_with_logits(self.discriminator(fake.detach()), torch.zeros(len(real), 1))
        self.manual_backward((d_real + d_fake) / 2)
        opt_d.step()

    def configure_optimizers(self):
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=1e-3)
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=1e-3)
        return [opt_d, opt_g], []


def main():
    pl.seed_everything(0)
    model = GAN()
    before = model.generator[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(TensorDataset(torch.randn(8, 6)), batch_size=4))
    return {"model": model}, {"generator_changed": not torch.equal(before, model.generator[0].weight)}
""",
            lines=(23,),
            fixable=False,
            expect={"facts": {"generator_changed": False}},
        ),
        Example(
            bad=False,
            name="lightning-gan-optimizers-unpacked-in-order",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GAN(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.generator = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 6))
        self.discriminator = nn.Sequential(nn.Linear(6, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        fake = self.generator(torch.randn(len(real), 4))
        opt_g.zero_grad()
        g_loss = F.binary_cross_entropy_with_logits(self.discriminator(fake), torch.ones(len(real), 1))
        self.manual_backward(g_loss)
        opt_g.step()
        opt_d.zero_grad()
        d_real = F.binary_cross_entropy_with_logits(self.discriminator(real), torch.ones(len(real), 1))
        d_fake = F.binary_cross_entropy_with_logits(self.discriminator(fake.detach()), torch.zeros(len(real), 1))
        self.manual_backward((d_real + d_fake) / 2)
        opt_d.step()

    def configure_optimizers(self):
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=1e-3)
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=1e-3)
        return [opt_g, opt_d], []


def main():
    pl.seed_everything(0)
    model = GAN()
    before = model.generator[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(TensorDataset(torch.randn(8, 6)), batch_size=4))
    return {"model": model}, {"generator_changed": not torch.equal(before, model.generator[0].weight)}
""",
            expect={"facts": {"generator_changed": True}},
        ),
        Example(
            name="lightning-gan-update-helper-given-the-optimizers-in-the-other-order",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GAN(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.generator = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 6))
        self.critic = nn.Sequential(nn.Linear(6, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))

    def _update(self, optimizer, loss):
        optimizer.zero_grad()
        self.manual_backward(loss)
        optimizer.step()

    def training_step(self, batch, batch_idx):
        (real,) = batch
        d_opt, g_opt = self.optimizers()
        fake = self.generator(torch.randn(len(real), 4))
        d_loss = F.softplus(-self.critic(real)).mean() + F.softplus(self.critic(fake.detach())).mean()
        self._update(d_opt, d_loss)
        self._update(g_opt, F.softplus(-self.critic(fake)).mean())

    def configure_optimizers(self):
        g_opt = torch.optim.Adam(self.generator.parameters(), lr=1e-3)
        d_opt = torch.optim.Adam(self.critic.parameters(), lr=1e-3)
        return [g_opt, d_opt]


def main():
    pl.seed_everything(0)
    model = GAN()
    before = model.generator[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(TensorDataset(torch.randn(8, 6)), batch_size=4))
    return {"model": model}, {"generator_changed": not torch.equal(before, model.generator[0].weight)}
""",
            lines=(16,),
            fixable=False,
            expect={"facts": {"generator_changed": False}},
        ),
        Example(
            bad=False,
            name="lightning-gan-update-helper-given-the-optimizers-in-order",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GAN(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.generator = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 6))
        self.critic = nn.Sequential(nn.Linear(6, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))

    def _update(self, optimizer, loss):
        optimizer.zero_grad()
        self.manual_backward(loss)
        optimizer.step()

    def training_step(self, batch, batch_idx):
        (real,) = batch
        d_opt, g_opt = self.optimizers()
        fake = self.generator(torch.randn(len(real), 4))
        d_loss = F.softplus(-self.critic(real)).mean() + F.softplus(self.critic(fake.detach())).mean()
        self._update(d_opt, d_loss)
        self._update(g_opt, F.softplus(-self.critic(fake)).mean())

    def configure_optimizers(self):
        g_opt = torch.optim.Adam(self.generator.parameters(), lr=1e-3)
        d_opt = torch.optim.Adam(self.critic.parameters(), lr=1e-3)
        return [d_opt, g_opt]


def main():
    pl.seed_everything(0)
    model = GAN()
    before = model.generator[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(TensorDataset(torch.randn(8, 6)), batch_size=4))
    return {"model": model}, {"generator_changed": not torch.equal(before, model.generator[0].weight)}
""",
            expect={"facts": {"generator_changed": True}},
        ),
        Example(
            name="accumulation-window-cleared-before-its-step",
            code="""import torch
import torch.nn as nn


def train(model, optimizer, batches, accumulate=2):
    for i, (x, y) in enumerate(batches):
        loss = nn.functional.mse_loss(model(x), y) / accumulate
        loss.backward()
        if (i + 1) % accumulate == 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.zero_grad()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    w0 = model.weight.detach().clone()
    train(model, optimizer, [(torch.randn(3, 4), torch.randn(3, 1)) for _ in range(4)])
    return {}, {"changed": not torch.equal(w0, model.weight.detach())}
""",
            lines=(11,),
            expect={"facts": {"changed": False}},
            fixed_expect={"facts": {"changed": True}},
        ),
        Example(
            name="accumulation-window-stepped-then-cleared",
            bad=False,
            code="""import torch
import torch.nn as nn


def train(model, optimizer, batches, accumulate=2):
    for i, (x, y) in enumerate(batches):
        loss = nn.functional.mse_loss(model(x), y) / accumulate
        loss.backward()
        if (i + 1) % accumulate == 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    w0 = model.weight.detach().clone()
    train(model, optimizer, [(torch.randn(3, 4), torch.randn(3, 1)) for _ in range(4)])
    return {}, {"changed": not torch.equal(w0, model.weight.detach())}
""",
            expect={"facts": {"changed": True}},
        ),
        Example(
            bad=False,
            name="discriminator-gradients-cleared-then-filled-by-a-method",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def set_requires_grad(nets, requires_grad=False):
    for net in nets:
        for p in net.parameters():
            p.requires_grad = requires_grad


class GANModel:
    def __init__(self):
        self.G, self.D = nn.Linear(4, 4), nn.Linear(4, 1)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=1e-3)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=1e-3)

    def backward_d(self, netD, real, fake):
        loss = F.softplus(netD(fake.detach())).mean() + F.softplus(-netD(real)).mean()
        loss.backward()

    def optimize(self, z):
        real = torch.randn(8, 4) * 0.5 + 1.0  # samples of the real distribution
        fake = self.G(z)
        set_requires_grad([self.D], False)  # the generator step must not train D
        self.opt_g.zero_grad()
        F.softplus(-self.D(fake)).mean().backward()
        self.opt_g.step()
        set_requires_grad([self.D], True)
        self.opt_d.zero_grad()
        self.backward_d(self.D, real, fake)
        self.opt_d.step()


def main():
    torch.manual_seed(0)
    gan = GANModel()
    for _ in range(2):
        gan.optimize(torch.randn(8, 4))
    return {"G": gan.G, "D": gan.D}
""",
            expect={"grad_ok": ["G.weight", "D.weight"]},
        ),
        Example(
            bad=False,
            name="two-optimizers-one-over-a-getattr-property-cleared-after-their-steps",
            code="""import torch
import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 6)
        self.head = nn.Linear(6, 3)

    @property
    def head_params(self):
        return list(self.head.parameters())

    def forward(self, x):
        return self.head(self.encoder(x))


def main():
    torch.manual_seed(0)
    model = Classifier()
    opt_enc = torch.optim.AdamW(model.encoder.parameters(), lr=1e-3)
    opt_head = torch.optim.AdamW(getattr(model, "head_params"), lr=3e-2)
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    w0 = model.head.weight.detach().clone()
    for _ in range(3):
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt_enc.step()
        opt_enc.zero_grad()
        opt_head.step()
        opt_head.zero_grad()
    return {"model": model}, {"head_moved": not torch.equal(w0, model.head.weight)}
""",
            expect={'facts': {'head_moved': True}},
        ),
    )

    def check(self, facts):
        binding = step_binding(facts)
        yield from self._accumulation(facts, binding)
        yield from self._in_helper(facts)
        yield from self._cleared_past_another_backward(facts)
        yield from self._cleared_in_later_block(facts, binding)
        for _owner, body, backs in backward_blocks(facts):
            for k, st in enumerate(body):
                scall = stmt_call(st, "step")
                if scall is None:
                    continue
                opt = binding.optimizer(scall)
                if opt is None:
                    continue
                prev_backs = [i for i in backs if i < k]
                if not prev_backs:
                    continue
                i = prev_backs[-1]
                for j in range(i + 1, k):
                    zcall = stmt_call(body[j], "zero_grad")
                    if zcall is None or not clears(facts, binding, zcall, scall, opt):
                        continue
                    if any(backpropagates(facts, body[x]) for x in range(j + 1, k)):
                        continue  # (a backward after the clear, also in a helper: ``backward_D(netD, real, fake)``)
                    if any(_assigns_grad(body[x]) for x in range(j + 1, k)):
                        continue  # (``w.grad = torch.autograd.grad(gn, w)[0]``: the step uses the gradient set by hand)
                    fixes = []
                    first = backs[0]
                    if _whole_lines(facts, body[j]) and not any(has_backward(body[x]) for x in range(0, first)):
                        z, b = body[j], body[first]

                        def build(z=z, b=b):
                            delete = Edit(Pos(z.lineno, 0), Pos(z.lineno + 1, 0), "")
                            return fix("Move `zero_grad()` before `backward()`", insert_before_stmt(facts, b, facts.text(z)), delete, unsafe=True)

                        fixes.append(build)
                    yield self.finding(
                        facts,
                        zcall,
                        f"`{facts.text(cast(ast.Attribute, zcall.func).value)}.zero_grad()` clears the gradients that `backward()` just computed, before `{opt}.step()` uses them: the step applies nothing",
                        related=[(body[i], "gradients computed here"), (scall, "steps with cleared gradients")],
                        fixes=fixes,
                        explanation="`zero_grad()` resets `.grad`; the optimizer skips parameters without gradients, so the model does not learn.",
                    )
                    break

    def _cleared_in_later_block(self, facts, binding):
        """``backward()`` in a block, then, in a block nested in a later statement of it (``if (i + 1) % k == 0:``),
        ``zero_grad()`` followed by ``step()`` of the same optimizer with nothing between that computes gradients:
        on every path that reaches the step, its gradients were just cleared."""
        for _owner, body, backs in backward_blocks(facts):
            for k in range(backs[0] + 1, len(body)):
                if not isinstance(body[k], (ast.If, ast.With, ast.AsyncWith, ast.Try)):
                    continue
                back = body[max(i for i in backs if i < k)]
                for inner in _nested_blocks(body[k]):
                    for j, zst in enumerate(inner):
                        zcall = stmt_call(zst, "zero_grad")
                        if zcall is None or any(has_backward(x) for x in inner[:j]):
                            continue  # (a backward in the same block: the check of one block reports it)
                        for m in range(j + 1, len(inner)):
                            sst = inner[m]
                            scall = stmt_call(sst, "step")
                            if scall is not None and not scall.args and not scall.keywords:
                                opt = binding.optimizer(scall)
                                if opt is not None and clears(facts, binding, zcall, scall, opt):
                                    yield self._later_block_finding(facts, back, zst, zcall, sst, scall, opt)
                                break
                            if _may_compute_or_leave(facts, sst, self_calls=True):
                                break

    def _later_block_finding(self, facts, back, zst, zcall, sst, scall, opt):
        fixes = []
        if _whole_lines(facts, zst) and _whole_lines(facts, sst):

            def build(z=zst, s=sst):
                delete = Edit(Pos(z.lineno, 0), Pos(z.lineno + 1, 0), "")
                return fix("Clear the gradients after the step instead", insert_after_stmt(facts, s, facts.text(z)), delete, unsafe=True)

            fixes.append(build)
        return self.finding(
            facts,
            zcall,
            f"`{facts.text(cast(ast.Attribute, zcall.func).value)}.zero_grad()` clears the gradients that `backward()` on line {back.lineno} "
            f"computed, right before `{opt}.step()`: the step applies nothing",
            related=[(back, "gradients computed here"), (scall, "steps with cleared gradients")],
            fixes=fixes,
            explanation="`zero_grad()` resets `.grad` (to None by default); the optimizer skips parameters without gradients, so the "
            "model does not learn. Step first, then clear the gradients for the next accumulation window.",
        )

    def _cleared_past_another_backward(self, facts):
        """``zero_grad()`` of an optimizer after a backward that reached its parameters, then another backward that
        does not reach them, then its ``step()`` (the optimizers of a GAN unpacked in the wrong order from
        ``self.optimizers()``: the generator's gradients are cleared by what the code calls ``opt_d``, the
        discriminator's loss fills only the discriminator's, and the generator's optimizer steps on nothing). The
        optimizers are values of the program model (what ``configure_optimizers`` returns, in order)."""
        done: set = set()
        for fl in facts.backward_flows:
            sites = [s for s in fl.backward_sites if s.stmt is not None]
            if not sites:
                continue
            evs = [e for e in fl.events if e.what in ("zero_grad", "step") and e.stmt is not None and e.target is not None and e.target.kind == "optimizer"]
            for st in (e for e in evs if e.what == "step"):
                params = st.target.params
                if not params or any(p == "self" or p.startswith(("arg:", "?")) for p in params):
                    continue
                place = _place(facts, st.stmt)
                if place is None:
                    continue
                zs = [e for e in evs if e.what == "zero_grad" and e.target.params == params and e.target.origin is st.target.origin
                      and _place(facts, e.stmt) is not None and _place(facts, e.stmt)[:2] == place[:2] and _place(facts, e.stmt)[2] < place[2]]
                if not zs:
                    continue
                z = max(zs, key=lambda e: _place(facts, e.stmt)[2])
                zi = _place(facts, z.stmt)[2]
                here = [(s, _place(facts, s.stmt)) for s in sites]
                here = [(s, pl[2]) for s, pl in here if pl is not None and pl[:2] == place[:2]]
                zpos, spos = position(z.node), position(st.node)
                # every backward the flow runs between the clear and the step, however nested (``if h.grad is not None:
                # h1.backward(gradient=h.grad)``), and every statement between them that may backpropagate
                between = [s for s in fl.loss_sites if zpos < position(s.node) < spos]
                if not between or any("?" in s.loss.live or _reaches(s, params) for s in between):
                    continue
                lst = getattr(place[0], place[1])
                if any(backpropagates(facts, x) and not any(b.stmt is x for b in between) for x in lst[zi + 1 : place[2]]):
                    continue
                if not any(_reaches(s, params) for f in facts.backward_flows for s in f.loss_sites):
                    continue  # no loss of the program is seen reaching them: how they train is not known here
                before = [s for s, i in here if i < zi]
                earlier = [s for s in before if _reaches(s, params)]
                if not earlier and not _stepped_by_another(facts, fl, params):
                    continue  # (no sign that these gradients were computed for this step: a cut elsewhere starves them)
                key = (id(z.node), id(fl.context))
                if key in done:
                    continue
                done.add(key)
                what = ", ".join(f"`{p}`" for p in sorted(params))
                name = facts.text(z.node.func.value)
                related = [(earlier[-1].node, f"the gradients of {what} are computed here")] if earlier else []
                related += [(between[-1].node, f"this backward does not reach {what}"), (st.node, f"steps the optimizer of {what} with cleared gradients")]
                bound = _binding_of(facts, fl, z.node.func.value)
                if bound is not None and fl.context is None:
                    related.append((bound, f"`{name}` is bound here to the optimizer of {what}"))
                if isinstance(fl.context, ast.Call):
                    related.append((fl.context, f"called here with the optimizer of {what}"))
                    given = _argument_at(fl, fl.context, name)
                    caller = facts.enclosing(fl.context, (ast.FunctionDef, ast.AsyncFunctionDef))
                    if isinstance(given, ast.Name) and caller is not None:
                        bs = facts.semantic.bindings(caller, given.id)
                        if len(bs) == 1:
                            related.append((bs[0].node, f"`{given.id}` is bound here to the optimizer of {what}"))
                if st.target.origin is not None:
                    related.append((st.target.origin, f"the optimizer of {what} is built here"))
                head = (f"clears the gradients of {what} that the backward at line {earlier[-1].line} computed, and the backward at line "
                        f"{between[-1].line} does not reach them" if earlier else
                        f"clears the gradients of {what}, and the only backward before the step (line {between[-1].line}) does not reach them")
                yield self.finding(
                    facts,
                    z.node,
                    f"`{name}.zero_grad()` {head}: `{facts.text(st.node.func.value)}.step()` on line {st.node.lineno} applies nothing to {what}",
                    related=related,
                    explanation="`zero_grad()` resets `.grad` (to None by default); the optimizer skips parameters without gradients, so "
                    "those parameters never change. When the optimizers come from `self.optimizers()`, they are in the order "
                    "`configure_optimizers` returns them.",
                )

    def _accumulation(self, facts, binding):
        """Gradient accumulation across iterations: the loop clears the gradients before every ``backward()`` but
        steps only every N iterations (``if (i + 1) % N == 0: optimizer.step()``). The next iteration's
        ``zero_grad()`` runs between each skipped iteration's backward and the step: the step sees one micro-batch."""
        for owner, body, backs in backward_blocks(facts):
            if not isinstance(owner, (ast.For, ast.AsyncFor, ast.While)) or body is not owner.body:
                continue
            zeros = [(j, zc) for j, st in enumerate(body) if (zc := stmt_call(st, "zero_grad")) is not None]
            if not zeros or any(binding.optimizer(c) for st in body if (c := stmt_call(st, "step")) is not None):
                continue  # (an optimizer stepped every iteration: the ordinary loop, checked below)
            for k, st in enumerate(body):
                if not (isinstance(st, ast.If) and k > backs[0] and _periodic(st.test)):
                    continue
                steps = [c for sub in st.body if (c := stmt_call(sub, "step")) is not None and binding.optimizer(c)]
                if not steps or any(stmt_call(sub, "zero_grad") is not None for sub in st.body):
                    continue
                scall = steps[0]
                opt = binding.optimizer(scall)
                for j, zcall in zeros:
                    if j > backs[0] or not clears(facts, binding, zcall, scall, str(opt)):
                        continue
                    fixes = []
                    z = body[j]
                    after = next(x for x in st.body if stmt_call(x, "step") is scall)
                    if _whole_lines(facts, z) and _whole_lines(facts, after):

                        def build(z=z, after=after):
                            delete = Edit(Pos(z.lineno, 0), Pos(z.lineno + 1, 0), "")
                            return fix("Clear the gradients after the step instead", insert_after_stmt(facts, after, facts.text(z)), delete, unsafe=True)

                        fixes.append(build)
                    yield self.finding(
                        facts,
                        zcall,
                        f"`{facts.text(cast(ast.Attribute, zcall.func).value)}.zero_grad()` runs before every `backward()`, but `{opt}.step()` runs only "
                        f"every few iterations (line {scall.lineno}): the gradients accumulated since the last step are cleared, so each step "
                        "applies only the last micro-batch's",
                        related=[(body[backs[0]], "gradients computed here, cleared on the next iteration"), (scall, "steps only the last micro-batch's gradients")],
                        fixes=fixes,
                        explanation="Gradient accumulation adds the gradients of several backward passes into `.grad` and steps once; "
                        "`zero_grad()` must run after that step (inside the same condition), not before every backward.",
                    )
                    break


    def _in_helper(self, facts):
        """A helper called after ``backward()`` (``apply_update(model, optimizer)``) whose own body clears the
        gradients and then steps the same optimizer: the step inside the helper sees cleared gradients wherever
        the helper runs, and the caller's backward shows they were meant to be applied."""
        reported: set = set()
        for _owner, body, backs in backward_blocks(facts):
            for k, st in enumerate(body):
                if k <= backs[0] or has_backward(st):
                    continue
                back = body[max(i for i in backs if i < k)]
                for call in _calls_always_run(st):
                    fn = facts.flow.functions.get(call.func.id) if isinstance(call.func, ast.Name) else None
                    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        continue
                    hit = _clears_then_steps(facts, fn, call)
                    if hit is None:
                        late = _clears_for_caller(facts, fn, call, body, k)
                        if late is not None and id(late[0]) not in reported:
                            zst, sst = late
                            reported.add(id(zst))
                            zcall, scall = cast(ast.Call, stmt_call(zst, "zero_grad")), cast(ast.Call, stmt_call(sst, "step"))
                            opt = facts.text(cast(ast.Attribute, scall.func).value)
                            yield self.finding(
                                facts,
                                zcall,
                                f"`{facts.text(cast(ast.Attribute, zcall.func).value)}.zero_grad()` clears the gradients of the optimizer `{fn.name}()` is given, "
                                f"and `{fn.name}()` is called at line {call.lineno} after `backward()` and before `{opt}.step()` on line {scall.lineno}: "
                                f"the gradients of line {back.lineno} are cleared before the step, which applies nothing",
                                related=[(back, "gradients computed here"), (call, f"`{fn.name}()` clears them"), (scall, "steps with cleared gradients")],
                                explanation="`zero_grad()` resets `.grad` (to None by default); the optimizer skips parameters without gradients, so "
                                "the model does not learn. Clear the gradients after the step (or before the next backward), not in a helper "
                                "that runs between them.",
                            )
                        continue
                    if id(hit[0]) in reported:
                        continue
                    zst, sst = hit
                    reported.add(id(zst))
                    zcall, scall = cast(ast.Call, stmt_call(zst, "zero_grad")), cast(ast.Call, stmt_call(sst, "step"))
                    fixes = []
                    if _whole_lines(facts, zst) and _whole_lines(facts, sst):

                        def build(z=zst, s=sst):
                            delete = Edit(Pos(z.lineno, 0), Pos(z.lineno + 1, 0), "")
                            return fix("Clear the gradients after the step instead", insert_after_stmt(facts, s, facts.text(z)), delete, unsafe=True)

                        fixes.append(build)
                    opt = facts.text(cast(ast.Attribute, scall.func).value)
                    yield self.finding(
                        facts,
                        zcall,
                        f"`{facts.text(cast(ast.Attribute, zcall.func).value)}.zero_grad()` clears the gradients before `{opt}.step()` on line {scall.lineno}, "
                        f"and `{fn.name}()` is called at line {call.lineno} after `backward()`: the gradients of line {back.lineno} are cleared before the step, "
                        "which applies nothing",
                        related=[(back, "gradients computed here"), (call, f"`{fn.name}()` clears them, then steps"), (scall, "steps with cleared gradients")],
                        fixes=fixes,
                        explanation="`zero_grad()` resets `.grad` (to None by default); the optimizer skips parameters without gradients, so "
                        "the model does not learn. Clear the gradients after the step or before the next forward pass.",
                    )


def _nested_blocks(st: ast.stmt) -> list:
    """The statement lists of ``st`` and of the if / with / try statements nested in them (not loops, not functions)."""
    out: list = []
    todo: list = [st]
    while todo:
        node = todo.pop()
        for field in ("body", "orelse", "finalbody"):
            sub = getattr(node, field, None)
            if isinstance(sub, list) and sub:
                out.append(sub)
                todo.extend(x for x in sub if isinstance(x, (ast.If, ast.With, ast.AsyncWith, ast.Try)))
        for h in getattr(node, "handlers", ()) or ():
            out.append(h.body)
    return out


def _calls_always_run(st: ast.stmt) -> list:
    """The calls a simple statement always evaluates (not under a lambda, a conditional expression, a short-circuit
    operand or a comprehension): ``norms.append(apply_update(model, opt))``."""
    if not isinstance(st, (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign)) or st.value is None:
        return []
    out: list = []
    todo: list = [st.value]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Lambda, ast.IfExp, ast.BoolOp, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        if isinstance(node, ast.Call):
            out.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return out


def _clears_then_steps(facts, fn: ast.AST, call: ast.Call):
    """``(zero_grad statement, step statement)`` when the body of ``fn`` (called by ``call``), at its top level,
    clears the gradients of an optimizer its caller passes and then steps that optimizer with nothing between
    that could compute new gradients (a backward, a call of an in-file function, a way out). Else None."""
    assert isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    body = fn.body
    for j, zst in enumerate(body):
        zcall = stmt_call(zst, "zero_grad")
        if zcall is None or zcall.args or any(k.arg == "set_to_none" for k in zcall.keywords):
            continue
        for m in range(j + 1, len(body)):
            st = body[m]
            scall = stmt_call(st, "step")
            if scall is not None and not scall.args and not scall.keywords:
                recv = cast(ast.Attribute, scall.func).value
                if isinstance(recv, ast.Name) and recv.id in params and _caller_optimizer(facts, call, fn, params.index(recv.id)):
                    if facts.text(cast(ast.Attribute, zcall.func).value) == recv.id:
                        return zst, st
            if _may_compute_or_leave(facts, st, self_calls=True):
                break
    return None


def _clears_for_caller(facts, fn: ast.AST, call: ast.Call, body: list, k: int):
    """``(zero_grad statement in fn, step statement in the caller)`` when the body of ``fn`` (called by ``call``, the
    statement ``body[k]``), at its top level, clears the gradients (to None) of an optimizer its caller passes, with no
    backward after it, and the caller steps that same optimizer after the call, with nothing between that could compute
    new gradients. Else None."""
    assert isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    for j, zst in enumerate(fn.body):
        zcall = stmt_call(zst, "zero_grad")
        if zcall is None or zcall.args or any(kw.arg == "set_to_none" and not (isinstance(kw.value, ast.Constant) and kw.value.value is True) for kw in zcall.keywords):
            continue
        recv = cast(ast.Attribute, zcall.func).value
        if not (isinstance(recv, ast.Name) and recv.id in params) or not _caller_optimizer(facts, call, fn, params.index(recv.id)):
            continue
        if any(has_backward(st) or stmt_call(st, "step") is not None for st in fn.body[j + 1 :]):
            continue
        i = params.index(recv.id)
        arg = call.args[i] if i < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: i + 1]) else next((kw.value for kw in call.keywords if kw.arg == recv.id), None)
        if arg is None:
            continue
        given = facts.text(arg)
        for m in range(k + 1, len(body)):
            st = body[m]
            scall = stmt_call(st, "step")
            if scall is not None and not scall.args and facts.text(cast(ast.Attribute, scall.func).value) == given:
                return zst, st
            if _may_compute_or_leave(facts, st, self_calls=False):
                break
    return None


def _may_compute_or_leave(facts, st: ast.stmt, self_calls: bool) -> bool:
    """Could ``st`` compute new gradients or leave the block: a backward, a call of an in-file function (or, with
    ``self_calls``, of a method on ``self``), a return, raise, yield, await, break or continue?"""
    return has_backward(st) or any(
        isinstance(n, (ast.Return, ast.Raise, ast.Yield, ast.YieldFrom, ast.Await, ast.Break, ast.Continue))
        or (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in facts.flow.functions)
        or (self_calls and isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == "self")
        for n in ast.walk(st)
    )


def _caller_optimizer(facts, call: ast.Call, fn: ast.AST, index: int) -> bool:
    """Is the argument ``call`` passes for parameter ``index`` of ``fn`` an optimizer the caller's flow knows?"""
    assert isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
    name = [a.arg for a in fn.args.posonlyargs + fn.args.args][index]
    arg = call.args[index] if index < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1]) else next((k.value for k in call.keywords if k.arg == name), None)
    if arg is None:
        return False
    text = facts.text(arg)
    scope = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    for fl in facts.backward_flows:
        if fl.node is not scope:
            continue
        if any(o.kind == "optimizer" and o.ident == text for o in fl.bound_optimizers):
            return True
        if any(o.name == text or (isinstance(o.stmt, ast.Assign) and any(facts.text(t) == text for t in o.stmt.targets)) for o in fl.optimizers):
            return True
    return False


def _periodic(test: ast.AST) -> bool:
    """An accumulation schedule: ``(i + 1) % n == 0`` (alone or in an ``or`` / ``and``)."""
    tests = test.values if isinstance(test, ast.BoolOp) else [test]
    return any(isinstance(t, ast.Compare) and any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mod) for n in (t.left, *t.comparators)) for t in tests)


def _place(facts, stmt: ast.AST):
    """``(parent, field, index)`` of a statement in the statement list that holds it."""
    parent = facts.parent(stmt)
    if parent is None:
        return None
    for f in ("body", "orelse", "finalbody"):
        lst = getattr(parent, f, None)
        if isinstance(lst, list):
            for i, x in enumerate(lst):
                if x is stmt:
                    return (parent, f, i)
    return None


def _reaches(site, params) -> bool:
    return any(related_roots(p, lv) for p in params for lv in site.loss.live)


def _binding_of(facts, fl, expr: ast.AST):
    """The statement that binds the plain name ``expr`` in the flow's function, when it is bound once."""
    if not isinstance(expr, ast.Name) or not isinstance(fl.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    bs = facts.semantic.bindings(fl.node, expr.id)
    return bs[0].node if len(bs) == 1 else None


def _argument_at(fl, call: ast.Call, param: str):
    """The caller's argument expression for the flow's parameter ``param`` at ``call``."""
    for k in call.keywords:
        if k.arg == param:
            return k.value
    if param not in fl.args:
        return None
    i = fl.args.index(param)
    return call.args[i] if i < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: i + 1]) else None



def _stepped_by_another(facts, fl, params) -> bool:
    """Another run of the same helper (the caller's other call of it) backpropagates a loss that reaches ``params`` and
    then steps an optimizer that does not hold them: the helper is handed the optimizers the other way round."""
    if fl.context is None:
        return False
    for other in facts.flow.context_flows:
        if other is fl or other.node is not fl.node:
            continue
        steps = [e for e in other.events if e.what == "step" and e.target is not None and e.target.kind == "optimizer" and e.target.params]
        if any(_reaches(s, params) for s in other.loss_sites) and steps and all(not (e.target.params & params) for e in steps):
            return True
    return False


def _assigns_grad(st: ast.stmt) -> bool:
    """Does ``st`` set a ``.grad`` by hand (``balancer.weights.grad = torch.autograd.grad(loss, w)[0]``)?"""
    return any(isinstance(n, ast.Attribute) and n.attr == "grad" and isinstance(n.ctx, ast.Store) for n in walk_nodes(st))

