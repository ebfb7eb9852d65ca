"""GG604 loss-reaches-only-frozen-parameters: everything a loss reaches was frozen, so backward() raises."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.flow import Event, always_true, indexed_parameter
from gradguard.core.model import Severity
from gradguard.core.order import position
from gradguard.core.starvation import HelperFreeze, helper_freezes
from gradguard.core.torchapi import CHANGES_REQUIRES_GRAD, LOSS_SINK_WORDS
from gradguard.core.training import lightning_callback_hooks
from gradguard.rules.base import Example, Rule

_FREEZE = re.compile(r"requires_grad_\(\s*(?:False|requires_grad\s*=\s*False)|requires_grad\s*=\s*False|\.freeze\(\)")
_TOUCHES_REQUIRES_GRAD = CHANGES_REQUIRES_GRAD

# methods a framework runs before the training steps of the same module
_RUNS_BEFORE_TRAINING = {"__init__", "setup", "configure_model", "on_fit_start", "on_train_start", "on_train_epoch_start"}


class LossReachesOnlyFrozenParameters(Rule):
    code = "GG604"
    name = "loss-reaches-only-frozen-parameters"
    summary = "Every parameter a backpropagated loss reaches was frozen (`requires_grad_(False)`, `freeze()`): backward() raises."
    severity = Severity.ERROR
    needs = LOSS_SINK_WORDS
    fix_applicability = None
    docs = """
## What it does
Flags a freeze (`model.requires_grad_(False)`, `for p in model.parameters(): p.requires_grad = False`,
Lightning's `self.freeze()`, a loop over a positional slice of `model.children()` in a helper, e.g.
`for child in list(model.children())[:-1]`, for a model whose class's order of children is known: `children()`
yields submodules in the order `__init__` assigned them, so the slice may leave out a dropout or pooling layer
assigned after the head instead of the head) that covers every parameter a later backpropagated loss reaches: the loss has
no `grad_fn`. Freezing a backbone while a head still trains, unfreezing part of the model again, new layers put
into the frozen model after the freeze (adapters injected by `setattr(model, name, LoRALinear(...))`), or losses
that also reach tensors of unknown origin stay silent. Setting `requires_grad` on an indexed part of a layer's
weight or bias (`emb.weight[new_ids].requires_grad_(True)`, meant to train a few rows) unfreezes nothing: indexing
makes a new tensor with a flag of its own, and the parameter keeps `requires_grad=False`.
A hook of a Lightning `Callback` the Trainer runs before the training steps (`on_fit_start`, `on_train_start`,
`on_train_epoch_start`, `on_train_batch_start`, `setup`) counts as the module's own: it is given the module being fit
as `pl_module`, so `pl_module.freeze()` there freezes the LightningModule whose `training_step` loss follows.
A helper that sets `requires_grad` to the flag its caller passes on every parameter of each module in a list
(`set_requires_grad([netD_A, netD_B], False)`, CycleGAN's speed trick around the generator step) freezes each of
them where it is called; when nothing turns them back on before the discriminator loss, that loss (computed on real
and detached fake images) reaches only frozen parameters; also when the helper is called in a method of a trainer
object on its own parts (`set_requires_grad([self.netD_A], False)`) and the loss is computed in another method that one
calls afterwards (`self.backward_D(self.netD_A, real, fake)`). A tensor computed from the model before the freeze and kept
on it (`self.soft_prompt = self.embeddings.weight[:4].clone()`) keeps its graph: a loss through it is not all frozen.
A method of the object that freezes a part to take gradients with respect to its inputs only (an SGLD sampler of an
energy model, a saliency map) and that the training step calls before its loss on every step counts too when nothing in
the file turns those parameters back on: reported on the freeze, the call named as related. A call or a freeze under a
test, a loop or a `try` the loss is outside of stays silent (it may not run).

A layer the freezing helper puts into the model after its freeze (`model.requires_grad_(False)`, then
`model.set_head(head)`) requires grad: a loss through it is not all frozen.

A function of the file that builds a module, freezes it on every call and returns it (`target = frozen(student)` in
`build_models()`, which returns `student` and `target`: the same object) hands its caller a frozen module: a loss of a
training function given that module afterwards counts too. When the freezing helper is also called on other modules (a
teacher frozen on purpose), the finding goes on the call to change, with the helper's freeze as related.
A deep copy of a module frozen at that point (`student = copy.deepcopy(base)` after `base.requires_grad_(False)`) is
frozen too: `deepcopy` copies each parameter's `requires_grad` (the copy is named as related).

## Why is this bad?
With every input of the graph frozen, autograd records nothing: the loss is a constant and
`loss.backward()` raises `RuntimeError: element 0 of tensors does not require grad and does not have a
grad_fn` (Lightning and the Hugging Face Trainer call it for you and raise the same). Usually the freeze
was meant for the pretrained part only, and caught the new head or the adapters too.

## Example
```python
model.requires_grad_(False)          # meant: the backbone
```

## Use instead
```python
model.backbone.requires_grad_(False)
```

## Fix safety
No automatic fix: which part should stay trainable is a decision only the author can make.
"""
    examples = (
        Example(
            name="method-freezes-the-model-to-take-an-input-gradient-and-never-restores-it",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class SaliencyTrainer:
    # trains a classifier on inputs masked by their saliency

    def __init__(self, model, lr=1e-2):
        self.model = model
        self.opt = torch.optim.SGD(model.parameters(), lr=lr)

    def saliency(self, x):
        for p in self.model.parameters():
            p.requires_grad_(False)
        x = x.clone().requires_grad_(True)
        score = self.model(x).max(dim=1).values.sum()
        (grad_x,) = torch.autograd.grad(score, x)
        return grad_x.abs()

    def train_step(self, x, y):
        mask = (self.saliency(x) > 0.01).float()
        loss = F.cross_entropy(self.model(x * mask), y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    trainer = SaliencyTrainer(model)
    for _ in range(3):
        trainer.train_step(torch.randn(8, 6), torch.randint(0, 3, (8,)))
    return {"model": model}
""",
            lines=(15,),
            expect={"error": "does not require grad"},
            fixable=False,
        ),
        Example(
            name="method-freezes-the-model-to-take-an-input-gradient-and-restores-it",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class SaliencyTrainer:
    # trains a classifier on inputs masked by their saliency

    def __init__(self, model, lr=1e-2):
        self.model = model
        self.opt = torch.optim.SGD(model.parameters(), lr=lr)

    def saliency(self, x):
        for p in self.model.parameters():
            p.requires_grad_(False)
        x = x.clone().requires_grad_(True)
        score = self.model(x).max(dim=1).values.sum()
        (grad_x,) = torch.autograd.grad(score, x)
        for p in self.model.parameters():
            p.requires_grad_(True)
        return grad_x.abs()

    def train_step(self, x, y):
        mask = (self.saliency(x) > 0.01).float()
        loss = F.cross_entropy(self.model(x * mask), y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    trainer = SaliencyTrainer(model)
    for _ in range(3):
        trainer.train_step(torch.randn(8, 6), torch.randint(0, 3, (8,)))
    return {"model": model}
""",
            bad=False,
            expect={"grad_ok": ["model.0.weight", "model.2.weight"]},
        ),
        Example(
            name="helper-freezes-the-module-a-dataparallel-wrapper-holds",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(F.relu(self.bn(self.conv(x))).mean(dim=(2, 3)))


def refresh_statistics(model, batches):
    for p in model.parameters():
        p.requires_grad = False
    model.train()
    for x in batches:
        model(x)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(Net())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    refresh_statistics(model.module, [torch.randn(4, 3, 6, 6) for _ in range(2)])
    x, y = torch.randn(8, 3, 6, 6), torch.randint(0, 2, (8,))
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": model.module}
""",
            lines=(18,),
            fixable=False,
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="helper-freezes-the-wrapped-module-and-restores-it",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(F.relu(self.bn(self.conv(x))).mean(dim=(2, 3)))


def refresh_statistics(model, batches):
    for p in model.parameters():
        p.requires_grad = False
    model.train()
    for x in batches:
        model(x)
    for p in model.parameters():
        p.requires_grad = True


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(Net())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    refresh_statistics(model.module, [torch.randn(4, 3, 6, 6) for _ in range(2)])
    x, y = torch.randn(8, 3, 6, 6), torch.randint(0, 2, (8,))
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": model.module}
""",
            expect={"grad_ok": ["net.conv.weight", "net.head.weight"]},
        ),
        Example(
            name="constructor-freezes-the-backbone-and-the-head-of-every-instance",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Detector(nn.Module):
    def __init__(self, freeze_backbone=True):
        super().__init__()
        self.backbone = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)
        if freeze_backbone:
            for v in self.backbone.parameters():
                v.requires_grad = False
            for v in self.head.parameters():
                v.requires_grad = False

    def forward(self, x):
        return self.head(torch.relu(self.backbone(x)))


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(Detector())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    F.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 2, (8,))).backward()
    opt.step()
    return {"model": model.module}
""",
            lines=(12,),
            fixable=False,
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="constructor-freezes-only-the-backbone",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Detector(nn.Module):
    def __init__(self, freeze_backbone=True):
        super().__init__()
        self.backbone = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)
        if freeze_backbone:
            for v in self.backbone.parameters():
                v.requires_grad = False

    def forward(self, x):
        return self.head(torch.relu(self.backbone(x)))


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(Detector())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    F.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 2, (8,))).backward()
    opt.step()
    return {"model": model.module}
