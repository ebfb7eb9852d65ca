"""GG611 freeze-carried-into-next-iteration: a training step that switches parameters off after its backward (or on
only after it) leaves them frozen at the backward of every later step."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.model import Severity
from gradguard.core.torchapi import CHANGES_REQUIRES_GRAD
from gradguard.core.training import CarriedFreeze, carried_freezes
from gradguard.rules.base import Example, Rule


class FreezeCarriedIntoNextIteration(Rule):
    code = "GG611"
    name = "freeze-carried-into-next-iteration"
    summary = (
        "A training loop's step freezes parameters after its backward (an evaluation helper, a GAN's discriminator switched "
        "off for the generator step) and nothing switches them back on before the next backward: they train on the first "
        "step only. An unfreeze that comes only after the backward, undone before the next one, never gives a gradient."
    )
    severity = Severity.WARNING
    needs = ("requires_grad",)
    docs = """
## What it does
Follows `requires_grad` around a training loop: the body of a loop that runs a backward and an optimizer step, a
function an in-file loop calls that does both (`model.optimize_parameters(...)`), or a Lightning `training_step` under
manual optimization (the Trainer calls it once a batch), with what its helpers switch
(`set_requires_grad([self.D], False)`, a `validate(model)` that freezes the model and switches back on only its head).
It flags a freeze that runs after the backward on every pass, of parameters that were trainable at the first backward,
when nothing in the loop switches them back on before the backward comes round again; and an unfreeze that runs only
after the backward (`requires_grad = True` around `optimizer.step()`) and is undone before the next backward. Freezes
under a test that changes from one pass to the next (`if epoch == warmup:`) are a schedule, and left alone.

## Why is this bad?
`requires_grad` is read when the forward runs: a parameter that is off then is not in the graph, and `backward()`
leaves its `.grad` None. A freeze left behind by the end of one step is in force at the next step's forward, so from
the second step on those parameters get no gradient and the optimizer skips them (or `backward()` raises, when
nothing the loss depends on requires grad any more). Switching them on after the backward comes too late for that
backward's gradient, and switching them off again before the next forward means they never get one.

## Example
```python
def validate(model, loader):
    set_trainable(model, False)
    ...
    set_trainable(model.head, True)    # only the head comes back

for epoch in range(epochs):
    for x, y in loader:
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    validate(model, val_loader)        # from epoch 2 only the head trains
```

## Use instead
```python
def validate(model, loader):
    set_trainable(model, False)
    ...
    set_trainable(model, True)         # restore what was frozen (or validate under torch.no_grad())
```

## Fix safety
No fix is offered: whether to restore the whole model, switch the part back on at the start of the step, or drop the
toggle for `torch.no_grad()` is the author's choice.
"""
    examples = (
        Example(
            name="validation-helper-restores-only-the-head",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.body(x))


def set_trainable(module, flag):
    for p in module.parameters():
        p.requires_grad = flag


def validate(model, x, y):
    set_trainable(model, False)
    loss = F.cross_entropy(model(x), y).item()
    set_trainable(model.head, True)
    return loss


def main():
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
    for epoch in range(3):
        before = model.body[0].weight.detach().clone()
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        validate(model, x, y)
    return {"model": model}, {"body_changed_in_last_epoch": not torch.equal(before, model.body[0].weight)}
""",
            lines=(24,),
            expect={"grad_none": ["model.body.0.weight"], "grad_ok": ["model.head.weight"], "facts": {"body_changed_in_last_epoch": False}},
        ),
        Example(
            name="discriminator-left-frozen-for-the-next-step",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def set_requires_grad(nets, flag):
    for net in nets:
        for p in net.parameters():
            p.requires_grad = flag


class GAN:
    def __init__(self):
        self.G = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
        self.D = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=1e-3)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=1e-3)

    def step(self, real, z):
        fake = self.G(z)
        self.opt_d.zero_grad()
        loss_d = F.softplus(self.D(fake.detach())).mean() + F.softplus(-self.D(real)).mean()
        loss_d.backward()
        self.opt_d.step()
        set_requires_grad([self.D], False)
        self.opt_g.zero_grad()
        loss_g = F.softplus(-self.D(fake)).mean()
        loss_g.backward()
        self.opt_g.step()


def main():
    torch.manual_seed(0)
    gan = GAN()
    for _ in range(3):
        gan.step(torch.randn(16, 2) + 3, torch.randn(16, 2))
    return {"D": gan.D, "G": gan.G}
