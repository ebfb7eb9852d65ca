"""GG806 optimizer-misses-trained-parameters: a loss trains parameters that no optimizer holds."""
from __future__ import annotations

import ast
import builtins
import re
from functools import partial
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.flow import OptimizerSite, related
from gradguard.core.model import Applicability, Severity
from gradguard.core.starvation import display_root, eval_paths, frozen_paths, is_frozen
from gradguard.core.torchapi import FORWARDS_TO_MODULE, LOSS_SINK_WORDS, RUN_AFTER_OPTIMIZERS, STEP_METHODS_BY_FRAMEWORK, is_optimizer_ctor
from gradguard.core.training import (
    attribute_origin,
    concrete,
    covered_by,
    frozen_at_backward,
    kept_as_part,
    late_callback_unfreezes,
    lightning_callback_hooks,
    runs_after_optimizers,
    stepped_after,
    stepped_by_framework,
    trainable_origin,
)
from gradguard.fixes import alias_for, fix, insert_after_stmt, replace_node
from gradguard.rules.base import Example, Rule


class OptimizerMissesTrainedParameters(Rule):
    code = "GG806"
    name = "optimizer-misses-trained-parameters"
    summary = "A loss reaches parameters that no optimizer holds: they get gradients but never change."
    severity = Severity.WARNING
    needs = LOSS_SINK_WORDS
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Follows each `backward()` to the optimizer stepped right after it and flags parameters the loss reaches
that no optimizer in view holds:
- a learnable tensor created outside the model (a temperature, task log-variances, a prompt) and never
  passed to the optimizer (not a tensor made anew on every step, in the loop or in a function the step calls: the
  point a gradient penalty differentiates at is data, not a parameter; nor one only given as input to models the
  optimizer trains, `model(x).sum().backward()` with `x = torch.randn(..., requires_grad=True)`: the model's data; nor a
  module kept in sync with another's weights, `q_target.load_state_dict(q.state_dict())`, or an instance of a class whose
  `__init__` builds its own optimizer over `self.parameters()`);
- a submodule left out of hand-written parameter groups, also in a Lightning `configure_optimizers` whose
  optimizers the Trainer steps after each `training_step`, or in the `create_optimizer` of a Hugging Face `Trainer`
  subclass, which the Trainer calls with its model as `self.model` when `train()` starts (reported on the groups, or on
  the list of layers a loop turns into groups; a `configure_optimizers` that returns what a helper builds, `return
  build_optimizer(self, self.cfg)`, with one group per name prefix of a config table, `for prefix, lr in
  cfg["lr_by_prefix"].items()`, when the table is a literal of constants every construction passes and nothing writes
  into it; also a module-level config handed to the helper, and a prefix test such as `n.startswith(prefix + ".")`;
  reported on the selection that leaves the part out); under manual optimization
  (`self.manual_backward(loss)`, then `opt_g.step()` in `training_step`, which the Trainer calls once per batch),
  a part the loss reaches that the optimizer stepped after it does not hold and no other optimizer stepped holds
  (`opt_g` built from `self.discriminator.parameters()` in `configure_optimizers`);
- a part a filtered parameter list leaves out, when no other group holds it: a name test
  (`[p for n, p in model.named_parameters() if n.startswith(("adapter.", "head."))]`) or a set difference
  (`[p for p in model.parameters() if id(p) not in base_ids]` with `base_ids = set(map(id, model.base.parameters())) |
  ...` naming more parts than the groups hold), or a loop that sorts named parameters into weight-decay lists with an
  `if` / `elif` and no `else` (a raw `nn.Parameter` such as a mask token is neither a 2-D `.weight` nor a `.bias`; a
  leading `if not p.requires_grad: continue` skips nothing when nothing in the file freezes a parameter); reported on
  the test, or where the part is put in the id set. Only
  when the model's parameter names can be told from its class (its parts built in `__init__`, nothing registered by
  name) and the test decides every one of a part's parameters; the optimizer may also be one given to the Hugging
  Face Trainer (`Trainer(..., optimizers=(opt, None))`), whose model may be a plain `nn.Module` (the Trainer runs its
  `forward` and backpropagates the loss it returns, as for a `PreTrainedModel`);
- a `copy.deepcopy` replica trained while the optimizer still holds the original's parameters, also when
  the model's own name is rebound to it (`model = copy.deepcopy(best_model)` to restore a checkpoint, with the
  optimizer built from the model that name held before); a helper that builds the new object and returns it
  (`model = load_checkpoint(model, blob)` whose body rebuilds `type(model)(**model.config)`) is reported where the
  caller rebinds the name;
- a part frozen when the optimizer was built from what required grad (`filter(lambda p: p.requires_grad,
  model.parameters())`, `[p for p in ... if p.requires_grad]`, also over `itertools.chain(unet.parameters(),
  text_encoder.parameters())` or in a helper called after the freeze) and unfrozen later (gradual unfreezing, also
  inside the training loop under a step test): the optimizer never got those parameters. With Lightning, a `Callback`
  that freezes in `setup` (which runs before `configure_optimizers`) and unfreezes in an epoch hook is the same bug. A helper that sets `requires_grad` to the flag its caller
  passes (`set_trainable(block, True)`) counts where it is called; with Lightning, a part frozen in
  `__init__` when `configure_optimizers` filters by `requires_grad` and unfrozen in a hook the Trainer runs
  later (`on_train_epoch_start`) is the same bug. The Hugging Face Trainer builds its optimizer when `train()`
  starts, from the parameters that require grad then: a part frozen before `trainer.train()` and unfrozen by one
  of its callbacks (`on_epoch_begin(..., model=None, **kwargs)`, or through the parts the callback's constructor kept of
the model it was given: `self.layers = list(model.encoder)`, frozen there and unfrozen one by one later) is not in it
either (frozen before `train()` by a loop,
  `requires_grad_(False)`, or a method of the model called from outside, `model.freeze_feature_encoder()`).

A trainer object (a plain class whose method runs the loop) is followed too: its optimizer built in `__init__` from a
constructor argument it also keeps (`self.model = model`, `self.optimizer = SGD(model.parameters())`) holds
`self.model` for its other methods, `self.optimizer.add_param_group(...)` adds to it, and a part the object builds itself
(`self.center_loss = CenterLoss(...)`, whose centres the loss reaches) is reported when no optimizer holds it.

Training-step functions count when their caller runs them in a loop (`for batch in loader:
train_step(model, opt_g, opt_d, batch)`); the optimizers of that caller are then in view too.

Parameters the program freezes (`requires_grad_(False)`), parts it holds in evaluation mode while training the rest
(`self.backbone.eval()` in a training hook or loop, a linear probe's backbone between a trained adapter and the
head, which must pass the adapter's gradient through), targets updated under `no_grad`, Modules that own no
parameter (a loss written as a Module that keeps only hyperparameters: `SupConLoss(temperature=0.1)`),
optimizers the model cannot see (built in another file, from an unknown helper) keep it quiet; so do the modules
a loss runs through when every optimizer stepped holds only tensors the program made (a latent code inverted
through a fixed generator, an image in style transfer): they are a fixed function, not a part being trained.

Also an optimizer whose every parameter group holds tensors taken from `model.state_dict()` (weight-decay groups built
from `state_dict().items()`): detached copies that never get a gradient, so `step()` changes nothing (the fix builds
them from `named_parameters()`).

## Why is this bad?
`backward()` fills `.grad` of every leaf that requires grad, but only `optimizer.step()` changes a
parameter, and only the parameters it was built with. The rest keep their initial values for the whole
run, silently.

## Example
```python
log_vars = torch.zeros(2, requires_grad=True)
optimizer = torch.optim.Adam(model.parameters())
loss = (torch.exp(-log_vars) * task_losses + log_vars).sum()
```

## Use instead
```python
optimizer = torch.optim.Adam([*model.parameters(), log_vars])
```

## Fix safety
The fix adds the missing parameters to the optimizer as a new parameter group
(`optimizer.add_param_group(...)`) with the optimizer's defaults (in `configure_optimizers`, as one more group in the hand-written list). It is unsafe: the learning rate and
weight decay of that group may not be what you want, and you may prefer to rebuild the optimizer. For a
part unfrozen after the optimizer was built, the group (only the parameters the optimizer does not hold yet) is
added right after the unfreezing (offered only where that code runs once: outside loops, or under an `if` in the
loop); where that is not possible (a Lightning hook), the fix builds the optimizer from all the parameters
instead of filtering by `requires_grad`: frozen parameters get no gradient and optimizers skip them until they
are unfrozen. A trained
replica (`copy.deepcopy`) gets no fix: build the optimizer from the replica instead.
"""
    examples = (
        Example(
            name="two-optimizers-over-the-same-parts-one-named-for-the-missing-one",
            code="""import torch
import torch.nn as nn


class Forecaster(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.encoder = nn.Linear(d, d)
        self.latent = nn.Linear(d, d)
        self.decoder = nn.Linear(d, 2)

    def forward(self, x):
        return self.decoder(torch.tanh(self.latent(self.encoder(x))))


def main():
    torch.manual_seed(0)
    model = Forecaster()
    opt_enc = torch.optim.Adam(list(model.decoder.parameters()) + list(model.latent.parameters()), lr=1e-2)
    opt_dec = torch.optim.Adam(list(model.decoder.parameters()) + list(model.latent.parameters()), lr=2e-2)
    enc0 = model.encoder.weight.detach().clone()
    for _ in range(3):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        opt_enc.zero_grad()
        opt_dec.zero_grad()
        loss.backward()
        opt_enc.step()
        opt_dec.step()
    return {"model": model}, {"encoder_changed": not torch.equal(enc0, model.encoder.weight)}
""",
            lines=(19,),
            expect={'grad_ok': ['model.encoder.weight'], 'facts': {'encoder_changed': False}},
            fixed_expect={'facts': {'encoder_changed': True}},
        ),
        Example(
            name="second-optimizer-built-over-the-first-ones-part",
            code="""import torch
import torch.nn as nn


class Forecaster(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.encoder = nn.Linear(d, d)
        self.latent = nn.Linear(d, d)
        self.decoder = nn.Linear(d, 2)

    def forward(self, x):
        return self.decoder(torch.tanh(self.latent(self.encoder(x))))


def main():
    torch.manual_seed(0)
    model = Forecaster()
    opt_enc = torch.optim.Adam(list(model.encoder.parameters()) + list(model.latent.parameters()), lr=1e-2)
    opt_dec = torch.optim.Adam(model.latent.parameters(), lr=2e-2)
    dec0 = model.decoder.weight.detach().clone()
    for _ in range(3):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        opt_enc.zero_grad()
        opt_dec.zero_grad()
        loss.backward()
        opt_enc.step()
        opt_dec.step()
    return {"model": model}, {"decoder_changed": not torch.equal(dec0, model.decoder.weight)}
""",
            lines=(20,),
            expect={'grad_ok': ['model.decoder.weight'], 'facts': {'decoder_changed': False}},
            fixed_expect={'facts': {'decoder_changed': True}},
        ),
        Example(
            bad=False,
            name="two-optimizers-over-distinct-parts",
            code="""import torch
import torch.nn as nn


class Forecaster(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.encoder = nn.Linear(d, d)
        self.latent = nn.Linear(d, d)
        self.decoder = nn.Linear(d, 2)

    def forward(self, x):
        return self.decoder(torch.tanh(self.latent(self.encoder(x))))


def main():
    torch.manual_seed(0)
    model = Forecaster()
    opt_enc = torch.optim.Adam(list(model.encoder.parameters()) + list(model.latent.parameters()), lr=1e-2)
    opt_dec = torch.optim.Adam(model.decoder.parameters(), lr=2e-2)
    dec0 = model.decoder.weight.detach().clone()
    for _ in range(3):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        opt_enc.zero_grad()
        opt_dec.zero_grad()
        loss.backward()
        opt_enc.step()
        opt_dec.step()
    return {"model": model}, {"decoder_changed": not torch.equal(dec0, model.decoder.weight)}
""",
            expect={'grad_ok': ['model.decoder.weight'], 'facts': {'decoder_changed': True}},
        ),
        Example(
            name="groups-by-prefixes-of-a-module-level-config-miss-the-head",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG = {"lr": 0.1, "groups": {"stem": 0.5, "body": 1.0}}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 8)
        self.body = nn.Linear(8, 8)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(torch.relu(self.body(torch.relu(self.stem(x)))))


def build_optimizer(model, cfg):
    groups = []
    for prefix, mult in cfg["groups"].items():
        params = [p for n, p in model.named_parameters() if n.startswith(prefix + ".")]
        groups.append({"params": params, "lr": cfg["lr"] * mult})
    return torch.optim.SGD(groups, lr=cfg["lr"])


def main():
    torch.manual_seed(0)
    model = Net()
    opt = build_optimizer(model, CONFIG)
    h0 = model.head.weight.detach().clone()
    for _ in range(2):
        loss = F.mse_loss(model(torch.randn(8, 4)), torch.randn(8, 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"head_changed": not torch.equal(h0, model.head.weight)}
""",
            lines=(22,),
            expect={'facts': {'head_changed': False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="groups-by-prefixes-of-a-module-level-config-naming-every-part",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG = {"lr": 0.1, "groups": {"stem": 0.5, "body": 1.0, "head": 1.0}}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 8)
        self.body = nn.Linear(8, 8)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(torch.relu(self.body(torch.relu(self.stem(x)))))


def build_optimizer(model, cfg):
    groups = []
    for prefix, mult in cfg["groups"].items():
        params = [p for n, p in model.named_parameters() if n.startswith(prefix + ".")]
        groups.append({"params": params, "lr": cfg["lr"] * mult})
    return torch.optim.SGD(groups, lr=cfg["lr"])


def main():
    torch.manual_seed(0)
    model = Net()
    opt = build_optimizer(model, CONFIG)
    h0 = model.head.weight.detach().clone()
    for _ in range(2):
        loss = F.mse_loss(model(torch.randn(8, 4)), torch.randn(8, 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"head_changed": not torch.equal(h0, model.head.weight)}
""",
            expect={'facts': {'head_changed': True}},
        ),
        Example(
            bad=False,
            name="lightning-groups-by-config-prefixes-a-helper-completes",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class ActorCritic(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.policy = nn.Linear(4, 3)
        self.v_head = nn.Linear(4, 1)
        self.cfg = cfg

    def training_step(self, batch, batch_idx):
        x, target = batch
        loss = F.cross_entropy(self.policy(x), target) + F.mse_loss(self.v_head(x).squeeze(-1), target.float())
        return loss

    def configure_optimizers(self):
        return build_optimizer(self, self.cfg)


def build_optimizer(model, cfg):
    groups = []
    for prefix, lr in cfg["lr_by_prefix"].items():
        params = [p for n, p in model.named_parameters() if n.startswith(prefix)]
        if params:
            groups.append({"params": params, "lr": lr})
    return torch.optim.SGD(groups, lr=0.1)


def tweak(c):
    c["lr_by_prefix"]["v_head."] = 0.1


def main():
    torch.manual_seed(0)
    cfg = {"lr_by_prefix": {"policy.": 0.1, "value_head.": 0.1}}
    tweak(cfg)
    model = ActorCritic(cfg)
    v0 = model.v_head.weight.detach().clone()
    data = DataLoader(TensorDataset(torch.randn(16, 4), torch.randint(0, 3, (16,))), batch_size=8)
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, data)
    return {"model": model}, {"v_head_changed": not torch.equal(v0, model.v_head.weight)}
""",
            expect={'facts': {'v_head_changed': True}},
        ),
        Example(
            name="lightning-groups-by-config-prefixes-miss-the-value-head",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class ActorCritic(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.policy = nn.Linear(4, 3)
        self.v_head = nn.Linear(4, 1)
        self.cfg = cfg

    def training_step(self, batch, batch_idx):
        x, target = batch
        loss = F.cross_entropy(self.policy(x), target) + F.mse_loss(self.v_head(x).squeeze(-1), target.float())
        return loss

    def configure_optimizers(self):
        return build_optimizer(self, self.cfg)


def build_optimizer(model, cfg):
    groups = []
    for prefix, lr in cfg["lr_by_prefix"].items():
        params = [p for n, p in model.named_parameters() if n.startswith(prefix)]
        if params:
            groups.append({"params": params, "lr": lr})
    return torch.optim.SGD(groups, lr=0.1)


def main():
    torch.manual_seed(0)
    cfg = {"lr_by_prefix": {"policy.": 0.1, "value_head.": 0.1}}
    model = ActorCritic(cfg)
    v0 = model.v_head.weight.detach().clone()
    data = DataLoader(TensorDataset(torch.randn(16, 4), torch.randint(0, 3, (16,))), batch_size=8)
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, data)
    return {"model": model}, {"v_head_changed": not torch.equal(v0, model.v_head.weight)}
""",
            lines=(27,),
            expect={'facts': {'v_head_changed': False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="lightning-groups-by-config-prefixes-naming-every-part",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class ActorCritic(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.policy = nn.Linear(4, 3)
        self.v_head = nn.Linear(4, 1)
        self.cfg = cfg

    def training_step(self, batch, batch_idx):
        x, target = batch
        loss = F.cross_entropy(self.policy(x), target) + F.mse_loss(self.v_head(x).squeeze(-1), target.float())
        return loss

    def configure_optimizers(self):
        return build_optimizer(self, self.cfg)


def build_optimizer(model, cfg):
    groups = []
    for prefix, lr in cfg["lr_by_prefix"].items():
        params = [p for n, p in model.named_parameters() if n.startswith(prefix)]
        if params:
            groups.append({"params": params, "lr": lr})
    return torch.optim.SGD(groups, lr=0.1)


def main():
    torch.manual_seed(0)
    cfg = {"lr_by_prefix": {"policy.": 0.1, "v_head.": 0.1}}
    model = ActorCritic(cfg)
    v0 = model.v_head.weight.detach().clone()
    data = DataLoader(TensorDataset(torch.randn(16, 4), torch.randint(0, 3, (16,))), batch_size=8)
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, data)
    return {"model": model}, {"v_head_changed": not torch.equal(v0, model.v_head.weight)}
""",
            expect={'facts': {'v_head_changed': True}},
        ),
        Example(
            bad=False,
            name="lightning-groups-by-config-prefixes-completed-before-the-model-is-built",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class ActorCritic(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.policy = nn.Linear(4, 3)
        self.v_head = nn.Linear(4, 1)
        self.cfg = cfg

    def training_step(self, batch, batch_idx):
        x, target = batch
        loss = F.cross_entropy(self.policy(x), target) + F.mse_loss(self.v_head(x).squeeze(-1), target.float())
        return loss

    def configure_optimizers(self):
        return build_optimizer(self, self.cfg)


def build_optimizer(model, cfg):
    groups = []
    for prefix, lr in cfg["lr_by_prefix"].items():
        params = [p for n, p in model.named_parameters() if n.startswith(prefix)]
        if params:
            groups.append({"params": params, "lr": lr})
    return torch.optim.SGD(groups, lr=0.1)


def main():
    torch.manual_seed(0)
    cfg = {"lr_by_prefix": {"policy.": 0.1, "value_head.": 0.1}}
    cfg["lr_by_prefix"]["v_head."] = 0.1
    model = ActorCritic(cfg)
    v0 = model.v_head.weight.detach().clone()
    data = DataLoader(TensorDataset(torch.randn(16, 4), torch.randint(0, 3, (16,))), batch_size=8)
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, data)
    return {"model": model}, {"v_head_changed": not torch.equal(v0, model.v_head.weight)}
""",
            expect={'facts': {'v_head_changed': True}},
        ),
        Example(
            bad=False,
            name="parts-given-to-the-model-constructor-run-by-their-own-names",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Autoencoder(nn.Module):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, x):
        return self.decoder(self.encoder(x))


def main():
    torch.manual_seed(0)
    encoder, decoder = nn.Linear(6, 2), nn.Linear(2, 6)
    model = Autoencoder(encoder, decoder)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        x = torch.randn(8, 6)
        z = encoder(x)
        loss = F.mse_loss(decoder(z), x) + 1e-3 * z.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.encoder.weight", "model.decoder.weight"]},
        ),
        Example(
            name="grouping-loop-skips-frozen-and-has-no-else-so-a-raw-parameter-is-in-no-group",
            code="""import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, x):
        return x + self.mlp(self.norm(x))


class Encoder(nn.Module):
    def __init__(self, d=8, n=4):
        super().__init__()
        self.embed = nn.Linear(3, d)
        self.pos = nn.Parameter(0.02 * torch.randn(1, n, d))
        self.blocks = nn.ModuleList([Block(d), Block(d)])
        self.head = nn.Linear(d, 1)

    def forward(self, x):
        h = self.embed(x) + self.pos
        for blk in self.blocks:
            h = blk(h)
        return self.head(h).mean()


def build_optimizer(model, weight_decay=0.05):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name.endswith(".weight") and p.ndim >= 2:
            decay.append(p)
        elif name.endswith(".bias") or "norm" in name:
            no_decay.append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=1e-2)


def main():
    torch.manual_seed(0)
    model = Encoder()
    opt = build_optimizer(model)
    before = model.pos.detach().clone()
    for _ in range(2):
        loss = (model(torch.randn(2, 4, 3)) - 1.0) ** 2
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"pos_changed": not torch.equal(before, model.pos)}
""",
            lines=(37,),
            expect={"facts": {"pos_changed": False}, "grad_ok": ["model.pos", "model.blocks.0.mlp.0.weight"]},
            fixable=False,
        ),
        Example(
            name="grouping-loop-skips-frozen-and-sends-the-rest-to-no-decay",
            code="""import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, x):
        return x + self.mlp(self.norm(x))


class Encoder(nn.Module):
    def __init__(self, d=8, n=4):
        super().__init__()
        self.embed = nn.Linear(3, d)
        self.pos = nn.Parameter(0.02 * torch.randn(1, n, d))
        self.blocks = nn.ModuleList([Block(d), Block(d)])
        self.head = nn.Linear(d, 1)

    def forward(self, x):
        h = self.embed(x) + self.pos
        for blk in self.blocks:
            h = blk(h)
        return self.head(h).mean()


def build_optimizer(model, weight_decay=0.05):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name.endswith(".weight") and p.ndim >= 2:
            decay.append(p)
        elif name.endswith(".bias") or "norm" in name:
            no_decay.append(p)
        else:
            no_decay.append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=1e-2)


def main():
    torch.manual_seed(0)
    model = Encoder()
    opt = build_optimizer(model)
    before = model.pos.detach().clone()
    for _ in range(2):
        loss = (model(torch.randn(2, 4, 3)) - 1.0) ** 2
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"pos_changed": not torch.equal(before, model.pos)}
""",
            bad=False,
            expect={"facts": {"pos_changed": True}, "grad_ok": ["model.pos", "model.blocks.0.mlp.0.weight"]},
        ),
        Example(
            name="plain-module-given-to-the-hf-trainer-with-an-optimizer-over-its-backbone",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import Trainer, TrainingArguments, get_constant_schedule
from transformers.modeling_outputs import CausalLMOutput


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.out = nn.Linear(8, 20)


class LatentLM(nn.Module):
    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone
        self.to_latent = nn.Linear(8, 8)

    def forward(self, input_ids, labels=None):
        h = torch.tanh(self.to_latent(self.backbone.embed(input_ids)))
        logits = self.backbone.out(h)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, 20), input_ids[:, 1:].reshape(-1))
        return CausalLMOutput(loss=loss, logits=logits)


def main():
    torch.manual_seed(0)
    model = LatentLM(Backbone())
    optimizer = torch.optim.AdamW(model.backbone.parameters(), lr=1e-2)
    w0 = model.to_latent.weight.detach().clone()
    data = [{"input_ids": torch.randint(0, 20, (5,))} for _ in range(16)]
    args = TrainingArguments(output_dir="/tmp/gg_latent_lm", per_device_train_batch_size=8, num_train_epochs=1, report_to="none")
    Trainer(model=model, args=args, train_dataset=data, optimizers=(optimizer, get_constant_schedule(optimizer))).train()
    return {"model": model}, {"latent_trained": not torch.equal(w0, model.to_latent.weight)}
""",
            lines=(31,),
            fixable=False,
            expect={"facts": {"latent_trained": False}},
        ),
        Example(
            bad=False,
            name="plain-module-given-to-the-hf-trainer-with-an-optimizer-over-all-of-it",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import Trainer, TrainingArguments, get_constant_schedule
from transformers.modeling_outputs import CausalLMOutput


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.out = nn.Linear(8, 20)


class LatentLM(nn.Module):
    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone
        self.to_latent = nn.Linear(8, 8)

    def forward(self, input_ids, labels=None):
        h = torch.tanh(self.to_latent(self.backbone.embed(input_ids)))
        logits = self.backbone.out(h)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, 20), input_ids[:, 1:].reshape(-1))
        return CausalLMOutput(loss=loss, logits=logits)