""",
            expect={"grad_ok": ["model.head.weight"], "grad_none": ["model.backbone.weight"]},
        ),
        Example(
            name="rows-of-a-frozen-embedding-unfrozen-by-indexing",
            code="""import torch
import torch.nn as nn


def prepare(encoder, head, new_ids):
    encoder.requires_grad_(False)
    head.requires_grad_(False)
    encoder[0].weight[new_ids].requires_grad_(True)
    return encoder[0].parameters()


def main():
    torch.manual_seed(0)
    encoder, head = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 4)), nn.Linear(4, 1)
    opt = torch.optim.SGD(prepare(encoder, head, torch.tensor([8, 9])), lr=0.1)
    loss = head(encoder(torch.tensor([[1, 8, 9]]))).pow(2).mean()
    loss.backward()
    opt.step()
    return {"encoder": encoder}
""",
            lines=(6,),
            expect={"error": "element 0 of tensors does not require grad"},
        ),
        Example(
            bad=False,
            name="embedding-unfrozen-whole-after-freezing-the-model",
            code="""import torch
import torch.nn as nn


def prepare(encoder, head, new_ids):
    encoder.requires_grad_(False)
    head.requires_grad_(False)
    encoder[0].weight.requires_grad_(True)
    return encoder[0].parameters()


def main():
    torch.manual_seed(0)
    encoder, head = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 4)), nn.Linear(4, 1)
    opt = torch.optim.SGD(prepare(encoder, head, torch.tensor([8, 9])), lr=0.1)
    loss = head(encoder(torch.tensor([[1, 8, 9]]))).pow(2).mean()
    loss.backward()
    opt.step()
    return {"encoder": encoder}
""",
            expect={"grad_ok": ["encoder.0.weight"]},
        ),
        Example(
            name="freeze-all-but-the-last-child-when-the-last-child-is-a-dropout",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        return self.head(self.drop(torch.relu(self.body(x))))


def freeze_all_but_last(model):
    for child in list(model.children())[:-1]:
        for p in child.parameters():
            p.requires_grad = False


def main():
    torch.manual_seed(0)
    model = Net()
    freeze_all_but_last(model)
    model(torch.randn(8, 4)).pow(2).mean().backward()
    return {"model": model}
""",
            lines=(17,),
            expect={"error": "element 0 of tensors does not require grad"},
        ),
        Example(
            bad=False,
            name="freeze-all-but-the-last-child-when-the-last-child-is-the-head",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.drop(torch.relu(self.body(x))))


def freeze_all_but_last(model):
    for child in list(model.children())[:-1]:
        for p in child.parameters():
            p.requires_grad = False


def main():
    torch.manual_seed(0)
    model = Net()
    freeze_all_but_last(model)
    model(torch.randn(8, 4)).pow(2).mean().backward()
    return {"model": model}
""",
            expect={"grad_ok": ["model.head.weight"], "grad_none": ["model.body.weight"]},
        ),
        Example(
            name="helper-freezes-the-model-it-returns",
            code="""import torch
import torch.nn as nn


def prepare_for_finetuning(model):
    # meant to freeze the pretrained backbone only
    model.requires_grad_(False)
    return model


def main():
    torch.manual_seed(0)
    model = prepare_for_finetuning(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    model(torch.randn(3, 4)).pow(2).mean().backward()
    opt.step()
    return {"model": model}
""",
            lines=(7,),
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="helper-freezes-only-the-backbone",
            code="""import torch
import torch.nn as nn


def prepare_for_finetuning(backbone):
    backbone.requires_grad_(False)
    return backbone


def main():
    torch.manual_seed(0)
    backbone = prepare_for_finetuning(nn.Sequential(nn.Linear(4, 8), nn.ReLU()))
    head = nn.Linear(8, 2)
    opt = torch.optim.SGD(head.parameters(), lr=0.1)
    opt.zero_grad()
    head(backbone(torch.randn(3, 4))).pow(2).mean().backward()
    opt.step()
    return {"head": head}
""",
            expect={"grad_ok": ["head.weight"]},
        ),
        Example(
            name="whole-model-frozen",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    model.requires_grad_(False)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(8, 4)).pow(2).mean()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(8,),
            expect={"error": "does not require grad"},
        ),
        Example(
            name="helper-freezes-what-it-is-given",
            code="""import torch
import torch.nn as nn


def freeze_backbone(model):
    for name, param in model.named_parameters():
        param.requires_grad = False
    return model


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    freeze_backbone(model)
    loss = model(torch.randn(8, 4)).pow(2).mean()
    loss.backward()
    return {"model": model}
""",
            lines=(6,),
            expect={"error": "does not require grad"},
        ),
        Example(
            name="frozen-in-a-loop-over-parameters",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))


def main():
    torch.manual_seed(0)
    net = Net()
    for p in net.parameters():
        p.requires_grad = False
    net(torch.randn(8, 4)).pow(2).mean().backward()
    return {"net": net}
""",
            lines=(18,),
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="backbone-frozen-head-trains",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))


def main():
    torch.manual_seed(0)
    net = Net()
    net.requires_grad_(False)
    net.head.requires_grad_(True)
    net(torch.randn(8, 4)).pow(2).mean().backward()
    return {"net": net}
