"""GG401 non-leaf-grad-read: reading ``.grad`` of an intermediate tensor (always None without retain_grad)."""
from __future__ import annotations

import ast
import re
from functools import partial
from typing import Optional, Union, cast

from gradguard.core.astindex import walk_nodes
from gradguard.core.flow import related as related_roots
from gradguard.core.model import Applicability, Edit, Severity
from gradguard.core.source import Pos
from gradguard.core.torchapi import PARAMETER_SLOTS, is_module_ctor
from gradguard.fixes import fix, insert_after_stmt
from gradguard.rules._leafs import is_computing_expr, known_roots
from gradguard.rules.base import Example, Rule

# a ``.grad`` read (the only syntax that records a grad_read event): functions without it are not walked for one
GRAD_READ = re.compile(r"\.\s*grad\b")

KEEPS_GRAD = {"retain_grad", "register_hook", "requires_grad_"}


def _before(a: Union[ast.expr, ast.stmt], b: Union[ast.expr, ast.stmt]) -> bool:
    return (a.lineno, a.col_offset) < (b.lineno, b.col_offset)


def _in_loop_with(fl, site, node_loops) -> bool:
    return bool(set(map(id, site.loops)) & set(map(id, node_loops)))


class NonLeafGradRead(Rule):
    code = "GG401"
    name = "non-leaf-grad-read"
    summary = "`.grad` is read on an intermediate (non-leaf) tensor: autograd leaves it `None` unless `retain_grad()` was called."
    severity = Severity.WARNING
    needs = (".grad",)
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Also flags, as an error, an unguarded use of `p.grad` in `for p in model.parameters():` (`p.grad *= scale`,
`p.grad.mul_(...)`, `p.grad.norm()`) right after a backward whose loss reaches only some parts of `model` (a
multi-head model trained on one head in a curriculum stage): the other parts' `.grad` is None and the use raises.