def main():
    torch.manual_seed(0)
    model = LatentLM(Backbone())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    w0 = model.to_latent.weight.detach().clone()
    data = [{"input_ids": torch.randint(0, 20, (5,))} for _ in range(16)]
    args = TrainingArguments(output_dir="/tmp/gg_latent_lm", per_device_train_batch_size=8, num_train_epochs=1, report_to="none")
    Trainer(model=model, args=args, train_dataset=data, optimizers=(optimizer, get_constant_schedule(optimizer))).train()
    return {"model": model}, {"latent_trained": not torch.equal(w0, model.to_latent.weight)}
""",
            expect={"facts": {"latent_trained": True}},
        ),
        Example(
            name="optimizer-helper-handed-one-of-two-towers",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def build_optimizer(model, lr=1e-2):
    decay = [p for n, p in model.named_parameters() if not n.endswith("bias")]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias")]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 1e-4}, {"params": no_decay, "weight_decay": 0.0}], lr=lr)


def main():
    torch.manual_seed(0)
    query_tower = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4))
    doc_tower = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 4))
    optimizer = build_optimizer(query_tower)
    before = doc_tower[0].weight.detach().clone()
    for _ in range(3):
        q, d = F.normalize(query_tower(torch.randn(4, 6)), dim=-1), F.normalize(doc_tower(torch.randn(4, 5)), dim=-1)
        loss = F.cross_entropy(q @ d.T / 0.1, torch.arange(4))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"doc_tower": doc_tower}, {"doc_tower_changed": not torch.equal(before, doc_tower[0].weight.detach())}
""",
            lines=(16,),
            expect={"grad_ok": ["doc_tower.0.weight"], "facts": {"doc_tower_changed": False}},
        ),
        Example(
            name="rollback-helper-rebuilds-the-model-inside-the-training-loop",
            code="""import torch
import torch.nn as nn


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, x):
        return self.fc(x)


def restore(state):
    model = Regressor()
    model.load_state_dict(state)
    return model


def fit(model, optimizer, epochs=3):
    best = {k: v.clone() for k, v in model.state_dict().items()}
    for epoch in range(epochs):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if epoch == 0:
            model = restore(best)
    return model


def main():
    torch.manual_seed(0)
    model = Regressor()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    final = fit(model, optimizer)
    before = final.fc.weight.detach().clone()
    loss = final(torch.randn(8, 4)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"final": final}, {"final_changed": not torch.equal(before, final.fc.weight.detach())}
""",
            lines=(28,),
            fixable=False,
            expect={"facts": {"final_changed": False}},
        ),
        Example(
            bad=False,
            name="lightning-manual-gan-with-an-r1-penalty-helper",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl


def r1_penalty(discriminator, real):
    real = real.detach().requires_grad_(True)
    (grad_real,) = torch.autograd.grad(discriminator(real).sum(), real, create_graph=True)
    return grad_real.pow(2).sum(dim=1).mean()


class GAN(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.G = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        self.D = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        (real,) = batch
        g_opt, d_opt = self.optimizers()
        fake = self.G(torch.randn(real.shape[0], 4))
        d_loss = F.softplus(self.D(fake.detach())).mean() + F.softplus(-self.D(real)).mean() + r1_penalty(self.D, real)
        d_opt.zero_grad()
        self.manual_backward(d_loss)
        d_opt.step()
        g_loss = F.softplus(-self.D(fake)).mean()
        g_opt.zero_grad()
        self.manual_backward(g_loss)
        g_opt.step()

    def configure_optimizers(self):
        return [torch.optim.Adam(self.G.parameters(), lr=1e-3), torch.optim.Adam(self.D.parameters(), lr=1e-3)]


def main():
    torch.manual_seed(0)
    gan = GAN()
    pl.Trainer(max_epochs=1).fit(gan, [(torch.randn(8, 2),) for _ in range(3)])
    gan.zero_grad()
    r1_penalty(gan.D, torch.randn(8, 2)).backward()
    return {"D": gan.D}
""",
            expect={"grad_ok": ["D.0.weight"]},
        ),
        Example(
            name="resume-branch-rebuilds-the-model-after-the-optimizer",
            code="""import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, x):
        return self.fc(x)


def build():
    return Net()


def main():
    torch.manual_seed(0)
    checkpoint = build().state_dict()
    resume = len(sys.argv) < 100
    model = build()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    if resume:
        model = build()
        model.load_state_dict(checkpoint)
    w0 = model.fc.weight.detach().clone()
    for _ in range(2):
        opt.zero_grad()
        F.mse_loss(model(torch.randn(8, 4)), torch.randn(8, 1)).backward()
        opt.step()
    return {"model": model}, {"model_changed": not torch.equal(w0, model.fc.weight)}
""",
            lines=(28,),
            fixable=False,
            expect={"grad_ok": ["model.fc.weight"], "facts": {"model_changed": False}},
        ),
        Example(
            bad=False,
            name="resume-branch-rebuilds-the-model-before-the-optimizer",
            code="""import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, x):
        return self.fc(x)


def build():
    return Net()


def main():
    torch.manual_seed(0)
    checkpoint = build().state_dict()
    resume = len(sys.argv) < 100
    model = build()
    if resume:
        model = build()
        model.load_state_dict(checkpoint)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    w0 = model.fc.weight.detach().clone()
    for _ in range(2):
        opt.zero_grad()
        F.mse_loss(model(torch.randn(8, 4)), torch.randn(8, 1)).backward()
        opt.step()
    return {"model": model}, {"model_changed": not torch.equal(w0, model.fc.weight)}
""",
            expect={"grad_ok": ["model.fc.weight"], "facts": {"model_changed": True}},
        ),
        Example(
            name="optimizer-built-on-the-averaged-copy",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    swa_model = AveragedModel(model)
    optimizer = torch.optim.SGD(swa_model.parameters(), lr=0.1)
    w0 = model.weight.detach().clone()
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 3, (8,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        swa_model.update_parameters(model)
    return {"model": model}, {"model_changed": not torch.equal(w0, model.weight.detach())}
""",
            lines=(9,),
            fixable=False,  # the optimizer must be built from model.parameters(): a change on another line
            expect={"grad_ok": ["model.weight"], "facts": {"model_changed": False}},
        ),
        Example(
            bad=False,
            name="probe-backbone-held-in-eval-mode-between-a-trained-adapter-and-the-head",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Probe(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.adapter = nn.Linear(6, 4)
        self.backbone = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.1), nn.GELU())
        self.head = nn.Linear(8, 3)

    def on_train_epoch_start(self):
        self.backbone.eval()

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.head(self.backbone(self.adapter(x))), y)

    def configure_optimizers(self):
        return torch.optim.SGD([*self.adapter.parameters(), *self.head.parameters()], lr=0.1)


def main():
    torch.manual_seed(0)
    model = Probe()
    loader = DataLoader(TensorDataset(torch.randn(16, 6), torch.randint(0, 3, (16,))), batch_size=8)
    before = model.backbone[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"backbone_fixed": torch.equal(before, model.backbone[0].weight)}
