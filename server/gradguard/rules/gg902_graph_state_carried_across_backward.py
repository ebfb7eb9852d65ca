"""GG902 graph-state-carried-across-backward: a recurrent state fed into the next iteration of a loop that
calls ``backward()`` every iteration, still attached to the previous iteration's (freed) graph."""
from __future__ import annotations

import ast
import re
from functools import partial
from typing import Optional

from gradguard.core.astindex import child_nodes, node_cache, own_expressions, statements_of_type, walk_nodes
from gradguard.core.flow import related
from gradguard.core.model import Applicability, Severity
from gradguard.core.modules import ModuleModel
from gradguard.core.paramnames import single_binding
from gradguard.core.torchapi import FACTORIES, RUN_EVERY_BATCH, SAVES_INPUT, SAVES_OUTPUT, STEP_METHODS_BY_FRAMEWORK, is_module_ctor
from gradguard.fixes import fix, insert_after_stmt, insert_before_stmt, replace_node
from gradguard.rules._leafs import call_sites, flow_of, known_roots, lexically_no_grad
from gradguard.rules.base import Example, Rule

PLAIN_STATE = {"torch.nn.RNN", "torch.nn.GRU", "torch.nn.RNNCell", "torch.nn.GRUCell"}
TUPLE_STATE = {"torch.nn.LSTM", "torch.nn.LSTMCell"}
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