Flags `x.grad` after a `backward()` when `x` is the output of an operation or a module call on trainable
values (a non-leaf tensor) and `x.retain_grad()` (or a hook) is never set up in the function. Parameters,
`requires_grad=True` tensors, loop variables over `model.parameters()` and function arguments (whose
leaf-ness is unknown) are not flagged. Also `self.<attr>.grad` read in a method when the file's only assignment
to `<attr>` is `self.<attr> = <operation>` in `__init__` (a patch parametrized once as `torch.sigmoid(self.raw)`):
the attribute then always holds that one non-leaf tensor (in-place updates such as `self.patch -= ...` keep it).
A `.grad` set by hand before the read (`ref = w.clone(); ref.grad = w.grad.clone()`) is what the read finds: not reported.
`x.requires_grad_()` does not keep the gradient of a tensor that already requires grad: on the output of a layer an
optimizer trains (`embeds = model.embed(ids); embeds.requires_grad_()`, the FGM attack on embedding outputs) it
changes nothing, and `embeds.grad` is still None (only `retain_grad()` keeps it; on a leaf, such as a detached copy,
`requires_grad_()` does). The same holds for a helper or a method that reads `.grad` of a parameter it is given after
the caller's backward() (`fgm.perturb(embeds)` with `grad = embeds.grad` inside), also a method of the caller's own
class (`self.add_stats(means2D)` in a trainer whose constructor built the optimizer over the model it was given, with
`means2D` computed from that model's parameters).

## Why is this bad?
`backward()` only populates `.grad` of leaf tensors. For an intermediate it stays `None` (PyTorch warns
"The .grad attribute of a Tensor that is not a leaf Tensor is being accessed"), so saliency maps,
feature attributions or gradient checks silently get nothing, or crash on `None`.

## Example
```python
hidden = model(x)
score = torch.tanh(hidden).sum()
score.backward()
saliency = hidden.grad          # None
```

## Use instead
```python
hidden = model(x)
hidden.retain_grad()
score = torch.tanh(hidden).sum()
score.backward()
saliency = hidden.grad
```

## Fix safety
Inserting `retain_grad()` right after the assignment is safe: it only asks autograd to keep the gradient
the code then reads.
"""
    examples = (
        Example(
            name="trainer-method-given-a-projection-after-backward",
            code="""import torch
import torch.nn as nn


class Points(nn.Module):
    def __init__(self, n=8):
        super().__init__()
        self.xyz = nn.Parameter(torch.randn(n, 3))


def project(points, rot):
    cam = points.xyz @ rot.t()
    return cam[:, :2] / (3.0 + cam[:, 2:3])


class Trainer:
    def __init__(self, points):
        self.points = points
        self.optimizer = torch.optim.SGD(points.parameters(), lr=0.1)
        self.stats = torch.zeros(points.xyz.size(0))

    def record(self, screen):
        grad = screen.grad
        if grad is not None:
            self.stats += grad.norm(dim=-1)

    def step(self, rot):
        screen = project(self.points, rot)
        loss = screen.pow(2).sum()
        self.optimizer.zero_grad()
        loss.backward()
        self.record(screen)
        self.optimizer.step()


def main():
    torch.manual_seed(0)
    points = Points()
    trainer = Trainer(points)
    for _ in range(2):
        trainer.step(torch.eye(3))
    return {"points": points}, {"stats_collected": bool(trainer.stats.sum() > 0)}
""",
            lines=(23,),
            expect={'facts': {'stats_collected': False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="trainer-method-given-a-projection-that-retains-its-grad",
            code="""import torch
import torch.nn as nn


class Points(nn.Module):
    def __init__(self, n=8):
        super().__init__()
        self.xyz = nn.Parameter(torch.randn(n, 3))


def project(points, rot):
    cam = points.xyz @ rot.t()
    return cam[:, :2] / (3.0 + cam[:, 2:3])


class Trainer:
    def __init__(self, points):
        self.points = points
        self.optimizer = torch.optim.SGD(points.parameters(), lr=0.1)
        self.stats = torch.zeros(points.xyz.size(0))

    def record(self, screen):
        grad = screen.grad
        if grad is not None:
            self.stats += grad.norm(dim=-1)

    def step(self, rot):
        screen = project(self.points, rot)
        screen.retain_grad()
        loss = screen.pow(2).sum()
        self.optimizer.zero_grad()
        loss.backward()
        self.record(screen)
        self.optimizer.step()


def main():
    torch.manual_seed(0)
    points = Points()
    trainer = Trainer(points)
    for _ in range(2):
        trainer.step(torch.eye(3))
    return {"points": points}, {"stats_collected": bool(trainer.stats.sum() > 0)}
""",
            expect={'facts': {'stats_collected': True}},
        ),
        Example(
            name="grads-of-an-unused-head-rescaled-after-a-one-head-loss",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(6, 8)
        self.age = nn.Linear(8, 1)
        self.gender = nn.Linear(8, 2)

    def forward(self, x):
        h = torch.relu(self.trunk(x))
        return self.age(h).squeeze(-1), self.gender(h)


def warmup_age_head(model, batches, optimizer, accumulate=2):
    for i, (x, age) in enumerate(batches):
        pred, _ = model(x)
        loss = F.mse_loss(pred, age)
        loss.backward()
        if (i + 1) % accumulate == 0:
            for p in model.parameters():
                p.grad /= accumulate
            optimizer.step()
            optimizer.zero_grad()


def main():
    torch.manual_seed(0)
    model = TwoHeads()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    w0 = model.trunk.weight.detach().clone()
    warmup_age_head(model, [(torch.randn(8, 6), torch.randn(8)) for _ in range(4)], optimizer)
    return {"model": model}, {"trunk_trained": not torch.equal(w0, model.trunk.weight)}
""",
            lines=(25,),
            fixable=False,
            expect={"error": "unsupported operand type"},
        ),
        Example(
            bad=False,
            name="grads-rescaled-only-where-backward-filled-them",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(6, 8)
        self.age = nn.Linear(8, 1)
        self.gender = nn.Linear(8, 2)

    def forward(self, x):
        h = torch.relu(self.trunk(x))
        return self.age(h).squeeze(-1), self.gender(h)


def warmup_age_head(model, batches, optimizer, accumulate=2):
    for i, (x, age) in enumerate(batches):
        pred, _ = model(x)
        loss = F.mse_loss(pred, age)
        loss.backward()
        if (i + 1) % accumulate == 0:
            for p in model.parameters():
                if p.grad is not None:
                    p.grad /= accumulate
            optimizer.step()
            optimizer.zero_grad()


def main():
    torch.manual_seed(0)
    model = TwoHeads()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    w0 = model.trunk.weight.detach().clone()
    warmup_age_head(model, [(torch.randn(8, 6), torch.randn(8)) for _ in range(4)], optimizer)
    return {"model": model}, {"trunk_trained": not torch.equal(w0, model.trunk.weight)}
""",
            expect={"facts": {"trunk_trained": True}},
        ),
        Example(
            name="attribute-made-a-leaf-then-rebound-to-a-normalized-copy-in-init",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Exemplars:
    def __init__(self, init, lr=0.1):
        self.x = init.clone().requires_grad_(True)
        self.x = F.normalize(self.x, dim=-1)
        self.lr = lr

    def step(self):
        with torch.no_grad():
            self.x -= self.lr * self.x.grad


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    memory = Exemplars(torch.randn(6, 4))
    for _ in range(2):
        F.cross_entropy(model(memory.x), torch.arange(6) % 3).backward()
        memory.step()
    return {"model": model}, {"exemplars_are_leaf": memory.x.is_leaf}
""",
            lines=(14,),
            expect={"error": "unsupported operand type(s) for *: 'float' and 'NoneType'"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="attribute-normalized-then-made-a-leaf-in-init",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Exemplars:
    def __init__(self, init, lr=0.1):
        self.x = F.normalize(init, dim=-1).requires_grad_(True)
        self.lr = lr

    def step(self):
        with torch.no_grad():
            self.x -= self.lr * self.x.grad


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    memory = Exemplars(torch.randn(6, 4))
    for _ in range(2):
        F.cross_entropy(model(memory.x), torch.arange(6) % 3).backward()
        memory.step()
    return {"model": model}, {"exemplars_are_leaf": memory.x.is_leaf}
""",
            expect={"grad_ok": ["model.weight"], "facts": {"exemplars_are_leaf": True}},
        ),
        Example(
            name="lightning-hook-reads-grad-of-a-stored-tensor-rebound-after-retain-grad",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SaliencyClassifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.head = nn.Linear(8, 2)
        self._emb = None
        self.saliency_steps = 0

    def training_step(self, batch, batch_idx):
        ids, y = batch
        emb = self.embed(ids)
        emb.retain_grad()
        emb = emb * 2.0
        self._emb = emb
        return F.cross_entropy(self.head(emb.mean(1)), y)

    def on_after_backward(self):
        if self._emb.grad is not None:
            self.saliency_steps += 1

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    ids, y = torch.randint(0, 20, (8, 5)), torch.randint(0, 2, (8,))
    model = SaliencyClassifier()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(TensorDataset(ids, y), batch_size=4))
    return {"model": model}, {"saliency_recorded": model.saliency_steps > 0}
""",
            lines=(25,),
            expect={"facts": {"saliency_recorded": False}},
            fixed_expect={"facts": {"saliency_recorded": True}},
        ),
        Example(
            bad=False,
            name="lightning-hook-reads-grad-of-the-stored-tensor-retain-grad-called-on",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SaliencyClassifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.head = nn.Linear(8, 2)
        self._emb = None
        self.saliency_steps = 0

    def training_step(self, batch, batch_idx):
        ids, y = batch
        emb = self.embed(ids)
        emb = emb * 2.0
        emb.retain_grad()
        self._emb = emb
        return F.cross_entropy(self.head(emb.mean(1)), y)

    def on_after_backward(self):
        if self._emb.grad is not None:
            self.saliency_steps += 1

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    ids, y = torch.randint(0, 20, (8, 5)), torch.randint(0, 2, (8,))
    model = SaliencyClassifier()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(TensorDataset(ids, y), batch_size=4))
    return {"model": model}, {"saliency_recorded": model.saliency_steps > 0}
""",
            expect={"facts": {"saliency_recorded": True}},
        ),
        Example(
            name="requires-grad-set-then-the-name-rebound-by-a-projection",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def pgd(model, x, y, eps=0.1, alpha=0.05, steps=2):
    delta = torch.empty_like(x).uniform_(-eps, eps)
    delta.requires_grad = True
    delta = (x + delta).clamp(0, 1) - x
    for _ in range(steps):
        F.cross_entropy(model(x + delta), y).backward()
        delta.data = (delta + alpha * delta.grad.sign()).clamp(-eps, eps)
    return (x + delta).detach()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    x, y = torch.rand(5, 4), torch.randint(0, 3, (5,))
    pgd(model, x, y)
    return {"model": model}
""",
            lines=(12,),
            expect={"error": "'NoneType' object has no attribute 'sign'"},
            fixed_expect={"grad_ok": ["model.weight"]},
        ),
        Example(
            bad=False,
            name="projection-done-before-requires-grad-is-set",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def pgd(model, x, y, eps=0.1, alpha=0.05, steps=2):
    delta = torch.empty_like(x).uniform_(-eps, eps)
    delta = (x + delta).clamp(0, 1) - x
    delta.requires_grad = True
    for _ in range(steps):
        F.cross_entropy(model(x + delta), y).backward()
        delta.data = (delta + alpha * delta.grad.sign()).clamp(-eps, eps)
    return (x + delta).detach()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    x, y = torch.rand(5, 4), torch.randint(0, 3, (5,))
    pgd(model, x, y)
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight"]},
        ),
        Example(
            name="grad-of-embeddings-looked-up-through-get-input-embeddings",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 4)
        self.head = nn.Linear(4, 2)

    def get_input_embeddings(self):
        return self.embed

    def forward(self, inputs_embeds):
        return self.head(inputs_embeds.mean(1))


def main():
    torch.manual_seed(0)
    model = Classifier()
    ids, y = torch.randint(0, 20, (8, 5)), torch.randint(0, 2, (8,))
    embeds = model.get_input_embeddings()(ids)
    F.cross_entropy(model(embeds), y).backward()
    grad = embeds.grad
    return {"model": model}, {"embedding_grad_missing": grad is None}
