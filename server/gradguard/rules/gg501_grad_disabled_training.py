"""GG501 grad-disabled-training: training values computed under ``no_grad`` / ``inference_mode``."""
from __future__ import annotations

import ast
import re
from functools import partial
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.classes import may_have_parameters
from gradguard.core.flow import UNKNOWN, related
from gradguard.core.model import Applicability, Edit, Severity
from gradguard.core.order import position
from gradguard.core.source import Pos
from gradguard.core.starvation import cut_order, display_root, eval_paths, frozen_paths, is_frozen
from gradguard.core.torchapi import ALIASING_OPS, FROZEN_BY_DEFAULT, LOSS_SINK_WORDS, PARAMETER_CTORS, PARAMLESS_SUFFIXES, is_module_ctor
from gradguard.core.training import covered_by, stepped_after, stepped_by_framework
from gradguard.fixes import fix, insert_after_stmt, insert_before_stmt, line_indent, newline, replace_node
from gradguard.rules._cuts import branch_message, loss_label, other_cuts_where, related_for, roots_label, sole_cut
from gradguard.rules._leafs import is_computing_expr
from gradguard.rules.base import Example, Rule


class GradDisabledTraining(Rule):
    code = "GG501"
    name = "grad-disabled-training"
    summary = "A value that a backpropagated loss needs is computed under `torch.no_grad()` / `torch.inference_mode()` / `set_grad_enabled(False)` or in a `@torch.no_grad()` function."
    severity = Severity.WARNING
    needs = LOSS_SINK_WORDS
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Follows values computed while gradient recording is off (`with torch.no_grad():`,
`with torch.inference_mode():`, `with torch.set_grad_enabled(False):` or with a condition that is false on every
iteration (`set_grad_enabled(phase == "training")` inside `for phase in ("train", "val")`; `set_grad_enabled(train and
i == len(steps))` inside `for i, t in enumerate(steps)`, whose counter never reaches `len(steps)`; also a flag computed
from the constants the callers pass, `is_training = phase == "training"` in a helper every caller gives
"train" or "val", reported with the flag's test as related information; a module-level constant the callers pass
counts as its value, also an entry of a module-level dict literal nothing writes, `SETTINGS["phases"]["fit"]`), or a function or
method decorated with `@torch.no_grad()` / `@torch.inference_mode()`) to the losses that are backpropagated. It flags the
grad-disabling block (or decorator) when parameters an optimizer trains reach the loss *only* through it,
and always flags `inference_mode` values that feed a backpropagated loss. A function that computes a loss and
calls `backward()` on it, called where its caller has switched recording off (a custom optimizer's
`@torch.no_grad()` `step` calling the `closure` it is given, as PyTorch's own optimizers do only under
`torch.enable_grad()`), is flagged on that call: its `backward()` raises. The innermost mode wins: code
under `torch.enable_grad()` inside a `no_grad` block records normally and is not flagged. Teacher / target
networks under `no_grad` whose parameters are not trained by that loss stay silent, and so do the parts of a model frozen
whole and then partly unfrozen (`for p in model.parameters(): p.requires_grad = False`, then `True` over `model.head`: a
linear probe's encoder), where its class shows its parts. A block whose only statement runs one submodule of the
model (`with torch.no_grad(): feats = self.backbone(x)`), when that submodule's parameters are all it starves, is how a
frozen feature extractor is written: it is reported as information only (a deepcopy of another part run that way, a
target network nothing updates, stays a warning). A part frozen only in some
configurations (`if not train_text_encoder: text_encoder.requires_grad_(False)`) is still wanted trained in the others,
so a `no_grad` block that always covers it is flagged. `with torch.set_grad_enabled(self.training):` in the `forward` of
a class held inside a part the program puts in evaluation mode while it trains (`model.encoder.eval()` in a fine-tuning
helper) turns gradients off there: `eval()` sets `training = False` on every submodule. So does a `forward` whose
evaluation branch (`if not self.training:`, or the `else` of `if self.training:`) runs under `torch.no_grad()`, in a part
the training function puts in evaluation mode (`vq_model.quantize.eval()` to keep an EMA codebook fixed): every pass
takes that branch, and nothing before the part gets a gradient through it. Reported on the `eval()` call (an error when
the loss is left with no gradient path); `eval()` in evaluation code (a function named for validation, a `no_grad`
block) is left alone.
Lightning runs `validation_step`, `test_step` and `predict_step` under `torch.inference_mode()`: a tensor such
a step (or an `@torch.inference_mode()` method) computes from the model and keeps on the object
(`self.prototypes = ...`, also in a helper method that only such steps call), when every assignment of that
attribute is such a one, is an inference tensor in
the training step that reads it; it is flagged on the assignment (a `.clone()` made outside inference
mode is a normal tensor and stays silent).
`torch.enable_grad()` (or `set_grad_enabled(True)`) does not leave inference mode: a loss computed under it inside
`torch.inference_mode()` has no `grad_fn` either. So a loss backpropagated in a Lightning evaluation step (forces
as `-torch.autograd.grad(energy, pos)` in `validation_step`, under `with torch.enable_grad():`) raises when this file
builds the Trainer with its default `inference_mode=True`; it is reported on that `Trainer(...)`, with the fix
`inference_mode=False` (evaluation under `no_grad`, which `enable_grad` does leave). Without a Trainer in the file
the step may run under either, and nothing is claimed (runtime proof: `tests/test_framework_hooks.py`).
A function that runs `torch.set_grad_enabled(False)` as a statement and returns without switching it back, at
its end or on an early `return` (one not inside a `try` whose `finally` runs), leaves recording off for its
caller: the training that follows the call is reported on that statement, with the early return as related
information (the fix calls the function's own `torch.set_grad_enabled(True)` before that return too). Grad mode
is global state, so a Lightning hook the Trainer runs before the training steps (`setup`, `on_fit_start`,
`on_train_start`, `on_train_epoch_start`, `on_train_batch_start`) that leaves it off, itself or through a helper
it calls, leaves it off for `training_step` too; so does a hook of a Lightning `Callback` the file builds (those run
between training steps, an epoch-end hook only when some trainer of the file runs more than one epoch), and an event of a
Hugging Face `TrainerCallback` (`on_train_begin`, `on_epoch_begin`, `on_step_end`, `on_evaluate`, ...) for the model's
`forward` and `compute_loss` the Trainer runs after it, also through a method of an object the callback keeps
(`self.monitor.freeze_graph()`, the object's class known from every construction of the callback).
A custom `torch.autograd.Function` whose `backward` recomputes part of the forward and differentiates it
(`y = f(x.detach().requires_grad_())`, then `torch.autograd.grad(y, x, grad_output)`, as memory-efficient activations
do) without `with torch.enable_grad():` is flagged on that recomputation (error): autograd runs `backward` with grad
mode off, so `y` has no graph and the call raises (files that mention `enable_grad`, `set_grad_enabled` or
`create_graph` are left alone).
A module whose mode the program set (`model.eval()`, kept while it trains, for frozen BatchNorm statistics) reaches its
parts too: `with torch.set_grad_enabled(self.training):` in a part's `forward` then records nothing, and the part is
reported like any `no_grad` block. `trainer.validate(model)` (or `test` / `predict`) before `trainer.fit(model)` runs the model's first forward passes
under inference mode: a tensor a part of the model builds lazily on its first call and keeps for later calls (a rotary
cos/sin table under `if seq_len > self._seq_len_cached:`), read as a factor of a product, is an inference tensor
the training steps reuse; it is flagged on the assignment that caches it (a warning: a longer training input would
rebuild the table). Parameters made under inference mode are inference tensors too: a new layer (`model.head = nn.Linear(...)`), an
`nn.Parameter` of a tensor computed there (`nn.Parameter(torch.cat([old, rows]))`, a vocabulary grown by an
`@torch.inference_mode()` helper) or `nn.Embedding.from_pretrained(<computed>, freeze=False)`, put on a model that is
trained afterwards (a later backward of a loss they reach and a step of an optimizer that holds them, or
`Trainer.fit(model)` of a LightningModule whose training step reaches them), are flagged on what switched inference
mode on (error): training raises, or they get no gradient. A frozen table (`from_pretrained` keeps `freeze=True`), a
`nn.Parameter` wrapping a tensor made elsewhere (it aliases that normal tensor) and a model only evaluated afterwards
stay silent.
Tensors computed under `inference_mode` from data alone (a padding or normalization module whose `forward` is
decorated with `@torch.inference_mode()`) are inference tensors too: fed to a layer that trains, they are reported
the same way. A module's forward pre-hooks run at each of its calls (`self.stem.register_forward_pre_hook(lambda m,
args: (pad(args[0]),))`): what a hook returns is the input the layer gets. A call that leaves an optional argument at
its `None` default does not run the method's `if cond is not None:` branch: `model(x)` reaches only the parts the other
branch uses, so a part reached only by `model(x, cond)` under `no_grad` is starved.

## Why is this bad?
Under `no_grad` nothing is recorded: the result has no `grad_fn`, so the parameters upstream get no gradient
(`.grad` stays None) and, when nothing else in the loss requires grad, `backward()` raises
`element 0 of tensors does not require grad and does not have a grad_fn`. A `@torch.no_grad()` decorator
copied from an inference helper onto a method that `forward()` also calls silently freezes everything
behind it. Tensors created under `inference_mode` are worse: as soon as an op that autograd records saves
one for backward (a `Linear`, a multiplication, a loss), it raises
`RuntimeError: Inference tensors cannot be saved for backward`, even when other parameters train.

## Example
```python
with torch.no_grad():          # copied from the validation loop
    loss = criterion(model(x), y)
loss.backward()                # RuntimeError

with torch.inference_mode():
    feats = backbone(images)
loss = F.cross_entropy(head(feats), labels)
loss.backward()                # Inference tensors cannot be saved for backward
```

## Use instead
```python
loss = criterion(model(x), y)
loss.backward()

with torch.no_grad():          # frozen features: no_grad tensors can be saved for backward
    feats = backbone(images)
```

## Fix safety
Replacing `torch.inference_mode()` by `torch.no_grad()` is safe when the trained parameters do not depend on
the block: it only lifts the inference-tensor restriction, the values stay frozen. Removing a
`@torch.no_grad()` decorator, or unwrapping a `with torch.no_grad():` block (its body is dedented), makes the
code record gradients again and is unsafe: the block may also hold evaluation code that was meant to run
without gradients, and memory use grows. It is not offered when the value computed there is computed once, outside the
loop whose every iteration runs the backward (`txt_emb = self.encode_all_texts(tokens)` before a loop of per-chunk
`manual_backward` calls): recorded, that one graph would be freed by the first pass and the second would raise. Nor
when an optimizer steps between the block and the first use of a value it computes (a DDPG policy objective computed
in the target's `no_grad` block, used after the critic's step): recorded there, its graph would hold the parameters the
step changes in place, and the backward would raise; compute it after the step instead.
"""
    examples = (
        Example(
            name="decorated-helper-also-gives-the-rollout-values-every-epoch-reuses",
            code="""import torch
import torch.nn as nn


class ActorCritic(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.pi = nn.Linear(8, 2)
        self.v = nn.Linear(8, 1)

    def forward(self, obs):
        h = torch.tanh(self.body(obs))
        return self.pi(h), self.v(h).squeeze(-1)


@torch.no_grad()
def log_probs(policy, obs, actions):
    logits, _ = policy(obs)
    return torch.distributions.Categorical(logits=logits).log_prob(actions)


def update(model, optimizer, obs, actions, old_logp, adv, returns):
    for _ in range(3):
        logp = log_probs(model, obs, actions)
        _, values = model(obs)
        ratio = (logp - old_logp).exp()
        loss = -(ratio * adv).mean() + (values - returns).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = ActorCritic()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    obs = torch.randn(16, 4)
    actions = torch.randint(0, 2, (16,))
    old_logp = log_probs(model, obs, actions)
    update(model, optimizer, obs, actions, old_logp, torch.randn(16), torch.randn(16))
    return {"model": model}
""",
            lines=(17,),
            expect={"grad_none": ["model.pi.weight"], "grad_ok": ["model.v.weight"]},
            fixable=False,
        ),
        Example(
            name="actions-sampled-under-no-grad-feed-the-critic-loss",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    actor = nn.Linear(4, 3)
    critic = nn.Linear(4 + 3, 1)
    opt = torch.optim.Adam([*actor.parameters(), *critic.parameters()], lr=1e-3)
    for _ in range(2):
        s = torch.randn(8, 4)
        with torch.no_grad():
            a = torch.distributions.Categorical(logits=actor(s)).sample()
        q = critic(torch.cat([s, F.one_hot(a, 3).float()], -1)).squeeze(-1)
        loss = F.mse_loss(q, torch.randn(8))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"critic": critic}
""",
            bad=False,
            expect={"grad_ok": ["critic.weight", "critic.bias"]},
        ),
        Example(
            name="policy-objective-computed-in-the-target-block-and-used-after-the-critic-step",
            code="""import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


def update(actor, critic, critic_targ, opt_actor, opt_critic, batch, gamma=0.99):
    s, a, r, s2 = batch
    with torch.no_grad():
        y = r + gamma * critic_targ(torch.cat([s2, actor(s2)], -1)).squeeze(-1)
        q_pi = critic(torch.cat([s, actor(s)], -1))
    critic_loss = F.mse_loss(critic(torch.cat([s, a], -1)).squeeze(-1), y)
    opt_critic.zero_grad()
    critic_loss.backward()
    opt_critic.step()
    actor_loss = -q_pi.mean()
    opt_actor.zero_grad()
    actor_loss.backward()
    opt_actor.step()


def main():
    torch.manual_seed(0)
    actor = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 2), nn.Tanh())
    critic = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1))
    critic_targ = copy.deepcopy(critic).requires_grad_(False)
    opt_actor = torch.optim.Adam(actor.parameters(), lr=1e-3)
    opt_critic = torch.optim.Adam(critic.parameters(), lr=1e-3)
    batch = (torch.randn(8, 3), torch.rand(8, 2) * 2 - 1, torch.randn(8), torch.randn(8, 3))
    update(actor, critic, critic_targ, opt_actor, opt_critic, batch)
    return {"actor": actor}
""",
            lines=(10,),
            expect={"error": "does not require grad"},
            fixable=False,
        ),
        Example(
            name="grad-enabled-only-for-a-step-index-enumerate-never-reaches",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def unroll(step_net, x, steps=4, train=True):
    schedule = torch.linspace(1.0, 0.1, steps)
    for i, scale in enumerate(schedule):
        with torch.set_grad_enabled(train and i == len(schedule)):
            x = x - scale * step_net(x)
    return x


def main():
    torch.manual_seed(0)
    step_net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 4))
    opt = torch.optim.Adam(step_net.parameters(), lr=1e-2)
    x, target = torch.randn(8, 4), torch.zeros(8, 4)
    out = unroll(step_net, x)
    loss = F.mse_loss(out, target)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"step_net": step_net}
""",
            lines=(9,),
            fixable=False,
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="grad-enabled-for-the-last-step-only",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def unroll(step_net, x, steps=4, train=True):
    schedule = torch.linspace(1.0, 0.1, steps)
    for i, scale in enumerate(schedule):
        with torch.set_grad_enabled(train and i == len(schedule) - 1):
            x = x - scale * step_net(x)
    return x


def main():
    torch.manual_seed(0)
    step_net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 4))
    opt = torch.optim.Adam(step_net.parameters(), lr=1e-2)
    x, target = torch.randn(8, 4), torch.zeros(8, 4)
    out = unroll(step_net, x)
    loss = F.mse_loss(out, target)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"step_net": step_net}
""",
            expect={"grad_ok": ["step_net.0.weight", "step_net.2.weight"]},
        ),
        Example(
            bad=False,
            name="hf-model-trained-by-the-trainer-then-probed-under-no-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class Cfg(PretrainedConfig):
    model_type = "tiny-probe-eval"


class Tiny(PreTrainedModel):
    config_class = Cfg

    def __init__(self, config):
        super().__init__(config)
        self.proj = nn.Linear(6, 3)
        self.post_init()

    def forward(self, x=None, labels=None):
        logits = self.proj(x)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class Data(Dataset):
    def __len__(self):
        return 12

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return {"x": torch.randn(6, generator=g), "labels": i % 3}


def main():
    torch.manual_seed(0)
    model = Tiny(Cfg())
    w0 = model.proj.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/gg_probe_eval", per_device_train_batch_size=4, num_train_epochs=1, report_to="none")
    Trainer(model=model, args=args, train_dataset=Data()).train()
    model.eval()
    with torch.no_grad():
        stable = torch.equal(model(torch.ones(2, 6)).logits, model(torch.ones(2, 6)).logits)
    return {"model": model}, {"trained": not torch.equal(w0, model.proj.weight), "stable": stable}
""",
            expect={"facts": {"trained": True, "stable": True}},
        ),
        Example(
            name="validation-branch-binds-the-loss-under-no-grad-before-an-unconditional-backward",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def run(model, loader, optimizer):
    for phase in ("train", "val"):
        model.train(phase == "train")
        for x, y in loader:
            if phase == "val":
                with torch.no_grad():
                    loss = F.mse_loss(model(x), y)
            else:
                loss = F.mse_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    run(model, [(torch.randn(4, 3), torch.randn(4, 1))], torch.optim.SGD(model.parameters(), lr=0.1))
    return {"model": model}
""",
            lines=(11,),
            expect={"error": "does not require grad"},
            fixed_expect={"grad_ok": ["model.weight"]},
        ),
        Example(
            bad=False,
            name="validation-branch-under-no-grad-and-backward-only-in-training",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def run(model, loader, optimizer):
    for phase in ("train", "val"):
        model.train(phase == "train")
        for x, y in loader:
            if phase == "val":
                with torch.no_grad():
                    loss = F.mse_loss(model(x), y)
            else:
                loss = F.mse_loss(model(x), y)
            if phase == "train":
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    run(model, [(torch.randn(4, 3), torch.randn(4, 1))], torch.optim.SGD(model.parameters(), lr=0.1))
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight"]},
        ),
        Example(
            name="part-put-in-evaluation-mode-whose-eval-branch-runs-under-no-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Quantizer(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("embed", torch.randn(8, 4))

    def forward(self, z):
        idx = torch.cdist(z, self.embed).argmin(1)
        if not self.training:
            with torch.no_grad():
                q = self.embed[idx]
            return q
        q = self.embed[idx]
        return z + (q - z).detach()


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(6, 4)
        self.quantize = Quantizer()
        self.decoder = nn.Linear(4, 6)

    def forward(self, x):
        return self.decoder(self.quantize(self.encoder(x)))


def adapt(model, batches):
    model.decoder.requires_grad_(False)
    model.quantize.eval()
    optimizer = torch.optim.SGD(model.encoder.parameters(), lr=0.1)
    for x in batches:
        loss = F.mse_loss(model(x), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def evaluate(model, batches):
    model.quantize.eval()
    with torch.no_grad():
        return sum(F.mse_loss(model(x), x).item() for x in batches)


def main():
    torch.manual_seed(0)
    model = Model()
    batches = [torch.randn(8, 6) for _ in range(2)]
    adapt(model, batches)
    evaluate(model, batches)
    return {"model": model}
""",
            lines=(34,),
            expect={"error": "does not require grad"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="part-put-in-evaluation-mode-only-to-evaluate",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Quantizer(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("embed", torch.randn(8, 4))

    def forward(self, z):
        idx = torch.cdist(z, self.embed).argmin(1)
        if not self.training:
            with torch.no_grad():
                q = self.embed[idx]
            return q
        q = self.embed[idx]
        return z + (q - z).detach()


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(6, 4)
        self.quantize = Quantizer()
        self.decoder = nn.Linear(4, 6)

    def forward(self, x):
        return self.decoder(self.quantize(self.encoder(x)))


def adapt(model, batches):
    model.decoder.requires_grad_(False)
    model.quantize.train()
    optimizer = torch.optim.SGD(model.encoder.parameters(), lr=0.1)
    for x in batches:
        loss = F.mse_loss(model(x), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def evaluate(model, batches):
    model.quantize.eval()
    with torch.no_grad():
        return sum(F.mse_loss(model(x), x).item() for x in batches)


def main():
    torch.manual_seed(0)
    model = Model()
    batches = [torch.randn(8, 6) for _ in range(2)]
    adapt(model, batches)
    evaluate(model, batches)
    return {"model": model}
""",
            expect={"grad_ok": ["model.encoder.weight"]},
        ),
        Example(
            name="prototypes-from-a-module-level-inference-mode-helper-kept-for-training",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


@torch.inference_mode()
def centroids(net, loader, n):
    sums = torch.zeros(n, 4)
    for x, y in loader:
        sums.index_add_(0, y, net(x))
    return sums / 4.0


class ProtoNet(pl.LightningModule):
    def __init__(self, support):
        super().__init__()
        self.net = nn.Linear(6, 4)
        self.support = support
        self.protos = None

    def on_train_epoch_start(self):
        self.protos = centroids(self.net, self.support, 3)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(-torch.cdist(self.net(x), self.protos), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(12, 6), torch.arange(12) % 3)
    model = ProtoNet(DataLoader(data, batch_size=6))
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=6))
    return {"model": model}
""",
            lines=(24,),
            fixable=False,
            expect={"error": "Inference tensors cannot be saved for backward"},
        ),
        Example(
            bad=False,
            name="prototypes-from-a-module-level-no-grad-helper-kept-for-training",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


@torch.no_grad()
def centroids(net, loader, n):
    sums = torch.zeros(n, 4)
    for x, y in loader:
        sums.index_add_(0, y, net(x))
    return sums / 4.0


class ProtoNet(pl.LightningModule):
    def __init__(self, support):
        super().__init__()
        self.net = nn.Linear(6, 4)
        self.support = support
        self.protos = None

    def on_train_epoch_start(self):
        self.protos = centroids(self.net, self.support, 3)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(-torch.cdist(self.net(x), self.protos), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(12, 6), torch.arange(12) % 3)
    model = ProtoNet(DataLoader(data, batch_size=6))
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=6))
    return {"model": model}
""",
            expect={"grad_ok": ["model.net.weight"]},
        ),
        Example(
            bad=False,
            name="lightning-validation-step-reuses-the-training-step",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Regressor(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.mse_loss(self.net(x), y)

    def validation_step(self, batch, batch_idx):
        loss = self.training_step(batch, batch_idx)
        self.log("val_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(16, 4), torch.randn(16, 1))
    model = Regressor()
    before = model.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=8), DataLoader(data, batch_size=8))
    return {"model": model}, {"changed": not torch.equal(before, model.net[0].weight)}
""",
            expect={"grad_ok": ["model.net.0.weight"], "facts": {"changed": True}},
        ),
        Example(
            name="forces-under-enable-grad-inside-inference-mode",
            code="""import torch
import torch.nn as nn


def forces(energy, pos):
    pos = pos.requires_grad_(True)
    return -torch.autograd.grad(energy(pos).sum(), pos, create_graph=True)[0]


def main():
    torch.manual_seed(0)
    energy = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    pos = torch.randn(6, 3)
    with torch.inference_mode():
        with torch.enable_grad():
            loss = (forces(energy, pos) + 2 * pos).pow(2).mean()
    loss.backward()
    return {"energy": energy}
""",
            lines=(14,),
            expect={"error": "does not require grad"},
            fixed_expect={"grad_ok": ["energy.0.weight"]},
        ),
        Example(
            bad=False,
            name="forces-under-enable-grad-inside-no-grad",
            code="""import torch
import torch.nn as nn


def forces(energy, pos):
    pos = pos.requires_grad_(True)
    return -torch.autograd.grad(energy(pos).sum(), pos, create_graph=True)[0]


def main():
    torch.manual_seed(0)
    energy = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    pos = torch.randn(6, 3)
    with torch.no_grad():
        with torch.enable_grad():
            loss = (forces(energy, pos) + 2 * pos).pow(2).mean()
    loss.backward()
    return {"energy": energy}
""",
            expect={"grad_ok": ["energy.0.weight"]},
        ),
        Example(
            bad=False,
            name="parameterless-view-layer-used-only-under-no-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class TwoViewLearner(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(16, 4)
        self.coarse_view = nn.AvgPool1d(2)
        self.fine_view = nn.Identity()

    def forward(self, x):
        fine = self.encoder(self.fine_view(x))
        with torch.no_grad():
            target = self.encoder(F.interpolate(self.coarse_view(x), size=16))
        return F.mse_loss(fine, target)


def main():
    torch.manual_seed(0)
    learner = TwoViewLearner()
    opt = torch.optim.Adam(learner.parameters(), lr=1e-3)
    loss = learner(torch.randn(3, 1, 16))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"learner": learner}
""",
            expect={"grad_ok": ["learner.encoder.weight"]},
        ),
        Example(
            bad=False,
            name="ema-target-network-kept-in-the-optimizer",
            code="""from copy import deepcopy

import torch
import torch.nn as nn
import torch.nn.functional as F


class EMAUpdate:
    def __init__(self, tau=0.99):
        self.tau = tau

    def update(self, online, target):
        for online_p, target_p in zip(online.parameters(), target.parameters()):
            target_p.data = self.tau * target_p.data + (1.0 - self.tau) * online_p.data


class BYOL(nn.Module):
    def __init__(self):
        super().__init__()
        self.online = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
        self.target = deepcopy(self.online)
        self.predictor = nn.Linear(4, 4)
        self.ema = EMAUpdate()

    def loss(self, x1, x2):
        h1 = self.predictor(self.online(x1))
        with torch.no_grad():
            z2 = self.target(x2)
        return -F.cosine_similarity(h1, z2).mean()

    def after_step(self):
        self.ema.update(self.online, self.target)


def main():
    torch.manual_seed(0)
    model = BYOL()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = model.target[0].weight.detach().clone()
    for _ in range(3):
        x = torch.randn(16, 8)
        loss = model.loss(x + 0.1 * torch.randn_like(x), x + 0.1 * torch.randn_like(x))
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.after_step()
    return {"model": model}, {"target_follows_online": not torch.equal(before, model.target[0].weight)}
""",
            expect={"grad_ok": ["model.online.0.weight", "model.predictor.weight"], "grad_none": ["model.target.0.weight"], "facts": {"target_follows_online": True}},
        ),
        Example(
            bad=False,
            name="feature-queue-filled-under-no-grad-and-stored-back",
            code="""import torch
import torch.nn as nn


class QueueLoss(nn.Module):
    def forward(self, out, emb, queue=None):
        with torch.no_grad():
            targets = out.softmax(dim=1)
            if queue is not None:
                targets = torch.cat((queue @ emb.t(), targets))[-out.shape[0]:]
                queue[out.shape[0]:] = queue[:-out.shape[0]].clone()
                queue[:out.shape[0]] = emb.mean(dim=0, keepdim=True)
        loss = -(targets * out.log_softmax(dim=1)).sum(dim=1).mean()
        return loss, queue


class SwAVLike(nn.Module):
    def __init__(self, queue_length=8):
        super().__init__()
        self.encoder = nn.Linear(8, 4)
        self.prototypes = nn.Linear(4, 4, bias=False)
        self.criterion = QueueLoss()
        self.queue_length = queue_length
        self.queue = None

    def start_epoch(self):
        if self.queue is None:
            self.queue = torch.zeros(self.queue_length, 4)
        self.queue = self.queue.to(self.encoder.weight.device)

    def training_loss(self, x):
        emb = self.encoder(x)
        loss, queue = self.criterion(self.prototypes(emb), emb.detach(), queue=self.queue)
        self.queue = queue
        return loss


def main():
    torch.manual_seed(0)
    model = SwAVLike()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(2):
        model.start_epoch()
        for _ in range(3):
            loss = model.training_loss(torch.randn(4, 8))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return {"model": model}, {"queue_is_parameter": any(p is model.queue for p in model.parameters()), "queue_filled": bool(model.queue.abs().sum() > 0)}
""",
            expect={"grad_ok": ["model.encoder.weight", "model.prototypes.weight"], "facts": {"queue_is_parameter": False, "queue_filled": True}},
        ),
        Example(
            name="custom-optimizer-calls-its-closure-under-no-grad",
            code="""import torch
import torch.nn as nn


class Lookahead(torch.optim.Optimizer):
    def __init__(self, params, lr=0.1):
        super().__init__(params, dict(lr=lr))

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-group["lr"])
        return loss


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 1)
    opt = Lookahead(net.parameters())
    x, y = torch.randn(8, 4), torch.randn(8, 1)

    def closure():
        opt.zero_grad()
        loss = (net(x) - y).pow(2).mean()
        loss.backward()
        return loss

    opt.step(closure)
    return {"net": net}
""",
            lines=(11,),
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="custom-optimizer-calls-its-closure-under-enable-grad",
            code="""import torch
import torch.nn as nn


class Lookahead(torch.optim.Optimizer):
    def __init__(self, params, lr=0.1):
        super().__init__(params, dict(lr=lr))

    @torch.no_grad()
    def step(self, closure=None):
        with torch.enable_grad():
            loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-group["lr"])
        return loss


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 1)
    opt = Lookahead(net.parameters())
    x, y = torch.randn(8, 4), torch.randn(8, 1)

    def closure():
        opt.zero_grad()
        loss = (net(x) - y).pow(2).mean()
        loss.backward()
        return loss

    opt.step(closure)
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight", "net.bias"]},
        ),
        Example(
            name="evaluate-returns-early-with-grad-still-disabled",
            code="""import torch
import torch.nn as nn


def evaluate(model, batches, max_batches=None):
    torch.set_grad_enabled(False)
    total = 0.0
    for i, x in enumerate(batches):
        if max_batches is not None and i >= max_batches:
            return total
        total += model(x).sum().item()
    torch.set_grad_enabled(True)
    return total


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [torch.randn(2, 4) for _ in range(3)]
    for _ in range(2):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        evaluate(model, batches, max_batches=1)
    return {"model": model}
""",
            lines=(6,),
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="evaluate-restores-grad-mode-in-finally",
            code="""import torch
import torch.nn as nn


def evaluate(model, batches, max_batches=None):
    torch.set_grad_enabled(False)
    try:
        total = 0.0
        for i, x in enumerate(batches):
            if max_batches is not None and i >= max_batches:
                return total
            total += model(x).sum().item()
        return total
    finally:
        torch.set_grad_enabled(True)


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [torch.randn(2, 4) for _ in range(3)]
    for _ in range(2):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        evaluate(model, batches, max_batches=1)
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight", "model.bias"]},
        ),
        Example(
            name="inference-features-kept-by-a-builder-and-yielded-by-a-generator",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class FeatureBank:
    def __init__(self, encoder):
        self.encoder = encoder

    @torch.inference_mode()
    def fill(self, xs):
        self.feats = self.encoder(xs)
        return self

    def chunks(self, size):
        for i in range(0, self.feats.size(0), size):
            yield self.feats[i:i + size]


def fit_probe(head, bank, optimizer):
    for feats in bank.chunks(4):
        loss = head(feats).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    bank = FeatureBank(nn.Linear(6, 5)).fill(torch.randn(8, 6))
    head = nn.Linear(5, 2)
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
    fit_probe(head, bank, optimizer)
    return {"head": head}
""",
            lines=(12,),
            expect={"error": "Inference tensors cannot be saved for backward"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="no-grad-features-kept-by-a-builder-and-yielded-by-a-generator",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class FeatureBank:
    def __init__(self, encoder):
        self.encoder = encoder

    @torch.no_grad()
    def fill(self, xs):
        self.feats = self.encoder(xs)
        return self

    def chunks(self, size):
        for i in range(0, self.feats.size(0), size):
            yield self.feats[i:i + size]


def fit_probe(head, bank, optimizer):
    for feats in bank.chunks(4):
        loss = head(feats).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    bank = FeatureBank(nn.Linear(6, 5)).fill(torch.randn(8, 6))
    head = nn.Linear(5, 2)
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
    fit_probe(head, bank, optimizer)
    return {"head": head}
""",
            expect={"grad_ok": ["head.weight"]},
        ),
        Example(
            name="grad-flag-computed-from-a-phase-name-the-caller-never-passes",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def run_phase(model, batches, optimizer, phase):
    is_training = phase == "training"
    model.train(is_training)
    for x, y in batches:
        optimizer.zero_grad()
        with torch.set_grad_enabled(is_training):
            loss = F.mse_loss(model(x), y)
            if phase == "train":
                loss.backward()
                optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = {p: [(torch.randn(8, 4), torch.randn(8, 1))] for p in ("train", "val")}
    for phase in ("train", "val"):
        run_phase(model, batches[phase], optimizer, phase)
    return {"model": model}
""",
            lines=(11,),
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="grad-flag-computed-from-the-phase-the-caller-passes",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def run_phase(model, batches, optimizer, phase):
    is_training = phase == "train"
    model.train(is_training)
    for x, y in batches:
        optimizer.zero_grad()
        with torch.set_grad_enabled(is_training):
            loss = F.mse_loss(model(x), y)
            if phase == "train":
                loss.backward()
                optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = {p: [(torch.randn(8, 4), torch.randn(8, 1))] for p in ("train", "val")}
    before = model[0].weight.detach().clone()
    for phase in ("train", "val"):
        run_phase(model, batches[phase], optimizer, phase)
    return {"model": model}, {"changed": not torch.equal(before, model[0].weight.detach())}
""",
            expect={"facts": {"changed": True}},
        ),
        Example(
            name="centroids-refreshed-under-inference-mode",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class ProtoNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(6, 4)
        self.centroids = None

    def forward(self, x):
        return F.normalize(self.embed(x), dim=-1)

    @torch.inference_mode()
    def refresh(self, x, y):
        emb = self(x)
        self.centroids = torch.stack([emb[y == c].mean(0) for c in range(3)])

    def loss(self, x, y):
        return F.cross_entropy(self(x) @ self.centroids.t(), y)


def main():
    torch.manual_seed(0)
    model = ProtoNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(12, 6), torch.arange(3).repeat(4)
    model.refresh(x, y)
    loss = model.loss(x, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(18,),
            expect={"error": "Inference tensors cannot be saved for backward"},
            fixable=False,
        ),
        Example(
            name="centroids-stored-by-a-helper-of-an-inference-mode-method",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class ProtoNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(6, 4)
        self.centroids = None

    def forward(self, x):
        return F.normalize(self.embed(x), dim=-1)

    @torch.inference_mode()
    def refresh(self, x, y):
        self._store_centroids(self(x), y)

    def _store_centroids(self, emb, y):
        self.centroids = torch.stack([emb[y == c].mean(0) for c in range(3)])

    def loss(self, x, y):
        return F.cross_entropy(self(x) @ self.centroids.t(), y)


def main():
    torch.manual_seed(0)
    model = ProtoNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(12, 6), torch.arange(3).repeat(4)
    model.refresh(x, y)
    loss = model.loss(x, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(20,),
            expect={"error": "Inference tensors cannot be saved for backward"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="centroids-stored-by-a-helper-of-a-no-grad-method",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class ProtoNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(6, 4)
        self.centroids = None

    def forward(self, x):
        return F.normalize(self.embed(x), dim=-1)

    @torch.no_grad()
    def refresh(self, x, y):
        self._store_centroids(self(x), y)

    def _store_centroids(self, emb, y):
        self.centroids = torch.stack([emb[y == c].mean(0) for c in range(3)])

    def loss(self, x, y):
        return F.cross_entropy(self(x) @ self.centroids.t(), y)


def main():
    torch.manual_seed(0)
    model = ProtoNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(12, 6), torch.arange(3).repeat(4)
    model.refresh(x, y)
    loss = model.loss(x, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.embed.weight"]},
        ),
        Example(
            bad=False,
            name="centroids-cloned-before-training",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class ProtoNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(6, 4)
        self.centroids = None

    def forward(self, x):
        return F.normalize(self.embed(x), dim=-1)

    @torch.inference_mode()
    def refresh(self, x, y):
        emb = self(x)
        self.centroids = torch.stack([emb[y == c].mean(0) for c in range(3)])

    def loss(self, x, y):
        return F.cross_entropy(self(x) @ self.centroids.clone().t(), y)


def main():
    torch.manual_seed(0)
    model = ProtoNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(12, 6), torch.arange(3).repeat(4)
    model.refresh(x, y)
    loss = model.loss(x, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.embed.weight"]},
        ),
        Example(
            bad=False,
            name="backward-guarded-by-requires-grad",
            code="""import torch
import torch.nn as nn


def score_and_maybe_train(net, x, train):
    with torch.set_grad_enabled(train):
        score = net(x).pow(2).mean()
    if score.requires_grad:  # evaluation calls build no graph and skip the backward
        score.backward()
    return score.item()


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    with torch.no_grad():
        score = net(torch.randn(4, 3)).mean()
    if score.requires_grad:
        score.backward()
    score_and_maybe_train(net, torch.randn(4, 3), True)
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight"]},
        ),
        Example(
            name="set-grad-enabled-on-a-phase-name-that-never-occurs",
            code="""import torch
import torch.nn as nn


def run(model, loaders, optimizer):
    for phase in ("train", "val"):
        for x, y in loaders[phase]:
            optimizer.zero_grad()
            with torch.set_grad_enabled(phase == "training"):
                loss = nn.functional.mse_loss(model(x), y)
                if phase == "train":
                    loss.backward()
                    optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    data = [(torch.randn(8, 4), torch.randn(8, 1))]
    run(model, {"train": data, "val": data}, optimizer)
    return {"model": model}
""",
            lines=(9,),
            expect={"error": "element 0 of tensors does not require grad"},
        ),
        Example(
            bad=False,
            name="set-grad-enabled-on-the-training-phase",
            code="""import torch
import torch.nn as nn


def run(model, loaders, optimizer):
    for phase in ("train", "val"):
        for x, y in loaders[phase]:
            optimizer.zero_grad()
            with torch.set_grad_enabled(phase == "train"):
                loss = nn.functional.mse_loss(model(x), y)
                if phase == "train":
                    loss.backward()
                    optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    data = [(torch.randn(8, 4), torch.randn(8, 1))]
    before = model.weight.detach().clone()
    run(model, {"train": data, "val": data}, optimizer)
    return {"model": model}, {"changed": not torch.equal(before, model.weight.detach())}
""",
            expect={"facts": {"changed": True}},
        ),
        Example(
            bad=False,
            name="no-grad-target-branch-module-trains-through-the-other",
            code="""import torch
import torch.nn as nn


class Augment:
    def __call__(self, x):
        return x + 0.1 * torch.randn_like(x)


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 4)
    augment = Augment()
    for _ in range(2):
        x = torch.randn(8, 4)
        with torch.no_grad():
            target = model(augment(x))
        loss = (model(x) - target).pow(2).mean()
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight"]},
        ),
        Example(
            name="loss-under-no-grad",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    data, target = torch.randn(12, 3), torch.randn(12, 1)
    opt.zero_grad()
    with torch.no_grad():
        pred = net(data)
        loss = ((pred - target) ** 2).mean()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            lines=(11,),
            expect={"error": "element 0 of tensors does not require grad"},
        ),
        Example(
            name="decorated-feature-method",
            code="""import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(6, 6)
        self.cls = nn.Linear(6, 4)

    @torch.no_grad()
    def features(self, x):
        return torch.relu(self.body(x))

    def forward(self, x):
        return self.cls(self.features(x))


def main():
    torch.manual_seed(0)
    tagger = Tagger()
    opt = torch.optim.SGD(tagger.parameters(), lr=0.1)
    logits = tagger(torch.randn(7, 6))
    loss = nn.functional.cross_entropy(logits, torch.randint(0, 4, (7,)))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"tagger": tagger}
""",
            lines=(11,),
            expect={"grad_none": ["tagger.body.weight", "tagger.body.bias"], "grad_ok": ["tagger.cls.weight"]},
        ),
        Example(
            name="inference-mode-frozen-encoder",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Linear(10, 20), nn.ReLU())
    probe = nn.Linear(20, 3)
    opt = torch.optim.SGD(probe.parameters(), lr=0.05)
    x = torch.randn(9, 10)
    y = torch.randint(0, 3, (9,))
    with torch.inference_mode():
        z = encoder(x)
    loss = nn.functional.cross_entropy(probe(z), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"probe": probe}
""",
            lines=(12,),
            expect={"error": "Inference tensors cannot be saved for backward"},
            fixed_expect={"grad_ok": ["probe.weight"]},
        ),
        Example(
            name="inference-features-reshaped-by-a-helper",
            code="""import torch
import torch.nn as nn


class Features(nn.Module):
    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone

    def forward(self, images):
        with torch.inference_mode():
            return self.backbone(images)


def probe_input(feats):
    return feats.float().flatten(1)


class Probe(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 3)

    def forward(self, feats):
        return self.linear(probe_input(feats))


def main():
    torch.manual_seed(0)
    features = Features(nn.Sequential(nn.Linear(6, 8), nn.ReLU()))
    probe = Probe()
    opt = torch.optim.SGD(probe.parameters(), lr=0.1)
    x, y = torch.randn(5, 6), torch.randint(0, 3, (5,))
    loss = nn.functional.cross_entropy(probe(features(x)), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"probe": probe}
""",
            lines=(11,),
            expect={"error": "Inference tensors cannot be saved for backward"},
            fixed_expect={"grad_ok": ["probe.linear.weight"]},
        ),
        Example(
            bad=False,
            name="inference-features-concatenated-by-a-helper",
            code="""import torch
import torch.nn as nn


class Features(nn.Module):
    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone

    def forward(self, images):
        with torch.inference_mode():
            h = self.backbone(images)
            return [(h, h.mean(dim=1, keepdim=True))]


def probe_input(blocks):
    out = torch.cat([cls for _, cls in blocks], dim=-1)
    return torch.cat((out, blocks[-1][0]), dim=-1).float()


class Probe(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(9, 3)

    def forward(self, blocks):
        return self.linear(probe_input(blocks))


def main():
    torch.manual_seed(0)
    features = Features(nn.Sequential(nn.Linear(6, 8), nn.ReLU()))
    probe = Probe()
    opt = torch.optim.SGD(probe.parameters(), lr=0.1)
    x, y = torch.randn(5, 6), torch.randint(0, 3, (5,))
    loss = nn.functional.cross_entropy(probe(features(x)), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"probe": probe}
""",
            expect={"grad_ok": ["probe.linear.weight"]},
        ),
        Example(
            bad=False,
            name="inference-features-given-to-every-probe-of-a-module-dict",
            code="""import torch
import torch.nn as nn


class Features(nn.Module):
    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone

    def forward(self, images):
        with torch.inference_mode():
            h = self.backbone(images)
            return [(h, h.mean(dim=1, keepdim=True))]


class Probe(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.linear = nn.Linear(dim, 3)

    def forward(self, blocks):
        return self.linear(torch.cat([cls for _, cls in blocks], dim=-1))


class AllProbes(nn.Module):
    def __init__(self, probes):
        super().__init__()
        self.probes = nn.ModuleDict()
        self.probes.update(probes)

    def forward(self, inputs):
        return {k: v.forward(inputs) for k, v in self.probes.items()}


def main():
    torch.manual_seed(0)
    features = Features(nn.Sequential(nn.Linear(6, 8), nn.ReLU()))
    probes = AllProbes({"a": Probe(1), "b": Probe(1)})
    opt = torch.optim.SGD(probes.parameters(), lr=0.1)
    x, y = torch.randn(5, 6), torch.randint(0, 3, (5,))
    outs = probes(features(x))
    loss = sum(nn.functional.cross_entropy(o, y) for o in outs.values())
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"probes": probes}
""",
            expect={"grad_ok": ["probes.probes.a.linear.weight", "probes.probes.b.linear.weight"]},
        ),
        Example(
            bad=False,
            name="teacher-under-no-grad",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    teacher, student = nn.Linear(4, 3), nn.Linear(4, 3)
    opt = torch.optim.SGD(student.parameters(), lr=0.1)
    x = torch.randn(8, 4)
    with torch.no_grad():
        soft = torch.softmax(teacher(x), dim=-1)
    loss = -(soft * torch.log_softmax(student(x), dim=-1)).sum(dim=-1).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    with torch.inference_mode():
        val = student(torch.randn(3, 4)).argmax(dim=-1)
    return {"student": student}
""",
            expect={"grad_ok": ["student.weight"]},
        ),
        Example(
            bad=False,
            name="inference-scalar-statistic",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    frozen, net = nn.Linear(4, 4), nn.Linear(4, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x = torch.randn(6, 4)
    with torch.inference_mode():
        scale = frozen(x).abs().mean().item()
    loss = net(x).pow(2).mean() * scale
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight"]},
        ),
        Example(
            bad=False,
            name="enable-grad-inside-no-grad",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 5), nn.Sigmoid(), nn.Linear(5, 2))
    x = torch.randn(2, 5)
    with torch.no_grad():
        base = model(x).sum()
        with torch.enable_grad():
            x.requires_grad_(True)
            attribution = model(x)[:, 1].sum()
            attribution.backward()
    return {"x": x}
""",
            expect={"grad_ok": ["x"]},
        ),
        Example(
            name="lightning-epoch-hook-helper-leaves-grad-disabled",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def mean_confidence(model, loader):
    torch.set_grad_enabled(False)
    scores = [F.softmax(model(x), dim=-1).max(-1).values.mean() for x, _ in loader]
    return float(sum(scores) / len(scores))


class Classifier(pl.LightningModule):
    def __init__(self, calib):
        super().__init__()
        self.net = nn.Linear(6, 3)
        self.calib = calib
        self.confidence = 0.0

    def on_train_epoch_start(self):
        self.confidence = mean_confidence(self.net, self.calib)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.net(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(16, 6), torch.randint(0, 3, (16,)))
    model = Classifier(DataLoader(data, batch_size=8))
    before = model.net.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=8))
    return {"model": model}, {"changed": not torch.equal(before, model.net.weight)}
""",
            expect={"error": "does not require grad"},
            lines=(9,),
            fixable=False,
        ),
        Example(
            bad=False,
            name="lightning-epoch-hook-helper-under-no-grad-block",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def mean_confidence(model, loader):
    with torch.no_grad():
        scores = [F.softmax(model(x), dim=-1).max(-1).values.mean() for x, _ in loader]
    return float(sum(scores) / len(scores))


class Classifier(pl.LightningModule):
    def __init__(self, calib):
        super().__init__()
        self.net = nn.Linear(6, 3)
        self.calib = calib
        self.confidence = 0.0

    def on_train_epoch_start(self):
        self.confidence = mean_confidence(self.net, self.calib)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.net(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(16, 6), torch.randint(0, 3, (16,)))
    model = Classifier(DataLoader(data, batch_size=8))
    before = model.net.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=8))
    return {"model": model}, {"changed": not torch.equal(before, model.net.weight)}
""",
            expect={"facts": {"changed": True}},
        ),
        Example(
            name="function-backward-recomputes-and-differentiates-without-enable-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class EfficientMish(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.tanh(F.softplus(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        x = x.detach().requires_grad_()
        y = x * torch.tanh(F.softplus(x))
        return torch.autograd.grad(y, x, grad_output)[0]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x):
        return self.fc2(EfficientMish.apply(self.fc1(x)))


def main():
    torch.manual_seed(0)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    opt.zero_grad()
    net(torch.randn(4, 6)).pow(2).mean().backward()
    opt.step()
    return {"net": net}
""",
            lines=(16,),
            expect={"error": "does not require grad"},
        ),
        Example(
            name="function-backward-recomputes-under-enable-grad",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class EfficientMish(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.tanh(F.softplus(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        x = x.detach().requires_grad_()
        with torch.enable_grad():
            y = x * torch.tanh(F.softplus(x))
        return torch.autograd.grad(y, x, grad_output)[0]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x):
        return self.fc2(EfficientMish.apply(self.fc1(x)))


def main():
    torch.manual_seed(0)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    opt.zero_grad()
    net(torch.randn(4, 6)).pow(2).mean().backward()
    opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.fc1.weight", "net.fc2.weight"]},
        ),
        Example(
            name="helper-under-inference-mode-grows-the-output-layer-then-training",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(nn.Module):
    def __init__(self, vocab=10, dim=8):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.proj = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, vocab)

    def forward(self, ids):
        return self.out(torch.tanh(self.proj(self.emb(ids))))


@torch.inference_mode()
def add_labels(model, n):
    old = model.out.weight
    rows = old.mean(0, keepdim=True).expand(n, -1)
    model.out = nn.Linear(old.size(1), old.size(0) + n)
    model.out.weight = nn.Parameter(torch.cat([old, rows]))


def main():
    torch.manual_seed(0)
    model = Tagger()
    add_labels(model, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    ids = torch.randint(0, 10, (4, 5))
    for _ in range(2):
        opt.zero_grad()
        loss = F.cross_entropy(model(ids).reshape(-1, 12), ids.reshape(-1))
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(17,),
            expect={"error": "Inference tensors cannot be saved for backward"},
        ),
        Example(
            name="new-head-built-inside-an-inference-mode-block-then-trained",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 8), nn.ReLU())
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.body(x))


def main():
    torch.manual_seed(0)
    model = Net()
    x, y = torch.randn(8, 6), torch.randint(0, 4, (8,))
    with torch.inference_mode():
        print("feature norm", model.body(x).norm().item())
        model.head = nn.Linear(8, 4)  # one more class
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return {"model": model}
""",
            lines=(20,),
            expect={"error": "Inference tensors cannot be saved for backward"},
        ),
        Example(
            name="lightning-vocabulary-grown-by-an-inference-mode-helper-before-fit",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, vocab=12, dim=8):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.score = nn.Linear(dim, 1)

    def forward(self, ids):
        return self.score(self.embed(ids).mean(1)).squeeze(-1)


@torch.inference_mode()
def add_tokens(enc, n):
    old = enc.embed.weight
    enc.embed = nn.Embedding.from_pretrained(torch.cat([old, old.mean(0, keepdim=True).repeat(n, 1)]), freeze=False)


class Ranker(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.enc = Encoder()

    def training_step(self, batch, batch_idx):
        ids, y = batch
        return F.binary_cross_entropy_with_logits(self.enc(ids), y)

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=1e-3)


def main():
    torch.manual_seed(0)
    model = Ranker()
    add_tokens(model.enc, 3)
    data = TensorDataset(torch.randint(0, 15, (8, 5)), torch.rand(8))
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=4))
    return {"model": model}
""",
            lines=(18,),
            expect={"error": "Inplace update to inference tensor outside InferenceMode"},
        ),
        Example(
            name="output-layer-grown-under-no-grad-trains",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(nn.Module):
    def __init__(self, vocab=10, dim=8):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.out = nn.Linear(dim, vocab)

    def forward(self, ids):
        return self.out(torch.tanh(self.emb(ids)))


@torch.no_grad()
def add_labels(model, n):
    old = model.out.weight
    rows = old.mean(0, keepdim=True).expand(n, -1)
    model.out = nn.Linear(old.size(1), old.size(0) + n)
    model.out.weight = nn.Parameter(torch.cat([old, rows]))


def main():
    torch.manual_seed(0)
    model = Tagger()
    add_labels(model, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    ids = torch.randint(0, 10, (4, 5))
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(model(ids).reshape(-1, 12), ids.reshape(-1)).backward()
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.emb.weight", "model.out.weight", "model.out.bias"]},
        ),
        Example(
            name="export-copy-gets-a-head-under-inference-mode-while-the-model-trains",
            bad=False,
            code="""import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 8), nn.ReLU())
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.body(x))


@torch.inference_mode()
def export_scorer(model):
    scorer = copy.deepcopy(model)
    scorer.head = nn.Linear(8, 1)
    return scorer


def main():
    torch.manual_seed(0)
    model = Net()
    x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    scorer = export_scorer(model)
    with torch.inference_mode():
        print(scorer(x).shape)
    return {"model": model}
""",
            expect={"grad_ok": ["model.body.0.weight", "model.head.weight"]},
        ),
        Example(
            name="frozen-table-loaded-under-inference-mode-the-rest-trains",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.fc = nn.Linear(8, 2)

    def forward(self, ids):
        return self.fc(self.embed(ids).mean(1))


@torch.inference_mode()
def load_vectors(model, vectors):
    model.embed = nn.Embedding.from_pretrained(vectors * 0.5)


def main():
    torch.manual_seed(0)
    model = Classifier()
    load_vectors(model, torch.randn(20, 8))
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    ids, y = torch.randint(0, 20, (6, 4)), torch.randint(0, 2, (6,))
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(model(ids), y).backward()
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.fc.weight", "model.fc.bias"], "grad_none": ["model.embed.weight"]},
        ),
        Example(
            name="encoder-frozen-only-in-one-configuration-runs-under-no-grad-in-all",
            code="""import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F


def main(train_text_encoder=True):
    torch.manual_seed(0)
    image_encoder, text_encoder, head = nn.Linear(6, 4), nn.Embedding(10, 4), nn.Linear(8, 3)
    image_encoder.requires_grad_(False)
    if not train_text_encoder:
        text_encoder.requires_grad_(False)
    params = itertools.chain(head.parameters(), text_encoder.parameters()) if train_text_encoder else head.parameters()
    optimizer = torch.optim.SGD(params, lr=0.1)
    for _ in range(2):
        pixels, ids, y = torch.randn(5, 6), torch.randint(0, 10, (5,)), torch.randint(0, 3, (5,))
        with torch.no_grad():
            img = image_encoder(pixels)
            txt = text_encoder(ids)
        loss = F.cross_entropy(head(torch.cat([img, txt], 1)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"text_encoder": text_encoder, "head": head}
""",
            lines=(18,),
            expect={"grad_none": ["text_encoder.weight"], "grad_ok": ["head.weight"]},
            fixed_expect={"grad_ok": ["text_encoder.weight", "head.weight"]},
        ),
        Example(
            bad=False,
            name="encoder-frozen-in-one-configuration-run-with-grad-in-the-other",
            code="""import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F


def main(train_text_encoder=True):
    torch.manual_seed(0)
    image_encoder, text_encoder, head = nn.Linear(6, 4), nn.Embedding(10, 4), nn.Linear(8, 3)
    image_encoder.requires_grad_(False)
    if not train_text_encoder:
        text_encoder.requires_grad_(False)
    params = itertools.chain(head.parameters(), text_encoder.parameters()) if train_text_encoder else head.parameters()
    optimizer = torch.optim.SGD(params, lr=0.1)
    for _ in range(2):
        pixels, ids, y = torch.randn(5, 6), torch.randint(0, 10, (5,)), torch.randint(0, 3, (5,))
        with torch.no_grad():
            img = image_encoder(pixels)
        with torch.set_grad_enabled(train_text_encoder):
            txt = text_encoder(ids)
        loss = F.cross_entropy(head(torch.cat([img, txt], 1)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"text_encoder": text_encoder, "head": head}
""",
            expect={"grad_ok": ["text_encoder.weight", "head.weight"]},
        ),
        Example(
            bad=False,
            name="trainer-subclass-centers-teacher-targets-with-a-plain-tensor-under-no-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import Trainer


class DistillTrainer(Trainer):
    def __init__(self, *args, teacher=None, **kw):
        super().__init__(*args, **kw)
        self.teacher = teacher
        self.center = torch.zeros(3)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        s = model(inputs["x"])
        with torch.no_grad():
            t = self.teacher(inputs["x"])
            target = F.softmax(t - self.center, dim=-1)
            self.center = 0.9 * self.center + 0.1 * t.mean(0)
        return -(target * F.log_softmax(s, dim=-1)).sum(-1).mean()


def main():
    torch.manual_seed(0)
    student, teacher = nn.Linear(4, 3), nn.Linear(4, 3)
    teacher.requires_grad_(False)
    trainer = DistillTrainer(model=student, teacher=teacher)
    trainer.compute_loss(student, {"x": torch.randn(5, 4)}).backward()
    return {"student": student}
""",
            expect={"grad_ok": ["student.weight"]},
        ),
        Example(
            name="block-gates-grad-on-self-training-inside-a-part-put-in-eval-mode",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class FusedMLP(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, 2 * d), nn.Linear(2 * d, d)

    def forward(self, x):
        with torch.set_grad_enabled(self.training):
            return self.fc2(F.gelu(self.fc1(x)))


class Encoder(nn.Module):
    def __init__(self, d=8):
        super().__init__()
        self.bn = nn.BatchNorm1d(d)
        self.blocks = nn.ModuleList(FusedMLP(d) for _ in range(2))

    def forward(self, x):
        h = self.bn(x)
        for blk in self.blocks:
            h = h + blk(h)
        return h


class Classifier(nn.Module):
    def __init__(self, d=8):
        super().__init__()
        self.encoder = Encoder(d)
        self.head = nn.Linear(d, 3)

    def forward(self, x):
        return self.head(self.encoder(x))


def prepare(model):
    model.train()
    model.encoder.eval()


def main():
    torch.manual_seed(0)
    model = Classifier()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    prepare(model)
    for _ in range(2):
        loss = F.cross_entropy(model(torch.randn(6, 8)), torch.randint(0, 3, (6,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(12,),
            fixable=False,
            expect={"grad_none": ["model.encoder.blocks.0.fc1.weight"], "grad_ok": ["model.head.weight"]},
        ),
        Example(
            bad=False,
            name="block-gates-grad-on-self-training-in-a-model-that-trains",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class FusedMLP(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, 2 * d), nn.Linear(2 * d, d)

    def forward(self, x):
        with torch.set_grad_enabled(self.training):
            return self.fc2(F.gelu(self.fc1(x)))


class Classifier(nn.Module):
    def __init__(self, d=8):
        super().__init__()
        self.bn = nn.BatchNorm1d(d)
        self.block = FusedMLP(d)
        self.head = nn.Linear(d, 3)

    def forward(self, x):
        h = self.bn(x)
        return self.head(h + self.block(h))


def prepare(model):
    model.train()
    model.bn.eval()


def main():
    torch.manual_seed(0)
    model = Classifier()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    prepare(model)
    for _ in range(2):
        loss = F.cross_entropy(model(torch.randn(6, 8)), torch.randint(0, 3, (6,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.block.fc1.weight", "model.head.weight"]},
        ),
        Example(
            name="inference-mode-padding-module-feeds-a-trained-layer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class PadToMultiple(nn.Module):
    def __init__(self, multiple=4):
        super().__init__()
        self.multiple = multiple

    @torch.inference_mode()
    def forward(self, x):
        pad = (-x.shape[-1]) % self.multiple
        return F.pad(x, (0, pad, 0, pad))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 4, stride=4)
        self.head = nn.Linear(8, 2)
        self.pad = PadToMultiple(4)

    def forward(self, x):
        return self.head(self.stem(self.pad(x)).mean((2, 3)))


def main():
    torch.manual_seed(0)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = F.cross_entropy(net(torch.randn(2, 3, 10, 10)), torch.tensor([0, 1]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            lines=(11,),
            expect={"error": "Inference tensors cannot be saved for backward"},
            fixed_expect={"grad_ok": ["net.stem.weight", "net.head.weight"]},
        ),
        Example(
            name="forward-pre-hook-pads-the-input-under-inference-mode",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class PadToMultiple(nn.Module):
    def __init__(self, multiple=4):
        super().__init__()
        self.multiple = multiple

    @torch.inference_mode()
    def forward(self, x):
        pad = (-x.shape[-1]) % self.multiple
        return F.pad(x, (0, pad, 0, pad))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 4, stride=4)
        self.head = nn.Linear(8, 2)
        self.stem.register_forward_pre_hook(lambda module, args: (PadToMultiple(4)(args[0]),))

    def forward(self, x):
        return self.head(self.stem(x).mean((2, 3)))


def main():
    torch.manual_seed(0)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = F.cross_entropy(net(torch.randn(2, 3, 10, 10)), torch.tensor([0, 1]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            lines=(11,),
            expect={"error": "Inference tensors cannot be saved for backward"},
            fixed_expect={"grad_ok": ["net.stem.weight", "net.head.weight"]},
        ),
        Example(
            bad=False,
            name="forward-pre-hook-pads-the-input-under-no-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class PadToMultiple(nn.Module):
    def __init__(self, multiple=4):
        super().__init__()
        self.multiple = multiple

    @torch.no_grad()
    def forward(self, x):
        pad = (-x.shape[-1]) % self.multiple
        return F.pad(x, (0, pad, 0, pad))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 4, stride=4)
        self.head = nn.Linear(8, 2)
        self.stem.register_forward_pre_hook(lambda module, args: (PadToMultiple(4)(args[0]),))

    def forward(self, x):
        return self.head(self.stem(x).mean((2, 3)))


def main():
    torch.manual_seed(0)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = F.cross_entropy(net(torch.randn(2, 3, 10, 10)), torch.tensor([0, 1]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.stem.weight", "net.head.weight"]},
        ),
        Example(
            name="conditioning-branch-runs-only-under-no-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Denoiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.cond_proj = nn.Linear(2, 8)
        self.out = nn.Linear(8, 4)

    def forward(self, x, cond=None):
        h = self.body(x)
        if cond is not None:
            h = h + self.cond_proj(cond)
        return self.out(torch.tanh(h))


def main():
    torch.manual_seed(0)
    model = Denoiser()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, cond, target = torch.randn(8, 4), torch.randn(8, 2), torch.randn(8, 4)
    plain = F.mse_loss(model(x), target)
    with torch.no_grad():
        guided = model(x, cond)
    loss = plain + F.mse_loss(guided, target)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(26,),
            expect={"grad_none": ["model.cond_proj.weight"]},
        ),
        Example(
            bad=False,
            name="conditioning-branch-runs-with-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Denoiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.cond_proj = nn.Linear(2, 8)
        self.out = nn.Linear(8, 4)

    def forward(self, x, cond=None):
        h = self.body(x)
        if cond is not None:
            h = h + self.cond_proj(cond)
        return self.out(torch.tanh(h))


def main():
    torch.manual_seed(0)
    model = Denoiser()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, cond, target = torch.randn(8, 4), torch.randn(8, 2), torch.randn(8, 4)
    plain = F.mse_loss(model(x), target)
    guided = model(x, cond)
    loss = plain + F.mse_loss(guided, target)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.cond_proj.weight", "model.body.weight"]},
        ),
        Example(
            name="lightning-validate-before-fit-fills-a-lazy-rotary-cache",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Rotary(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.register_buffer("inv_freq", 1.0 / 10000 ** (torch.arange(0, dim, 2).float() / dim), persistent=False)
        self._len = 0
        self._cos = None

    def forward(self, x):
        n = x.shape[1]
        if n > self._len:
            freqs = torch.outer(torch.arange(n, dtype=torch.float32), self.inv_freq)
            self._cos = torch.cat([freqs, freqs], dim=-1).cos()
            self._len = n
        return x * self._cos[:n]


class Tagger(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.rotary = Rotary(8)
        self.head = nn.Linear(8, 2)

    def forward(self, ids):
        return self.head(self.rotary(self.embed(ids)).mean(1))

    def training_step(self, batch, batch_idx):
        ids, y = batch
        return F.cross_entropy(self(ids), y)

    def validation_step(self, batch, batch_idx):
        ids, y = batch
        self.log("val_loss", F.cross_entropy(self(ids), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randint(0, 10, (16, 5)), torch.randint(0, 2, (16,)))
    model = Tagger()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.validate(model, DataLoader(data, batch_size=8))
    trainer.fit(model, DataLoader(data, batch_size=8))
    return {"model": model}
""",
            lines=(19,),
            expect={"error": "Inference tensors cannot be saved for backward"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="lightning-validate-before-fit-under-no-grad-evaluation",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Rotary(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.register_buffer("inv_freq", 1.0 / 10000 ** (torch.arange(0, dim, 2).float() / dim), persistent=False)
        self._len = 0
        self._cos = None

    def forward(self, x):
        n = x.shape[1]
        if n > self._len:
            freqs = torch.outer(torch.arange(n, dtype=torch.float32), self.inv_freq)
            self._cos = torch.cat([freqs, freqs], dim=-1).cos()
            self._len = n
        return x * self._cos[:n]


class Tagger(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.rotary = Rotary(8)
        self.head = nn.Linear(8, 2)

    def forward(self, ids):
        return self.head(self.rotary(self.embed(ids)).mean(1))

    def training_step(self, batch, batch_idx):
        ids, y = batch
        return F.cross_entropy(self(ids), y)

    def validation_step(self, batch, batch_idx):
        ids, y = batch
        self.log("val_loss", F.cross_entropy(self(ids), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randint(0, 10, (16, 5)), torch.randint(0, 2, (16,)))
    model = Tagger()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, inference_mode=False)
    trainer.validate(model, DataLoader(data, batch_size=8))
    trainer.fit(model, DataLoader(data, batch_size=8))
    return {"model": model}
""",
            expect={"grad_ok": ["model.embed.weight", "model.head.weight"]},
        ),
        Example(
            bad=False,
            name="lightning-validate-after-fit-with-a-lazy-rotary-cache",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Rotary(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.register_buffer("inv_freq", 1.0 / 10000 ** (torch.arange(0, dim, 2).float() / dim), persistent=False)
        self._len = 0
        self._cos = None

    def forward(self, x):
        n = x.shape[1]
        if n > self._len:
            freqs = torch.outer(torch.arange(n, dtype=torch.float32), self.inv_freq)
            self._cos = torch.cat([freqs, freqs], dim=-1).cos()
            self._len = n
        return x * self._cos[:n]


class Tagger(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.rotary = Rotary(8)
        self.head = nn.Linear(8, 2)

    def forward(self, ids):
        return self.head(self.rotary(self.embed(ids)).mean(1))

    def training_step(self, batch, batch_idx):
        ids, y = batch
        return F.cross_entropy(self(ids), y)

    def validation_step(self, batch, batch_idx):
        ids, y = batch
        self.log("val_loss", F.cross_entropy(self(ids), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randint(0, 10, (16, 5)), torch.randint(0, 2, (16,)))
    model = Tagger()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(data, batch_size=8))
    trainer.validate(model, DataLoader(data, batch_size=8))
    return {"model": model}
""",
            expect={"grad_ok": ["model.embed.weight", "model.head.weight"]},
        ),
        Example(
            name="grad-mode-tied-to-the-training-flag-of-a-model-kept-in-eval",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class ValueEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU())

    def forward(self, x):
        with torch.set_grad_enabled(self.training):  # no graph when the memory is rebuilt at test time
            return self.net(x)


class Segmenter(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = ValueEncoder()
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(self.encoder(x))


def main():
    torch.manual_seed(0)
    model = Segmenter()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.eval()  # frozen BatchNorm statistics: the batches are tiny
    before = model.encoder.net[0].weight.detach().clone()
    for _ in range(3):
        loss = F.mse_loss(model(torch.randn(4, 4)), torch.randn(4, 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"encoder_changed": not torch.equal(before, model.encoder.net[0].weight)}
""",
            lines=(12,),
            expect={"facts": {"encoder_changed": False}},
            fixed_expect={"facts": {"encoder_changed": True}},
        ),
        Example(
            bad=False,
            name="grad-mode-tied-to-the-training-flag-with-only-batchnorm-in-eval",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class ValueEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU())

    def forward(self, x):
        with torch.set_grad_enabled(self.training):  # no graph when the memory is rebuilt at test time
            return self.net(x)


class Segmenter(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = ValueEncoder()
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(self.encoder(x))


def main():
    torch.manual_seed(0)
    model = Segmenter()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.eval()  # frozen BatchNorm statistics only: the batches are tiny
    before = model.encoder.net[0].weight.detach().clone()
    for _ in range(3):
        loss = F.mse_loss(model(torch.randn(4, 4)), torch.randn(4, 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"encoder_changed": not torch.equal(before, model.encoder.net[0].weight)}
""",
            expect={"facts": {"encoder_changed": True}},
        ),
        Example(
            name="lightning-callback-helper-leaves-grad-mode-off",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch import Callback
from torch.utils.data import DataLoader, TensorDataset


def probe_norm(net, x):
    torch.set_grad_enabled(False)
    return net(x).norm().item()


class Probe(Callback):
    def __init__(self, batch):
        self.batch = batch

    def on_train_epoch_start(self, trainer, pl_module):
        pl_module.probe = probe_norm(pl_module.net, self.batch)


class Reg(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(6, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.mse_loss(self.net(x).squeeze(-1), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(12, 6), torch.randn(12))
    model = Reg()
    try:
        pl.Trainer(max_epochs=1, logger=False, callbacks=[Probe(torch.randn(4, 6))]).fit(model, DataLoader(data, batch_size=6))
    finally:
        torch.set_grad_enabled(True)
    return {"model": model}
""",
            lines=(10,),
            fixable=False,
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="lightning-callback-helper-scopes-no-grad",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch import Callback
from torch.utils.data import DataLoader, TensorDataset


def probe_norm(net, x):
    with torch.no_grad():
        return net(x).norm().item()


class Probe(Callback):
    def __init__(self, batch):
        self.batch = batch

    def on_train_epoch_start(self, trainer, pl_module):
        pl_module.probe = probe_norm(pl_module.net, self.batch)


class Reg(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(6, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.mse_loss(self.net(x).squeeze(-1), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(12, 6), torch.randn(12))
    model = Reg()
    pl.Trainer(max_epochs=1, logger=False, callbacks=[Probe(torch.randn(4, 6))]).fit(model, DataLoader(data, batch_size=6))
    return {"model": model}
""",
            expect={"grad_ok": ["model.net.weight"]},
        ),
        Example(
            name="hf-trainer-callback-object-leaves-grad-mode-off",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class Cfg(PretrainedConfig):
    model_type = "tiny-probe"


class Tiny(PreTrainedModel):
    config_class = Cfg

    def __init__(self, config):
        super().__init__(config)
        self.proj = nn.Linear(6, 3)
        self.post_init()

    def forward(self, x=None, labels=None):
        logits = self.proj(x)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class Monitor:
    def freeze_graph(self):
        torch.set_grad_enabled(False)


class Watch(TrainerCallback):
    def __init__(self, monitor):
        self.monitor = monitor

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.monitor.freeze_graph()


class Data(Dataset):
    def __len__(self):
        return 12

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return {"x": torch.randn(6, generator=g), "labels": i % 3}


def main():
    torch.manual_seed(0)
    model = Tiny(Cfg())
    args = TrainingArguments(output_dir="/tmp/gg_watch", per_device_train_batch_size=4, num_train_epochs=1, report_to="none")
    try:
        Trainer(model=model, args=args, train_dataset=Data(), callbacks=[Watch(Monitor())]).train()
    finally:
        torch.set_grad_enabled(True)
    return {"model": model}
""",
            lines=(29,),
            fixable=False,
            expect={"error": "does not require grad"},
        ),
        Example(
            name="probe-frozen-but-its-head-then-no-grad-around-the-head-too",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(6, 8)
        self.block = nn.Sequential(nn.Linear(8, 8), nn.GELU())

    def forward(self, x):
        return self.block(self.embed(x))


class Probe(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        with torch.no_grad():
            feats = self.encoder(x)
            logits = self.head(feats)
        return logits


def freeze_all_but_head(model):
    for p in model.parameters():
        p.requires_grad = False
    for p in model.head.parameters():
        p.requires_grad = True


def main():
    torch.manual_seed(0)
    model = Probe(Encoder())
    freeze_all_but_head(model)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(4, 6)), torch.randint(0, 3, (4,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            lines=(23,),
            expect={"error": "element 0 of tensors does not require grad"},
            fixed_expect={"grad_ok": ["model.head.weight"]},
        ),
        Example(
            bad=False,
            name="probe-frozen-but-its-head-no-grad-around-the-encoder",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(6, 8)
        self.block = nn.Sequential(nn.Linear(8, 8), nn.GELU())

    def forward(self, x):
        return self.block(self.embed(x))


class Probe(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        with torch.no_grad():
            feats = self.encoder(x)
        return self.head(feats)


def freeze_all_but_head(model):
    for p in model.parameters():
        p.requires_grad = False
    for p in model.head.parameters():
        p.requires_grad = True


def main():
    torch.manual_seed(0)
    model = Probe(Encoder())
    freeze_all_but_head(model)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(4, 6)), torch.randint(0, 3, (4,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.head.weight"], "grad_none": ["model.encoder.embed.weight"]},
        ),
        Example(
            bad=False,
            name="feature-extractor-run-alone-under-no-grad-in-forward",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(6, 8), nn.ReLU())
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        with torch.no_grad():
            feats = self.backbone(x)
        return self.head(feats)


def main():
    torch.manual_seed(0)
    model = Classifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)  # (a parameter without .grad is skipped)
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(8, 6)), torch.randint(0, 3, (8,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            expect={"grad_none": ["model.backbone.0.weight"], "grad_ok": ["model.head.weight"]},
        ),
        Example(
            name="phase-name-from-a-module-level-settings-dict-never-enables-grad",
            code="""import torch
import torch.nn as nn

SETTINGS = {"phases": {"fit": "training", "check": "validation"}, "epochs": 2}


def run_phase(model, optimizer, batches, phase):
    model.train(phase == "train")
    for x, y in batches:
        with torch.set_grad_enabled(phase == "train"):
            loss = (model(x) - y).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [(torch.randn(4, 3), torch.randn(4, 1))]
    for _ in range(SETTINGS["epochs"]):
        run_phase(model, optimizer, batches, SETTINGS["phases"]["fit"])
    return {"model": model}
""",
            lines=(10,),
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="phase-name-from-a-module-level-settings-dict-enables-grad",
            code="""import torch
import torch.nn as nn

SETTINGS = {"phases": {"fit": "train", "check": "validation"}, "epochs": 2}


def run_phase(model, optimizer, batches, phase):
    model.train(phase == "train")
    for x, y in batches:
        with torch.set_grad_enabled(phase == "train"):
            loss = (model(x) - y).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [(torch.randn(4, 3), torch.randn(4, 1))]
    for _ in range(SETTINGS["epochs"]):
        run_phase(model, optimizer, batches, SETTINGS["phases"]["fit"])
    return {"model": model}
""",
            expect={"grad_ok": ["model.bias", "model.weight"]},
        ),
        Example(
            name="probe-helper-switches-grad-off-and-never-back",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def probe_drift(model, probe, history):
    torch.set_grad_enabled(False)
    emb = F.normalize(model(probe), dim=-1)
    history.append(float(emb.norm()))


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    probe, history = torch.randn(4, 4), []
    for epoch in range(2):
        probe_drift(model, probe, history)
        for _ in range(3):
            loss = F.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 2, (8,)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return {"model": model}
""",
            lines=(7,),
            expect={"error": "does not require grad"},
        ),
        Example(
            name="no-grad-call-with-the-flag-that-selects-the-auxiliary-norm",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class DualBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn_main = nn.BatchNorm2d(4)
        self.bn_aux = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 2)

    def forward(self, x, adv=False):
        h = self.conv(x)
        h = self.bn_aux(h) if adv else self.bn_main(h)
        return self.fc(h.mean((2, 3)))


def adversarial_logits(net, x):
    x_adv = (x + 0.03 * torch.randn_like(x)).clamp(0, 1)
    with torch.no_grad():
        logits = net(x_adv, adv=True)
    return logits


def main():
    torch.manual_seed(0)
    net = DualBN()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    x, y = torch.rand(4, 3, 6, 6), torch.randint(0, 2, (4,))
    loss = F.cross_entropy(net(x), y) + F.cross_entropy(adversarial_logits(net, x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"net": net}
""",
            lines=(22,),
            expect={'grad_none': ['net.bn_aux.weight'], 'grad_ok': ['net.bn_main.weight']},
            fixed_expect={'grad_ok': ['net.bn_aux.weight', 'net.bn_main.weight']},
        ),
        Example(
            bad=False,
            name="no-grad-accuracy-with-the-main-norm-adversarial-loss-with-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class DualBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn_main = nn.BatchNorm2d(4)
        self.bn_aux = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 2)

    def forward(self, x, adv=False):
        h = self.conv(x)
        h = self.bn_aux(h) if adv else self.bn_main(h)
        return self.fc(h.mean((2, 3)))


def main():
    torch.manual_seed(0)
    net = DualBN()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    x, y = torch.rand(4, 3, 6, 6), torch.randint(0, 2, (4,))
    x_adv = (x + 0.03 * torch.randn_like(x)).clamp(0, 1)
    with torch.no_grad():
        robust_acc = (net(x, adv=False).argmax(-1) == y).float().mean().item()
    loss = F.cross_entropy(net(x), y) + F.cross_entropy(net(x_adv, adv=True), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"net": net}
""",
            expect={'grad_ok': ['net.bn_aux.weight', 'net.bn_main.weight']},
        ),
        Example(
            name="no-grad-samples-reused-by-an-earlier-backward-no-fix",
            code="""import torch
import torch.nn as nn


class GAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.generator = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
        self.critic = nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))

    @torch.no_grad()
    def sample(self, n):
        return self.generator(torch.randn(n, 2))


def main():
    torch.manual_seed(0)
    gan = GAN()
    opt_g = torch.optim.Adam(gan.generator.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(gan.critic.parameters(), lr=1e-3)
    for _ in range(3):
        real = torch.randn(4, 3)
        fake = gan.sample(4)
        d_loss = gan.critic(fake).mean() - gan.critic(real).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = -gan.critic(fake).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    return {"generator": gan.generator}
""",
            lines=(11,),
            expect={'grad_none': ['generator.0.weight']},
            fixable=False,
        ),
    )

    cut_kinds = frozenset({"no_grad", "inference"})  # the GradientFlow cut kinds this rule reports

    def check(self, facts):
        seen: set = set()

        def describe(kind, node, st):
            return f"`{_short(facts, node)}`"

        def fixes_for(kind, node, st):
            if _reused_by_later_passes(facts, node, st) or _backpropagated_before(node, st):
                return []  # (recorded once, the graph would be backpropagated twice: the fix would raise)
            return [lambda: _enable_fix(facts, node)]

        for kind, node, st in _starving_nodes(facts, self.cut_kinds):
            if id(node) in seen:
                continue
            if not st.no_path and _encloses(node, facts, st.site.node):
                # backward() inside the grad-disabled region itself runs under enable_grad(): the author
                # manages grad mode on purpose (guidance, input optimization); the frozen model is intended
                continue
            seen.add(id(node))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                # a Lightning evaluation step: the Trainer runs it under inference mode (enable_grad inside does not help)
                yield _evaluation_step_finding(self, facts, node, st)
                continue
            what = describe(kind, node, st)
            if st.branch is not None:
                test, first = st.branch
                message, bound = branch_message(facts, st, what)
                yield self.finding(facts, node, message, severity=Severity.WARNING, related=[(first, bound), *related_for(facts, st)],
                                   fixes=fixes_for(kind, node, st), explanation="The loss is bound on one branch of an `if` to a value computed "
                                   "without recording: when that branch runs, `backward()` raises `element 0 of tensors does not require grad`.")
                continue
            if st.no_path:
                message = f"{what} leaves {loss_label(facts, st)} with no gradient path: backward() raises and {roots_label(st.roots)} {'gets' if len(st.roots) == 1 else 'get'} no gradient"
                severity = Severity.ERROR
                explanation = (
                    "The loss is computed while gradient recording is off, so it has no `grad_fn` and `backward()` raises "
                    "`RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn`."
                )
            elif not sole_cut(st, self.cut_kinds):
                # the same parameters also reach the loss through a cut of another kind (reported by its own rule):
                # turning recording back on here would not make this a working path on its own terms (the values it
                # records then meet that cut, or code written for constants, such as ``.numpy()``), so no fix
                where = other_cuts_where(st, self.cut_kinds, facts)
                message = (f"{what} cuts one gradient path from {roots_label(st.roots)} to {loss_label(facts, st)}; the other paths are cut too"
                           f"{where}: {'it gets' if len(st.roots) == 1 else 'they get'} no gradient")
                severity = self.severity
                explanation = (
                    f"`backward()` runs, but every path from {roots_label(st.roots)} to the loss is cut, this one among them, so their "
                    "`.grad` stays None; one of these paths must carry a gradient for them to train."
                )
                yield self.finding(facts, node, message, severity=severity, related=_flag_source(facts, node) + _computed_inside(facts, node, st) + related_for(facts, st), explanation=explanation)
                continue
            else:
                message = f"{what} cuts the only gradient path from {roots_label(st.roots)} to {loss_label(facts, st)}: {'it gets' if len(st.roots) == 1 else 'they get'} no gradient"
                severity = self.severity
                explanation = (
                    f"Nothing is recorded under {what}, so {roots_label(st.roots)} reach the loss only as constants: their `.grad` "
                    "stays None and the optimizer never changes them."
                )
                part = _isolated_part(facts, node, st)
                if part is not None:
                    # ``with torch.no_grad(): feats = self.backbone(x)``: the block holds one call of one submodule and
                    # nothing else, the way a frozen feature extractor is written; other parameters train through the loss
                    severity = Severity.INFORMATION
                    message += f" (if `{part}` is meant to stay fixed, as a frozen feature extractor, this is what the block does)"
            yield self.finding(facts, node, message, severity=severity, related=_flag_source(facts, node) + _computed_inside(facts, node, st) + _leaking_return(facts, node) + related_for(facts, st), fixes=fixes_for(kind, node, st), explanation=explanation)
        yield from self._called_under_disabled_mode(facts, seen)
        yield from _cache_filled_by_evaluation_before_fit(self, facts)
        yield from _grad_gated_on_training_inside_eval_part(self, facts, seen)
        yield from _eval_branch_without_grad_in_a_part_put_in_eval(self, facts, seen)
        yield from _inference_parameters_trained(self, facts, seen)
        yield from _autograd_inside_function_backward(self, facts)
        # inference tensors saved for backward: an error even when other parameters train
        for fl in facts.backward_flows:
            if facts.flow.is_autograd_function_method(fl.node):
                continue
            for site in fl.loss_sites:
                for c in sorted((c for _root, c in site.loss.cut), key=cut_order):  # (one report per statement: the same one every run)
                    if c.kind != "inference" or id(c.node) in seen:
                        continue
                    if isinstance(c.node, ast.Assign):  # an inference tensor an evaluation method keeps on the object
                        seen.add(id(c.node))
                        rel = [(call, "inference mode is switched on here" if _switches_inference(facts, call) else "the inference tensor reaches the loss through this call") for call in c.via]
                        rel.append((site.node, f"{site.implicit} backpropagates this loss" if site.implicit else "backward() through the loss here"))
                        yield self.finding(
                            facts,
                            c.node,
                            f"{c.detail}, feeds the loss backpropagated at line {site.node.lineno}: saving an inference tensor for backward raises "
                            "`Inference tensors cannot be saved for backward`",
                            severity=Severity.ERROR,
                            related=rel,
                            explanation="Tensors computed under `torch.inference_mode()` (Lightning runs `validation_step`, `test_step` and "
                            "`predict_step` under it) are inference tensors for good: a later training step whose differentiable op saves one for "
                            "backward raises `RuntimeError: Inference tensors cannot be saved for backward`. Keep a `.clone()` made outside "
                            "inference mode, or compute the value in the training step.",
                        )
                        continue
                    if _only_numbers_escape(facts, c.node) or _cloned_after(facts, c.node):
                        continue
                    seen.add(id(c.node))
                    roots = sorted({r for r, cc in site.loss.cut if cc.node is c.node and r != "?" and not r.startswith("arg:")})
                    what = f" (from {roots_label(roots)})" if roots else ""
                    rel = []
                    for call in c.via:
                        rel.append((call, "the inference tensor reaches the loss through this call"))
                    rel.append((site.node, "backward() through the loss here"))
                    yield self.finding(
                        facts,
                        c.node,
                        f"Tensors created under `{_short(facts, c.node)}`{what} feed the loss backpropagated at line {site.node.lineno}: "
                        f"saving them for backward raises `Inference tensors cannot be saved for backward`",
                        severity=Severity.ERROR,
                        related=rel,
                        fixes=[partial(_inference_to_no_grad, facts, c.node)],
                        explanation="Inference tensors can never be recorded by autograd: the first differentiable op that saves one for "
                        "backward raises `RuntimeError: Inference tensors cannot be saved for backward`. Compute frozen values under "
                        "`torch.no_grad()` instead (or `.clone()` them outside inference mode).",
                    )


    def _called_under_disabled_mode(self, facts, seen: set):
        """A function that computes its loss and calls backward() on it, called where grad mode is off by a mode its
        caller set (a custom optimizer's ``@torch.no_grad()`` ``step`` calling the ``closure`` it is given): nothing the
        function computes records a graph, so its backward() raises. Reported on the call, once per call."""
        from gradguard.core.starvation import find_starvations

        handled = {id(st.site.node) for st in find_starvations(facts) if st.cut.kind in self.cut_kinds}
        for fl in facts.flow.context_flows:
            call = fl.context
            fn = fl.node
            if call is None or id(call) in seen or not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.flow.is_autograd_function_method(fn):
                continue
            for site in fl.backward_sites:
                mode = site.mode
                if mode.enabled or mode.node is None or id(site.node) in handled or _encloses(fn, facts, mode.node) or mode.node is fn:
                    continue  # (a mode the function sets itself is the starvation analysis's)
                if facts.text_index.search(_GRAD_MODE_WORD, fn) if facts.source.lines is not None else _GRAD_MODE_WORD.search(ast.unparse(fn)):
                    continue  # the function manages grad mode itself
                recv = site.node.func.value if isinstance(site.node.func, ast.Attribute) else None
                if not isinstance(recv, ast.Name):
                    continue
                reach = facts.semantic.reaching_defs(fn, recv.id, site.node, facts.parent)
                if not reach or any(b.kind not in ("assign", "annassign") or not b.whole or b.value is None or not is_computing_expr(facts, fl, b.value) for b in reach):
                    continue  # the tensor is not made by an operation inside the function (a leaf, or one made elsewhere)
                seen.add(id(call))
                how = "an inference-mode" if mode.kind == "inference" else "a grad-disabled"
                yield self.finding(
                    facts,
                    call,
                    f"`{facts.text(call) if len(facts.text(call)) <= 40 else getattr(fn, 'name', 'the function') + '(...)'}` runs `{getattr(fn, 'name', 'the function')}` in {how} context (`{_short(facts, mode.node)}`): the loss it "
                    f"backpropagates at line {site.node.lineno} has no grad_fn, so backward() raises",
                    severity=Severity.ERROR,
                    related=[(mode.node, "grad recording is switched off here"), (site.node, "backward() on a loss computed without a graph")],
                    fixes=[partial(_enable_grad_call_fix, facts, call)],
                    explanation="Grad mode is thread-local state, not a property of a function: a function called inside `torch.no_grad()` "
                    "(or a `@torch.no_grad()` method such as a custom optimizer's `step`) computes without recording, whatever it does, so "
                    "its loss has no `grad_fn` and `backward()` raises `element 0 of tensors does not require grad and does not have a "
                    "grad_fn`. PyTorch's own optimizers call the closure under `torch.enable_grad()`; do the same.",
                )
                break


_GRAD_MODE_WORD = re.compile(r"\b(?:enable_grad|set_grad_enabled)\b")


def _inference_parameters_trained(rule, facts, seen: set):
    """A parameter made under inference mode and put on a model that is trained afterwards: ``nn.Parameter(torch.cat(
    ...))`` or a new layer (``nn.Linear(...)``) assigned in an ``@torch.inference_mode()`` helper that grows a vocabulary,
    then the model is fitted. Its tensors are inference tensors for good: the first op that saves one for backward
    raises, the optimizer's in-place update raises, and a view of one records nothing (the parameter gets no gradient).
    Reported on what switched inference mode on, once per mode node."""
    if not facts.text_index.search(_INFERENCE_WORD, facts.tree):
        return
    for fl in facts.flows:
        for ev in fl.events:
            if ev.what != "replace" or ev.mode.enabled or ev.mode.kind != "inference" or not ev.name or ev.given or id(ev.mode.node) in seen:
                continue
            st = ev.stmt
            if not (isinstance(st, (ast.Assign, ast.AnnAssign)) and isinstance(ev.node, ast.Attribute) and _makes_inference_parameters(facts, st.value)):
                continue
            for caller, call, root in _installed_roots(facts, fl, ev):
                trained = _trained_after(facts, caller, call, root)
                if trained is None:
                    continue
                seen.add(id(ev.mode.node))
                where, how = trained
                short = display_root(root)
                yield rule.finding(
                    facts,
                    ev.mode.node,
                    f"`{facts.text(st.targets[0] if isinstance(st, ast.Assign) else st.target)}` gets new parameters made under `{_short(facts, ev.mode.node)}`: "
                    f"they are inference tensors, and training `{short}` ({how} at line {where.lineno}) raises or leaves them without a gradient",
                    severity=Severity.ERROR,
                    related=[(st, "a parameter (or a layer's parameters) made while inference mode is on"), *([(call, "the helper runs here")] if call is not st else []), (where, f"{how}")],
                    fixes=[partial(_inference_to_no_grad, facts, ev.mode.node)],
                    explanation="Every tensor created under `torch.inference_mode()` is an inference tensor for good, and so is an "
                    "`nn.Parameter` made from one or a layer built there. When the model is trained, the first op that saves such a "
                    "weight for backward raises `Inference tensors cannot be saved for backward`, the optimizer's in-place update raises "
                    "`Inplace update to inference tensor outside InferenceMode is not allowed`, and a view of it records no gradient. "
                    "Build or resize parameters under `torch.no_grad()` instead (or `.clone()` them outside inference mode).",
                )
                break


_INFERENCE_WORD = re.compile(r"\binference_mode\b")
_GRAD_ON_WORD = re.compile(r"\b(?:enable_grad|set_grad_enabled|create_graph)\b")


def _autograd_inside_function_backward(rule, facts):
    """A custom ``torch.autograd.Function``'s ``backward`` that recomputes part of the forward and differentiates it
    (``y = f(x.detach().requires_grad_())`` then ``torch.autograd.grad(y, x, grad_output)``, memory-efficient activations):
    autograd runs ``backward`` with grad mode off (unless the backward pass itself was asked for ``create_graph=True``),
    so ``y`` records no graph and the call raises. Reported on the statement that computes the differentiated tensor,
    where ``with torch.enable_grad():`` belongs; silent when the file mentions ``enable_grad`` / ``set_grad_enabled``
    / ``create_graph`` at all."""
    if "Function" not in facts.source.text or facts.text_index.anywhere(_GRAD_ON_WORD):
        return
    from gradguard.core.classes import function_classes

    for info in function_classes(facts):
        bwd = facts.modules.method(info.name, "backward")
        if bwd is None or any(not isinstance(d, ast.Name) or d.id != "staticmethod" for d in bwd.decorator_list) or f"{info.name}.apply" not in facts.source.text:
            continue  # (a Function this file never applies may be run elsewhere with create_graph=True)
        for call in facts.own_nodes(bwd):
            if not isinstance(call, ast.Call) or not call.args:
                continue
            q = facts.imports.qualname(call.func) or ""
            if q not in ("torch.autograd.grad", "torch.autograd.backward"):
                continue
            out = call.args[0]
            if not isinstance(out, ast.Name):
                continue
            reach = facts.semantic.reaching_defs(bwd, out.id, out, facts.parent)
            if len(reach) != 1 or reach[0].kind != "assign" or not reach[0].whole or reach[0].value is None:
                continue
            st = reach[0].node
            if not isinstance(st, ast.Assign) or not _allocates(st.value) or facts.parent(st) is not bwd:
                continue
            yield rule.finding(
                facts,
                st,
                f"`{out.id}` is computed in `{info.name}.backward`, which autograd runs with grad mode off: it has no graph, so "
                f"`{facts.text(call.func)}({out.id}, ...)` at line {call.lineno} raises",
                severity=Severity.ERROR,
                related=[(call, "differentiates a tensor computed without a graph")],
                fixes=[partial(_enable_grad_around, facts, st)],
                explanation="Autograd calls a custom Function's `backward` under `torch.no_grad()` (only a backward pass run with "
                "`create_graph=True` records), so a recomputation there builds no graph and `torch.autograd.grad` raises "
                "`element 0 of tensors does not require grad and does not have a grad_fn`. Recompute under `with torch.enable_grad():`.",
            )


def _enable_grad_around(facts, st: ast.stmt):
    """Wrap statement ``st`` (on lines of its own) in ``with torch.enable_grad():``."""
    if facts.imports.qualname(ast.Name(id="torch", ctx=ast.Load())) != "torch":
        return None
    last = st.end_lineno or st.lineno
    lines = [facts.source.line(n).rstrip("\r\n") for n in range(st.lineno, last + 1)]
    indent = line_indent(facts, st.lineno)
    if len(lines[0]) - len(lines[0].lstrip()) != facts.start(st).col or any(ln.strip() and not ln.startswith(indent) for ln in lines):
        return None
    nl = newline(facts)
    text = "with torch.enable_grad():" + nl + nl.join((indent + "    " + ln[len(indent):]) if ln.strip() else ln for ln in lines)
    return fix("Recompute under `torch.enable_grad()`", Edit(Pos(st.lineno, len(indent)), Pos(last, len(lines[-1])), text), unsafe=True)


def _makes_inference_parameters(facts, value) -> bool:
    """Does this expression, run under inference mode, make trainable parameters that are inference tensors? A layer
    with parameters built there (a torch layer, or a Module class of this file that may register some), an
    ``nn.Parameter`` of a tensor computed there, ``nn.Embedding.from_pretrained(<computed>, freeze=False)``. An
    ``nn.Parameter`` of a tensor read from elsewhere aliases that (normal) tensor and is not one."""
    if not isinstance(value, ast.Call):
        return False
    q = facts.imports.qualname(value.func) or ""
    kw = {k.arg: k.value for k in value.keywords if k.arg}
    if q in PARAMETER_CTORS:
        flag = kw.get("requires_grad", value.args[1] if len(value.args) > 1 else None)
        if flag is not None and not (isinstance(flag, ast.Constant) and flag.value is True):
            return False
        data = value.args[0] if value.args else kw.get("data")
        return data is not None and _allocates(data)
    if q in FROZEN_BY_DEFAULT:
        key, pos = FROZEN_BY_DEFAULT[q]
        flag = kw.get(key, value.args[pos] if len(value.args) > pos else None)
        return isinstance(flag, ast.Constant) and flag.value is False and bool(value.args) and _allocates(value.args[0])
    if is_module_ctor(q):
        if q.rsplit(".", 1)[-1].endswith(PARAMLESS_SUFFIXES) or any(k in kw for k in ("_weight", "device", "dtype")):
            return False
        # (``nn.LayerNorm(d, elementwise_affine=False)`` has no parameter; ``nn.Linear(..., bias=False)`` keeps its weight)
        off = [k for k in ("affine", "elementwise_affine") if isinstance(kw.get(k), ast.Constant) and getattr(kw.get(k), "value", None) is False]
        return not off
    if isinstance(value.func, ast.Name):
        info = facts.modules.classes.get(value.func.id)
        return info is not None and may_have_parameters(facts, info) and not value.args and not value.keywords
    return False


def _allocates(expr) -> bool:
    """Does this expression allocate a new tensor (an op other than a view or a conversion that may return its input)?"""
    if isinstance(expr, (ast.BinOp, ast.UnaryOp)):
        return True
    if isinstance(expr, ast.Call):
        f = expr.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
        return bool(name) and name not in ALIASING_OPS
    return False


def _installed_roots(facts, fl, ev):
    """``(flow, node, root)``: where the new parameters land, in terms of a function that can be followed further. A
    root of the function itself (a local model in a script) lands there; a helper's argument (``arg:0.lm_head.weight``)
    lands on what each in-file call passes (``model.lm.lm_head.weight`` at ``add_new_tokens(model.lm, 4)``)."""
    head = ev.name.split(".", 1)[0]
    if head == "self" or head == UNKNOWN:
        return
    if not head.startswith("arg:"):
        yield fl, ev.stmt, ev.name
        return
    for other in facts.flows:
        for cev in other.events:
            if cev.what == "replace" and isinstance(cev.node, ast.Call) and cev.value is ev.value and cev.name and cev.extra == str(ev.node.lineno):
                if not cev.name.split(".", 1)[0].startswith(("arg:", "self", UNKNOWN)):
                    yield other, cev.node, cev.name


def _trained_after(facts, fl, call, root: str):
    """``(node, what)`` of the training that runs after ``call`` in ``fl`` on the parameters of ``root``: a backward of a
    loss they reach, followed by a step of an optimizer that holds them; or ``Trainer.fit(model)`` of a Lightning module
    whose training step's loss reaches them and whose optimizers hold them. None when none is known."""
    after = position(call)
    for site in fl.backward_sites:
        if position(site.node) <= after and not _in_loop_with(facts, site.node, call):
            continue
        if any(related(root, r) for r in site.loss.live) and covered_by(root, stepped_after(fl, site)):
            return site.node, "backward()"
    head = root.split(".", 1)[0]
    rest = root[len(head) + 1:]
    for n in walk_nodes(fl.node):
        if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "fit" and n.args and isinstance(n.args[0], ast.Name) and n.args[0].id == head):
            continue
        if position(n) <= after:
            continue
        reach = facts.semantic.reaching_defs(fl.node, head, n.args[0], facts.parent)
        classes = {b.value.func.id for b in reach if b.kind == "assign" and b.whole and isinstance(b.value, ast.Call) and isinstance(b.value.func, ast.Name)}
        if len(reach) != len(classes) or len(classes) != 1:
            continue
        (cls,) = classes
        inner = f"self.{rest}" if rest else "self"
        for bfl in facts.backward_flows:
            if bfl.owner != cls or bfl.context is not None:
                continue
            for site in bfl.loss_sites:
                if site.implicit and any(related(inner, r) for r in site.loss.live) and covered_by(inner, stepped_by_framework(facts, bfl, site)):
                    return n, "Trainer.fit()"
    return None