class GraphStateCarriedAcrossBackward(Rule):
    code = "GG902"
    name = "graph-state-carried-across-backward"
    summary = "A state produced from the previous iteration's graph (RNN hidden state, running state) is fed into the next iteration of a loop that calls `backward()` each iteration, without being detached."
    severity = Severity.ERROR
    needs = ("backward", "autograd", "training_step", "compute_loss", "PreTrainedModel")
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Finds loops that call `backward()` (without `retain_graph=True`) every iteration and that carry a state from
one iteration to the next through a call that also consumes it: `out, hidden = rnn(x, hidden)`,
`h = cell(x, h)`, `pred = model(x, pred)`, a memory bank `bank = torch.cat([emb, bank])[:size]` (a slice of the
call's result keeps its graph). Also a state carried under another name (`pred, new_state = model(x, state)`, then
`state = new_state` later in the loop), reported on that rebinding when the state is a tensor of the program's
parameters. It flags the state when the loss depends on it and nothing in the
loop detaches or re-initializes it (`hidden = hidden.detach()`, `hidden = repackage_hidden(hidden)`,
`h = torch.zeros(...)`, `h.detach_()`). States computed under `no_grad` are not attached to any graph and
stay silent. The same for a state kept on a Module from one `forward` to the next
(`out, self.hidden = self.rnn(x, self.hidden)`, also stored at each step of a loop over time steps in `forward` and
neither started afresh before that loop nor stored again after it, or a running statistic updated from the batch in training mode,
`if self.training: self.mean = m * self.mean + (1 - m) * h.mean(0)`, also in a submodule of the model trained)
when a loop backpropagates through that module every iteration and nothing in the loop resets the attribute (a method that assigns it, `model.hidden = None`),
or when the module is a part of a LightningModule whose `training_step` loss runs through it and nothing Lightning runs every batch
(`forward`, `training_step`, the methods it calls, the batch hooks) resets it (a spiking layer's membrane potential `self.mem`), or in a
LightningModule's `training_step`, which Lightning calls once per batch and backpropagates before the next call
(unless a hook run every batch, such as `on_train_batch_start`, resets it; one run every epoch does not), also when
`training_step` (or a Hugging Face model's `forward`, whose loss the Trainer backpropagates every batch) hands a tensor
computed with the module's layers to a method of its own that keeps it so (`self.enqueue(k)` storing
`self.bank = torch.cat([keys, self.bank])[:n]`, or `clim = self.update_climatology(pred)` inside `if target is not None:`
storing a running mean `self.climatology = m * self.climatology + (1 - m) * pred.mean(0)`; silent when that method runs under
`torch.no_grad()` or is decorated, or the tensor is detached; the fix, marked unsafe, passes `k.detach()`), or kept by
`on_train_batch_end(outputs, ...)`, which Lightning runs after each batch's backward with what `training_step` returned
(`self.negatives = outputs["keys"]`, read by the next step's loss; the fix keeps `.detach()`), or when a
training loop hands such a tensor to a method of an object made before the loop or given to the training function by
its caller (`memory.enqueue(emb, y)`, before or after the backward in the iteration, storing
`self.feats = torch.cat([feats, self.feats])[:n]`, or writing it in place at a tensor index, `self.data[idx] = x_neg`) and
the loss reads the kept state (`memory.feats`, or a method of the object returning it: `x, idx = buffer.sample(n)`);
the same for such an object kept on the Module (`self.memory = CrossBatchMemory(n)`) whose method `forward` hands a tensor
computed with the module's layers (`self.memory.enqueue(v)`, storing `self.feats = (self.feats + list(feats))[-n:]`) while
the loss backpropagated every step (a training loop, or a framework's step) reads the kept state (`self.memory.get()`);
a list on an object that a method fills with tensors computed by its network and another samples for every update
(`self.memory.append(dist.log_prob(action))`, then `self.rng.sample(self.memory, k)` stacked into the loss: a replay memory of
graph-carrying log-probabilities; a memory of states, actions and rewards a caller hands over stays silent);
a dict the module keeps as a cache (`self.prototype_cache = {}`), filled only with keys not there yet (`if c not in
self.prototype_cache: self.prototype_cache[c] = z[k]`) with tensors computed with the module's layers, never emptied,
and read by the loss backpropagated every step (the fix, marked unsafe, caches `.detach()`-ed copies);
the same for a tensor made before such a loop and written in place there at a tensor index with a value that requires grad
(`buffer[idx] = x`, a replay buffer of Langevin samples) when the loop's loss is computed from what it reads of it; and a list
on an object (`self.saved_log_probs = []`) that collects tensors with a graph, is read to build a loss that is
backpropagated again and again, and is never emptied (`del x[:]`, `.clear()`, rebinding it to a new list, also in a
tuple assignment); when a method empties the class's other such lists but not this one (`self.log_probs, self.rewards =
[], []` at the end of an episode, with `self.entropies` left out), the finding is on that statement. A loss such an
object's method builds from the list counts even when the model cannot name what it was computed from.

A sum the loop adds to itself every iteration (`total = total + w * loss`, `total += loss`), started once
before the loop (`total = 0.0`) and backpropagated every iteration, is the same mistake: each backward()
goes through the terms of every earlier iteration. It is reported on the starting value (the fix starts the
sum afresh at the top of the loop); a sum restarted in the loop (or after each backward, as gradient
accumulation does), a leaf rebound by its own update (`w = w - lr * w.grad`, see GG402) and a float sum of
`.item()` values stay silent.

Two more shapes of one graph used by several backward passes. A tensor kept on an object after the
backward (`loss.backward(); self.prev_keys = keys`) in a method that runs again and again, when the next
call reads it into its loss (in the method, or in a method of the class it calls first), is reported as a
warning with a `.detach()` fix; so is one kept before the backward that this step's loss reads and the next call
reads again (a running baseline `self.baseline = m * self.baseline + (1 - m) * expected` with `expected` computed
from the policy's output, then `advantage = rewards - self.baseline`), or a recurrent state kept from the tuple the
model returns (`pred, self.state = self.model(x, self.state)` in a step method a loop calls chunk after chunk: the fix,
`self.state = self.state.detach()` right after, is offered when the state is known to be one tensor). A Module attribute computed once with gradient from the module's own
submodules or parameters (in `__init__`: `self.bias = self.mlp(table)`, or filled on the first call
under `if self.bias is None:`, also from local names bound in that block (`angles = pos * self.log_freq.exp()`, then
`self._table = (angles.cos(), angles.sin())`) and read after the block in the same method or returned by it -- also
`if self.table is None or self.table.size(0) < n:`, or after `if self.cached is not None [and self.cached.size(0) >= n]:
return self.cached[:n]`, a cache returned early once set; a product of a constant tensor and a parameter,
`pos[:, None] * self.freqs[None, :]`, keeps the constant for the parameter's gradient -- a cache rebuilt only for a
longer input -- or a memo table entry filled once per key under `if key not in self.cache:`)
and read by `forward` on every call is an error when a loop backpropagates
through the module every iteration (or a framework does: a part of a LightningModule whose `training_step` loss runs
through it, or of a Hugging Face model whose `forward` returns the loss the Trainer backpropagates, the model itself
included): every loss builds on that one graph, which the first backward frees; only when the computation keeps a
tensor for backward (an exponential, a layer), since a graph of sums can be walked again. The same for a LightningModule attribute computed so in a method Lightning runs
once per fit, before the training steps (`setup`, `configure_model`, `on_fit_start`, `on_train_start`, or `__init__`
when the module has no `forward`) or once per epoch (`on_train_epoch_start`: every batch of the epoch after the first
raises), and read by the `training_step` loss, which Lightning backpropagates every batch.

Only a tensor computed with gradient holds a graph. A state that is provably a Python or NumPy value (a
best-so-far metric `best = min(best, val_loss)` fed by `.item()` or `math.exp(...)`, a NumPy history
`hist = np.append(hist, loss.item())`, a helper that smooths floats) holds none and is not reported: every
value the name is given in the function, and the call's result assuming its own input is such a value, are
checked (constants, `float()`/`len()`, `math.*`/`numpy.*`, `.item()`/`.tolist()`/`.numpy()`/`.detach()`,
comparisons, `min`/`max`/`sum` of such values, in-file helpers whose every `return` is such a value).

Severity: an error when the call runs a module (a `torch.nn` constructor or an in-file `nn.Module` class
bound to the callee): its output state is a tensor attached to the graph and the next `backward()` raises.
A warning when the callee is anything else (a module passed in as an argument, a helper, a builtin such
as `max`): the state carries a graph only if it is a tensor computed with gradient, which the code does not
show.

## Why is this bad?
`backward()` frees the buffers of the graph it traverses. The next iteration's state still points into that
graph, so the next `backward()` walks back into it and raises
`RuntimeError: Trying to backward through the graph a second time (or directly access saved tensors after
they have already been freed)`. Passing `retain_graph=True` hides the error but backpropagates through the
whole history every step (truncated BPTT turns into full BPTT, time and memory grow without bound).

## Example
```python
hidden = torch.zeros(1, batch, 32)
for x, y in batches:
    out, hidden = rnn(x, hidden)
    loss = criterion(head(out), y)
    loss.backward()
```

## Use instead
```python
    out, hidden = rnn(x, hidden.detach())
```

## Fix safety
Passing `hidden.detach()` into the call is safe when the state is a plain tensor (`nn.RNN`, `nn.GRU`,
`nn.RNNCell`, `nn.GRUCell`, or one element of a tuple such as `(h, c)`): the forward values are unchanged and
each backward stops at the start of its own chunk, which is what truncated BPTT means. When the state may be
a tuple (an `nn.LSTM`'s `(h, c)`) or the call is to an unknown module, `.detach()` might not exist on it: no
fix, or an unsafe one, is offered. When the callee is a builtin or a helper function (the state may be a
number), or the state starts as None, no `.detach()` fix is offered. A state a `forward` stores at each step of its loop
over time steps gets `self.state = self.state.detach()` (or `tuple(s.detach() for s in self.state)` when the stored
value is a tuple of tensors) right after that loop: this call still backpropagates through all its steps, and the next
call starts from the values only.
"""
    examples = (
        Example(
            name="trainer-keeps-the-recurrent-state-between-windows",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Forecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 8, batch_first=True)
        self.head = nn.Linear(8, 1)

    def forward(self, x, state=None):
        out, state = self.lstm(x, state)
        return self.head(out[:, -1]), state


class Trainer:
    def __init__(self, model):
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        self.state = None

    def reset_state(self):
        self.state = None

    def training_step(self, x, y):
        pred, state = self.model(x, self.state)
        self.state = state
        loss = F.mse_loss(pred.squeeze(-1), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def fit(self, series, epochs=2):
        for _ in range(epochs):
            self.reset_state()
            losses = [self.training_step(series[:, t:t + 4], series[:, t + 4, 0]) for t in range(0, 12, 4)]
        return losses


def main():
    torch.manual_seed(0)
    model = Forecaster()
    Trainer(model).fit(torch.randn(2, 20, 3))
    return {"model": model}
""",
            lines=(28,),
            expect={'error': 'backward through the graph a second time'},
            fixable=False,
        ),
        Example(
            bad=False,
            name="trainer-keeps-the-detached-recurrent-state",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Forecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 8, batch_first=True)
        self.head = nn.Linear(8, 1)

    def forward(self, x, state=None):
        out, state = self.lstm(x, state)
        return self.head(out[:, -1]), state


class Trainer:
    def __init__(self, model):
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        self.state = None

    def reset_state(self):
        self.state = None

    def training_step(self, x, y):
        pred, state = self.model(x, self.state)
        self.state = tuple(s.detach() for s in state)
        loss = F.mse_loss(pred.squeeze(-1), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def fit(self, series, epochs=2):
        for _ in range(epochs):
            self.reset_state()
            losses = [self.training_step(series[:, t:t + 4], series[:, t + 4, 0]) for t in range(0, 12, 4)]
        return losses


def main():
    torch.manual_seed(0)
    model = Forecaster()
    Trainer(model).fit(torch.randn(2, 20, 3))
    return {"model": model}
""",
            expect={'grad_ok': ['model.lstm.weight_ih_l0', 'model.head.weight']},
        ),
        Example(
            name="langevin-samples-written-into-a-replay-tensor-with-their-graph",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    energy = nn.Sequential(nn.Linear(2, 8), nn.SiLU(), nn.Linear(8, 1))
    opt = torch.optim.Adam(energy.parameters(), lr=1e-3)
    buffer = torch.rand(32, 2)
    w0 = energy[0].weight.detach().clone()
    for step in range(4):
        idx = torch.randint(0, 32, (8,))
        x = buffer[idx].clone().requires_grad_(True)
        for _ in range(3):
            g = torch.autograd.grad(energy(x).sum(), x)[0]
            x = x - 0.1 * g
        buffer[idx] = x
        loss = energy(torch.randn(8, 2)).mean() - energy(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"energy": energy}, {"energy_changed": not torch.equal(w0, energy[0].weight)}
""",
            lines=(17,),
            expect={'error': 'backward through the graph a second time'},
            fixed_expect={'facts': {'energy_changed': True}},
        ),
        Example(
            bad=False,
            name="langevin-samples-written-into-a-replay-tensor-detached",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    energy = nn.Sequential(nn.Linear(2, 8), nn.SiLU(), nn.Linear(8, 1))
    opt = torch.optim.Adam(energy.parameters(), lr=1e-3)
    buffer = torch.rand(32, 2)
    w0 = energy[0].weight.detach().clone()
    for step in range(4):
        idx = torch.randint(0, 32, (8,))
        x = buffer[idx].clone().requires_grad_(True)
        for _ in range(3):
            g = torch.autograd.grad(energy(x).sum(), x)[0]
            x = x - 0.1 * g
        buffer[idx] = x.detach()
        loss = energy(torch.randn(8, 2)).mean() - energy(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"energy": energy}, {"energy_changed": not torch.equal(w0, energy[0].weight)}
""",
            expect={'facts': {'energy_changed': True}},
        ),
        Example(
            name="replay-buffer-method-writes-samples-with-their-graph-at-tensor-indices",
            code="""import torch
import torch.nn as nn


class ReplayBuffer:
    def __init__(self, size, d=2):
        self.data = torch.rand(size, d)

    def sample(self, n):
        idx = torch.randint(0, len(self.data), (n,))
        return self.data[idx].clone(), idx

    def push(self, idx, x):
        self.data[idx] = x


def langevin(energy, x, steps=3):
    x = x.requires_grad_(True)
    for _ in range(steps):
        g = torch.autograd.grad(energy(x).sum(), x)[0]
        x = x - 0.1 * g
    return x


def main():
    torch.manual_seed(0)
    energy = nn.Sequential(nn.Linear(2, 8), nn.SiLU(), nn.Linear(8, 1))
    opt = torch.optim.Adam(energy.parameters(), lr=1e-3)
    buffer = ReplayBuffer(32)
    w0 = energy[0].weight.detach().clone()
    for step in range(4):
        x_init, idx = buffer.sample(8)
        x_neg = langevin(energy, x_init)
        buffer.push(idx, x_neg)
        loss = energy(torch.randn(8, 2)).mean() - energy(x_neg).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"energy": energy}, {"energy_changed": not torch.equal(w0, energy[0].weight)}
""",
            lines=(34,),
            expect={'error': 'backward through the graph a second time'},
            fixed_expect={'facts': {'energy_changed': True}},
        ),
        Example(
            bad=False,
            name="replay-buffer-method-given-detached-samples",
            code="""import torch
import torch.nn as nn


class ReplayBuffer:
    def __init__(self, size, d=2):
        self.data = torch.rand(size, d)

    def sample(self, n):
        idx = torch.randint(0, len(self.data), (n,))
        return self.data[idx].clone(), idx

    def push(self, idx, x):
        self.data[idx] = x


def langevin(energy, x, steps=3):
    x = x.requires_grad_(True)
    for _ in range(steps):
        g = torch.autograd.grad(energy(x).sum(), x)[0]
        x = x - 0.1 * g
    return x


def main():
    torch.manual_seed(0)
    energy = nn.Sequential(nn.Linear(2, 8), nn.SiLU(), nn.Linear(8, 1))
    opt = torch.optim.Adam(energy.parameters(), lr=1e-3)
    buffer = ReplayBuffer(32)
    w0 = energy[0].weight.detach().clone()
    for step in range(4):
        x_init, idx = buffer.sample(8)
        x_neg = langevin(energy, x_init)
        buffer.push(idx, x_neg.detach())
        loss = energy(torch.randn(8, 2)).mean() - energy(x_neg).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"energy": energy}, {"energy_changed": not torch.equal(w0, energy[0].weight)}
""",
            expect={'facts': {'energy_changed': True}},
        ),
        Example(
            name="hf-model-caches-a-projection-on-first-call",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyConfig(PretrainedConfig):
    model_type = "tiny-cached-pe"

    def __init__(self, dim=4, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim


class Tagger(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.register_buffer("table", torch.randn(1, config.dim))
        self.pe_proj = nn.Linear(config.dim, config.dim)
        self.head = nn.Linear(config.dim, 2)
        self._pe = None
        self.post_init()

    def positional(self):
        if self._pe is None:
            self._pe = self.pe_proj(self.table)
        return self._pe

    def forward(self, x=None, labels=None):
        logits = self.head(torch.tanh(x + self.positional()))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def main():
    torch.manual_seed(0)
    model = Tagger(TinyConfig(num_labels=2))
    rows = [{"x": torch.randn(4), "labels": torch.tensor(i % 2)} for i in range(16)]
    args = TrainingArguments(output_dir="tmp_gg902_pe", num_train_epochs=1, per_device_train_batch_size=8, report_to="none")
    w0 = model.pe_proj.weight.detach().clone()
    Trainer(model=model, args=args, train_dataset=rows).train()
    return {"model": model}, {"pe_changed": not torch.equal(w0, model.pe_proj.weight)}
""",
            lines=(29,),
            expect={'error': 'backward through the graph a second time'},
            fixable=False,
        ),
        Example(
            bad=False,
            name="hf-model-caches-the-constant-and-projects-every-call",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyConfig(PretrainedConfig):
    model_type = "tiny-cached-pe"

    def __init__(self, dim=4, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim


class Tagger(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.register_buffer("table", torch.randn(1, config.dim))
        self.pe_proj = nn.Linear(config.dim, config.dim)
        self.head = nn.Linear(config.dim, 2)
        self._pe = None
        self.post_init()

    def positional(self):
        if self._pe is None:
            self._pe = self.table.clone()
        return self.pe_proj(self._pe)

    def forward(self, x=None, labels=None):
        logits = self.head(torch.tanh(x + self.positional()))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def main():
    torch.manual_seed(0)
    model = Tagger(TinyConfig(num_labels=2))
    rows = [{"x": torch.randn(4), "labels": torch.tensor(i % 2)} for i in range(16)]
    args = TrainingArguments(output_dir="tmp_gg902_pe", num_train_epochs=1, per_device_train_batch_size=8, report_to="none")
    w0 = model.pe_proj.weight.detach().clone()
    Trainer(model=model, args=args, train_dataset=rows).train()
    return {"model": model}, {"pe_changed": not torch.equal(w0, model.pe_proj.weight)}
""",
            expect={'facts': {'pe_changed': True}},
        ),
        Example(
            name="hf-model-forward-updates-a-running-mean-through-a-method",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class ForecastConfig(PretrainedConfig):
    model_type = "tiny-forecast-running-mean"

    def __init__(self, dim=4, momentum=0.9, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.momentum = dim, momentum


class Forecaster(PreTrainedModel):
    config_class = ForecastConfig

    def __init__(self, config):
        super().__init__(config)
        self.net = nn.Linear(config.dim, config.dim)
        self.running = torch.zeros(config.dim)
        self.post_init()

    def update_running(self, pred):
        m = self.config.momentum
        self.running = m * self.running + (1 - m) * pred.mean(0)
        return self.running

    def forward(self, x=None, target=None):
        pred = x + self.net(x)
        loss = None
        if target is not None:
            mean = self.update_running(pred)
            loss = F.mse_loss(pred, target) + 0.5 * F.mse_loss(pred - mean, target - mean)
        return ModelOutput(loss=loss, prediction=pred)


def main():
    torch.manual_seed(0)
    model = Forecaster(ForecastConfig())
    rows = [{"x": torch.randn(4), "target": torch.randn(4)} for _ in range(16)]
    args = TrainingArguments(output_dir="tmp_gg902_running", num_train_epochs=1, per_device_train_batch_size=4, report_to="none")
    w0 = model.net.weight.detach().clone()
    Trainer(model=model, args=args, train_dataset=rows).train()
    return {"model": model}, {"net_changed": not torch.equal(w0, model.net.weight)}
""",
            lines=(27,),
            expect={'error': 'backward through the graph a second time'},
            fixed_expect={'facts': {'net_changed': True}},
        ),
        Example(
            bad=False,
            name="hf-model-forward-updates-a-running-mean-from-a-detached-prediction",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class ForecastConfig(PretrainedConfig):
    model_type = "tiny-forecast-running-mean"

    def __init__(self, dim=4, momentum=0.9, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.momentum = dim, momentum


class Forecaster(PreTrainedModel):
    config_class = ForecastConfig

    def __init__(self, config):
        super().__init__(config)
        self.net = nn.Linear(config.dim, config.dim)
        self.running = torch.zeros(config.dim)
        self.post_init()

    def update_running(self, pred):
        m = self.config.momentum
        self.running = m * self.running + (1 - m) * pred.mean(0)
        return self.running

    def forward(self, x=None, target=None):
        pred = x + self.net(x)
        loss = None
        if target is not None:
            mean = self.update_running(pred.detach())
            loss = F.mse_loss(pred, target) + 0.5 * F.mse_loss(pred - mean, target - mean)
        return ModelOutput(loss=loss, prediction=pred)


def main():
    torch.manual_seed(0)
    model = Forecaster(ForecastConfig())
    rows = [{"x": torch.randn(4), "target": torch.randn(4)} for _ in range(16)]
    args = TrainingArguments(output_dir="tmp_gg902_running", num_train_epochs=1, per_device_train_batch_size=4, report_to="none")
    w0 = model.net.weight.detach().clone()
    Trainer(model=model, args=args, train_dataset=rows).train()
    return {"model": model}, {"net_changed": not torch.equal(w0, model.net.weight)}
""",
            expect={'facts': {'net_changed': True}},
        ),
        Example(
            name="state-carried-under-another-name",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Cell(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.lin = nn.Linear(2 * d, 2 * d)

    def forward(self, x, state):
        h, c = state
        h2, c2 = torch.tanh(self.lin(torch.cat([x, h], -1))).chunk(2, -1)
        return h2, c + c2


def train(cell, opt, chunks):
    state = (torch.zeros(2, 4), torch.zeros(2, 4))
    for x, y in chunks:
        new_state = cell(x, state)
        loss = F.mse_loss(new_state[0], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        state = new_state


def main():
    torch.manual_seed(0)
    cell = Cell()
    opt = torch.optim.SGD(cell.parameters(), lr=0.1)
    train(cell, opt, [(torch.randn(2, 4), torch.randn(2, 4)) for _ in range(3)])
    return {"cell": cell}
""",
            lines=(25,),
            expect={'error': 'Trying to backward through the graph a second time'},
            fixable=False,
        ),
        Example(
            bad=False,
            name="state-carried-under-another-name-detached",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Cell(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.lin = nn.Linear(2 * d, 2 * d)

    def forward(self, x, state):
        h, c = state
        h2, c2 = torch.tanh(self.lin(torch.cat([x, h], -1))).chunk(2, -1)
        return h2, c + c2


def train(cell, opt, chunks):
    state = (torch.zeros(2, 4), torch.zeros(2, 4))
    for x, y in chunks:
        new_state = cell(x, state)
        loss = F.mse_loss(new_state[0], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        state = tuple(s.detach() for s in new_state)


def main():
    torch.manual_seed(0)
    cell = Cell()
    opt = torch.optim.SGD(cell.parameters(), lr=0.1)
    train(cell, opt, [(torch.randn(2, 4), torch.randn(2, 4)) for _ in range(3)])
    return {"cell": cell}
""",
            expect={'grad_ok': ['cell.lin.weight']},
        ),
        Example(
            name="angle-table-cached-after-an-early-return-test-and-reused-by-the-next-step",
            code="""import torch
import torch.nn as nn


class LearnedRotary(nn.Module):
    def __init__(self, dim=4):
        super().__init__()
        self.freqs = nn.Parameter(1.0 / (100 ** (torch.arange(0, dim, 2).float() / dim)))
        self.cached = None

    def angles(self, t):
        if self.cached is not None and self.cached.size(0) >= t:
            return self.cached[:t]
        pos = torch.arange(t, dtype=torch.float32)
        ang = pos[:, None] * self.freqs[None, :]
        self.cached = ang
        return ang

    def forward(self, x):
        ang = self.angles(x.size(1))
        x1, x2 = x[..., 0::2], x[..., 1::2]
        return torch.cat([x1 * ang.cos() - x2 * ang.sin(), x1 * ang.sin() + x2 * ang.cos()], dim=-1)


def main():
    torch.manual_seed(0)
    rot = LearnedRotary()
    opt = torch.optim.SGD(rot.parameters(), lr=0.1)
    for _ in range(2):
        loss = rot(torch.randn(2, 5, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"rot": rot}
""",
            lines=(16,),
            expect={"error": "backward through the graph a second time"},
            fixable=False,
        ),
        Example(
            name="angle-table-computed-on-every-call",
            code="""import torch
import torch.nn as nn


class LearnedRotary(nn.Module):
    def __init__(self, dim=4):
        super().__init__()
        self.freqs = nn.Parameter(1.0 / (100 ** (torch.arange(0, dim, 2).float() / dim)))
        self.cached = None

    def angles(self, t):
        pos = torch.arange(t, dtype=torch.float32)
        return pos[:, None] * self.freqs[None, :]

    def forward(self, x):
        ang = self.angles(x.size(1))
        x1, x2 = x[..., 0::2], x[..., 1::2]
        return torch.cat([x1 * ang.cos() - x2 * ang.sin(), x1 * ang.sin() + x2 * ang.cos()], dim=-1)


def main():
    torch.manual_seed(0)
    rot = LearnedRotary()
    opt = torch.optim.SGD(rot.parameters(), lr=0.1)
    for _ in range(2):
        loss = rot(torch.randn(2, 5, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"rot": rot}
""",
            bad=False,
            expect={"grad_ok": ["rot.freqs"]},
        ),
        Example(
            name="hf-trainer-compute-loss-keeps-the-batch-latent-for-the-next-step",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import Trainer, TrainingArguments


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x=None, labels=None):
        z = torch.tanh(self.body(x))
        return {"loss": F.cross_entropy(self.head(z), labels), "z": z}


class StableLatentTrainer(Trainer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prev_z = None

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        z_mean = outputs["z"].mean(0)
        loss = outputs["loss"]
        if self.prev_z is not None:
            loss = loss + 0.1 * F.mse_loss(z_mean, self.prev_z)
        self.prev_z = z_mean
        return (loss, outputs) if return_outputs else loss


def main():
    torch.manual_seed(0)
    model = Encoder()
    rows = [{"x": torch.randn(4), "labels": torch.tensor(i % 2)} for i in range(16)]
    args = TrainingArguments(output_dir="tmp_gg902", num_train_epochs=1, per_device_train_batch_size=8, report_to="none")
    w0 = model.body.weight.detach().clone()
    StableLatentTrainer(model=model, args=args, train_dataset=rows).train()
    return {"model": model}, {"body_changed": not torch.equal(w0, model.body.weight)}
""",
            lines=(29,),
            expect={"error": "Trying to backward through the graph a second time"},
            fixed_expect={"facts": {"body_changed": True}},
        ),
        Example(
            bad=False,
            name="hf-trainer-compute-loss-keeps-a-detached-batch-latent",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import Trainer, TrainingArguments


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x=None, labels=None):
        z = torch.tanh(self.body(x))
        return {"loss": F.cross_entropy(self.head(z), labels), "z": z}


class StableLatentTrainer(Trainer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prev_z = None

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        z_mean = outputs["z"].mean(0)
        loss = outputs["loss"]
        if self.prev_z is not None:
            loss = loss + 0.1 * F.mse_loss(z_mean, self.prev_z)
        self.prev_z = z_mean.detach()
        return (loss, outputs) if return_outputs else loss


def main():
    torch.manual_seed(0)
    model = Encoder()
    rows = [{"x": torch.randn(4), "labels": torch.tensor(i % 2)} for i in range(16)]
    args = TrainingArguments(output_dir="tmp_gg902", num_train_epochs=1, per_device_train_batch_size=8, report_to="none")
    w0 = model.body.weight.detach().clone()
    StableLatentTrainer(model=model, args=args, train_dataset=rows).train()
    return {"model": model}, {"body_changed": not torch.equal(w0, model.body.weight)}
""",
            expect={"facts": {"body_changed": True}},
        ),
        Example(
            name="running-mean-of-a-submodule-updated-from-the-batch-with-its-graph",
            code="""import torch
import torch.nn as nn


class Centering(nn.Module):
    def __init__(self, dim, momentum=0.9):
        super().__init__()
        self.momentum = momentum
        self.running_mean = torch.zeros(dim)

    def forward(self, h):
        if self.training:
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * h.mean(0)
        return h - self.running_mean


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = nn.Linear(4, 3)
        self.center = Centering(3)

    def forward(self, x):
        return self.center(self.mlp(x))


def main():
    torch.manual_seed(0)
    model = Encoder()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = model(torch.randn(6, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(13,),
            expect={"error": "backward through the graph a second time"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="running-mean-of-a-submodule-updated-from-the-detached-batch",
            code="""import torch
import torch.nn as nn


class Centering(nn.Module):
    def __init__(self, dim, momentum=0.9):
        super().__init__()
        self.momentum = momentum
        self.running_mean = torch.zeros(dim)

    def forward(self, h):
        if self.training:
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * h.detach().mean(0)
        return h - self.running_mean


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = nn.Linear(4, 3)
        self.center = Centering(3)

    def forward(self, x):
        return self.center(self.mlp(x))


def main():
    torch.manual_seed(0)
    model = Encoder()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = model(torch.randn(6, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.mlp.weight"]},
        ),
        Example(
            name="state-kept-on-the-model-a-trainer-object-holds",
            code="""import torch
import torch.nn as nn


class StreamLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(3, 4, batch_first=True)
        self.out = nn.Linear(4, 3)
        self.hidden = None

    def reset(self):
        self.hidden = None

    def forward(self, x):
        h, self.hidden = self.rnn(x, self.hidden)
        return self.out(h)


class Trainer:
    def __init__(self, model, lr=0.1):
        self.model = model
        self.opt = torch.optim.SGD(model.parameters(), lr=lr)

    def epoch(self, chunks):
        self.model.reset()
        for x in chunks:
            loss = self.model(x).pow(2).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()


def main():
    torch.manual_seed(0)
    model = StreamLM()
    Trainer(model).epoch([torch.randn(2, 5, 3) for _ in range(3)])
    return {"model": model}
""",
            lines=(16,),
            fixable=False,  # like the other attribute states: detach where the state is stored (a tuple for an LSTM)
            expect={"error": "backward through the graph a second time"},
        ),
        Example(
            bad=False,
            name="detached-state-kept-on-the-model-a-trainer-object-holds",
            code="""import torch
import torch.nn as nn


class StreamLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(3, 4, batch_first=True)
        self.out = nn.Linear(4, 3)
        self.hidden = None

    def reset(self):
        self.hidden = None

    def forward(self, x):
        h, hidden = self.rnn(x, self.hidden)
        self.hidden = hidden.detach()
        return self.out(h)


class Trainer:
    def __init__(self, model, lr=0.1):
        self.model = model
        self.opt = torch.optim.SGD(model.parameters(), lr=lr)

    def epoch(self, chunks):
        self.model.reset()
        for x in chunks:
            loss = self.model(x).pow(2).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()


def main():
    torch.manual_seed(0)
    model = StreamLM()
    Trainer(model).epoch([torch.randn(2, 5, 3) for _ in range(3)])
    return {"model": model}
""",
            expect={"grad_ok": ["model.rnn.weight_ih_l0", "model.out.weight"]},
        ),
        Example(
            name="bias-memoized-per-length-with-its-graph",
            code="""import torch
import torch.nn as nn


class RelBias(nn.Module):
    def __init__(self, max_distance=4):
        super().__init__()
        self.table = nn.Embedding(2 * max_distance + 1, 1)
        self.max_distance = max_distance
        self.cache = {}

    def forward(self, n):
        if n not in self.cache:
            pos = torch.arange(n)
            rel = (pos[None, :] - pos[:, None]).clamp(-self.max_distance, self.max_distance) + self.max_distance
            self.cache[n] = self.table(rel).squeeze(-1)
        return self.cache[n]


def main():
    torch.manual_seed(0)
    bias = RelBias()
    proj = nn.Linear(5, 5)
    opt = torch.optim.SGD(list(bias.parameters()) + list(proj.parameters()), lr=0.1)
    for _ in range(2):
        loss = (proj(torch.randn(5, 5)) + bias(5)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"bias": bias}
""",
            lines=(16,),
            fixable=False,  # move the lookup out of the cache (cache the index tensor): a restructuring
            expect={"error": "backward through the graph a second time"},
        ),
        Example(
            bad=False,
            name="index-tensor-memoized-lookup-run-every-call",
            code="""import torch
import torch.nn as nn


class RelBias(nn.Module):
    def __init__(self, max_distance=4):
        super().__init__()
        self.table = nn.Embedding(2 * max_distance + 1, 1)
        self.max_distance = max_distance
        self.cache = {}

    def forward(self, n):
        if n not in self.cache:
            pos = torch.arange(n)
            self.cache[n] = (pos[None, :] - pos[:, None]).clamp(-self.max_distance, self.max_distance) + self.max_distance
        return self.table(self.cache[n]).squeeze(-1)


def main():
    torch.manual_seed(0)
    bias = RelBias()
    proj = nn.Linear(5, 5)
    opt = torch.optim.SGD(list(bias.parameters()) + list(proj.parameters()), lr=0.1)
    for _ in range(2):
        loss = (proj(torch.randn(5, 5)) + bias(5)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"bias": bias}
""",
            expect={"grad_ok": ["bias.table.weight"]},
        ),
        Example(
            name="loss-sum-started-once-before-the-batch-loop",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def train_epoch(model, batches, optimizer, weights):
    total = 0.0
    for x, y in batches:
        out = model(x)
        for k, w in enumerate(weights):
            total = total + w * F.mse_loss(out[:, k], y[:, k])
        optimizer.zero_grad()
        total.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    batches = [(torch.randn(8, 4), torch.randn(8, 2)) for _ in range(3)]
    train_epoch(model, batches, optimizer, [1.0, 0.5])
    return {"model": model}
""",
            lines=(7,),
            expect={"error": "backward through the graph a second time"},
        ),
        Example(
            bad=False,
            name="loss-sum-started-in-every-iteration",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def train_epoch(model, batches, optimizer, weights):
    running = 0.0
    for x, y in batches:
        out = model(x)
        total = 0.0
        for k, w in enumerate(weights):
            total = total + w * F.mse_loss(out[:, k], y[:, k])
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        running += total.item()
    return running


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    batches = [(torch.randn(8, 4), torch.randn(8, 2)) for _ in range(3)]
    train_epoch(model, batches, optimizer, [1.0, 0.5])
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.weight", "model.2.weight"]},
        ),
        Example(
            bad=False,
            name="accumulated-loss-backpropagated-then-restarted",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    total = 0.0
    for i in range(6):
        x, y = torch.randn(8, 4), torch.randn(8, 1)
        total = total + F.mse_loss(model(x), y) / 3
        if (i + 1) % 3 == 0:
            optimizer.zero_grad()
            total.backward()
            optimizer.step()
            total = 0.0
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.weight", "model.2.weight"]},
        ),
        Example(
            name="bias-table-computed-once-in-init",
            code="""import torch
import torch.nn as nn


class Attention(nn.Module):
    def __init__(self, n=4, heads=2):
        super().__init__()
        self.qk = nn.Linear(8, 8)
        self.bias_mlp = nn.Sequential(nn.Linear(1, 8), nn.ReLU(), nn.Linear(8, heads))
        offsets = torch.arange(n).float()[None, :] - torch.arange(n).float()[:, None]
        self.bias = self.bias_mlp(offsets.unsqueeze(-1)).permute(2, 0, 1)

    def forward(self, x):
        q = self.qk(x).view(x.shape[0], 2, x.shape[1], 4)
        return (q @ q.transpose(-1, -2) + self.bias).softmax(-1).sum()


def main():
    torch.manual_seed(0)
    model = Attention()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = model(torch.randn(3, 4, 8))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(11,),
            expect={"error": "backward through the graph a second time"},
            fixable=False,
        ),
        Example(
            name="bias-table-cached-on-first-call",
            code="""import torch
import torch.nn as nn


class PositionBias(nn.Module):
    def __init__(self, n=4):
        super().__init__()
        self.mlp = nn.Linear(1, 1)
        self.register_buffer("offsets", torch.arange(n).float().unsqueeze(-1))
        self.cached = None

    def forward(self):
        if self.cached is None:
            self.cached = self.mlp(self.offsets).squeeze(-1)
        return self.cached


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.pos = PositionBias()

    def forward(self, x):
        return self.fc(x) + self.pos()


def main():
    torch.manual_seed(0)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(2):
        loss = net(torch.randn(2, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"net": net}
""",
            lines=(14,),
            expect={"error": "backward through the graph a second time"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="table-computed-every-call-and-constant-cached-without-grad",
            code="""import torch
import torch.nn as nn


class PositionBias(nn.Module):
    def __init__(self, n=4):
        super().__init__()
        self.mlp = nn.Linear(1, 1)
        self.register_buffer("offsets", torch.arange(n).float().unsqueeze(-1))
        with torch.no_grad():
            self.initial = self.mlp(self.offsets).squeeze(-1)
        self.frozen = None

    def forward(self):
        if self.frozen is None:
            self.frozen = self.initial.clone()
        return self.mlp(self.offsets).squeeze(-1) + 0.0 * self.frozen


def main():
    torch.manual_seed(0)
    pos = PositionBias()
    opt = torch.optim.SGD(pos.parameters(), lr=0.1)
    for _ in range(2):
        loss = pos().pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"pos": pos}
""",
            expect={"grad_ok": ["pos.mlp.weight"]},
        ),
        Example(
            name="previous-batch-kept-on-the-trainer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Trainer:
    def __init__(self, model, optimizer):
        self.model = model
        self.optimizer = optimizer
        self.memory = None

    def contrast(self, q, k):
        bank = k if self.memory is None else torch.cat([k, self.memory])
        return F.cross_entropy(q @ bank.t(), torch.arange(q.shape[0]))

    def step(self, x):
        q, k = self.model(x), self.model(x + 0.1)
        loss = self.contrast(q, k)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.memory = k


def main():
    torch.manual_seed(0)
    model = nn.Linear(6, 4)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1))
    for _ in range(3):
        trainer.step(torch.randn(5, 6))
    return {"model": model}
""",
            lines=(22,),
            expect={"error": "backward through the graph a second time"},
        ),
        Example(
            bad=False,
            name="previous-batch-kept-detached-and-loss-kept-for-logging",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Trainer:
    def __init__(self, model, optimizer):
        self.model = model
        self.optimizer = optimizer
        self.memory = None
        self.last_loss = None
        self.log = []

    def contrast(self, q, k):
        bank = k if self.memory is None else torch.cat([k, self.memory])
        return F.cross_entropy(q @ bank.t(), torch.arange(q.shape[0]))

    def step(self, x):
        if self.last_loss is not None:
            self.log.append(f"previous loss {self.last_loss.item():.3f}")
        q, k = self.model(x), self.model(x + 0.1)
        loss = self.contrast(q, k)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.memory = k.detach()
        self.last_loss = loss


def main():
    torch.manual_seed(0)
    model = nn.Linear(6, 4)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1))
    for _ in range(3):
        trainer.step(torch.randn(5, 6))
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight"]},
        ),
        Example(
            name="running-baseline-updated-from-the-policy-before-backward",
            code="""import torch
import torch.nn as nn


class Reinforce:
    def __init__(self, policy, lr=0.05, momentum=0.9):
        self.policy = policy
        self.opt = torch.optim.SGD(policy.parameters(), lr=lr)
        self.momentum = momentum
        self.baseline = torch.zeros(())

    def update(self, obs, payoff):
        log_probs = torch.log_softmax(self.policy(obs), dim=-1)
        actions = torch.distributions.Categorical(logits=log_probs).sample()
        rewards = payoff.gather(1, actions[:, None]).squeeze(1)
        expected = (log_probs.exp() * payoff).sum(-1).mean()
        self.baseline = self.momentum * self.baseline + (1 - self.momentum) * expected
        advantage = rewards - self.baseline
        loss = -(log_probs.gather(1, actions[:, None]).squeeze(1) * advantage).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()


def main():
    torch.manual_seed(0)
    policy = nn.Linear(6, 4)
    agent = Reinforce(policy)
    for _ in range(3):
        obs = torch.randn(8, 6)
        agent.update(obs, torch.rand(8, 4))
    return {"policy": policy}
""",
            lines=(17,),
            expect={"error": "backward through the graph a second time"},
            fixed_expect={"grad_ok": ["policy.weight"]},
        ),
        Example(
            bad=False,
            name="running-baseline-updated-from-the-sampled-rewards",
            code="""import torch
import torch.nn as nn


class Reinforce:
    def __init__(self, policy, lr=0.05, momentum=0.9):
        self.policy = policy
        self.opt = torch.optim.SGD(policy.parameters(), lr=lr)
        self.momentum = momentum
        self.baseline = torch.zeros(())

    def update(self, obs, payoff):
        log_probs = torch.log_softmax(self.policy(obs), dim=-1)
        actions = torch.distributions.Categorical(logits=log_probs).sample()
        rewards = payoff.gather(1, actions[:, None]).squeeze(1)
        expected = (log_probs.exp() * payoff).sum(-1).mean()
        self.baseline = self.momentum * self.baseline + (1 - self.momentum) * rewards.mean()
        advantage = rewards - self.baseline
        loss = -(log_probs.gather(1, actions[:, None]).squeeze(1) * advantage).mean() - 0.01 * expected
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()


def main():
    torch.manual_seed(0)
    policy = nn.Linear(6, 4)
    agent = Reinforce(policy)
    for _ in range(3):
        obs = torch.randn(8, 6)
        agent.update(obs, torch.rand(8, 4))
    return {"policy": policy}
""",
            expect={"grad_ok": ["policy.weight"]},
        ),
        Example(
            name="recurrent-state-kept-on-the-module",
            code="""import torch
import torch.nn as nn


class LanguageModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(4, 8, batch_first=True)
        self.head = nn.Linear(8, 4)
        self.hidden = None

    def forward(self, x):
        out, self.hidden = self.rnn(x, self.hidden)
        return self.head(out)


def main():
    torch.manual_seed(0)
    model = LanguageModel()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        x = torch.randn(2, 5, 4)
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(13,),
            fixable=False,
            expect={"error": "Trying to backward through the graph a second time"},
        ),
        Example(
            name="log-probs-kept-on-the-policy-never-cleared",
            code="""import torch
import torch.nn as nn


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 2)
        self.saved_log_probs = []

    def forward(self, obs):
        return torch.log_softmax(self.net(obs), dim=-1)


def act(policy, obs):
    logp = policy(obs)
    policy.saved_log_probs.append(logp[0])


def update(policy, optimizer):
    loss = -torch.stack(policy.saved_log_probs).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def main():
    torch.manual_seed(0)
    policy = Policy()
    optimizer = torch.optim.SGD(policy.parameters(), lr=0.1)
    for _ in range(3):
        for _ in range(2):
            act(policy, torch.randn(4))
        update(policy, optimizer)
    return {"policy": policy}
""",
            lines=(23,),
            fixable=False,
            expect={"error": "Trying to backward through the graph a second time"},
        ),
        Example(
            bad=False,
            name="log-probs-kept-on-the-policy-cleared-after-each-update",
            code="""import torch
import torch.nn as nn


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 2)
        self.saved_log_probs = []
        self.rewards = []

    def forward(self, obs):
        return torch.log_softmax(self.net(obs), dim=-1)


def act(policy, obs):
    logp = policy(obs)
    policy.saved_log_probs.append(logp[0])
    policy.rewards.append(float(logp[1].item()))


def update(policy, optimizer):
    loss = -torch.stack(policy.saved_log_probs).sum() * sum(policy.rewards)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    del policy.saved_log_probs[:]
    policy.rewards.clear()


def main():
    torch.manual_seed(0)
    policy = Policy()
    optimizer = torch.optim.SGD(policy.parameters(), lr=0.1)
    for _ in range(3):
        for _ in range(2):
            act(policy, torch.randn(4))
        update(policy, optimizer)
    return {"policy": policy}
""",
            expect={"grad_ok": ["policy.net.weight"]},
        ),
        Example(
            bad=False,
            name="recurrent-state-on-the-module-detached-or-reset",
            code="""import torch
import torch.nn as nn


class LanguageModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(4, 8, batch_first=True)
        self.head = nn.Linear(8, 4)
        self.hidden = None

    def forward(self, x):
        out, hidden = self.rnn(x, self.hidden)
        self.hidden = hidden.detach()
        return self.head(out)


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(4, 8, batch_first=True)
        self.state = None

    def reset(self):
        self.state = None

    def forward(self, x):
        out, self.state = self.rnn(x, self.state)
        return out


def main():
    torch.manual_seed(0)
    model, tagger = LanguageModel(), Tagger()
    opt = torch.optim.SGD([*model.parameters(), *tagger.parameters()], lr=0.1)
    for _ in range(3):
        x = torch.randn(2, 5, 4)
        tagger.reset()
        loss = model(x).pow(2).mean() + tagger(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model, "tagger": tagger}
""",
            expect={"grad_ok": ["model.rnn.weight_ih_l0", "tagger.rnn.weight_ih_l0"]},
        ),
        Example(
            name="memory-bank-concatenated-with-its-graph",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def bank_loss(emb, labels, bank, bank_labels, margin=0.5):
    sim = emb @ bank.t()
    pos = (labels[:, None] == bank_labels[None, :]).float()
    return ((1 - sim) * pos + F.relu(sim - margin) * (1 - pos)).mean()


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 8))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    bank, bank_labels = torch.zeros(0, 8), torch.zeros(0, dtype=torch.long)
    for _ in range(3):
        x, y = torch.randn(4, 6), torch.randint(0, 3, (4,))
        emb = F.normalize(net(x), dim=-1)
        bank = torch.cat([emb, bank])[:12]
        bank_labels = torch.cat([y, bank_labels])[:12]
        loss = bank_loss(emb, y, bank, bank_labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"net": net}
""",
            lines=(20,),
            expect={"error": "Trying to backward through the graph a second time"},
        ),
        Example(
            name="memory-object-method-keeps-the-graph",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Memory:
    def __init__(self, size=12, dim=8):
        self.feats = torch.zeros(0, dim)
        self.size = size

    def enqueue(self, feats):
        self.feats = torch.cat([feats, self.feats])[: self.size]


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 8))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    memory = Memory()
    for _ in range(3):
        emb = F.normalize(net(torch.randn(4, 6)), dim=-1)
        memory.enqueue(emb)
        loss = (1 - emb @ memory.feats.t()).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"net": net}
""",
            lines=(22,),
            expect={"error": "Trying to backward through the graph a second time"},
            fixed_expect={"grad_ok": ["net.0.weight"]},
        ),
        Example(
            bad=False,
            name="memory-object-method-under-no-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Memory:
    def __init__(self, size=12, dim=8):
        self.feats = torch.zeros(0, dim)
        self.size = size

    @torch.no_grad()
    def enqueue(self, feats):
        self.feats = torch.cat([feats, self.feats])[: self.size]


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 8))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    memory = Memory()
    for _ in range(3):
        emb = F.normalize(net(torch.randn(4, 6)), dim=-1)
        memory.enqueue(emb)
        loss = (1 - emb @ memory.feats.t()).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.0.weight"]},
        ),
        Example(
            bad=False,
            name="memory-bank-concatenated-detached",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def bank_loss(emb, labels, bank, bank_labels, margin=0.5):
    sim = emb @ bank.t()
    pos = (labels[:, None] == bank_labels[None, :]).float()
    return ((1 - sim) * pos + F.relu(sim - margin) * (1 - pos)).mean()


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 8))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    bank, bank_labels = torch.zeros(0, 8), torch.zeros(0, dtype=torch.long)
    for _ in range(3):
        x, y = torch.randn(4, 6), torch.randint(0, 3, (4,))
        emb = F.normalize(net(x), dim=-1)
        bank = torch.cat([emb.detach(), bank])[:12]
        bank_labels = torch.cat([y, bank_labels])[:12]
        loss = bank_loss(emb, y, bank, bank_labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.0.weight", "net.2.weight"]},
        ),
        Example(
            name="gru-hidden-across-chunks",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    gru = nn.GRU(input_size=2, hidden_size=5, batch_first=True)
    proj = nn.Linear(5, 2)
    opt = torch.optim.SGD(list(gru.parameters()) + list(proj.parameters()), lr=0.05)
    seq = torch.randn(1, 24, 2)
    state = torch.zeros(1, 1, 5)
    for t0 in range(0, 18, 6):
        chunk = seq[:, t0:t0 + 6]
        out, state = gru(chunk, state)
        loss = (proj(out) - seq[:, t0 + 1:t0 + 7]).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"gru": gru, "proj": proj}
""",
            lines=(14,),
            expect={"error": "Trying to backward through the graph a second time"},
        ),
        Example(
            name="cell-running-state",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    cell = nn.RNNCell(3, 4)
    readout = nn.Linear(4, 1)
    opt = torch.optim.Adam(list(cell.parameters()) + list(readout.parameters()), lr=1e-2)
    h = torch.zeros(2, 4)
    for step in range(3):
        h = cell(torch.randn(2, 3), h)
        loss = readout(h).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"cell": cell, "readout": readout}
""",
            lines=(12,),
            expect={"error": "Trying to backward through the graph a second time"},
        ),
        Example(
            bad=False,
            name="repackaged-hidden",
            code="""import torch
import torch.nn as nn


def repackage(h):
    return h.detach() if isinstance(h, torch.Tensor) else tuple(repackage(v) for v in h)


def main():
    torch.manual_seed(0)
    lstm = nn.LSTM(2, 3)
    head = nn.Linear(3, 1)
    opt = torch.optim.SGD(list(lstm.parameters()) + list(head.parameters()), lr=0.1)
    hidden = (torch.zeros(1, 1, 3), torch.zeros(1, 1, 3))
    for _ in range(3):
        hidden = repackage(hidden)
        out, hidden = lstm(torch.randn(4, 1, 2), hidden)
        loss = head(out).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"lstm": lstm, "head": head}
""",
            expect={"grad_ok": ["lstm.weight_ih_l0", "head.weight"]},
        ),
        Example(
            bad=False,
            name="state-reset-each-batch",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    cell = nn.GRUCell(2, 3)
    opt = torch.optim.SGD(cell.parameters(), lr=0.1)
    for batch in range(2):
        h = torch.zeros(4, 3)
        for t in range(5):
            h = cell(torch.randn(4, 2), h)
        loss = h.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"cell": cell}
""",
            expect={"grad_ok": ["cell.weight_ih"]},
        ),
        Example(
            name="in-file-recurrent-module",
            code="""import torch
import torch.nn as nn


class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.mix = nn.Linear(6, 4)

    def forward(self, x, h):
        return torch.tanh(self.mix(torch.cat([x, h], 1)))


def main():
    torch.manual_seed(0)
    step = Recurrent()
    opt = torch.optim.SGD(step.parameters(), lr=0.1)
    h = torch.zeros(3, 4)
    for _ in range(3):
        h = step(torch.randn(3, 2), h)
        loss = h.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"step": step}
""",
            lines=(20,),
            expect={"error": "Trying to backward through the graph a second time"},
        ),
        Example(
            bad=False,
            name="best-metric-python-float",
            code="""import math

import numpy as np
import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 3), torch.randn(8, 1)

    def evaluation(model, batches):
        losses = []
        for xb, yb in batches:
            with torch.no_grad():
                losses.append(nn.functional.mse_loss(model(xb), yb).item())
        try:
            perplexity = math.exp(np.mean(losses))
        except OverflowError:
            perplexity = float("inf")
        return perplexity

    def training(model, batches):
        best = float("inf")
        for xb, yb in batches:
            loss = nn.functional.mse_loss(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            perplexity = evaluation(model, batches)
            best = min(best, perplexity)
        return best

    training(model, [(x, y)] * 3)
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight", "model.bias"]},
        ),
        Example(
            bad=False,
            name="numpy-history-and-float-smoothing",
            code="""import numpy as np
import torch
import torch.nn as nn


def smooth(avg, value):
    return 0.9 * avg + 0.1 * value


def main():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    history = np.zeros(0)
    running = 0.0
    for _ in range(3):
        loss = model(torch.randn(8, 3)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        history = np.append(history, loss.item())
        running = smooth(running, loss.item())
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight", "model.bias"]},
        ),
        Example(
            name="lightning-batch-end-hook-keeps-the-step-keys-with-their-graph",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Contrast(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(6, 4)
        self.previous = None

    def training_step(self, batch, batch_idx):
        (x,) = batch
        q, k = self.encoder(x), self.encoder(x + 0.1)
        keys = k if self.previous is None else torch.cat([k, self.previous])
        loss = F.cross_entropy(q @ keys.t(), torch.arange(q.size(0)))
        return {"loss": loss, "keys": k}

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self.previous = outputs["keys"]

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    model = Contrast()
    before = model.encoder.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(TensorDataset(torch.randn(24, 6)), batch_size=8))
    return {"model": model}, {"changed": not torch.equal(before, model.encoder.weight)}
""",
            expect={"error": "backward through the graph a second time"},
            lines=(22,),
        ),
        Example(
            bad=False,
            name="lightning-batch-end-hook-keeps-detached-keys",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Contrast(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(6, 4)
        self.previous = None

    def training_step(self, batch, batch_idx):
        (x,) = batch
        q, k = self.encoder(x), self.encoder(x + 0.1)
        keys = k if self.previous is None else torch.cat([k, self.previous])
        loss = F.cross_entropy(q @ keys.t(), torch.arange(q.size(0)))
        return {"loss": loss, "keys": k}

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self.previous = outputs["keys"].detach()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    model = Contrast()
    before = model.encoder.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(TensorDataset(torch.randn(24, 6)), batch_size=8))
    return {"model": model}, {"changed": not torch.equal(before, model.encoder.weight)}
""",
            expect={"facts": {"changed": True}},
        ),
        Example(
            name="lightning-submodule-keeps-its-membrane-state-between-batches",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Leaky(nn.Module):
    def __init__(self, beta=0.9):
        super().__init__()
        self.beta = beta
        self.mem = None

    def reset(self):
        self.mem = None

    def forward(self, x):
        if self.mem is None:
            self.mem = torch.zeros_like(x)
        self.mem = self.beta * self.mem + x
        return torch.sigmoid(self.mem)


class Spiking(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 4)
        self.lif = Leaky()

    def forward(self, x):
        return self.lif(self.fc(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    model = Spiking()
    before = model.fc.weight.detach().clone()
    data = TensorDataset(torch.randn(24, 6), torch.randint(0, 4, (24,)))
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=8))
    return {"model": model}, {"changed": not torch.equal(before, model.fc.weight)}
""",
            lines=(20,),
            fixable=False,
            expect={"error": "backward through the graph a second time"},
        ),
        Example(
            name="lightning-module-keeps-its-own-rnn-state-between-batches",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class StreamLM(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.rnn = nn.GRU(8, 8, batch_first=True)
        self.proj = nn.Linear(8, 20)
        self.hidden = None

    def on_train_epoch_start(self):
        self.hidden = None

    def forward(self, tokens):
        out, hidden = self.rnn(self.embed(tokens), self.hidden)
        self.hidden = hidden
        return self.proj(out)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x).reshape(-1, 20), y.reshape(-1))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    model = StreamLM()
    before = model.proj.weight.detach().clone()
    stream = torch.randint(0, 20, (3, 4, 6))
    data = TensorDataset(stream, stream.roll(-1, dims=2))
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=None))
    return {"model": model}, {"changed": not torch.equal(before, model.proj.weight)}
""",
            lines=(21,),
            fixable=False,
            expect={"error": "backward through the graph a second time"},
        ),
        Example(
            bad=False,
            name="lightning-module-keeps-its-own-rnn-state-detached",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class StreamLM(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.rnn = nn.GRU(8, 8, batch_first=True)
        self.proj = nn.Linear(8, 20)
        self.hidden = None

    def on_train_epoch_start(self):
        self.hidden = None

    def forward(self, tokens):
        out, hidden = self.rnn(self.embed(tokens), self.hidden)
        self.hidden = hidden.detach()
        return self.proj(out)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x).reshape(-1, 20), y.reshape(-1))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    model = StreamLM()
    before = model.proj.weight.detach().clone()
    stream = torch.randint(0, 20, (3, 4, 6))
    data = TensorDataset(stream, stream.roll(-1, dims=2))
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=None))
    return {"model": model}, {"changed": not torch.equal(before, model.proj.weight)}
""",
            expect={"facts": {"changed": True}},
        ),
        Example(
            bad=False,
            name="lightning-forward-resets-the-submodule-state-every-batch",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Leaky(nn.Module):
    def __init__(self, beta=0.9):
        super().__init__()
        self.beta = beta
        self.mem = None

    def reset(self):
        self.mem = None

    def forward(self, x):
        if self.mem is None:
            self.mem = torch.zeros_like(x)
        self.mem = self.beta * self.mem + x
        return torch.sigmoid(self.mem)


class Spiking(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 4)
        self.lif = Leaky()

    def forward(self, x):
        self.lif.reset()
        return self.lif(self.fc(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    model = Spiking()
    before = model.fc.weight.detach().clone()
    data = TensorDataset(torch.randn(24, 6), torch.randint(0, 4, (24,)))
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=8))
    return {"model": model}, {"changed": not torch.equal(before, model.fc.weight)}
""",
            expect={"facts": {"changed": True}},
        ),
        Example(
            name="memo-of-a-projection-filled-once-per-key-and-read-on-every-call",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class LabelConditioned(nn.Module):
    def __init__(self, n_labels=3, dim=8):
        super().__init__()
        self.label_table = nn.Embedding(n_labels, dim)
        self.label_table.requires_grad_(False)
        self.cond_proj = nn.Linear(dim, dim)
        self.body = nn.Linear(dim, 1)
        self._cache = {}

    def condition(self, labels):
        out = []
        for k in labels.tolist():
            if k not in self._cache:
                with torch.no_grad():
                    e = self.label_table(torch.tensor([k]))
                self._cache[k] = self.cond_proj(e)
            out.append(self._cache[k])
        return torch.cat(out)

    def forward(self, x, labels):
        return self.body(x + self.condition(labels))


def main():
    torch.manual_seed(0)
    model = LabelConditioned()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    labels = torch.tensor([0, 1, 2, 0])
    for _ in range(2):
        loss = F.mse_loss(model(torch.randn(4, 8), labels), torch.randn(4, 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(21,),
            fixable=False,
            expect={"error": "backward through the graph a second time"},
        ),
        Example(
            bad=False,
            name="memo-of-frozen-features-projected-on-every-call",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class LabelConditioned(nn.Module):
    def __init__(self, n_labels=3, dim=8):
        super().__init__()
        self.label_table = nn.Embedding(n_labels, dim)
        self.label_table.requires_grad_(False)
        self.cond_proj = nn.Linear(dim, dim)
        self.body = nn.Linear(dim, 1)
        self._cache = {}

    def condition(self, labels):
        out = []
        for k in labels.tolist():
            if k not in self._cache:
                with torch.no_grad():
                    e = self.label_table(torch.tensor([k]))
                self._cache[k] = e
            out.append(self.cond_proj(self._cache[k]))
        return torch.cat(out)

    def forward(self, x, labels):
        return self.body(x + self.condition(labels))


def main():
    torch.manual_seed(0)
    model = LabelConditioned()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    labels = torch.tensor([0, 1, 2, 0])
    for _ in range(2):
        loss = F.mse_loss(model(torch.randn(4, 8), labels), torch.randn(4, 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.cond_proj.weight", "model.body.weight"]},
        ),
        Example(
            name="queue-object-given-to-the-training-function-keeps-the-keys-graph",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class KeyQueue:
    def __init__(self, dim=4, size=16):
        self.size = size
        self.keys = F.normalize(torch.randn(size, dim), dim=-1)

    def push(self, keys):
        self.keys = torch.cat([keys, self.keys], dim=0)[: self.size]


def train(encoder, optimizer, queue, steps=3):
    for _ in range(steps):
        x = torch.randn(8, 6)
        q = F.normalize(encoder(x + 0.1 * torch.randn_like(x)), dim=-1)
        k = F.normalize(encoder(x), dim=-1)
        logits = torch.cat([(q * k).sum(-1, keepdim=True), q @ queue.keys.T], dim=1) / 0.2
        loss = F.cross_entropy(logits, torch.zeros(8, dtype=torch.long))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        queue.push(k)


def main():
    torch.manual_seed(0)
    encoder = nn.Linear(6, 4)
    train(encoder, torch.optim.SGD(encoder.parameters(), lr=0.1), KeyQueue())
    return {"encoder": encoder}
""",
            lines=(25,),
            expect={"error": "backward through the graph a second time"},
        ),
        Example(
            bad=False,
            name="queue-object-given-to-the-training-function-keeps-detached-keys",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class KeyQueue:
    def __init__(self, dim=4, size=16):
        self.size = size
        self.keys = F.normalize(torch.randn(size, dim), dim=-1)

    def push(self, keys):
        self.keys = torch.cat([keys, self.keys], dim=0)[: self.size]


def train(encoder, optimizer, queue, steps=3):
    for _ in range(steps):
        x = torch.randn(8, 6)
        q = F.normalize(encoder(x + 0.1 * torch.randn_like(x)), dim=-1)
        k = F.normalize(encoder(x), dim=-1)
        logits = torch.cat([(q * k).sum(-1, keepdim=True), q @ queue.keys.T], dim=1) / 0.2
        loss = F.cross_entropy(logits, torch.zeros(8, dtype=torch.long))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        queue.push(k.detach())


def main():
    torch.manual_seed(0)
    encoder = nn.Linear(6, 4)
    train(encoder, torch.optim.SGD(encoder.parameters(), lr=0.1), KeyQueue())
    return {"encoder": encoder}
""",
            expect={"grad_ok": ["encoder.weight"]},
        ),
        Example(
            name="lightning-normalizer-cached-in-on-fit-start",
            code="""import math

import torch
import torch.nn as nn
import lightning as L
from torch.utils.data import DataLoader, TensorDataset


class GaussianFit(L.LightningModule):
    def __init__(self, dim=3):
        super().__init__()
        self.encoder = nn.Linear(dim, dim)
        self.log_scale = nn.Parameter(torch.zeros(dim))
        self.dim = dim

    def log_norm(self):
        return -0.5 * self.dim * math.log(2 * math.pi) - torch.log(self.log_scale.exp()).sum()

    def on_fit_start(self):
        self.base_log_norm = self.log_norm()

    def training_step(self, batch, batch_idx):
        (x,) = batch
        z = self.encoder(x) / self.log_scale.exp()
        return -(self.base_log_norm - 0.5 * (z ** 2).sum(-1)).mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def main():
    torch.manual_seed(0)
    module = GaussianFit()
    loader = DataLoader(TensorDataset(torch.randn(8, 3)), batch_size=2)
    L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(module, loader)
    return {"module": module}
""",
            lines=(20,),
            fixable=False,
            expect={"error": "backward through the graph a second time"},
        ),
        Example(
            name="lightning-normalizer-cached-detached-in-on-fit-start",
            bad=False,
            code="""import math

import torch
import torch.nn as nn
import lightning as L
from torch.utils.data import DataLoader, TensorDataset


class GaussianFit(L.LightningModule):
    def __init__(self, dim=3):
        super().__init__()
        self.encoder = nn.Linear(dim, dim)
        self.log_scale = nn.Parameter(torch.zeros(dim))
        self.dim = dim

    def log_norm(self):
        return -0.5 * self.dim * math.log(2 * math.pi) - torch.log(self.log_scale.exp()).sum()

    def on_fit_start(self):
        self.base_log_norm = self.log_norm().detach()

    def training_step(self, batch, batch_idx):
        (x,) = batch
        z = self.encoder(x) / self.log_scale.exp()
        return -(self.base_log_norm - 0.5 * (z ** 2).sum(-1)).mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def main():
    torch.manual_seed(0)
    module = GaussianFit()
    loader = DataLoader(TensorDataset(torch.randn(8, 3)), batch_size=2)
    L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(module, loader)
    return {"module": module}
""",
            expect={"grad_ok": ["module.encoder.weight", "module.log_scale"]},
        ),
        Example(
            name="lightning-linear-normalizer-cached-in-on-fit-start-keeps-no-tensor",
            bad=False,
            code="""import math

import torch
import torch.nn as nn
import lightning as L
from torch.utils.data import DataLoader, TensorDataset


class GaussianFit(L.LightningModule):
    def __init__(self, dim=3):
        super().__init__()
        self.encoder = nn.Linear(dim, dim)
        self.log_scale = nn.Parameter(torch.zeros(dim))
        self.dim = dim

    def log_norm(self):
        return -0.5 * self.dim * math.log(2 * math.pi) - self.log_scale.sum()

    def on_fit_start(self):
        self.base_log_norm = self.log_norm()

    def training_step(self, batch, batch_idx):
        (x,) = batch
        z = self.encoder(x) / self.log_scale.exp()
        return -(self.base_log_norm - 0.5 * (z ** 2).sum(-1)).mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def main():
    torch.manual_seed(0)
    module = GaussianFit()
    loader = DataLoader(TensorDataset(torch.randn(8, 3)), batch_size=2)
    L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(module, loader)
    return {"module": module}
""",
            expect={"grad_ok": ["module.encoder.weight", "module.log_scale"]},
        ),
        Example(
            name="lightning-submodule-kernels-generated-once-in-init",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning as L
from torch.utils.data import DataLoader, TensorDataset


def make_kernels(log_scales, size=3):
    r = torch.arange(size, dtype=torch.float32) - size // 2
    return torch.stack([torch.exp(-(r ** 2) / (2 * s.exp() ** 2)) for s in log_scales]).unsqueeze(1)


class GeneratedFilters(nn.Module):
    def __init__(self, n=3):
        super().__init__()
        self.log_scales = nn.Parameter(torch.zeros(n))
        self.kernels = make_kernels(self.log_scales)

    def forward(self, x):
        return F.conv1d(x, self.kernels, padding=1)


class Classifier(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.filters = GeneratedFilters()
        self.head = nn.Linear(3, 2)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.head(self.filters(x).mean(-1)), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    model = Classifier()
    data = TensorDataset(torch.randn(8, 1, 6), torch.randint(0, 2, (8,)))
    L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=2))
    return {"model": model}
""",
            lines=(17,),
            fixable=False,
            expect={"error": "backward through the graph a second time"},
        ),
        Example(
            name="lightning-submodule-kernels-generated-in-every-forward",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning as L
from torch.utils.data import DataLoader, TensorDataset


def make_kernels(log_scales, size=3):
    r = torch.arange(size, dtype=torch.float32) - size // 2
    return torch.stack([torch.exp(-(r ** 2) / (2 * s.exp() ** 2)) for s in log_scales]).unsqueeze(1)


class GeneratedFilters(nn.Module):
    def __init__(self, n=3):
        super().__init__()
        self.log_scales = nn.Parameter(torch.zeros(n))

    def forward(self, x):
        self.kernels = make_kernels(self.log_scales)
        return F.conv1d(x, self.kernels, padding=1)


class Classifier(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.filters = GeneratedFilters()
        self.head = nn.Linear(3, 2)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.head(self.filters(x).mean(-1)), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    model = Classifier()
    data = TensorDataset(torch.randn(8, 1, 6), torch.randint(0, 2, (8,)))
    L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=2))
    return {"model": model}
""",
            expect={"grad_ok": ["model.filters.log_scales", "model.head.weight"]},
        ),
        Example(
            name="hf-model-position-table-cached-until-a-longer-input",
            code="""import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class TinyConfig(PretrainedConfig):
    model_type = "tiny-pos"

    def __init__(self, hidden=8, num_labels=2, **kw):
        super().__init__(**kw)
        self.hidden, self.num_labels = hidden, num_labels


class ScaledPositions(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(1))
        self.dim = dim
        self.table = None

    def build(self, length):
        pos = torch.arange(length, dtype=torch.float32).unsqueeze(1)
        freqs = torch.exp(-math.log(1e4) * torch.arange(0, self.dim, 2) / self.dim) * self.log_scale.exp()
        return torch.cat([torch.sin(pos * freqs), torch.cos(pos * freqs)], dim=-1)

    def forward(self, x):
        if self.table is None or self.table.size(0) < x.size(1):
            self.table = self.build(x.size(1))
        return x + self.table[: x.size(1)]


class Tagger(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.proj = nn.Linear(3, config.hidden)
        self.pos = ScaledPositions(config.hidden)
        self.head = nn.Linear(config.hidden, config.num_labels)

    def forward(self, x=None, labels=None):
        logits = self.head(torch.tanh(self.pos(self.proj(x))).mean(1))
        return {"loss": F.cross_entropy(logits, labels), "logits": logits}


def main():
    torch.manual_seed(0)
    model = Tagger(TinyConfig())
    rows = [{"x": torch.randn(5, 3), "labels": torch.tensor(i % 2)} for i in range(16)]
    args = TrainingArguments(output_dir="tmp_gg902_pos", num_train_epochs=1, per_device_train_batch_size=4, report_to="none")
    before = model.pos.log_scale.detach().clone()
    Trainer(model=model, args=args, train_dataset=rows).train()
    return {"model": model}, {"scale_changed": not torch.equal(before, model.pos.log_scale)}
""",
            lines=(31,),
            expect={"error": "Trying to backward through the graph a second time"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="hf-model-position-table-rebuilt-on-every-training-call",
            code="""import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class TinyConfig(PretrainedConfig):
    model_type = "tiny-pos"

    def __init__(self, hidden=8, num_labels=2, **kw):
        super().__init__(**kw)
        self.hidden, self.num_labels = hidden, num_labels


class ScaledPositions(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(1))
        self.dim = dim
        self.table = None

    def build(self, length):
        pos = torch.arange(length, dtype=torch.float32).unsqueeze(1)
        freqs = torch.exp(-math.log(1e4) * torch.arange(0, self.dim, 2) / self.dim) * self.log_scale.exp()
        return torch.cat([torch.sin(pos * freqs), torch.cos(pos * freqs)], dim=-1)

    def forward(self, x):
        if self.table is None or self.training:
            self.table = self.build(x.size(1))
        return x + self.table[: x.size(1)]


class Tagger(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.proj = nn.Linear(3, config.hidden)
        self.pos = ScaledPositions(config.hidden)
        self.head = nn.Linear(config.hidden, config.num_labels)

    def forward(self, x=None, labels=None):
        logits = self.head(torch.tanh(self.pos(self.proj(x))).mean(1))
        return {"loss": F.cross_entropy(logits, labels), "logits": logits}


def main():
    torch.manual_seed(0)
    model = Tagger(TinyConfig())
    rows = [{"x": torch.randn(5, 3), "labels": torch.tensor(i % 2)} for i in range(16)]
    args = TrainingArguments(output_dir="tmp_gg902_pos", num_train_epochs=1, per_device_train_batch_size=4, report_to="none")
    before = model.pos.log_scale.detach().clone()
    Trainer(model=model, args=args, train_dataset=rows).train()
    return {"model": model}, {"scale_changed": not torch.equal(before, model.pos.log_scale)}
""",
            expect={"facts": {"scale_changed": True}},
        ),
        Example(
            name="stream-state-stored-each-time-step-in-forward",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class StreamTagger(nn.Module):
    def __init__(self, dim=4, hid=6):
        super().__init__()
        self.cell = nn.GRUCell(dim, hid)
        self.head = nn.Linear(hid, 2)
        self.state = None

    def forward(self, frames):
        outs = []
        for t in range(frames.shape[1]):
            if self.state is None:
                self.state = torch.zeros(frames.shape[0], self.cell.hidden_size)
            self.state = self.cell(frames[:, t], self.state)
            outs.append(self.head(self.state))
        return torch.stack(outs, 1)


def main():
    torch.manual_seed(0)
    model = StreamTagger()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        clip, labels = torch.randn(2, 3, 4), torch.randint(0, 2, (2, 3))
        loss = F.cross_entropy(model(clip).flatten(0, 1), labels.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            lines=(18,),
            expect={"error": "Trying to backward through the graph a second time"},
            fixed_expect={"grad_ok": ["model.cell.weight_ih", "model.head.weight"]},
        ),
        Example(
            bad=False,
            name="stream-state-stored-each-time-step-then-detached-after-the-loop",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class StreamTagger(nn.Module):
    def __init__(self, dim=4, hid=6):
        super().__init__()
        self.cell = nn.GRUCell(dim, hid)
        self.head = nn.Linear(hid, 2)
        self.state = None

    def forward(self, frames):
        outs = []
        for t in range(frames.shape[1]):
            if self.state is None:
                self.state = torch.zeros(frames.shape[0], self.cell.hidden_size)
            self.state = self.cell(frames[:, t], self.state)
            outs.append(self.head(self.state))
        self.state = self.state.detach()
        return torch.stack(outs, 1)


def main():
    torch.manual_seed(0)
    model = StreamTagger()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        clip, labels = torch.randn(2, 3, 4), torch.randint(0, 2, (2, 3))
        loss = F.cross_entropy(model(clip).flatten(0, 1), labels.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.cell.weight_ih", "model.head.weight"]},
        ),
        Example(
            name="template-features-cached-once-per-epoch",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F


class MeshRegressor(pl.LightningModule):
    def __init__(self, dim=8):
        super().__init__()
        self.register_buffer("template", torch.randn(5, 3))
        self.template_encoder = nn.Sequential(nn.Linear(3, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.image_encoder = nn.Linear(4, dim)
        self.head = nn.Linear(dim, 3)
        self.template_feats = None

    def on_train_epoch_start(self):
        self.template_feats = self.template_encoder(self.template)

    def training_step(self, batch, batch_idx):
        img, target = batch
        h = F.relu(self.template_feats[None] + self.image_encoder(img)[:, None, :])
        return F.mse_loss(self.template[None] + self.head(h), target)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    data = [(torch.randn(2, 4), torch.randn(2, 5, 3)) for _ in range(3)]
    model = MeshRegressor()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, data)
    return {"model": model}
""",
            lines=(17,),
            fixable=False,
            expect={"error": "Trying to backward through the graph a second time"},
        ),
        Example(
            bad=False,
            name="template-features-computed-every-step",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F


class MeshRegressor(pl.LightningModule):
    def __init__(self, dim=8):
        super().__init__()
        self.register_buffer("template", torch.randn(5, 3))
        self.template_encoder = nn.Sequential(nn.Linear(3, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.image_encoder = nn.Linear(4, dim)
        self.head = nn.Linear(dim, 3)
        self.template_feats = None

    def training_step(self, batch, batch_idx):
        img, target = batch
        self.template_feats = self.template_encoder(self.template)
        h = F.relu(self.template_feats[None] + self.image_encoder(img)[:, None, :])
        return F.mse_loss(self.template[None] + self.head(h), target)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    data = [(torch.randn(2, 4), torch.randn(2, 5, 3)) for _ in range(3)]
    model = MeshRegressor()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, data)
    return {"model": model}
""",
            expect={"grad_ok": ["model.template_encoder.0.weight", "model.head.weight"]},
        ),
        Example(
            name="learned-frequency-table-cached-by-a-helper-method",
            code="""import torch
import torch.nn as nn


class LearnedRotary(nn.Module):
    def __init__(self, dim=4, max_len=6):
        super().__init__()
        self.log_freq = nn.Parameter(torch.linspace(-2.0, 0.0, dim))
        self.max_len = max_len
        self._table = None

    def table(self):
        if self._table is None:
            pos = torch.arange(self.max_len).float()[:, None]
            angles = pos * self.log_freq.exp()[None]
            self._table = (angles.cos(), angles.sin())
        return self._table

    def forward(self, x):
        cos, sin = self.table()
        return x * cos[: x.size(1)] + x.flip(-1) * sin[: x.size(1)]


def main():
    torch.manual_seed(0)
    model = LearnedRotary()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = model(torch.randn(3, 5, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            lines=(16,),
            expect={"error": "backward through the graph a second time"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="position-grid-cached-frequencies-applied-every-call",
            code="""import torch
import torch.nn as nn


class LearnedRotary(nn.Module):
    def __init__(self, dim=4, max_len=6):
        super().__init__()
        self.log_freq = nn.Parameter(torch.linspace(-2.0, 0.0, dim))
        self.max_len = max_len
        self._pos = None

    def table(self):
        if self._pos is None:
            pos = torch.arange(self.max_len).float()[:, None]
            self._pos = pos
        angles = self._pos * self.log_freq.exp()[None]
        return angles.cos(), angles.sin()

    def forward(self, x):
        cos, sin = self.table()
        return x * cos[: x.size(1)] + x.flip(-1) * sin[: x.size(1)]


def main():
    torch.manual_seed(0)
    model = LearnedRotary()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = model(torch.randn(3, 5, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.log_freq"]},
        ),
        Example(
            name="episode-reset-empties-one-list-of-two",
            code="""import torch
import torch.nn as nn


class Agent:
    def __init__(self, policy):
        self.policy = policy
        self.log_probs = []
        self.entropies = []

    def act(self, state):
        dist = torch.distributions.Categorical(logits=self.policy(state))
        action = dist.sample()
        self.log_probs.append(dist.log_prob(action))
        self.entropies.append(dist.entropy())
        return action

    def finish_episode(self, ret):
        loss = -(torch.stack(self.log_probs) * ret).sum() - 0.01 * torch.stack(self.entropies).mean()
        self.log_probs = []
        return loss


def main():
    torch.manual_seed(0)
    policy = nn.Linear(4, 2)
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)
    agent = Agent(policy)
    for episode in range(2):
        for _ in range(3):
            agent.act(torch.randn(4))
        loss = agent.finish_episode(1.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"policy": policy}
""",
            lines=(20,),
            expect={"error": "backward through the graph a second time"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="episode-reset-empties-every-list",
            code="""import torch
import torch.nn as nn


class Agent:
    def __init__(self, policy):
        self.policy = policy
        self.log_probs = []
        self.entropies = []

    def act(self, state):
        dist = torch.distributions.Categorical(logits=self.policy(state))
        action = dist.sample()
        self.log_probs.append(dist.log_prob(action))
        self.entropies.append(dist.entropy())
        return action

    def finish_episode(self, ret):
        loss = -(torch.stack(self.log_probs) * ret).sum() - 0.01 * torch.stack(self.entropies).mean()
        self.log_probs, self.entropies = [], []
        return loss


def main():
    torch.manual_seed(0)
    policy = nn.Linear(4, 2)
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)
    agent = Agent(policy)
    for episode in range(2):
        for _ in range(3):
            agent.act(torch.randn(4))
        loss = agent.finish_episode(1.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"policy": policy}
""",
            expect={"grad_ok": ["policy.bias", "policy.weight"]},
        ),
        Example(
            bad=False,
            name="temperature-argument-updated-in-place-under-no-grad",
            code="""import torch
import numpy as np


def make_temperature(init=0.07):
    return torch.tensor(np.log(1.0 / init), requires_grad=True)


def train(w, log_scale, opt):
    for _ in range(3):
        loss = (log_scale.exp() * w(torch.randn(4, 3))).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            log_scale -= 0.01 * log_scale.grad
        log_scale.grad = None


def main():
    w = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(w.parameters(), lr=0.1)
    log_scale = make_temperature()
    train(w, log_scale, opt)
    return {"w": w}

""",
            expect={"grad_ok": ["w.weight"]},
        ),
        Example(
            name="lightning-lstm-state-kept-on-the-module-for-the-next-batch",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class StatefulForecaster(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 8, batch_first=True)
        self.head = nn.Linear(8, 1)
        self.hidden = None

    def on_train_epoch_start(self):
        self.hidden = None

    def training_step(self, batch, batch_idx):
        x, y = batch
        out, self.hidden = self.lstm(x, self.hidden)
        return F.mse_loss(self.head(out), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(12, 5, 3), torch.randn(12, 5, 1))
    model = StatefulForecaster()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=4))
    return {"model": model}
""",
            lines=(20,),
            expect={"error": "backward through the graph a second time"},
        ),
        Example(
            name="cross-batch-memory-object-on-the-module-keeps-the-step-graph",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class CrossBatchMemory:
    def __init__(self, size):
        self.size, self.feats = size, []

    def enqueue(self, feats):
        self.feats = (self.feats + list(feats))[-self.size:]

    def get(self):
        return torch.stack(self.feats) if self.feats else None


class TwoTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.user = nn.Linear(4, 8)
        self.item = nn.Linear(4, 8)
        self.memory = CrossBatchMemory(16)

    def forward(self, xu, xi):
        u = self.user(xu)
        v = self.item(xi)
        bank = self.memory.get()
        negatives = v if bank is None else torch.cat([v, bank], dim=0)
        loss = F.cross_entropy(u @ negatives.T, torch.arange(u.size(0)))
        self.memory.enqueue(v)
        return loss


def main():
    torch.manual_seed(0)
    model = TwoTower()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(3):
        loss = model(torch.randn(8, 4), torch.randn(8, 4))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(30,),
            expect={'error': 'backward through the graph a second time'},
            fixed_expect={'grad_ok': ['model.item.weight']},
        ),
        Example(
            bad=False,
            name="cross-batch-memory-object-given-detached-features",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class CrossBatchMemory:
    def __init__(self, size):
        self.size, self.feats = size, []

    def enqueue(self, feats):
        self.feats = (self.feats + list(feats))[-self.size:]

    def get(self):
        return torch.stack(self.feats) if self.feats else None


class TwoTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.user = nn.Linear(4, 8)
        self.item = nn.Linear(4, 8)
        self.memory = CrossBatchMemory(16)

    def forward(self, xu, xi):
        u = self.user(xu)
        v = self.item(xi)
        bank = self.memory.get()
        negatives = v if bank is None else torch.cat([v, bank], dim=0)
        loss = F.cross_entropy(u @ negatives.T, torch.arange(u.size(0)))
        self.memory.enqueue(v.detach())
        return loss


def main():
    torch.manual_seed(0)
    model = TwoTower()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(3):
        loss = model(torch.randn(8, 4), torch.randn(8, 4))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={'grad_ok': ['model.item.weight', 'model.user.weight']},
        ),
        Example(
            name="prototypes-memoized-in-a-dict-on-the-module",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class ProtoNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(4, 8)
        self.prototype_cache = {}

    def prototypes(self, z, classes):
        out = []
        for k, c in enumerate(classes):
            if c not in self.prototype_cache:
                self.prototype_cache[c] = z[k]
            out.append(self.prototype_cache[c])
        return torch.stack(out)

    def forward(self, support, query, classes):
        protos = self.prototypes(self.embed(support), classes)
        return -torch.cdist(self.embed(query), protos)


def main():
    torch.manual_seed(0)
    model = ProtoNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(3):
        logits = model(torch.randn(3, 4), torch.randn(5, 4), [0, 1, 2])
        loss = F.cross_entropy(logits, torch.randint(0, 3, (5,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(16,),
            expect={'error': 'backward through the graph a second time'},
            fixed_expect={'grad_ok': ['model.embed.weight']},
        ),
        Example(
            bad=False,
            name="prototypes-recomputed-every-step-cache-keeps-detached-copies",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class ProtoNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(4, 8)
        self.prototype_cache = {}

    def prototypes(self, z, classes):
        out = []
        for k, c in enumerate(classes):
            self.prototype_cache[c] = z[k].detach()
            out.append(z[k])
        return torch.stack(out)

    def forward(self, support, query, classes):
        protos = self.prototypes(self.embed(support), classes)
        return -torch.cdist(self.embed(query), protos)


def main():
    torch.manual_seed(0)
    model = ProtoNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(3):
        logits = model(torch.randn(3, 4), torch.randn(5, 4), [0, 1, 2])
        loss = F.cross_entropy(logits, torch.randint(0, 3, (5,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={'grad_ok': ['model.embed.weight']},
        ),
        Example(
            name="replay-memory-of-log-probs-sampled-for-every-update",
            code="""import random

import torch
import torch.nn as nn


class ReplayAgent:
    def __init__(self, net, batch=4):
        self.net, self.batch = net, batch
        self.opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        self.memory = []
        self.rng = random.Random(0)

    def act(self, obs):
        logits = self.net(obs)
        action = torch.distributions.Categorical(logits=logits).sample()
        self.memory.append(logits.log_softmax(-1)[action])

    def learn(self):
        sample = self.rng.sample(self.memory, self.batch)
        loss = -torch.stack(sample).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()


def main():
    torch.manual_seed(0)
    agent = ReplayAgent(nn.Linear(5, 3))
    for _ in range(3):
        for _ in range(4):
            agent.act(torch.randn(5))
        agent.learn()
    return {"net": agent.net}
""",
            lines=(23,),
            expect={'error': 'backward through the graph a second time'},
            fixable=False,
        ),
        Example(
            bad=False,
            name="replay-memory-of-observations-log-probs-recomputed",
            code="""import random

import torch
import torch.nn as nn


class ReplayAgent:
    def __init__(self, net, batch=4):
        self.net, self.batch = net, batch
        self.opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        self.memory = []
        self.rng = random.Random(0)

    def act(self, obs):
        logits = self.net(obs)
        action = torch.distributions.Categorical(logits=logits).sample()
        self.memory.append((obs, action))

    def learn(self):
        sample = self.rng.sample(self.memory, self.batch)
        loss = -torch.stack([self.net(o).log_softmax(-1)[a] for o, a in sample]).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()


def main():
    torch.manual_seed(0)
    agent = ReplayAgent(nn.Linear(5, 3))
    for _ in range(3):
        for _ in range(4):
            agent.act(torch.randn(5))
        agent.learn()
    return {"net": agent.net}
""",
            expect={'grad_ok': ['net.weight']},
        ),
        Example(
            bad=False,
            name="dqn-replay-memory-of-states-and-actions",
            code="""import random

import torch
import torch.nn as nn
import torch.nn.functional as F


class ReplayMemory:
    def __init__(self, capacity):
        self.capacity, self.memory = capacity, []

    def push(self, state, action, reward):
        self.memory.append((state, action, reward))
        self.memory = self.memory[-self.capacity:]

    def sample(self, batch_size):
        return random.sample(self.memory, batch_size)


def main():
    torch.manual_seed(0)
    random.seed(0)
    policy = nn.Linear(4, 2)
    opt = torch.optim.Adam(policy.parameters(), lr=1e-3)
    memory = ReplayMemory(50)
    for step in range(12):
        state = torch.randn(4)
        with torch.no_grad():
            action = policy(state).argmax()
        memory.push(state, action, float(action.item() == 0))
        if len(memory.memory) >= 4:
            batch = memory.sample(4)
            states = torch.stack([b[0] for b in batch])
            actions = torch.stack([b[1] for b in batch])
            rewards = torch.tensor([b[2] for b in batch])
            q = policy(states).gather(1, actions[:, None]).squeeze(1)
            loss = F.smooth_l1_loss(q, rewards)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return {"policy": policy}
""",
            expect={'grad_ok': ['policy.weight']},
        ),
        Example(
            name="state-kept-from-the-tuple-a-model-returns",
            code="""import torch
import torch.nn as nn


class Recurrence(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.inp = nn.Linear(d, d)
        self.mix = nn.Linear(d, d)
        self.out = nn.Linear(d, 1)

    def forward(self, x, h=None):
        h = torch.zeros(x.size(0), x.size(-1)) if h is None else h
        ys = []
        for t in range(x.size(1)):
            h = torch.tanh(self.inp(x[:, t]) + self.mix(h))
            ys.append(self.out(h))
        return torch.stack(ys, 1).squeeze(-1), h


class ChunkTrainer:
    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer
        self.state = None

    def train_step(self, x, y):
        pred, self.state = self.model(x, self.state)
        loss = (pred - y).pow(2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()

    def fit(self, x, y, chunk=3):
        self.state = None
        for s in range(0, x.size(1), chunk):
            self.train_step(x[:, s:s + chunk], y[:, s:s + chunk])


def main():
    torch.manual_seed(0)
    model = Recurrence()
    trainer = ChunkTrainer(model, torch.optim.SGD(model.parameters(), lr=0.05))
    trainer.fit(torch.randn(2, 9, 4), torch.randn(2, 9))
    return {"model": model}
""",
            lines=(27,),
            expect={'error': 'backward through the graph a second time'},
            fixed_expect={'grad_ok': ['model.inp.weight']},
        ),
        Example(
            bad=False,
            name="state-kept-detached-across-chunks",
            code="""import torch
import torch.nn as nn


class Recurrence(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.inp = nn.Linear(d, d)
        self.mix = nn.Linear(d, d)
        self.out = nn.Linear(d, 1)

    def forward(self, x, h=None):
        h = torch.zeros(x.size(0), x.size(-1)) if h is None else h
        ys = []
        for t in range(x.size(1)):
            h = torch.tanh(self.inp(x[:, t]) + self.mix(h))
            ys.append(self.out(h))
        return torch.stack(ys, 1).squeeze(-1), h


class ChunkTrainer:
    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer
        self.state = None

    def train_step(self, x, y):
        pred, state = self.model(x, self.state)
        self.state = state.detach()
        loss = (pred - y).pow(2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()

    def fit(self, x, y, chunk=3):
        self.state = None
        for s in range(0, x.size(1), chunk):
            self.train_step(x[:, s:s + chunk], y[:, s:s + chunk])


def main():
    torch.manual_seed(0)
    model = Recurrence()
    trainer = ChunkTrainer(model, torch.optim.SGD(model.parameters(), lr=0.05))
    trainer.fit(torch.randn(2, 9, 4), torch.randn(2, 9))
    return {"model": model}
""",
            expect={'grad_ok': ['model.inp.weight']},
        ),
    )

    def check(self, facts):
        yield from self._attribute_states(facts)
        yield from self._step_method_states(facts)
        yield from self._object_method_states(facts)
        yield from self._held_object_states(facts)
        yield from self._memoized_entries(facts)
        yield from self._attribute_lists(facts)
        yield from self._attribute_kept_after_backward(facts)
        yield from self._graph_computed_once(facts)
        yield from self._graph_computed_once_per_fit(facts)
        yield from self._accumulated(facts)
        yield from self._indexed_state_writes(facts)
        seen: set = set()
        for fl in facts.backward_flows:
            if not fl.backward_sites or facts.flow.is_autograd_function_method(fl.node):
                continue
            for site in fl.backward_sites:
                if site.retain_graph or not site.loops or not site.loss.live:
                    continue
                for loop in reversed(site.loops):
                    for assign, name, arg in _carried_states(loop):
                        key = (id(assign), name)
                        if key in seen:
                            continue
                        v = None
                        for t in _target_names(assign):
                            if t.id == name:
                                v = fl.assigned.get(id(t))
                        if v is None or not v.live:
                            continue
                        if not any(related(r, lv) for r in v.live for lv in site.loss.live if r != "?"):
                            continue
                        if _reset_in_loop(loop, assign, name):
                            continue
                        if not _loss_uses(loop, site, assign):
                            continue  # the backpropagated loss is not computed from this call: no graph is walked twice
                        if v.kind in ("python", "numpy", "none") or _never_carries_graph(facts, fl, assign, name):
                            continue  # a float / NumPy value / None cannot hold a graph: nothing to free twice
                        seen.add(key)
                        module_state = _called_module(facts, fl, _carried_call(assign.value).func) is not None  # type: ignore[union-attr]
                        fixes = []
                        if module_state:
                            safety = _fix_safety(facts, fl, assign, name, arg)
                        elif _plain_function(facts, fl, _carried_call(assign.value).func):  # type: ignore[union-attr]
                            safety = None  # a builtin or helper function: the state may well be a number; no .detach()
                        else:  # an unknown callable (a module passed in?): the state may not be a tensor
                            safety = "unsafe" if _fix_safety(facts, fl, assign, name, arg) is not None else None
                        if safety is not None:
                            fixes.append(lambda arg=arg, unsafe=(safety == "unsafe"): fix(
                                f"Pass `{arg.id}.detach()` (truncate backpropagation at the chunk boundary)",
                                replace_node(facts, arg, f"{arg.id}.detach()"),
                                unsafe=unsafe,
                            ))
                        if module_state:
                            msg = (f"`{name}` carries the previous iteration's graph into this call, but `backward()` at line {site.node.lineno} "
                                   f"frees that graph each iteration: the next backward() raises")
                        else:
                            msg = (f"`{name}` may carry the previous iteration's graph into this call (if it is a tensor computed with "
                                   f"gradient), but `backward()` at line {site.node.lineno} frees that graph each iteration: the next backward() would raise")
                        yield self.finding(
                            facts,
                            arg,
                            msg,
                            severity=Severity.ERROR if module_state else Severity.WARNING,
                            related=[(site.node, "backward() frees the graph every iteration here")],
                            fixes=fixes,
                            explanation="The state produced in iteration i is attached to iteration i's graph; iteration i+1 builds on it, so "
                            "its backward() walks into the already-freed graph and raises `RuntimeError: Trying to backward through the graph "
                            "a second time`. Detach the state at the chunk boundary (`hidden.detach()`, the `repackage_hidden` idiom).",
                        )
                    for assign, rebind, name, alias in _carried_aliases(loop):
                        # ``pred, new_state = model(frames, state)`` ... ``state = new_state``: the same carried state, renamed
                        key = (id(assign), name)
                        if key in seen:
                            continue
                        v = fl.assigned.get(id(rebind.targets[0]))
                        if v is None or not v.live or v.kind in ("python", "numpy", "none"):
                            continue
                        if not any(related(r, lv) for r in v.live for lv in site.loss.live if r != "?") or not _loss_uses(loop, site, assign):
                            continue
                        if any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, (ast.Store, ast.Del)) and n is not rebind.targets[0] for n in _loop_body_nodes(loop)) \
                                or _reset_in_loop(loop, rebind, name):
                            continue
                        call = _carried_call(assign.value)
                        module_state = call is not None and _called_module(facts, fl, call.func) is not None
                        if not module_state and not (v.kind == "tensor" and all(r != "?" and not r.startswith(("arg:", "self")) for r in v.live)):
                            continue  # (a helper's result may be a number: said only of a module's state, or a tensor of the program's parameters)
                        seen.add(key)
                        yield self.finding(
                            facts,
                            rebind,
                            f"`{name} = {facts.text(alias)}` carries the previous iteration's graph into the call at line {assign.lineno}, but "
                            f"`backward()` at line {site.node.lineno} frees that graph each iteration: the next backward() raises",
                            severity=Severity.ERROR,
                            related=[(assign, "the state is passed in here"), (site.node, "backward() frees the graph every iteration here")],
                            explanation="The state produced in iteration i is attached to iteration i's graph; iteration i+1 builds on it, so "
                            "its backward() walks into the already-freed graph and raises `RuntimeError: Trying to backward through the graph "
                            "a second time`. Detach the state where it is carried over (`state = tuple(s.detach() for s in new_state)`).",
                        )


    def _accumulated(self, facts):
        """A loss built from a value the loop adds to itself every iteration (``total = total + loss``,
        ``total += w * loss``) and that nothing in the loop starts afresh: each backward() goes back through
        the graphs of all the earlier iterations, which the earlier backward() calls freed."""
        seen: set = set()
        for fl in facts.backward_flows:
            if not fl.backward_sites or facts.flow.is_autograd_function_method(fl.node):
                continue
            augs: Optional[dict] = None
            for site in fl.backward_sites:
                if site.retain_graph or _has_retain(site.node) or not site.loops or not site.loss.live or not site.mode.enabled:
                    continue
                for loop in reversed(site.loops):
                    for node, name, operand in _accumulations(loop):
                        if id(node) in seen or _reset_in_loop(loop, node, name) or not _loss_uses(loop, site, node):
                            continue
                        if isinstance(node, ast.AugAssign):
                            if augs is None:
                                augs = {id(e.node): e for e in fl.events if e.what == "augassign"}
                            ev = augs.get(id(node))
                            if ev is not None and not ev.mode.enabled:
                                continue  # (``with torch.no_grad(): scale -= lr * scale.grad``: an in-place update records no graph)
                            live = set(ev.target.live | ev.value.live) if ev is not None and ev.target is not None and ev.value is not None else set()
                        else:
                            v = fl.assigned.get(id(node.targets[0]))
                            live = set(v.live) if v is not None and v.kind not in ("python", "numpy", "none") else set()
                        # the graph it carries must be more than the history of its own starting value (a leaf
                        # rebound by ``w = w - lr * w.grad`` carries no graph of the loss)
                        before = _pre_loop_stores(fl.node, name, loop)
                        own = set()
                        for b in before:
                            bv = fl.assigned.get(id(b))
                            if bv is not None:
                                own |= set(bv.live) | ({bv.ident} if bv.ident else set())
                        grown = {r for r in live - own if r != "?" and not r.startswith("arg:")}
                        if not grown or not any(related(r, lv) for r in grown for lv in site.loss.live):
                            continue
                        if _never_carries_graph(facts, fl, node, name):
                            continue
                        seen.add(id(node))
                        init = facts.statement_of(before[0]) if len(before) == 1 else None
                        start = init if isinstance(init, ast.Assign) and len(init.targets) == 1 and _plain_start(init.value) else None
                        # modules save their inputs for backward; a bare leaf (``p.sum()``) may save nothing
                        module = not all((o := facts.flow.root_origins.get(r)) is not None and o.leaf for r in grown)
                        fixes = []
                        if start is not None and loop.body:
                            fixes.append(lambda loop=loop, start=start, name=name: fix(
                                f"Start `{name}` afresh in every iteration",
                                insert_before_stmt(facts, loop.body[0], f"{name} = {facts.text(start.value)}"),
                            ))
                        verb = "raises" if module else "would raise (if the graph saved tensors)"
                        yield self.finding(
                            facts,
                            start if start is not None else operand,
                            f"`{name}` starts here, before the loop, and every iteration adds to it (line {node.lineno}): the loss "
                            f"backpropagated at line {site.node.lineno} holds the graphs of all earlier iterations, which the earlier "
                            f"backward() calls freed: the second backward() {verb}"
                            if start is not None else
                            f"`{name}` adds to its value of the previous iteration here: the loss backpropagated at line {site.node.lineno} "
                            f"holds the graphs of all earlier iterations, which the earlier backward() calls freed: the second backward() {verb}",
                            severity=Severity.ERROR if module else Severity.WARNING,
                            related=[(node, f"`{name}` keeps its previous value and graph"), (site.node, "backward() frees the graph every iteration here")],
                            fixes=fixes,
                            explanation="backward() frees the buffers saved in the graph it traverses. A loss that also holds the previous "
                            "iterations' terms walks into their freed graphs and raises `RuntimeError: Trying to backward through the graph a "
                            "second time` (with `retain_graph=True` it would apply the old gradients again). Start the sum afresh in every "
                            "iteration, before its first term.",
                        )

    def _attribute_states(self, facts):
        """``out, self.hidden = self.lstm(x, self.hidden)`` in a Module's ``forward``: a state kept on the module
        from one call to the next. Reported when a training loop backpropagates through that module every
        iteration and nothing in the loop resets or detaches the attribute."""
        reported: set = set()
        for cls_name, info in facts.modules.classes.items():
            fwd = info.methods.get("forward")
            if not info.is_module or fwd is None or "self." not in facts.text(fwd):
                continue
            states = _self_states(facts, fwd)
            if not states:
                continue
            fl = facts.flow.flow(fwd)
            for attr, stmt in states:
                own = {f"self.{attr}"} if _starts_as_plain_tensor(facts, info, attr) else set()  # (no graph of its own)
                carried = [e for e in fl.events if e.what == "attr_assign" and e.name == attr and e.stmt is stmt and e.target is not None and e.target.ident == "self" and e.value is not None and e.value.live - own]
                if not carried:
                    continue
                resetters = {m for m, node in info.methods.items() if m != "forward" and _assigns_self_attr(node, attr)}
                if _reset_around_loop(facts, fwd, stmt, attr, resetters):
                    continue
                site = _training_site(facts, cls_name, attr, resetters) or _framework_step_site(facts, cls_name, attr, resetters, [st for a, st in states if a == attr])
                if site is None or (cls_name, attr) in reported:
                    continue
                reported.add((cls_name, attr))  # (one report per attribute: the first statement that carries it)
                loop = f"the training loop's `backward()` (line {site.node.lineno})" if not site.implicit else f"the backward() of {site.label}"
                yield self.finding(
                    facts,
                    stmt,
                    f"`self.{attr}` keeps this call's graph for the next call, but {loop} frees "
                    f"that graph every iteration: the next backward() raises",
                    related=[(site.node, "backward() through this module every iteration")],
                    fixes=_detach_after_loop_fixes(facts, fwd, stmt, attr, carried[-1].value),
                    explanation="The state stored on the module in one forward is attached to that step's graph; the next forward builds on "
                    "it, so the next backward() walks into the freed graph and raises `RuntimeError: Trying to backward through the graph a "
                    f"second time`. Store a detached state (`self.{attr} = tuple(h.detach() for h in ...)` for an LSTM's `(h, c)`), or reset "
                    "it every iteration.",
                )


    def _step_method_states(self, facts):
        """``out, self.hidden = self.lstm(x, self.hidden)`` in a LightningModule's ``training_step``: the framework calls
        it once per batch and backpropagates its loss before the next call, so the state kept on the module for the
        next batch holds a graph that backward freed. Reported unless a method the framework runs every batch (or
        one ``training_step`` calls) assigns the attribute anew, or ``training_step`` itself stores it again on every
        call (``self.hidden = (h.detach(), c.detach())`` before the use or after it; a first value made under
        ``if self.hidden is None:`` is no such store)."""
        for cls_name, info in facts.modules.classes.items():
            step_name = _framework_step_method(info)
            m = info.methods.get(step_name) if step_name else None
            if m is None or "self." not in facts.text(m):
                continue
            # (a Hugging Face model's ``forward``: the states it keeps itself are _attribute_states'; here, what a method
            # it calls keeps, ``self.update_climatology(pred)``)
            states = _self_states(facts, m) if step_name != "forward" else []
            if not states and not _method_stores(facts, info, m) and not (info.framework == "lightning" and "on_train_batch_end" in info.methods):
                continue
            fl = facts.flow.flow(m)
            sites = [s for s in fl.loss_sites if s.mode.enabled and not s.retain_graph and not _has_retain(s.node) and s.loss.live]
            if not sites:
                continue
            every_batch = set(RUN_EVERY_BATCH.get(info.framework or "", ())) | {n.func.attr for n in walk_nodes(m) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and _self_attr(n.func)}
            yield from self._stored_by_a_method(facts, cls_name, info, step_name, m, fl, sites[0], every_batch)
            yield from self._kept_by_batch_end_hook(facts, cls_name, info, step_name, fl, sites[0], every_batch)
            for attr, stmt in states:
                stores = [e for e in fl.events if e.what == "attr_assign" and e.name == attr and e.target is not None and e.target.ident == "self"]
                carried = [e for e in stores if e.stmt is stmt]
                if not carried or carried[-1].value is None or carried[-1].value.kind not in ("tensor", None):
                    continue
                if not any(_trainable_part(facts, cls_name, r) or _trained_argument(info, m, r) for r in carried[-1].value.live):
                    continue  # not computed from the module's own layers (or the model the Trainer passes): no graph of theirs
                if any(e.stmt is not stmt and not _guarded_by_none(facts, e.stmt, attr) for e in stores):
                    continue  # stored anew every step (detached or re-initialized, before the use or after it)
                if any(name != step_name and name in every_batch and _assigns_self_attr(node, attr) for name, node in info.methods.items()):
                    continue  # reset every batch
                site = sites[0]
                yield self.finding(
                    facts,
                    stmt,
                    f"`self.{attr}` keeps this step's graph for the next `{step_name}`, but the backward() of {site.label} frees it before "
                    f"the next call: the next backward() raises",
                    related=[(site.node, "backpropagated once per batch")],
                    fixes=[partial(_detach_stored_fix, facts, stmt)] if len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Attribute) and _one_tensor(m, stmt.value)
                    else _detach_after_stmt_fixes(facts, stmt, attr, carried[-1].value),
                    explanation="The framework calls the step once per batch and runs backward() on its loss before the next call. The state "
                    "stored on the module is attached to this step's graph; the next step builds on it, so its backward() walks into the "
                    "freed graph and raises `RuntimeError: Trying to backward through the graph a second time`. Store a detached state "
                    f"(`self.{attr} = tuple(h.detach() for h in ...)` for an LSTM's `(h, c)`).",
                )

    def _kept_by_batch_end_hook(self, facts, cls_name: str, info, step_name, fl, site, every_batch: set):
        """``on_train_batch_end(self, outputs, ...)``, which Lightning calls after each batch's backward with what the step
        returned, keeping a tensor computed with the module's layers (``self.negatives = outputs["keys"]``) that the next
        step's loss reads: that loss goes back through the graph the previous backward freed."""
        hook = info.methods.get("on_train_batch_end") if info.framework == "lightning" else None
        if hook is None:
            return
        for e in facts.flow.flow(hook).events:
            if e.what != "attr_assign" or e.target is None or e.target.ident != "self" or e.value is None or not e.mode.enabled or e.value.kind not in ("tensor", None):
                continue
            attr = e.name
            if not any(_trainable_part(facts, cls_name, r) for r in e.value.live):
                continue  # not computed from the module's own layers (detached, or a number)
            if not any(r == f"self.{attr}" or r.startswith(f"self.{attr}.") or r.startswith(f"self.{attr}[") for r in site.loss.live):
                continue  # the next step's loss does not read it
            if any(x.what == "attr_assign" and x.name == attr and x.target is not None and x.target.ident == "self" for x in fl.events):
                continue  # the step stores it itself as well
            if any(name not in (step_name, "on_train_batch_end") and name in every_batch and _assigns_self_attr(node, attr) for name, node in info.methods.items()):
                continue  # reset every batch
            yield self.finding(
                facts,
                e.stmt,
                f"`self.{attr}` keeps a tensor `{step_name}` computed with the module's layers for the next `{step_name}`, whose loss "
                f"reads it; but Lightning runs this hook after the backward() of {site.label}, which freed that graph: the next backward() raises",
                related=[(site.node, "backpropagated once per batch, and reads the kept tensor")],
                fixes=[partial(_detach_stored_fix, facts, e.stmt)] if isinstance(e.stmt, ast.Assign) and len(e.stmt.targets) == 1 else [],
                explanation="Lightning calls `on_train_batch_end(outputs, batch, batch_idx)` after the batch's backward() and optimizer "
                "step, with what `training_step` returned. A tensor kept from `outputs` is attached to that batch's graph, which backward "
                "freed; the next step's loss builds on it, so its backward() raises `RuntimeError: Trying to backward through the graph a "
                f"second time`. Keep a detached copy (`self.{attr} = outputs[...].detach()`).",
            )

    def _stored_by_a_method(self, facts, cls_name: str, info, step_name, m, fl, site, every_batch: set):
        """``self.enqueue(k)`` in the step, whose method stores ``self.bank = torch.cat([keys, self.bank])[:n]`` (a state
        read and stored again, at the method's top level, in grad mode) from its argument, given a tensor computed with
        the module's own layers: the kept state holds this step's graph, which the step's backward frees."""
        for call, callee, attr, st in _method_stores(facts, info, m):
            if lexically_no_grad(facts, call):
                continue
            own = facts.flow.flow(callee)
            stored = [e for e in own.events if e.what == "attr_assign" and e.name == attr and e.stmt is st and e.value is not None and e.mode.enabled]
            if not stored or stored[-1].value.kind not in ("tensor", None):
                continue
            if any(e.what == "attr_assign" and e.name == attr and e.stmt is not st for e in own.events):
                continue  # the method also stores it otherwise (a reset, a detached copy)
            if any(e.what == "attr_assign" and e.name == attr and e.target is not None and e.target.ident == "self" for e in fl.events):
                continue  # the step stores it itself as well (before or after)
            names = own.args
            given = set()
            for r in stored[-1].value.live:  # the arguments the stored value carries differentiably
                head = r.split(".", 1)[0]
                if head.startswith("arg:") and head[4:].isdigit() and int(head[4:]) < len(call.args):
                    given.add(int(head[4:]))
            if not names or not given:
                continue
            carried = [fl.assigned.get(id(b)) for i in given for b in _bindings_before(m, call.args[i], call)]
            if not any(v is not None and v.kind == "tensor" and any(_trainable_part(facts, cls_name, r) for r in v.live) for v in carried):
                continue  # not computed from the module's own layers: no graph of theirs
            if any(name not in (step_name, callee.name) and name in every_batch and _assigns_self_attr(node, attr) for name, node in info.methods.items()):
                continue  # reset every batch
            yield self.finding(
                facts,
                st,
                f"`self.{attr}` keeps the graph of what `{step_name}` passes to `{callee.name}` (line {call.lineno}) for the next "
                f"`{step_name}`, but the backward() of {site.label} frees it before the next call: the next backward() raises",
                related=[(call, f"`{step_name}` hands over a tensor computed with the module's layers"), (site.node, "backpropagated once per batch")],
                fixes=[partial(_detach_argument_fix, facts, call, frozenset(given))],
                explanation="The framework calls the step once per batch and runs backward() on its loss before the next call. The "
                f"state `{callee.name}` stores on the module is attached to this step's graph; the next step builds on it, so its backward() "
                "walks into the freed graph and raises `RuntimeError: Trying to backward through the graph a second time` (and, were the "
                "graph kept, memory would grow every step). Store constants: pass `.detach()`-ed tensors, or run the method under "
                "`torch.no_grad()` (as MoCo's `_dequeue_and_enqueue`).",
            )

    def _object_method_states(self, facts):
        """``memory.enqueue(emb, y)`` in a training loop, where ``memory`` (bound before the loop) is an instance of an
        in-file class whose method stores a state read and stored again at its own top level, in grad mode, from its
        argument (``self.feats = torch.cat([feats, self.feats])[:n]``), and the loop's loss reads ``memory.feats``: the
        kept state holds this iteration's graph, which this iteration's backward() frees, so the next backward() walks
        into it and raises."""
        if "self." not in facts.source.text:
            return
        seen: set = set()
        for fl in facts.backward_flows:
            if facts.flow.is_autograd_function_method(fl.node):
                continue
            for site in fl.backward_sites:
                if not site.loops or site.retain_graph or _has_retain(site.node) or not site.mode.enabled or not site.loss.live:
                    continue
                loop = site.loops[-1]
                for st in _walk_body(loop.body):
                    call = st.value if isinstance(st, ast.Expr) else None
                    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) and call.args):
                        continue
                    if id(call) in seen or lexically_no_grad(facts, call):
                        continue  # (before the backward or after it in the same iteration: the next loss reads what it kept)
                    recv = call.func.value.id
                    info = _instance_class(facts, fl, recv, loop)
                    if info is None:
                        continue
                    callee = info.methods.get(call.func.attr)
                    if callee is None or callee.decorator_list:
                        continue  # (``@torch.no_grad()`` and any other decorator: what it runs under is not read here)
                    states = [(attr, where, _stored_arguments(facts, callee, attr, where, call)) for attr, where in _self_states(facts, callee)]
                    # (and a state written in place at an index the caller gives, ``self.data[idx] = x_neg``: indexing
                    # with a tensor saves the index for backward, so the next backward through the state raises)
                    states += [(attr, where, given) for attr, where, given in _indexed_writes(facts, fl, loop, callee, call)]
                    for attr, where, given in states:
                        if not given or not _loss_reads(loop, site, recv, attr, info) or _reset_in_loop_body(facts, info, loop, recv, attr, call):
                            continue
                        carried = [v for i in given for v in _loop_values(fl, loop, call.args[i], call)]
                        if not any(v.kind == "tensor" and any(r != "?" and related(r, lv) for r in v.live for lv in site.loss.live) for v in carried):
                            continue  # not computed from what this loss trains: no graph of this iteration's
                        seen.add(id(call))
                        yield self.finding(
                            facts,
                            call,
                            f"`{recv}.{call.func.attr}` keeps the graph of what it is given in `{recv}.{attr}` (line {where.lineno}), and the loss "
                            f"backpropagated at line {site.line} reads `{recv}.{attr}`, but that backward() frees this iteration's graph: the next "
                            "backward() raises",
                            severity=Severity.ERROR,
                            related=[(where, f"stores the argument's graph in `self.{attr}`, kept for the next iteration"), (site.node, "backward() frees the graph every iteration here")],
                            fixes=[partial(_detach_argument_fix, facts, call, frozenset(given))],
                            explanation="The state the method stores on the object is attached to this iteration's graph; the next iteration's "
                            "loss reads it, so its backward() walks into the freed graph and raises `RuntimeError: Trying to backward through "
                            "the graph a second time` (and, were the graph kept, memory would grow every iteration). Store constants: pass "
                            "`.detach()`-ed tensors, or run the method under `torch.no_grad()`.",
                        )
                        break

    def _held_object_states(self, facts):
        """``self.memory.enqueue(v)`` in a Module's ``forward``, where ``self.memory`` is an instance of a plain in-file class
        (``CrossBatchMemory(size)``) whose method keeps what it is given (``self.feats = (self.feats + list(feats))[-n:]``),
        ``v`` computed with the module's layers, and a loss backpropagated every iteration (a training loop, or the
        framework that calls the step once per batch) reads that kept state (``bank = self.memory.get()`` returning
        ``torch.stack(self.feats)``): the state holds the graph of the step that stored it, which that step's backward()
        frees, so the next backward() raises."""
        if "self." not in facts.source.text:
            return
        sites = _every_step_sites(facts, framework_steps=False)
        if not sites:
            return
        classes = facts.modules.classes
        for cls_name, info in classes.items():
            fwd = info.methods.get("forward") if info.is_module else None
            if fwd is None:
                continue
            fl = None
            for call in walk_nodes(fwd):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.args and _self_attr(call.func.value)):
                    continue
                obj = call.func.value.attr  # type: ignore[attr-defined]
                held = [classes.get(v.func.id) for v in info.attr_values.get(obj, ()) if isinstance(v, ast.Call) and isinstance(v.func, ast.Name)]
                if len(held) != 1 or held[0] is None or held[0].is_module is not False or held[0].is_autograd_function:
                    continue
                callee = held[0].methods.get(call.func.attr)
                if callee is None or callee.decorator_list or lexically_no_grad(facts, call):
                    continue
                own = facts.flow.flow(callee)
                for e in own.events:
                    if e.what != "attr_assign" or e.target is None or e.target.ident != "self" or e.value is None or not e.mode.enabled or e.value.kind not in ("tensor", None):
                        continue
                    attr = e.name
                    given = {int(r[4:]) for r in e.value.live if r.startswith("arg:") and r[4:].isdigit() and int(r[4:]) < len(call.args)}
                    if not given or f"self.{attr}" not in e.value.live:
                        continue  # (kept across calls: the state is read and stored again, as a queue or a bank)
                    if any(name != call.func.attr and name != "__init__" and _assigns_self_attr(node, attr) for name, node in held[0].methods.items()):
                        continue  # another method stores it too (a reset, a detached copy)
                    kept = f".{obj}.{attr}"
                    reading = [s for s in sites if any(r.endswith(kept) or r == f"self{kept}" for r in s.loss.live)]
                    if not reading:
                        continue  # no loss reads the kept state
                    if fl is None:
                        fl = facts.flow.flow(fwd)
                    carried = [fl.assigned.get(id(b)) for i in given for b in _bindings_before(fwd, call.args[i], call)]
                    if not any(v is not None and v.kind == "tensor" and any(_trainable_part(facts, cls_name, r) for r in v.live) for v in carried):
                        continue  # not computed from the module's own layers: no graph of theirs
                    site = reading[0]
                    yield self.finding(
                        facts,
                        call,
                        f"`self.{obj}.{call.func.attr}` keeps the graph of what `forward` passes it in `self.{obj}.{attr}` (line {e.stmt.lineno if e.stmt is not None else callee.lineno}), "
                        f"and the loss backpropagated every step (line {site.line}) reads it, but that backward() frees the step's graph: the next backward() raises",
                        severity=Severity.ERROR,
                        related=[*([(e.stmt, f"stores the argument's graph in `self.{attr}`, kept for the next step")] if e.stmt is not None else []),
                                 (site.node, "backpropagated every step, reading the kept state")],
                        fixes=[partial(_detach_argument_fix, facts, call, frozenset(given))],
                        explanation="The object the module keeps stores tensors attached to this step's graph; the next step's loss reads them, "
                        "so its backward() walks into the graph the previous backward() freed and raises `RuntimeError: Trying to backward "
                        "through the graph a second time`. Store constants (a memory bank of features treats them as such): pass "
                        "`.detach()`-ed tensors, or run the method under `torch.no_grad()`.",
                    )
                    break

    def _memoized_entries(self, facts):
        """A dict the module keeps (``self.prototype_cache = {}``) filled only with entries not there yet (``if c not in
        self.prototype_cache: self.prototype_cache[c] = z[support_y == k].mean(0)``), each a tensor computed with the module's
        layers, while a loss backpropagated every step reads the entries: an entry kept from an earlier step holds that step's
        graph, which its backward() freed, so the next backward() that reads it raises."""
        if " not in self." not in facts.source.text:
            return
        sites = _every_step_sites(facts, framework_steps=True)
        if not sites:
            return
        text = facts.source.text
        for cls_name, info in facts.modules.classes.items():
            if not info.is_module:
                continue
            for attr, values in info.attr_values.items():
                if not values or not all((isinstance(v, ast.Dict) and not v.keys) or (isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "dict" and not v.args and not v.keywords) for v in values):
                    continue
                if re.search(r"\." + re.escape(attr) + r"\.(?:clear|pop|popitem)\(|\bdel\s+[\w.]*\b" + re.escape(attr) + r"\[", text):
                    continue  # (emptied or pruned somewhere: entries may not outlive a step)
                if sum(1 for _ in re.finditer(r"\." + re.escape(attr) + r"\s*=[^=]", text)) != len(values):
                    continue  # (rebound outside the constructor: a fresh cache)
                reading = [st for st in sites if any(r.endswith("." + attr) or r == f"self.{attr}" for r in st.loss.live)]
                if not reading:
                    continue
                for name, m in info.methods.items():
                    if name == "__init__":
                        continue
                    store = _memo_store(facts, m, attr)
                    if store is None:
                        continue
                    own = facts.flow.flow(m)
                    ev = next((e for e in own.events if e.what == "inplace" and e.extra == "setitem" and e.stmt is store and e.value is not None and e.mode.enabled), None)
                    if ev is None or not _graph_of_layers(facts, info, cls_name, m, ev.value):
                        continue
                    site = reading[0]
                    yield self.finding(
                        facts,
                        store,
                        f"`self.{attr}` keeps each entry from the step that first computed it, with that step's graph, and the loss "
                        f"backpropagated every step (line {site.line}) reads the entries, but backward() frees the graph of the step that "
                        "made them: the next step that reuses an entry raises",
                        severity=Severity.ERROR,
                        related=[(site.node, "backpropagated every step, reading the kept entries")],
                        fixes=[partial(_detach_stored_fix, facts, store)] if len(store.targets) == 1 else [],
                        explanation="A cache of tensors computed with the module's layers keeps their graphs: the first backward() frees "
                        "them, and a later step's loss built from a cached entry walks into the freed graph (`RuntimeError: Trying to "
                        "backward through the graph a second time`). Recompute the values every step, or cache detached copies if stale "
                        "values are really wanted.",
                    )
                    break

    def _indexed_state_writes(self, facts):
        """``buffer[idx] = x`` in a loop that backpropagates every iteration, ``buffer`` a tensor made before the loop, ``idx``
        a tensor and ``x`` a value that requires grad, and the loss computed from what the loop reads of ``buffer``: the write
        puts this iteration's graph into the buffer (indexing with a tensor saves the index for backward), and the next
        backward() walks into it after this one freed it."""
        if "] =" not in facts.source.text and "]=" not in facts.source.text:
            return
        seen: set = set()
        for fl in facts.backward_flows:
            for site in fl.backward_sites:
                if not site.loops or site.retain_graph or _has_retain(site.node) or not site.mode.enabled or not site.loss.live:
                    continue
                loop = site.loops[-1]
                inside = {id(n) for n in _loop_body_nodes(loop)}
                for ev in fl.events:
                    if ev.what != "inplace" or ev.extra != "setitem" or id(ev.node) not in inside or id(ev.node) in seen or not ev.mode.enabled:
                        continue
                    t = ev.node
                    v = ev.value
                    if not (isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and isinstance(t.slice, ast.Name)) or v is None or not v.live or v.kind not in ("tensor", None):
                        continue
                    name = t.value.id
                    if lexically_no_grad(facts, t) or any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) and id(n) in inside for n in walk_nodes(fl.node)):
                        continue  # (rebound in the loop: a fresh tensor every iteration)
                    if not _pre_loop_stores(fl.node, name, loop):
                        continue
                    if not _bound_to_tensors(fl, fl.node, t.slice.id):
                        continue  # (a slice or a number: nothing saved for backward by the index)
                    if not _loss_depends(loop, site, lambda e, name=name: any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) for n in walk_nodes(e))):
                        continue
                    seen.add(id(t))
                    st = facts.statement_of(t)
                    value = st.value if isinstance(st, ast.Assign) else None
                    fixes = [lambda value=value: fix(f"Store `{facts.text(value)}.detach()`", replace_node(facts, value, f"{facts.text(value)}.detach()"))] \
                        if isinstance(value, ast.Name) else []
                    yield self.finding(
                        facts,
                        st,
                        f"`{name}` keeps this iteration's graph (`{facts.text(st)}` writes a value that requires grad into it), and the loss "
                        f"backpropagated at line {site.line} is computed from what the next iteration reads of `{name}`: after this backward() "
                        "frees the graph, the next one raises",
                        severity=Severity.ERROR,
                        related=[(site.node, "backward() frees the graph every iteration here")],
                        fixes=fixes,
                        explanation="Writing a tensor that requires grad into another in place records the write in the graph: the buffer now "
                        "holds this iteration's graph (its index, a tensor, saved for backward). The next iteration reads the buffer into its "
                        "loss, so its backward() walks into the freed graph and raises `RuntimeError: Trying to backward through the graph a "
                        "second time`. Store `.detach()`-ed values in a buffer kept across iterations.",
                    )

    def _graph_computed_once(self, facts):
        """A Module attribute computed once with gradient from the module's own parameters (in ``__init__``:
        ``self.bias = self.mlp(table)``, or in a method under ``if self.bias is None:``) and read by ``forward``
        on every call: every step's loss builds on that one graph, which the first ``backward()`` frees."""
        framework = any(_framework_step_method(info) in info.methods for info in facts.modules.classes.values())
        if not framework and not any(site.loops and not site.retain_graph for fl in facts.backward_flows for site in fl.backward_sites):
            return  # no loop (nor a framework's step method) backpropagates every iteration: nothing reuses a freed graph
        for cls_name, info in facts.modules.classes.items():
            if not info.is_module or "forward" not in info.methods:
                continue
            for mname, m in info.methods.items():
                if mname != "__init__" and not _has_none_guard(m) and not _has_membership_guard(m):
                    continue
                if not (_SELF_ATTR_FROM_SELF_CALL if mname == "__init__" else _SELF_ATTR_STORE).search(facts.text(m)):
                    continue  # no ``self.x = ...self.y(...)`` in the constructor (no ``self.x = ...`` in a guarded method): nothing computed from the module's own layers
                fl = facts.flow.flow(m)
                for ev in fl.events:
                    if ev.target is None or ev.value is None or not ev.mode.enabled:
                        continue
                    memo = ev.what == "inplace" and ev.extra == "setitem" and (ev.target.ident or "").startswith("self.") and "." not in ev.target.ident[5:]
                    if not memo and not (ev.what == "attr_assign" and ev.target.ident == "self"):
                        continue
                    v = ev.value
                    if v.kind not in ("tensor", None) or v.leaf or v.ident or not any(_trainable_part(facts, cls_name, r) for r in v.live):
                        continue  # a leaf, a module, data, another cached value: no graph of the module's own parameters
                    attr, st = (ev.target.ident[5:] if memo else ev.name), ev.stmt
                    if lexically_no_grad(facts, st) or not _saves_for_backward(facts, info, st):
                        continue  # (a graph of sums and constant factors keeps no tensor: a second backward through it works)
                    if memo:
                        if not _guarded_by_membership(facts, st, attr):
                            continue  # ``self.cache[k] = ...`` on every call: a fresh graph every step
                    elif mname != "__init__" and not _guarded_by_none(facts, st, attr):
                        continue  # recomputed on each call: a fresh graph every step
                    if any(_self_attr(n, attr, ast.Store) or _emptied(n, attr) for other, mm in info.methods.items() if other not in (mname, "__init__") for n in walk_nodes(mm)):
                        continue  # refreshed elsewhere: when is not known
                    if not any(_self_attr(n, attr, ast.Load) and _graph_read(facts, n) for other, mm in info.methods.items() if other != "__init__" for n in walk_nodes(mm)
                               if mm is not m or mname == "__init__" or (memo and not _guarded_by_membership(facts, n, attr))
                               or (not memo and not _guarded_by_none(facts, n, attr))):
                        # (a memo table read in the method that fills it, outside the ``if key not in self.cache:`` that fills it:
                        # ``embs.append(self.cache[k])`` on every call; a cache read after the ``if self.table is None:`` that fills it)
                        if not (mname != "__init__" and _returned(m, attr)):
                            continue
                    site = _training_site_through(facts, cls_name, attr) or (_framework_step_site(facts, cls_name, attr, set(), []) if framework else None)
                    if site is None:
                        continue
                    when = "once, when the module is built" if mname == "__init__" else ("once per key, then reused" if memo else "once, on the first call")
                    first = f"{site.implicit} first backpropagates the loss (line {site.node.lineno}) and" if site.implicit else f"the first `backward()` (line {site.node.lineno})"
                    yield self.finding(
                        facts,
                        st,
                        f"`self.{attr}{'[...]' if memo else ''}` is computed {when}, with gradient from the module's own parameters; every step's loss builds on that one "
                        f"graph, and after {first} frees it the next backward() raises",
                        severity=Severity.ERROR,
                        related=[(site.node, f"{site.implicit} backpropagates this loss every step" if site.implicit else "backward() runs every iteration here")],
                        explanation="A tensor computed from parameters holds the graph of that computation. Cached and reused, it makes every "
                        "loss share the graph, which the first backward() frees: `RuntimeError: Trying to backward through the graph a second "
                        "time`. Compute it in `forward` on every call (so its parameters train), or cache a detached copy when it must not train.",
                    )

    def _graph_computed_once_per_fit(self, facts):
        """A LightningModule attribute computed with gradient from the module's own parameters in a method Lightning
        runs once per fit, before the training steps (``__init__``, ``setup``, ``configure_model``, ``on_fit_start``,
        ``on_train_start``), and read by the loss of ``training_step``, which Lightning runs and backpropagates
        once per batch: the first backward frees the graph every later step's loss still builds on."""
        for cls_name, info in facts.modules.classes.items():
            if info.framework != "lightning" or "training_step" not in info.methods:
                continue
            sites = [s for s in facts.flow.flow(info.methods["training_step"]).loss_sites
                     if s.mode.enabled and not s.retain_graph and not _has_retain(s.node) and s.loss.live]
            if not sites:
                continue
            for mname in (*_ONCE_PER_FIT, *_ONCE_PER_EPOCH):
                m = info.methods.get(mname)
                if m is None or not _SELF_ATTR_FROM_SELF_CALL.search(facts.text(m)):
                    continue
                for ev in facts.flow.flow(m).events:
                    if ev.what != "attr_assign" or ev.target is None or ev.target.ident != "self" or ev.value is None or not ev.mode.enabled:
                        continue
                    v, attr, st = ev.value, ev.name, ev.stmt
                    if v.kind not in ("tensor", None) or v.leaf or v.ident or not any(_trainable_part(facts, cls_name, r) for r in v.live):
                        continue  # a leaf, a module, data, another cached value: no graph of the module's own parameters
                    if mname == "__init__" and "forward" in info.methods:
                        continue  # (read through ``forward``: _graph_computed_once)
                    if st is None or lexically_no_grad(facts, st) or not _saves_for_backward(facts, info, st):
                        continue  # (a graph of sums and constant factors keeps no tensor: a second backward through it works)
                    if any(_self_attr(n, attr, ast.Store) or _emptied(n, attr) for other, mm in info.methods.items() if other not in (mname, "__init__") for n in walk_nodes(mm)):
                        continue  # refreshed elsewhere (perhaps every batch; ``__init__`` runs before any hook)
                    site = next((s for s in sites if f"self.{attr}" in s.loss.live), None)
                    if site is None:
                        continue
                    when = "when the module is built" if mname == "__init__" else (
                        f"in `{mname}`, which Lightning runs once per epoch, before that epoch's training steps" if mname in _ONCE_PER_EPOCH
                        else f"in `{mname}`, which Lightning runs once before the training steps")
                    yield self.finding(
                        facts,
                        st,
                        f"`self.{attr}` is computed once, {when}, with gradient from the module's own parameters; every `training_step` loss "
                        f"builds on that one graph, and after the first step's backward frees it the next backward raises",
                        severity=Severity.ERROR,
                        related=[(site.node, "the loss Lightning backpropagates every batch reads it")],
                        explanation="A tensor computed from parameters holds the graph of that computation. Cached on the module and reused "
                        "by every step, it makes every loss share that graph, which the first backward frees: `RuntimeError: Trying to "
                        "backward through the graph a second time`. Compute it in `training_step` (so its parameters train), or cache a "
                        "detached copy when it must not train.",
                    )

    def _attribute_kept_after_backward(self, facts):
        """``loss.backward()`` then ``self.prev_keys = keys`` in a method that runs again and again, with
        ``self.prev_keys`` read into the next call's loss (in the method or in a method of the class it calls
        before the backward): the kept tensor still points into the graph that backward freed."""
        for fl in facts.backward_flows:
            fn = fl.node
            owner = facts.modules.classes.get(fl.owner or "")
            if owner is None or not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or not fl.backward_sites:
                continue
            for ev in fl.events:
                if ev.what != "attr_assign" or ev.target is None or ev.target.ident != "self" or ev.value is None:
                    continue
                v = ev.value
                if v.kind not in ("tensor", None) or not any(r != "?" for r in v.live):
                    continue  # (a tensor, or a tuple of them: an LSTM's ``(h, c)``)
                st = ev.stmt
                if not isinstance(st, ast.Assign) or len(st.targets) != 1:
                    continue
                target = st.targets[0]
                # (or one element of a tuple target: ``pred, self.state = self.model(x, self.state)``)
                unpacking = isinstance(target, (ast.Tuple, ast.List)) and any(_self_attr(e, ev.name, ast.Store) for e in target.elts)
                if not (unpacking or _self_attr(target, ev.name, ast.Store)):
                    continue
                if any(isinstance(a, ast.Assign) and a.lineno > (st.end_lineno or st.lineno) and any(_self_attr(n, ev.name, ast.Store) for t in a.targets for n in walk_nodes(t))
                       for a in walk_nodes(fn)):
                    continue  # (stored again later in the method, ``self.state = self.state.detach()``: that value is the one carried)
                mine = [s for s in fl.backward_sites if s.loss.live and not s.retain_graph and s.stmt is not None and facts.enclosing(s.node, SCOPES) is fn]
                sites = [s for s in mine if s.stmt.lineno < st.lineno]
                if sites:
                    if any(facts.enclosing(st, (ast.For, ast.While, ast.AsyncFor)) is not facts.enclosing(s.node, (ast.For, ast.While, ast.AsyncFor)) for s in sites):
                        continue  # kept after a loop of backward calls, not between two of them
                    site = sites[-1]
                    if not _reads_before(facts, owner, fn, ev.name, site.node.lineno):
                        continue
                else:
                    # kept before the backward (``self.baseline = m * self.baseline + (1 - m) * reward(log_probs)``):
                    # this step's loss reads the kept tensor (so backward frees its graph), and the next call reads
                    # the old one before or while replacing it (a running update): its loss reaches a freed graph
                    later = [s for s in mine if s.stmt.lineno > st.lineno and not s.loops and not facts.enclosing(st, (ast.For, ast.While, ast.AsyncFor))]
                    site = later[0] if later else None
                    own = f"self.{ev.name}"
                    fresh = {r for r in known_roots(v) if r != own and not r.startswith((own + ".", own + "["))}
                    if site is None or not fresh & set(site.loss.live):  # a graph of this step (not the old value's)
                        continue
                    running = _reads_between(facts, fn, ev.name, st, site.node.lineno) and _reads_before(facts, owner, fn, ev.name, (st.end_lineno or st.lineno) + 1)
                    # (or a recurrent state: ``pred, state = self.model(x, self.state)`` then ``self.state = state``, the loss
                    # built from ``pred``: this step's graph runs through the state read, and the next call reads the one kept)
                    if not running and not _state_feeds_loss(facts, fl, fn, ev.name, st, site):
                        continue
                if not _carried_between_calls(owner, fn, ev.name):
                    continue  # reset or replaced elsewhere, between the calls (or when is not known)
                if not (site.loops or _repeats(facts, fn, site)):
                    continue
                value = st.value

                def build(value=value):
                    return fix("Keep a detached copy (no graph is kept across steps)", replace_node(facts, value, f"{facts.text(value)}.detach()" if isinstance(value, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)) else f"({facts.text(value)}).detach()"))

                def build_after(st=st, attr=ev.name):
                    return fix("Keep a detached copy (no graph is kept across steps)", insert_after_stmt(facts, st, f"self.{attr} = self.{attr}.detach()"))

                # (a name unpacked from what a call returns may be a tuple of tensors itself, an LSTM's ``(h, c)``: ``.detach()``
                # would not do there, so no fix is offered)
                unpacked = isinstance(value, ast.Name) and any(
                    isinstance(a, ast.Assign) and not isinstance(a.value, (ast.Tuple, ast.List))
                    and any(isinstance(t, (ast.Tuple, ast.List)) and any(isinstance(e, ast.Name) and e.id == value.id for e in t.elts) for t in a.targets)
                    for a in walk_nodes(fn))
                yield self.finding(
                    facts,
                    st,
                    f"`self.{ev.name}` keeps a tensor attached to this step's graph, which `backward()` (line {site.node.lineno}) frees; "
                    f"the next call builds its loss from it and its backward() raises",
                    severity=Severity.WARNING,
                    related=[(site.node, "backward() frees the graph of this step here")],
                    # (kept from a tuple a call returns: detached right after, when the walk knows it is one tensor, not a tuple)
                    fixes=([build_after] if v.kind == "tensor" and v.items is None and v.fields is None else []) if unpacking else [] if unpacked else [build],
                    explanation="A tensor computed with gradient points into the graph that produced it. After backward() frees that graph, "
                    "a loss built from the kept tensor walks back into it: `RuntimeError: Trying to backward through the graph a second "
                    "time`. Keep `.detach()` of it (what a memory bank or a previous batch's negatives should be).",
                )

    def _attribute_lists(self, facts):
        """``self.saved_log_probs = []`` on a class, tensors with a graph appended to it, a backward() through what
        is read from it, run again and again, and the list never emptied: from the second backward on, the list
        still holds tensors whose graph an earlier backward freed."""
        for cls_name, info in facts.modules.classes.items():
            init = info.methods.get("__init__")
            if init is None:
                continue
            for attr in _empty_list_attrs(init):
                if not _may_append_to(facts, attr):
                    continue  # no ``x.<attr>.append(...)``: nothing below can be found (and nothing is indexed)
                if _cleared(facts, attr, init):
                    continue
                appends = _graph_appends(facts, attr)
                if not appends:
                    continue
                readers = _readers(facts, attr)
                if not readers:
                    # a replay memory sampled for every update: the entries must carry the graph of a network for sure (what
                    # a caller hands over may be data: states, actions, rewards)
                    appends = _graph_appends(facts, attr, strong=True)
                    readers = _readers(facts, attr, sampled=True) if appends else []
                if not readers:
                    continue
                for fl in facts.backward_flows:
                    for site in fl.backward_sites:
                        # (a loss a plain object's method builds from its list, ``agent.finish_episode()``, may carry no root the
                        # model names: that it reads the list is what counts)
                        if site.retain_graph or _has_retain(site.node) or not site.mode.enabled or not (site.loss.live or site.loss.kind in ("tensor", None)):
                            continue
                        if not _consumes(facts, fl.node, site, readers, cls_name) or not _repeats(facts, fl.node, site):
                            continue
                        read = readers[0]
                        reset = _sibling_reset(info, init, attr)
                        where, related = site.node, [(appends[0], f"tensors with a graph are appended to `{attr}` here"), (read, f"`{attr}` is read here, old entries included")]
                        message = (f"backward() goes through the tensors kept in `{attr}`, a list that is never emptied: the next backward() reaches "
                                   "graphs this one frees and raises")
                        remedy = f"Empty the list after each update (`del x.{attr}[:]`, `x.{attr}.clear()`), or keep detached values (`.detach()`, `.item()`)."
                        if reset is not None:
                            # a method empties the class's other lists but not this one: that is the line to change
                            others = ", ".join(f"`{a}`" for a in reset[1])
                            where, related = reset[0], [(site.node, "backward() frees the graphs of the entries here"), *related]
                            message = (f"this empties {others} but not `{attr}`, which also collects tensors with a graph: the next backward() "
                                       f"(line {site.node.lineno}) goes through the entries this one frees and raises")
                            remedy = f"Empty `{attr}` where the other lists are emptied."
                        yield self.finding(
                            facts,
                            where,
                            message,
                            related=related,
                            explanation="Each entry keeps the graph of the step that produced it. After a backward() through them that graph is "
                            "freed, but the entries stay in the list, so the next loss built from the list walks into freed graphs and raises "
                            f"`RuntimeError: Trying to backward through the graph a second time`. {remedy}",
                        )
                        return