""",
            lines=(25,),
            expect={"grad_ok": ["model.embed.weight"], "facts": {"embedding_grad_missing": True}},
        ),
        Example(
            bad=False,
            name="grad-of-embeddings-kept-with-retain-grad-before-backward",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 4)
        self.head = nn.Linear(4, 2)

    def get_input_embeddings(self):
        return self.embed

    def forward(self, inputs_embeds):
        return self.head(inputs_embeds.mean(1))


def main():
    torch.manual_seed(0)
    model = Classifier()
    ids, y = torch.randint(0, 20, (8, 5)), torch.randint(0, 2, (8,))
    embeds = model.get_input_embeddings()(ids)
    embeds.retain_grad()
    F.cross_entropy(model(embeds), y).backward()
    grad = embeds.grad
    return {"model": model}, {"embedding_grad_missing": grad is None}
""",
            expect={"grad_ok": ["model.embed.weight"], "facts": {"embedding_grad_missing": False}},
        ),
        Example(
            name="retain-grad-after-backward",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    emb, head = nn.Embedding(10, 4), nn.Linear(4, 1)
    e = emb(torch.randint(0, 10, (6,)))
    loss = head(e).pow(2).mean()
    loss.backward()
    e.retain_grad()
    return {"emb": emb}, {"grad_is_none": e.grad is None}
""",
            lines=(11,),
            expect={"facts": {"grad_is_none": True}},
            fixed_expect={"facts": {"grad_is_none": False}},
        ),
        Example(
            name="feature-saliency",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    enc, head = nn.Linear(4, 6), nn.Linear(6, 1)
    feats = torch.relu(enc(torch.randn(3, 4)))
    out = head(feats).sum()
    out.backward()
    importance = feats.grad
    return {"feats": feats, "enc": enc}, {"importance_missing": importance is None}
""",
            lines=(11,),
            expect={"grad_none": ["feats"], "grad_ok": ["enc.weight"], "facts": {"importance_missing": True}},
        ),
        Example(
            name="input-rebound-to-normalized-copy",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1)


def normalize(images):
    return (images - MEAN) / 0.25


def input_gradient(model, images, labels):
    x = images.clone().requires_grad_(True)
    x = normalize(x)
    loss = F.cross_entropy(model(x), labels)
    loss.backward()
    return x.grad


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 5))
    grad = input_gradient(model, torch.rand(2, 3, 8, 8), torch.tensor([1, 3]))
    return {"model": model}, {"input_grad_missing": grad is None}
""",
            lines=(17,),
            expect={"grad_ok": ["model.0.weight"], "facts": {"input_grad_missing": True}},
            fixed_expect={"facts": {"input_grad_missing": False}},
        ),
        Example(
            name="attribute-computed-once-in-init",
            code="""import torch
import torch.nn as nn


class Perturbation:
    def __init__(self, model, size=4):
        self.model = model.requires_grad_(False)
        self.raw = torch.zeros(1, size, requires_grad=True)
        self.delta = torch.tanh(self.raw)

    def step(self, x):
        loss = -self.model(x + self.delta).pow(2).mean()
        loss.backward()
        return self.delta.grad


def main():
    torch.manual_seed(0)
    attack = Perturbation(nn.Linear(4, 2))
    grad = attack.step(torch.randn(3, 4))
    return {"raw": attack.raw}, {"delta_grad_missing": grad is None}
""",
            lines=(14,),
            expect={"grad_ok": ["raw"], "facts": {"delta_grad_missing": True}},
            fixable=False,  # retain_grad() in __init__ would fill it once; the next step backpropagates a freed graph
        ),
        Example(
            bad=False,
            name="attribute-leaf-updated-and-reparametrized-per-step",
            code="""import torch
import torch.nn as nn


class Perturbation:
    def __init__(self, model, size=4):
        self.model = model.requires_grad_(False)
        self.raw = torch.zeros(1, size, requires_grad=True)

    def step(self, x):
        delta = torch.tanh(self.raw)
        loss = -self.model(x + delta).pow(2).mean()
        loss.backward()
        return self.raw.grad


def main():
    torch.manual_seed(0)
    attack = Perturbation(nn.Linear(4, 2))
    grad = attack.step(torch.randn(3, 4))
    return {"raw": attack.raw}, {"raw_grad_missing": grad is None}
""",
            expect={"grad_ok": ["raw"], "facts": {"raw_grad_missing": False}},
        ),
        Example(
            bad=False,
            name="input-leaf-kept-under-its-own-name",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1)


def normalize(images):
    return (images - MEAN) / 0.25


def input_gradient(model, images, labels):
    x = images.clone().requires_grad_(True)
    loss = F.cross_entropy(model(normalize(x)), labels)
    loss.backward()
    return x.grad


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 5))
    grad = input_gradient(model, torch.rand(2, 3, 8, 8), torch.tensor([1, 3]))
    return {"model": model}, {"input_grad_missing": grad is None}
""",
            expect={"grad_ok": ["model.0.weight"], "facts": {"input_grad_missing": False}},
        ),
        Example(
            bad=False,
            name="retained-leaf-and-params",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 2)
    x = torch.randn(3, 4, requires_grad=True)
    h = net(x)
    h.retain_grad()
    h.pow(2).sum().backward()
    norms = [p.grad.norm() for p in net.parameters()]
    input_grad = x.grad
    return {"x": x, "h": h, "net": net}, {"ok": input_grad is not None and h.grad is not None}