def _in_loop_with(facts, a, b) -> bool:
    """Are ``a`` and ``b`` both inside the same ``for`` / ``while`` loop (so ``a`` also runs after ``b``)?"""
    loops = set()
    cur = facts.parent(b)
    while cur is not None:
        if isinstance(cur, (ast.For, ast.AsyncFor, ast.While)):
            loops.add(id(cur))
        cur = facts.parent(cur)
    cur = facts.parent(a)
    while cur is not None:
        if id(cur) in loops:
            return True
        cur = facts.parent(cur)
    return False


def _enable_grad_call_fix(facts, call: ast.Call):
    """``closure()`` -> ``torch.enable_grad()(closure)()`` when ``torch`` names the torch module here: the called function
    records again, the rest of the caller stays under its mode."""
    if facts.imports.qualname(ast.Name(id="torch", ctx=ast.Load())) != "torch" or call.args or call.keywords or not isinstance(call.func, ast.Name):
        return None
    return fix("Call it under `torch.enable_grad()`", replace_node(facts, call, f"torch.enable_grad()({call.func.id})()"), unsafe=True)


def _flag_source(facts, node) -> list:
    """For ``set_grad_enabled(flag)`` whose flag the model found false on every run: where the flag is
    computed (``is_training = phase == "training"``), the line to change."""
    if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Name)):
        return []
    name = node.args[0].id
    fn = facts.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    binds = [st for st in facts.own_nodes(fn) if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name)
             and st.targets[0].id == name and st.lineno < node.lineno]
    if len(binds) != 1 or not isinstance(binds[0].value, (ast.Compare, ast.UnaryOp, ast.BoolOp)):
        return []
    return [(binds[0].value, f"`{name}` is false on every run that reaches here: this test never holds for the values it is given")]