def _detach_after_loop_fixes(facts, fwd, stmt: ast.stmt, attr: str, value) -> list:
    """A state stored at each step of a ``for`` loop at the top level of ``forward``: keep the graph through the steps
    of this call, and store a detached state after the loop for the next call (truncated backpropagation through
    time): ``self.state = self.state.detach()``, or ``tuple(s.detach() for s in self.state)`` for a tuple of states."""
    loop = facts.parent(stmt)
    if not (isinstance(loop, ast.For) and any(loop is st for st in fwd.body) and value is not None):
        return []
    if value.items is not None and all(i.kind in ("tensor", None) for i in value.items):
        new = f"self.{attr} = tuple(s.detach() for s in self.{attr})"
    elif value.items is None and value.pytype is None and value.kind == "tensor":
        new = f"self.{attr} = self.{attr}.detach()"
    else:
        return []
    return [lambda: fix("Store a detached state after the loop (the next call starts from its values, not its graph)", insert_after_stmt(facts, loop, new))]


def _detach_after_stmt_fixes(facts, stmt: ast.stmt, attr: str, value) -> list:
    """``out, self.hidden = self.lstm(x, self.hidden)``: keep this step's output with its graph, and store a detached state
    right after for the next step (``tuple(s.detach() for s in self.hidden)`` for an LSTM's ``(h, c)``)."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Tuple) and len(stmt.targets[0].elts) == 2):
        return []
    second = stmt.targets[0].elts[1]
    call = stmt.value
    if not (isinstance(second, ast.Attribute) and second.attr == attr and isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and _self_attr(call.func)):
        return []
    # what the recurrent layer returns as its state: ``(h, c)`` for an LSTM, one tensor for a GRU or an RNN
    cls = facts.enclosing(stmt, (ast.ClassDef,))
    info = facts.modules.classes.get(cls.name) if cls is not None else None
    made = info.attr_values.get(call.func.attr, ()) if info is not None else ()
    kinds = {(facts.imports.qualname(v.func) or "") if isinstance(v, ast.Call) else "" for v in made}
    if kinds == {"torch.nn.LSTM"}:
        new = f"self.{attr} = tuple(s.detach() for s in self.{attr})"
    elif kinds and kinds <= {"torch.nn.GRU", "torch.nn.RNN"}:
        new = f"self.{attr} = self.{attr}.detach()"
    else:
        return []
    return [lambda: fix("Store a detached state for the next step (it starts from its values, not its graph)", insert_after_stmt(facts, stmt, new))]


def _detach_stored_fix(facts, st: ast.Assign):
    """Store a detached copy: ``self.x = outputs["keys"]`` -> ``self.x = outputs["keys"].detach()``."""
    value = st.value
    text = facts.text(value)
    if not isinstance(value, (ast.Name, ast.Attribute, ast.Subscript, ast.Call)):
        text = f"({text})"
    return fix("Keep a detached copy", replace_node(facts, value, f"{text}.detach()"))


def _empty_list_attrs(init) -> list:
    out = []
    for st in statements_of_type(init, ast.Assign):  # (statements only: the same assignments, in the same order)
        if isinstance(st, ast.Assign) and isinstance(st.value, ast.List) and not st.value.elts:
            out += [t.attr for t in st.targets if isinstance(t, ast.Attribute) and _self_attr(t)]
    return out


def _may_append_to(facts, attr: str) -> bool:
    """Is there a call ``<x>.<attr>.append/extend/insert(<args>)`` (what ``_graph_appends`` starts from)? Looked for
    only in the statements whose lines hold the word ``attr`` (in an ASCII text an attribute's name is spelled as
    it is in the tree); True when that cannot be told."""
    if not facts.source.text.isascii():
        return True
    sts = facts.statements_with_words((attr,))
    if sts is None:
        return True
    for st in sts:
        for top in own_expressions(st):
            for n in walk_nodes(top):
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("append", "extend", "insert") and isinstance(n.func.value, ast.Attribute) and n.func.value.attr == attr and n.args:
                    return True
    return False


def _cleared(facts, attr: str, init) -> bool:
    """Is the list emptied somewhere (or rebound to a value that does not keep its entries)?"""
    for n in _may_clear(facts, attr):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("clear", "detach_") and isinstance(n.func.value, ast.Attribute) and n.func.value.attr == attr:
            return True
        if isinstance(n, ast.Delete) and any(isinstance(t, ast.Subscript) and isinstance(t.value, ast.Attribute) and t.value.attr == attr for t in n.targets):
            return True
        if isinstance(n, ast.Assign) and facts.enclosing(n, (ast.FunctionDef, ast.AsyncFunctionDef)) is not init:
            for t, value in _target_pairs(n):  # (``self.log_probs, self.rewards = [], []``: each target with its own value)
                base = t.value if isinstance(t, ast.Subscript) else t
                if isinstance(base, ast.Attribute) and base.attr == attr and not any(isinstance(x, ast.Attribute) and x.attr == attr for x in walk_nodes(value)):
                    return True  # rebound (or overwritten in place) with something that does not keep the old entries
    return False


def _may_clear(facts, attr: str) -> list:
    """The assignments, deletes and calls ``_cleared`` looks at. Each of its answers names ``<x>.<attr>`` in the node
    (a target of the assignment or delete, the receiver of the call), so in an ASCII text (an attribute's name is
    spelled there as the tree has it) only the statements whose lines hold the word ``attr`` can hold one, and the
    calls in decorators, which sit above their statement's first line. Every one of the file otherwise."""
    sts = facts.statements_with_words((attr,)) if facts.source.text.isascii() else None
    if sts is None:
        return list(facts.walk((ast.Assign, ast.Delete, ast.Call, ast.AugAssign)))
    out: list = [st for st in sts if isinstance(st, (ast.Assign, ast.Delete))]
    out += [n for st in sts for top in own_expressions(st) for n in walk_nodes(top) if isinstance(n, ast.Call)]
    defs = statements_of_type(facts.tree, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    out += [n for st in defs for d in st.decorator_list for n in walk_nodes(d) if isinstance(n, ast.Call)]
    return out


def _graph_appends(facts, attr: str, strong: bool = False) -> list:
    """``x.<attr>.append(v)`` calls whose ``v`` may carry a graph (anything but a Python number or a detached value);
    ``strong``: only those whose ``v`` carries a root other than the function's arguments (computed with the object's own
    network or the program's modules, not what a caller hands over, which may be data)."""
    out = []
    for n in facts.walk(ast.Call):
        if isinstance(n.func, ast.Attribute) and n.func.attr in ("append", "extend", "insert") and isinstance(n.func.value, ast.Attribute) and n.func.value.attr == attr and n.args:
            arg = n.args[-1]
            plain = any(isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr in ("item", "detach", "tolist", "numpy", "cpu") for c in walk_nodes(arg))
            if isinstance(arg, ast.Constant) or plain:
                continue
            fl = flow_of(facts, n)
            if fl is None or getattr(fl.node, "name", "") == "__init__":
                continue  # filled while building the object: data, not a per-step state
            v = next((e.value for e in fl.events if e.what == "container_store" and e.node is n), None)
            if v is not None and v.live and v.kind not in ("python", "numpy", "none") and (not strong or any(not r.startswith("arg:") for r in v.live)):
                out.append(n)
    return out



_NO_GRAPH_USES = {"item", "tolist", "detach", "numpy", "cpu", "size", "shape", "dim", "numel", "dtype", "device"}


def _graph_read(facts, n: ast.AST) -> bool:
    """A read of ``self.<attr>`` whose value may enter a computation (not ``.item()``, ``.detach()``, a shape,
    an ``is None`` test or a print)."""
    parent = facts.parent(n)
    if isinstance(parent, ast.Attribute) and parent.attr in _NO_GRAPH_USES:
        return False
    if isinstance(parent, ast.Compare) and all(isinstance(op, (ast.Is, ast.IsNot)) for op in parent.ops):
        return False
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id in ("print", "len", "isinstance", "float", "repr", "str"):
        return False
    return True


def _reads_before(facts, owner, fn, attr: str, line: int) -> bool:
    """``self.<attr>`` read into a computation in ``fn`` before ``line``, or in a method of the class that ``fn``
    calls (``self.m(...)``) before ``line``."""
    called = {c.func.attr for c in walk_nodes(fn) if isinstance(c, ast.Call) and c.lineno < line and isinstance(c.func, ast.Attribute) and isinstance(c.func.value, ast.Name) and c.func.value.id == "self"}
    scopes = [fn] + [m for name, m in owner.methods.items() if name in called and m is not fn]
    for sc in scopes:
        for n in walk_nodes(sc):
            if _self_attr(n, attr, ast.Load) and (sc is not fn or getattr(n, "lineno", 0) < line) and _graph_read(facts, n):
                return True
    return False


def _state_feeds_loss(facts, fl, fn, attr: str, st: ast.stmt, site) -> bool:
    """Does ``fn`` read ``self.<attr>`` into a call, before storing it again at ``st``, in a statement that binds a value
    the loss backpropagated at ``site`` is computed from (``pred, state = self.model(x, self.state)``, loss from ``pred``)?"""
    for r in walk_nodes(fn):
        if not (isinstance(r, ast.Assign) and (r.lineno < st.lineno or r is st) and isinstance(r.value, ast.Call)):
            continue  # (read before it is stored again, or by the call whose result stores it: ``pred, self.state = ...``)
        if not any(_self_attr(n, attr, ast.Load) for n in walk_nodes(r.value)):
            continue
        for t in r.targets:
            for n in walk_nodes(t):
                if not isinstance(n, ast.Name):
                    continue
                v = fl.assigned.get(id(n))
                if v is not None and {x for x in known_roots(v) if x != f"self.{attr}"} & set(site.loss.live) and _named_in_loss(fn, n.id, r, site):
                    return True
    return False


def _named_in_loss(fn, name: str, bound: ast.stmt, site) -> bool:
    """Is ``name`` (bound at ``bound``) read by a statement of ``fn`` between that binding and the backward at ``site``?"""
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) and (bound.end_lineno or bound.lineno) < n.lineno <= site.node.lineno
               for n in walk_nodes(fn))