""",
            expect={"grad_ok": ["x", "h", "net.weight"], "facts": {"ok": True}},
        ),
        Example(
            name="helper-reads-the-grad-of-an-embedding-output-it-is-given-after-backward",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Clf(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.out = nn.Linear(4, 2)

    def encode(self, e):
        return self.out(e.mean(1))


class FGM:
    def __init__(self, eps=0.1):
        self.eps = eps

    def perturb(self, embeds):
        grad = embeds.grad
        return embeds.detach() + self.eps * grad.sign()


def train(model, batches, optimizer):
    fgm = FGM()
    for ids, y in batches:
        optimizer.zero_grad()
        embeds = model.embed(ids)
        embeds.requires_grad_()
        F.cross_entropy(model.encode(embeds), y).backward()
        F.cross_entropy(model.encode(fgm.perturb(embeds)), y).backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = Clf()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, [(torch.randint(0, 10, (3, 5)), torch.randint(0, 2, (3,)))], optimizer)
    return {"model": model}
""",
            lines=(21,),
            fixable=False,
            expect={"error": "'NoneType' object has no attribute 'sign'", "warning": "is not a leaf Tensor"},
        ),
        Example(
            name="helper-reads-the-grad-of-an-embedding-output-that-retains-it",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Clf(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.out = nn.Linear(4, 2)

    def encode(self, e):
        return self.out(e.mean(1))


class FGM:
    def __init__(self, eps=0.1):
        self.eps = eps

    def perturb(self, embeds):
        grad = embeds.grad
        return embeds.detach() + self.eps * grad.sign()


def train(model, batches, optimizer):
    fgm = FGM()
    for ids, y in batches:
        optimizer.zero_grad()
        embeds = model.embed(ids)
        embeds.retain_grad()
        F.cross_entropy(model.encode(embeds), y).backward()
        F.cross_entropy(model.encode(fgm.perturb(embeds)), y).backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = Clf()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, [(torch.randint(0, 10, (3, 5)), torch.randint(0, 2, (3,)))], optimizer)
    return {"model": model}
""",
            expect={"grad_ok": ["model.embed.weight", "model.out.weight"]},
        ),
        Example(
            name="requires-grad-on-the-output-of-a-trained-embedding-does-not-keep-its-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Clf(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.out = nn.Linear(4, 2)

    def encode(self, e):
        return self.out(e.mean(1))


def main():
    torch.manual_seed(0)
    model = Clf()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    ids, y = torch.randint(0, 10, (3, 5)), torch.randint(0, 2, (3,))
    optimizer.zero_grad()
    embeds = model.embed(ids)
    embeds.requires_grad_()
    F.cross_entropy(model.encode(embeds), y).backward()
    grad = embeds.grad
    adv = embeds.detach() + 0.1 * grad / grad.norm()
    F.cross_entropy(model.encode(adv), y).backward()
    optimizer.step()
    return {"model": model}
""",
            lines=(25,),
            expect={"error": "unsupported operand type", "warning": "is not a leaf Tensor"},
        ),
        Example(
            name="retain-grad-on-the-output-of-a-trained-embedding-keeps-its-grad",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Clf(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.out = nn.Linear(4, 2)

    def encode(self, e):
        return self.out(e.mean(1))


def main():
    torch.manual_seed(0)
    model = Clf()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    ids, y = torch.randint(0, 10, (3, 5)), torch.randint(0, 2, (3,))
    optimizer.zero_grad()
    embeds = model.embed(ids)
    embeds.retain_grad()
    F.cross_entropy(model.encode(embeds), y).backward()
    grad = embeds.grad
    adv = embeds.detach() + 0.1 * grad / grad.norm()
    F.cross_entropy(model.encode(adv), y).backward()
    optimizer.step()
    return {"model": model}, {"has_grad": grad is not None}
""",
            expect={"grad_ok": ["model.embed.weight", "model.out.weight"], "facts": {"has_grad": True}},
        ),
        Example(
            name="hf-trainer-step-reads-grad-of-the-embedding-output",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class Cfg(PretrainedConfig):
    model_type = "tiny-fgm"


class Tiny(PreTrainedModel):
    config_class = Cfg

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(20, 8)
        self.classifier = nn.Linear(8, 2)
        self.post_init()

    def forward(self, input_ids=None, inputs_embeds=None, labels=None):
        if inputs_embeds is None:
            inputs_embeds = self.embeddings(input_ids)
        logits = self.classifier(inputs_embeds.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class FGMTrainer(Trainer):
    def training_step(self, model, inputs, num_items_in_batch=None):
        model.train()
        inputs = self._prepare_inputs(inputs)
        embeds = model.embeddings(inputs["input_ids"])
        loss = model(inputs_embeds=embeds, labels=inputs["labels"]).loss
        self.accelerator.backward(loss)
        delta = 0.1 * embeds.grad.sign()
        adv = model(inputs_embeds=embeds.detach() + delta, labels=inputs["labels"]).loss
        self.accelerator.backward(adv)
        return (loss + adv).detach() / 2


class Data(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return {"input_ids": torch.tensor([i % 20, (i * 3) % 20, 1]), "labels": i % 2}


def main():
    torch.manual_seed(0)
    model = Tiny(Cfg())
    args = TrainingArguments(output_dir="/tmp/gg_fgm", per_device_train_batch_size=4, num_train_epochs=1, report_to="none")
    FGMTrainer(model=model, args=args, train_dataset=Data()).train()
    return {"model": model}
""",
            lines=(37,),
            expect={"error": "'NoneType' object has no attribute 'sign'"},
        ),
        Example(
            bad=False,
            name="hf-trainer-step-retains-grad-of-the-embedding-output",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class Cfg(PretrainedConfig):
    model_type = "tiny-fgm"


class Tiny(PreTrainedModel):
    config_class = Cfg

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(20, 8)
        self.classifier = nn.Linear(8, 2)
        self.post_init()

    def forward(self, input_ids=None, inputs_embeds=None, labels=None):
        if inputs_embeds is None:
            inputs_embeds = self.embeddings(input_ids)
        logits = self.classifier(inputs_embeds.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class FGMTrainer(Trainer):
    def training_step(self, model, inputs, num_items_in_batch=None):
        model.train()
        inputs = self._prepare_inputs(inputs)
        embeds = model.embeddings(inputs["input_ids"])
        embeds.retain_grad()
        loss = model(inputs_embeds=embeds, labels=inputs["labels"]).loss
        self.accelerator.backward(loss)
        delta = 0.1 * embeds.grad.sign()
        adv = model(inputs_embeds=embeds.detach() + delta, labels=inputs["labels"]).loss
        self.accelerator.backward(adv)
        return (loss + adv).detach() / 2


class Data(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return {"input_ids": torch.tensor([i % 20, (i * 3) % 20, 1]), "labels": i % 2}


def main():
    torch.manual_seed(0)
    model = Tiny(Cfg())
    before = model.embeddings.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/gg_fgm", per_device_train_batch_size=4, num_train_epochs=1, report_to="none")
    FGMTrainer(model=model, args=args, train_dataset=Data()).train()
    return {"model": model}, {"embeddings_changed": not torch.equal(before, model.embeddings.weight)}
""",
            expect={"facts": {"embeddings_changed": True}},
        ),
        Example(
            name="fgsm-input-rebound-to-its-normalization-by-a-static-method",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN, STD = 0.5, 0.25


class Robust(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))

    @staticmethod
    def normalize(x):
        return (x - MEAN) / STD

    def fgsm(self, x, y, eps=0.1):
        x_adv = x.detach().clone().requires_grad_(True)
        x_adv = self.normalize(x_adv)
        loss = F.cross_entropy(self.net(x_adv), y)
        self.net.zero_grad()
        loss.backward()
        return (x + eps * x_adv.grad.sign()).detach()


def main():
    torch.manual_seed(0)
    model = Robust()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        x, y = torch.rand(8, 4), torch.randint(0, 2, (8,))
        x_adv = model.fgsm(x, y)
        loss = F.cross_entropy(model.net(model.normalize(x_adv)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            lines=(23,),
            expect={"error": "'NoneType' object has no attribute 'sign'"},
        ),
        Example(
            bad=False,
            name="grad-of-a-clone-set-by-hand",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(8, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    ref = model.weight.clone()
    ref.grad = model.weight.grad.clone()
    torch.nn.utils.clip_grad_norm_([ref], max_norm=0.5)
    torch.nn.utils.clip_grad_norm_([model.weight], max_norm=0.5)
    same = torch.allclose(ref.grad, model.weight.grad)
    opt.step()
    return {"model": model}, {"clipped_alike": bool(same)}
""",
            expect={'grad_ok': ['model.weight'], 'facts': {'clipped_alike': True}},
        ),
        Example(
            name="hook-on-a-rebound-tensor-is-not-the-first-tensors-keeper",
            code="""import torch


def main():
    seen = []
    a = torch.ones(3, requires_grad=True)
    b = torch.rand(3, requires_grad=True)
    h = a * b
    s = h.sum()
    s.backward()
    first = h.grad
    a = torch.ones(3, requires_grad=True)
    b = torch.rand(3, requires_grad=True)
    h = a * b
    handle = h.register_hook(lambda g: seen.append(g))
    s = h.sum()
    s.backward()
    handle.remove()
    return {}, {"first_h_grad_is_none": first is None, "hook_saw_gradient": len(seen) == 1}
""",
            lines=(11,),
            expect={'facts': {'first_h_grad_is_none': True, 'hook_saw_gradient': True}},
            fixed_expect={'facts': {'first_h_grad_is_none': False, 'hook_saw_gradient': True}},
        ),
    )

    def check(self, facts):
        yield from self._kept_for_a_hook(facts)
        yield from self._grads_of_parts_left_out_of_the_loss(facts)
        backward_nodes = {id(fl.node) for fl in facts.backward_flows}
        # a method with no backward of its own that reads ``self.<attr>.grad`` (its caller backpropagated)
        for fl in facts.flows_matching(GRAD_READ):
            if id(fl.node) in backward_nodes or fl.owner is None:
                continue
            for ev in fl.events:
                if ev.what == "grad_read" and not ev.name:
                    found = self._attribute_read(facts, fl, ev, [])
                    if found is not None:
                        yield found
        for fl in facts.backward_flows:  # both need a backward() in the same function
            sites = [s for s in fl.backward_sites if isinstance(s.node.func, ast.Attribute) and s.node.func.attr == "backward"]
            if not sites:
                continue
            seen: set = set()
            rebound: set = set()
            fixed_binds: set = set()
            yield from self._callee_reads(facts, fl, sites, seen)
            for ev in fl.events:
                if ev.what == "grad_read" and not ev.name and id(ev.node) not in seen:
                    seen.add(id(ev.node))
                    found = self._attribute_read(facts, fl, ev, sites)
                    if found is not None:
                        yield found
                    continue
                if ev.what != "grad_read" or not ev.name or id(ev.node) in seen:
                    continue
                seen.add(id(ev.node))
                v = ev.target
                if v is None or v.leaf or v.ident is not None or v.kind != "tensor" or not known_roots(v):
                    continue
                name = ev.name
                site = next((s for s in sites if (_before(s.node, ev.node) or _in_loop_with(fl, s, ev.loops)) and any(related_roots(r, lv) for r in known_roots(v) for lv in s.loss.live)), None)
                if site is None:
                    continue
                # every assignment that can hold when ``.grad`` is read makes a new tensor (one overwritten on every
                # path to the read, such as the leaf ``x = images.clone().requires_grad_()`` before
                # ``x = normalize(x)``, does not count)
                reach = facts.semantic.reaching_defs(fl.node, name, ev.node, facts.parent)
                if not reach or any(b.kind not in ("assign", "annassign") or not b.whole or b.value is None for b in reach):
                    continue
                if not all(is_computing_expr(facts, fl, b.value) for b in reach):
                    continue
                binds = [b.node for b in reach]
                if any(isinstance(n, ast.Attribute) and n.attr == "grad" and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name)
                       and n.value.id == name and _before(n, ev.node) for n in facts.own_nodes(fl.node)):
                    continue  # (``ref.grad = w.grad.clone()``: a gradient set by hand, which the read finds, leaf or not)
                keepers = [n for n in facts.own_nodes(fl.node) if _keeps_grad(n, name)]
                # a keeper before every assignment that reaches the read (and in no loop with one) acted on the tensor
                # the name held before: ``delta.requires_grad = True`` then ``delta = (x + delta).clamp(0, 1) - x``
                earlier = [k for k in keepers if all(_before(k, b) and not set(map(id, _loops_of(facts, k))) & set(map(id, _loops_of(facts, b))) for b in binds)]
                # (a keeper after the read, not in a loop with it, acts on a later pass: ``h.register_hook(fn)`` on a
                # tensor rebound after this read is that tensor's)
                keepers = [k for k in keepers if k not in earlier and (_before(k, ev.node) or set(map(id, _loops_of(facts, k))) & set(map(id, ev.loops)))]
                if earlier and any(id(b) in rebound for b in binds):
                    continue  # one finding per rebinding, at its first read
                rebound.update(id(b) for b in binds if earlier)
                if keepers and _requires_grad_surely(facts, fl, v, ev):
                    # ``embeds = model.embed(ids); embeds.requires_grad_()``: the output of a trained layer already requires
                    # grad, so it is no leaf, and ``requires_grad_()`` on it changes nothing (only retain_grad() keeps .grad)
                    keepers = [k for k in keepers if not _turns_on_requires_grad(k)]
                if any(_before(k, site.node) or _in_loop_with(fl, site, _loops_of(facts, k)) for k in keepers):
                    continue
                creating = [b for b in binds if _before(b, site.node)]
                if keepers:  # ``emb.retain_grad()`` after the backward it was meant for: nothing was retained
                    late = min(keepers, key=lambda k: (k.lineno, k.col_offset))
                    fixes: list = []
                    late_stmt = facts.statement_of(late)
                    if len(binds) == 1 and creating and _own_line(facts, binds[0]) and isinstance(late_stmt, ast.Expr) and late_stmt.value is late and _own_line(facts, late_stmt):
                        fixes.append(partial(_move_retain_fix, facts, binds[0], late_stmt, name))
                    yield self.finding(
                        facts,
                        late,
                        f"`{name}.retain_grad()` runs after the backward() it was meant for: `{name}.grad` stays None",
                        related=[(site.node, "backward() ran here, before retain_grad()"), (ev.node, f"`{name}.grad` is read here")],
                        fixes=fixes,
                        explanation="`retain_grad()` asks autograd to keep the gradient of a non-leaf tensor during the *next* backward pass; "
                        "called after the backward it changes nothing for that pass, so `.grad` is None (and the next op on it raises).",
                        method_span=True,
                    )
                    continue
                fixes = []
                if earlier and len(binds) == 1 and creating:
                    # make the rebound tensor the leaf: the requires_grad switch moves below the assignment (retain_grad()
                    # would keep the first tensor in the graph, and a loop that backpropagates again would reuse it)
                    moved = _movable_switch(facts, fl, earlier, binds[0], name)
                    if moved is not None:
                        fixes.append(partial(_move_below_fix, facts, moved, binds[0], f"Set requires_grad on `{name}` after it is rebound (a leaf)"))
                elif len(binds) == 1 and creating and _own_line(facts, binds[0]) and id(binds[0]) not in fixed_binds and not _backward_repeats_over(facts, site, binds[0]):
                    # (one fix per assignment, however many reads; none when a loop backpropagates again and again
                    # through the op made once before it: keeping that non-leaf would walk its freed graph twice)
                    fixed_binds.add(id(binds[0]))
                    fixes.append(lambda b=binds[0], n=name: fix(f"Call `{n}.retain_grad()` before backward()", insert_after_stmt(facts, b, f"{n}.retain_grad()")))
                related = [(site.node, "backward() populates .grad of leaf tensors only")]
                if len(binds) == 1 and creating and not earlier:
                    related.insert(0, (binds[0], f"`{name}` is made here, by an operation: not a leaf (call `{name}.retain_grad()` after it)"))
                if earlier and len(binds) == 1:
                    related = [(earlier[0], f"requires_grad is set here on the tensor `{name}` held before"),
                               (binds[0], f"`{name}` is rebound here to a computed (non-leaf) result"), *related]
                message = f"`{name}` is not a leaf tensor: `{name}.grad` stays None after backward() unless `{name}.retain_grad()` is called first"
                if earlier and len(binds) == 1:
                    message = (f"`{name}` is rebound to a computed result after requires_grad was set on the tensor it held, so it is no leaf: "
                               f"`{name}.grad` stays None after backward()")
                yield self.finding(
                    facts,
                    ev.node,
                    message,
                    related=related,
                    fixes=fixes,
                    explanation="autograd only accumulates `.grad` into leaves; for an intermediate result it is None (UserWarning: The .grad attribute of a Tensor that is not a leaf Tensor is being accessed).",
                    method_span=True,
                )


    def _kept_for_a_hook(self, facts):
        """``self._emb = emb`` in a LightningModule's ``training_step`` and ``self._emb.grad`` read in a hook Lightning runs
        after that step's backward (``on_after_backward``), where the stored tensor is the output of layers that train
        and ``retain_grad()`` was not called on it (but, say, on the tensor ``emb`` held before it was rebound): the
        hook reads None on every step."""
        if ".grad" not in facts.source.text or "retain_grad" not in facts.source.text:
            return
        for info in facts.modules.classes.values():
            step = info.methods.get("training_step") if info.framework == "lightning" else None
            hooks = [info.methods[h] for h in _AFTER_BACKWARD_HOOKS if h in info.methods]
            if step is None or not hooks:
                continue
            for hook in hooks:
                for node in walk_nodes(hook):
                    if not (isinstance(node, ast.Attribute) and node.attr == "grad" and isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Attribute)
                            and isinstance(node.value.value, ast.Name) and node.value.value.id == "self"):
                        continue
                    attr = node.value.attr
                    found = self._stored_non_leaf(facts, info, step, attr, node, hook)
                    if found is not None:
                        yield found

    def _stored_non_leaf(self, facts, info, step, attr: str, read: ast.AST, hook):
        if any(isinstance(n, ast.Attribute) and n.attr == attr and isinstance(facts.parent(n), ast.Attribute) and facts.parent(n).attr in ("retain_grad", "register_hook", "detach_")
               for m in info.methods.values() for n in walk_nodes(m)):
            return None  # (``self._emb.retain_grad()`` somewhere)
        stores = [n for m in info.methods.values() if m is not info.methods.get("__init__") for n in walk_nodes(m)
                  if isinstance(n, ast.Attribute) and n.attr == attr and isinstance(n.value, ast.Name) and n.value.id == "self" and not isinstance(n.ctx, ast.Load)]
        if len(stores) != 1 or facts.enclosing(stores[0], (ast.FunctionDef, ast.AsyncFunctionDef)) is not step:
            return None
        bind = facts.statement_of(stores[0])
        if not (isinstance(bind, ast.Assign) and len(bind.targets) == 1 and bind.targets[0] is stores[0] and isinstance(bind.value, ast.Name) and facts.parent(bind) is step):
            return None
        fl = facts.flow.flow(step)
        made = next((e.value for e in fl.events if e.what == "attr_assign" and e.name == attr and e.stmt is bind and e.value is not None), None)
        if made is None or made.leaf or made.kind != "tensor" or not known_roots(made):
            return None
        name = bind.value.id
        reach = facts.semantic.reaching_defs(step, name, bind.value, facts.parent)
        if len(reach) != 1 or reach[0].kind not in ("assign", "annassign") or not reach[0].whole or reach[0].value is None:
            return None
        own = reach[0].node
        if not is_computing_expr(facts, fl, reach[0].value):
            return None
        keepers = [n for n in facts.own_nodes(step) if _keeps_grad(n, name)]
        earlier = [k for k in keepers if _before(k, own)]
        if len(earlier) != len(keepers) or any(_loops_of(facts, k) for k in keepers):
            return None  # ``retain_grad()`` on the tensor that is stored (or in a loop: not decided)
        related = [(bind, f"`self.{attr}` keeps `{name}` here, a tensor computed from layers that train")]
        fixes: list = []
        if earlier:
            related.insert(0, (earlier[0], f"`retain_grad()` is called here on the tensor `{name}` held before it was rebound (line {own.lineno})"))
            moved = _movable_switch(facts, fl, earlier, own, name)
            if moved is not None:
                fixes.append(partial(_move_below_fix, facts, moved, own, f"Call `{name}.retain_grad()` on the tensor that is kept (after it is rebound)"))
        return self.finding(
            facts,
            read,
            f"`self.{attr}` is not a leaf tensor and `retain_grad()` was never called on it: `self.{attr}.grad` is None in `{hook.name}`, "
            f"which Lightning runs after the backward() of `training_step`",
            related=related,
            fixes=fixes,
            explanation="autograd only fills `.grad` of leaves and of tensors `retain_grad()` was called on before the backward. The stored "
            "tensor is the output of an operation; `retain_grad()` on another tensor (the one the name held before it was rebound) does not "
            "carry over. Call `retain_grad()` on the tensor that is stored.",
            method_span=True,
        )

    def _callee_reads(self, facts, fl, sites, seen: set):
        """``perturb(embeds)`` / ``fgm.perturb(embeds)`` called after a backward(), where the callee reads ``.grad`` of that
        parameter and the caller's ``embeds`` is the output of a layer an optimizer trains (so no leaf, whatever
        ``requires_grad_()`` was called on it): the read gets None. Reported at the read, the call related."""
        for call in facts.own_nodes(fl.node):
            if not isinstance(call, ast.Call) or not call.args or id(call) in seen:
                continue
            site = next((s for s in sites if _before(s.node, call) and s.node is not call), None)
            if site is None:
                continue
            fn, skip = self._callee(facts, fl, call)
            if fn is None:
                continue
            params = [a.arg for a in fn.args.args][skip:]
            reads = [e for e in facts.flow.flow(fn).events if e.what == "grad_read" and e.name in params and e.target is not None and e.target.ident and e.target.ident.startswith("arg:")]
            for e in reads:
                k = params.index(e.name)
                if k >= len(call.args) or not isinstance(call.args[k], ast.Name) or id(e.node) in seen:
                    continue
                if any(isinstance(n, ast.Name) and n.id == e.name and isinstance(n.ctx, ast.Store) for n in walk_nodes(fn)):
                    continue  # (the parameter is rebound in the callee)
                if any(_keeps_grad(n, e.name) and not _turns_on_requires_grad(n) for n in walk_nodes(fn)):
                    continue
                arg = cast(ast.Name, call.args[k])
                v = self._stored_value(facts, fl, arg)
                if v is None or v.kind != "tensor" or v.leaf or v.ident is not None or not known_roots(v) or not _requires_grad_surely(facts, fl, v, site):
                    continue
                if not any(related_roots(r, lv) for r in known_roots(v) for lv in site.loss.live):
                    continue
                if any(_keeps_grad(n, arg.id) and not _turns_on_requires_grad(n) for n in facts.own_nodes(fl.node)):
                    continue
                seen.add(id(e.node))
                yield self.finding(
                    facts,
                    e.node,
                    f"`{e.name}` is {'' if e.name == arg.id else f'given `{arg.id}`, '}computed from parameters that train (passed at line {call.lineno}), not a leaf tensor: "
                    f"`{e.name}.grad` stays None after backward()",
                    related=[(call, f"`{arg.id}` is passed here, after backward()"), (site.node, "backward() populates .grad of leaf tensors only")],
                    explanation="autograd only accumulates `.grad` into leaves. The output of a layer whose weights require grad is an intermediate "
                    "result; `requires_grad_()` on it changes nothing. Call `retain_grad()` on it before backward(), or take "
                    "`torch.autograd.grad(loss, x)`.",
                )

    @staticmethod
    def _callee(facts, fl, call: ast.Call) -> tuple:
        """(the in-file function or method ``call`` runs, how many leading parameters are not its arguments)."""
        f = call.func
        if isinstance(f, ast.Name):
            fn = facts.flow.functions.get(f.id)
            return (fn, 0) if fn is not None else (None, 0)
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self" and fl.owner is not None:
            # ``self.add_stats(means2D)`` in a method: the class's own method (through its in-file bases)
            fn = facts.modules.method(fl.owner, f.attr)
            if fn is not None and not any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list):
                return fn, 1
            return None, 0
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
            v = NonLeafGradRead._stored_value(facts, fl, f.value)
            if v is not None and v.cls:
                fn = facts.modules.method(v.cls, f.attr)
                if fn is not None and not any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list):
                    return fn, 1
        return None, 0

    @staticmethod
    def _stored_value(facts, fl, name: ast.Name):
        """The value ``name`` holds where it is read: the one store that reaches it (its Val as the walk stored it)."""
        reach = facts.semantic.reaching_defs(fl.node, name.id, name, facts.parent)
        if len(reach) != 1 or reach[0].kind not in ("assign", "annassign", "unpack"):
            return None
        for n in walk_nodes(reach[0].node):
            if isinstance(n, ast.Name) and n.id == name.id and isinstance(n.ctx, ast.Store):
                return fl.assigned.get(id(n))
        return None

    def _attribute_read(self, facts, fl, ev, sites):
        """``self.<attr>.grad`` read in a method after a backward() through ``self.<attr>``, where the file's only
        store of ``<anything>.<attr>`` is ``self.<attr> = <operation on trainable values>`` in the class's
        ``__init__`` (``self.patch = torch.sigmoid(4 * self.raw)``), and nothing in the file calls ``retain_grad()``,
        ``register_hook``, ``requires_grad_`` or ``detach_()`` on it or sets its ``requires_grad``: the attribute
        holds that one non-leaf tensor whenever it is read, and backward() never fills its ``.grad``."""
        v = ev.target
        node = ev.node
        if v is None or v.ident is None or not v.ident.startswith("self.") or v.ident.count(".") != 1 or fl.owner is None:
            return None
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and isinstance(node.value.value, ast.Name) and node.value.value.id == "self"):
            return None
        attr = node.value.attr
        info = facts.modules.classes.get(fl.owner)
        init = info.methods.get("__init__") if info is not None else None
        if init is None or fl.node is init:
            return None
        site = next((s for s in sites if (_before(s.node, node) or _in_loop_with(fl, s, ev.loops)) and any(related_roots(v.ident, lv) for lv in s.loss.live)), None)
        if site is None and sites:
            return None
        mentions = facts.nodes_near(ast.Attribute, (attr,))
        # (``self.patch -= step`` updates the tensor in place: the attribute keeps the same non-leaf tensor)
        stores = [n for n in mentions if n.attr == attr and not isinstance(n.ctx, ast.Load) and not (isinstance(facts.parent(n), ast.AugAssign) and facts.parent(n).target is n)]
        # every store in ``__init__``, at its top level: the last one is what the attribute holds afterwards
        # (``self.m = init.clone().requires_grad_(True)`` then ``self.m = F.normalize(self.m, dim=-1)``)
        if not stores or any(facts.enclosing(n, (ast.FunctionDef, ast.AsyncFunctionDef)) is not init or facts.parent(facts.statement_of(n)) is not init for n in stores):
            return None
        stores.sort(key=lambda n: (n.lineno, n.col_offset))
        bind = facts.statement_of(stores[-1])
        store = cast(ast.Attribute, stores[-1])
        if not (isinstance(bind, ast.Assign) and len(bind.targets) == 1 and bind.targets[0] is store and isinstance(store.value, ast.Name) and store.value.id == "self"):
            return None
        for n in mentions:
            if n.attr != attr:
                continue
            up = facts.parent(n)
            if isinstance(up, ast.Attribute) and (up.attr in KEEPS_GRAD or up.attr == "detach_" or (up.attr == "requires_grad" and not isinstance(up.ctx, ast.Load))):
                return None
        if "setattr" in facts.source.text or "__dict__" in facts.source.text:
            return None
        made = next((e.value for e in facts.flow.flow(init).events if e.what == "attr_assign" and e.name == attr and e.stmt is bind and e.value is not None), None)
        if made is None or made.leaf or made.kind != "tensor" or not known_roots(made) or not is_computing_expr(facts, facts.flow.flow(init), bind.value):
            return None
        name = f"self.{attr}"
        related = [(bind, f"`{name}` is made here by an operation on tensors that require grad")]
        if site is not None:
            related.append((site.node, "backward() populates .grad of leaf tensors only"))
        return self.finding(
            facts,
            node,
            f"`{name}` is not a leaf tensor (computed once in `__init__`): `{name}.grad` stays None after backward()",
            related=related,
            explanation="autograd only accumulates `.grad` into leaves; `" + name + "` is the output of an operation, so its `.grad` is None "
            "(UserWarning: The .grad attribute of a Tensor that is not a leaf Tensor is being accessed). Update the leaf it is computed "
            "from (its `.grad` is filled) and recompute the attribute from it where it is used.",
            method_span=True,
        )


    def _grads_of_parts_left_out_of_the_loss(self, facts):
        """``for p in model.parameters(): p.grad *= scale`` (or ``p.grad.mul_(...)``, ``p.grad.norm()``) right after a backward
        whose loss reaches only some parts of ``model`` (a multi-head model trained on one head): the other parts' ``.grad``
        is None (no backward ever reached them), and the unguarded use raises (TypeError / AttributeError)."""
        if "parameters()" not in facts.source.text or ".grad" not in facts.source.text:
            return
        seen: set = set()
        for fl in facts.backward_flows:
            if fl.context is None:
                continue  # (the parts the loss reaches are known with the caller's model)
            for site in fl.backward_sites:
                if not site.mode.enabled:
                    continue
                live = {r.replace("[]", "") for r in site.loss.live if r != "?" and not r.startswith("arg:")}
                for loop in walk_nodes(fl.node):
                    if not isinstance(loop, ast.For) or id(loop) in seen or loop.lineno <= site.node.lineno:
                        continue
                    found = self._unguarded_grad_use(facts, fl, site, loop, live)
                    if found is not None:
                        seen.add(id(loop))
                        yield found

    def _unguarded_grad_use(self, facts, fl, site, loop: ast.For, live: set):
        it = loop.iter
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "parameters" and not it.args
                and isinstance(it.func.value, ast.Name) and isinstance(loop.target, ast.Name)):
            return None
        model, p = it.func.value.id, loop.target.id
        if not any(r == model or r.startswith(model + ".") for r in live):
            return None
        # (no other backward between this one and the loop: that one might reach the other parts)
        if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "backward" and n is not site.node
               and site.node.lineno <= n.lineno < loop.lineno for n in walk_nodes(fl.node)):
            return None
        if any(isinstance(n, ast.Compare) and any(isinstance(x, ast.Attribute) and x.attr == "grad" for x in walk_nodes(n)) for n in walk_nodes(loop)):
            return None  # (``if p.grad is not None:``)
        if any(isinstance(n, (ast.Try, ast.Continue)) for n in walk_nodes(loop)):
            return None
        use = None
        for n in walk_nodes(loop):
            g: Optional[ast.AST] = None
            if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Attribute) and n.target.attr == "grad":
                g = n.target
            elif isinstance(n, ast.Attribute) and isinstance(n.value, ast.Attribute) and n.value.attr == "grad":
                g = n.value
            elif isinstance(n, ast.BinOp) and any(isinstance(x, ast.Attribute) and x.attr == "grad" for x in (n.left, n.right)):
                g = n.left if isinstance(n.left, ast.Attribute) and n.left.attr == "grad" else n.right
            if isinstance(g, ast.Attribute) and isinstance(g.value, ast.Name) and g.value.id == p:
                use = n
                break
        if use is None:
            return None
        origin = facts.flow.root_origins.get(model)
        info = facts.modules.classes.get(origin.cls) if origin is not None and origin.cls else None
        if info is None or not info.is_module:
            return None
        parts = [a for a, values in info.attr_values.items() if len(values) == 1 and _has_parameters(facts, values[0])]
        unused = [a for a in parts if not any(r == model or r == f"{model}.{a}" or r.startswith(f"{model}.{a}.") or f"{model}.{a}".startswith(r + ".") for r in live)]
        if not unused or len(unused) == len(parts) or any(_frozen_somewhere(facts, a) for a in unused):
            return None
        names = ", ".join(f"`{model}.{a}`" for a in unused[:3]) + (" and more" if len(unused) > 3 else "")
        kind = "TypeError" if isinstance(use, (ast.AugAssign, ast.BinOp)) else "AttributeError"
        return self.finding(
            facts,
            use,
            f"{names} take no part in the loss backpropagated at line {site.node.lineno}: their `.grad` is None here, and this "
            f"use of `{p}.grad` raises {kind} on the first of them",
            severity=Severity.ERROR,
            related=[(site.node, "backward() of a loss that reaches only some parts of the model"), (loop, "every parameter of the model, used or not")],
            explanation="`backward()` fills `.grad` only for the parameters the loss depends on; a part that takes no part in it "
            "(a head trained in a later stage, an unused branch) keeps `.grad` None. Skip those: `if p.grad is not None:`.",
        )