def _leaking_return(facts, node) -> list:
    """The early ``return`` that leaves a function with ``torch.set_grad_enabled(False)`` (``node``) still in
    force, when the function restores it only on its other paths."""
    fn = facts.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    if fn is None:
        return []
    fl = facts.flow.flow(fn)
    ret = fl.leaking_return
    if ret is None or fl.leaves_grad_disabled is None or fl.leaves_grad_disabled.node is not node:
        return []
    return [(ret, "returns here with gradient recording still off: the caller goes on without it")]


def _computed_inside(facts, node, st) -> list:
    """The statements inside the grad-disabled block that compute from the starved parameters (``student_out =
    model(**inputs)`` next to the teacher's forward): where the code to move out of the block is."""
    parent = facts.parent(node)
    if not isinstance(parent, ast.withitem):
        return []
    region = facts.parent(parent)
    roots = set(st.roots)
    out = []
    fn = facts.enclosing(region, (ast.FunctionDef, ast.AsyncFunctionDef))
    # the walks of the function that holds the block: the loss's own, or (a helper run with its caller's values) its contexts
    walks = [st.flow] + ([c for c in facts.flow.context_flows if c.node is fn] if fn is not None and st.flow.node is not fn else [])
    for stmt in getattr(region, "body", []):
        if not isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            continue
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        hit: set = set()
        for t in targets:
            for n in walk_nodes(t):
                if isinstance(n, ast.Name):
                    for w in walks:
                        v = w.assigned.get(id(n))
                        if v is not None:
                            hit |= {r for r, c in v.cut if c.node is node and r in roots}
        if hit:
            out.append((stmt, f"{roots_label(sorted(hit))} computed here without recording gradients"))
    return out[:3]