""",
            lines=(25,),
            expect={"error": "does not require grad"},
        ),
        Example(
            name="encoder-switched-on-only-around-its-step",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(4, 8)
        self.encoder = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(torch.relu(self.encoder(torch.relu(self.backbone(x)))))


def train(model, optimizer, optim_encoder, steps=3):
    for _ in range(steps):
        x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        optim_encoder.zero_grad()
        loss.backward()
        optimizer.step()
        for p in model.encoder.parameters():
            p.requires_grad = True
        optim_encoder.step()
        for p in model.encoder.parameters():
            p.requires_grad = False


def main():
    torch.manual_seed(0)
    model = Model()
    optimizer = torch.optim.SGD([*model.backbone.parameters(), *model.head.parameters()], lr=0.1)
    optim_encoder = torch.optim.SGD(model.encoder.parameters(), lr=0.01)
    start = model.encoder.weight.detach().clone()
    train(model, optimizer, optim_encoder)
    train(model, optimizer, optim_encoder)
    return {"model": model}, {"encoder_changed_after_first_step": not torch.equal(start, model.encoder.weight)}
""",
            lines=(25,),
            expect={"facts": {"encoder_changed_after_first_step": True}, "grad_ok": ["model.head.weight"], "grad_none": ["model.encoder.weight"]},
        ),
        Example(
            bad=False,
            name="discriminator-switched-back-on-at-the-start-of-each-step",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def set_requires_grad(nets, flag):
    for net in nets:
        for p in net.parameters():
            p.requires_grad = flag


class GAN:
    def __init__(self):
        self.G = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
        self.D = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=1e-3)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=1e-3)

    def step(self, real, z):
        fake = self.G(z)
        set_requires_grad([self.D], True)
        self.opt_d.zero_grad()
        loss_d = F.softplus(self.D(fake.detach())).mean() + F.softplus(-self.D(real)).mean()
        loss_d.backward()
        self.opt_d.step()
        set_requires_grad([self.D], False)
        self.opt_g.zero_grad()
        loss_g = F.softplus(-self.D(fake)).mean()
        loss_g.backward()
        self.opt_g.step()


def main():
    torch.manual_seed(0)
    gan = GAN()
    for _ in range(3):
        gan.step(torch.randn(16, 2) + 3, torch.randn(16, 2))
    return {"D": gan.D, "G": gan.G}