def _backward_repeats_over(facts, site, bind: ast.AST) -> bool:
    """Does a loop run the backward() again and again while ``bind`` (outside that loop) made the tensor once?"""
    bind_loops = set(map(id, _loops_of(facts, bind)))
    return any(id(loop) not in bind_loops for loop in site.loops)


def _loops_of(facts, node: ast.AST) -> tuple:
    out = []
    cur = facts.parent(node)
    while cur is not None and not isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if isinstance(cur, (ast.For, ast.AsyncFor, ast.While)):
            out.append(cur)
        cur = facts.parent(cur)
    return tuple(out)


_AFTER_BACKWARD_HOOKS = ("on_after_backward", "on_before_optimizer_step")


def _movable_switch(facts, fl, earlier: list, bind: ast.stmt, name: str):
    """The statement that turns requires_grad on for the tensor ``name`` held before ``bind``, when it can move below
    ``bind``: one statement of its own line in the same block, with no statement between them reading ``name``."""
    if len(earlier) != 1 or not _own_line(facts, bind):
        return None
    st = facts.statement_of(earlier[0])
    if st is None or not _own_line(facts, st) or facts.parent(st) is not facts.parent(bind):
        return None
    if isinstance(st, ast.Expr) and st.value is earlier[0]:
        pass
    elif not (isinstance(st, ast.Assign) and len(st.targets) == 1 and st.targets[0] is earlier[0]):
        return None
    body = next((b for b in (getattr(facts.parent(st), f, None) for f in ("body", "orelse", "finalbody")) if isinstance(b, list) and st in b and bind in b), None)
    if body is None:
        return None
    between = body[body.index(st) + 1 : body.index(bind)]
    if any(isinstance(n, ast.Name) and n.id == name for b in between for n in ast.walk(b)):
        return None
    return st