def _starving_nodes(facts, kinds):
    from gradguard.core.starvation import find_starvations

    for st in find_starvations(facts):
        if st.cut.kind in kinds:
            yield st.cut.kind, st.cut.node, st


def _only_numbers_escape(facts, node) -> bool:
    """Values leaving the inference block are all Python numbers / NumPy arrays (``.item()``): not inference tensors."""
    parent = facts.parent(node)
    if not isinstance(parent, ast.withitem):
        return False
    region = facts.parent(parent)
    stores = [n for st in region.body for n in walk_nodes(st) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
    kinds = []
    for fl in facts.flows:
        for n in stores:
            v = fl.assigned.get(id(n))
            if v is not None and any(c.node is node for _, c in v.cut):
                kinds.append(v.kind)
    for st in region.body:
        for sub in walk_nodes(st):
            if isinstance(sub, ast.Return) or (isinstance(sub, (ast.Attribute, ast.Subscript)) and isinstance(sub.ctx, ast.Store)):
                return False  # a value escapes another way
    return bool(kinds) and all(k in ("python", "numpy") for k in kinds)


def _cloned_after(facts, node) -> bool:
    """``feats = feats.clone()`` after the inference block: the documented way to get normal tensors back."""
    parent = facts.parent(node)
    if not isinstance(parent, ast.withitem):
        return False
    region = facts.parent(parent)
    names = {n.id for st in region.body for n in walk_nodes(st) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    scope = facts.enclosing(region, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    end = region.end_lineno or region.lineno
    for n in walk_nodes(scope):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "clone" and n.lineno > end:
            if isinstance(n.func.value, ast.Name) and n.func.value.id in names:
                return True
    return False


def _encloses(node, facts, inner) -> bool:
    parent = facts.parent(node)
    region = facts.parent(parent) if isinstance(parent, ast.withitem) else parent
    if region is None or not hasattr(region, "end_lineno"):
        return False
    return region.lineno <= inner.lineno <= (region.end_lineno or region.lineno)


def _trainer_calls(facts) -> list:
    """The ``Trainer(...)`` constructions of Lightning in this file."""
    return [
        c for c in facts.walk(ast.Call)
        if (facts.imports.qualname(c.func) or "").endswith(".Trainer") and (facts.imports.qualname(c.func) or "").startswith(("lightning", "pytorch_lightning"))
    ]


def _evaluation_step_finding(rule, facts, fn, st):
    """A loss backpropagated (``torch.autograd.grad`` of an energy, a gradient-based attribution) in a Lightning
    evaluation step (or what it calls), which the Trainer runs under ``torch.inference_mode()`` by default: nothing
    is recorded there, and ``torch.enable_grad()`` does not leave inference mode. Reported on this file's Trainer,
    where ``inference_mode=False`` (evaluation under ``no_grad``, which ``enable_grad`` does leave) goes."""
    trainers = [c for c in _trainer_calls(facts) if not any(k.arg == "inference_mode" for k in c.keywords)]
    where = trainers[0] if trainers else fn
    ran = f"`{fn.name}`"
    message = (f"the Trainer runs {ran} under `torch.inference_mode()` (its default), which `torch.enable_grad()` does not leave: "
               f"{loss_label(facts, st)} has no gradient path and autograd raises")
    if not st.no_path:
        message = (f"the Trainer runs {ran} under `torch.inference_mode()` (its default), which `torch.enable_grad()` does not leave: "
                   f"nothing reaches {loss_label(facts, st)} from {roots_label(st.roots)} with a gradient")
    fixes = []
    if trainers:
        call = trainers[0]

        def build(call=call):
            last = max([*call.args, *(k.value for k in call.keywords)], key=lambda n: (n.end_lineno, n.end_col_offset), default=None)
            at = facts.end(last) if last is not None else Pos(facts.end(call).line, facts.end(call).col - 1)
            return fix("Run evaluation under `no_grad` instead (`inference_mode=False`), which `enable_grad()` leaves",
                       Edit(at, at, ", inference_mode=False" if last is not None else "inference_mode=False"), unsafe=True)
        fixes.append(build)
    return rule.finding(
        facts,
        where,
        message,
        severity=Severity.ERROR if st.no_path else rule.severity,
        related=([(fn, f"`{fn.name}` runs under inference mode")] if where is not fn else []) + related_for(facts, st),
        fixes=fixes,
        explanation="Lightning's Trainer runs `validation_step`, `test_step` and `predict_step` under `torch.inference_mode()` "
        "unless it is built with `inference_mode=False`. Inside inference mode nothing is recorded, even under "
        "`torch.enable_grad()`, so a loss computed there has no `grad_fn`: `torch.autograd.grad` / `backward()` raise "
        "`element 0 of tensors does not require grad and does not have a grad_fn`.",
        method_span=where is fn,
    )


def _short(facts, node) -> str:
    text = facts.text(node).replace("\n", " ")
    text = text if len(text) <= 40 else text[:37] + "..."
    parent = facts.parent(node)
    if isinstance(parent, ast.withitem):
        return f"with {text}"
    if isinstance(parent, ast.Expr):  # torch.set_grad_enabled(False) as a statement
        return text
    return f"@{text}"


def _inference_to_no_grad(facts, node: ast.AST):
    """``torch.inference_mode()`` -> ``torch.no_grad()`` (same module spelling)."""
    call = node if isinstance(node, ast.Call) else None
    func = call.func if call is not None else node
    if call is not None and (call.args or call.keywords):
        return None
    if isinstance(func, ast.Attribute):
        new = f"{facts.text(func.value)}.no_grad()"
    else:
        return None
    return fix("Use `torch.no_grad()` instead of `torch.inference_mode()`", replace_node(facts, node, new))


def _reused_by_later_passes(facts, node: ast.AST, st) -> bool:
    """Is the value computed under ``node`` (where the cut reaches the loss: the call of the decorated function, or the
    region itself) computed outside the loop whose every iteration runs the backward? Recording it would give every
    pass of that loop one shared graph, which the first ``backward()`` frees (``txt_emb = self.encode_all_texts(tokens)``
    before ``for chunk ...: self.manual_backward(loss)``). One such value is enough, also one the function is given (a
    rollout's old log-probabilities from the decorated helper, used in every PPO epoch)."""
    site = getattr(st, "site", None)
    loops = getattr(site, "loops", None)
    parent = facts.parent(node)
    region = isinstance(parent, ast.withitem) or (isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)) and node in parent.decorator_list)
    if site is None or not loops or site.retain_graph or not region:
        return False  # (a mode switched off and left off is not a value computed once)
    loop = loops[-1]
    fn = facts.enclosing(loop, (ast.FunctionDef, ast.AsyncFunctionDef))
    inside = {id(n) for n in walk_nodes(loop)}
    for _r, c in site.loss.cut:
        if c.node is not node:
            continue
        # where the value is computed in the loop's function: the call there that reaches the region, or the region; none
        # when it comes from the function's caller (``old_logp`` of a rollout passed in): computed before the loop runs
        mine = [x for x in (*c.via, c.node) if facts.enclosing(x, (ast.FunctionDef, ast.AsyncFunctionDef)) is fn]
        if not mine or id(mine[0]) not in inside:
            return True  # (one value recorded once is enough: the second pass's backward() finds its graph freed)
    return False


def _backpropagated_before(node: ast.AST, st) -> bool:
    """Does an earlier ``backward()`` of the same function, without ``retain_graph``, also reach the value computed
    under ``node`` (a WGAN's ``fake = self.sample_fake(n)`` under ``@torch.no_grad()``, given to the critic's loss first
    and then to the generator's)? Recorded, the value's graph would be freed by that first backward, and this one
    would raise: switching the region on is not the whole fix (the earlier loss needs ``fake.detach()`` too)."""
    site = getattr(st, "site", None)
    fl = getattr(st, "flow", None)
    if site is None or fl is None:
        return False
    at = (getattr(site.node, "lineno", 0), getattr(site.node, "col_offset", 0))
    for other in fl.backward_sites:
        if other is site or not other.mode.enabled or other.retain_graph:
            continue
        if (getattr(other.node, "lineno", 0), getattr(other.node, "col_offset", 0)) >= at or other.loops != site.loops:
            continue
        if any(c.node is node for _r, c in other.loss.cut):
            return True
    return False


def _enable_fix(facts, node: ast.AST):
    parent = facts.parent(node)
    if isinstance(parent, ast.withitem):
        with_stmt = facts.parent(parent)
        if _stepped_before_use(facts, with_stmt):
            return None
        return _unwrap_with(facts, with_stmt)
    if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)) and node in parent.decorator_list:
        return _remove_decorator(facts, parent, node)
    if isinstance(parent, ast.Expr):
        return _restore_before_return(facts, node) or _restore_at_end(facts, node, parent)
    return None