def _reads_between(facts, fn, attr: str, st: ast.stmt, line: int) -> bool:
    """``self.<attr>`` read into a computation in ``fn`` after the statement ``st`` and before ``line``."""
    return any(
        _self_attr(n, attr, ast.Load) and (st.end_lineno or st.lineno) < getattr(n, "lineno", 0) < line and _graph_read(facts, n)
        for n in walk_nodes(fn)
    )


def _readers(facts, attr: str, sampled: bool = False) -> list:
    """Reads of ``x.<attr>`` that are not appends (iterating, stacking, summing it); ``sampled``: those that combine a part
    or a sample of it instead (``self.rng.sample(self.memory, k)`` then ``torch.stack(...)``)."""
    out = []
    for n in facts.walk(ast.Attribute):
        if n.attr != attr or not isinstance(n.ctx, ast.Load):
            continue
        parent = facts.parent(n)
        if isinstance(parent, ast.Attribute) and parent.attr in ("append", "extend", "insert", "clear", "pop"):
            continue
        if _combined(facts, n, parent):
            if not sampled:
                out.append(n)
            continue
        if not sampled:
            continue
        # a part or a sample of it (``self.memory[-k:]``, ``self.rng.sample(self.memory, k)``, ``list(self.memory)``), combined
        # there or bound to a name the function then combines or iterates (``batch = ...`` then ``torch.stack(batch)``)
        m = n
        if isinstance(parent, ast.Subscript) and parent.value is n and isinstance(parent.slice, ast.Slice):
            m = parent
        elif isinstance(parent, ast.Call) and n in parent.args and (
                (isinstance(parent.func, ast.Attribute) and parent.func.attr in _SAMPLERS) or (isinstance(parent.func, ast.Name) and parent.func.id in _SAMPLERS)):
            m = parent
        up = facts.parent(m)
        if m is not n and _combined(facts, m, up):
            out.append(n)
            continue
        if isinstance(up, ast.Assign) and len(up.targets) == 1 and isinstance(up.targets[0], ast.Name) and up.value is m:
            fn = facts.enclosing(up, (ast.FunctionDef, ast.AsyncFunctionDef))
            name = up.targets[0].id
            if fn is not None and sum(1 for t in walk_nodes(fn) if isinstance(t, ast.Name) and t.id == name and not isinstance(t.ctx, ast.Load)) == 1 and any(
                    isinstance(u, ast.Name) and u.id == name and isinstance(u.ctx, ast.Load) and _combined(facts, u, facts.parent(u)) for u in walk_nodes(fn)):
                out.append(n)
    return out