""",
            expect={"grad_ok": ["D.0.weight", "G.0.weight"]},
        ),
        Example(
            bad=False,
            name="validation-helper-restores-the-whole-model",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def set_trainable(module, flag):
    for p in module.parameters():
        p.requires_grad = flag


def validate(model, x, y):
    set_trainable(model, False)
    loss = F.cross_entropy(model(x), y).item()
    set_trainable(model, True)
    return loss


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
    for epoch in range(3):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        validate(model, x, y)
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.weight", "model.2.weight"]},
        ),
        Example(
            bad=False,
            name="backbone-frozen-after-a-warmup-epoch-on-schedule",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
    for epoch in range(3):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if epoch == 1:
            model[0].requires_grad_(False)
    return {"model": model}
""",
            expect={"grad_ok": ["model.2.weight"]},
        ),
        Example(
            name="lightning-critic-left-frozen-by-training-step",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class GAN(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.generator = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
        self.critic = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        fake = self.generator(torch.randn_like(real))
        loss_d = F.softplus(self.critic(fake.detach())).mean() + F.softplus(-self.critic(real)).mean()
        opt_d.zero_grad()
        self.manual_backward(loss_d)
        opt_d.step()
        self.critic.requires_grad_(False)
        loss_g = F.softplus(-self.critic(fake)).mean()
        opt_g.zero_grad()
        self.manual_backward(loss_g)
        opt_g.step()

    def configure_optimizers(self):
        return torch.optim.Adam(self.generator.parameters(), lr=1e-3), torch.optim.Adam(self.critic.parameters(), lr=1e-3)


def main():
    torch.manual_seed(0)
    model = GAN()
    loader = DataLoader(TensorDataset(torch.randn(64, 2) + 3), batch_size=16)
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}
""",
            lines=(23,),
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="lightning-critic-switched-on-at-the-start-of-training-step",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class GAN(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.generator = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
        self.critic = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        self.critic.requires_grad_(True)
        fake = self.generator(torch.randn_like(real))
        loss_d = F.softplus(self.critic(fake.detach())).mean() + F.softplus(-self.critic(real)).mean()
        opt_d.zero_grad()
        self.manual_backward(loss_d)
        opt_d.step()
        self.critic.requires_grad_(False)
        loss_g = F.softplus(-self.critic(fake)).mean()
        opt_g.zero_grad()
        self.manual_backward(loss_g)
        opt_g.step()

    def configure_optimizers(self):
        return torch.optim.Adam(self.generator.parameters(), lr=1e-3), torch.optim.Adam(self.critic.parameters(), lr=1e-3)


def main():
    torch.manual_seed(0)
    model = GAN()
    loader = DataLoader(TensorDataset(torch.randn(64, 2) + 3), batch_size=16)
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}
""",
            expect={"grad_ok": ["model.critic.0.weight", "model.generator.0.weight"]},
        ),
    )

    def check(self, facts):
        if not facts.text_index.anywhere(CHANGES_REQUIRES_GRAD):
            return
        by_event: dict = {}
        for c in carried_freezes(facts):
            by_event.setdefault((id(c.event.node), c.kind), []).append(c)
        for group in by_event.values():
            yield self._finding(facts, group)

    def _finding(self, facts, group: list):
        c: CarriedFreeze = group[0]
        parts = ", ".join(f"`{_shown(g.part)}`" for g in group)
        loop = c.region
        what = "each pass of the loop" if isinstance(loop, (ast.For, ast.AsyncFor, ast.While)) else f"each call of `{getattr(loop, 'name', '')}`"
        bline = getattr(c.backward, "lineno", 0)
        if c.kind == "late":
            assert c.refreeze is not None
            node = facts.statement_of(c.event.node) or c.event.node
            node = _loop_over_parameters(facts, node)
            refreeze = _loop_over_parameters(facts, facts.statement_of(c.refreeze.node) or c.refreeze.node)
            rline = getattr(refreeze, "lineno", 0)
            switched = sorted({r.replace("[]", "") for r in _roots(c.event)} or {c.part})
            parts = ", ".join(f"`{_shown(r)}`" for r in switched)
            return self.finding(
                facts, node,
                f"{parts} switched on here, after the backward at line {bline}, and off again at line {rline}: on {what} they are "
                "frozen when the forward runs, so the backward gives them no gradient and their optimizer has nothing to apply",
                related=[(c.backward, "this backward runs while they are frozen"), (refreeze, "frozen again here, before the next backward")],
                explanation="`requires_grad` matters when the forward builds the graph; switch them on before the forward (or keep "
                "them trainable and leave them out of the other optimizer).",
            )
        node, kept_at = _where(facts, c)
        kept = [k for g in group for k in g.kept]
        also = f" (only {', '.join(f'`{_shown(k)}`' for k in sorted(set(kept)))} is switched back on)" if kept else ""
        related = [(c.backward, "from the second pass on, this backward gives them no gradient")]
        if node is not c.event.node:
            related.append((c.event.node, "the freeze runs on every pass from here"))
        if kept_at is not None:
            related.append((kept_at, "switched back on here for a part only"))
        return self.finding(
            facts, node,
            f"this leaves {parts} frozen after the backward at line {bline}{also}, and nothing in {what} switches them back on: they "
            "get a gradient on the first pass only; from the next one the optimizer skips them (and a loss that reaches nothing else "
            "raises in backward)",
            related=related,
            explanation="`requires_grad` is read when the forward runs: a freeze left behind by one training step is still in force "
            "at the next step's forward. Restore what was frozen (or evaluate under `torch.no_grad()` instead).",
        )


def _roots(ev) -> set:
    t = ev.target
    return {r for r in ((set(t.live) | ({t.ident} if t.ident else set())) if t is not None else set()) if r and r not in ("?", "<new>")}


def _shown(root: str) -> str:
    return root[4:].split(".", 1)[1] if root.startswith("arg:") and "." in root else root


def _loop_over_parameters(facts, node: ast.AST) -> ast.AST:
    outer = facts.parent(node)
    if isinstance(outer, ast.For) and ".parameters(" in ast.unparse(outer.iter) and len(outer.body) == 1:
        return outer
    return node


def _where(facts, c: CarriedFreeze) -> tuple:
    """Where the freeze is decided: the switch in the loop's function, or, when that is a call of a helper that writes the
    flags itself (``validate`` calls ``set_trainable(model, False)`` and ``set_trainable(model.head, True)``), inside it:
    at its part-only unfreeze when it has one, else at its freeze. ``(node, the part-only unfreeze or None)``."""
    ev = c.event
    if ev.what != "requires_grad_via_call" or ev.origin is None:
        return _loop_over_parameters(facts, facts.statement_of(ev.node) or ev.node), None
    origin = ev.origin
    if not (isinstance(origin, ast.Call) and any(isinstance(a, ast.Constant) and isinstance(a.value, bool) for a in [*origin.args, *(k.value for k in origin.keywords)])):
        return facts.statement_of(ev.node) or ev.node, None
    fn = facts.enclosing(origin, (ast.FunctionDef, ast.AsyncFunctionDef))
    partial: Optional[ast.AST] = None
    for k in c.kept_events:
        o = k.origin
        if o is not None and k.node is ev.node and facts.enclosing(o, (ast.FunctionDef, ast.AsyncFunctionDef)) is fn:
            partial = o
    if partial is not None:
        return facts.statement_of(partial) or partial, partial
    return facts.statement_of(origin) or origin, None