def _move_below_fix(facts, st: ast.stmt, bind: ast.stmt, title: str):
    """Move the one-line statement ``st`` (a ``requires_grad`` switch, a ``retain_grad()``) to just below ``bind``."""
    text = facts.source.line(st.lineno).strip()
    delete = Edit(Pos(st.lineno, 0), Pos(st.lineno + 1, 0), "")
    return fix(title, delete, insert_after_stmt(facts, bind, text))


def _move_retain_fix(facts, bind: ast.stmt, late: ast.stmt, name: str):
    delete = Edit(Pos(late.lineno, 0), Pos(late.lineno + 1, 0), "")
    return fix(f"Call `{name}.retain_grad()` before backward()", insert_after_stmt(facts, bind, f"{name}.retain_grad()"), delete)


def _turns_on_requires_grad(node: ast.AST) -> bool:
    """``x.requires_grad_()`` / ``x.requires_grad_(True)`` / ``x.requires_grad = True``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "requires_grad_":
        flag = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "requires_grad"), None)
        return flag is None or (isinstance(flag, ast.Constant) and flag.value is True)
    return False


def _requires_grad_surely(facts, fl, v, ev) -> bool:
    """Does ``v`` (computed in grad mode) certainly require grad: one of its roots is a part of the model an optimizer of
    this flow holds, and no part of it is frozen anywhere in the file?"""
    from gradguard.core.starvation import frozen_paths, is_frozen
    from gradguard.core.training import covered_by

    if not ev.mode.enabled:
        return False
    frozen = frozen_paths(facts)
    opts = facts.optimizers_for(fl)
    return any(
        covered_by(r, opts) and not is_frozen(r, frozen) and not any(f == r or f.startswith(r + ".") for f in frozen)
        for r in known_roots(v)
    )


def _keeps_grad(node: ast.AST, name: str) -> bool:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in KEEPS_GRAD:
        return isinstance(node.func.value, ast.Name) and node.func.value.id == name
    if isinstance(node, ast.Attribute) and node.attr == "requires_grad" and isinstance(node.ctx, ast.Store):
        return isinstance(node.value, ast.Name) and node.value.id == name
    return False


def _own_line(facts, st: ast.stmt) -> bool:
    """The statement starts its line (not after ``if c:`` or ``;``) and ends its last line."""
    line = facts.source.line(st.lineno)
    if len(line) - len(line.lstrip()) != facts.start(st).col:
        return False
    end_line = facts.source.line(st.end_lineno or st.lineno)
    rest = end_line[facts.end(st).col:].strip()
    return rest == "" or rest.startswith("#")


def _has_parameters(facts, v) -> bool:
    """``nn.Linear(...)``, ``nn.Sequential(nn.Linear(...), ...)`` or an in-file Module class: a part with parameters."""
    if not isinstance(v, ast.Call):
        return False
    q = facts.imports.qualname(v.func) or ""
    if is_module_ctor(q):
        short = q.rsplit(".", 1)[-1]
        if short in PARAMETER_SLOTS:
            return True
        if short == "Sequential":
            return any(_has_parameters(facts, a) for a in v.args)
        return False
    return isinstance(v.func, ast.Name) and v.func.id in facts.modules.classes and bool(facts.modules.classes[v.func.id].is_module)


def _frozen_somewhere(facts, attr: str) -> bool:
    """Is ``attr`` named in a file that freezes something (its ``.grad`` may be None because it is frozen: not this bug)?"""
    text = facts.source.text
    return attr in text and ("requires_grad_(False)" in text or "requires_grad = False" in text)