""",
            expect={"grad_ok": ["net.head.weight"]},
        ),
        Example(
            bad=False,
            name="helper-freezes-the-parameters-a-name-test-selects",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(torch.relu(self.bn(self.body(x))))


def freeze_norms(model):
    for name, p in model.named_parameters():
        if "bn" in name:
            p.requires_grad = False


def main():
    torch.manual_seed(0)
    model = Net()
    freeze_norms(model)
    model(torch.randn(8, 4)).pow(2).mean().backward()
    return {"model": model}
""",
            expect={"grad_ok": ["model.head.weight", "model.body.weight"]},
        ),
        Example(
            bad=False,
            name="frozen-after-training-for-export",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        model(torch.randn(8, 4)).pow(2).mean().backward()
        opt.step()
    model.requires_grad_(False)
    return {"model": model}, {"frozen": not model.weight.requires_grad}
""",
            expect={"facts": {"frozen": True}},
        ),
        Example(
            name="adapters-put-in-by-setattr-after-the-freeze-train",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Adapter(nn.Module):
    def __init__(self, base, rank=2):
        super().__init__()
        self.base = base
        self.down = nn.Linear(base.in_features, rank, bias=False)
        self.up = nn.Linear(rank, base.out_features, bias=False)

    def forward(self, x):
        return self.base(x) + self.up(self.down(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def add_adapters(model, names=("fc1", "fc2")):
    for name in names:
        setattr(model, name, Adapter(getattr(model, name)))


def main():
    torch.manual_seed(0)
    model = Net()
    model.requires_grad_(False)
    add_adapters(model)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    x, y = torch.randn(8, 6), torch.randint(0, 2, (8,))
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.fc1.down.weight", "model.fc2.up.weight"], "grad_none": ["model.fc1.base.weight"]},
        ),
        Example(
            name="training-function-given-the-model-calls-a-freeze-helper",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def freeze(model):
    for p in model.parameters():
        p.requires_grad = False


def train_epoch(model, batches, optimizer):
    model.train()
    freeze(model)
    for x, y in batches:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    train_epoch(net, [(torch.randn(6, 4), torch.randint(0, 3, (6,)))], optimizer)
    return {"net": net}
""",
            lines=(7,),
            fixable=False,
            expect={"error": "does not require grad"},
        ),
        Example(
            name="freeze-test-or-a-class-selects-every-module",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(F.relu(self.bn(self.conv(x))).mean((2, 3)))


def freeze_bn(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d) or nn.Conv2d:
            m.eval()
            for p in m.parameters():
                p.requires_grad = False


def train_epoch(model, batches, optimizer):
    model.train()
    freeze_bn(model)
    for x, y in batches:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    net = Net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    train_epoch(net, [(torch.randn(4, 3, 8, 8), torch.randint(0, 2, (4,)))], optimizer)
    return {"net": net}
""",
            lines=(19,),
            fixable=False,
            expect={"error": "does not require grad"},
        ),
        Example(
            name="freeze-test-with-a-tuple-of-classes-selects-only-those",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(F.relu(self.bn(self.conv(x))).mean((2, 3)))


def freeze_bn(model):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            m.eval()
            for p in m.parameters():
                p.requires_grad = False


def train_epoch(model, batches, optimizer):
    model.train()
    freeze_bn(model)
    for x, y in batches:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    net = Net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    train_epoch(net, [(torch.randn(4, 3, 8, 8), torch.randint(0, 2, (4,)))], optimizer)
    return {"net": net}
""",
            expect={"grad_ok": ["net.conv.weight", "net.head.weight"], "grad_none": ["net.bn.weight"]},
        ),
        Example(
            bad=False,
            name="helper-freezes-only-what-get-input-embeddings-returns",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.head = nn.Linear(4, 2)

    def get_input_embeddings(self):
        return self.embed

    def forward(self, ids):
        return self.head(self.embed(ids).mean(1))


def prepare(model):
    model.get_input_embeddings().weight.requires_grad_(False)


def train(model, opt):
    prepare(model)
    for _ in range(2):
        loss = F.cross_entropy(model(torch.randint(0, 10, (3, 5))), torch.tensor([0, 1, 0]))
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    train(model, opt)
    return {"model": model}
""",
            expect={"grad_ok": ["model.head.weight"], "grad_none": ["model.embed.weight"]},
        ),
        Example(
            name="lightning-callback-freezes-the-whole-module-it-is-given",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Regressor(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 16), nn.ReLU())
        self.head = nn.Linear(16, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.mse_loss(self.head(self.encoder(x)), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class FreezeEncoderAfterWarmup(pl.Callback):
    def __init__(self, at_epoch=1):
        self.at_epoch = at_epoch

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.at_epoch:
            pl_module.freeze()


def main():
    pl.seed_everything(0)
    data = DataLoader(TensorDataset(torch.randn(8, 4), torch.randn(8, 1)), batch_size=4)
    model = Regressor()
    pl.Trainer(max_epochs=2, callbacks=[FreezeEncoderAfterWarmup()], logger=False, enable_checkpointing=False).fit(model, data)
    return {"model": model}
""",
            lines=(28,),
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="lightning-callback-freezes-the-encoder-of-the-module-it-is-given",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Regressor(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 16), nn.ReLU())
        self.head = nn.Linear(16, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.mse_loss(self.head(self.encoder(x)), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class FreezeEncoderAfterWarmup(pl.Callback):
    def __init__(self, at_epoch=1):
        self.at_epoch = at_epoch

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.at_epoch:
            pl_module.encoder.requires_grad_(False)


def main():
    pl.seed_everything(0)
    data = DataLoader(TensorDataset(torch.randn(8, 4), torch.randn(8, 1)), batch_size=4)
    model = Regressor()
    pl.Trainer(max_epochs=2, callbacks=[FreezeEncoderAfterWarmup()], logger=False, enable_checkpointing=False).fit(model, data)
    return {"model": model}
""",
            expect={"grad_ok": ["model.head.weight"]},
        ),
        Example(
            name="helper-freezes-a-list-of-discriminators-never-unfrozen",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def set_requires_grad(nets, requires_grad=False):
    for net in nets:
        for p in net.parameters():
            p.requires_grad = requires_grad


def train_step(netG, netD, opt_g, opt_d, real, z):
    fake = netG(z)
    set_requires_grad([netD], False)
    opt_g.zero_grad()
    g_loss = F.softplus(-netD(fake)).mean()
    g_loss.backward()
    opt_g.step()
    opt_d.zero_grad()
    d_loss = F.softplus(-netD(real)).mean() + F.softplus(netD(fake.detach())).mean()
    d_loss.backward()
    opt_d.step()


def main():
    torch.manual_seed(0)
    netG, netD = nn.Linear(3, 4), nn.Linear(4, 1)
    opt_g = torch.optim.Adam(netG.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(netD.parameters(), lr=1e-3)
    for _ in range(2):
        train_step(netG, netD, opt_g, opt_d, torch.randn(8, 4), torch.randn(8, 3))
    return {"netG": netG, "netD": netD}
""",
            lines=(8,),
            expect={"error": "does not require grad"},
        ),
        Example(
            name="helper-freezes-the-discriminator-for-the-generator-step-then-unfreezes-it",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def set_requires_grad(nets, requires_grad=False):
    for net in nets:
        for p in net.parameters():
            p.requires_grad = requires_grad


def train_step(netG, netD, opt_g, opt_d, real, z):
    fake = netG(z)
    set_requires_grad([netD], False)
    opt_g.zero_grad()
    g_loss = F.softplus(-netD(fake)).mean()
    g_loss.backward()
    opt_g.step()
    set_requires_grad([netD], True)
    opt_d.zero_grad()
    d_loss = F.softplus(-netD(real)).mean() + F.softplus(netD(fake.detach())).mean()
    d_loss.backward()
    opt_d.step()


def main():
    torch.manual_seed(0)
    netG, netD = nn.Linear(3, 4), nn.Linear(4, 1)
    opt_g = torch.optim.Adam(netG.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(netD.parameters(), lr=1e-3)
    for _ in range(2):
        train_step(netG, netD, opt_g, opt_d, torch.randn(8, 4), torch.randn(8, 3))
    return {"netG": netG, "netD": netD}
""",
            expect={"grad_ok": ["netD.weight", "netG.weight"]},
        ),
        Example(
            name="gan-trainer-list-helper-freezes-d-and-nothing-unfreezes-it",
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
            lines=(8,),
            expect={"error": "does not require grad"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="gan-trainer-list-helper-unfreezes-d-before-its-step",
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
            name="student-deep-copied-from-a-frozen-base",
            code="""import copy

import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    base = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    base.requires_grad_(False)
    student = copy.deepcopy(base)
    opt = torch.optim.SGD(student.parameters(), lr=0.1)
    x = torch.randn(6, 4)
    loss = (student(x) - base(x)).pow(2).mean() + student(x).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"student": student}
""",
            lines=(10,), fixable=False,
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="student-deep-copied-before-the-base-is-frozen",
            code="""import copy

import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    base = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    student = copy.deepcopy(base)
    base.requires_grad_(False)
    opt = torch.optim.SGD(student.parameters(), lr=0.1)
    x = torch.randn(6, 4)
    loss = (student(x) - base(x)).pow(2).mean() + student(x).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"student": student}
""",
            expect={"grad_ok": ["student.0.weight", "student.2.weight"]},
        ),
        Example(
            name="student-built-by-a-classmethod-from-deep-copies-of-a-frozen-teacher",
            code="""import copy

import torch
import torch.nn as nn


class Student(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 8)
        self.head = nn.Linear(8, 1)

    @classmethod
    def from_teacher(cls, teacher):
        student = cls()
        student.encoder = copy.deepcopy(teacher.encoder)
        student.head = copy.deepcopy(teacher.head)
        return student

    def forward(self, x):
        return self.head(torch.relu(self.encoder(x)))


def main():
    torch.manual_seed(0)
    teacher = Student()
    teacher.requires_grad_(False)
    student = Student.from_teacher(teacher)
    opt = torch.optim.SGD(student.parameters(), lr=0.1)
    loss = student(torch.randn(6, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"student": student}
""",
            lines=(28,),
            fixable=False,
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="student-built-by-a-classmethod-before-the-teacher-is-frozen",
            code="""import copy

import torch
import torch.nn as nn


class Student(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 8)
        self.head = nn.Linear(8, 1)

    @classmethod
    def from_teacher(cls, teacher):
        student = cls()
        student.encoder = copy.deepcopy(teacher.encoder)
        student.head = copy.deepcopy(teacher.head)
        return student

    def forward(self, x):
        return self.head(torch.relu(self.encoder(x)))


def main():
    torch.manual_seed(0)
    teacher = Student()
    student = Student.from_teacher(teacher)
    teacher.requires_grad_(False)
    opt = torch.optim.SGD(student.parameters(), lr=0.1)
    loss = student(torch.randn(6, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"student": student}
""",
            expect={"grad_ok": ["student.encoder.weight", "student.head.weight"]},
        ),
        Example(
            name="factory-returns-the-student-it-froze",
            code="""import torch
import torch.nn as nn


def frozen(module):
    module.requires_grad_(False)
    module.eval()
    return module


def build(dim=4):
    teacher = frozen(nn.Linear(dim, dim))
    student = nn.Linear(dim, dim)
    student.load_state_dict(teacher.state_dict())
    target = frozen(student)
    return teacher, student, target


def distill(student, target, teacher, optimizer, steps=3):
    for _ in range(steps):
        x = torch.randn(8, 4)
        with torch.no_grad():
            goal = target(teacher(x))
        loss = (student(x) - goal).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    teacher, student, target = build()
    optimizer = torch.optim.SGD(student.parameters(), lr=0.1)
    distill(student, target, teacher, optimizer)
    return {"student": student}
""",
            lines=(15,),
            expect={'error': 'does not require grad'},
        ),
        Example(
            bad=False,
            name="factory-freezes-a-copy-for-the-target",
            code="""import copy

import torch
import torch.nn as nn


def frozen(module):
    module.requires_grad_(False)
    module.eval()
    return module


def build(dim=4):
    teacher = frozen(nn.Linear(dim, dim))
    student = nn.Linear(dim, dim)
    student.load_state_dict(teacher.state_dict())
    target = frozen(copy.deepcopy(student))
    return teacher, student, target


def distill(student, target, teacher, optimizer, steps=3):
    for _ in range(steps):
        x = torch.randn(8, 4)
        with torch.no_grad():
            goal = target(teacher(x))
        loss = (student(x) - goal).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    teacher, student, target = build()
    optimizer = torch.optim.SGD(student.parameters(), lr=0.1)
    distill(student, target, teacher, optimizer)
    return {"student": student}
""",
            expect={'grad_ok': ['student.weight']},
        ),
    )

    def check(self, facts):
        text = facts.source.text
        if not ("requires_grad" in text or ".freeze()" in text) or not _FREEZE.search(text) or not any(fl.loss_sites for fl in facts.backward_flows):
            return
        freezes, unfrozen = _freezes(facts)
        if not freezes:
            return
        reported: set = set()
        for fl in facts.backward_flows:
            for site in fl.loss_sites:
                live = site.loss.live
                if not site.mode.enabled or not live or any(r == "?" or r.startswith("arg:") for r in live):
                    continue
                covering: list = []
                calls: dict = {}
                for r in live:
                    if _cached_tensor(facts, fl, r):
                        covering = []  # (a tensor computed earlier and kept on the object keeps the graph it was made with)
                        break
                    f = _freeze_of(facts, fl, site, r, freezes, calls)
                    if f is None or any(_related(r, u) for u in unfrozen) or facts.modules.made_after_build(r):
                        # (a part of a layer swapped in after the model was built, ``blk.proj = LoRALinear(blk.proj)``, may
                        # be made after the freeze: its own parameters then train)
                        covering = []
                        break
                    covering.append(f)
                if not covering:
                    continue
                # (the first freeze in the source: the loss's roots are a set, whose order is not the program's)
                ev = min(covering, key=lambda f: (getattr(getattr(f, "report", None) or f.node, "lineno", 0), getattr(getattr(f, "report", None) or f.node, "col_offset", 0)))
                at = _loop_header(facts, getattr(ev, "report", ev.node))  # a helper's freeze: reported in the helper, its call related
                if isinstance(ev, HelperFreeze) and _helper_called_elsewhere(facts, ev):
                    # (a helper the file calls on other modules too, ``frozen(teacher)`` beside ``frozen(student)``: this call is
                    # the one to change)
                    at = ev.node
                if id(at) in reported:
                    continue
                reported.add(id(at))
                via = [(ev.node, "the helper freezes what this call passes")] if at is not ev.node else []
                if at is ev.node and getattr(ev, "report", None) is not None:
                    via = [(ev.report, "the helper freezes what it is given here")]
                why = ""
                first = calls.get(id(ev))
                if first is not None:
                    # (the method's freeze is meant, to sample or to probe; what is missing is turning the parameters back on)
                    at, via = ev.node, [(first, f"`{first.func.attr}` runs here, before the loss, on every step")]
                    why = f" (`{first.func.attr}` turns them off each time it runs, and nothing turns them back on)"
                test = _truthy_test_above(facts, getattr(ev, "report", None) or ev.node)
                if test is not None:
                    # ``if isinstance(m, nn.BatchNorm2d) or nn.Conv2d:`` meant to pick some modules picks them all
                    at = test
                    why = f" (`{_short(facts, test.test)}` is true for every module: a class object is truthy, so the `or` selects all)"
                hook = next((ch for ch in lightning_callback_hooks(facts) if ch.hook is facts.enclosing(ev.node, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
                if hook is not None and not why:
                    cb = facts.enclosing(hook.hook, (ast.ClassDef,))
                    why = (f" (in `{getattr(cb, 'name', '?')}.{getattr(hook.hook, 'name', '?')}`: the Trainer runs this callback hook before the "
                           f"training steps, with the `{hook.module_cls}` it fits as `pl_module`)")
                if isinstance(at, ast.For) and _children_slice(at) and isinstance(ev, HelperFreeze):
                    order = _model_children(facts, ev)
                    if order:
                        why = f" (`children()` yields {', '.join(f'`{c}`' for c in order)} in the order `__init__` assigned them: the slice picks by that order, not by role)"
                # (a deep copy of what was frozen is frozen too: ``student = copy.deepcopy(base)`` after ``base.requires_grad_(False)``)
                copies = sorted({id(n): n for f in covering for n in (f.node, getattr(f, "origin", None)) if n is not None and _is_deepcopy(facts, n) and n is not at}.values(), key=lambda n: (n.lineno, n.col_offset))
                copied = [(n, "`copy.deepcopy` copies `requires_grad`: this copy of a frozen module is frozen too") for n in copies]
                if _is_deepcopy(facts, at) and not why:
                    frozen_line = getattr(getattr(ev, "origin", None), "lineno", None)
                    why = f" (`copy.deepcopy` copies `requires_grad`: the module it copies was frozen{f' at line {frozen_line}' if frozen_line else ''})"
                elif copies and not why:
                    why = " (it builds the module from deep copies of frozen modules: `copy.deepcopy` copies `requires_grad`)"
                yield self.finding(
                    facts,
                    at,
                    f"this freezes every parameter the loss at line {site.line} reaches: it has no gradient path and backward() raises{why}",
                    related=[*via, *copied, (site.node, f"{site.implicit} backpropagates this loss" if site.implicit else "backward() raises here"), *_indexed_unfreezes(facts)],
                    explanation="With every parameter the loss depends on set to requires_grad=False, autograd records nothing: the loss "
                    "has no grad_fn and `backward()` raises `RuntimeError: element 0 of tensors does not require grad`. Freeze only the "
                    "part meant to stay fixed.",
                )


def _helper_called_elsewhere(facts, ev: HelperFreeze) -> bool:
    """Is the helper whose freeze ``ev`` is (seen at its call ``ev.node``) called at another place of the file too, given
    something else to freeze?"""
    fn = facts.enclosing(ev.report, (ast.FunctionDef, ast.AsyncFunctionDef))
    call = ev.node
    if fn is None or not isinstance(call, ast.Call):
        return False
    mine = [facts.text(a) for a in call.args]
    for c in facts.nodes_near(ast.Call, (fn.name,)):
        if c is call or not ((isinstance(c.func, ast.Name) and c.func.id == fn.name) or (isinstance(c.func, ast.Attribute) and c.func.attr == fn.name)):
            continue
        if [facts.text(a) for a in c.args] != mine:
            return True
    return False


def _is_deepcopy(facts, node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and facts.imports.qualname(node.func) == "copy.deepcopy"


def _truthy_test_above(facts, node: ast.AST) -> Optional[ast.If]:
    """The ``if`` around ``node`` (in its function) whose test is true on every run although it reads values (an ``or``
    with a class object as an operand), if any."""
    cur, child = facts.parent(node), node
    while cur is not None and not isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        if isinstance(cur, ast.If) and child in cur.body and not isinstance(cur.test, ast.Constant) and always_true(cur.test, facts.imports):
            return cur
        child, cur = cur, facts.parent(cur)
    return None


def _short(facts, node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _indexed_unfreezes(facts) -> list:
    """``emb.weight[ids].requires_grad_(True)``: meant to unfreeze a few rows, it sets the flag of a new tensor."""
    if "requires_grad_" not in facts.source.text:
        return []
    return [
        (c, "this sets `requires_grad` on a new tensor (an indexed part of the weight), not on the parameter")
        for c in facts.walk(ast.Call)
        if isinstance(c.func, ast.Attribute) and c.func.attr == "requires_grad_" and indexed_parameter(c.func.value)
    ][:1]


def _loop_header(facts, node):
    """``for p in model.parameters(): p.requires_grad = False``: what selects *every* parameter is the loop's
    header, the line to change (``model.backbone.parameters()``); other freezes are reported where they are."""
    stmt = facts.statement_of(node) if not isinstance(node, ast.stmt) else node
    loop = facts.parent(stmt) if stmt is not None else None
    if isinstance(loop, ast.For) and stmt in loop.body and len(loop.body) == 1:
        it = loop.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in ("parameters", "named_parameters"):
            outer = facts.parent(loop)
            if isinstance(outer, ast.For) and len(outer.body) == 1 and _children_slice(outer):
                return outer  # ``for child in list(model.children())[:-1]``: the slice picks what is frozen
            return loop
        if _children_slice(loop):
            return loop
    return node


def _children_slice(loop: ast.For) -> bool:
    """``for child in list(model.children())[a:b]`` (or ``named_children()``)."""
    it = loop.iter
    if not (isinstance(it, ast.Subscript) and isinstance(it.slice, ast.Slice)):
        return False
    inner = it.value
    return isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == "list" and len(inner.args) == 1 and _receiver(inner.args[0], ("children", "named_children")) is not None


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _freezes(facts) -> tuple:
    """Freeze events (requires_grad off on a module or on every parameter of one) with their flow, and the
    paths unfrozen anywhere."""
    out: list = []
    on: set = set()
    for fl in facts.flows_matching(_TOUCHES_REQUIRES_GRAD):
        for ev in fl.events:
            if ev.target is not None:
                _record_change(facts, ev, fl, out, on, ("arg:",), keep_all_on=True)
    # a helper that freezes what it is given, called by a training function that was itself given the model
    # (``def train_epoch(model, ...): freeze(model)``): the change at the call, as each caller of the training function
    # runs it (its context flow names the caller's model)
    # (and a method's own walk, for a list helper's change to the object's parts: ``set_requires_grad([self.netD_A,
    # self.netD_B], False)`` in ``optimize_parameters``, named as the object's own parts)
    methods = [fl for fl in facts.flows if fl.owner is not None and fl.context is None and any(ev.what == "requires_grad_via_call" for ev in fl.events)]
    for ctx in [*facts.flow.context_flows, *methods]:
        for ev in ctx.events:
            if ev.target is None:
                continue
            if ctx.context is None and ev.what != "requires_grad_via_call":
                continue  # (a method's own changes: the first loop has them)
            if ev.what != "requires_grad_via_call":
                # a change the function makes itself, to what its caller gave it under the caller's name (a trainer
                # object's method freezing ``self.netD``, run on the object ``model``)
                _record_change(facts, ev, ctx, out, on, ("arg:", "self"), keep_all_on=False)
                continue
            if ev.origin is None:
                continue
            helper_ev = _helper_event(facts, ev.origin)
            kind = _change(facts, helper_ev) if helper_ev is not None else None
            if kind is None:
                continue
            _off, whole = kind  # (the flag as this call resolves it: a literal in the helper, or the caller's)
            if not whole and helper_ev.what == "requires_grad_set":
                # ``for net in nets: for p in net.parameters(): p.requires_grad = flag`` over a list the caller passes: each
                # element's every parameter (the loop's element is no parameter the model can name)
                stmt = facts.statement_of(helper_ev.node)
                loop = facts.enclosing(helper_ev.node, (ast.For,))
                whole = loop is not None and _iter_of(loop, _PARAM_ITERS) is not None and isinstance(loop.target, ast.Name) \
                    and isinstance(getattr(stmt, "targets", [None])[0], ast.Attribute) and _name_of_target(stmt) == loop.target.id \
                    and not _selective(facts, stmt) and not _filtered_submodule(facts, stmt)
            roots = {r for r in ev.target.live if r != "?" and not r.startswith("arg:")}
            if whole and ev.extra == "False":
                out.extend((r, HelperFreeze(ev.node, helper_ev.node, helper_ev, r), ctx) for r in roots)
            elif ev.extra == "True":
                on.update(roots)
    # a hook of a Lightning Callback the Trainer runs before the training steps (``pl_module.freeze()`` in
    # ``on_train_epoch_start``): the change to the module it fits, as if the module's own hook made it
    for ch in lightning_callback_hooks(facts):
        for ev in ch.flow.events:
            if ev.target is None:
                continue
            kind = _change(facts, ev)
            if kind is None:
                continue
            off, whole = kind
            roots = {r for r in set(ev.target.live) | ({ev.target.ident} if ev.target.ident else set()) if r == "self" or r.startswith("self.")}
            if off and whole:
                out.extend((r, ev, _HookRun(ch.module_cls, ch.hook)) for r in roots)
            elif not off:
                on.update(roots)
    # a helper that freezes what it is given (``freeze_backbone(model)``): the change at each call
    for caller, hf in helper_freezes(facts):
        sliced = _sliced_children(facts, hf)
        if sliced:  # ``for child in list(model.children())[:-1]``: the children the slice selects, each frozen whole
            out.extend((f"{hf.root}.{name}", hf, caller) for name in sliced)
            continue
        kind = _change(facts, hf.event)
        if kind is None:
            continue
        off, whole = kind
        if off and whole:
            out.append((hf.root, hf, caller))
        elif not off:
            on.add(hf.root)
    return out, on


@dataclass(frozen=True)
class _HookRun:
    """Where a Lightning callback hook's change counts: as a method of ``owner`` (the module it is given) named like
    the hook, which the Trainer runs before ``training_step``."""

    owner: str
    node: ast.AST


def _record_change(facts, ev, fl, out: list, on: set, skip: tuple, keep_all_on: bool) -> None:
    """Add a requires_grad event of ``fl`` to the freezes ``out`` (when it turns off every parameter of its target) or
    to the unfrozen paths ``on``, leaving out roots that begin with ``skip`` (and ``?``); ``keep_all_on`` keeps every
    root of an unfreeze."""
    kind = _change(facts, ev)
    if kind is None:
        return
    off, whole = kind
    roots = set(ev.target.live) | ({ev.target.ident} if ev.target.ident else set())
    kept = {r for r in roots if r != "?" and not r.startswith(skip)}
    if off and whole:
        out.extend((r, ev, fl) for r in kept)
    elif not off:
        on.update(roots if keep_all_on else kept)


def _cached_tensor(facts, fl, root: str) -> bool:
    """Does ``root`` (``model.soft_prompt``, ``self.prompt``) name an attribute of an in-file class that holds a
    tensor computed by the program (``self.soft_prompt = self.embeddings.weight[:4].clone()``), not a layer or a
    parameter? Freezing the object later does not take back the graph such a tensor was computed with."""
    head, _, rest = root.replace("[]", "").partition(".")
    attr = rest.split(".", 1)[0]
    if not attr:
        return False
    cls = fl.owner if head == "self" else getattr(facts.flow.root_origins.get(head), "cls", None)
    info = facts.modules.classes.get(cls or "")
    if info is None or attr not in info.attr_values:
        return False
    mm = facts.modules
    acls, elem = mm.attr_class(info.name, attr)
    if acls or elem or mm.parameter_attr(info.name, attr) or mm.attr_torch_ctor(info.name, attr) is not None:
        return False
    kept = [ev.value for m in info.methods.values() if any(m.lineno <= v.lineno <= (m.end_lineno or m.lineno) for v in info.attr_values[attr])
            for ev in facts.flow.flow(m).events
            if ev.what == "attr_assign" and ev.name == attr and ev.target is not None and ev.target.ident == "self" and ev.value is not None and ev.value.kind != "none"]
    return bool(kept) and all(v.kind == "tensor" and not v.leaf and not v.ident and (v.live or v.cut) for v in kept)


def _name_of_target(stmt) -> Optional[str]:
    """``p`` of ``p.requires_grad = ...``."""
    t = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else None
    return t.value.id if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) else None


def _helper_event(facts, node: ast.AST):
    """The requires_grad event of the helper's own flow at ``node`` (what a ``requires_grad_via_call`` ran)."""
    fn = facts.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    if fn is None:
        return None
    return next((e for e in facts.flow.flow(fn).events if e.node is node and e.what in ("requires_grad_set", "requires_grad_call")), None)


def _sliced_children(facts, hf) -> Optional[list]:
    """The children of the model a helper is given that ``for child in list(model.children())[a:b]`` selects, when
    the helper freezes each of them whole there (``for p in child.parameters(): p.requires_grad = False`` or
    ``child.requires_grad_(False)``) and the model's class and its order of children are known: ``children()`` yields
    the submodules in the order ``__init__`` assigned them, so a positional slice selects by that order, not by
    role (the last child is not the classifier when a pooling or dropout layer was assigned after it)."""
    ev = hf.event
    stmt = facts.statement_of(ev.node)
    if stmt is None or len(ev.target.live) != 1:
        return None
    if ev.what == "requires_grad_set":
        value = getattr(stmt, "value", None)
        if ev.name != "requires_grad" or not (isinstance(value, ast.Constant) and value.value is False):
            return None
    elif not (ev.what == "requires_grad_call" and ev.extra == "False"):
        return None
    loop = facts.parent(stmt)
    if isinstance(loop, (ast.For, ast.AsyncFor)) and ev.what == "requires_grad_set":
        recv = _iter_of(loop, ("parameters",))  # ``for p in child.parameters()`` (recursing: all of the child)
        if not (isinstance(recv, ast.Name) and len(loop.body) == 1 and not loop.iter.args and not loop.iter.keywords):  # type: ignore[attr-defined]
            return None
        child, loop = recv.id, facts.parent(loop)
    else:
        call = getattr(stmt, "value", None)
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)):
            return None
        child = call.func.value.id
    if not isinstance(loop, (ast.For, ast.AsyncFor)) or loop.orelse or any(isinstance(n, (ast.If, ast.Break, ast.Continue, ast.Return)) for n in walk_nodes(loop)):
        return None
    it = loop.iter
    target = loop.target
    if not (isinstance(it, ast.Subscript) and isinstance(it.slice, ast.Slice) and it.slice.step is None):
        return None
    inner = it.value
    if not (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == "list" and len(inner.args) == 1):
        return None
    recv = _receiver(inner.args[0], ("children", "named_children"))
    if not isinstance(recv, ast.Name):
        return None
    named = inner.args[0].func.attr == "named_children"  # type: ignore[attr-defined]
    if named:
        if not (isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(target.elts[1], ast.Name) and target.elts[1].id == child):
            return None
    elif not (isinstance(target, ast.Name) and target.id == child):
        return None
    bounds: list = []
    for b in (it.slice.lower, it.slice.upper):
        if b is None:
            bounds.append(None)
        elif isinstance(b, ast.Constant) and type(b.value) is int:
            bounds.append(b.value)
        elif isinstance(b, ast.UnaryOp) and isinstance(b.op, ast.USub) and isinstance(b.operand, ast.Constant) and type(b.operand.value) is int:
            bounds.append(-b.operand.value)
        else:
            return None
    # the helper's argument the loop runs over, and the class of what the caller passes there
    fn = facts.enclosing(loop, (ast.FunctionDef, ast.AsyncFunctionDef))
    params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]] if fn is not None else []
    root = next(iter(ev.target.live))
    if not (root.startswith("arg:") and root[4:].isdigit() and int(root[4:]) < len(params) and params[int(root[4:])] == recv.id):
        return None
    arg = hf.node.args[int(root[4:])] if int(root[4:]) < len(hf.node.args) else None
    if not isinstance(arg, ast.Name) or arg.id != hf.root:
        return None
    scope = facts.enclosing(hf.node, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    stores = [n for n in facts.name_stores(scope) if n.id == arg.id]
    if len(stores) != 1:
        return None
    v = facts.flow.flow(scope).assigned.get(id(stores[0]))
    if v is None or v.kind != "module" or not v.cls:
        return None
    order = facts.modules.children_in_order(v.cls)
    if not order:
        return None
    facts.__dict__.setdefault("_gg604_children", {})[id(hf)] = order
    return order[bounds[0] : bounds[1]]


def _model_children(facts, hf) -> Optional[list]:
    """The order of children ``_sliced_children`` found for ``hf``."""
    return facts.__dict__.get("_gg604_children", {}).get(id(hf))


def _change(facts, ev) -> Optional[tuple]:
    """(turns requires_grad off, applies to every parameter of the target) for a requires_grad event."""
    if ev.what == "requires_grad_call":
        # on a module, or on a helper's whole argument (``def prepare(model): model.requires_grad_(False)``: what
        # the caller passes, module or tensor, is frozen whole; a parameter of it would be a leaf element)
        live = ev.target.live
        whole_arg = not ev.target.leaf and len(live) == 1 and next(iter(live)).startswith("arg:") and "." not in next(iter(live))
        stmt = facts.statement_of(ev.node)
        # (``for p in m.parameters(): p.requires_grad_(False)``, as ``p.requires_grad = False`` below)
        each = ev.target.kind != "module" and bool(ev.target.leaf and not ev.target.ident) and not _selective(facts, stmt)
        return ev.extra == "False", (ev.target.kind == "module" or whole_arg or each) and not _filtered_submodule(facts, stmt)
    if ev.what == "requires_grad_set" and ev.name == "requires_grad":
        stmt = facts.statement_of(ev.node)
        value = getattr(stmt, "value", None)
        off = isinstance(value, ast.Constant) and value.value is False
        # ``for p in m.parameters(): p.requires_grad = False``; under an ``if`` in that loop (``if "bn" in name``) it
        # freezes only the parameters the condition selects
        return off, bool(ev.target.leaf and not ev.target.ident) and not _selective(facts, stmt) and not _filtered_submodule(facts, stmt)
    return None


_SUBMODULE_ITERS = ("modules", "named_modules", "children", "named_children")
_PARAM_ITERS = ("parameters", "named_parameters")


def _iter_of(loop: ast.AST, attrs: tuple) -> Optional[ast.AST]:
    """The receiver ``X`` of ``for ... in X.<attr>(...)`` for one of ``attrs``."""
    return _receiver(getattr(loop, "iter", None), attrs)


def _receiver(it: Optional[ast.AST], attrs: tuple) -> Optional[ast.AST]:
    """The receiver ``X`` of the call ``X.<attr>(...)`` for one of ``attrs``."""
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in attrs:
        return it.func.value
    return None


def _loop_names(loop: ast.AST) -> set:
    return {n.id for n in ast.walk(getattr(loop, "target", ast.Pass())) if isinstance(n, ast.Name)}


def _filtered_submodule(facts, stmt) -> bool:
    """Is ``stmt`` (``m.requires_grad_(False)``, or ``p.requires_grad = False`` in ``for p in m.parameters()``) run
    for the submodules an ``if`` selects in ``for m in model.modules()``: only some of ``model``'s parameters."""
    cur = facts.parent(stmt) if stmt is not None else None
    selected, names = False, _call_receivers(stmt)
    child = stmt
    while cur is not None and not isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        if isinstance(cur, ast.If) and child in cur.body and always_true(cur.test, facts.imports):
            pass  # (``if isinstance(m, nn.BatchNorm2d) or nn.Conv2d:`` selects every module: a class is truthy)
        elif isinstance(cur, (ast.If, ast.Try, ast.While)):
            selected = True
        elif isinstance(cur, (ast.For, ast.AsyncFor)):
            recv = _iter_of(cur, _PARAM_ITERS)
            if isinstance(recv, ast.Name) and not selected:
                names = {recv.id}  # the parameters of ``m``: what matters is where ``m`` comes from
            elif _iter_of(cur, _SUBMODULE_ITERS) is not None and names & _loop_names(cur):
                return selected
            else:
                return False
        child, cur = cur, facts.parent(cur)
    return False


def _call_receivers(stmt) -> set:
    call = getattr(stmt, "value", None)
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
        return {call.func.value.id}
    return set()


def _selective(facts, stmt) -> bool:
    """Is ``stmt`` under an ``if`` (or a comprehension filter's loop) inside the loop that runs it for each parameter?"""
    cur = facts.parent(stmt) if stmt is not None else None
    child = stmt
    while cur is not None and not isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        if isinstance(cur, ast.If) and child in cur.body and always_true(cur.test, facts.imports):
            pass  # (a test true for every parameter selects them all)
        elif isinstance(cur, (ast.If, ast.Try, ast.While)):
            return True
        if isinstance(cur, (ast.For, ast.AsyncFor)):
            return False
        child, cur = cur, facts.parent(cur)
    return False


def _freeze_of(facts, fl, site, root: str, freezes: list, calls: Optional[dict] = None) -> Optional[Event]:
    """The freeze event that covers ``root`` and runs before ``site``, if any. ``calls`` gets, for a freeze made by a
    method of the object that the loss's function calls first, the event's id -> that call."""
    for froot, ev, ffl in freezes:
        if froot.startswith("self.") and getattr(ffl.node, "name", "") == "__init__" and ffl.owner is not None and not root.startswith("self"):
            # a constructor that freezes a part of the object (``for v in self.backbone.parameters(): v.requires_grad =
            # False`` in ``__init__``): that part of every instance built in the file, frozen from its construction on
            head, _, rest = root.replace("[]", "").partition(".")
            origin = facts.flow.root_origins.get(head)
            inst = f"{head}.{froot[5:]}"
            if origin is not None and origin.cls == ffl.owner and (root.replace("[]", "") == inst or root.replace("[]", "").startswith(inst + ".")):
                return ev
            continue
        if not _related(root, froot) or not root.startswith(froot):
            continue
        if fl.context is not None and ffl.node is not fl.node and ffl.node is _enclosing_fn(facts, fl.context) and position(ev.node) < position(fl.context) \
                and not _refilled(ffl, froot, ev.node, fl.context) and (ffl.owner is None or ffl.owner == fl.owner or not froot.startswith("self")):
            # frozen by the caller before the call that runs this loss (``set_requires_grad([self.netD_A], False)``, then
            # ``self.backward_D(self.netD_A, ...)`` in the same method): the caller's object, in the caller's names
            return ev
        if isinstance(getattr(ffl, "context", None), ast.Call) and ffl is not fl and isinstance(ffl.context.func, ast.Attribute) \
                and ffl.context.func.attr == getattr(ffl.node, "name", None) and _enclosing_fn(facts, ffl.context) is fl.node \
                and _called_first(facts, fl.node, ffl.context.func.attr, ev.node, site.node) is ffl.context:
            # a method of the object, run by the loss's function before the loss (walked there with the caller's values),
            # freezing what the loss then reaches
            if calls is not None:
                calls[id(ev)] = ffl.context
            return ev
        if froot == "self" or froot.startswith("self."):
            # a module freezing itself: counts for losses of the same class, frozen in a method that runs first (a hook
            # the framework runs before training, or a method the loss's function calls before the loss on every run:
            # ``self.langevin(x)`` freezing the energy network to sample, never unfreezing it)
            name = getattr(ffl.node, "name", "")
            if ffl.owner is None or ffl.owner != fl.owner:
                continue
            if name in _RUNS_BEFORE_TRAINING:
                return ev
            call = _called_first(facts, fl.node, name, ev.node, site.node) if fl.context is None else None
            if call is None:
                continue
            if calls is not None:
                calls[id(ev)] = call
            return ev
        if ffl is fl or ffl.node is fl.node:
            if position(ev.node) < position(site.node) and not _refilled(ffl, froot, ev.node, site.node) and not _refilled_after_helper_freeze(facts, ev, froot):
                return ev
            continue
        if fl.context is not None and (ffl.node is _enclosing_fn(facts, fl.context) or ffl.node is facts.tree and _enclosing_fn(facts, fl.context) is facts.tree):
            if position(ev.node) < position(fl.context) and not _refilled(ffl, froot, ev.node, fl.context):  # frozen before the call that runs the training step
                return ev
        if _returned_frozen(facts, ffl, froot, ev, fl, site):
            return ev
    return None


def _returned_frozen(facts, ffl, froot: str, ev, fl, site) -> bool:
    """Does a function of the file build the module ``froot``, freeze it on every call and return it (``target =
    frozen(student)`` in ``build_models``, which returns ``student`` and ``target``), called before the loss (before the
    call that runs the training function, or in the loss's own function)? The object the caller gets is frozen from
    that call on."""
    fn = ffl.node
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or ffl.context is not None or fn is fl.node:
        return False
    origin = facts.flow.root_origins.get(froot)
    if origin is None or origin.kind != "module" or _enclosing_fn(facts, origin.stmt) is not fn:
        return False  # (made there: every call returns a new object, frozen)
    rets = ffl.returns
    parts = rets.items if rets is not None and rets.items is not None else ((rets,) if rets is not None else ())
    if not any(froot in p.live or p.ident == froot for p in parts):
        return False
    # the freeze runs on every call (not under a test, a loop or a ``try`` of the function), and no layer is put into the
    # module after it
    cur = facts.parent(ev.node)
    while cur is not None and cur is not fn:
        if isinstance(cur, (ast.If, ast.IfExp, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.BoolOp, ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        cur = facts.parent(cur)
    last = fn.body[-1]
    if _refilled(ffl, froot, ev.node, last) or any(e.what == "replace" and e.node is last for e in ffl.events):
        return False
    where = fl.context if fl.context is not None else site.node
    caller = _enclosing_fn(facts, where)
    return any(
        isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id == fn.name and position(c) < position(where)
        and _enclosing_fn(facts, c) is caller
        for c in facts.nodes_near(ast.Call, (fn.name,))
    )


def _called_first(facts, fn: ast.AST, method: str, change: ast.AST, site: ast.AST) -> Optional[ast.Call]:
    """The ``self.<method>(...)`` call of ``fn`` that runs before ``site`` on every run that reaches ``site`` (not under a
    test or loop ``site`` is outside of), with ``change`` made by ``method`` whenever it runs (not under a test of its
    own); None when there is none."""
    owner = facts.enclosing(change, (ast.FunctionDef, ast.AsyncFunctionDef))
    if owner is None or _conditional_between(facts, change, owner):
        return None
    at = position(site)
    for n in walk_nodes(fn):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == method and isinstance(n.func.value, ast.Name) \
                and n.func.value.id == "self" and position(n) < at and not _conditional_between(facts, n, fn, also_around=site):
            return n
    return None


def _conditional_between(facts, node: ast.AST, fn: ast.AST, also_around: Optional[ast.AST] = None) -> bool:
    """Is ``node`` under an ``if`` / ``while`` / ``try`` / loop of ``fn`` (other than one that also holds ``also_around``)?
    A ``for`` over parameters is not a condition when ``also_around`` is None (the freeze loop itself)."""
    cur = facts.parent(node)
    while cur is not None and cur is not fn:
        if isinstance(cur, (ast.If, ast.While, ast.Try, ast.For, ast.AsyncFor, ast.IfExp, ast.BoolOp)):
            holds_site = also_around is not None and any(x is also_around for x in walk_nodes(cur))
            if not holds_site and not (also_around is None and isinstance(cur, ast.For)):
                return True
        cur = facts.parent(cur)
    return False


def _refilled(fl, froot: str, start: ast.AST, end: ast.AST) -> bool:
    """Is a new layer put into the frozen part between the freeze and the backward (``add_lora(unet)`` with
    ``setattr(unet, name, LoRALinear(...))`` after ``unet.requires_grad_(False)``)? Its parameters are made after the
    freeze and require grad: the part is no longer frozen whole."""
    a, b = position(start), position(end)
    return any(
        e.what == "replace" and e.name and (e.name == froot or e.name.startswith(froot + ".")) and e.value is not None and e.value.kind == "module" and a < position(e.node) < b
        for e in fl.events
    )


def _refilled_after_helper_freeze(facts, ev, froot: str) -> bool:
    """For a helper's freeze seen at its call: does the helper itself, walked with this call's values, put a new layer
    into the frozen part after its freeze (``model.requires_grad_(False)``, then ``model.set_head(head)``)?"""
    if not isinstance(ev, HelperFreeze):
        return False
    inner = getattr(ev.event, "node", None)
    if inner is None:
        return False
    end = facts.enclosing(inner, (ast.FunctionDef, ast.AsyncFunctionDef))
    if end is None:
        return False
    for ctx in facts.flow.context_flows:
        if ctx.context is ev.node and ctx.node is end:
            after = [e for e in ctx.events if e.what == "replace" and position(e.node) > position(inner)]
            if any(e.name and (e.name == froot or e.name.startswith(froot + ".")) and e.value is not None and e.value.kind == "module" for e in after):
                return True
    return False


def _enclosing_fn(facts, node: ast.AST) -> ast.AST:
    return facts.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
