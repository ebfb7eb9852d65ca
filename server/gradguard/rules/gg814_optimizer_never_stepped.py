"""GG814 optimizer-never-stepped: an optimizer whose gradients are cleared and filled every iteration is never stepped."""
from __future__ import annotations

import ast

from gradguard.core.astindex import walk_nodes
from gradguard.core.flow import related
from gradguard.core.model import Applicability, Severity
from gradguard.core.order import position
from gradguard.core.starvation import find_starvations
from gradguard.core.training import concrete_param, stepped_optimizer
from gradguard.fixes import fix, replace_node
from gradguard.rules.base import Example, Rule

# calls that take an optimizer and neither step it nor keep it (Lightning's manual-optimization helpers)
_NOT_STEPPING = frozenset({"toggle_optimizer", "untoggle_optimizer", "zero_grad", "clip_gradients", "len", "print", "isinstance", "type", "id"})


class OptimizerNeverStepped(Rule):
    code = "GG814"
    name = "optimizer-never-stepped"
    summary = "An optimizer's gradients are cleared and a backward fills them, but nothing ever steps it: its parameters never change."
    severity = Severity.ERROR
    needs = ("zero_grad",)
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Flags an optimizer built in the file (or handed out by Lightning's `self.optimizers()` under manual optimization)
whose `zero_grad()` runs, in a training loop (or a Lightning `training_step`), before a `backward()` that reaches the
parameters it holds, while no `.step()` anywhere in the
file steps it: not directly, not through `scaler.step(opt)`, and the optimizer is never handed to another function,
stored or returned, where a step could hide (returning it from `configure_optimizers` under Lightning's manual
optimization hands it back through `self.optimizers()`, where the module's own steps are seen). The finding goes on the
`step()` of another optimizer that follows the backward (the usual copy-paste slip: `opt_d.step()` where `opt_g.step()`
was meant), or on a second `step()` of the same optimizer after one backward (`opt_head.step()` twice, the second where
`opt_enc.step()` was meant), or on the `zero_grad()` when nothing is stepped after it. Training that a framework steps for you (Lightning's automatic optimization, the
Hugging Face Trainer) is not checked.

## Why is this bad?
`backward()` only fills `.grad`; the parameters change only when their optimizer's `step()` applies it. The loss is
computed and logged as usual, the other optimizer may even take an extra step on gradients that were never meant
for it, and the model part this optimizer owns stays at its initial weights for the whole run.

## Example
```python
opt_g.zero_grad()
self.manual_backward(g_loss)
opt_d.step()            # meant: opt_g.step()
```

## Use instead
```python
opt_g.zero_grad()
self.manual_backward(g_loss)
opt_g.step()
```

## Fix safety
The fix steps the optimizer that was cleared instead of the one stepped after the backward, when that one was already
stepped earlier in the same function; it is unsafe because it changes which parameters train.
"""
    examples = (
        Example(
            name="generator-step-calls-the-discriminator-optimizer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def train(G, D, opt_g, opt_d, batches):
    for z, real in batches:
        fake = G(z)
        d_loss = F.softplus(D(fake.detach())).mean() + F.softplus(-D(real)).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(-D(fake)).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_d.step()


def main():
    torch.manual_seed(0)
    G, D = nn.Linear(3, 4), nn.Linear(4, 1)
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    g0 = G.weight.detach().clone()
    train(G, D, opt_g, opt_d, [(torch.randn(5, 3), torch.randn(5, 4)) for _ in range(2)])
    return {"G": G, "D": D}, {"generator_changed": not torch.equal(g0, G.weight)}
""",
            lines=(16,),
            expect={"facts": {"generator_changed": False}},
            fixed_expect={"facts": {"generator_changed": True}},
        ),
        Example(
            name="encoder-optimizer-cleared-but-never-stepped",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    encoder, head = nn.Linear(6, 4), nn.Linear(4, 2)
    enc_opt = torch.optim.Adam(encoder.parameters(), lr=1e-2)
    head_opt = torch.optim.Adam(head.parameters(), lr=1e-2)
    e0 = encoder.weight.detach().clone()
    for _ in range(3):
        x, y = torch.randn(8, 6), torch.randint(0, 2, (8,))
        enc_opt.zero_grad()
        head_opt.zero_grad()
        loss = F.cross_entropy(head(encoder(x)), y)
        loss.backward()
        head_opt.step()
    return {"encoder": encoder, "head": head}, {"encoder_changed": not torch.equal(e0, encoder.weight)}
""",
            lines=(14,),
            fixable=False,
            expect={"facts": {"encoder_changed": False}},
        ),
        Example(
            bad=False,
            name="each-optimizer-stepped-after-its-own-backward",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def train(G, D, opt_g, opt_d, batches):
    for z, real in batches:
        fake = G(z)
        d_loss = F.softplus(D(fake.detach())).mean() + F.softplus(-D(real)).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(-D(fake)).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()


def main():
    torch.manual_seed(0)
    G, D = nn.Linear(3, 4), nn.Linear(4, 1)
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    g0 = G.weight.detach().clone()
    train(G, D, opt_g, opt_d, [(torch.randn(5, 3), torch.randn(5, 4)) for _ in range(2)])
    return {"G": G, "D": D}, {"generator_changed": not torch.equal(g0, G.weight)}
""",
            expect={"facts": {"generator_changed": True}},
        ),
        Example(
            bad=False,
            name="encoder-optimizer-stepped-through-a-grad-scaler",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    encoder, head = nn.Linear(6, 4), nn.Linear(4, 2)
    enc_opt = torch.optim.Adam(encoder.parameters(), lr=1e-2)
    head_opt = torch.optim.Adam(head.parameters(), lr=1e-2)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    e0 = encoder.weight.detach().clone()
    for _ in range(3):
        x, y = torch.randn(8, 6), torch.randint(0, 2, (8,))
        enc_opt.zero_grad()
        head_opt.zero_grad()
        loss = F.cross_entropy(head(encoder(x)), y)
        scaler.scale(loss).backward()
        scaler.step(head_opt)
        scaler.step(enc_opt)
        scaler.update()
    return {"encoder": encoder, "head": head}, {"encoder_changed": not torch.equal(e0, encoder.weight)}
""",
            expect={"facts": {"encoder_changed": True}},
        ),
        Example(
            name="critic-block-steps-the-generator-optimizer-and-the-critic-optimizer-is-only-passed-along",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def train(G, D, g_opt, d_opt, steps=3):
    for _ in range(steps):
        real = torch.randn(16, 2) + 3
        fake = G(torch.randn(16, 2))
        d_loss = F.softplus(D(fake.detach())).mean() + F.softplus(-D(real)).mean()
        g_opt.zero_grad()
        d_loss.backward()
        g_opt.step()
        g_loss = F.softplus(-D(fake)).mean()
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()


def main():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    D = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    g_opt = torch.optim.Adam(G.parameters(), lr=1e-3)
    d_opt = torch.optim.Adam(D.parameters(), lr=1e-3)
    before = D[0].weight.detach().clone()
    train(G, D, g_opt, d_opt)
    return {"G": G, "D": D}, {"d_changed": not torch.equal(before, D[0].weight)}
""",
            lines=(13,),
            expect={"facts": {"d_changed": False}, "grad_ok": ["D.0.weight"]},
        ),
        Example(
            name="lightning-optimizers-unpacked-in-the-other-order",
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
        opt_d.zero_grad()
        loss_d = F.softplus(self.critic(fake.detach())).mean() + F.softplus(-self.critic(real)).mean()
        self.manual_backward(loss_d)
        opt_d.step()
        opt_g.zero_grad()
        loss_g = F.softplus(-self.critic(fake)).mean()
        self.manual_backward(loss_g)
        opt_g.step()

    def configure_optimizers(self):
        return torch.optim.Adam(self.critic.parameters(), lr=1e-3), torch.optim.Adam(self.generator.parameters(), lr=1e-3)


def main():
    torch.manual_seed(0)
    model = GAN()
    before = model.generator[0].weight.detach().clone()
    loader = DataLoader(TensorDataset(torch.randn(64, 2) + 3), batch_size=16)
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"generator_changed": not torch.equal(before, model.generator[0].weight)}
""",
            lines=(22,),
            fixable=False,
            expect={"facts": {"generator_changed": False}},
        ),
        Example(
            bad=False,
            name="lightning-optimizers-unpacked-in-the-order-they-are-returned",
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
        opt_d.zero_grad()
        loss_d = F.softplus(self.critic(fake.detach())).mean() + F.softplus(-self.critic(real)).mean()
        self.manual_backward(loss_d)
        opt_d.step()
        opt_g.zero_grad()
        loss_g = F.softplus(-self.critic(fake)).mean()
        self.manual_backward(loss_g)
        opt_g.step()

    def configure_optimizers(self):
        return torch.optim.Adam(self.generator.parameters(), lr=1e-3), torch.optim.Adam(self.critic.parameters(), lr=1e-3)


def main():
    torch.manual_seed(0)
    model = GAN()
    before = model.generator[0].weight.detach().clone()
    loader = DataLoader(TensorDataset(torch.randn(64, 2) + 3), batch_size=16)
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"generator_changed": not torch.equal(before, model.generator[0].weight)}
""",
            expect={"facts": {"generator_changed": True}, "grad_ok": ["model.critic.0.weight"]},
        ),
        Example(
            name="one-optimizer-stepped-twice-where-the-other-was-meant",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    enc = nn.Linear(4, 4)
    head = nn.Linear(4, 2)
    opt_head = torch.optim.SGD(head.parameters(), lr=0.1)
    opt_enc = torch.optim.SGD(enc.parameters(), lr=0.01)
    before = enc.weight.detach().clone()
    for step in range(4):
        loss = F.cross_entropy(head(enc(torch.randn(8, 4))), torch.randint(0, 2, (8,)))
        opt_head.zero_grad()
        opt_enc.zero_grad()
        loss.backward()
        opt_head.step()
        if step >= 1:
            opt_head.step()
    return {"enc": enc}, {"encoder_changed": not torch.equal(before, enc.weight)}
""",
            lines=(20,),
            expect={'facts': {'encoder_changed': False}},
            fixed_expect={'facts': {'encoder_changed': True}},
        ),
        Example(
            name="lightning-manual-optimizers-returned-by-configure-optimizers-one-never-stepped",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Recognizer(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.encoder = nn.Sequential(nn.Linear(6, 8), nn.GELU())
        self.head = nn.Linear(8, 3)

    def training_step(self, batch, batch_idx):
        opt_head, opt_enc = self.optimizers()
        x, y = batch
        loss = F.cross_entropy(self.head(self.encoder(x)), y)
        opt_head.zero_grad()
        opt_enc.zero_grad()
        self.manual_backward(loss)
        opt_head.step()
        if self.global_step >= 1:
            opt_head.step()

    def configure_optimizers(self):
        opt_head = torch.optim.AdamW(self.head.parameters(), lr=1e-3)
        opt_enc = torch.optim.AdamW(self.encoder.parameters(), lr=1e-4)
        return [opt_head, opt_enc]


def main():
    torch.manual_seed(0)
    model = Recognizer()
    before = model.encoder[0].weight.detach().clone()
    loader = DataLoader(TensorDataset(torch.randn(32, 6), torch.randint(0, 3, (32,))), batch_size=8)
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"encoder_changed": not torch.equal(before, model.encoder[0].weight)}
""",
            lines=(24,),
            expect={'facts': {'encoder_changed': False}},
            fixed_expect={'facts': {'encoder_changed': True}},
        ),
        Example(
            bad=False,
            name="lightning-manual-encoder-optimizer-stepped-after-warm-up",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Recognizer(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.encoder = nn.Sequential(nn.Linear(6, 8), nn.GELU())
        self.head = nn.Linear(8, 3)

    def training_step(self, batch, batch_idx):
        opt_head, opt_enc = self.optimizers()
        x, y = batch
        loss = F.cross_entropy(self.head(self.encoder(x)), y)
        opt_head.zero_grad()
        opt_enc.zero_grad()
        self.manual_backward(loss)
        opt_head.step()
        if self.global_step >= 1:
            opt_enc.step()

    def configure_optimizers(self):
        opt_head = torch.optim.AdamW(self.head.parameters(), lr=1e-3)
        opt_enc = torch.optim.AdamW(self.encoder.parameters(), lr=1e-4)
        return [opt_head, opt_enc]


def main():
    torch.manual_seed(0)
    model = Recognizer()
    before = model.encoder[0].weight.detach().clone()
    loader = DataLoader(TensorDataset(torch.randn(32, 6), torch.randint(0, 3, (32,))), batch_size=8)
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"encoder_changed": not torch.equal(before, model.encoder[0].weight)}
""",
            expect={'facts': {'encoder_changed': True}},
        ),
    )

    def check(self, facts):
        flows = [*facts.backward_flows]
        if not flows:
            return
        every = [*facts.flows, *facts.flow.context_flows]
        stepped: set = set()
        for fl in every:
            for ev in fl.events:
                if ev.what != "step":
                    continue
                t = ev.target
                if t is not None and t.kind == "optimizer" and t.origin is not None:
                    stepped.add(id(t.origin))
                elif _may_be_optimizer_step(ev):
                    return  # a step the model cannot bind to an optimizer: it may be any of them
        reported: set = set()
        for fl in flows:
            info = facts.modules.classes.get(fl.owner or "")
            if info is not None and info.framework and not info.manual_optimization:
                continue  # (the framework steps what it built)
            for ev in fl.events:
                t = ev.target
                if ev.what != "zero_grad" or t is None or t.kind != "optimizer" or t.origin is None or not t.params:
                    continue
                if id(t.origin) in stepped or id(t.origin) in reported or not ev.name:
                    continue
                if not all(concrete_param(r) for r in t.params):
                    continue
                if not ev.loops and not (info is not None and info.framework and getattr(fl.node, "name", "") == "training_step"):
                    continue  # (one backward outside a training loop: a test or a gradient check, not training)
                site = _backward_after(fl, ev, t.params)
                if site is None or _handed_on(facts, ev.name):
                    continue
                reported.add(id(t.origin))
                wrong = _step_after(fl, site)
                if wrong is not None and not _stepped_before(fl, wrong, site):
                    wrong = None  # (another optimizer's own step, once per iteration: not a slip for this one)
                if wrong is None:
                    wrong = _repeated_step_after(fl, site)  # (``opt_head.step()`` a second time where ``opt_enc`` was meant)
                names = ", ".join(f"`{r}`" for r in sorted(t.params)[:3])
                related_rows = [(site.node, "this backward fills their gradients"), (t.origin, f"`{ev.name}` is built here")]
                if wrong is not None:
                    other = wrong.name or facts.text(wrong.node.func.value)
                    fixes = [lambda node=wrong.node.func.value, name=ev.name: fix(f"Step `{name}`", replace_node(facts, node, name), unsafe=True)]
                    yield self.finding(
                        facts,
                        wrong.node,
                        f"`{other}.step()` follows the backward whose gradients `{ev.name}` cleared, and nothing ever steps `{ev.name}`: "
                        f"{names} get gradients but never change",
                        related=[(ev.node, f"`{ev.name}` is cleared here"), *related_rows],
                        fixes=fixes,
                        explanation="Only an optimizer's `step()` changes its parameters. Step the optimizer that holds the parameters this loss trains.",
                    )
                else:
                    yield self.finding(
                        facts,
                        ev.node,
                        f"`{ev.name}` is cleared and the backward at line {site.line} fills the gradients of {names}, but nothing ever steps "
                        f"`{ev.name}`: they never change",
                        related=related_rows,
                        explanation="Only an optimizer's `step()` changes its parameters. Call `step()` on it after the backward.",
                    )

        yield from self._wrong_step_only(facts, every, stepped, reported)
        yield from self._only_empty_steps(facts, flows, every, reported)

    def _only_empty_steps(self, facts, flows: list, every: list, reported: set):
        """An optimizer every step of which changes nothing: each follows its own ``zero_grad()`` (which leaves ``.grad``
        None) with no backward in between that reaches its parameters (an optimizer skips a parameter without a
        gradient), while a backward elsewhere does reach them: they get gradients, but never when this optimizer steps
        (Lightning's ``opt_g, opt_d = self.optimizers()`` unpacked in the other order than ``configure_optimizers``
        returns them: the generator's optimizer is stepped after the critic's loss only)."""
        steps: dict = {}
        for fl in every:
            info = facts.modules.classes.get(fl.owner or "")
            if info is not None and info.framework and not info.manual_optimization:
                continue
            for ev in fl.events:
                t = ev.target
                if ev.what == "step" and t is not None and t.kind == "optimizer" and t.origin is not None and t.params and isinstance(ev.node, ast.Call) and not ev.node.args:
                    steps.setdefault(id(t.origin), []).append((fl, ev))
        for key, evs in steps.items():
            if key in reported:
                continue
            t = evs[0][1].target
            params = {p for p in t.params if concrete_param(p)}
            if not params or len(params) != len(t.params):
                continue
            # (another backward of the same function does reach them: the losses and the steps are paired the wrong way)
            if not all(any(related(r, p) for s in fl.backward_sites for r in s.loss.live for p in params) for fl, _ev in evs):
                continue
            if not all(_empty_step(facts, fl, ev, params) for fl, ev in evs):
                continue
            reported.add(key)
            fl, ev = min(evs, key=lambda x: position(x[1].node))
            name = ev.name or facts.text(ev.node.func.value)
            names = ", ".join(f"`{r}`" for r in sorted(params)[:3])
            related_rows: list = [(t.origin, "the optimizer is built here, over these parameters")]
            unpack = _unpacked_from_framework(fl.node, name)
            if unpack is not None:
                related_rows.insert(0, (unpack, f"`{name}` is bound here, by position, to the optimizer `configure_optimizers` returns in that place"))
            yield self.finding(
                facts,
                ev.node,
                f"`{name}.step()` follows a backward that reaches none of its parameters ({names}), after `{name}.zero_grad()` left their "
                f"gradients None: it changes nothing, and no step of this optimizer ever does, so they never change",
                related=related_rows,
                explanation="An optimizer skips parameters whose `.grad` is None. Step each optimizer after the backward of the loss that "
                "trains its parameters (check which optimizer each name holds).",
            )


    def _wrong_step_only(self, facts, every: list, stepped: set, reported: set):
        """The same slip without a ``zero_grad()`` of the forgotten optimizer: a backward in a training loop whose loss
        reaches only parameters that one optimizer of the file holds, followed by the step of another optimizer holding
        none of them, while nothing ever steps the first (``d_loss.backward(); g_optimizer.step()`` with ``d_optimizer``
        built and passed along but never stepped)."""
        sites = [(o, _bound_name(facts, o)) for fl in every for o in fl.optimizers if o.covered and all(concrete_param(r) and r != "<new>" for r in o.covered)]
        sites = [(o, name) for o, name in sites if name]
        if not sites:
            return
        for fl in every:
            info = facts.modules.classes.get(fl.owner or "")
            if info is not None and info.framework and not info.manual_optimization:
                continue
            for site in fl.backward_sites:
                if site.implicit or not isinstance(site.node, ast.Call) or not site.loops:
                    continue
                reached = {r for r in site.loss.live if concrete_param(r) and r != "<new>"}
                wrong = _step_after(fl, site)
                if not reached or wrong is None or not wrong.target.params:
                    continue
                if any(related(r, p) for r in reached for p in wrong.target.params):
                    continue  # (the optimizer stepped holds some of what the loss reaches)
                for o, oname in sites:
                    if id(o.node) in stepped or id(o.node) in reported or (wrong.target.origin is o.node):
                        continue
                    if not all(any(related(r, p) for p in o.covered) for r in reached) or _handed_on(facts, oname):
                        continue
                    reported.add(id(o.node))
                    other = wrong.name or facts.text(wrong.node.func.value)
                    names = ", ".join(f"`{r}`" for r in sorted(reached)[:3])
                    fixes = []
                    fn = fl.node
                    if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and (oname in {a.arg for a in fn.args.args} or facts.enclosing(o.node, (ast.FunctionDef, ast.AsyncFunctionDef)) is fn):
                        fixes = [lambda node=wrong.node.func.value, name=oname: fix(f"Step `{name}`", replace_node(facts, node, name), unsafe=True)]
                    yield self.finding(
                        facts,
                        wrong.node,
                        f"`{other}.step()` follows a backward whose loss reaches only {names}, which `{oname}` holds, and nothing ever steps "
                        f"`{oname}`: they get gradients but never change",
                        related=[(site.node, "this backward fills their gradients"), (o.node, f"`{oname}` is built here")],
                        fixes=fixes,
                        explanation="Only an optimizer's `step()` changes its parameters. Step the optimizer that holds the parameters this loss trains.",
                    )
                    break


def _bound_name(facts, o) -> str:
    """The name an optimizer construction is bound to (``d_optimizer = Adam(...)``), else ""."""
    if o.name:
        return o.name
    st = facts.statement_of(o.node)
    if isinstance(st, ast.Assign) and st.value is o.node and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
        return st.targets[0].id
    return ""


def _may_be_optimizer_step(ev) -> bool:
    """A ``.step()`` the model cannot bind to one optimizer: of an optimizer value it does not know the origin of, or
    of an unknown receiver that looks like one (``opt.step()``)."""
    t = ev.target
    if t is not None and t.kind == "optimizer":
        return True
    if t is not None and t.kind is not None:
        return False  # (a scheduler's, a scaler's without a known optimizer, an environment's...)
    return stepped_optimizer(ev) is not None


def _backward_after(fl, zero, params: frozenset):
    """The first explicit backward after ``zero`` (in the same loop) whose loss reaches one of ``params``."""
    z = position(zero.node)
    for site in fl.backward_sites:
        if site.implicit or not isinstance(site.node, ast.Call) or position(site.node) < z:
            continue
        if zero.loops and (not site.loops or site.loops[-1] is not zero.loops[-1]):
            continue
        if any(related(r, p) for r in site.loss.live if concrete_param(r) for p in params):
            return site
    return None


def _step_after(fl, site):
    """The optimizer step that follows ``site`` before the next backward, if one (a known optimizer's)."""
    start = position(site.node)
    later = [s for s in fl.backward_sites if isinstance(s.node, ast.Call) and position(s.node) > start]
    end = min((position(s.node) for s in later), default=(10**9, 0))
    for ev in sorted((e for e in fl.events if e.what == "step" and isinstance(e.node, ast.Call)), key=lambda e: position(e.node)):
        if start < position(ev.node) < end and ev.target is not None and ev.target.kind == "optimizer" and not ev.node.args and isinstance(ev.node.func, ast.Attribute):
            return ev
    return None


def _repeated_step_after(fl, site):
    """A step of an optimizer already stepped since ``site`` (before the next backward): the second ``opt_head.step()``
    after one backward, where another optimizer's step was meant (a second step applies the same gradients again)."""
    start = position(site.node)
    later = [s for s in fl.backward_sites if isinstance(s.node, ast.Call) and position(s.node) > start]
    end = min((position(s.node) for s in later), default=(10**9, 0))
    seen: dict = {}  # id(optimizer origin) -> the step call seen first (a loop walked twice records each call twice)
    for ev in sorted((e for e in fl.events if e.what == "step" and isinstance(e.node, ast.Call)), key=lambda e: position(e.node)):
        if not (start < position(ev.node) < end) or ev.target is None or ev.target.kind != "optimizer" or ev.target.origin is None:
            continue
        if ev.node.args or not isinstance(ev.node.func, ast.Attribute):
            continue
        first = seen.setdefault(id(ev.target.origin), ev.node)
        if first is not ev.node:
            return ev
    return None


def _stepped_before(fl, wrong, site) -> bool:
    """Was the optimizer ``wrong`` steps already stepped before ``site`` in this function (after an earlier backward)?"""
    origin = wrong.target.origin
    return any(
        e.what == "step" and e is not wrong and e.target is not None and e.target.origin is origin and position(e.node) < position(site.node)
        for e in fl.events
    )


def _handed_on(facts, name: str) -> bool:
    """Is the optimizer's name passed to a call (other than a few that never step), returned, yielded, or bound to
    something else (an attribute, a container, another name) anywhere in the file? A step may then happen where the
    model cannot see it. Reading its attributes (``opt.param_groups``) does not count, nor returning it from the
    ``configure_optimizers`` of a LightningModule under manual optimization (Lightning then steps nothing itself: it
    hands the optimizers back through ``self.optimizers()``, where the module's own steps are seen)."""
    manual: set = set()
    for info in facts.modules.classes.values():
        if info.framework == "lightning" and info.manual_optimization and "configure_optimizers" in info.methods:
            manual.update(id(r) for r in walk_nodes(info.methods["configure_optimizers"]) if isinstance(r, ast.Return))
    for n in walk_nodes(facts.tree):
        if id(n) in manual:
            continue
        if isinstance(n, ast.Call):
            func = n.func
            fname = func.attr if isinstance(func, ast.Attribute) else (func.id if isinstance(func, ast.Name) else "")
            if fname in _NOT_STEPPING:
                continue
            if any(_bare(a, name) for a in (*n.args, *(k.value for k in n.keywords))):
                if isinstance(func, ast.Name) and func.id in facts.flow.functions and any(c.context is n for c in facts.flow.context_flows):
                    continue  # (an in-file function analyzed with what this call hands it: its steps are seen there)
                return True
        elif isinstance(n, (ast.Return, ast.Assign, ast.AnnAssign, ast.Yield, ast.YieldFrom)) and n.value is not None and _bare(n.value, name):
            return True
    return False


def _bare(node: ast.AST, name: str) -> bool:
    """Does ``node`` hold the object ``name`` itself (the name, or inside a tuple / list / dict / set / starred), not just
    read an attribute of it or call a method on it?"""
    if isinstance(node, ast.Name):
        return node.id == name
    if isinstance(node, ast.Starred):
        return _bare(node.value, name)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_bare(e, name) for e in node.elts)
    if isinstance(node, ast.Dict):
        return any(v is not None and _bare(v, name) for v in node.values)
    if isinstance(node, ast.IfExp):
        return _bare(node.body, name) or _bare(node.orelse, name)
    return False


def _empty_step(facts, fl, ev, params: set) -> bool:
    """Does the step ``ev`` follow, in the same loop body, a ``zero_grad()`` of the same optimizer that leaves ``.grad``
    None, with no backward (nor a call that may run one) in between whose loss reaches ``params``, even through a cut (that
    cut's rule tells why), and with no backward reaching them just before that ``zero_grad()`` (a ``zero_grad()`` between
    the backward and the step: GG803)?"""
    sp = position(ev.node)
    origin = ev.target.origin
    zeros = [z for z in fl.events if z.what == "zero_grad" and z.target is not None and z.target.origin is origin and isinstance(z.node, ast.Call)
             and z.loops == ev.loops and position(z.node) < sp
             and not any(k.arg == "set_to_none" and not (isinstance(k.value, ast.Constant) and k.value.value is True) for k in z.node.keywords)]
    if not zeros:
        return False
    zp = max(position(z.node) for z in zeros)
    own = all(p.startswith("self.") for p in params)  # (then an argument of the method, the batch, is not one of them)
    before = [position(e.node) for e in fl.events if e.what == "step" and e.target is not None and e.target.origin is origin and position(e.node) < zp]
    start = max(before) if before else (0, 0)
    starved = {id(st.site.node) for st in find_starvations(facts) if any(related(r, p) for r in st.roots for p in params)}
    for site in fl.backward_sites:
        roots = set(site.loss.live)
        if not isinstance(site.node, ast.Call) or any(r == "?" or (r.startswith("arg:") and not own) for r in roots) or not (roots - {"<new>"}) \
                or id(site.node) in starved:
            if start < position(site.node) < sp:
                return False  # (a loss with no path at all, one the model cannot see, or one a cut rule reports starving them)
            continue
        reaches = any(related(r, p) for r in roots for p in params)
        if reaches and (zp < position(site.node) < sp or start < position(site.node) < zp):
            return False
    if any(e.what in ("step_via_call", "grad_inputs") and zp < position(e.node) < sp for e in fl.events):
        return False
    # (a call of a function or method of the file in between may backpropagate where this flow does not see it)
    for n in walk_nodes(fl.node):
        if isinstance(n, ast.Call) and zp < position(n) < sp:
            f = n.func
            name = f.attr if isinstance(f, ast.Attribute) else (f.id if isinstance(f, ast.Name) else None)
            if name and (name in facts.flow.functions or (fl.owner and facts.modules.method(fl.owner, name) is not None)):
                return False
    return True


def _unpacked_from_framework(fn: ast.AST, name: str):
    """The statement of ``fn`` that unpacks ``name`` from Lightning's ``self.optimizers()`` (``opt_g, opt_d = ...``), else None."""
    for st in walk_nodes(fn):
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], (ast.Tuple, ast.List)) and isinstance(st.value, ast.Call) \
                and isinstance(st.value.func, ast.Attribute) and st.value.func.attr == "optimizers" and any(isinstance(e, ast.Name) and e.id == name for e in st.targets[0].elts):
            return st
    return None