def _stepped_before_use(facts, with_stmt: ast.AST) -> bool:
    """Is an optimizer stepped (``opt.step()``) after ``with_stmt`` and before the first later read of one of the names
    its body binds? Computed with grad on, that value's graph would hold parameters the step changes in place, and a backward
    through it after the step raises: unwrapping the block is then no fix (the computation must move after the step)."""
    if not isinstance(with_stmt, (ast.With, ast.AsyncWith)):
        return False
    fn = facts.enclosing(with_stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    end = (with_stmt.end_lineno or with_stmt.lineno, 10**9)
    bound = {n.id for st in with_stmt.body for n in walk_nodes(st) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    first: dict = {}
    steps = []
    for n in walk_nodes(fn):
        at = (getattr(n, "lineno", 0), getattr(n, "col_offset", 0))
        if at <= end:
            continue
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in bound:
            first[n.id] = min(first.get(n.id, at), at)
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "step" and not n.args:
            steps.append(at)
    return any(s < f for s in steps for f in first.values())


def _restore_at_end(facts, node: ast.AST, stmt: ast.Expr) -> Optional[object]:
    """``torch.set_grad_enabled(False)`` as a statement of a function's own body that never switches it back, with no
    ``return`` / ``raise`` / ``yield`` to leave early: keep the mode it found and restore it as the function ends."""
    fn = facts.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    if fn is None or not any(stmt is st for st in fn.body) or not isinstance(node, ast.Call) or not node.args:
        return None
    if not (isinstance(node.args[0], ast.Constant) and node.args[0].value is False):
        return None
    func_text = facts.text(node.func)
    for n in walk_nodes(fn):
        if isinstance(n, (ast.Return, ast.Raise, ast.Yield, ast.YieldFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and n is not fn:
            return None
        if n is not node and isinstance(n, ast.Call) and facts.text(n.func) in (func_text, "torch.set_grad_enabled", "set_grad_enabled"):
            return None  # (it switches the mode again somewhere: not this simple shape)
    module = func_text.rsplit(".", 1)[0] if "." in func_text else "torch"
    saved = "grad_was_enabled"
    if any(isinstance(n, ast.Name) and n.id == saved for n in walk_nodes(fn)):
        return None
    return fix(
        "Restore the grad mode it found when the function ends",
        insert_before_stmt(facts, stmt, f"{saved} = {module}.is_grad_enabled()"),
        insert_after_stmt(facts, fn.body[-1], f"{func_text}({saved})"),
        unsafe=True,
    )


def _restore_before_return(facts, node: ast.AST) -> Optional[object]:
    """``torch.set_grad_enabled(False)`` left in force by an early ``return``: switch it back there the way
    the function does on its other path (its own ``torch.set_grad_enabled(True)`` statement)."""
    related = _leaking_return(facts, node)
    if not related:
        return None
    ret = related[0][0]
    fn = facts.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    if fn is None or not facts.source.line(ret.lineno).lstrip().startswith("return"):
        return None
    func_text = facts.text(node.func) if isinstance(node, ast.Call) else None
    restore = next(
        (
            st
            for st in walk_nodes(fn)
            if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and facts.text(st.value.func) == func_text
            and len(st.value.args) == 1 and isinstance(st.value.args[0], ast.Constant) and st.value.args[0].value is True and st.lineno > getattr(node, "lineno", 0)
        ),
        None,
    )
    if restore is None:
        return None
    return fix(f"Call `{facts.text(restore.value)}` before this return too", insert_before_stmt(facts, ret, facts.text(restore.value)), unsafe=True)


def _remove_decorator(facts, fn, deco) -> Optional[object]:
    line = deco.lineno
    end = deco.end_lineno or line
    text = "".join(facts.source.lines[line - 1 : end]).strip()
    if text != "@" + facts.text(deco):
        return None
    return fix(f"Remove `@{facts.text(deco)}` (the method then records gradients)", Edit(Pos(line, 0), Pos(end + 1, 0), ""), unsafe=True)


def _unwrap_with(facts, st) -> Optional[object]:
    if not isinstance(st, (ast.With,)) or len(st.items) != 1 or st.items[0].optional_vars is not None:
        return None
    body_first = st.body[0]
    if body_first.lineno == st.lineno:
        return None
    outer = line_indent(facts, st.lineno)
    inner = line_indent(facts, body_first.lineno)
    if not inner.startswith(outer) or len(inner) <= len(outer):
        return None
    cut = len(inner) - len(outer)
    prefix = inner[len(outer):]
    first = st.lineno
    last = st.end_lineno or st.lineno
    # the header may span lines; the body starts after it
    header_end = body_first.lineno - 1
    while header_end > first and not facts.source.line(header_end).rstrip().endswith(":"):
        header_end -= 1
    out = []
    for ln in range(header_end + 1, last + 1):
        text = facts.source.lines[ln - 1]
        if not text.strip():
            out.append(text)
            continue
        if not text.startswith(outer + prefix):
            return None
        out.append(outer + text[len(outer) + cut :])
    if not out:
        return None
    new = "".join(out)
    last_line = facts.source.lines[last - 1]
    if last_line.endswith(("\n", "\r")):
        edit = Edit(Pos(first, 0), Pos(last + 1, 0), new)
    else:
        edit = Edit(Pos(first, 0), Pos(last, len(last_line)), new)
    return fix(f"Compute this block with gradients (remove `with {facts.text(st.items[0].context_expr)}:`)", edit, unsafe=True)


def _switches_inference(facts, node) -> bool:
    """Is ``node`` the ``torch.inference_mode()`` of a decorator or a ``with`` (where an inference tensor was made)?"""
    parent = facts.parent(node)
    return isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)) and node in parent.decorator_list or isinstance(parent, ast.withitem)


def _grad_gated_on_training_inside_eval_part(rule, facts, seen: set):
    """``with torch.set_grad_enabled(self.training):`` in the ``forward`` of an in-file Module class whose instances sit
    inside a part of a model the program puts in evaluation mode while it trains (``model.encoder.eval()`` in a
    fine-tuning helper, to keep BatchNorm statistics): ``eval()`` sets ``training = False`` on every submodule, so that
    forward runs with gradients off and its parameters get no gradient, while an optimizer holds them."""
    if "set_grad_enabled" not in facts.source.text or not any(fl.loss_sites for fl in facts.backward_flows):
        return
    gated: dict = {}  # class -> the with statement
    for info in facts.modules.classes.values():
        fwd = info.methods.get("forward") if info.is_module else None
        if fwd is None:
            continue
        for st in walk_nodes(fwd):
            if isinstance(st, ast.With) and any(_training_gate(facts, item.context_expr) for item in st.items):
                gated[info.name] = st
    gate: ast.With
    if not gated:
        return
    paths = eval_paths(facts)
    if not paths:
        return
    frozen = frozen_paths(facts)
    for path in sorted(paths):
        head, _, rest = path.partition(".")
        origin = facts.flow.root_origins.get(head)
        if origin is None or not origin.cls or not rest:
            continue
        cls: Optional[str] = origin.cls
        for attr in rest.split("."):
            cls = facts.modules.attr_class(cls, attr)[0] if cls else None
        if not cls or is_frozen(path, frozen):
            continue
        for inner, where in _classes_within(facts, cls, path):
            if inner not in gated or id(gated[inner]) in seen:
                continue
            gate = gated[inner]
            covered = [o for fl in facts.flows for o in fl.optimizers if any(related(where, r) or where.startswith(r + ".") for r in o.covered)]
            if not covered:
                continue
            seen.add(id(gate))
            call = _eval_call(facts, path)
            yield rule.finding(
                facts,
                gate,
                f"`{_short(facts, gate.items[0].context_expr)}` turns gradients off whenever `{inner}` is in evaluation mode, and the program "
                f"puts `{path}`, which holds it (`{where}`), in evaluation mode while it trains: its parameters get no gradient",
                severity=Severity.WARNING,
                related=[*([(call, f"`{path}` is put in evaluation mode here")] if call is not None else []), (covered[0].node, "an optimizer holds them")],
                explanation="`module.eval()` sets `training = False` on the module and all its submodules; a forward that enables "
                "gradients only when `self.training` then records nothing. Gate the no-grad path on `torch.is_grad_enabled()` (or do not "
                "put the trained part in evaluation mode; freeze BatchNorm statistics on the BatchNorm layers only).",
            )


def _eval_branch_without_grad_in_a_part_put_in_eval(rule, facts, seen: set):
    """``model.quantize.eval()`` in a function that trains (a backward follows), where the part's class (or one it holds)
    has a ``forward`` whose evaluation branch (``if not self.training:``, or the ``else`` of ``if self.training:``) runs
    under ``torch.no_grad()``: ``eval()`` sets ``training = False`` on the part and all its submodules, so every forward
    pass takes that branch and nothing before the part gets a gradient through it. Reported on the ``eval()`` call, when
    a loss of that function is left with no gradient path (error) or with parameters it no longer trains (warning)."""
    text = facts.source.text
    if ".eval()" not in text or "training" not in text or not any(fl.loss_sites for fl in facts.backward_flows):
        return
    branches: dict = {}  # class -> (the if, the no_grad with)
    for info in facts.modules.classes.values():
        fwd = info.methods.get("forward") if info.is_module else None
        if fwd is None:
            continue
        for st in walk_nodes(fwd):
            if not isinstance(st, ast.If):
                continue
            test = st.test
            negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
            inner = test.operand if negated else test  # type: ignore[attr-defined]
            if not (isinstance(inner, ast.Attribute) and inner.attr == "training" and isinstance(inner.value, ast.Name) and inner.value.id == "self"):
                continue
            body = st.body if negated else st.orelse
            gate = next((w for b in body for w in walk_nodes(b) if isinstance(w, ast.With) and any(_disables_grad(facts, it.context_expr) for it in w.items)), None)
            if gate is not None:
                branches[info.name] = (st, gate)
    if not branches:
        return
    for path in sorted(eval_paths(facts)):
        head, _, rest = path.partition(".")
        origin = facts.flow.root_origins.get(head)
        if origin is None or not origin.cls or not rest:
            continue
        cls: Optional[str] = origin.cls
        for attr in rest.split("."):
            cls = facts.modules.attr_class(cls, attr)[0] if cls else None
        if not cls:
            continue
        inner_cls = next((c for c, _w in _classes_within(facts, cls, path) if c in branches), None)
        call = _eval_call(facts, path)
        if inner_cls is None or call is None or id(call) in seen:
            continue
        fn = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef))
        if fn is None:
            continue
        after = [(fl, site) for fl in facts.backward_flows if fl.node is fn for site in fl.loss_sites
                 if site.mode.enabled and position(site.node) > position(call)]
        if not after:
            continue
        frozen = frozen_paths(facts)
        # (a loss whose every root is frozen, or none: the walks that know the caller's objects, not an argument's)
        dead = [(fl, site) for fl, site in after if not any(r.startswith("arg:") for r in site.loss.live)
                and all(r == UNKNOWN or is_frozen(r, frozen) for r in site.loss.live)]
        starved = [(fl, site) for fl, site in after if fl.starved(site)]
        if not dead and not starved:
            continue
        seen.add(id(call))
        test, gate = branches[inner_cls]
        fl, site = (dead or starved)[0]
        effect = (f"the loss backpropagated at line {site.line} has no gradient path: backward() raises" if dead
                  else f"what reaches the loss backpropagated at line {site.line} only through it gets no gradient")
        yield rule.finding(
            facts,
            call,
            f"`{facts.text(call)}` puts `{path}` in evaluation mode while `{fn.name}` trains: `{inner_cls}.forward` then takes its "
            f"evaluation branch (line {test.lineno}), computed under `{facts.text(gate.items[0].context_expr)}`, on every pass, so {effect}",
            severity=Severity.ERROR if dead else Severity.WARNING,
            related=[(test, "the evaluation branch: taken whenever the module is in evaluation mode"), (gate, "gradients are off in it"),
                     (site.node, "backward() through the loss here")],
            explanation="`module.eval()` sets `training = False` on the module and all its submodules; a forward whose evaluation "
            "branch runs under `no_grad` then records nothing on any pass, also while training. Keep the part in training mode "
            "and hold it fixed another way (freeze its parameters, or stop its own updates), or call `eval()` only on the "
            "layers whose behaviour should change (BatchNorm, Dropout).",
        )