_SAMPLERS = frozenset({"sample", "choices", "list", "tuple"})  # (a random sample of a list's entries, or a copy of them)


_COMBINERS = {"torch.stack", "torch.cat", "torch.concat", "torch.sum", "torch.mean", "torch.vstack", "torch.hstack"}


def _combined(facts, n, parent) -> bool:
    """Its entries become one value: ``torch.stack(L)``, ``torch.cat(L)``, ``sum(L)``, ``zip(L, ...)``, or iterated
    (``for lp in L``, ``[... for lp in L]``)."""
    if isinstance(parent, ast.Call) and n in parent.args:
        f = parent.func
        if isinstance(f, ast.Name) and f.id in ("sum", "zip", "enumerate", "reversed"):
            return True
        return (facts.imports.qualname(f) or "") in _COMBINERS
    return isinstance(parent, (ast.For, ast.comprehension)) and parent.iter is n


def _consumes(facts, fn, site, readers: list, cls_name: str) -> bool:
    """The backward's loss is built from the list: read in the backward's function before it, or in a method of the
    class called (through an instance built in that function) there."""
    line = site.node.lineno
    for r in readers:
        rfn = facts.enclosing(r, (ast.FunctionDef, ast.AsyncFunctionDef))
        if rfn is fn and r.lineno <= line:
            return True
        if rfn is not None and facts.enclosing(rfn, ast.ClassDef) is not None and facts.enclosing(rfn, ast.ClassDef).name == cls_name:
            instances = {t.id for st in walk_nodes(fn) if isinstance(st, ast.Assign) for t, v in _target_pairs(st)
                         if isinstance(t, ast.Name) and isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == cls_name}
            for c in walk_nodes(fn):
                if isinstance(c, ast.Call) and c.lineno <= line:
                    f = c.func
                    if rfn.name == "__call__" and isinstance(f, ast.Name) and f.id in instances:
                        return True
                    if isinstance(f, ast.Attribute) and f.attr == rfn.name and isinstance(f.value, ast.Name) and f.value.id in instances:
                        return True
    return False