""",
            expect={"grad_ok": ["model.adapter.weight", "model.head.weight"], "facts": {"backbone_fixed": True}},
        ),
        Example(
            bad=False,
            name="latent-code-optimized-through-a-fixed-generator",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Generator(nn.Module):
    def __init__(self, size=8):
        super().__init__()
        self.style = nn.Linear(4, 4)
        self.to_img = nn.Linear(4 * 2, size)

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
    latent_in = latent_in.unsqueeze(1).repeat(1, 2, 1)
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
            name="optimizer-on-the-model-average-kept-beside",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    swa_model = AveragedModel(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    w0 = model.weight.detach().clone()
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 3, (8,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        swa_model.update_parameters(model)
    return {"model": model}, {"model_changed": not torch.equal(w0, model.weight.detach())}
""",
            expect={"grad_ok": ["model.weight"], "facts": {"model_changed": True}},
        ),
        Example(
            bad=False,
            name="tuner-object-freezes-the-model-it-keeps-and-trains-a-prompt",
            code="""import torch
import torch.nn as nn


class PromptTuner:
    def __init__(self, model, lr=0.1):
        for p in model.parameters():
            p.requires_grad_(False)
        self.model = model
        self.prompt = torch.zeros(1, 4, requires_grad=True)
        self.opt = torch.optim.SGD([self.prompt], lr=lr)

    def step(self, x):
        loss = self.model(x + self.prompt).pow(2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    tuner = PromptTuner(model)
    for _ in range(3):
        tuner.step(torch.randn(8, 4))
    return {"model": model, "prompt": tuner.prompt}
""",
            expect={"grad_ok": ["prompt"], "grad_none": ["model.weight"]},
        ),
        Example(
            bad=False,
            name="helper-freezes-the-embedding-weight-and-returns-the-rest",
            code="""import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, tokens):
        return self.head(self.embed(tokens).mean(1))


def trainable_parameters(model):
    model.embed.weight.requires_grad_(False)
    return list(model.head.parameters())


def main():
    torch.manual_seed(0)
    model = Tagger()
    opt = torch.optim.AdamW(trainable_parameters(model), lr=1e-2)
    for _ in range(2):
        opt.zero_grad()
        model(torch.randint(0, 20, (4, 5))).pow(2).mean().backward()
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.head.weight"], "grad_none": ["model.embed.weight"]},
        ),
        Example(
            name="log-variances-outside-the-optimizer",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    log_vars = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = log_vars.detach().clone()
    for _ in range(3):
        out = model(torch.randn(8, 4))
        task_losses = (out - 1.0).pow(2).mean(0)
        loss = (torch.exp(-log_vars) * task_losses + log_vars).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"log_vars_changed": not torch.equal(before, log_vars.detach())}
""",
            lines=(9,),
            expect={"facts": {"log_vars_changed": False}},
            fixed_expect={"facts": {"log_vars_changed": True}},
        ),
        Example(
            name="loss-module-with-a-learned-temperature-outside-the-optimizer",
            code="""import torch
import torch.nn as nn


class ContrastiveLoss(nn.Module):
    def __init__(self, temperature=0.07):
        super().__init__()
        self.log_temperature = nn.Parameter(torch.tensor(temperature).log())
        self.act = nn.Identity()

    def forward(self, a, b):
        logits = self.act(a) @ b.t() / self.log_temperature.exp()
        return nn.functional.cross_entropy(logits, torch.arange(a.shape[0]))


def train(batches, model, criterion, optimizer):
    for x in batches:
        loss = criterion(model(x), model(x + 0.1 * torch.randn(8, 4)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def build(temperature):
    model = nn.Linear(4, 4)
    criterion = ContrastiveLoss(temperature=temperature)
    return model, criterion


def main():
    torch.manual_seed(0)
    model, criterion = build(0.1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = criterion.log_temperature.detach().clone()
    train([torch.randn(8, 4) for _ in range(3)], model, criterion, optimizer)
    return {"model": model}, {"temperature_changed": not torch.equal(before, criterion.log_temperature.detach())}
""",
            lines=(33,),
            expect={"facts": {"temperature_changed": False}},
            fixed_expect={"facts": {"temperature_changed": True}},
        ),
        Example(
            name="data-parallel-model-whose-optimizer-holds-only-its-body",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Body(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)

    def forward(self, tokens):
        return self.embed(tokens).mean(1)


class TiedHead(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.decoder = nn.Linear(8, 20, bias=False)
        self.decoder.weight = body.embed.weight

    def forward(self, h):
        return self.decoder(h)


class DoubleHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = Body()
        self.lm_head = TiedHead(self.body)
        self.clf_head = nn.Linear(8, 2)

    def forward(self, tokens):
        h = self.body(tokens)
        return self.lm_head(h), self.clf_head(h)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(DoubleHead())
    optimizer = torch.optim.Adam(model.module.body.parameters(), lr=1e-2)
    before = model.module.clf_head.weight.detach().clone()
    for _ in range(3):
        tokens = torch.randint(0, 20, (4, 5))
        lm_logits, clf_logits = model(tokens)
        loss = F.cross_entropy(clf_logits, tokens[:, 0] % 2) + F.cross_entropy(lm_logits, tokens[:, 1])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model.module}, {"clf_head_changed": not torch.equal(before, model.module.clf_head.weight)}
""",
            lines=(40,),
            expect={"facts": {"clf_head_changed": False}},
            fixed_expect={"facts": {"clf_head_changed": True}},
        ),
        Example(
            name="trainer-object-builds-a-center-loss-its-optimizer-leaves-out",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class CenterLoss(nn.Module):
    def __init__(self, num_classes=4, feat_dim=2):
        super().__init__()
        self.centers = nn.Parameter(torch.randn(num_classes, feat_dim))

    def forward(self, feats, labels):
        return (feats - self.centers[labels]).pow(2).sum(-1).mean()


class CenterLossTrainer:
    def __init__(self, model, lr=0.05):
        self.model = model
        self.center_loss = CenterLoss()
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def train_epoch(self, batches):
        for x, y in batches:
            feats = self.model(x)
            loss = F.cross_entropy(feats @ torch.ones(2, 4), y) + 0.5 * self.center_loss(feats, y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()


def main():
    torch.manual_seed(0)
    trainer = CenterLossTrainer(nn.Linear(6, 2))
    before = trainer.center_loss.centers.detach().clone()
    trainer.train_epoch([(torch.randn(8, 6), torch.randint(0, 4, (8,))) for _ in range(3)])
    return {"model": trainer.model}, {"centers_changed": not torch.equal(before, trainer.center_loss.centers.detach())}
""",
            lines=(19,),
            expect={"facts": {"centers_changed": False}},
            fixed_expect={"facts": {"centers_changed": True}},
        ),
        Example(
            bad=False,
            name="trainer-object-gives-its-optimizer-the-center-loss-too",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class CenterLoss(nn.Module):
    def __init__(self, num_classes=4, feat_dim=2):
        super().__init__()
        self.centers = nn.Parameter(torch.randn(num_classes, feat_dim))

    def forward(self, feats, labels):
        return (feats - self.centers[labels]).pow(2).sum(-1).mean()


class CenterLossTrainer:
    def __init__(self, model, lr=0.05):
        self.model = model
        self.center_loss = CenterLoss()
        self.optimizer = torch.optim.SGD(list(model.parameters()) + list(self.center_loss.parameters()), lr=lr)

    def train_epoch(self, batches):
        for x, y in batches:
            feats = self.model(x)
            loss = F.cross_entropy(feats @ torch.ones(2, 4), y) + 0.5 * self.center_loss(feats, y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()


def main():
    torch.manual_seed(0)
    trainer = CenterLossTrainer(nn.Linear(6, 2))
    before = trainer.center_loss.centers.detach().clone()
    trainer.train_epoch([(torch.randn(8, 6), torch.randint(0, 4, (8,))) for _ in range(3)])
    return {"model": trainer.model}, {"centers_changed": not torch.equal(before, trainer.center_loss.centers.detach())}
""",
            expect={"facts": {"centers_changed": True}, "grad_ok": ["model.weight"]},
        ),
        Example(
            bad=False,
            name="loss-module-with-hyperparameters-only",
            code="""import torch
import torch.nn as nn


class ContrastiveLoss(nn.Module):
    def __init__(self, temperature=0.07):
        super().__init__()
        self.temperature = temperature
        self.act = nn.Identity()

    def forward(self, a, b):
        logits = self.act(a) @ b.t() / self.temperature
        return nn.functional.cross_entropy(logits, torch.arange(a.shape[0]))


def train(batches, model, criterion, optimizer):
    for x in batches:
        loss = criterion(model(x), model(x + 0.1 * torch.randn(8, 4)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def build(temperature):
    model = nn.Linear(4, 4)
    criterion = ContrastiveLoss(temperature=temperature)
    return model, criterion


def main():
    torch.manual_seed(0)
    model, criterion = build(0.1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train([torch.randn(8, 4) for _ in range(3)], model, criterion, optimizer)
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight"]},
        ),
        Example(
            name="param-groups-skip-a-submodule",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.neck = nn.Linear(8, 8)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(torch.relu(self.neck(torch.relu(self.body(x)))))


def main():
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.SGD([{"params": model.body.parameters(), "lr": 0.01}, {"params": model.head.parameters()}], lr=0.1)
    before = model.neck.weight.detach().clone()
    for _ in range(3):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"neck_changed": not torch.equal(before, model.neck.weight.detach())}
""",
            lines=(19,),
            expect={"facts": {"neck_changed": False}},
            fixed_expect={"facts": {"neck_changed": True}},
        ),
        Example(
            name="replica-trained-with-the-original-optimizer",
            code="""import copy

import torch
import torch.nn as nn


def fit(model, optimizer, steps=3):
    net = copy.deepcopy(model)
    for _ in range(steps):
        loss = net(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return net


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.weight.detach().clone()
    trained = fit(model, optimizer)
    return {"model": model, "trained": trained}, {"replica_changed": not torch.equal(before, trained.weight.detach())}
""",
            lines=(8,),
            fixable=False,
            expect={"facts": {"replica_changed": False}},
        ),
        Example(
            name="best-model-restored-by-deepcopy-keeps-the-old-optimizer",
            code="""import copy

import torch
import torch.nn as nn


def fit(model, optimizer, steps=2):
    for _ in range(steps):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    best = None
    for epoch in range(2):
        fit(model, optimizer)
        if epoch == 0:
            best = copy.deepcopy(model)
    model = copy.deepcopy(best)
    before = model.weight.detach().clone()
    fit(model, optimizer)
    return {"model": model}, {"restored_changed": not torch.equal(before, model.weight.detach())}
""",
            lines=(24,),
            fixable=False,
            expect={"facts": {"restored_changed": False}},
        ),
        Example(
            bad=False,
            name="best-model-restored-in-place",
            code="""import copy

import torch
import torch.nn as nn


def fit(model, optimizer, steps=2):
    for _ in range(steps):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    best = None
    for epoch in range(2):
        fit(model, optimizer)
        if epoch == 0:
            best = copy.deepcopy(model)
    model.load_state_dict(best.state_dict())
    before = model.weight.detach().clone()
    fit(model, optimizer)
    return {"model": model}, {"restored_changed": not torch.equal(before, model.weight.detach())}
""",
            expect={"facts": {"restored_changed": True}},
        ),
        Example(
            bad=False,
            name="best-model-restored-by-deepcopy-with-a-new-optimizer",
            code="""import copy

import torch
import torch.nn as nn


def fit(model, optimizer, steps=2):
    for _ in range(steps):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    best = None
    for epoch in range(2):
        fit(model, optimizer)
        if epoch == 0:
            best = copy.deepcopy(model)
    model = copy.deepcopy(best)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    before = model.weight.detach().clone()
    fit(model, optimizer)
    return {"model": model}, {"restored_changed": not torch.equal(before, model.weight.detach())}
""",
            expect={"facts": {"restored_changed": True}},
        ),
        Example(
            name="checkpoint-helper-rebuilds-the-model-after-the-optimizer",
            code="""import io

import torch
import torch.nn as nn


class Scorer(nn.Module):
    def __init__(self, dim=4, hidden=8):
        super().__init__()
        self.config = {"dim": dim, "hidden": hidden}
        self.body = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.body(x).squeeze(-1)


def load_checkpoint(model, blob):
    restored = type(model)(**model.config)
    restored.load_state_dict(torch.load(io.BytesIO(blob)))
    return restored


def fit(model, optimizer, steps=3):
    for _ in range(steps):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    buf = io.BytesIO()
    torch.save(Scorer().state_dict(), buf)
    model = Scorer()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model = load_checkpoint(model, buf.getvalue())
    before = model.body[0].weight.detach().clone()
    fit(model, optimizer)
    return {"model": model}, {"resumed_changed": not torch.equal(before, model.body[0].weight.detach())}
""",
            lines=(37,),
            fixable=False,
            expect={"facts": {"resumed_changed": False}},
        ),
        Example(
            bad=False,
            name="checkpoint-helper-restores-into-the-same-model",
            code="""import io

import torch
import torch.nn as nn


class Scorer(nn.Module):
    def __init__(self, dim=4, hidden=8):
        super().__init__()
        self.config = {"dim": dim, "hidden": hidden}
        self.body = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.body(x).squeeze(-1)


def load_checkpoint(model, blob):
    model.load_state_dict(torch.load(io.BytesIO(blob)))
    return model


def fit(model, optimizer, steps=3):
    for _ in range(steps):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    buf = io.BytesIO()
    torch.save(Scorer().state_dict(), buf)
    model = Scorer()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model = load_checkpoint(model, buf.getvalue())
    before = model.body[0].weight.detach().clone()
    fit(model, optimizer)
    return {"model": model}, {"resumed_changed": not torch.equal(before, model.body[0].weight.detach())}
""",
            expect={"facts": {"resumed_changed": True}},
        ),
        Example(
            name="in-file-backbone-class-unfrozen-after-the-optimizer-was-built-from-what-required-grad",
            code="""import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(8, 16)
        self.block = nn.Sequential(nn.Linear(16, 16), nn.ReLU())

    def forward(self, x):
        return self.block(self.embed(x))


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Encoder()
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.backbone(x))


def set_trainable(module, flag):
    for p in module.parameters():
        p.requires_grad = flag


def main():
    torch.manual_seed(0)
    model = Classifier()
    set_trainable(model.backbone, False)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    before = model.backbone.embed.weight.detach().clone()
    for epoch in range(4):
        if epoch == 2:
            set_trainable(model.backbone, True)
        x, y = torch.randn(8, 8), torch.randint(0, 3, (8,))
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"backbone_changed": not torch.equal(before, model.backbone.embed.weight.detach())}
""",
            lines=(38,),
            expect={"facts": {"backbone_changed": False}},
            fixed_expect={"facts": {"backbone_changed": True}},
        ),
        Example(
            bad=False,
            name="in-file-backbone-class-unfrozen-optimizer-built-from-every-parameter",
            code="""import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(8, 16)
        self.block = nn.Sequential(nn.Linear(16, 16), nn.ReLU())

    def forward(self, x):
        return self.block(self.embed(x))


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Encoder()
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.backbone(x))


def set_trainable(module, flag):
    for p in module.parameters():
        p.requires_grad = flag


def main():
    torch.manual_seed(0)
    model = Classifier()
    set_trainable(model.backbone, False)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.backbone.embed.weight.detach().clone()
    for epoch in range(4):
        if epoch == 2:
            set_trainable(model.backbone, True)
        x, y = torch.randn(8, 8), torch.randint(0, 3, (8,))
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"backbone_changed": not torch.equal(before, model.backbone.embed.weight.detach())}
""",
            expect={"facts": {"backbone_changed": True}},
        ),
        Example(
            name="unfrozen-after-the-optimizer-was-built-from-what-required-grad",
            code="""import torch
import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.backbone(x))


def main():
    torch.manual_seed(0)
    model = Classifier()
    for p in model.backbone.parameters():
        p.requires_grad = False
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)
    before = model.backbone[0].weight.detach().clone()
    for epoch in range(4):
        if epoch == 2:
            for p in model.backbone.parameters():
                p.requires_grad = True
        x, y = torch.randn(8, 8), torch.randint(0, 3, (8,))
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"backbone_changed": not torch.equal(before, model.backbone[0].weight.detach())}
""",
            lines=(24,),
            expect={"facts": {"backbone_changed": False}},
            fixed_expect={"facts": {"backbone_changed": True}},
        ),
        Example(
            name="helper-unfreezes-after-the-optimizer-was-built-from-what-required-grad",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.low, self.mid, self.head = nn.Linear(4, 8), nn.Linear(8, 8), nn.Linear(8, 1)

    def forward(self, x):
        return self.head(torch.relu(self.mid(torch.relu(self.low(x)))))


def set_trainable(module, flag):
    for p in module.parameters():
        p.requires_grad = flag


def run_epoch(model, optimizer):
    for _ in range(2):
        optimizer.zero_grad()
        model(torch.randn(8, 4)).pow(2).mean().backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = Net()
    set_trainable(model, False)
    set_trainable(model.head, True)
    optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=0.01)
    before = model.mid.weight.detach().clone()
    for epoch in range(3):
        if epoch == 1:
            set_trainable(model.mid, True)
        run_epoch(model, optimizer)
    return {"model": model}, {"middle_changed": not torch.equal(before, model.mid.weight.detach())}
""",
            lines=(35,),
            expect={"facts": {"middle_changed": False}},
            fixed_expect={"facts": {"middle_changed": True}},
        ),
        Example(
            bad=False,
            name="helper-unfreezes-an-optimizer-built-from-every-parameter",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.low, self.mid, self.head = nn.Linear(4, 8), nn.Linear(8, 8), nn.Linear(8, 1)

    def forward(self, x):
        return self.head(torch.relu(self.mid(torch.relu(self.low(x)))))


def set_trainable(module, flag):
    for p in module.parameters():
        p.requires_grad = flag


def run_epoch(model, optimizer):
    for _ in range(2):
        optimizer.zero_grad()
        model(torch.randn(8, 4)).pow(2).mean().backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = Net()
    set_trainable(model, False)
    set_trainable(model.head, True)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    before = model.mid.weight.detach().clone()
    for epoch in range(3):
        if epoch == 1:
            set_trainable(model.mid, True)
        run_epoch(model, optimizer)
    return {"model": model}, {"middle_changed": not torch.equal(before, model.mid.weight.detach())}
""",
            expect={"facts": {"middle_changed": True}},
        ),
        Example(
            bad=False,
            name="unfrozen-and-added-to-the-optimizer",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    backbone, head = nn.Linear(8, 16), nn.Linear(16, 3)
    backbone.requires_grad_(False)
    params = [p for p in [*backbone.parameters(), *head.parameters()] if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.1)
    full = torch.optim.SGD([*backbone.parameters(), *head.parameters()], lr=0.1)
    before = backbone.weight.detach().clone()
    for epoch in range(4):
        if epoch == 2:
            backbone.requires_grad_(True)
            optimizer.add_param_group({"params": backbone.parameters()})
        x, y = torch.randn(8, 8), torch.randint(0, 3, (8,))
        loss = nn.functional.cross_entropy(head(torch.relu(backbone(x))), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"head": head}, {"backbone_changed": not torch.equal(before, backbone.weight.detach())}
""",
            expect={"grad_ok": ["head.weight"], "facts": {"backbone_changed": True}},
        ),
        Example(
            name="step-function-misses-a-list-of-discriminators",
            code="""import torch
import torch.nn as nn


class SubDisc(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.1), nn.Linear(8, 1))

    def forward(self, x):
        return self.convs(x)


class GAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.generator = nn.Linear(4, 4)
        self.multi = nn.ModuleList(SubDisc() for _ in range(2))
        self.single = SubDisc()

    def discriminate(self, x):
        return [d(x) for d in self.multi] + [self.single(x)]


def train_step(model, opt_g, opt_d, z, real):
    fake = model.generator(z)
    d_loss = sum((r - 1).pow(2).mean() + f.pow(2).mean() for r, f in zip(model.discriminate(real), model.discriminate(fake.detach())))
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    g_loss = sum((f - 1).pow(2).mean() for f in model.discriminate(fake))
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()


def main():
    torch.manual_seed(0)
    model = GAN()
    opt_g = torch.optim.SGD(model.generator.parameters(), lr=0.1)
    opt_d = torch.optim.SGD(model.single.parameters(), lr=0.1)
    before = model.multi[0].convs[0].weight.detach().clone()
    for _ in range(3):
        train_step(model, opt_g, opt_d, torch.randn(8, 4), torch.randn(8, 4))
    return {"model": model}, {"multi_changed": not torch.equal(before, model.multi[0].convs[0].weight.detach())}
""",
            lines=(41,),
            fixable=False,
            expect={"facts": {"multi_changed": False}},
        ),
        Example(
            bad=False,
            name="step-function-holds-every-discriminator",
            code="""import torch
import torch.nn as nn


class SubDisc(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.1), nn.Linear(8, 1))

    def forward(self, x):
        return self.convs(x)


class GAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.generator = nn.Linear(4, 4)
        self.multi = nn.ModuleList(SubDisc() for _ in range(2))
        self.single = SubDisc()

    def discriminate(self, x):
        return [d(x) for d in self.multi] + [self.single(x)]


def train_step(model, opt_g, opt_d, z, real):
    fake = model.generator(z)
    d_loss = sum((r - 1).pow(2).mean() + f.pow(2).mean() for r, f in zip(model.discriminate(real), model.discriminate(fake.detach())))
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    g_loss = sum((f - 1).pow(2).mean() for f in model.discriminate(fake))
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()


def main():
    torch.manual_seed(0)
    model = GAN()
    opt_g = torch.optim.SGD(model.generator.parameters(), lr=0.1)
    opt_d = torch.optim.SGD([*model.multi.parameters(), *model.single.parameters()], lr=0.1)
    before = model.multi[0].convs[0].weight.detach().clone()
    for _ in range(3):
        train_step(model, opt_g, opt_d, torch.randn(8, 4), torch.randn(8, 4))
    return {"model": model}, {"multi_changed": not torch.equal(before, model.multi[0].convs[0].weight.detach())}
""",
            expect={"facts": {"multi_changed": True}},
        ),
        Example(
            bad=False,
            name="frozen-backbone-left-out-on-purpose",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    backbone, head = nn.Linear(4, 8), nn.Linear(8, 1)
    backbone.requires_grad_(False)
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
    for _ in range(3):
        loss = head(torch.relu(backbone(torch.randn(8, 4)))).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"head": head}