def _disables_grad(facts, expr: ast.AST) -> bool:
    """``torch.no_grad()`` / ``torch.inference_mode()`` (a ``with`` item that turns recording off)."""
    func = expr.func if isinstance(expr, ast.Call) else expr
    q = facts.imports.qualname(func) or ""
    return q in ("torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad")


def _training_gate(facts, expr: ast.AST) -> bool:
    """``torch.set_grad_enabled(self.training)``."""
    return (isinstance(expr, ast.Call) and (facts.imports.qualname(expr.func) or "") == "torch.set_grad_enabled" and len(expr.args) == 1
            and isinstance(expr.args[0], ast.Attribute) and expr.args[0].attr == "training" and isinstance(expr.args[0].value, ast.Name) and expr.args[0].value.id == "self")


def _classes_within(facts, cls: str, path: str, depth: int = 0) -> list:
    """(in-file Module class, path) of ``cls`` and of every in-file class its attributes hold, recursively."""
    out = [(cls, path)]
    info = facts.modules.classes.get(cls)
    if info is None or depth > 5:
        return out
    for attr in info.attr_values:
        sub, elem = facts.modules.attr_class(cls, attr)
        for c, p in ((sub, f"{path}.{attr}"), (elem, f"{path}.{attr}[]")):
            if c and c != cls:
                out += _classes_within(facts, c, p, depth + 1)
    return out