def _sibling_reset(info, init, attr: str) -> Optional[tuple]:
    """A statement of a method other than ``__init__`` that rebinds other lists ``__init__`` starts empty to new empty
    lists (``self.log_probs, self.rewards = [], []``), and those lists' names; None when no method does."""
    started = set(_empty_list_attrs(init)) - {attr}
    for name, m in info.methods.items():
        if name == "__init__":
            continue
        for st in walk_nodes(m):
            if isinstance(st, ast.Assign):
                emptied = [t.attr for t, v in _target_pairs(st) if _self_attr(t) and t.attr in started and isinstance(v, ast.List) and not v.elts]
                if emptied:
                    return st, emptied
    return None


def _target_pairs(st: ast.Assign) -> list:
    """(target, value) of an assignment, element by element for ``a, b = x, y``."""
    out: list = []
    for t in st.targets:
        if isinstance(t, (ast.Tuple, ast.List)) and isinstance(st.value, (ast.Tuple, ast.List)) and len(t.elts) == len(st.value.elts):
            out.extend(zip(t.elts, st.value.elts))
        else:
            out.append((t, st.value))
    return out


def _repeats(facts, fn, site) -> bool:
    """Does this backward run more than once: inside a loop, or in a function called inside a loop?"""
    if site.loops:
        return True
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    return any(facts.enclosing(c, _REPEATING) is not None for c in call_sites(facts, fn))