""",
            expect={"grad_ok": ["head.weight"]},
        ),
        Example(
            bad=False,
            name="gan-two-optimizers",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    G, D = nn.Linear(2, 2), nn.Linear(2, 1)
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    for _ in range(2):
        fake = G(torch.randn(8, 2))
        d_loss = D(fake.detach()).mean() - D(torch.randn(8, 2)).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = -D(fake).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    return {"G": G, "D": D}
""",
            expect={"grad_ok": ["G.weight"]},
        ),
        Example(
            bad=False,
            name="lightning-module-scores-with-a-judge-it-froze-in-its-constructor",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Judge(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


class Editor(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.generator = nn.Linear(8, 8)
        self.judge = Judge()
        self.judge.requires_grad_(False)

    def objective(self, x, out):
        return self.judge(out).mean() + F.mse_loss(out, x)

    def training_step(self, batch, batch_idx):
        (x,) = batch
        opt = self.optimizers()
        opt.zero_grad()
        self.manual_backward(self.objective(x, self.generator(x)))
        opt.step()

    def configure_optimizers(self):
        return torch.optim.SGD(self.generator.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    model = Editor()
    loader = DataLoader(TensorDataset(torch.randn(16, 8)), batch_size=8)
    before = model.generator.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"generator": model.generator}, {"changed": not torch.equal(before, model.generator.weight),
                                            "judge_has_grad": any(p.grad is not None for p in model.judge.parameters())}
""",
            expect={"facts": {"changed": True, "judge_has_grad": False}, "grad_ok": ["generator.weight"]},
        ),
        Example(
            name="name-filter-leaves-out-a-trained-part",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Captioner(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.adapter = nn.Linear(8, 8)
        self.head = nn.Linear(8, 10)

    def forward(self, ids):
        return self.head(self.adapter(self.embed(ids)))


def main():
    torch.manual_seed(0)
    model = Captioner()
    params = [p for n, p in model.named_parameters() if n.startswith(("adapter.", "head."))]
    opt = torch.optim.SGD(params, lr=0.1)
    e0 = model.embed.weight.detach().clone()
    for _ in range(3):
        ids = torch.randint(0, 10, (4, 5))
        loss = F.cross_entropy(model(ids).flatten(0, 1), ids.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"embed_changed": not torch.equal(e0, model.embed.weight)}
""",
            lines=(20,),
            fixable=False,
            expect={"grad_ok": ["model.embed.weight", "model.adapter.weight"], "facts": {"embed_changed": False}},
        ),
        Example(
            name="id-set-difference-leaves-out-a-trained-part",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class ReID(nn.Module):
    def __init__(self):
        super().__init__()
        self.base = nn.Linear(6, 8)
        self.feat = nn.Linear(8, 8)
        self.classifier = nn.Linear(8, 3)

    def forward(self, x):
        return self.classifier(F.relu(self.feat(self.base(x))))


def main():
    torch.manual_seed(0)
    model = ReID()
    base_ids = set(map(id, model.base.parameters())) | set(map(id, model.feat.parameters()))
    new_params = [p for p in model.parameters() if id(p) not in base_ids]
    opt = torch.optim.SGD([{"params": model.base.parameters(), "lr": 0.01}, {"params": new_params}], lr=0.1)
    f0 = model.feat.weight.detach().clone()
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(8, 6)), torch.randint(0, 3, (8,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"feat_changed": not torch.equal(f0, model.feat.weight)}
""",
            lines=(20,),
            fixable=False,
            expect={"grad_ok": ["model.feat.weight", "model.classifier.weight"], "facts": {"feat_changed": False}},
        ),
        Example(
            bad=False,
            name="id-set-difference-with-the-excluded-parts-in-their-own-group",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class ReID(nn.Module):
    def __init__(self):
        super().__init__()
        self.base = nn.Linear(6, 8)
        self.feat = nn.Linear(8, 8)
        self.classifier = nn.Linear(8, 3)

    def forward(self, x):
        return self.classifier(F.relu(self.feat(self.base(x))))


def main():
    torch.manual_seed(0)
    model = ReID()
    base_ids = set(map(id, model.base.parameters()))
    new_params = [p for p in model.parameters() if id(p) not in base_ids]
    opt = torch.optim.SGD([{"params": model.base.parameters(), "lr": 0.01}, {"params": new_params}], lr=0.1)
    f0 = model.feat.weight.detach().clone()
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(8, 6)), torch.randint(0, 3, (8,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"feat_changed": not torch.equal(f0, model.feat.weight)}
""",
            expect={"grad_ok": ["model.feat.weight", "model.base.weight"], "facts": {"feat_changed": True}},
        ),
        Example(
            bad=False,
            name="name-filter-leaves-out-a-part-run-under-no-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Probe(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(6, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        with torch.no_grad():
            h = self.backbone(x)
        return self.head(h)


def main():
    torch.manual_seed(0)
    model = Probe()
    opt = torch.optim.SGD([p for n, p in model.named_parameters() if not n.startswith("backbone.")], lr=0.1)
    h0 = model.head.weight.detach().clone()
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(8, 6)), torch.randint(0, 3, (8,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"head_changed": not torch.equal(h0, model.head.weight)}
""",
            expect={"grad_ok": ["model.head.weight"], "grad_none": ["model.backbone.weight"], "facts": {"head_changed": True}},
        ),
        Example(
            name="trainer-callback-unfreezes-what-a-model-method-froze-before-train",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyConfig(PretrainedConfig):
    model_type = "tiny-cls"

    def __init__(self, dim=8, num_labels=2, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.dim = dim


class TinyClassifier(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.backbone = nn.Sequential(nn.Linear(config.dim, config.dim), nn.Tanh())
        self.head = nn.Linear(config.dim, config.num_labels)
        self.post_init()

    def freeze_backbone(self):
        for p in self.backbone.parameters():
            p.requires_grad = False

    def forward(self, x, labels=None):
        logits = self.head(self.backbone(x))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class UnfreezeBackbone(TrainerCallback):
    def on_epoch_begin(self, args, state, control, model=None, **kwargs):
        if state.epoch is not None and state.epoch >= 1:
            for p in model.backbone.parameters():
                p.requires_grad = True


def main():
    torch.manual_seed(0)
    model = TinyClassifier(TinyConfig())
    model.freeze_backbone()
    before = model.backbone[0].weight.detach().clone()
    data = [{"x": torch.randn(8), "label": i % 2} for i in range(16)]
    args = TrainingArguments(output_dir="/tmp/gg806-unfreeze", per_device_train_batch_size=8, num_train_epochs=3, report_to="none")
    Trainer(model=model, args=args, train_dataset=data, callbacks=[UnfreezeBackbone()]).train()
    return {"model": model}, {"backbone_changed": not torch.equal(before, model.backbone[0].weight.detach())}
""",
            lines=(38,),
            fixable=False,
            expect={"facts": {"backbone_changed": False}},
        ),
        Example(
            bad=False,
            name="trainer-callback-unfreezes-a-backbone-that-was-never-frozen",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyConfig(PretrainedConfig):
    model_type = "tiny-cls"

    def __init__(self, dim=8, num_labels=2, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.dim = dim


class TinyClassifier(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.backbone = nn.Sequential(nn.Linear(config.dim, config.dim), nn.Tanh())
        self.head = nn.Linear(config.dim, config.num_labels)
        self.post_init()

    def freeze_backbone(self):
        for p in self.backbone.parameters():
            p.requires_grad = False

    def forward(self, x, labels=None):
        logits = self.head(self.backbone(x))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class UnfreezeBackbone(TrainerCallback):
    def on_epoch_begin(self, args, state, control, model=None, **kwargs):
        if state.epoch is not None and state.epoch >= 1:
            for p in model.backbone.parameters():
                p.requires_grad = True


def main():
    torch.manual_seed(0)
    model = TinyClassifier(TinyConfig())
    before = model.backbone[0].weight.detach().clone()
    data = [{"x": torch.randn(8), "label": i % 2} for i in range(16)]
    args = TrainingArguments(output_dir="/tmp/gg806-unfreeze", per_device_train_batch_size=8, num_train_epochs=3, report_to="none")
    Trainer(model=model, args=args, train_dataset=data, callbacks=[UnfreezeBackbone()]).train()
    return {"model": model}, {"backbone_changed": not torch.equal(before, model.backbone[0].weight.detach())}
""",
            expect={"facts": {"backbone_changed": True}},
        ),
        Example(
            name="trainer-callback-unfreezes-a-layer-its-constructor-kept-and-froze",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyConfig(PretrainedConfig):
    model_type = "tiny-ulmfit"

    def __init__(self, dim=8, num_labels=2, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.dim = dim


class Stacked(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.layers = nn.ModuleList(nn.Sequential(nn.Linear(config.dim, config.dim), nn.Tanh()) for _ in range(2))
        self.head = nn.Linear(config.dim, config.num_labels)
        self.post_init()

    def forward(self, x, labels=None):
        for layer in self.layers:
            x = layer(x)
        logits = self.head(x)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class GradualUnfreeze(TrainerCallback):
    def __init__(self, model):
        self.layers = list(model.layers)
        for layer in self.layers:
            layer.requires_grad_(False)

    def on_epoch_begin(self, args, state, control, **kwargs):
        if state.epoch is not None and state.epoch >= 1:
            self.layers[-1].requires_grad_(True)


def main():
    torch.manual_seed(0)
    model = Stacked(TinyConfig())
    before = model.layers[-1][0].weight.detach().clone()
    data = [{"x": torch.randn(8), "labels": i % 2} for i in range(16)]
    args = TrainingArguments(output_dir="/tmp/gg806-kept", per_device_train_batch_size=8, num_train_epochs=3, report_to="none")
    Trainer(model=model, args=args, train_dataset=data, callbacks=[GradualUnfreeze(model)]).train()
    return {}, {"top_changed": not torch.equal(before, model.layers[-1][0].weight.detach())}
""",
            lines=(41,),
            fixable=False,
            expect={"facts": {"top_changed": False}},
        ),
        Example(
            bad=False,
            name="trainer-callback-unfreezes-a-kept-layer-of-an-optimizer-built-over-everything",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyConfig(PretrainedConfig):
    model_type = "tiny-ulmfit"

    def __init__(self, dim=8, num_labels=2, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.dim = dim


class Stacked(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.layers = nn.ModuleList(nn.Sequential(nn.Linear(config.dim, config.dim), nn.Tanh()) for _ in range(2))
        self.head = nn.Linear(config.dim, config.num_labels)
        self.post_init()

    def forward(self, x, labels=None):
        for layer in self.layers:
            x = layer(x)
        logits = self.head(x)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class GradualUnfreeze(TrainerCallback):
    def __init__(self, model):
        self.layers = list(model.layers)
        for layer in self.layers:
            layer.requires_grad_(False)

    def on_epoch_begin(self, args, state, control, **kwargs):
        if state.epoch is not None and state.epoch >= 1:
            self.layers[-1].requires_grad_(True)


def main():
    torch.manual_seed(0)
    model = Stacked(TinyConfig())
    before = model.layers[-1][0].weight.detach().clone()
    data = [{"x": torch.randn(8), "labels": i % 2} for i in range(16)]
    args = TrainingArguments(output_dir="/tmp/gg806-kept", per_device_train_batch_size=8, num_train_epochs=3, report_to="none")
    Trainer(model=model, args=args, train_dataset=data, callbacks=[GradualUnfreeze(model)],
            optimizers=(torch.optim.AdamW(model.parameters(), lr=1e-2), None)).train()
    return {}, {"top_changed": not torch.equal(before, model.layers[-1][0].weight.detach())}
""",
            expect={"facts": {"top_changed": True}},
        ),
        Example(
            name="helper-builds-the-optimizer-from-what-requires-grad-then-the-loop-unfreezes",
            code="""import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F


def build_optimizer(decoder, encoder, lr):
    params = itertools.chain(decoder.parameters(), encoder.parameters())
    return torch.optim.AdamW(filter(lambda p: p.requires_grad, params), lr=lr)


def main():
    torch.manual_seed(0)
    encoder, decoder = nn.Linear(6, 8), nn.Linear(8, 6)
    encoder.requires_grad_(False)
    optimizer = build_optimizer(decoder, encoder, lr=1e-2)
    before = encoder.weight.detach().clone()
    for step in range(4):
        if step == 1:
            encoder.requires_grad_(True)
        x = torch.randn(16, 6)
        loss = F.mse_loss(decoder(torch.relu(encoder(x))), x)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return {"decoder": decoder}, {"encoder_changed": not torch.equal(before, encoder.weight)}
""",
            lines=(21,),
            expect={"facts": {"encoder_changed": False}},
            fixed_expect={"facts": {"encoder_changed": True}},
        ),
        Example(
            name="freeze-helper-then-optimizer-helper-over-what-requires-grad",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(6, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(torch.relu(self.encoder(x)))


def freeze_encoder(model):
    for p in model.parameters():
        p.requires_grad = False
    for p in model.head.parameters():
        p.requires_grad = True


def build_optimizer(model, lr=0.05):
    return torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=lr)


def main():
    torch.manual_seed(0)
    model = Classifier()
    freeze_encoder(model)
    optimizer = build_optimizer(model)
    before = model.head.weight.detach().clone()
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(16, 6)), torch.randint(0, 3, (16,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"head_changed": not torch.equal(before, model.head.weight)}
""",
            expect={"facts": {"head_changed": True}},
        ),
        Example(
            name="weight-decay-groups-built-from-state-dict",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def decay_groups(named_tensors, weight_decay):
    decay, no_decay = [], []
    for name, tensor in named_tensors:
        (no_decay if name.endswith("bias") else decay).append(tensor)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.AdamW(decay_groups(model.state_dict().items(), 0.01), lr=1e-2)
    before = model[0].weight.detach().clone()
    for _ in range(3):
        loss = F.mse_loss(model(torch.randn(8, 4)), torch.randn(8, 2))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"changed": not torch.equal(before, model[0].weight)}
""",
            lines=(16,),
            expect={"facts": {"changed": False}},
            fixed_expect={"facts": {"changed": True}},
        ),
        Example(
            bad=False,
            name="weight-decay-groups-from-named-parameters-and-a-state-dict-snapshot",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def decay_groups(named_tensors, weight_decay):
    decay, no_decay = [], []
    for name, tensor in named_tensors:
        (no_decay if name.endswith("bias") else decay).append(tensor)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.AdamW(decay_groups(model.named_parameters(), 0.01), lr=1e-2)
    snapshot = {k: v.clone() for k, v in model.state_dict().items()}  # a copy to compare against
    for _ in range(3):
        loss = F.mse_loss(model(torch.randn(8, 4)), torch.randn(8, 2))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"changed": not torch.equal(snapshot["0.weight"], model[0].weight)}
""",
            expect={"facts": {"changed": True}},
        ),
        Example(
            name="lightning-callback-freezes-in-setup-and-unfreezes-after-a-filtered-optimizer",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch import Callback
from torch.utils.data import DataLoader, TensorDataset


class Classifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU())
        self.head = nn.Linear(8, 3)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.head(self.backbone(x)), y)

    def configure_optimizers(self):
        return torch.optim.SGD([p for p in self.parameters() if p.requires_grad], lr=0.1)


class FreezeThenUnfreeze(Callback):
    def __init__(self, at_epoch=1):
        self.at_epoch = at_epoch

    @staticmethod
    def set_trainable(module, flag, train_bn):
        for m in module.modules():
            for p in m.parameters(recurse=False):
                p.requires_grad = flag or (isinstance(m, nn.BatchNorm1d) and train_bn)

    def setup(self, trainer, pl_module, stage):
        self.set_trainable(pl_module.backbone, False, train_bn=False)

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.at_epoch:
            self.set_trainable(pl_module.backbone, True, train_bn=True)


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(16, 4), torch.randint(0, 3, (16,)))
    model = Classifier()
    before = model.backbone[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=3, logger=False, enable_checkpointing=False, callbacks=[FreezeThenUnfreeze(at_epoch=1)])
    trainer.fit(model, DataLoader(data, batch_size=8))
    return {"model": model}, {"backbone_changed": not torch.equal(before, model.backbone[0].weight)}
""",
            lines=(38,),
            expect={"facts": {"backbone_changed": False}},
            fixed_expect={"facts": {"backbone_changed": True}},
        ),
        Example(
            bad=False,
            name="lightning-callback-unfreezes-what-an-unfiltered-optimizer-holds",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch import Callback
from torch.utils.data import DataLoader, TensorDataset


class Classifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU())
        self.head = nn.Linear(8, 3)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.head(self.backbone(x)), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)  # frozen parameters get no gradient and are skipped


class FreezeThenUnfreeze(Callback):
    def __init__(self, at_epoch=1):
        self.at_epoch = at_epoch

    @staticmethod
    def set_trainable(module, flag, train_bn):
        for m in module.modules():
            for p in m.parameters(recurse=False):
                p.requires_grad = flag or (isinstance(m, nn.BatchNorm1d) and train_bn)

    def setup(self, trainer, pl_module, stage):
        self.set_trainable(pl_module.backbone, False, train_bn=False)

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.at_epoch:
            self.set_trainable(pl_module.backbone, True, train_bn=True)


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(16, 4), torch.randint(0, 3, (16,)))
    model = Classifier()
    before = model.backbone[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=3, logger=False, enable_checkpointing=False, callbacks=[FreezeThenUnfreeze(at_epoch=1)])
    trainer.fit(model, DataLoader(data, batch_size=8))
    return {"model": model}, {"backbone_changed": not torch.equal(before, model.backbone[0].weight)}
""",
            expect={"facts": {"backbone_changed": True}},
        ),
        Example(
            name="trainer-subclass-create-optimizer-groups-leave-out-the-head",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyConfig(PretrainedConfig):
    model_type = "tiny-llrd"

    def __init__(self, dim=8, depth=2, num_labels=2, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.dim, self.depth = dim, depth


class TinyClassifier(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.blocks = nn.ModuleList([nn.Linear(config.dim, config.dim) for _ in range(config.depth)])
        self.head = nn.Linear(config.dim, config.num_labels)
        self.post_init()

    def forward(self, x, labels=None):
        for block in self.blocks:
            x = torch.tanh(block(x))
        logits = self.head(x)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class DecayTrainer(Trainer):
    def create_optimizer(self):
        if self.optimizer is None:
            layers = list(self.model.blocks)
            groups = []
            for depth, layer in enumerate(reversed(layers)):
                groups.append({"params": list(layer.parameters()), "lr": 0.1 * 0.5 ** depth})
            self.optimizer = torch.optim.SGD(groups, lr=0.1)
        return self.optimizer


def main():
    torch.manual_seed(0)
    model = TinyClassifier(TinyConfig())
    before = model.head.weight.detach().clone()
    data = [{"x": torch.randn(8), "label": i % 2} for i in range(16)]
    args = TrainingArguments(output_dir="/tmp/gg806-llrd", per_device_train_batch_size=8, num_train_epochs=1, report_to="none")
    DecayTrainer(model=model, args=args, train_dataset=data).train()
    return {"model": model}, {"head_changed": not torch.equal(before, model.head.weight.detach())}
""",
            lines=(36,),
            fixable=False,
            expect={"facts": {"head_changed": False}},
        ),
        Example(
            bad=False,
            name="trainer-subclass-create-optimizer-groups-cover-the-head",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyConfig(PretrainedConfig):
    model_type = "tiny-llrd"

    def __init__(self, dim=8, depth=2, num_labels=2, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.dim, self.depth = dim, depth


class TinyClassifier(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.blocks = nn.ModuleList([nn.Linear(config.dim, config.dim) for _ in range(config.depth)])
        self.head = nn.Linear(config.dim, config.num_labels)
        self.post_init()

    def forward(self, x, labels=None):
        for block in self.blocks:
            x = torch.tanh(block(x))
        logits = self.head(x)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class DecayTrainer(Trainer):
    def create_optimizer(self):
        if self.optimizer is None:
            layers = list(self.model.blocks) + [self.model.head]
            groups = []
            for depth, layer in enumerate(reversed(layers)):
                groups.append({"params": list(layer.parameters()), "lr": 0.1 * 0.5 ** depth})
            self.optimizer = torch.optim.SGD(groups, lr=0.1)
        return self.optimizer


def main():
    torch.manual_seed(0)
    model = TinyClassifier(TinyConfig())
    before = model.head.weight.detach().clone()
    data = [{"x": torch.randn(8), "label": i % 2} for i in range(16)]
    args = TrainingArguments(output_dir="/tmp/gg806-llrd", per_device_train_batch_size=8, num_train_epochs=1, report_to="none")
    DecayTrainer(model=model, args=args, train_dataset=data).train()
    return {"model": model}, {"head_changed": not torch.equal(before, model.head.weight.detach())}
""",
            expect={"facts": {"head_changed": True}},
        ),
        Example(
            name="weight-decay-groups-by-module-type-skip-a-raw-parameter",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, 2, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        h = self.norm(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(x)


class TinyLM(nn.Module):
    def __init__(self, vocab=20, dim=8, length=6):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.randn(length, dim) * 0.02)
        self.block = Block(dim)
        self.head = nn.Linear(dim, vocab)

    def forward(self, ids):
        return self.head(self.block(self.tok(ids) + self.pos[: ids.size(1)]))


def param_groups(model, weight_decay):
    decay, no_decay = [], []
    for module_name, module in model.named_modules():
        for name, param in module.named_parameters(recurse=False):
            if isinstance(module, nn.Linear) and name == "weight":
                decay.append(param)
            elif isinstance(module, (nn.LayerNorm, nn.Embedding, nn.MultiheadAttention)) or name.endswith("bias"):
                no_decay.append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def main():
    torch.manual_seed(0)
    model = TinyLM()
    optimizer = torch.optim.AdamW(param_groups(model, 0.1), lr=1e-2)
    before = model.pos.detach().clone()
    for _ in range(3):
        ids = torch.randint(0, 20, (4, 6))
        logits = model(ids)
        loss = F.cross_entropy(logits.reshape(-1, 20), ids.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"pos_changed": not torch.equal(before, model.pos)}
""",
            lines=(37,),
            fixable=False,
            expect={"facts": {"pos_changed": False}},
        ),
        Example(
            bad=False,
            name="weight-decay-groups-by-module-type-with-a-catch-all",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, 2, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        h = self.norm(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(x)


class TinyLM(nn.Module):
    def __init__(self, vocab=20, dim=8, length=6):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.randn(length, dim) * 0.02)
        self.block = Block(dim)
        self.head = nn.Linear(dim, vocab)

    def forward(self, ids):
        return self.head(self.block(self.tok(ids) + self.pos[: ids.size(1)]))


def param_groups(model, weight_decay):
    decay, no_decay = [], []
    for module_name, module in model.named_modules():
        for name, param in module.named_parameters(recurse=False):
            if isinstance(module, nn.Linear) and name == "weight":
                decay.append(param)
            elif isinstance(module, (nn.LayerNorm, nn.Embedding, nn.MultiheadAttention)) or name.endswith("bias"):
                no_decay.append(param)
            else:
                no_decay.append(param)  # (everything else: raw parameters such as pos)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def main():
    torch.manual_seed(0)
    model = TinyLM()
    optimizer = torch.optim.AdamW(param_groups(model, 0.1), lr=1e-2)
    before = model.pos.detach().clone()
    for _ in range(3):
        ids = torch.randint(0, 20, (4, 6))
        logits = model(ids)
        loss = F.cross_entropy(logits.reshape(-1, 20), ids.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"pos_changed": not torch.equal(before, model.pos)}
""",
            expect={"facts": {"pos_changed": True}},
        ),
        Example(
            name="rank-and-name-filtered-groups-skip-a-scalar-gain",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Scorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.norm = nn.LayerNorm(4)
        self.fc = nn.Linear(4, 2)
        self.gain = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return self.fc(self.norm(self.emb(x))) * self.gain


def main():
    torch.manual_seed(0)
    model = Scorer()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "norm" in n]
    optimizer = torch.optim.AdamW([{"params": decay}, {"params": no_decay, "weight_decay": 0.0}], lr=0.1)
    for _ in range(3):
        x = torch.randint(0, 10, (4, 3))
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), torch.randn(4, 3, 2))
        loss.backward()
        optimizer.step()
    return {"model": model}, {"gain_changed": bool(model.gain.item() != 1.0)}
""",
            lines=(22,),
            fixable=False,
            expect={"facts": {"gain_changed": False}},
        ),
        Example(
            bad=False,
            name="groups-split-by-rank-cover-every-parameter",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Scorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.norm = nn.LayerNorm(4)
        self.fc = nn.Linear(4, 2)
        self.gain = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return self.fc(self.norm(self.emb(x))) * self.gain


def main():
    torch.manual_seed(0)
    model = Scorer()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW([{"params": decay}, {"params": no_decay, "weight_decay": 0.0}], lr=0.1)
    for _ in range(3):
        x = torch.randint(0, 10, (4, 3))
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), torch.randn(4, 3, 2))
        loss.backward()
        optimizer.step()
    return {"model": model}, {"gain_changed": bool(model.gain.item() != 1.0)}
""",
            expect={"facts": {"gain_changed": True}},
        ),
        Example(
            name="rank-and-name-groups-leave-out-a-norm-weight-but-not-its-bias",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.norm = nn.LayerNorm(4)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(self.norm(self.emb(x)))


NO_DECAY = ("bias", "LayerNorm.weight")  # (the module here is named `norm`, not `LayerNorm`)


def build_optimizer(model):
    named = list(model.named_parameters())
    decay = [p for n, p in named if p.ndim >= 2]
    rest = [p for n, p in named if any(nd in n for nd in NO_DECAY)]
    return torch.optim.AdamW([{"params": decay}, {"params": rest, "weight_decay": 0.0}], lr=0.1)


def main():
    torch.manual_seed(0)
    model = Tagger()
    optimizer = build_optimizer(model)
    before = model.norm.weight.detach().clone()
    for _ in range(3):
        x = torch.randint(0, 10, (4, 3))
        loss = F.mse_loss(model(x), torch.randn(4, 3, 2))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"norm_weight_changed": not torch.equal(before, model.norm.weight)}
""",
            lines=(23,),
            fixable=False,
            expect={"facts": {"norm_weight_changed": False}},
        ),
        Example(
            name="trainer-class-builds-filtered-groups-in-its-constructor",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.fc = nn.Linear(4, 2)
        self.gain = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return self.fc(self.emb(x)) * self.gain


class Trainer:
    def __init__(self, model):
        self.model = model
        decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
        rest = [p for n, p in model.named_parameters() if n.endswith("bias")]
        self.optimizer = torch.optim.AdamW([{"params": decay}, {"params": rest, "weight_decay": 0.0}], lr=0.1)

    def fit(self, steps=3):
        for _ in range(steps):
            x = torch.randint(0, 10, (4, 3))
            loss = F.mse_loss(self.model(x), torch.randn(4, 3, 2))
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()


def main():
    torch.manual_seed(0)
    model = Tagger()
    Trainer(model).fit()
    return {"model": model}, {"gain_changed": bool(model.gain.item() != 1.0)}
""",
            lines=(21,),
            fixable=False,
            expect={"facts": {"gain_changed": False}},
        ),
        Example(
            bad=False,
            name="trainer-class-builds-complementary-groups-in-its-constructor",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.fc = nn.Linear(4, 2)
        self.gain = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return self.fc(self.emb(x)) * self.gain


class Trainer:
    def __init__(self, model):
        self.model = model
        decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
        rest = [p for n, p in model.named_parameters() if p.ndim < 2]
        self.optimizer = torch.optim.AdamW([{"params": decay}, {"params": rest, "weight_decay": 0.0}], lr=0.1)

    def fit(self, steps=3):
        for _ in range(steps):
            x = torch.randint(0, 10, (4, 3))
            loss = F.mse_loss(self.model(x), torch.randn(4, 3, 2))
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()


def main():
    torch.manual_seed(0)
    model = Tagger()
    Trainer(model).fit()
    return {"model": model}, {"gain_changed": bool(model.gain.item() != 1.0)}
""",
            expect={"facts": {"gain_changed": True}},
        ),
        Example(
            name="best-checkpoint-restored-into-a-new-model-inside-the-fit-helper",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def run_epoch(model, batches, optimizer):
    for x, y in batches:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()


def fit(model, batches, optimizer):
    run_epoch(model, batches, optimizer)
    best = {k: v.clone() for k, v in model.state_dict().items()}
    restored = nn.Linear(4, 3)
    restored.load_state_dict(best)
    model = restored
    run_epoch(model, batches, optimizer)
    return model


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [(torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2]))]
    model = fit(model, batches, optimizer)
    before = model.weight.detach().clone()
    run_epoch(model, batches, optimizer)
    return {"model": model}, {"restored_changed": not torch.equal(before, model.weight)}
""",
            lines=(16,),
            expect={"facts": {"restored_changed": False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="backbone-unfrozen-and-added-as-a-group-by-a-helper-for-the-second-phase",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def set_trainable(module, flag):
    for p in module.parameters():
        p.requires_grad = flag


def unfreeze_backbone(model, optimizer, lr):
    set_trainable(model.backbone, True)
    optimizer.add_param_group({"params": model.backbone.parameters(), "lr": lr})


def train_epoch(model, optimizer):
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 2, (8,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.backbone(x))


def main():
    torch.manual_seed(0)
    model = Net()
    set_trainable(model.backbone, False)
    optimizer = torch.optim.SGD(model.head.parameters(), lr=0.05)
    train_epoch(model, optimizer)
    unfreeze_backbone(model, optimizer, lr=0.01)
    train_epoch(model, optimizer)
    return {"model": model}
""",
            expect={"grad_ok": ["model.backbone.0.weight", "model.head.weight"]},
        ),
        Example(
            bad=False,
            name="margin-loss-is-a-module-so-its-centres-are-registered",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class MarginLoss(nn.Module):
    def __init__(self, dim, n_classes, s=8.0):
        super().__init__()
        self.centres = nn.Linear(dim, n_classes, bias=False)
        self.s = s

    def forward(self, emb, labels):
        cos = F.linear(F.normalize(emb, dim=-1), F.normalize(self.centres.weight, dim=-1))
        return F.cross_entropy(self.s * cos, labels)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 8))
        self.margin = MarginLoss(8, 3)

    def forward(self, x):
        return self.body(x)


def main():
    torch.manual_seed(0)
    model = Encoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = model.margin.centres.weight.detach().clone()
    for _ in range(3):
        x, y = torch.randn(12, 6), torch.randint(0, 3, (12,))
        loss = model.margin(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"centres_changed": not torch.equal(before, model.margin.centres.weight)}
""",
            expect={"facts": {"centres_changed": True}, "grad_ok": ["model.margin.centres.weight"]},
        ),
        Example(
            name="name-filter-over-a-list-of-tables-matches-none",
            code="""import torch
import torch.nn as nn

CFG = {"tables": [5, 7], "dim": 4, "sparse_key": "embedding"}


class TwoTables(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.emb_l = nn.ModuleList(nn.EmbeddingBag(n, cfg["dim"], mode="sum") for n in cfg["tables"])
        self.top = nn.Linear(cfg["dim"], 1)

    def forward(self, idx, off):
        ly = [emb(idx[:, k], off) for k, emb in enumerate(self.emb_l)]
        return self.top(torch.stack(ly).sum(0)).squeeze(-1)


def build_optimizer(model, cfg):
    dense = list(model.top.parameters())
    sparse = [p for n, p in model.named_parameters() if cfg["sparse_key"] in n]
    return torch.optim.Adagrad([{"params": dense, "lr": 0.01}, {"params": sparse, "lr": 0.1}])


def train(model, optimizer, idx, off):
    for _ in range(2):
        loss = model(idx, off).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = TwoTables(CFG)
    optimizer = build_optimizer(model, CFG)
    before = model.emb_l[0].weight.detach().clone()
    train(model, optimizer, torch.randint(0, 5, (6, 2)), torch.arange(0, 6, 2))
    return {"model": model}, {"emb_changed": not torch.equal(before, model.emb_l[0].weight)}
""",
            lines=(20,),
            expect={'grad_ok': ['model.emb_l.0.weight'], 'facts': {'emb_changed': False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="name-filter-over-a-list-of-tables-matches-them",
            code="""import torch
import torch.nn as nn

CFG = {"tables": [5, 7], "dim": 4, "sparse_key": "emb_l"}


class TwoTables(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.emb_l = nn.ModuleList(nn.EmbeddingBag(n, cfg["dim"], mode="sum") for n in cfg["tables"])
        self.top = nn.Linear(cfg["dim"], 1)

    def forward(self, idx, off):
        ly = [emb(idx[:, k], off) for k, emb in enumerate(self.emb_l)]
        return self.top(torch.stack(ly).sum(0)).squeeze(-1)


def build_optimizer(model, cfg):
    dense = list(model.top.parameters())
    sparse = [p for n, p in model.named_parameters() if cfg["sparse_key"] in n]
    return torch.optim.Adagrad([{"params": dense, "lr": 0.01}, {"params": sparse, "lr": 0.1}])


def train(model, optimizer, idx, off):
    for _ in range(2):
        loss = model(idx, off).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = TwoTables(CFG)
    optimizer = build_optimizer(model, CFG)
    before = model.emb_l[0].weight.detach().clone()
    train(model, optimizer, torch.randint(0, 5, (6, 2)), torch.arange(0, 6, 2))
    return {"model": model}, {"emb_changed": not torch.equal(before, model.emb_l[0].weight)}
""",
            expect={'grad_ok': ['model.emb_l.0.weight'], 'facts': {'emb_changed': True}},
        ),
        Example(
            bad=False,
            name="penalty-input-made-by-a-helper-of-a-step-method",
            code="""import torch
import torch.nn as nn


class CriticTrainer:
    def __init__(self, gen, critic):
        self.gen, self.critic = gen, critic
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


def main():
    torch.manual_seed(0)
    gen, critic = nn.Linear(2, 3), nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    trainer = CriticTrainer(gen, critic)
    for _ in range(3):
        trainer.critic_step(torch.randn(4, 3))
    return {"critic": critic}
""",
            expect={'grad_ok': ['critic.0.weight']},
        ),
        Example(
            bad=False,
            name="input-requires-grad-for-a-gradient-check",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    x = torch.randn(8, 4, requires_grad=True)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    optim = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(3):
        optim.zero_grad()
        model(x).sum().backward()
        optim.step()
    return {"model": model}, {"all_have_grads": all(p.grad is not None for p in model.parameters())}
""",
            expect={'grad_ok': ['model.0.weight'], 'facts': {'all_have_grads': True}},
        ),
        Example(
            bad=False,
            name="critic-with-its-own-optimizer-and-synced-target",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class QNet(nn.Module):
    def __init__(self, lr):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.optimizer = torch.optim.Adam(self.parameters(), lr=lr)

    def forward(self, x):
        return self.fc(x)

    def train_net(self, s, target):
        loss = F.smooth_l1_loss(self(s).max(1)[0], target)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()


class Actor(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.optimizer = torch.optim.Adam(self.parameters(), lr=1e-3)

    def train_net(self, q1, s):
        loss = -q1(self.fc(s)).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()


def main():
    torch.manual_seed(0)
    q1, q1_target, actor = QNet(1e-3), QNet(1e-3), Actor()
    q1_target.load_state_dict(q1.state_dict())
    for step in range(4):
        s = torch.randn(8, 4)
        target = (1.0 + 0.9 * q1_target(s).max(1)[0]).detach()
        q1.train_net(s, target)
        actor.train_net(q1, s)
        if step % 2 == 1:
            q1_target.load_state_dict(q1.state_dict())
    return {"q1": q1, "actor": actor}
""",
            expect={'grad_ok': ['q1.fc.weight', 'actor.fc.weight']},
        ),
        Example(
            bad=False,
            name="regression-inputs-made-to-require-grad",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 1)

    def forward(self, x):
        return self.lin(x).squeeze(-1)


def main():
    torch.manual_seed(0)
    train_X = torch.rand(20, 2) * 2
    train_Y = train_X.sum(-1)
    train_X = train_X.requires_grad_()
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(5):
        optimizer.zero_grad()
        loss = (model(train_X) - train_Y).pow(2).mean()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            expect={'grad_ok': ['model.lin.weight']},
        ),
        Example(
            bad=False,
            name="trainer-choosing-its-optimizer-class-by-a-flag-in-init",
            code="""import torch
import torch.nn as nn
from torch.optim import SGD, AdamW


class Runner:
    def __init__(self, net, lr=1e-2, use_sgd=False):
        self.net = net
        if use_sgd:
            self.opt = SGD(net.parameters(), lr=lr)
        else:
            self.opt = AdamW(net.parameters(), lr=lr)

    def fit(self, steps=3):
        for _ in range(steps):
            loss = self.net(torch.randn(8, 4)).pow(2).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 2)
    Runner(net).fit()
    return {"net": net}
""",
            expect={'grad_ok': ['net.bias', 'net.weight']},
        ),
        Example(
            bad=False,
            name="parameterless-criterion-calling-a-helper-through-its-class",
            code="""import torch
import torch.nn as nn


class FocalTerm(nn.Module):
    def __init__(self, gamma=2.0, eps=1e-9):
        super().__init__()
        self.gamma, self.eps = gamma, eps

    def forward(self, logits, target):
        p = torch.sigmoid(logits)
        pt = p * target + (1 - p) * (1 - target)
        return (-(1 - pt) ** self.gamma * torch.log(pt + self.eps)).sum()


class DetectionLoss(nn.Module):
    def __init__(self, factor, **kwargs):
        super().__init__()
        self.term = FocalTerm(**kwargs)
        self.factor = factor

    def encode(boxes, ref):
        return boxes - ref

    def forward(self, logits, target, box, box_t):
        cls_part = self.term(logits, target)
        box_part = nn.functional.smooth_l1_loss(box, DetectionLoss.encode(box_t, 0.5))
        return cls_part + self.factor * box_part


def main():
    torch.manual_seed(0)
    net = nn.Linear(5, 5)
    optimizer = torch.optim.SGD(net.parameters(), lr=1e-2)
    criterion = DetectionLoss(factor=5.0)
    for _ in range(3):
        out = net(torch.rand(4, 5))
        total = criterion(out[:, :1], torch.ones(4, 1), out[:, 1:], torch.zeros(4, 4))
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
    return {"net": net}, {"criterion_parameters": len(list(criterion.parameters()))}
""",
            expect={'grad_ok': ['net.weight'], 'facts': {'criterion_parameters': 0}},
        ),
        Example(
            bad=False,
            name="penalty-points-made-in-the-loops-of-two-methods",
            code="""import torch
import torch.nn as nn

class Trainer:
    def __init__(self):
        self.critic = nn.Sequential(nn.Linear(6, 16), nn.LeakyReLU(), nn.Linear(16, 1))
        self.gen = nn.Linear(4, 6)
        self.opt_c = torch.optim.Adam(self.critic.parameters(), lr=1e-3)

    def penalty(self, y, x):
        g = torch.autograd.grad(y, x, torch.ones_like(y), create_graph=True, retain_graph=True)[0]
        return ((g.view(g.size(0), -1).norm(dim=1) - 1) ** 2).mean()

    def critic_step(self, real):
        fake = self.gen(torch.randn(real.size(0), 4))
        mix = torch.rand(real.size(0), 1)
        interp = (mix * real.data + (1 - mix) * fake.data).requires_grad_(True)
        out = self.critic(interp)
        loss = -self.critic(real).mean() + self.critic(fake.detach()).mean() + 10 * self.penalty(out, interp)
        self.opt_c.zero_grad()
        loss.backward()
        self.opt_c.step()

    def train(self):
        self.critic_step(torch.randn(8, 6))

    def train_multi(self):
        for it in range(2):
            for domain in ["a", "b"]:
                real = torch.randn(8, 6)
                fake = self.gen(torch.randn(8, 4))
                mix = torch.rand(real.size(0), 1)
                interp = (mix * real.data + (1 - mix) * fake.data).requires_grad_(True)
                out = self.critic(interp)
                loss = -self.critic(real).mean() + self.critic(fake.detach()).mean() + 10 * self.penalty(out, interp)
                self.opt_c.zero_grad()
                loss.backward()
                self.opt_c.step()


def main():
    torch.manual_seed(0)
    t = Trainer()
    t.train()
    t.train_multi()
    return {"critic": t.critic}
""",
            expect={'grad_ok': ['critic.0.weight']},
        ),
        Example(
            bad=False,
            name="optional-decoder-optimizer-or-none-stepped-when-present",
            code="""import os

import torch
import torch.nn as nn


class Decoder(nn.Module):
    def __init__(self, d, out):
        super().__init__()
        self.dec = nn.Linear(d, out)

    def forward(self, x):
        return self.dec(x)


def train(cfg, models, batches, opts):
    enc, dec_a, dec_b = models
    opt_enc, opt_a, opt_b = opts
    for x in batches:
        for o in (opt_enc, opt_a, opt_b):
            if o is not None:
                o.zero_grad()
        h = enc(x)
        loss = dec_a(h).pow(2).mean()
        if cfg["use_b"]:
            loss = loss + dec_b(h).pow(2).mean()
        loss.backward()
        opt_enc.step()
        opt_a.step()
        if opt_b is not None:
            opt_b.step()


def main():
    torch.manual_seed(0)
    cfg = {"use_b": os.environ.get("USE_B", "1") == "1"}
    enc, dec_a = nn.Linear(4, 8), nn.Linear(8, 3)
    if cfg["use_b"]:
        dec_b = Decoder(8, 2)
        opt_b = torch.optim.SGD(dec_b.parameters(), lr=0.1)
    else:
        dec_b = opt_b = None
    opt_enc, opt_a = torch.optim.SGD(enc.parameters(), lr=0.1), torch.optim.SGD(dec_a.parameters(), lr=0.1)
    before = dec_b.dec.weight.detach().clone()
    train(cfg, [enc, dec_a, dec_b], [torch.randn(5, 4)], [opt_enc, opt_a, opt_b])
    return {"dec_b": dec_b}, {"dec_b_changed": not torch.equal(before, dec_b.dec.weight)}
""",
            expect={'grad_ok': ['dec_b.dec.weight'], 'facts': {'dec_b_changed': True}},
        ),
    )

    def check(self, facts):
        reported: set = set()
        yield from self._state_dict_copies(facts)
        for u in late_callback_unfreezes(facts):
            name = display_root(u.part)
            yield self.finding(
                facts,
                u.stmt,
                f"the parameters of `{name}` are unfrozen here, in a Trainer callback, but the Trainer built its optimizer when "
                f"`train()` started (line {u.built.lineno}) from the parameters that required grad then, when `{name}` was frozen "
                f"(line {u.frozen.lineno}): it does not hold them, so they get gradients but never change",
                related=[(u.built, "builds the optimizer from the parameters that require grad at this moment"), (u.frozen, f"`{name}` is frozen here, before")],
                explanation="The Hugging Face Trainer creates its optimizer once, when training starts, over the parameters that "
                "have `requires_grad=True` then; setting `requires_grad = True` later (in a callback) does not add them. Leave "
                "the part trainable and freeze it another way, pass your own optimizer built from all the parameters "
                "(`Trainer(..., optimizers=(optimizer, None))`; frozen ones get no gradient, so they are skipped until they "
                "are unfrozen), or add them with `kwargs[\"optimizer\"].add_param_group(...)` in the callback.",
            )
        # (a part held in evaluation mode while the rest trains is held fixed on purpose, as a frozen one is)
        frozen = frozen_paths(facts) | eval_paths(facts)
        for fl in facts.backward_flows:
            if facts.flow.is_autograd_function_method(fl.node):
                continue
            # every optimizer the function builds or sees, and every one it steps (built by a helper and returned)
            visible = facts.optimizers_for(fl) + [OptimizerSite(e.node, e.target.params) for e in fl.events if e.what == "step" and e.target is not None and e.target.kind == "optimizer" and e.target.params]
            for site in fl.implicit_sites:
                # a loss the framework backpropagates and steps (Lightning's training_step): the optimizers it built once
                stepping = stepped_by_framework(facts, fl, site) if site.mode.enabled else []
                roots = sorted(r for r in site.loss.live if r != "?" and not r.startswith("arg:"))
                for opt in stepping:
                    for part in sorted(opt.held_out):
                        f = self._unfrozen_later(facts, fl, site, opt, part, roots, stepping, frozen, reported, owner=fl.owner)
                        if f is not None:
                            yield f
                if stepping:
                    yield from self._left_out_of_framework_optimizers(facts, fl, site, stepping, frozen, reported)
            for site in fl.backward_sites:
                if not site.mode.enabled:
                    continue
                stepping = stepped_after(fl, site)
                framework_step = not site.loops and _framework_step_method(facts, fl)
                if not stepping or not (_steps_in_loop(fl, site) if site.loops else (framework_step or _called_in_loop(facts, fl))):
                    continue  # not a training loop (or a step function a loop calls) whose optimizer the model knows
                if not site.loops and not framework_step:  # a step function: the optimizers its caller holds (a GAN's other one) are in view too
                    visible = visible + _caller_optimizers(facts, fl)
                roots = sorted(r for r in site.loss.live if concrete(r))
                trainer_object = not framework_step and _plain_owner(facts, fl)
                if framework_step or trainer_object:
                    # the module's own parts (``self.generator``), where its class made them; or the parts a trainer
                    # object builds itself and keeps (``self.center_loss = CenterLoss(...)``)
                    roots += sorted(r for r in site.loss.live if r.startswith("self.") and "[" not in r)
                for opt in stepping:
                    for part in sorted(opt.held_out):
                        f = self._unfrozen_later(facts, fl, site, opt, part, roots, stepping, frozen, reported)
                        if f is not None:
                            yield f
                origins = {r: o for r in roots if (o := (attribute_origin(facts, fl.owner, r.split(".")[1:]) if r.startswith("self.") else trainable_origin(facts, r))) is not None
                           # (a step function a loop calls, ``critic_step``, is the loop's body too)
                           and not _made_each_iteration(facts, r, site, fl.node if framework_step or not site.loops else None)}
                graded = _grad_reads(fl)
                # optimizers that hold only tensors the program made (a latent code, noise maps, an image): the
                # modules the loss runs through are a fixed function being inverted, not trained
                inputs_only = all(opt.covered and all(_root_kind(facts, r) == "tensor" for r in opt.covered) for opt in stepping)
                missing = [r for r in origins if not covered_by(r, [*stepping, *visible])
                           and not any(covered_by(k, [*stepping, *visible]) for k in kept_as_part(facts, r))
                           and not is_frozen(r, frozen, inner=False) and r.split(".")[0] not in graded
                           and not _given_to_opaque(facts, r) and not _partly_frozen(r, frozen) and not (inputs_only and _root_kind(facts, r) == "module")
                           and not frozen_at_backward(facts, fl, r, site) and not _tied_layer(facts, fl, r)
                           and not _only_input_of_trained_modules(facts, r, stepping)
                           and not _synced_or_self_optimized(facts, r)]
                if not inputs_only:
                    yield from self._left_out_inside(facts, [r for r in origins if r not in missing], origins, stepping, [*stepping, *visible], frozen, graded, reported, site)
                if not missing:
                    continue
                # a part of a missing root that some optimizer holds: only the rest is missing
                missing = [r for r in missing if not any(m != r and r.startswith(m + ".") for m in missing)]
                # every part of one object the loss reaches is missing (a second tower left out): the object is
                for first in sorted({m.split(".")[0] for m in missing if "." in m and "[" not in m and not m.startswith("self.")}):
                    parts = [x for x in roots if x.split(".")[0] == first]
                    whole = trainable_origin(facts, first)
                    if whole is not None and all(x in missing for x in parts) and not _partly_frozen(first, frozen) and not is_frozen(first, frozen, inner=False):
                        missing = [m for m in missing if m.split(".")[0] != first] + [first]
                        origins[first] = whole
                holds_any = any(covered_by(r, stepping) for r in roots)
                step = stepping[0]
                if not holds_any:  # report the copy once, where it is made
                    objects: dict = {}
                    for r in missing:
                        objects.setdefault(r.replace("[]", "").split(".")[0], r)
                    missing = [objects[k] for k in sorted(objects)]
                for r in missing:
                    first = r.replace("[]", "").split(".")[0]
                    # a new object bound to the name of one the optimizer holds, on some path only (``if resume: model =
                    # build(cfg)`` after the optimizer): on that path the optimizer holds the other object's parameters
                    rebinding = "@" in first and any(covered_by(x, stepping) for x in roots if x.replace("[]", "").split(".")[0] == first.split("@")[0])
                    if r in reported or ((not holds_any or rebinding) and first in reported):
                        continue
                    if (not holds_any or rebinding) and first not in facts.flow.root_origins:
                        continue  # (``self``'s parts, or an object made where the model cannot see: not known to be a copy)
                    reported.add(r)
                    if not holds_any or rebinding:
                        reported.add(first)
                        made = facts.flow.root_origins[first].stmt
                        built: list = [(step.node, "the optimizer is built here, from the other object's parameters")] if isinstance(step.node, ast.Call) and step.node.lineno != made.lineno else []
                        shown, rebound = display_root(first), _rebound(first)
                        bound = _bound_after_optimizer(facts, first, made, step.node, site.node, fl.context)
                        inner = _factory_build(facts, made) if bound is None else None
                        if inner is not None:  # (bound here to what a helper builds and returns)
                            built.append((inner, "the new object is built here, by the call"))
                        if bound is not None:
                            # built and returned by a helper (``model = load_checkpoint(model)``): where the caller rebinds it
                            built.append((made, "the new object is built here, by the call"))
                            made, shown, renamed = bound
                            rebound = f" (those of the object `{shown}` named before this new one was bound to it)" if renamed else ""
                        yield self.finding(
                            facts,
                            made,
                            f"`{shown}` is trained by the loss backpropagated at line {site.line}, but the optimizer stepped there holds "
                            f"other parameters{rebound}: `{shown}` never changes",
                            related=[(site.node, "backward() fills the gradients of this object"), (_step_node(fl, site) or site.node, "steps another object's parameters (a copy, or the original)"), *built],
                            explanation="The optimizer was built from another object's parameters (typically the model this one was copied "
                            "from); `step()` updates those, and this object's gradients are never applied. Build the optimizer from the "
                            "object you train.",
                        )
                        continue
                    name = display_root(r)
                    ctor = step.node
                    twin = _duplicate_optimizer(facts, stepping, r)
                    if twin is not None:
                        # (several optimizers stepped, one of them over parameters another holds too: the part no optimizer
                        # holds was most likely meant for that one, built over a copy of the line above)
                        ctor = twin[0].node
                    left_at = _left_out_at(r, stepping)
                    if left_at is not None:
                        if not _never_matching_selection(facts, left_at[0]):
                            yield self._left_out(facts, r, left_at, origins[r], site)
                        continue
                    # the other losses of the function that reach it, and the optimizers stepped after them (a GAN's
                    # discriminator and generator steps): none holds it, and which one should is the program's choice
                    others: list = []
                    for other in fl.backward_sites:
                        if other is site or not other.mode.enabled or not any(related(r, lv) for lv in other.loss.live):
                            continue
                        for o in stepped_after(fl, other):
                            if o.node is not ctor and all(o.node is not n for n, _s in others):
                                others.append((o.node, other))
                    also = [(_params_statement(facts, n) or n, f"nor does this optimizer, stepped after the loss backpropagated at line {o.line}, which reaches it too")
                            for n, o in others]
                    # (only when the optimizer holds none of the object the missing part belongs to: the helper was handed
                    # another object; a part left out of the object it was handed is the helper's choice, fixed there)
                    builder = _builder_call(facts, ctor, fl, r) if not any(c.replace("[]", "").split(".")[0] == r.replace("[]", "").split(".")[0] for o in stepping for c in o.covered) else None
                    if builder is not None:  # a helper builds it from what its caller passes: the call is what to change
                        also = [(ctor, "the helper builds the optimizer here, from the parameters of what it is passed"), *also]
                    else:
                        handed = _handed_to_builder(facts, ctor, fl, r)
                        if handed is not None:  # (``build_optimizer(denoiser, encoder, cfg)`` leaving ``encoder`` out)
                            also = [(handed[0], f"`{handed[1]}` is handed to `{handed[2]}` here, which builds its parameter groups without it"), *also]
                    if twin is not None:
                        held = ", ".join(f"`{display_root(c)}`" for c in sorted(twin[0].covered))
                        also = [(twin[1].node, f"this optimizer holds {held} too: both step {'it' if len(twin[0].covered) == 1 else 'them'}"), *also]
                    yield self.finding(
                        facts,
                        builder or _params_statement(facts, ctor) or ctor,
                        f"no optimizer holds `{name}`: the loss backpropagated at line {site.line} gives it gradients, but it never changes"
                        + (f"; this optimizer holds only parameters that the one built at line {twin[1].node.lineno} holds too" if twin is not None else ""),
                        related=[(origins[r], f"`{name}` is created here"), (site.node, "backward() reaches it here"), *also],
                        fixes=_distinct([*_fixes(facts, ctor, r), *(f for n, _o in others for f in _fixes(facts, n, r))]) if builder is None else _pass_both_fixes(facts, builder, ctor, r),
                        explanation="`optimizer.step()` updates only the parameters the optimizer was built with; add these to it "
                        "(or to a parameter group) so they are trained.",
                    )


    def _state_dict_copies(self, facts):
        """An optimizer whose every parameter group holds tensors taken from ``model.state_dict()`` (``.items()`` into
        weight-decay groups, ``.values()``): those are detached copies that share the parameters' storage but never get a
        gradient, so ``step()`` skips them all and the model never changes. Only in a program that backpropagates."""
        if ".state_dict()" not in facts.source.text or not any(fl.loss_sites for fl in facts.backward_flows):
            return
        seen: set = set()
        for fl in [*facts.flows, *facts.flow.context_flows]:
            for ev in fl.events:
                if ev.what != "optimizer_state_dict_copies" or ev.value is None or id(ev.node) in seen:
                    continue
                seen.add(id(ev.node))
                calls = sorted({id(c.node): c.node for _r, c in ev.value.cut if c.detail == ".state_dict()"}.values(), key=lambda n: (n.lineno, n.col_offset))
                if not calls:
                    continue
                at = calls[0]
                owners = sorted({display_root(r) for r, c in ev.value.cut if c.detail == ".state_dict()"})
                yield self.finding(
                    facts,
                    at,
                    f"the optimizer (line {ev.node.lineno}) is built from the tensors `state_dict()` returns for {', '.join(f'`{o}`' for o in owners)}: "
                    "detached copies of the parameters, which never get a gradient, so `step()` changes nothing",
                    related=[(ev.node, "the optimizer holds only those copies")],
                    fixes=_state_dict_fixes(facts, at),
                    explanation="`state_dict()` returns the parameters' values as tensors detached from autograd (they share storage, "
                    "but `requires_grad` is False and backward never fills their `.grad`); an optimizer built from them skips every "
                    "one. Build the groups from `named_parameters()` (or `parameters()`), which yield the parameters themselves.",
                )

    def _left_out_of_framework_optimizers(self, facts, fl, site, stepping: list, frozen: set, reported: set):
        """A loss the framework backpropagates and steps (Lightning's ``training_step``) reaches a submodule none of the
        optimizers ``configure_optimizers`` built holds (left out of hand-written parameter groups): it gets gradients
        every step and never changes."""
        roots = sorted(r for r in site.loss.live if r.startswith("self.") and "[" not in r)
        origins = {r: o for r in roots if (o := attribute_origin(facts, fl.owner, r.split(".")[1:])) is not None}
        graded = _grad_reads(fl)
        missing = [r for r in origins if not covered_by(r, stepping) and not is_frozen(r, frozen, inner=False) and r.split(".")[0] not in graded
                   and not _given_to_opaque(facts, r) and not _partly_frozen(r, frozen)]
        yield from self._left_out_inside(facts, [r for r in origins if r not in missing], origins, stepping, stepping, frozen, graded, reported, site)
        if not missing or not any(covered_by(r, stepping) for r in roots) or "add_param_group" in facts.source.text:
            return  # (nothing the optimizers hold is reached: they were built from something else the model cannot see)
        missing = [r for r in missing if not any(m != r and r.startswith(m + ".") for m in missing)]
        ctor = stepping[0].node
        groups = ctor.args[0] if isinstance(ctor, ast.Call) and ctor.args else None
        at = groups.elts[0] if isinstance(groups, ast.List) and groups.elts and all(isinstance(g, ast.Dict) for g in groups.elts) else (_params_statement(facts, ctor) or ctor)
        missing = [r for r in missing if r not in reported]
        if not missing:
            return
        reported.update(missing)
        for r in missing:
            left_at = _left_out_at(r, stepping)
            if left_at is not None and not _never_matching_selection(facts, left_at[0]):
                yield self._left_out(facts, r, left_at, origins[r], site)
        missing = [r for r in missing if _left_out_at(r, stepping) is None]
        if not missing:
            return
        names = ", ".join(f"`{display_root(r)}`" for r in missing)
        one = len(missing) == 1
        fixes = []
        if isinstance(groups, ast.List) and at is groups.elts[0]:
            if one:
                params = f"[{missing[0]}]" if _is_tensor_origin(facts, origins[missing[0]]) else f"{missing[0]}.parameters()"
            else:
                params = "[" + ", ".join(r if _is_tensor_origin(facts, origins[r]) else f"*{r}.parameters()" for r in missing) + "]"
            last = groups.elts[-1]
            text = f'{facts.text(last)}, {{"params": {params}}}'
            fixes.append(lambda: fix("Add them as a parameter group (with the optimizer's defaults)", replace_node(facts, last, text), unsafe=True))
        yield self.finding(
            facts,
            at,
            f"no optimizer built here holds {names}: the loss `{fl.node.name}` returns reaches {'it' if one else 'them'}, and the framework "
            f"backpropagates it, so {'it gets' if one else 'they get'} gradients, but never {'changes' if one else 'change'}",
            related=[*((origins[r], f"`{display_root(r)}` is created here") for r in missing), (site.node, "the framework backpropagates this loss and steps the optimizers"),
                     *([(ctor, "the optimizer is built here, from those parameters")] if at is not ctor else [])],
            fixes=fixes,
            explanation="The framework steps the optimizers `configure_optimizers` returns, and `optimizer.step()` updates only the "
            "parameters they were built with; add the missing ones to a parameter group (or build the groups from "
            "`self.named_parameters()`, so that no module is left out).",
        )

    def _left_out_inside(self, facts, roots: list, origins: dict, stepping: list, holders: list, frozen: set, graded: set, reported: set, site):
        """Parameters inside a part the loss reaches that a filter of an optimizer's list left out, one by one (a layer's
        weight while its bias is kept: ``ln.weight`` fails both the rank test of the decay group and the name test of the
        other), when no optimizer holds them."""
        groups: dict = {}  # id(filter node) -> (node, optimizer, [(left-out path, its part)])
        for opt in stepping:
            for lo, node in sorted(opt.left_out, key=_last_filter_first):
                r = next((r for r in roots if lo.startswith(r + ".")), None)
                if r is None or lo in reported or r in reported:
                    continue
                if any(lo == c or lo.startswith(c + ".") for o in holders for c in o.covered):
                    continue
                if is_frozen(lo, frozen, inner=False) or is_frozen(r, frozen, inner=False) or _partly_frozen(r, frozen) or r.split(".")[0] in graded or _given_to_opaque(facts, r):
                    continue
                reported.add(lo)
                groups.setdefault(id(node), (node, opt.node, []))[2].append((lo, r))
        for node, opt_node, los in groups.values():
            if _never_matching_selection(facts, node):
                continue
            yield self._left_out(facts, los[0][0], (node, opt_node), origins[los[0][1]], site, others=[lo for lo, _r in los[1:]])

    def _left_out(self, facts, root: str, left_at: tuple, origin: ast.AST, site, others: Optional[list] = None):
        """``root`` is left out of the optimizer's parameters by a filter (a name test, an id set of other parts'
        parameters) and no other group holds it (nor ``others``, left out by the same filter)."""
        node, opt = left_at
        name = display_root(root)
        held = f"`{name}`"
        if others:
            shown = [f"`{display_root(o)}`" for o in others[:2]]
            rest = len(others) - len(shown)
            held = ", ".join([held, *shown]) + (f" and {rest} more" if rest else "")
        how = "its parameters are put in the set of ids this list leaves out here" if _id_set_call(node) else "this filter leaves its parameters out of the optimizer's list"
        return self.finding(
            facts,
            node,
            f"no optimizer holds {held}: {how}, and no other parameter group holds them; {_loss_at(site)} gives them gradients, but they never change",
            related=[(opt, "the optimizer built from the filtered list"), (origin, f"`{name}` is created here"), (site.node, "backward() reaches it here")],
            explanation="`optimizer.step()` updates only the parameters the optimizer was built with. A parameter list narrowed by a name "
            "test or by a set of ids leaves out every part the test rejects; give those parts a parameter group of their own "
            "(or narrow the filter), so that the groups cover every parameter that gets a gradient.",
        )

    def _unfrozen_later(self, facts, fl, site, opt, part: str, roots: list, stepping: list, frozen: set, reported: set, owner: Optional[str] = None):
        """``part`` was frozen when ``opt`` was built from what required grad, and is unfrozen later while the loss
        still reaches it: the optimizer never got its parameters. ``owner``: the optimizer was built by a framework
        method of that class, so "later" is a method the framework runs afterwards, not a later line."""
        if part in reported or not any(related(part, r) for r in roots) or is_frozen(part, frozen, inner=False):
            return None
        if any(o is not opt and covered_by(part, [o]) and not o.held_out for o in stepping) or "add_param_group" in facts.source.text:
            return None
        ctor_line = getattr(opt.built_by or opt.node, "lineno", 0)  # (built by a helper: where the helper is called)
        got = _unfreeze_after(facts, part, ctor_line, owner)
        if got is None:
            return None
        unfreeze, narrower = got
        shown = narrower or part  # what is unfrozen: a part of what was held out, or all of it
        reported.add(part)
        name = display_root(shown)
        return self.finding(
            facts,
            unfreeze,
            f"the parameters of `{name}` are unfrozen here, but the optimizer was built (line {ctor_line}) from the parameters that required grad "
            f"then, when they were frozen: it does not hold them, so they get gradients from {_loss_at(site)} but never change",
            related=[(opt.node, f"built while `{display_root(part)}` was frozen: its parameters were filtered out"), (site.node, "backward() reaches them here")],
            fixes=_unfreeze_fixes(facts, unfreeze, opt, shown) or _unfilter_fixes(facts, opt.node),
            explanation="An optimizer holds the parameters it was given when it was built; setting `requires_grad = True` later does "
            "not add them. Add them as a parameter group when unfreezing (`optimizer.add_param_group`), or build the optimizer "
            "from all the parameters (frozen ones get no gradient, so they are skipped until they are unfrozen).",
        )


def _state_dict_fixes(facts, call: ast.AST) -> list:
    """``m.state_dict().items()`` -> ``m.named_parameters()``, ``m.state_dict().values()`` -> ``m.parameters()`` (the
    parameters themselves, under the same names; buffers are left out, which an optimizer does not want)."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and not call.args and not call.keywords):
        return []
    outer = facts.parent(call)
    if not (isinstance(outer, ast.Attribute) and outer.attr in ("items", "values")):
        return []
    use = facts.parent(outer)
    if not (isinstance(use, ast.Call) and use.func is outer and not use.args and not use.keywords):
        return []
    new = f"{facts.text(call.func.value)}.{'named_parameters' if outer.attr == 'items' else 'parameters'}()"
    return [lambda: fix(f"Use `{new}`", replace_node(facts, use, new))]


def _duplicate_optimizer(facts, stepping: list, missing: str) -> Optional[tuple]:
    """(optimizer, other) when several distinct optimizers are stepped and every part ``optimizer`` holds is held by
    ``other`` too: each step applies its update to those parameters twice, and the optimizer was most likely meant for
    another part, such as ``missing``. When both hold the same parts, the one whose name names ``missing``
    (``optim_c`` / ``encoder_optimizer`` for ``conditioner`` / ``encoder``) is that one; else None."""
    opts = sorted({id(o.node): o for o in stepping if o.covered and isinstance(o.node, ast.AST)}.values(), key=lambda o: (o.node.lineno, o.node.col_offset))
    words = [w for w in re.split(r"[^a-z]+", missing.lower()) if w and w not in ("self", "module", "model")]

    def names_missing(o) -> bool:
        st = facts.parent(o.node)
        target = st.targets[0] if isinstance(st, ast.Assign) and len(st.targets) == 1 else None
        name = target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else ""
        own = [t for t in re.split(r"[^a-z]+", name.lower()) if t and not t.startswith("opt")]
        return any(w.startswith(t) for t in own for w in words)

    for o in reversed(opts):
        for other in opts:
            if other is o or not all(covered_by(c, [other]) for c in o.covered):
                continue
            same = all(covered_by(c, [o]) for c in other.covered)
            if not same or (names_missing(o) and not names_missing(other)):
                return o, other
    return None


def _last_filter_first(entry: tuple) -> tuple:
    """Order of ``(root, node)`` left-out entries: by root, then the filter that comes last in the file first (a part
    every group's filter leaves out is reported at the last of them, the one a reader meets last)."""
    root, node = entry
    return (root, -getattr(node, "lineno", 0), -getattr(node, "col_offset", 0))


def _left_out_at(root: str, stepping: list) -> Optional[tuple]:
    """``(node, optimizer)``: where a filter of an optimizer's parameter list left out ``root`` (or the part holding it)."""
    for opt in stepping:
        for r, n in sorted(opt.left_out, key=_last_filter_first):
            if root == r or root.startswith(r + "."):
                return n, opt.node
    return None


def _id_set_call(node: ast.AST) -> bool:
    """``map(id, m.parameters())`` / ``{id(p) for p in m.parameters()}``: what builds an id set (not a name test)."""
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id == "map" and bool(node.args) and isinstance(node.args[0], ast.Name) and node.args[0].id == "id"
    return isinstance(node, (ast.SetComp, ast.GeneratorExp, ast.ListComp))


def _loss_at(site) -> str:
    return f"the loss {site.implicit} backpropagates (line {site.line})" if site.implicit else f"the loss backpropagated at line {site.line}"


def _unfreeze_after(facts, part: str, line: int, owner: Optional[str] = None) -> Optional[tuple]:
    """The statement after ``line`` that sets ``requires_grad`` back on for ``part``'s parameters: the ``for`` over
    its parameters, or the ``requires_grad_(True)`` call's statement (or the call of a helper that does it), and the part
    of ``part`` it unfreezes when that is narrower (else None)."""
    # (every flow: a helper's change is recorded where it is called, ``set_trainable(block, True)``, in code that
    # need not mention requires_grad; only asked for an optimizer built from what required grad)
    # (a Lightning Callback's hook the Trainer runs after the optimizers, given the module as ``pl_module``: its
    # changes are the module's, ``self.backbone`` in its walk)
    late_hooks = [ch.flow for ch in lightning_callback_hooks(facts) if ch.module_cls == owner and getattr(ch.hook, "name", "") in RUN_AFTER_OPTIMIZERS.get("lightning", ())] if owner else []
    for fl in [*facts.flows, *late_hooks]:
        if owner is not None and not (fl.owner == owner and runs_after_optimizers(facts, fl.node, owner)) and not any(fl is h for h in late_hooks):
            continue
        for ev in fl.events:
            if ev.target is None or ev.stmt is None or (owner is None and ev.stmt.lineno <= line):
                continue
            if ev.what == "requires_grad_set" and ev.name == "requires_grad":
                value = getattr(ev.stmt, "value", None)
                on = isinstance(value, ast.Constant) and value.value is True
            else:
                on = ev.what in ("requires_grad_call", "requires_grad_via_call") and ev.extra == "True"
            roots = set(ev.target.live) | ({ev.target.ident} if ev.target.ident else set())
            if not on or not any(related(part, r) for r in roots):
                continue
            mine = sorted(r for r in roots if related(part, r))
            narrower = mine[0] if all(r.startswith(part + ".") for r in mine) else None
            outer = facts.parent(ev.stmt)
            if isinstance(outer, ast.For) and ev.stmt in outer.body and ".parameters(" in ast.unparse(outer.iter):
                return outer, narrower
            return ev.stmt, narrower
    return None


_REQUIRES_GRAD = re.compile(r"requires_grad")


def _unfreeze_fixes(facts, stmt: ast.stmt, opt, part: str) -> list:
    """``optimizer.add_param_group({"params": ...})`` after the unfreezing, where it runs once: the parameters of
    ``part`` the optimizer does not hold yet (a part of it may have been trainable, so held, when it was built)."""
    ctor = facts.statement_of(opt.node)
    if not (isinstance(ctor, ast.Assign) and len(ctor.targets) == 1 and isinstance(ctor.targets[0], ast.Name)) or "[" in part:
        return []
    scope = facts.enclosing(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
    if scope is not facts.enclosing(ctor, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    cur = facts.parent(stmt)
    while cur is not None and cur is not scope and not isinstance(cur, ast.If):
        if isinstance(cur, (ast.For, ast.While, ast.AsyncFor)):
            return []  # runs every iteration: a second add_param_group of the same parameters raises
        cur = facts.parent(cur)
    opt_name = ctor.targets[0].id
    missing = f'[p for p in {part}.parameters() if all(p is not q for g in {opt_name}.param_groups for q in g["params"])]'
    return [partial(_add_group, facts, stmt, opt_name, missing)]


def _unfilter_fixes(facts, ctor: ast.AST) -> list:
    """Build the optimizer from all the parameters instead of those that require grad at that moment
    (``filter(lambda p: p.requires_grad, X)`` / ``[p for p in X if p.requires_grad]`` -> ``X``): a parameter that
    is frozen gets no gradient, and optimizers skip parameters whose ``.grad`` is None, so it is stepped only
    once unfrozen. The filter is the constructor's argument or a name assigned once just for it."""
    if not isinstance(ctor, ast.Call):
        return []
    arg = ctor.args[0] if ctor.args else next((k.value for k in ctor.keywords if k.arg == "params"), None)
    if isinstance(arg, ast.Name):
        stmt = _params_statement(facts, ctor)
        arg = stmt.value if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == arg.id else None
    source = _requires_grad_filter_source(arg) if arg is not None else None
    if arg is None or source is None:
        return []
    return [partial(_replace_with, facts, arg, facts.text(source))]


def _replace_with(facts, node: ast.AST, text: str):
    return fix("Build the optimizer from all the parameters", replace_node(facts, node, text), unsafe=True)


def _requires_grad_filter_source(node: ast.AST) -> Optional[ast.AST]:
    """``X`` of ``filter(lambda p: p.requires_grad, X)`` or ``[p for p in X if p.requires_grad]`` (a generator too)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "filter" and len(node.args) == 2 and not node.keywords:
        f = node.args[0]
        if isinstance(f, ast.Lambda) and len(f.args.args) == 1 and _is_requires_grad_of(f.body, f.args.args[0].arg):
            return node.args[1]
        return None
    if isinstance(node, (ast.ListComp, ast.GeneratorExp)) and len(node.generators) == 1:
        g = node.generators[0]
        if isinstance(g.target, ast.Name) and isinstance(node.elt, ast.Name) and node.elt.id == g.target.id and len(g.ifs) == 1 and not g.is_async and _is_requires_grad_of(g.ifs[0], g.target.id):
            return g.iter
    return None


def _is_requires_grad_of(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "requires_grad" and isinstance(node.value, ast.Name) and node.value.id == name


def _params_statement(facts, ctor: ast.AST) -> Optional[ast.stmt]:
    """``params = [...]; opt = Adam(params)``: the statement that lists the parameters (where they are missing),
    when the name is assigned once in the function."""
    if not isinstance(ctor, ast.Call) or not ctor.args or not isinstance(ctor.args[0], ast.Name):
        return None
    name = ctor.args[0].id
    scope = facts.enclosing(ctor, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    stores = [n for n in facts.name_stores(scope) if n.id == name]
    if len(stores) != 1:
        return None
    stmt = facts.statement_of(stores[0])
    if not (isinstance(stmt, ast.Assign) and stmt.lineno < ctor.lineno):
        return None
    return _filled_from(facts, scope, stmt, name) or stmt


def _filled_from(facts, scope: ast.AST, stmt: ast.Assign, name: str) -> Optional[ast.stmt]:
    """``groups = []`` filled by ``groups.append(...)`` in one ``for`` loop: what lists the parts, the statement
    that assigns the list the loop walks (``layers = [model.embeddings] + list(model.encoder.layer)``; through
    ``enumerate`` / ``reversed`` / ``list``), else the loop."""
    if not (isinstance(stmt.value, ast.List) and not stmt.value.elts):
        return None
    loops: list = []
    for n in walk_nodes(scope):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("append", "extend") \
                and isinstance(n.func.value, ast.Name) and n.func.value.id == name:
            loop = facts.enclosing(n, (ast.For,))
            if loop is None or loop.lineno < stmt.lineno:
                return None
            if all(loop is not x for x in loops):
                loops.append(loop)
    if len(loops) != 1:
        return None
    selection = _selection_by_loop_key(loops[0])
    if selection is not None:
        return selection  # (``for prefix, lr in cfg["groups"].items(): params = [p for n, p in ... if n.startswith(prefix)]``)
    it = loops[0].iter
    while isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id in ("enumerate", "reversed", "list") and len(it.args) == 1:
        it = it.args[0]
    if isinstance(it, ast.Name):
        stores = [n for n in facts.name_stores(scope) if n.id == it.id]
        listed = facts.statement_of(stores[0]) if len(stores) == 1 else None
        if isinstance(listed, ast.Assign) and listed.lineno < loops[0].lineno:
            return listed
    return loops[0]


def _builder_call(facts, ctor: ast.AST, fl, root: str) -> Optional[ast.stmt]:
    """The statement that calls the helper which builds the optimizer ``ctor`` from its arguments (``optimizer =
    build_optimizer(user_tower)``), when ``ctor`` is in a module-level function other than ``fl``'s that takes
    parameters, builds the optimizer from one of them, and is called once in the file, without the object of the
    missing ``root`` (a helper handed it and leaving it out is fixed in the helper); else None."""
    fn = facts.enclosing(ctor, (ast.FunctionDef, ast.AsyncFunctionDef))
    if fn is None or fn is fl.node or not any(fn is n for n in facts.tree.body):
        return None
    names = {a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
    if not names or not any(isinstance(n, ast.Name) and n.id in names for n in walk_nodes(fn) if n is not ctor):
        return None
    calls = [c for c in facts.nodes_near(ast.Call, (fn.name,)) if isinstance(c.func, ast.Name) and c.func.id == fn.name]
    if len(calls) != 1 or not (calls[0].args or calls[0].keywords):
        return None
    obj = root.replace("[]", "").split(".")[0].split("@")[0]
    for a in [*calls[0].args, *(k.value for k in calls[0].keywords)]:
        if any(isinstance(n, ast.Name) and n.id == obj for n in walk_nodes(a)):
            return None
    return facts.statement_of(calls[0])


def _handed_to_builder(facts, ctor: ast.AST, fl, root: str) -> Optional[tuple]:
    """(the call statement, the object's name, the helper's name) when the module-level helper that builds the optimizer
    ``ctor`` (not ``fl``'s function) is called once and handed the object of the missing ``root`` by name; else None."""
    fn = facts.enclosing(ctor, (ast.FunctionDef, ast.AsyncFunctionDef))
    if fn is None or fn is fl.node or not any(fn is n for n in facts.tree.body):
        return None
    calls = [c for c in facts.nodes_near(ast.Call, (fn.name,)) if isinstance(c.func, ast.Name) and c.func.id == fn.name]
    if len(calls) != 1:
        return None
    obj = root.replace("[]", "").split(".")[0].split("@")[0]
    if not any(isinstance(a, ast.Name) and a.id == obj for a in [*calls[0].args, *(k.value for k in calls[0].keywords)]):
        return None
    return facts.statement_of(calls[0]), obj, fn.name


def _factory_build(facts, made: ast.AST) -> Optional[ast.stmt]:
    """For ``model = load_checkpoint(model, blob)`` (a call of an in-file function that returns a name it binds once to a
    new object): that binding in the function (``restored = type(model)(**model.config)``); else None."""
    value = getattr(made, "value", None)
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
        return None
    fn = next((n for n in facts.tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == value.func.id), None)
    if fn is None:
        return None
    returns = [n for n in walk_nodes(fn) if isinstance(n, ast.Return) and n.value is not None]
    if len(returns) != 1 or not isinstance(returns[0].value, ast.Name):
        return None
    name = returns[0].value.id
    binds = [n for n in walk_nodes(fn) if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and n.targets[0].id == name]
    return binds[0] if len(binds) == 1 and isinstance(binds[0].value, ast.Call) else None


def _pass_both_fixes(facts, builder: ast.stmt, ctor: ast.AST, root: str) -> list:
    """``build_optimizer(query_tower)`` -> ``build_optimizer(nn.ModuleList([query_tower, doc_tower]))``: the helper then
    builds its optimizer over both objects' parameters. Only when the call passes one plain name, the missing ``root`` is
    a whole object bound to a plain name, and the helper reads that parameter only as ``<p>.parameters()`` /
    ``<p>.named_parameters()`` (a ModuleList has both, over every part)."""
    fn = facts.enclosing(ctor, (ast.FunctionDef, ast.AsyncFunctionDef))
    call = next((n for n in walk_nodes(builder) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and fn is not None and n.func.id == fn.name), None)
    if call is None or fn is None or len(call.args) != 1 or call.keywords or not isinstance(call.args[0], ast.Name) or not re.fullmatch(r"\w+", root):
        return []
    params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
    if not params:
        return []
    p = params[0]
    for n in walk_nodes(fn):
        if isinstance(n, ast.Name) and n.id == p:
            parent = facts.parent(n)
            if not (isinstance(parent, ast.Attribute) and parent.attr in ("parameters", "named_parameters") and isinstance(facts.parent(parent), ast.Call)):
                return []
    nn = alias_for(facts, "torch.nn")
    if nn is None:
        return []
    text = f"{nn}.ModuleList([{call.args[0].id}, {root}])"
    return [lambda: fix(f"Build the optimizer over both: pass `{text}`", replace_node(facts, call.args[0], text), unsafe=True)]


def _synced_or_self_optimized(facts, root: str) -> bool:
    """Is the module ``root`` (a name of the program) kept another way: overwritten from another module's weights
    (``q_target.load_state_dict(q.state_dict())``, a DQN target network kept in sync), or an instance of an in-file class
    whose ``__init__`` builds an optimizer over its own parameters (``self.optimizer = optim.Adam(self.parameters())``,
    stepped by its own ``train_net``)? (A part of such a module, ``q1.fc_s``, is held by the same optimizer.)"""
    root = root.replace("[]", "").split(".")[0]
    if "[" in root:
        return False
    origin = facts.flow.root_origins.get(root)
    if origin is None or origin.kind != "module":
        return False
    for call in facts.nodes_near(ast.Call, ("load_state_dict",)):
        f = call.func
        src = call.args[0] if call.args else None
        # (the live weights of another module, ``q.state_dict()``; not a checkpoint dict restored once)
        if isinstance(f, ast.Attribute) and f.attr == "load_state_dict" and isinstance(f.value, ast.Name) and f.value.id == root \
                and isinstance(src, ast.Call) and isinstance(src.func, ast.Attribute) and src.func.attr == "state_dict" \
                and root not in {n.id for n in walk_nodes(src) if isinstance(n, ast.Name)}:
            return True
    init = facts.modules.method(origin.cls, "__init__") if origin.cls else None
    if init is not None:
        for st in walk_nodes(init):
            if isinstance(st, ast.Assign) and isinstance(st.value, ast.Call) and is_optimizer_ctor(facts.imports.qualname(st.value.func) or "") \
                    and st.value.args and "self.parameters()" in facts.text(st.value.args[0]):
                return True
    return False


def _only_input_of_trained_modules(facts, root: str, stepping: list) -> bool:
    """Is the tensor ``root`` (a local that requires grad) used only as what a model the stepped optimizer trains is given
    (``model(x).sum().backward()`` with ``x = torch.randn(..., requires_grad=True)``, a test asking that gradients flow
    through to the input)? It is the model's data, not a parameter the optimizer was meant to hold: a latent code to
    optimize is given to a model the optimizer does not train, or is held by it."""
    if "." in root or "[" in root:
        return False
    origin = facts.flow.root_origins.get(root)
    if origin is None or origin.kind != "tensor":
        return False
    scope = facts.enclosing(origin.stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    made = (origin.stmt.end_lineno or origin.stmt.lineno, origin.stmt.end_col_offset or 0)
    # (the reads after the leaf is made: ``train_Y = train_X.sum(-1)`` before ``train_X = train_X.requires_grad_()`` reads data)
    loads = [n for n in facts.own_nodes(scope) if isinstance(n, ast.Name) and n.id == root and isinstance(n.ctx, ast.Load)
             and (n.lineno, n.col_offset) > made]
    if not loads:
        return False
    for n in loads:
        call = facts.parent(n)
        if not (isinstance(call, ast.Call) and call.args and call.args[0] is n):
            return False
        head = call.func
        while isinstance(head, ast.Attribute):
            head = head.value
        if not isinstance(head, ast.Name) or head.id == root or not covered_by(head.id if call.func is head else facts.text(call.func), stepping):
            return False
    return True


def _made_each_iteration(facts, root: str, site, step_fn: Optional[ast.AST] = None) -> bool:
    """A tensor created inside the training loop (an input that requires grad, for a gradient penalty) is
    made anew every iteration: it is data, not a parameter an optimizer should hold. ``step_fn``: the framework's
    per-batch step method the site is in (a Lightning ``training_step``), or a step function a loop calls (``critic_step``
    calling ``self.penalty(real, fake)``, which makes ``x_hat``), which is the loop's body."""
    origin = facts.flow.root_origins.get(root.replace("[]", "").split(".")[0])
    if origin is None:
        return False
    if "@" in root.split(".")[0] and origin.kind in ("module", "instance"):
        return False  # a new model bound, in the loop, to the name of the one the optimizer holds: not data
    line = origin.stmt.lineno
    if any(lp.lineno <= line <= (lp.end_lineno or lp.lineno) for lp in site.loops):
        return True
    # (a name bound in several functions: the binding in the loop of this site's own function, ``interp = (...).
    # requires_grad_(True)`` in each of two critic loops, is the one this backward reaches)
    name = root.replace("[]", "").split(".")[0].split("@")[0]
    if site.loops and "." not in root and any(
        isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for lp in site.loops[-1:] for n in walk_nodes(lp)
    ):
        return True
    # made inside a function the loop calls (``pred = torch.tensor(..., requires_grad=True)`` in a loss's
    # ``forward``): a fresh tensor on every call, not a parameter kept across steps
    fn = facts.enclosing(origin.stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
    body = site.loops[-1] if site.loops else step_fn
    if fn is None or fn.name == "__init__" or body is None:
        return False
    if fn is step_fn or fn.name in ("forward", "__call__"):
        return True  # the step method itself, or a module's or a loss object's call: run on every step
    return any(isinstance(c, ast.Call) and ((isinstance(c.func, ast.Name) and c.func.id == fn.name) or (isinstance(c.func, ast.Attribute) and c.func.attr == fn.name)) for c in walk_nodes(body))


def _given_to_opaque(facts, root: str) -> bool:
    """Is a part of ``root`` (``model.backbone`` of ``model.backbone.body``) passed to a function this file does not
    define (``freeze(model.backbone)`` imported from another module)? It may have frozen it: stay quiet."""
    parts = display_root(root).split(".")
    prefixes = {".".join(parts[:i]) for i in range(2, len(parts) + 1)}
    here = {n.name for n in facts.tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for call in facts.nodes_near(ast.Call, (parts[0],)):
        f = call.func
        if isinstance(f, ast.Name) and f.id in here:
            continue
        if isinstance(f, ast.Attribute) or (isinstance(f, ast.Name) and hasattr(builtins, f.id)):
            continue  # a method, or a builtin
        if (facts.imports.qualname(f) or "").startswith("torch."):
            continue
        if any(facts.text(a) in prefixes for a in [*call.args, *(k.value for k in call.keywords)]):
            return True
    return False


def _bound_after_optimizer(facts, root: str, made: ast.AST, opt_node: ast.AST, backward: ast.AST, via: Optional[ast.AST] = None) -> Optional[tuple]:
    """For an object a helper builds and returns (``restored = type(model)(...)`` in ``load_checkpoint``), the statement
    of the function that builds the optimizer which first binds it to a name after the optimizer exists
    (``model = load_checkpoint(model, blob)``), that name, and whether the name held something before; None when the
    object is made in that function, or trained in the function that makes it (``net = copy.deepcopy(model)`` in
    ``fit``: the copy is trained there, not where ``fit``'s result is bound), also by a training helper it calls (``via``,
    the call the backward's function was analyzed at: ``run_epoch(model, loader, optimizer)`` in ``fit``)."""
    funcs = (ast.FunctionDef, ast.AsyncFunctionDef)
    fn, maker = facts.enclosing(opt_node, funcs), facts.enclosing(made, funcs)
    if fn is None or maker is fn or maker is facts.enclosing(backward, funcs) or (via is not None and maker is facts.enclosing(via, funcs)):
        return None
    fl = facts.flow.flow(fn)
    after = (getattr(opt_node, "lineno", 0), getattr(opt_node, "col_offset", 0))
    stores = sorted((n for n in facts.own_nodes(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)), key=lambda n: (n.lineno, n.col_offset))
    for node in stores:
        if (node.lineno, node.col_offset) <= after:
            continue
        v = fl.assigned.get(id(node))
        st = facts.statement_of(node)
        if v is not None and root in v.live and isinstance(st, ast.Assign) and isinstance(st.value, ast.Call):
            return st, node.id, any(n.id == node.id and (n.lineno, n.col_offset) < (node.lineno, node.col_offset) for n in stores)
    return None


def _rebound(root: str) -> str:
    """For a new object bound to a name an older one had (root ``model@54``): say so."""
    name, at, _line = root.partition("@")
    return f" (those of the object `{name}` named before this new one was bound to it)" if at else ""


def _called_in_loop(facts, fl) -> bool:
    """A training-step function (backward, then step, once per call) analyzed at a call its caller makes in a
    loop: ``for batch in loader: train_step(model, opt, batch)``."""
    call = fl.context
    if call is None:
        return False
    cur = facts.parent(call)
    while cur is not None and not isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
        if isinstance(cur, (ast.For, ast.AsyncFor, ast.While)):
            return True
        cur = facts.parent(cur)
    return False


def _root_kind(facts, root: str) -> Optional[str]:
    """``"tensor"`` for a tensor the program made (``latent = mean.clone().requires_grad_()``), ``"module"`` for a
    module or a part of one (``g_ema.style.weight``), else None."""
    origin = facts.flow.root_origins.get(root.replace("[]", "").split(".")[0])
    if origin is None:
        return None
    if origin.kind == "module" or origin.cls is not None:
        return "module"
    return "tensor" if origin.kind == "tensor" and origin.leaf and "." not in root else None


def _plain_owner(facts, fl) -> bool:
    """Is ``fl`` a method of an in-file plain (not Module) class: a trainer object whose methods train what it keeps?"""
    info = facts.modules.classes.get(fl.owner or "")
    return info is not None and info.is_module is False and not info.is_autograd_function


def _framework_step_method(facts, fl) -> bool:
    """The method a framework calls once per batch (Lightning's ``training_step``), here backpropagating and
    stepping by itself (manual optimization: ``self.manual_backward(loss)``, ``opt.step()``): a training loop's body."""
    info = facts.modules.classes.get(fl.owner or "")
    return info is not None and bool(info.framework) and getattr(fl.node, "name", None) == STEP_METHODS_BY_FRAMEWORK.get(info.framework or "")


def _caller_optimizers(facts, fl) -> list:
    """The optimizers the function that made ``fl``'s call builds or receives."""
    caller = facts.enclosing(fl.context, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    cfl = facts.flow.flow(caller)
    return facts.optimizers_for(cfl) + [OptimizerSite(caller, v.params) for n, v in cfl.assigned.items() if v.kind == "optimizer" and v.params]


def _steps_in_loop(fl, site) -> bool:
    """An optimizer step in the innermost loop of the backward: a training loop."""
    loop = site.loops[-1]
    return any(e.what == "step" and loop in e.loops for e in fl.events)


def _grad_reads(fl) -> set:
    """Objects whose ``.grad`` the function reads: their gradients are used directly (inspection,
    a reference computation), not meant for an optimizer."""
    out = set()
    for e in fl.events:
        if e.what == "grad_read" and e.target is not None:
            for r in set(e.target.live) | ({e.target.ident} if e.target.ident else set()):
                out.add(r.replace("[]", "").split(".")[0])
    return out


def _step_node(fl, site) -> Optional[ast.AST]:
    start = (site.node.lineno, site.node.col_offset)
    steps = [e.node for e in fl.events if e.what == "step" and (e.node.lineno, e.node.col_offset) > start]
    return min(steps, key=lambda n: (n.lineno, n.col_offset)) if steps else None


def _fixes(facts, ctor: ast.AST, root: str) -> list:
    """``optimizer.add_param_group({"params": ...})`` after the statement that builds the optimizer, when
    the optimizer is bound to a plain name there and the root is an expression valid in that scope."""
    stmt = facts.statement_of(ctor)
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and stmt.value is ctor):
        return []
    if "[" in root:
        return []
    first = root.split(".")[0]
    scope = facts.enclosing(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    target = stmt.targets[0]
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self" == first and isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        # ``self.optimizer = SGD(...)`` in a trainer object's ``__init__``, the part it left out built there before it
        return _self_fixes(facts, scope, stmt, f"self.{target.attr}", root)
    if not isinstance(target, ast.Name):
        return []
    bound = {n.id for n in walk_nodes(scope) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        bound |= {a.arg for a in [*scope.args.posonlyargs, *scope.args.args, *scope.args.kwonlyargs]}
    if first not in bound:
        return []
    origin = facts.flow.root_origins.get(first)
    leaf = origin is not None and origin.leaf and "." not in root
    if root.endswith((".weight", ".bias")) and attribute_origin(facts, origin.cls if origin is not None else None, root.split(".")[1:]) is not None:
        root = root.rsplit(".", 1)[0]  # (a layer's own parameter read directly, ``self.centres.weight``: the layer's parameters)
    params = f"[{root}]" if leaf or _is_tensor_attr(facts, root) else f"{root}.parameters()"
    if "." in root and _wrapped_at(facts, scope, first, stmt):
        # ``dh_model = nn.DataParallel(Model())``: the parts are the wrapped module's (``dh_model.module.clf_head``)
        params = params.replace(first + ".", first + ".module.", 1)
    return [partial(_add_group, facts, stmt, target.id, params)]


def _tied_layer(facts, fl, root: str) -> bool:
    """Is ``root`` a layer whose class sets its weight (or bias) to another tensor (``self.decoder.weight =
    model.embed.weight``, a language-model head tied to the embedding)? The tied tensor is another part's parameter, which
    an optimizer may hold under that part's name: whether the layer is held is not known from its own name."""
    parts = root.replace("[]", "").split(".")
    if len(parts) < 2:
        return False
    if parts[0] == "self":
        cls = fl.owner
    else:
        origin = facts.flow.root_origins.get(parts[0])
        cls = origin.cls if origin is not None else None
    for attr in parts[1:-1]:
        cls = facts.modules.attr_class(cls, attr)[0] if cls else None
    info = facts.modules.classes.get(cls or "")
    if info is None:
        return False
    last = parts[-1]
    return any(isinstance(n, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr in ("weight", "bias") and isinstance(t.value, ast.Attribute)
                                                 and t.value.attr == last and isinstance(t.value.value, ast.Name) and t.value.value.id == "self" for t in n.targets)
               for m in info.methods.values() for n in walk_nodes(m))


def _wrapped_at(facts, scope, name: str, stmt: ast.stmt) -> bool:
    """Is ``name``, where ``stmt`` runs, a ``DataParallel`` / ``DistributedDataParallel`` wrapper (its last binding in the
    scope before ``stmt`` is one)? Such a wrapper does not pass attribute reads on to the module it wraps."""
    last = None
    for n in walk_nodes(scope):
        if isinstance(n, ast.Assign) and n.lineno < stmt.lineno and any(isinstance(t, ast.Name) and t.id == name for t in n.targets):
            if last is None or n.lineno > last.lineno:
                last = n
    return last is not None and isinstance(last.value, ast.Call) and (facts.imports.qualname(last.value.func) or "") in FORWARDS_TO_MODULE


def _distinct(fixes: list) -> list:
    """The fixes without repeats (the same optimizer reached through several sites gives the same edit)."""
    out, seen = [], set()
    for f in fixes:
        key = (id(f.args[1]), f.args[2], f.args[3]) if isinstance(f, partial) and f.func is _add_group else id(f)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _self_fixes(facts, method, stmt: ast.stmt, opt: str, root: str) -> list:
    """``self.optimizer.add_param_group(...)`` after ``self.optimizer = ...`` for a part ``self.<a>...`` the method assigns
    before that statement: its parameters, or ``[tensor]`` for a tensor attribute (``self.center_loss.centers``)."""
    parts = root.split(".")
    if len(parts) < 2:
        return []
    made = [st for st in method.body if isinstance(st, ast.Assign) and st.lineno < stmt.lineno and any(
        isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self" and t.attr == parts[1] for t in st.targets)]
    if not made:
        return []
    owner = facts.enclosing(method, (ast.ClassDef,))
    made_as = attribute_origin(facts, owner.name if isinstance(owner, ast.ClassDef) else None, parts[1:])
    if root.endswith((".weight", ".bias")) and len(parts) > 2:
        root, made_as = root.rsplit(".", 1)[0], None  # (a layer's own parameter read directly: the layer's parameters)
    params = f"[{root}]" if made_as is not None and len(parts) > 2 and _is_tensor_origin(facts, made_as) else f"{root}.parameters()"
    return [partial(_add_group, facts, stmt, opt, params)]


def _is_tensor_origin(facts, call: ast.AST) -> bool:
    """Was an attribute made as a tensor (``nn.Parameter(...)``, ``torch.zeros(..., requires_grad=True)``), not a module?"""
    return isinstance(call, ast.Call) and (facts.imports.qualname(call.func) or "").rsplit(".", 1)[-1] in ("Parameter", "zeros", "ones", "randn", "rand", "full", "tensor", "empty")


def _is_tensor_attr(facts, root: str) -> bool:
    parts = root.split(".")
    origin = facts.flow.root_origins.get(parts[0])
    if origin is None or len(parts) < 2 or origin.cls not in facts.modules.classes:
        return False
    cls = origin.cls
    for attr in parts[1:-1]:
        acls, _ = facts.modules.attr_class(cls, attr)
        if not acls:
            return False
        cls = acls
    values = facts.modules.classes[cls].attr_values.get(parts[-1]) or []
    return bool(values) and all(isinstance(v, ast.Call) and not facts.modules.attr_class(cls, parts[-1])[0] and (facts.imports.qualname(v.func) or "").rsplit(".", 1)[-1] in ("Parameter", "zeros", "ones", "randn", "rand", "full", "tensor", "empty") for v in values)


def _add_group(facts, stmt: ast.stmt, opt: str, params: str):
    return fix(f"Add them to `{opt}`", insert_after_stmt(facts, stmt, f'{opt}.add_param_group({{"params": {params}}})'), unsafe=True)


def _partly_frozen(root: str, frozen: set) -> bool:
    """Some parameter of ``root`` is frozen on purpose (``model.embed.weight.requires_grad_(False)``, perhaps
    in a helper): that no optimizer holds the root is then most likely meant (an Embedding's only parameter is
    its weight); say nothing rather than guess which of its parameters were to train."""
    return any(f.startswith(root + ".") for f in frozen)


def _never_matching_selection(facts, node: ast.AST) -> bool:
    """Does the function of the filter ``node`` also select parameters by a name test that is never true (a prefix
    test on the names of a DataParallel / DDP wrapper, GG810's): then the group meant to hold what this filter leaves
    out is the one that comes out empty, and the bug is that test, not this filter."""
    fn = facts.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    return any(ev.what == "name_test_never_true" for fl in (*facts.flows, *facts.flow.context_flows) if fl.node is fn for ev in fl.events)


def _selection_by_loop_key(loop: ast.For) -> Optional[ast.stmt]:
    """The one statement of the loop's body that selects parameters by name with a test on the loop's own variable
    (``params = [p for n, p in model.named_parameters() if n.startswith(prefix)]``): the test that decides, for each
    key of the loop, which parameters its group holds."""
    targets = {n.id for n in walk_nodes(loop.target) if isinstance(n, ast.Name)}
    found = []
    for st in loop.body:
        v = st.value if isinstance(st, ast.Assign) else None
        if isinstance(v, ast.ListComp) and len(v.generators) == 1:
            gen = v.generators[0]
            it = gen.iter
            if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "named_parameters" and any(
                    isinstance(n, ast.Name) and n.id in targets for c in gen.ifs for n in walk_nodes(c)):
                found.append(st)
    return found[0] if len(found) == 1 else None