def _eval_call(facts, path: str) -> Optional[ast.AST]:
    """The ``<path>.eval()`` call (written with the path's last parts) that puts the part in evaluation mode."""
    last = path.split(".")[-1]
    for n in walk_nodes(facts.tree):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "eval" and isinstance(n.func.value, ast.Attribute) and n.func.value.attr == last:
            return n
    return None


_EVAL_BEFORE_FIT = re.compile(r"\.(?:validate|test|predict)\(")
_LIGHTNING_TRAINERS = ("lightning.Trainer", "lightning.pytorch.Trainer", "pytorch_lightning.Trainer", "lightning.pytorch.trainer.trainer.Trainer")


def _cache_filled_by_evaluation_before_fit(rule, facts):
    """``trainer.validate(model)`` (or ``test`` / ``predict``) before ``trainer.fit(model)``: the Trainer runs the model's
    first forward passes under ``torch.inference_mode()``, so a tensor a part of the model builds lazily on its first call
    and keeps for later calls (a rotary cos/sin table filled under ``if seq_len > self._seq_len_cached:`` or
    ``if self._cos is None:``) is an inference tensor; the training steps reuse it, and the first op that saves it for
    backward (``q * cos``) raises. Only with the Trainer's default ``inference_mode=True``, when the cached tensor is read
    as an operand of a product (or returned to one) and the model class holds the caching part."""
    text = facts.source.text
    if "Trainer" not in text or ".fit(" not in text or not _EVAL_BEFORE_FIT.search(text) or "inference_mode=False" in text:
        return
    reported: set = set()
    for fn in facts.walk(ast.FunctionDef):
        calls = [(n, n.func.value.id, n.func.attr) for n in walk_nodes(fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                 and isinstance(n.func.value, ast.Name) and n.func.attr in ("validate", "test", "predict", "fit")]
        if not calls:
            continue
        trainers = {t for _n, t, _m in calls if _builds_lightning_trainer(facts, fn, t)}
        for ev, tname, meth in calls:
            if meth == "fit" or tname not in trainers:
                continue
            model = _model_argument(ev)
            if model is None:
                continue
            fits = [f for f, t, m in calls if m == "fit" and t == tname and _model_argument(f) == model and position(f) > position(ev)]
            if not fits:
                continue
            origin = facts.flow.root_origins.get(model)
            cls = origin.cls if origin is not None else None
            if not cls or cls not in facts.modules.classes or "training_step" not in facts.modules.classes[cls].methods:
                continue
            for part in _part_classes(facts, cls):
                for st, attr in _lazy_caches(facts, part):
                    if id(st) in reported:
                        continue
                    reported.add(id(st))
                    yield rule.finding(
                        facts,
                        st,
                        f"`self.{attr}` is built lazily by `{part}` on its first call, and `{tname}.{meth}({model})` (line {ev.lineno}) "
                        f"makes that call under inference mode before `fit`: it is an inference tensor, and the first training step that reuses it "
                        "in an op autograd records raises `Inference tensors cannot be saved for backward`",
                        related=[(ev, "the Trainer runs the model under torch.inference_mode() here, first"), (fits[0], "the training steps reuse the cached tensor")],
                        explanation="A tensor created under `torch.inference_mode()` stays an inference tensor; kept on the module and reused "
                        "by the training steps (the cache is not rebuilt for inputs no longer than the first ones), it is saved for backward "
                        "by the first product it enters, which raises. Build the table in `__init__` (a buffer), rebuild it when "
                        "`torch.is_inference_mode_enabled()` differs from when it was cached, or keep a `.clone()` made outside inference mode.",
                    )


def _builds_lightning_trainer(facts, fn, name: str) -> bool:
    for n in walk_nodes(fn):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and n.targets[0].id == name and isinstance(n.value, ast.Call):
            q = facts.imports.qualname(n.value.func) or ""
            return q in _LIGHTNING_TRAINERS or (q.endswith(".Trainer") and "lightning" in q)
    return False


def _model_argument(call: ast.Call) -> Optional[str]:
    arg = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "model"), None)
    return arg.id if isinstance(arg, ast.Name) else None