# what runs its body again and again: loops, and comprehensions (``[self.training_step(x, y) for x, y in batches]``)
_REPEATING = (ast.For, ast.While, ast.AsyncFor, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def _carried_between_calls(owner, fn, attr: str) -> bool:
    """Is ``self.<attr>``, which ``fn`` stores, carried from one call of ``fn`` to the next: no other method assigns it,
    or some loop (or comprehension) of the class calls ``self.<fn>(...)`` again and again without also calling a method
    that assigns it anew (``self.reset_state()`` once per epoch, outside the loop over windows, resets nothing between
    the windows)?"""
    resetters = {name for name, m in owner.methods.items() if m is not fn and name != "__init__" and _assigns_self_attr(m, attr)}
    if not resetters:
        return True
    for m in owner.methods.values():
        for n in walk_nodes(m):
            if not isinstance(n, _REPEATING):
                continue
            called = [c.func.attr for c in walk_nodes(n) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and _self_attr(c.func, None, ast.Load)]
            if fn.name in called and not resetters & set(called) \
                    and not any(_self_attr(t, attr, ast.Store) for t in walk_nodes(n)):
                return True
    return False


def _self_attr(node, attr: Optional[str] = None, ctx: type = ast.expr_context) -> bool:
    """``self.<attr>`` (any attribute when ``attr`` is None) in context ``ctx`` (Load / Store)."""
    return (
        isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"
        and (attr is None or node.attr == attr) and isinstance(node.ctx, ctx)
    )


def _training_body(fwd) -> list:
    """The top-level statements of ``fwd``, with those of an ``if self.training:`` there (no ``else``) in place of
    that ``if``, and those of a ``for`` loop there after it: a training loop runs the module in training mode (a module is built in it), so they run on every
    training call."""
    out = []
    for st in fwd.body:
        if isinstance(st, ast.If) and not st.orelse and _self_attr(st.test, "training", ast.Load):
            out.extend(st.body)
        elif isinstance(st, ast.For) and not st.orelse:
            # (a loop over time steps: ``for t in range(frames.shape[1]): self.state = self.cell(x[:, t], self.state)``
            # stores the state each step, and the last one is kept for the next call)
            out.append(st)
            out.extend(st.body)
        else:
            out.append(st)
    return out


def _reset_around_loop(facts, fwd, stmt: ast.stmt, attr: str, resetters: set) -> bool:
    """For a state stored in a ``for`` loop at the top level of ``fwd``: does ``fwd`` start it afresh before the loop
    (``self.state = None``, ``self.reset_state(...)``) or store it again after the loop (``self.state = tuple(s.detach()
    for s in self.state)``)? Then what one call leaves is not what the next call builds on."""
    loop = facts.parent(stmt)
    if not (isinstance(loop, ast.For) and any(loop is st for st in fwd.body)):
        return False
    i = next(k for k, st in enumerate(fwd.body) if st is loop)
    before, after = fwd.body[:i], fwd.body[i + 1:]
    if any(_resets(facts, st, attr, resetters, set(), first_values=True) for st in before if not isinstance(st, (ast.If, ast.For, ast.While, ast.Try, ast.With))):
        return True
    return any(_resets(facts, st, attr, resetters, set(), first_values=False) for st in after)


def _self_states(facts, fwd) -> list:
    """(attr, statement) for ``self.<attr>`` assigned at the top level of ``forward`` (not under an ``if``, but for
    ``if self.training:``) after being read there (in the same statement or before it)."""
    out = []
    body = _training_body(fwd)
    for st in body:
        if not isinstance(st, ast.Assign):
            continue
        for t in st.targets:
            for tn in walk_nodes(t):
                if isinstance(tn, ast.Attribute) and _self_attr(tn, None, ast.Store):
                    attr = tn.attr
                    read = any(_self_attr(n, attr, ast.Load) for prev in body[: body.index(st)] for n in walk_nodes(prev))
                    read = read or any(_self_attr(n, attr, ast.Load) for n in walk_nodes(st.value))
                    if read:
                        out.append((attr, st))
    return out


def _method_stores(facts, info, step) -> list:
    """(call, method, attr, statement) for each ``self.<method>(...)`` call of ``step`` (a statement, or the value of an
    assignment: ``clim = self.update_climatology(pred)``; also inside an ``if`` of it) whose method (of the class, given
    arguments) stores a state at its own top level (``self.bank = f(x, self.bank)``)."""
    out = []
    for st in _if_statements(step.body):
        call = st.value if isinstance(st, (ast.Expr, ast.Assign)) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and _self_attr(call.func) and call.args):
            continue
        callee = info.methods.get(call.func.attr)
        if callee is None or callee is step or any(isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod") for d in callee.decorator_list):
            continue
        if callee.decorator_list:
            continue  # (``@torch.no_grad()`` and any other decorator: what it runs under is not read here)
        for attr, where in _self_states(facts, callee):
            out.append((call, callee, attr, where))
    return out


def _if_statements(body: list) -> list:
    """The statements of ``body`` and of the ``if`` blocks in it (at any depth; not those of loops, ``with``, or nested
    functions)."""
    out = []
    for st in body:
        out.append(st)
        if isinstance(st, ast.If):
            out.extend(_if_statements(st.body))
            out.extend(_if_statements(st.orelse))
    return out


def _every_step_sites(facts, framework_steps: bool) -> list:
    """Losses backpropagated once per step without ``retain_graph``: in a loop, by a framework (implicit), or, with
    ``framework_steps``, in the step method a framework calls once per batch."""
    return [s for fl in facts.backward_flows if not facts.flow.is_autograd_function_method(fl.node) for s in fl.loss_sites
            if s.mode.enabled and not s.retain_graph and not (isinstance(s.node, ast.Call) and _has_retain(s.node)) and s.loss.live
            and (s.loops or s.implicit or (framework_steps and _framework_step(facts, fl)))]


def _framework_step(facts, fl) -> bool:
    """Is ``fl`` the step method a framework calls once per batch (a LightningModule's ``training_step``, also under manual
    optimization, where it runs its own ``manual_backward``)?"""
    info = facts.modules.classes.get(fl.owner or "")
    return info is not None and getattr(fl.node, "name", None) is not None and fl.node.name == _framework_step_method(info)


def _memo_store(facts, fn, attr: str) -> Optional[ast.Assign]:
    """The ``self.<attr>[key] = value`` under ``if key not in self.<attr>:`` in ``fn`` (a memoizing store), else None."""
    for node in walk_nodes(fn):
        if not isinstance(node, ast.If) or node.orelse:
            continue
        t = node.test
        if not (isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.NotIn) and _self_attr(t.comparators[0], attr)):
            continue
        key = facts.text(t.left)  # (the source text: ``ast.dump`` leaves a reference cycle per call)
        for st in node.body:
            if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Subscript) \
                    and _self_attr(st.targets[0].value, attr) and facts.text(st.targets[0].slice) == key:
                return st
    return None


def _graph_of_layers(facts, info, cls_name: str, fn, value) -> bool:
    """Does ``value`` (stored by the method ``fn``) carry the graph of the module's layers: a root that is a trainable part,
    or a parameter of ``fn`` that every call on ``self`` in the class passes a value computed by a trainable part
    (``self.class_prototypes(self.embedder(xs), ...)``)?"""
    if any(_trainable_part(facts, cls_name, r) for r in value.live):
        return True
    params = [a.arg for a in fn.args.args]
    idx = {int(r[4:]) for r in value.live if r.startswith("arg:") and r[4:].isdigit()}
    if not idx:
        return False
    calls = [c for other in info.methods.values() if other is not fn for c in walk_nodes(other)
             if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == fn.name and isinstance(c.func.value, ast.Name) and c.func.value.id == "self"]
    if not calls or len(params) < 2:
        return False
    for c in calls:
        for i in idx:
            if i >= len(c.args):
                return False
            a = c.args[i]
            if not (isinstance(a, ast.Call) and isinstance(a.func, ast.Attribute) and _self_attr(a.func)
                    and _trainable_part(facts, cls_name, "self." + a.func.attr)):
                return False
    return True


def _bindings_before(fn, arg: ast.AST, call: ast.Call) -> list:
    """The name targets binding ``arg`` (a plain name) at the top level of ``fn`` before ``call``, the last one only."""
    if not isinstance(arg, ast.Name):
        return []
    last = None
    for st in fn.body:
        if st.lineno >= call.lineno:
            break
        if isinstance(st, ast.Assign):
            for t in st.targets:
                for n in walk_nodes(t):
                    if isinstance(n, ast.Name) and n.id == arg.id and isinstance(n.ctx, ast.Store):
                        last = n
    return [last] if last is not None else []


def _detach_argument_fix(facts, call: ast.Call, given: frozenset):
    edits = []
    for i in sorted(given):
        a = call.args[i]
        if not isinstance(a, ast.Name):
            return None
        edits.append(replace_node(facts, a, f"{a.id}.detach()"))
    # (unsafe: the method may use its argument for more than the state it keeps)
    return fix("Pass a detached copy (the stored state holds no graph)", *edits, unsafe=True) if edits else None


def _assigns_self_attr(fn, attr: str) -> bool:
    return any(_self_attr(n, attr, ast.Store) for n in walk_nodes(fn))


def _training_site(facts, cls_name: str, attr: str, resetters: set):
    """A backward() in a loop (without retain_graph) whose loss comes from an instance of ``cls_name``, with no
    reset of the attribute inside that loop."""
    for fl in facts.backward_flows:
        for site in fl.backward_sites:
            if site.retain_graph or not site.loops or not site.mode.enabled or _has_retain(site.node):
                continue
            roots = {r.replace("[]", "").split(".")[0] for r in site.loss.live}
            if not any((o := facts.flow.root_origins.get(r)) is not None and o.cls and _contains(facts, o.cls, cls_name, set()) for r in roots):
                continue
            if not _resets(facts, site.loops[-1], attr, resetters, set(), first_values=False):
                return site
    return None


def _framework_step_method(info) -> Optional[str]:
    """The method a framework runs and backpropagates once per batch: a LightningModule's ``training_step``, a Trainer
    subclass's ``compute_loss``, and the ``forward`` of a Hugging Face model (whose returned ``loss`` the Trainer
    backpropagates)."""
    fw = info.framework or ""
    return STEP_METHODS_BY_FRAMEWORK.get(fw) or ("forward" if fw == "hf_model" else None)


def _framework_step_site(facts, cls_name: str, attr: str, resetters: set, carrying: list):
    """The loss a framework backpropagates once per batch (a LightningModule's ``training_step``) when it comes
    through a part of the module that is (or holds) an instance of ``cls_name``, or through the module's own
    ``forward`` (``self(x)`` in ``training_step``), and no method the framework runs every batch (``training_step``,
    ``forward``, the batch hooks, and the methods ``training_step`` calls) resets the attribute: a store to
    ``.<attr>`` (other than the ``carrying`` statements and a first value made under ``if self.<attr> is None:``), a
    call of a method that assigns it, or an in-place ``.<attr>.detach_()``."""
    for outer, info in facts.modules.classes.items():
        step_name = _framework_step_method(info)
        m = info.methods.get(step_name) if step_name else None
        if m is None:
            continue
        fl = facts.flow.flow(m)
        sites = [s for s in fl.loss_sites if s.mode.enabled and not s.retain_graph and not _has_retain(s.node) and s.loss.live]
        through = False
        if outer == cls_name:
            # the step runs the module's own forward: ``self(x)`` / ``self.forward(x)``
            through = bool(sites) and any(
                isinstance(n, ast.Call) and ((isinstance(n.func, ast.Name) and n.func.id == "self") or (isinstance(n.func, ast.Attribute) and n.func.attr == "forward" and _self_attr(n.func)))
                for n in walk_nodes(m)
            )
            # or the step is the module's own ``forward`` (a Hugging Face model's, whose returned loss the Trainer
            # backpropagates) and its loss reads the attribute
            through = through or (m is info.methods.get("forward") and any(f"self.{attr}" in s.loss.live for s in sites))
        for s in sites:
            for r in s.loss.live:
                parts = r.replace("[]", "").split(".")
                if outer != cls_name and parts[0] == "self" and len(parts) > 1:
                    part_cls = facts.modules.attr_class(outer, parts[1])[0]
                    through = through or (part_cls is not None and _contains(facts, part_cls, cls_name, set()))
        if not through:
            continue
        every_batch = set(RUN_EVERY_BATCH.get(info.framework or "", ())) | {"forward"} | {
            n.func.attr for n in walk_nodes(m) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and _self_attr(n.func)
        }
        kept = {id(n) for st in carrying for n in walk_nodes(st)} if outer == cls_name else set()
        if not any(_resets(facts, node, attr, resetters, kept) for name, node in info.methods.items() if name in every_batch):
            return sites[0]
    return None


def _resets(facts, scope: ast.AST, attr: str, resetters: set, kept: set, first_values: bool = True) -> bool:
    """Does ``scope`` reset ``.<attr>``: a store to it (not one of the ``kept`` stores that carry the state, nor, with
    ``first_values``, a first value made under ``if self.<attr> is None:``), a call of a method that assigns it, or an
    in-place ``.<attr>.detach_()`` / ``.zero_()``?"""
    for n in walk_nodes(scope):
        if isinstance(n, ast.Attribute) and n.attr == attr and isinstance(n.ctx, ast.Store):
            if id(n) in kept or (first_values and _guarded_by_none(facts, facts.parent(n), attr)):
                continue  # the store that carries the state, or its first value
            return True
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in resetters:
            return True
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("detach_", "zero_") and isinstance(n.func.value, ast.Attribute) and n.func.value.attr == attr:
            return True
    return False


def _starts_as_plain_tensor(facts, info, attr: str) -> bool:
    """Is ``self.<attr>`` made in ``__init__`` only by torch creation functions without ``requires_grad``
    (``self.running_mean = torch.zeros(dim)``)? Such a tensor is no leaf that requires grad: a state built from it
    holds a graph only through what else it is computed from."""
    init = info.methods.get("__init__")
    if init is None:
        return False
    values = [st.value for st in walk_nodes(init) if isinstance(st, ast.Assign) and any(_self_attr(t, attr, ast.Store) for t in st.targets)]
    return bool(values) and all(
        isinstance(v, ast.Call) and (facts.imports.qualname(v.func) or "").rsplit(".", 1)[-1] in FACTORIES
        and (facts.imports.qualname(v.func) or "").startswith("torch.") and not any(k.arg == "requires_grad" for k in v.keywords)
        for v in values
    )


def _contains(facts, outer: str, cls: str, seen: set) -> bool:
    """Is ``cls`` the Module class ``outer`` or one of its submodules' classes, at any depth (``self.center =
    EmbeddingCentering(dim)`` in ``__init__``): calling an ``outer`` runs their ``forward`` too."""
    if outer == cls:
        return True
    info = facts.modules.classes.get(outer)
    if info is None or outer in seen:
        return False
    seen.add(outer)
    for attr in info.attr_values:
        sub, elem = facts.modules.attr_class(outer, attr)
        if any(c and _contains(facts, c, cls, seen) for c in (sub, elem)):
            return True
    return False


def _one_tensor(fn, expr: ast.AST, depth: int = 0) -> bool:
    """Is ``expr`` surely one tensor (so ``.detach()`` applies), not an RNN's ``(h, c)`` state: arithmetic, or a call of
    a tensor method that returns one tensor (``outputs["z"].mean(0)``), or a name bound once in ``fn`` to such?"""
    if isinstance(expr, (ast.BinOp, ast.UnaryOp)):
        return True
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in _ONE_TENSOR_METHODS:
        return True
    if isinstance(expr, ast.Name) and depth < 3:
        binds = [n for n in ast.walk(fn) if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.With, ast.NamedExpr))
                 and any(isinstance(t, ast.Name) and t.id == expr.id for t in ast.walk(n.targets[0] if isinstance(n, ast.Assign) else getattr(n, "target", n)))]
        return len(binds) == 1 and isinstance(binds[0], ast.Assign) and len(binds[0].targets) == 1 and isinstance(binds[0].targets[0], ast.Name) \
            and _one_tensor(fn, binds[0].value, depth + 1)
    return False


_ONE_TENSOR_METHODS = frozenset({"mean", "sum", "clone", "view", "reshape", "flatten", "squeeze", "unsqueeze", "float", "norm", "exp", "log",
                                 "sigmoid", "tanh", "softmax", "abs", "pow", "mul", "add", "matmul", "transpose", "permute", "contiguous"})


def _trained_argument(info, m, root: str) -> bool:
    """``model`` in a Hugging Face Trainer's ``compute_loss(self, model, inputs, ...)``: the model the Trainer trains."""
    args = m.args.args
    return info.framework == "hf_trainer" and len(args) > 1 and (root == args[1].arg or root.startswith(args[1].arg + "."))


def _saves_for_backward(facts, info, st: ast.AST) -> bool:
    """Does the computation of ``st`` (its own expressions and the bodies of the methods of ``info`` and the file's
    functions it calls, one level deep) run an op whose backward keeps a tensor (``log``, ``exp``, a layer, a product or
    quotient of two non-constant operands)? Only then does a second backward through the graph raise: the first one
    frees what was kept, while a graph of sums, negations and constant factors keeps nothing and can be walked again. (A product of two
    tensors keeps both too, but which operands are tensors is not told here: it is left out, saying less.)"""
    scopes: list = [st]
    block = facts.parent(st)
    for field in ("body", "orelse"):
        stmts = getattr(block, field, None)
        if isinstance(stmts, list) and st in stmts:
            # the statements before it in its block compute what it stores (``angles = pos * self.log_freq.exp()``,
            # then ``self._table = (angles.cos(), angles.sin())`` under ``if self._table is None:``)
            scopes.extend(stmts[: stmts.index(st)])
    for n in [n for sc in list(scopes) for n in walk_nodes(sc)]:
        if isinstance(n, ast.Call):
            if isinstance(n.func, ast.Attribute) and _self_attr(n.func) and n.func.attr in info.methods:
                scopes.append(info.methods[n.func.attr])
            elif isinstance(n.func, ast.Name) and n.func.id in facts.flow.functions:
                scopes.append(facts.flow.functions[n.func.id])
    for scope in scopes:
        for n in walk_nodes(scope):
            if isinstance(n, ast.Call):
                name = n.func.attr if isinstance(n.func, ast.Attribute) else (n.func.id if isinstance(n.func, ast.Name) else "")
                q = facts.imports.qualname(n.func)
                if (name in SAVES_INPUT or name in SAVES_OUTPUT) and (q is None or q.startswith("torch.")):
                    return True  # (``math.log`` of a Python number keeps nothing)
                if isinstance(n.func, ast.Attribute) and _self_attr(n.func) and (facts.modules.attr_class(info.name, name)[0] or facts.modules.attr_torch_ctor(info.name, name)):
                    return True  # a layer of the module
            elif isinstance(n, ast.BinOp) and (isinstance(n.op, ast.MatMult) or (isinstance(n.op, ast.Pow) and not isinstance(n.right, ast.Constant))):
                return True
            elif isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Mult, ast.Div)) and _tensor_operand(facts, info, n, n.left) and _tensor_operand(facts, info, n, n.right):
                return True  # (``pos[:, None] * self.freqs[None, :]``: the product keeps ``pos`` for the parameter's gradient)
    return False


def _tensor_operand(facts, info, at: ast.AST, e: ast.AST, depth: int = 0) -> bool:
    """Is ``e`` certainly a tensor: a parameter of the module (``self.freqs``), or a name bound once in the function to a
    ``torch`` call (``pos = torch.arange(t)``), or a view / index of one?"""
    while True:
        if isinstance(e, ast.Subscript):
            e = e.value
        elif isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and e.func.attr in ("unsqueeze", "view", "reshape", "t", "transpose", "float", "to", "expand"):
            e = e.func.value
        else:
            break
    if isinstance(e, ast.Attribute) and _self_attr(e):
        return facts.modules.registered_parameter(info.name, e.attr) is not None
    if isinstance(e, ast.Name) and depth < 2:
        fn = facts.enclosing(at, (ast.FunctionDef, ast.AsyncFunctionDef))
        v = facts.semantic.single_value(fn, e.id, outer=False) if fn is not None else None
        if isinstance(v, ast.Call):
            return (facts.imports.qualname(v.func) or "").startswith("torch.")
    return False


def _trainable_part(facts, cls: str, root: str) -> bool:
    """``self.<attr>...`` naming a submodule or a parameter of ``cls`` (not a cached tensor or a constant)."""
    if not root.startswith("self."):
        return False
    attr = root[5:].split(".", 1)[0].split("[", 1)[0]
    mm = facts.modules
    acls, elem = mm.attr_class(cls, attr)
    ctor = mm.attr_torch_ctor(cls, attr)
    return bool(acls or elem or mm.parameter_attr(cls, attr) or (ctor is not None and is_module_ctor(ctor[0])))


# LightningModule methods the Trainer runs once per fit, before the first training_step
_ONCE_PER_FIT = ("__init__", "setup", "configure_model", "on_fit_start", "on_train_start")
# hooks Lightning runs once per epoch, before the epoch's batches: a graph cached there is shared by every step of the epoch
_ONCE_PER_EPOCH = ("on_train_epoch_start",)

_SELF_ATTR_FROM_SELF_CALL = re.compile(r"self\.\w+(?:\[[^\]\n]*\])?\s*=[^\n=][^\n]*self\.")
_SELF_ATTR_STORE = re.compile(r"self\.\w+(?:\[[^\]\n]*\])?\s*=[^\n=]")


def _has_membership_guard(fn) -> bool:
    """Does ``fn`` test ``key not in self.<attr>`` (a memo table filled once per key)?"""
    return any(isinstance(n, ast.Compare) and len(n.ops) == 1 and isinstance(n.ops[0], ast.NotIn) and _self_attr(n.comparators[0]) for n in walk_nodes(fn))


def _guarded_by_membership(facts, st, attr: str) -> bool:
    """``st`` runs only under ``if key not in self.<attr>:`` (each entry filled once, then reused)."""
    return _guarded(facts, st, lambda t: isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.NotIn) and _self_attr(t.comparators[0], attr))


def _emptied(n: ast.AST, attr: str) -> bool:
    """``self.<attr>.clear()`` / ``.pop(...)`` / ``del self.<attr>[k]``: entries of a memo table dropped."""
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("clear", "pop", "popitem") and _self_attr(n.func.value, attr):
        return True
    return isinstance(n, ast.Delete) and any(isinstance(t, ast.Subscript) and _self_attr(t.value, attr) for t in n.targets)


def _has_none_guard(fn) -> bool:
    """Does ``fn`` test ``self.<attr> is None`` (the lazy-cache idiom), or ``is not None`` (a cache returned when set)?"""
    return any(isinstance(n, ast.Compare) and len(n.ops) == 1 and isinstance(n.ops[0], (ast.Is, ast.IsNot)) and _self_attr(n.left) and isinstance(n.comparators[0], ast.Constant) and n.comparators[0].value is None for n in walk_nodes(fn))


def _guarded_by_none(facts, st, attr: str) -> bool:
    """``st`` runs only under ``if self.<attr> is None:`` (filled once, then reused), also when the test goes on with a
    size comparison (``if self.<attr> is None or self.<attr>.shape[0] < n:``, a cache grown for longer inputs: refilled
    only when an input is longer, reused by every call that is not)."""

    def none_test(t) -> bool:
        return isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.Is) and _self_attr(t.left, attr) \
            and isinstance(t.comparators[0], ast.Constant) and t.comparators[0].value is None

    def size_test(t) -> bool:
        return isinstance(t, ast.Compare) and all(isinstance(o, (ast.Lt, ast.Gt, ast.LtE, ast.GtE, ast.NotEq)) for o in t.ops) \
            and not any(isinstance(n, ast.Constant) and isinstance(n.value, bool) for n in walk_nodes(t))

    def set_test(t) -> bool:
        return isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.IsNot) and _self_attr(t.left, attr) \
            and isinstance(t.comparators[0], ast.Constant) and t.comparators[0].value is None

    return _guarded(
        facts,
        st,
        lambda t: none_test(t) or (
            isinstance(t, ast.BoolOp) and isinstance(t.op, ast.Or) and none_test(t.values[0]) and all(size_test(v) for v in t.values[1:])
        ),
    ) or _after_cached_return(
        facts,
        st,
        # ``if self.<attr> is not None [and self.<attr>.size(0) >= n]: return self.<attr>[...]``: what follows runs only
        # while the cache is empty (or too short), then the cached tensor is reused
        lambda t: set_test(t) or (isinstance(t, ast.BoolOp) and isinstance(t.op, ast.And) and set_test(t.values[0]) and all(size_test(v) for v in t.values[1:])),
    )


def _after_cached_return(facts, st, test) -> bool:
    """Is ``st`` (in its function's own body) preceded there by ``if <test>: ... return ...`` (no ``else``)?"""
    fn = facts.enclosing(st, (ast.FunctionDef, ast.AsyncFunctionDef))
    if fn is None:
        return False
    top = st
    while facts.parent(top) is not fn:
        top = facts.parent(top)
        if top is None:
            return False
    for prev in fn.body:
        if prev is top:
            return False
        if isinstance(prev, ast.If) and not prev.orelse and prev.body and isinstance(prev.body[-1], ast.Return) and test(prev.test):
            return True
    return False


def _guarded(facts, st, test) -> bool:
    """Does ``st`` run only in the body of an enclosing ``if`` (in its function) whose test ``test`` accepts?"""
    p = facts.parent(st)
    while p is not None and not isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if isinstance(p, ast.If) and st in _body_nodes(p.body) and test(p.test):
            return True
        p = facts.parent(p)
    return False


def _body_nodes(body: list) -> set:
    return {n for b in body for n in walk_nodes(b)}


def _returned(fn, attr: str) -> bool:
    return any(isinstance(n, ast.Return) and n.value is not None and any(_self_attr(x, attr, ast.Load) for x in walk_nodes(n.value)) for n in walk_nodes(fn))


def _training_site_through(facts, cls_name: str, attr: str):
    """A backward() run every iteration of a loop (no retain_graph) whose loss comes from an instance of
    ``cls_name`` or of a class holding one as a submodule, at any depth."""
    holders = {cls_name}
    grew = True
    while grew:
        grew = False
        for name, info in facts.modules.classes.items():
            if name in holders or not info.is_module:
                continue
            for a in info.attrs:
                acls, elem = facts.modules.attr_class(name, a)
                if (acls or elem) in holders:
                    holders.add(name)
                    grew = True
                    break
    for cls in sorted(holders):
        site = _training_site(facts, cls, attr, set())
        if site is not None:
            return site
    return None


def _has_retain(call) -> bool:
    return isinstance(call, ast.Call) and any(k.arg in ("retain_graph", "create_graph") for k in call.keywords)


def _names(e: Optional[ast.AST]) -> set:
    return {n.id for n in walk_nodes(e) if isinstance(n, ast.Name)} if e is not None else set()


def _loss_uses(loop, site, assign: ast.Assign) -> bool:
    """Is the loss backpropagated at ``site`` computed (within the loop body) from the result of the
    carried call? Only then does the next backward() walk back into the state's old graph. A def-use closure
    over the loop's assignments, starting from the names in the loss expression."""
    need = _names(getattr(site, "loss_expr", None))
    if not need:
        return True  # nothing to follow: keep the root-based answer
    defs = _loop_defs(loop)
    changed = True
    while changed:
        changed = False
        for targets, uses in defs:
            if targets & need and not uses <= need:
                need |= uses
                changed = True
    return bool(set().union(*(_names(t) for t in (assign.targets if isinstance(assign, ast.Assign) else [assign.target]))) & need)


def _loop_defs(loop) -> list:
    """(names bound, names used) of every binding in the loop's body (not in nested scopes), once per loop."""
    return node_cache(loop, "_gg902_defs", lambda: _compute_loop_defs(loop))


def _compute_loop_defs(loop) -> list:
    defs = []
    for node in _loop_body_nodes(loop):
        if isinstance(node, ast.Assign):
            defs.append((set().union(*(_names(t) for t in node.targets)), _names(node.value)))
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            defs.append((_names(node.target), _names(node.value) | _names(node.target)))
        elif isinstance(node, ast.NamedExpr):
            defs.append((_names(node.target), _names(node.value)))
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            defs.append((_names(node.target), _names(node.iter)))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                defs.append((_names(item.optional_vars), _names(item.context_expr)))
    return defs


# The nodes of a loop's body and its bindings are asked for once per (backward site, accumulated name) pair: they are
# computed once per loop and kept on the loop node itself (dropped with the tree's other caches, see
# ``astindex.caches_released``; a module-level table would keep earlier files' trees alive).
def _loop_body_nodes(loop) -> tuple:
    """``_walk_body(loop.body)`` as a tuple, computed once per loop."""
    return node_cache(loop, "_gg902_body", lambda: tuple(_walk_body(loop.body)))


def _walk_body(stmts):
    stack = list(stmts)
    while stack:
        node = stack.pop()
        yield node
        for child in child_nodes(node):
            if not isinstance(child, SCOPES):
                stack.append(child)


def _target_names(assign):
    out = []
    for t in (assign.targets if isinstance(assign, ast.Assign) else [assign.target]):
        for n in walk_nodes(t):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                out.append(n)
    return out


def _state_args(call: ast.Call):
    """Name nodes passed directly (or inside a tuple/list literal) to ``call``."""
    out = []
    for a in [*call.args, *(k.value for k in call.keywords)]:
        if isinstance(a, ast.Name):
            out.append(a)
        elif isinstance(a, (ast.Tuple, ast.List)):
            out.extend(e for e in a.elts if isinstance(e, ast.Name))
    return out


def _carried_call(value: ast.AST) -> Optional[ast.Call]:
    """The call whose result is assigned, also when a slice or index of it is (``bank = torch.cat([k, bank])[:n]``:
    slicing keeps the result's graph)."""
    while isinstance(value, ast.Subscript):
        value = value.value
    return value if isinstance(value, ast.Call) else None


def _state_calls(loop) -> list:
    """(statement, the names it binds, the state arguments of its call) for each ``... = <call>(..., h)`` of the loop body
    that can carry a state (``_carried_call``). Cached per loop (asked for the states and for their aliases)."""
    return node_cache(loop, "_gg902_state_calls", lambda: _find_state_calls(loop))


def _find_state_calls(loop) -> list:
    got = []
    for node in _loop_body_nodes(loop):
        call = _carried_call(node.value) if isinstance(node, ast.Assign) else None
        if call is not None:
            got.append((node, {t.id for t in _target_names(node)}, list(_state_args(call))))
    return got


def _carried_aliases(loop):
    """(the call's statement, the rebinding, the state's name, the alias) for ``out, new_h = cell(x, h)`` followed in the
    loop by ``h = new_h`` (or ``h = (new_h, new_c)``): the state passed in is carried over under another name."""
    calls = _state_calls(loop)
    if not calls:
        return
    body = _loop_body_nodes(loop)
    for node, targets, args in calls:
        for arg in args:
            if arg.id in targets:
                continue
            for rb in body:
                if not (isinstance(rb, ast.Assign) and len(rb.targets) == 1 and isinstance(rb.targets[0], ast.Name) and rb.targets[0].id == arg.id and rb.lineno > node.lineno):
                    continue
                v = rb.value
                names = [v] if isinstance(v, ast.Name) else (list(v.elts) if isinstance(v, (ast.Tuple, ast.List)) else [])
                if names and all(isinstance(n, ast.Name) and n.id in targets for n in names):
                    yield node, rb, arg.id, v


def _carried_states(loop):
    for node, targets, args in _state_calls(loop):
        for arg in args:
            if arg.id in targets:
                yield node, arg.id, arg


_ADDITIVE = (ast.Add, ast.Sub, ast.Mult, ast.Div)


def _accumulations(loop):
    """(statement, name, operand) for ``x = x + ...`` / ``x = ... + x`` (through nested + - * /) and
    ``x += ...`` in the loop body: a value built from its own previous value."""
    for node in _loop_body_nodes(loop):
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and isinstance(node.op, _ADDITIVE):
            yield node, node.target.id, node.target
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.BinOp):
            name = node.targets[0].id
            stack: list = [node.value]
            while stack:
                e = stack.pop()
                if isinstance(e, ast.BinOp) and isinstance(e.op, _ADDITIVE):
                    stack.extend((e.left, e.right))
                elif isinstance(e, ast.Name) and e.id == name:
                    yield node, name, e
                    break


def _pre_loop_stores(scope, name: str, loop) -> list:
    """Name nodes binding ``name`` in ``scope`` before ``loop`` starts (not inside it)."""
    return [n for n in _scope_nodes(scope) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) and n.lineno < loop.lineno]


def _plain_start(value) -> bool:
    """A starting value with no graph: a number, or a tensor constructor call without ``requires_grad``."""
    if isinstance(value, ast.Constant) and isinstance(value.value, (int, float)):
        return True
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in ("zeros", "tensor", "zeros_like") and not value.keywords:
        return all(isinstance(a, ast.Constant) for a in value.args)
    return False


def _reset_in_loop(loop, assign, name) -> bool:
    for node in _loop_body_nodes(loop):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, (ast.Store, ast.Del)):
            if not any(node is t for t in _target_names(assign)):
                return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("detach_", "zero_", "fill_"):
            base = node.func.value
            if isinstance(base, ast.Subscript) and node.func.attr == "detach_":
                base = base.value  # (``state[0].detach_()``: each tensor of a tuple state, detached itself; on a tensor's view, GG704)
            if isinstance(base, ast.Name) and base.id == name:
                return True
    # the loop's own target (``for x, h in ...``)
    if isinstance(loop, (ast.For, ast.AsyncFor)):
        if any(isinstance(n, ast.Name) and n.id == name for n in walk_nodes(loop.target)):
            return True
    return False


def _ctor_of(facts, fl, callee: ast.AST) -> Optional[str]:
    """Qualified constructor of the module called, when it is visible in this file."""
    if isinstance(callee, ast.Name):
        scopes = [fl.node, facts.tree]
        for scope in scopes:
            for node in walk_nodes(scope):
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                    for t in node.targets:
                        if isinstance(t, ast.Name) and t.id == callee.id:
                            return facts.imports.qualname(node.value.func)
        return None
    if isinstance(callee, ast.Attribute) and isinstance(callee.value, ast.Name) and callee.value.id == "self" and fl.owner:
        info = facts.modules.classes.get(fl.owner)
        if info is None:
            return None
        for node in walk_nodes(info.node):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                for t in node.targets:
                    if isinstance(t, ast.Attribute) and t.attr == callee.attr and isinstance(t.value, ast.Name) and t.value.id == "self":
                        return facts.imports.qualname(node.value.func)
    return None


def _fix_safety(facts, fl, assign, name, arg) -> Optional[str]:
    """'safe' / 'unsafe' / None (no fix): ``.detach()`` needs a tensor, never None or a tuple."""
    for node in walk_nodes(fl.node):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and node.value.value is None:
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                return None
    # a tuple on some path or in some caller's context (``hidden = model.init_hidden(b)`` returning ``(h, c)``): no .detach()
    contexts = [x for x in facts.backward_flows if x.node is fl.node] + [fl]
    for node in walk_nodes(fl.node):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store):
            for ctx in contexts:
                v = ctx.assigned.get(id(node))
                if v is not None and (v.pytype == "tuple" or v.items is not None):
                    return None
    for a in fl.node.args.args if hasattr(fl.node, "args") else []:
        if a.arg == name:
            return "unsafe"
    parent = None
    call = _carried_call(assign.value)
    if call is None:
        return None
    for a in [*call.args, *(k.value for k in call.keywords)]:
        if isinstance(a, (ast.Tuple, ast.List)) and any(e is arg for e in a.elts):
            parent = a
    if parent is not None:
        return "safe"  # one element of a (h, c) tuple: a tensor
    q = _ctor_of(facts, fl, call.func) or ""
    if q in PLAIN_STATE:
        return "safe"
    if q in TUPLE_STATE:
        return None
    return "unsafe"


# -- what a carried value can be --------------------------------------------------------------------
# Only a tensor computed with gradient holds a graph. These produce values that never do: Python numbers,
# strings and containers of them, NumPy arrays, `.item()`/`.tolist()`/`.numpy()` results, detached tensors,
# comparisons (bool tensors have no grad_fn).
SCALAR_BUILTINS = {"float", "int", "bool", "str", "len", "repr", "format", "complex", "hash", "id", "isinstance"}
SELECT_BUILTINS = {"min", "max", "sum", "abs", "sorted", "list", "tuple", "dict", "set"}  # the result is made of the arguments
SCALAR_MODULES = ("math.", "numpy.", "time.", "random.", "statistics.", "operator.")
SCALAR_METHODS = {"item", "tolist", "numpy", "detach", "__len__", "keys", "values", "items", "format", "is_integer"}
MAX_DEPTH = 6


class _Ctx:
    """Where an expression is evaluated: the function scope and the parameters bound to the caller's
    argument expressions (for an in-file helper called with known arguments)."""

    def __init__(self, scope: ast.AST, bindings: Optional[dict] = None, assumed: Optional[set] = None):
        self.scope = scope
        self.bindings = bindings or {}
        self.assumed = assumed or set()


def _never_carries_graph(facts, fl, assign: ast.Assign, name: str) -> bool:
    """True when the carried state is provably not a tensor with a graph: every value ``name`` is given in
    this function (the initial one and the carried call's result) is a Python/NumPy value. Inductive: the
    carried call is judged assuming its own input ``name`` is such a value."""
    ctx = _Ctx(fl.node, assumed={name})
    stores = _stores(fl.node, name)
    if not stores:
        return False
    for value in stores:
        if value is None or not _no_graph(facts, value, ctx, 0, set()):
            return False
    return True


def _stores(scope: ast.AST, name: str) -> list:
    """Expressions assigned to ``name`` in ``scope`` (not in nested scopes); None for a store whose value is
    unknown here (a loop target, ``with ... as``, a parameter, an augmented assignment's operand...)."""
    out: list[Optional[ast.expr]] = []
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        a = scope.args
        if any(p.arg == name for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]) or \
                (a.vararg and a.vararg.arg == name) or (a.kwarg and a.kwarg.arg == name):
            out.append(None)
    for node in _scope_nodes(scope):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name) and t.id == name:
                    out.append(node.value)
                elif any(isinstance(n, ast.Name) and n.id == name for n in walk_nodes(t)):
                    out.append(None)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            out.append(node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            out.append(ast.BinOp(left=ast.Name(id=name, ctx=ast.Load()), op=node.op, right=node.value))
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            if any(isinstance(n, ast.Name) and n.id == name for n in walk_nodes(node.target)):
                out.append(None)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None and any(isinstance(n, ast.Name) and n.id == name for n in walk_nodes(item.optional_vars)):
                    out.append(None)
        elif isinstance(node, ast.NamedExpr) and node.target.id == name:
            out.append(node.value)
        elif isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
            out.append(None)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((al.asname or al.name.split(".")[0]) == name for al in node.names):
                out.append(None)
    return out


def _scope_nodes(scope: ast.AST):
    """The nodes of a function's (or module's) own scope: nested functions, lambdas and classes are
    yielded but not entered."""
    body = getattr(scope, "body", None)
    stack = list(body) if isinstance(body, list) else []
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, SCOPES):
            continue
        stack.extend(child_nodes(node))


def _local_function(facts, scope: ast.AST, name: str):
    """An in-file function called ``name``, visible from ``scope``: defined in it, in an enclosing
    function (a closure), or at module level."""
    node = scope
    while node is not None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
            for n in _scope_nodes(node):
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name:
                    return n
        node = facts.parent(node)
    for st in facts.tree.body:
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)) and st.name == name:
            return st
    return None


def _no_graph(facts, e: ast.AST, ctx: _Ctx, depth: int, visiting: set) -> bool:
    """Is ``e`` provably a value that holds no autograd graph (not a tensor computed with gradient)?"""
    if depth > MAX_DEPTH:
        return False
    d = depth + 1
    if isinstance(e, (ast.Constant, ast.JoinedStr, ast.Compare)):
        return True
    if isinstance(e, ast.UnaryOp):
        return isinstance(e.op, ast.Not) or _no_graph(facts, e.operand, ctx, d, visiting)
    if isinstance(e, ast.BinOp):
        return _no_graph(facts, e.left, ctx, d, visiting) and _no_graph(facts, e.right, ctx, d, visiting)
    if isinstance(e, ast.BoolOp):
        return all(_no_graph(facts, v, ctx, d, visiting) for v in e.values)
    if isinstance(e, ast.IfExp):
        return _no_graph(facts, e.body, ctx, d, visiting) and _no_graph(facts, e.orelse, ctx, d, visiting)
    if isinstance(e, (ast.Tuple, ast.List, ast.Set)):
        return all(_no_graph(facts, v, ctx, d, visiting) for v in e.elts)
    if isinstance(e, ast.Dict):
        return all(v is not None and _no_graph(facts, v, ctx, d, visiting) for v in e.values)
    if isinstance(e, ast.Subscript):
        return _no_graph(facts, e.value, ctx, d, visiting)
    if isinstance(e, ast.Name):
        if e.id in ctx.assumed:
            return True
        if e.id in ctx.bindings:
            arg, caller = ctx.bindings[e.id]
            return _no_graph(facts, arg, caller, d, visiting)
        key = (id(ctx.scope), e.id)
        if key in visiting:
            return True  # a cycle: judged by the other stores
        visiting = visiting | {key}
        stores = _stores(ctx.scope, e.id)
        if not stores:
            return False
        return all(v is not None and _no_graph(facts, v, ctx, d, visiting) for v in stores)
    if isinstance(e, ast.Call):
        func = e.func
        args = [*e.args, *(k.value for k in e.keywords)]
        if isinstance(func, ast.Attribute) and func.attr in SCALAR_METHODS:
            return True
        q = facts.imports.qualname(func) or ""
        if q.startswith(SCALAR_MODULES):
            return True
        if isinstance(func, ast.Name):
            if func.id in SCALAR_BUILTINS and not q.startswith("torch"):
                return True
            if func.id in SELECT_BUILTINS and not q.startswith("torch"):
                return all(_no_graph(facts, a.value if isinstance(a, ast.Starred) else a, ctx, d, visiting) for a in args)
            fn = _local_function(facts, ctx.scope, func.id)
            if fn is not None and id(fn) not in visiting:
                bindings = {}
                params = [p.arg for p in [*fn.args.posonlyargs, *fn.args.args]]
                for p, a in zip(params, e.args):
                    if not isinstance(a, ast.Starred):
                        bindings[p] = (a, ctx)
                for k in e.keywords:
                    if k.arg:
                        bindings[k.arg] = (k.value, ctx)
                inner = _Ctx(fn, bindings)
                returns = [n for n in _scope_nodes(fn) if isinstance(n, ast.Return)]
                return all(r.value is None or _no_graph(facts, r.value, inner, d, visiting | {id(fn)}) for r in returns)
        return False
    return False


def _plain_function(facts, fl, callee: ast.AST) -> bool:
    """A builtin, a math/NumPy function or an in-file function: not a module carrying a recurrent state."""
    q = facts.imports.qualname(callee) or ""
    if q.startswith(SCALAR_MODULES):
        return True
    if isinstance(callee, ast.Name):
        if not q and callee.id in SCALAR_BUILTINS | SELECT_BUILTINS | {"round", "print", "next", "zip", "map", "enumerate", "range"}:
            return True
        return _local_function(facts, fl.node, callee.id) is not None
    return False


def _called_module(facts, fl, callee: ast.AST) -> Optional[str]:
    """The module the carried call runs, when it is known to be an nn.Module: the callee (a name, or
    ``self.<attr>`` in a method) is bound to a torch.nn constructor or to an in-file class that is a Module.
    None otherwise (a function, a builtin, a value of unknown type)."""
    from gradguard.core.torchapi import is_module_ctor

    calls = []
    if isinstance(callee, ast.Name):
        local = [v for v in _stores(fl.node, callee.id)] if fl.node is not facts.tree else []
        # a name bound in this function decides alone; else the module-level binding (a global)
        stores = local if local else _stores(facts.tree, callee.id)
        for v in stores:
            if not isinstance(v, ast.Call):
                return None  # a parameter, a loop target, anything but a constructor call
            calls.append(v)
    elif isinstance(callee, ast.Attribute) and isinstance(callee.value, ast.Name) and callee.value.id == "self" and fl.owner:
        info = facts.modules.classes.get(fl.owner)
        if info is not None:
            for node in walk_nodes(info.node):
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                    for t in node.targets:
                        if isinstance(t, ast.Attribute) and t.attr == callee.attr and isinstance(t.value, ast.Name) and t.value.id == "self":
                            calls.append(node.value)
    if not calls:
        return None
    names = []
    for c in calls:
        q = facts.imports.qualname(c.func)
        if q and is_module_ctor(q):
            names.append(q)
            continue
        if isinstance(c.func, ast.Name):
            info = facts.modules.classes.get(c.func.id)
            if info is not None and getattr(info, "is_module", None):
                names.append(c.func.id)
                continue
        return None  # bound to something else as well
    return names[0]


def _instance_class(facts, fl, name: str, loop):
    """The in-file class every binding of ``name`` in ``fl``'s function gives it an instance of, when none of them is in
    ``loop`` (the object outlives the iterations); else None."""
    inside: Optional[set] = None  # (the loop body's nodes, gathered once a binding of ``name`` is seen)
    cls = None
    found = False
    for n in walk_nodes(fl.node):
        if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store):
            if inside is None:
                inside = {id(b) for b in _loop_body_nodes(loop)}
            if id(n) in inside:
                return None
            v = fl.assigned.get(id(n))
            if v is None or v.kind not in ("instance", "module") or not v.cls or (cls is not None and v.cls != cls):
                return None
            cls, found = v.cls, True
    if not found and isinstance(fl.context, ast.Call) and isinstance(fl.node, (ast.FunctionDef, ast.AsyncFunctionDef)) and name in fl.args:
        # a parameter of a training function analyzed with its caller's values: the object the caller passes
        # (``pretrain(..., NegativeQueue())``), made before the call and so before the loop
        i = fl.args.index(name)
        arg: Optional[ast.AST] = next((k.value for k in fl.context.keywords if k.arg == name), None)
        if arg is None and i < len(fl.context.args) and not any(isinstance(a, ast.Starred) for a in fl.context.args[: i + 1]):
            arg = fl.context.args[i]
        if isinstance(arg, ast.Name):
            caller = facts.enclosing(fl.context, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
            arg = single_binding(caller, arg.id)
        if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id in facts.modules.classes:
            return facts.modules.classes[arg.func.id]
    return facts.modules.classes.get(cls) if found and cls else None


def _stored_arguments(facts, callee, attr: str, where: ast.stmt, call: ast.Call) -> set:
    """The positional arguments of ``call`` whose graph ``callee`` stores in ``self.<attr>`` (at ``where``, in grad mode,
    its only store of the attribute)."""
    own = facts.flow.flow(callee)
    stores = [e for e in own.events if e.what == "attr_assign" and e.name == attr]
    stored = [e for e in stores if e.stmt is where and e.value is not None and e.mode.enabled]
    if not stored or len(stored) != len(stores) or stored[-1].value.kind not in ("tensor", None):
        return set()
    given = set()
    for r in stored[-1].value.live:
        head = r.split(".", 1)[0]
        if head.startswith("arg:") and head[4:].isdigit() and int(head[4:]) < len(call.args):
            given.add(int(head[4:]))
    return given


def _loop_values(fl, loop, arg: ast.AST, call: ast.Call) -> list:
    """The values the loop body binds to ``arg`` (a plain name) before ``call``."""
    if not isinstance(arg, ast.Name):
        return []
    out = []
    for n in _walk_body(loop.body):
        if isinstance(n, ast.Name) and n.id == arg.id and isinstance(n.ctx, ast.Store) and n.lineno <= call.lineno:
            v = fl.assigned.get(id(n))
            if v is not None:
                out.append(v)
    return out


def _loss_reads(loop, site, recv: str, attr: str, info=None) -> bool:
    """Is the loss backpropagated at ``site`` computed (within the loop body) from ``<recv>.<attr>``, read directly or (with
    ``info``, the object's class) returned by a method of the object (``x, idx = buffer.sample(n)`` returning
    ``self.data[idx].clone()``)?"""
    readers = {m for m, fn in info.methods.items() if ModuleModel.returns_attr(fn, attr, through_locals=True)} if info is not None else set()

    def reads(e) -> bool:
        return any((isinstance(n, ast.Attribute) and n.attr == attr and isinstance(n.value, ast.Name) and n.value.id == recv)
                   or (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in readers
                       and isinstance(n.func.value, ast.Name) and n.func.value.id == recv) for n in walk_nodes(e))

    return _loss_depends(loop, site, reads)


def _loss_depends(loop, site, reads) -> bool:
    """Is the loss backpropagated at ``site`` computed (within the loop body) from an expression ``reads`` accepts?"""
    expr = getattr(site, "loss_expr", None)
    if expr is None:
        return False
    if reads(expr):
        return True
    need = _names(expr)
    defs = []
    for node in _walk_body(loop.body):
        if isinstance(node, ast.Assign):
            defs.append((set().union(*(_names(t) for t in node.targets)), node.value))
        elif isinstance(node, ast.AugAssign):
            defs.append((_names(node.target), node.value))
    changed = True
    while changed:
        changed = False
        for targets, value in defs:
            if targets & need:
                if reads(value):
                    return True
                uses = _names(value)
                if not uses <= need:
                    need |= uses
                    changed = True
    return False


def _reset_in_loop_body(facts, info, loop, recv: str, attr: str, call: ast.Call) -> bool:
    """Does the loop body store ``<recv>.<attr>`` itself, or call another method of the object that assigns it?"""
    own = info.methods.get(call.func.attr) if isinstance(call.func, ast.Attribute) else None
    for n in _walk_body(loop.body):
        if isinstance(n, ast.Attribute) and n.attr == attr and isinstance(n.value, ast.Name) and n.value.id == recv and isinstance(n.ctx, ast.Store):
            return True
        if isinstance(n, ast.Call) and n is not call and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == recv:
            m = info.methods.get(n.func.attr)
            if m is not None and _assigns_self_attr(m, attr) and m is not own:
                return True
    return False


def _indexed_writes(facts, fl, loop, callee, call: ast.Call) -> list:
    """(attr, statement, {argument positions}) for each ``self.<attr>[idx] = <param>`` at the top level of ``callee`` (in
    grad mode), where ``idx`` is a tensor (a parameter the loop gives a tensor, or a local the method makes one) and
    ``<param>`` is an argument of the call: the object's state takes the argument's graph in place."""
    a = callee.args
    params = [p.arg for p in [*a.posonlyargs, *a.args]][1:]
    out = []
    for st in callee.body:
        if not (isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Subscript)):
            continue
        t = st.targets[0]
        if not (_self_attr(t.value, None, ast.Load) and isinstance(st.value, ast.Name) and st.value.id in params):
            continue
        if not isinstance(t.slice, ast.Name) or not _tensor_index(facts, fl, loop, callee, call, t.slice, params):
            continue
        out.append((t.value.attr, st, {params.index(st.value.id)}))  # type: ignore[attr-defined]
    return out


def _tensor_index(facts, fl, loop, callee, call: ast.Call, idx: ast.Name, params: list) -> bool:
    """Is ``idx`` (in ``callee``) a tensor: the value the loop passes for that parameter, or a local the method binds?"""
    if idx.id in params:
        i = params.index(idx.id)
        if i >= len(call.args):
            return False
        vals = _loop_values(fl, loop, call.args[i], call)
        return bool(vals) and all(v.kind == "tensor" for v in vals)
    return _bound_to_tensors(facts.flow.flow(callee), callee, idx.id)


def _bound_to_tensors(fl, scope: ast.AST, name: str) -> bool:
    """Is every binding of ``name`` in ``scope`` a tensor, as the flow ``fl`` of that scope evaluates it (an index that
    is a tensor is saved for backward; a slice or a number is not)?"""
    vals = [fl.assigned.get(id(n)) for n in walk_nodes(scope) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)]
    return bool(vals) and all(v is not None and v.kind == "tensor" for v in vals)