def _part_classes(facts, cls: str) -> list:
    """``cls`` and the in-file Module classes it holds as parts, at any depth."""
    out, todo = [], [cls]
    while todo:
        c = todo.pop()
        if c in out or c not in facts.modules.classes:
            continue
        out.append(c)
        for a in facts.modules.classes[c].attrs:
            acls, elem = facts.modules.attr_class(c, a)
            todo.extend(x for x in (acls, elem) if x)
    return out


def _lazy_caches(facts, cls: str) -> list:
    """``(assignment, attr)``: tensors a method of ``cls`` other than ``__init__`` computes and keeps on ``self`` under an
    ``if`` that tests what is cached (``self.<x> is None``, ``n > self._seq_len_cached``), read as an operand of a product
    (directly, through a local, or returned) in a method of the class."""
    info = facts.modules.classes[cls]
    out = []
    for mname, m in info.methods.items():
        if mname == "__init__":
            continue
        for st in walk_nodes(m):
            if not isinstance(st, ast.Assign) or not isinstance(st.value, (ast.Call, ast.Tuple, ast.BinOp)):
                continue
            attrs = [t.attr for tg in st.targets for t in (tg.elts if isinstance(tg, ast.Tuple) else [tg])
                     if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"]
            if not attrs or not any(isinstance(n, ast.Call) for n in walk_nodes(st.value)):
                continue
            guard = _cache_guard(facts, st, m)
            if guard is None and not _called_only_under_cache_guards(facts, info, mname):
                continue
            attr = next((a for a in attrs if a in info.buffers or _multiplied(info, a)), None)
            if attr is not None and attr not in info.buffers:
                out.append((st, attr))
    return out


def _called_only_under_cache_guards(facts, info, mname: str) -> bool:
    """Every call of ``self.<mname>(...)`` in the class is under such an ``if`` (``if n > self._seq_len_cached:
    self._build_cache(n)``), and there is one."""
    calls = [(c, m) for other, m in info.methods.items() if other != mname for c in walk_nodes(m)
             if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == mname and isinstance(c.func.value, ast.Name) and c.func.value.id == "self"]
    return bool(calls) and all(_cache_guard(facts, c, m) is not None for c, m in calls)


def _cache_guard(facts, st: ast.AST, fn: ast.AST) -> Optional[ast.If]:
    cur = facts.parent(st)
    while cur is not None and cur is not fn:
        if isinstance(cur, ast.If) and any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self" for n in walk_nodes(cur.test)) \
                and any(isinstance(n, ast.Compare) for n in walk_nodes(cur.test)) and st in {x for b in cur.body for x in walk_nodes(b)}:
            return cur
        cur = facts.parent(cur)
    return None


def _multiplied(info, attr: str) -> bool:
    """Is ``self.<attr>`` an operand of ``*`` / ``@`` in a method of the class, directly or through a local bound from it,
    or returned by one?"""
    for mname, m in info.methods.items():
        if mname == "__init__":
            continue
        aliases: set = set()
        for n in walk_nodes(m):
            if isinstance(n, ast.Assign) and any(isinstance(x, ast.Attribute) and x.attr == attr and isinstance(x.value, ast.Name) and x.value.id == "self" and isinstance(x.ctx, ast.Load) for x in walk_nodes(n.value)):
                aliases |= {t.id for tg in n.targets for t in walk_nodes(tg) if isinstance(t, ast.Name)}
        for n in walk_nodes(m):
            if isinstance(n, ast.Return) and n.value is not None and any(isinstance(x, ast.Attribute) and x.attr == attr and isinstance(x.ctx, ast.Load) for x in walk_nodes(n.value)):
                return True
            if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Mult, ast.MatMult)):
                for side in (n.left, n.right):
                    for x in walk_nodes(side):
                        if (isinstance(x, ast.Attribute) and x.attr == attr and isinstance(x.value, ast.Name) and x.value.id == "self") or (isinstance(x, ast.Name) and x.id in aliases):
                            return True
    return False


def _isolated_part(facts, node: ast.AST, st) -> Optional[str]:
    """The submodule a grad-disabled ``with`` block runs alone, ``feats = self.backbone(x)`` as its only statement, when
    the parameters it starves are that submodule's and nothing else; else None."""
    block = facts.parent(node)
    if isinstance(block, ast.withitem):
        block = facts.parent(block)
    node = block
    if not isinstance(node, ast.With) or len(node.body) != 1:
        return None
    stmt = node.body[0]
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], (ast.Name, ast.Tuple))):
        return None
    call = stmt.value
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) and call.func.value.id == "self"):
        return None
    if any(isinstance(n, ast.Call) for a in [*call.args, *(k.value for k in call.keywords)] for n in ast.walk(a)):
        return None  # (other computation inside the block)
    attr = call.func.attr
    cls = facts.enclosing(node, (ast.ClassDef,))
    info = facts.modules.classes.get(cls.name) if cls is not None else None
    values = info.attr_values.get(attr, []) if info is not None else []
    if not values or any(isinstance(v, ast.Call) and (facts.imports.qualname(v.func) or getattr(v.func, "id", "")).endswith("deepcopy") for v in values):
        return None  # (a copy of another part, a target network never updated: that it stays fixed is the question)
    roots = [r for r in st.roots]
    if not roots or not all(r.endswith("." + attr) or ("." + attr + ".") in r or r == attr or r.startswith(attr + ".") for r in roots):
        return None
    return attr
