"""GG202 round-trip-starves-parameters: NumPy / Python round trips on the path from parameters to a loss."""
from __future__ import annotations

import ast

from gradguard.core.astindex import walk_nodes
from gradguard.core.model import Applicability, Severity
from gradguard.core.starvation import frozen_paths, is_frozen
from gradguard.core.torchapi import LOSS_SINK_WORDS, PARAMETER_CTORS
from gradguard.fixes import alias_for, fix, replace_node
from gradguard.rules._cuts import cut_findings, dead_term_findings, roots_label
from gradguard.rules.base import Example, Rule

NUMPY_TO_TORCH = {
    "tanh", "exp", "log", "log1p", "expm1", "sin", "cos", "tan", "sqrt", "abs", "square", "sinh", "cosh",
    "arctan", "arcsin", "arccos", "maximum", "minimum", "clip", "sign", "floor", "ceil", "exp2", "log2", "log10",
}
RENAMED = {"arctan": "atan", "arcsin": "asin", "arccos": "acos", "clip": "clamp"}
WRAPPERS = {"torch.from_numpy", "torch.tensor", "torch.as_tensor", "torch.Tensor", "torch.FloatTensor"}


class RoundTripStarvesParameters(Rule):
    code = "GG202"
    name = "round-trip-starves-parameters"
    summary = "A NumPy or Python round trip (`.numpy()`, `.item()`, `.tolist()`, `float(t)`, `torch.tensor(t)`, `np.*`) cuts the only gradient path from trained parameters to a loss."
    severity = Severity.WARNING
    needs = LOSS_SINK_WORDS
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Flags conversions out of autograd (`.numpy()`, `.item()`, `.tolist()`, `float(t)`, `math.*`, NumPy functions
applied to tensors, `torch.tensor(t)` / `torch.from_numpy(...)` re-wrapping, including a loss re-wrapped
as `torch.tensor(loss.item(), requires_grad=True)`) on the only path from trained parameters to a loss that
is backpropagated, also inside a helper or a criterion object's `__call__` (`self.criterion(pred, y)` with
`self.criterion = PerceptualDistance()`), or a layer built from the number (`nn.Threshold(self.threshold.item(), 0.0)(codes)`:
the layer's output depends on it, with no gradient back to the parameter). Conversions for logging, metrics or I/O (not on the backpropagated path) stay silent,
and so does NumPy inside a custom `torch.autograd.Function.forward` (its `backward` supplies the gradient).
A plain list the object starts empty and fills (a rollout buffer, `self.data.append(transition)`) holds no parameter:
re-wrapping what it holds (`torch.tensor(s_lst)`) starves nothing.
An input of `torch.autograd.grad(outputs, inputs)` (without `allow_unused=True`) that reaches the outputs only through
such a conversion (forces `-dE/dpos` of an energy computed from `pos.detach().numpy()`) is an error: the call raises
`One of the differentiated Tensors appears to not have been used in the graph`. (The gradients `autograd.grad` computes
are those of its inputs only: a cut in front of other parameters starves nothing there.)
A loss whose only terms with a gradient path are added by an `if` without an `else` (`loss = mel_l1(...)` through
NumPy, then `if step >= warmup: loss = loss + adv_loss`) has no path whenever the `if` does not run: reported as a
warning on the conversion (backward() raises in the warm-up steps).

A `.numpy()` in training code (a function that backpropagates, or a loss a framework backpropagates) on a tensor computed
with grad on from parameters that are not frozen raises right there (`Can't call numpy() on Tensor that requires grad`),
whatever else the loss holds: reported as an error on the call.

A term of a backpropagated loss computed through such a conversion (`loss = nll + l2` with `nll` a Cox likelihood
computed in NumPy and re-wrapped with `torch.tensor`) is a constant of that loss even when the parameters still train
through the other terms (the L2 penalty): its objective is never optimized. Reported as a warning on the conversion,
without a fix (compute the term with torch ops).

`torch.as_tensor([a, b])` of a list of tensors builds a new tensor from their values, as `torch.tensor` does (the fix,
`torch.stack`, is not offered when the code then sets `requires_grad` on the result); `torch.as_tensor(t)` of one tensor
returns `t` itself, its history kept.

`nn.Parameter(t)` of a tensor computed from trained parameters is a re-wrap too: a new leaf that shares `t`'s values and
none of its history. That includes a Module whose constructor wraps a tensor it is given (`self.weight =
nn.Parameter(weight)`) built from generated weights (a hypernetwork's output): the layer computes with the new leaf,
and the hypernetwork gets no gradient. The unsafe fix keeps the given tensor as a plain attribute (`self.weight =
weight`). A constructor given a fresh tensor or a copy of another, untrained model's weights stays silent.

## Why is this bad?
NumPy arrays and Python numbers have no autograd history. Values rebuilt from them are new leaves:
upstream parameters get no gradient (`.grad` stays None), `backward()` may raise
`element 0 of tensors does not require grad`, and NumPy on a tensor that requires grad raises
`Can't call numpy() on Tensor that requires grad`. Re-wrapping a loss with `requires_grad=True` hides the
error but trains nothing.

## Example
```python
h = torch.from_numpy(np.tanh(h.detach().numpy()))
loss = torch.tensor(raw.item(), requires_grad=True)
```

## Use instead
```python
h = torch.tanh(h)
loss = raw
```

## Fix safety
Unsafe: replacing NumPy calls by their torch counterparts, `torch.tensor([a, b])` by `torch.stack([a, b])`,
or a re-wrapped loss by the original tensor changes which library computes the value (results agree up to
floating-point detail); keeping a given tensor instead of wrapping it changes what the class registers (a caller that
passes it a fresh tensor to train then gets an unregistered attribute).
"""
    examples = (
        Example(
            name="learned-frequency-read-as-a-float-in-layers-listed-into-a-sequential",
            code="""import torch
import torch.nn as nn


class SineLayer(nn.Module):
    def __init__(self, fan_in, fan_out, omega):
        super().__init__()
        self.linear = nn.Linear(fan_in, fan_out)
        self.omega = nn.Parameter(torch.tensor(omega))

    def forward(self, x):
        return torch.sin(float(self.omega) * self.linear(x))


class Siren(nn.Module):
    def __init__(self, depth=3):
        super().__init__()
        layers = [SineLayer(1, 8, 30.0)]
        layers += [SineLayer(8, 8, 30.0) for _ in range(depth - 1)]
        self.layers = nn.Sequential(*layers)
        self.out = nn.Linear(8, 1)

    def forward(self, t):
        return self.out(self.layers(t))


def main():
    torch.manual_seed(0)
    model = Siren()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    t = torch.linspace(-1, 1, 32)[:, None]
    for _ in range(2):
        loss = (model(t) - torch.sin(3 * t)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(12,),
            expect={'grad_none': ['model.layers.0.omega', 'model.layers.2.omega']},
            fixable=False,
        ),
        Example(
            bad=False,
            name="learned-frequency-kept-a-tensor-in-layers-listed-into-a-sequential",
            code="""import torch
import torch.nn as nn


class SineLayer(nn.Module):
    def __init__(self, fan_in, fan_out, omega):
        super().__init__()
        self.linear = nn.Linear(fan_in, fan_out)
        self.omega = nn.Parameter(torch.tensor(omega))

    def forward(self, x):
        return torch.sin(self.omega * self.linear(x))


class Siren(nn.Module):
    def __init__(self, depth=3):
        super().__init__()
        layers = [SineLayer(1, 8, 30.0)]
        layers += [SineLayer(8, 8, 30.0) for _ in range(depth - 1)]
        self.layers = nn.Sequential(*layers)
        self.out = nn.Linear(8, 1)

    def forward(self, t):
        return self.out(self.layers(t))


def main():
    torch.manual_seed(0)
    model = Siren()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    t = torch.linspace(-1, 1, 32)[:, None]
    for _ in range(2):
        loss = (model(t) - torch.sin(3 * t)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={'grad_ok': ['model.layers.0.omega', 'model.layers.2.omega']},
        ),
        Example(
            name="warm-up-loss-through-numpy-until-the-adversarial-term-starts",
            code="""import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def spectrum(wave):
    x = wave.detach().numpy()
    return torch.from_numpy(np.abs(np.fft.rfft(x, axis=-1))).float()


def train(gen, disc, opt, step, warmup):
    for _ in range(2):
        z, real = torch.randn(4, 8), torch.randn(4, 16)
        fake = gen(z)
        loss = F.l1_loss(spectrum(fake), spectrum(real))
        if step >= warmup:
            loss = loss + (1 - disc(fake)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
    return step


def main():
    torch.manual_seed(0)
    gen, disc = nn.Linear(8, 16), nn.Linear(16, 1).requires_grad_(False)
    opt = torch.optim.Adam(gen.parameters(), lr=1e-3)
    train(gen, disc, opt, 0, 1000)
    return {"gen": gen}
""",
            lines=(8,),
            expect={'error': 'does not require grad'},
            fixable=False,
        ),
        Example(
            bad=False,
            name="warm-up-loss-computed-in-torch",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def spectrum(wave):
    return torch.fft.rfft(wave, dim=-1).abs()


def train(gen, disc, opt, step, warmup):
    for _ in range(2):
        z, real = torch.randn(4, 8), torch.randn(4, 16)
        fake = gen(z)
        loss = F.l1_loss(spectrum(fake), spectrum(real))
        if step >= warmup:
            loss = loss + (1 - disc(fake)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
    return step


def main():
    torch.manual_seed(0)
    gen, disc = nn.Linear(8, 16), nn.Linear(16, 1).requires_grad_(False)
    opt = torch.optim.Adam(gen.parameters(), lr=1e-3)
    train(gen, disc, opt, 0, 1000)
    return {"gen": gen}
""",
            expect={'grad_ok': ['gen.weight']},
        ),
        Example(
            name="generated-weight-wrapped-in-parameter-by-the-layer-built-from-it",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class DynamicMixer(nn.Module):
    def __init__(self, weight):
        super().__init__()
        self.weight = nn.Parameter(weight)

    def forward(self, x):
        return torch.einsum("oc,bcl->bol", self.weight, x)


class TaskConditioned(nn.Module):
    def __init__(self, n_tasks=3, channels=4):
        super().__init__()
        self.channels = channels
        self.task_embed = nn.Embedding(n_tasks, 8)
        self.generator = nn.Linear(8, channels * channels)
        self.head = nn.Linear(channels, 1)

    def forward(self, x, task):
        w = self.generator(self.task_embed(task)).view(self.channels, self.channels)
        mixer = DynamicMixer(w)
        return self.head(mixer(x).mean(-1))


def main():
    torch.manual_seed(0)
    model = TaskConditioned()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(3):
        x, y = torch.randn(8, 4, 5), torch.randn(8, 1)
        loss = F.mse_loss(model(x, torch.tensor(step % 3)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(9,),
            expect={"grad_none": ["model.generator.weight", "model.task_embed.weight"], "grad_ok": ["model.head.weight"]},
            fixed_expect={"grad_ok": ["model.generator.weight", "model.task_embed.weight", "model.head.weight"]},
        ),
        Example(
            name="constructor-wraps-a-given-table-or-a-cloned-initial-value",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class ScaledTable(nn.Module):
    def __init__(self, table, scale):
        super().__init__()
        self.table = nn.Parameter(table)
        self.scale = nn.Parameter(scale)

    def forward(self, idx):
        return self.scale * self.table[idx]


class Student(nn.Module):
    def __init__(self, teacher):
        super().__init__()
        # a copy of the teacher's values as the student's own starting point
        self.lookup = ScaledTable(teacher.weight.clone(), torch.ones(1))
        self.out = nn.Linear(4, 1)

    def forward(self, idx):
        return self.out(self.lookup(idx))


def main():
    torch.manual_seed(0)
    teacher = nn.Embedding(10, 4)
    model = Student(teacher)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        idx = torch.randint(0, 10, (16,))
        loss = F.mse_loss(model(idx), torch.randn(16, 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            bad=False,
            expect={"grad_ok": ["model.lookup.table", "model.lookup.scale", "model.out.weight"]},
        ),
        Example(
            name="numpy-ranking-term-beside-an-l2-penalty",
            code="""import numpy as np
import torch
import torch.nn as nn


def listwise_term(scores, relevance):
    p = np.exp(scores.detach().numpy())
    p = p / p.sum()
    q = np.exp(relevance.numpy())
    q = q / q.sum()
    return torch.tensor(-(q * np.log(p)).sum(), dtype=torch.float32)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, relevance = torch.randn(16, 4), torch.rand(16)
    for _ in range(2):
        scores = model(x).squeeze(-1)
        rank_loss = listwise_term(scores, relevance)
        loss = rank_loss + 1e-3 * sum((w ** 2).sum() for w in model.parameters())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"ranking_term_trains": rank_loss.requires_grad}
""",
            lines=(7,),
            fixable=False,
            expect={"facts": {"ranking_term_trains": False}},
        ),
        Example(
            bad=False,
            name="numpy-ranking-metric-only-logged",
            code="""import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def listwise_metric(scores, relevance):
    p = np.exp(scores.detach().numpy())
    p = p / p.sum()
    q = np.exp(relevance.numpy())
    q = q / q.sum()
    return float(-(q * np.log(p)).sum())


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, relevance = torch.randn(16, 4), torch.rand(16)
    history = []
    for _ in range(2):
        scores = model(x).squeeze(-1)
        rank_loss = -(F.softmax(relevance, 0) * F.log_softmax(scores, 0)).sum()
        loss = rank_loss + 1e-3 * sum((w ** 2).sum() for w in model.parameters())
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(listwise_metric(scores, relevance))
    return {"model": model}, {"ranking_term_trains": rank_loss.requires_grad}
""",
            expect={"grad_ok": ["model.0.weight", "model.2.weight"], "facts": {"ranking_term_trains": True}},
        ),
        Example(
            name="numpy-of-a-prediction-that-requires-grad-in-the-training-loop",
            code="""import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def smooth(series):
    return np.convolve(series.ravel(), np.ones(3) / 3, mode="same").reshape(series.shape)


def train(model, batches, optimizer):
    for x, y in batches:
        pred = model(x)
        smoothed = torch.as_tensor(smooth(pred.numpy()), dtype=pred.dtype)
        loss = F.l1_loss(smoothed, y) + F.mse_loss(pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 4)
    train(model, [(torch.randn(8, 4), torch.randn(8, 4)) for _ in range(2)], torch.optim.SGD(model.parameters(), lr=0.1))
    return {"model": model}
""",
            lines=(14,),
            expect={"error": "Can't call numpy() on Tensor that requires grad"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="numpy-of-a-detached-prediction-next-to-a-loss-that-trains",
            code="""import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def smooth(series):
    return np.convolve(series.ravel(), np.ones(3) / 3, mode="same").reshape(series.shape)


def train(model, batches, optimizer):
    smoothed_errors = []
    for x, y in batches:
        pred = model(x)
        smoothed = torch.as_tensor(smooth(pred.detach().numpy()), dtype=pred.dtype)
        smoothed_errors.append(F.l1_loss(smoothed, y).item())
        loss = F.mse_loss(pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return smoothed_errors


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 4)
    train(model, [(torch.randn(8, 4), torch.randn(8, 4)) for _ in range(2)], torch.optim.SGD(model.parameters(), lr=0.1))
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight"]},
        ),
        Example(
            name="threshold-layer-built-from-the-parameter-as-a-python-number",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Shrink(nn.Module):
    def __init__(self):
        super().__init__()
        self.analysis = nn.Linear(6, 8)
        self.threshold = nn.Parameter(torch.tensor(0.1))
        self.synthesis = nn.Linear(8, 6)

    def forward(self, x):
        codes = self.analysis(x)
        shrunk = nn.Threshold(self.threshold.item(), 0.0)(codes)
        return self.synthesis(shrunk)


def main():
    torch.manual_seed(0)
    model = Shrink()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        x = torch.randn(8, 6)
        loss = F.l1_loss(model(x), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            lines=(15,),
            expect={"grad_none": ["model.threshold"], "grad_ok": ["model.analysis.weight"]},
            fixable=False,
        ),
        Example(
            bad=False,
            name="soft-threshold-computed-with-the-parameter-itself",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Shrink(nn.Module):
    def __init__(self):
        super().__init__()
        self.analysis = nn.Linear(6, 8)
        self.threshold = nn.Parameter(torch.tensor(0.1))
        self.synthesis = nn.Linear(8, 6)

    def forward(self, x):
        codes = self.analysis(x)
        shrunk = torch.sign(codes) * F.relu(codes.abs() - self.threshold)
        return self.synthesis(shrunk)


def main():
    torch.manual_seed(0)
    model = Shrink()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        x = torch.randn(8, 6)
        loss = F.l1_loss(model(x), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.threshold", "model.analysis.weight"]},
        ),
        Example(
            name="export-path-through-numpy-switched-on-by-a-config-dict",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Quantized(nn.Module):
    def __init__(self, export=False):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.export = export

    def forward(self, x):
        h = self.fc(x)
        if self.export:
            return torch.from_numpy(h.detach().numpy().round())
        return h


class Net(nn.Module):
    def __init__(self, export=False):
        super().__init__()
        self.body = Quantized(export=export)
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        return self.head(self.body(x))


def main():
    torch.manual_seed(0)
    cfg = {"export": True, "lr": 0.1}
    net = Net(export=cfg["export"])
    opt = torch.optim.SGD(net.parameters(), lr=cfg["lr"])
    opt.zero_grad()
    F.mse_loss(net(torch.randn(8, 4)), torch.randn(8, 1)).backward()
    opt.step()
    return {"net": net}
""",
            lines=(15,),
            fixable=False,
            expect={"grad_none": ["net.body.fc.weight"], "grad_ok": ["net.head.weight"]},
        ),
        Example(
            bad=False,
            name="export-path-through-numpy-switched-off-by-a-config-dict",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Quantized(nn.Module):
    def __init__(self, export=False):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.export = export

    def forward(self, x):
        h = self.fc(x)
        if self.export:
            return torch.from_numpy(h.detach().numpy().round())
        return h


class Net(nn.Module):
    def __init__(self, export=False):
        super().__init__()
        self.body = Quantized(export=export)
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        return self.head(self.body(x))


def main():
    torch.manual_seed(0)
    cfg = {"export": False, "lr": 0.1}
    net = Net(export=cfg["export"])
    opt = torch.optim.SGD(net.parameters(), lr=cfg["lr"])
    opt.zero_grad()
    F.mse_loss(net(torch.randn(8, 4)), torch.randn(8, 1)).backward()
    opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.body.fc.weight", "net.head.weight"]},
        ),
        Example(
            name="criterion-object-computes-the-loss-in-numpy",
            code="""import numpy as np
import torch
import torch.nn as nn


class SpectralDistance:
    def __init__(self, seed=0):
        self.proj = np.random.default_rng(seed).standard_normal((4, 4)).astype(np.float32)

    def __call__(self, prediction, target):
        est = prediction.detach().cpu().numpy()
        ref = target.detach().cpu().numpy()
        dist = np.abs((est - ref) @ self.proj).mean()
        return torch.tensor(dist, requires_grad=True)


class Enhancer(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 4)
        self.criterion = SpectralDistance()

    def training_loss(self, noisy, clean):
        return self.criterion(self.net(noisy), clean)


def main():
    torch.manual_seed(0)
    model = Enhancer()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    clean = torch.randn(16, 4)
    noisy = clean + 0.1 * torch.randn(16, 4)
    for _ in range(3):
        loss = model.training_loss(noisy, clean)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(11,),
            expect={"grad_none": ["model.net.weight", "model.net.bias"]},
            fixable=False,
        ),
        Example(
            bad=False,
            name="agent-object-keeps-log-probs-per-worker-and-rewraps-only-the-returns",
            code="""import numpy as np
import torch
import torch.nn as nn
from torch.distributions import Categorical


class Agent:
    def __init__(self, n_workers=2):
        self.policy = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2), nn.Softmax(dim=-1))
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=1e-2)
        self.eps = np.finfo(np.float32).eps.item()
        self.rewards = {}
        self.saved_log_probs = {}
        for w in range(n_workers):
            self.rewards[w] = []
            self.saved_log_probs[w] = []

    def select_action(self, worker, state):
        m = Categorical(self.policy(state))
        action = m.sample()
        self.saved_log_probs[worker].append(m.log_prob(action))
        return action.item()

    def report_reward(self, worker, reward):
        self.rewards[worker].append(reward)

    def finish_episode(self, gamma=0.99):
        R, probs, rewards = 0, [], []
        for w in self.rewards:
            probs.extend(self.saved_log_probs[w])
            rewards.extend(self.rewards[w])
        returns = []
        for r in rewards[::-1]:
            R = r + gamma * R
            returns.insert(0, R)
        returns = torch.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + self.eps)
        policy_loss = [-log_prob * R for log_prob, R in zip(probs, returns)]
        self.optimizer.zero_grad()
        torch.cat(policy_loss).sum().backward()
        self.optimizer.step()


def main():
    torch.manual_seed(0)
    agent = Agent()
    for step in range(4):
        for w in range(2):
            agent.select_action(w, torch.randn(1, 4))
            agent.report_reward(w, float(step % 3))
    agent.finish_episode()
    return {"policy": agent.policy}
""",
            expect={"grad_ok": ["policy.0.weight", "policy.2.weight"]},
        ),
        Example(
            bad=False,
            name="criterion-object-logs-a-numpy-metric-beside-a-torch-loss",
            code="""import numpy as np
import torch
import torch.nn as nn


class SpectralDistance:
    def __init__(self, seed=0):
        self.proj = np.random.default_rng(seed).standard_normal((4, 4)).astype(np.float32)
        self.history = []

    def __call__(self, prediction, target):
        est = prediction.detach().cpu().numpy()
        ref = target.detach().cpu().numpy()
        self.history.append(float(np.abs((est - ref) @ self.proj).mean()))
        return (prediction - target).pow(2).mean()


class Enhancer(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 4)
        self.criterion = SpectralDistance()

    def training_loss(self, noisy, clean):
        return self.criterion(self.net(noisy), clean)


def main():
    torch.manual_seed(0)
    model = Enhancer()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    clean = torch.randn(16, 4)
    noisy = clean + 0.1 * torch.randn(16, 4)
    for _ in range(3):
        loss = model.training_loss(noisy, clean)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.net.weight", "model.net.bias"]},
        ),
        Example(
            name="legacy-variable-rewrap",
            code="""import torch
import torch.nn as nn
from torch.autograd import Variable


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        out = model(torch.randn(8, 4))
        loss = Variable(out.pow(2).mean(), requires_grad=True)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(12,),
            expect={"grad_none": ["model.weight", "model.bias"]},
            fixable=False,
        ),
        Example(
            name="per-example-loss-summed-from-python-floats",
            code="""import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    model = nn.Linear(3, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        probas = F.softmax(model(torch.randn(5, 3)), dim=1)
        labels = torch.randint(0, 4, (5,))
        per_example = []
        for row, y in zip(probas.tolist(), labels.tolist()):
            per_example.append(sum(-math.log(1 - p + 1e-6) * abs(k - y) for k, p in enumerate(row)))
        loss = torch.tensor(per_example, requires_grad=True).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(16,),
            expect={"grad_none": ["model.weight", "model.bias"]},
            fixable=False,
        ),
        Example(
            bad=False,
            name="negated-python-weights-scale-a-tensor-loss",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    model = nn.Linear(3, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        logits = model(torch.randn(5, 3))
        labels = torch.randint(0, 4, (5,))
        confidence = logits.softmax(1).max(1).values.tolist()
        weights = torch.tensor([-(c - 2.0) for c in confidence])  # constants: no gradient through them, by design
        loss = (weights * F.cross_entropy(logits, labels, reduction="none")).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight", "model.bias"]},
        ),
        Example(
            bad=False,
            name="python-only-terms-filtered-by-isinstance",
            code="""import math

import torch
import torch.nn as nn


def dice_scale(terms):
    # only the terms that are plain numbers: no tensor goes through math.exp
    return math.exp(sum(t for t in terms if not isinstance(t, torch.Tensor)))


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    terms = [0.1, net(torch.randn(4, 3)).pow(2).mean(), -0.2]
    scale = dice_scale(terms)
    loss = scale * sum(t for t in terms if isinstance(t, torch.Tensor))
    loss.backward()
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight"]},
        ),
        Example(
            bad=False,
            name="constant-cost-skipped-by-requires-grad-guard",
            code="""import math

import torch
import torch.nn as nn


def dice_scale(terms):
    return math.exp(sum(t for t in terms if not isinstance(t, torch.Tensor)))


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    terms = [0.1, net(torch.randn(4, 3)).pow(2).mean(), -0.2]
    cost = dice_scale(terms) * torch.ones(())
    if cost.requires_grad:  # a cost with no tensor term: nothing to backpropagate, by design
        cost.backward()
    net(torch.randn(4, 3)).pow(2).mean().backward()
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight"]},
        ),
        Example(
            name="numpy-activation",
            code="""import numpy as np
import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    a, b = nn.Linear(3, 4), nn.Linear(4, 1)
    h = a(torch.randn(5, 3))
    h = torch.from_numpy(np.exp(h.detach().numpy()))
    loss = b(h).mean()
    loss.backward()
    return {"a": a, "b": b}
""",
            lines=(10,),
            expect={"grad_none": ["a.weight", "a.bias"], "grad_ok": ["b.weight"]},
        ),
        Example(
            name="loss-rewrapped-from-item",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 2)
    value = nn.functional.mse_loss(net(torch.randn(3, 4)), torch.zeros(3, 2))
    loss = torch.tensor(value.item(), requires_grad=True)
    loss.backward()
    return {"net": net}
""",
            lines=(9,),
            expect={"grad_none": ["net.weight", "net.bias"]},
        ),
        Example(
            name="tensor-from-tensors",
            code="""import torch


def main():
    p = torch.tensor(0.3, requires_grad=True)
    q = torch.tensor(0.9, requires_grad=True)
    v = torch.tensor([torch.sin(p), torch.sin(q)])
    (v * 2).sum().backward()
    return {"p": p, "q": q}
""",
            lines=(7,),
            expect={"error": "element 0 of tensors does not require grad"},
        ),
        Example(
            bad=False,
            name="item-for-logging",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    history = []
    for _ in range(3):
        out = net(torch.randn(8, 4))
        loss = out.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
        preds = out.detach().cpu().numpy().tolist()
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight"]},
        ),
        Example(
            bad=False,
            name="episode-list-filled-by-another-method",
            code="""import numpy as np
import torch
import torch.nn as nn


class Agent:
    def __init__(self, config):
        self.discount_rate = config["discount_rate"]
        self.policy = nn.Linear(4, 2)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=1e-2)
        self.rewards = []
        self.log_probs = []

    def act(self, state):
        dist = torch.distributions.Categorical(logits=self.policy(state))
        action = dist.sample()
        self.log_probs.append(dist.log_prob(action))
        self.rewards.append(1.0)

    def returns(self):
        discounts = self.discount_rate ** np.arange(len(self.rewards))
        out = np.cumsum((discounts * np.array(self.rewards))[::-1])[::-1].copy()
        return (out - np.mean(out)) / (np.std(out) + 1e-5)

    def learn(self):
        returns = torch.tensor(self.returns(), dtype=torch.float32)
        loss = -(torch.stack(self.log_probs) * returns).sum()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()


def main():
    torch.manual_seed(0)
    agent = Agent({"discount_rate": 0.99})
    for _ in range(5):
        agent.act(torch.randn(4))
    agent.learn()
    return {"policy": agent.policy}
""",
            expect={"grad_ok": ["policy.weight"]},
        ),
        Example(
            bad=False,
            name="numpy-inside-autograd-function",
            code="""import numpy as np
import torch


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.from_numpy(np.power(x.detach().numpy(), 3))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2


def main():
    x = torch.randn(4, dtype=torch.float64, requires_grad=True)
    Cube.apply(x).sum().backward()
    return {"x": x}
""",
            expect={"grad_ok": ["x"]},
        ),
        Example(
            name="loss-computed-in-numpy-by-a-helper-then-rewrapped",
            code="""import numpy as np
import torch
import torch.nn as nn


def brier_np(probs, targets):
    onehot = np.eye(probs.shape[1])[targets]
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))


def brier_loss(logits, targets):
    probs = torch.softmax(logits, dim=1).detach().numpy()
    return torch.tensor(brier_np(probs, targets.numpy()), requires_grad=True)


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
    opt.zero_grad()
    loss = brier_loss(model(x), y)
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(12,),
            fixable=False,
            expect={"grad_none": ["model.weight", "model.bias"]},
        ),
        Example(
            bad=False,
            name="numpy-metric-beside-a-torch-loss",
            code="""import numpy as np
import torch
import torch.nn as nn


def brier_np(probs, targets):
    onehot = np.eye(probs.shape[1])[targets]
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))


def brier_loss(logits, targets):
    probs = torch.softmax(logits, dim=1)
    onehot = torch.eye(probs.shape[1])[targets]
    return ((probs - onehot) ** 2).sum(dim=1).mean()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
    opt.zero_grad()
    logits = model(x)
    loss = brier_loss(logits, y)
    logged = torch.tensor(brier_np(torch.softmax(logits, dim=1).detach().numpy(), y.numpy()))
    loss.backward()
    opt.step()
    return {"model": model}, {"logged_matches": bool(torch.isclose(logged, loss.detach().float()))}
""",
            expect={"grad_ok": ["model.weight", "model.bias"], "facts": {"logged_matches": True}},
        ),
        Example(
            name="loss-from-a-numpy-overlap-add-accumulated-in-place",
            code="""import numpy as np
import torch
import torch.nn as nn


def overlap_add(frames, hop=2):
    out = np.zeros(hop * (len(frames) - 1) + frames.shape[1])
    for i, frame in enumerate(frames):
        out[i * hop:i * hop + len(frame)] += frame
    return out


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    est = model(torch.randn(3, 4))
    loss = torch.tensor(overlap_add(est.detach().numpy()).mean(), requires_grad=True)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(18,), fixable=False,
            expect={"grad_none": ["model.weight"]},
        ),
        Example(
            bad=False,
            name="numpy-overlap-add-only-for-a-printed-metric",
            code="""import numpy as np
import torch
import torch.nn as nn


def overlap_add(frames, hop=2):
    out = np.zeros(hop * (len(frames) - 1) + frames.shape[1])
    for i, frame in enumerate(frames):
        out[i * hop:i * hop + len(frame)] += frame
    return out


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    est = model(torch.randn(3, 4))
    loss = est.pow(2).mean()
    print(overlap_add(est.detach().numpy()).mean())
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight"]},
        ),
        Example(
            name="loss-terms-packed-with-as-tensor-of-a-list",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(8, 4)
    a = model(x).pow(2).mean()
    b = model(x).abs().mean()
    losses = torch.as_tensor([a, b])
    losses.requires_grad = True
    loss = (losses * torch.tensor([1.0, 0.5])).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(12,), fixable=False,
            expect={"grad_none": ["model.weight"]},
        ),
        Example(
            bad=False,
            name="loss-terms-stacked-as-tensor-of-one-tensor-kept",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(8, 4)
    a = model(x).pow(2).mean()
    b = model(x).abs().mean()
    losses = torch.stack([torch.as_tensor(a), b])
    loss = (losses * torch.tensor([1.0, 0.5])).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight"]},
        ),
        Example(
            name="numpy-round-trip-in-a-closure-over-the-model",
            code="""import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def euler_integrate(f, y0, dt, steps):
    def rhs(y):
        return f(torch.from_numpy(y).float()).detach().numpy()
    ys, y = [], y0
    for _ in range(steps):
        y = y + dt * rhs(y)
        ys.append(y)
    return torch.from_numpy(np.stack(ys, axis=1)).float()


def main():
    torch.manual_seed(0)
    f = nn.Linear(2, 2)
    opt = torch.optim.SGD(f.parameters(), lr=0.1)
    y0 = np.ones((4, 2))
    pred = euler_integrate(f, y0, 0.1, 5)
    loss = F.mse_loss(pred, torch.zeros(4, 5, 2))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"f": f}
""",
            lines=(9,),
            expect={'error': 'does not require grad'},
            fixable=False,
        ),
        Example(
            bad=False,
            name="closure-over-the-model-keeps-tensors-numpy-only-for-the-log",
            code="""import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def euler_integrate(f, y0, dt, steps):
    def rhs(y):
        return f(y)
    ys, y = [], torch.from_numpy(y0).float()
    for _ in range(steps):
        y = y + dt * rhs(y)
        ys.append(y)
    log = np.stack([s.detach().numpy() for s in ys], axis=1)
    return torch.stack(ys, dim=1), log


def main():
    torch.manual_seed(0)
    f = nn.Linear(2, 2)
    opt = torch.optim.SGD(f.parameters(), lr=0.1)
    y0 = np.ones((4, 2))
    pred, log = euler_integrate(f, y0, 0.1, 5)
    loss = F.mse_loss(pred, torch.zeros(4, 5, 2))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"f": f}, {"logged_steps": int(log.shape[1])}
""",
            expect={'grad_ok': ['f.weight'], 'facts': {'logged_steps': 5}},
        ),
        Example(
            name="autograd-grad-input-cut-by-numpy",
            code="""import torch
import torch.nn as nn


def displacements(pos):
    p = pos.detach().numpy()
    diff = p[None, :, :] - p[:, None, :]
    return torch.as_tensor(diff, dtype=pos.dtype)


class PairEnergy(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))

    def forward(self, pos):
        d = (displacements(pos).pow(2).sum(-1) + 1e-6).sqrt()
        return self.net(d[..., None]).sum()


def main():
    torch.manual_seed(0)
    model = PairEnergy()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):
        pos = torch.randn(5, 3).requires_grad_(True)
        energy = model(pos)
        forces = -torch.autograd.grad(energy, pos, create_graph=True)[0]
        loss = energy.pow(2) + forces.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(6,),
            expect={'error': 'appears to not have been used in the graph'},
            fixable=False,
        ),
        Example(
            bad=False,
            name="rollout-buffer-of-numbers-rewrapped",
            code="""import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class PPO(nn.Module):
    def __init__(self):
        super().__init__()
        self.data = []
        self.fc = nn.Linear(4, 16)
        self.pi_head = nn.Linear(16, 2)
        self.v_head = nn.Linear(16, 1)
        self.optimizer = torch.optim.Adam(self.parameters(), lr=1e-3)

    def pi(self, x):
        return F.softmax(self.pi_head(F.relu(self.fc(x))), dim=-1)

    def v(self, x):
        return self.v_head(F.relu(self.fc(x)))

    def put_data(self, transition):
        self.data.append(transition)

    def make_batch(self):
        s_lst, a_lst, r_lst, prob_lst = [], [], [], []
        for s, a, r, prob_a in self.data:
            s_lst.append(s)
            a_lst.append([a])
            r_lst.append([r])
            prob_lst.append([prob_a])
        self.data = []
        return (torch.tensor(np.array(s_lst), dtype=torch.float), torch.tensor(a_lst),
                torch.tensor(r_lst, dtype=torch.float), torch.tensor(prob_lst, dtype=torch.float))

    def train_net(self):
        s, a, r, prob_a = self.make_batch()
        pi_a = self.pi(s).gather(1, a)
        ratio = torch.exp(torch.log(pi_a) - torch.log(prob_a))
        adv = (r - self.v(s)).detach()
        loss = -torch.min(ratio * adv, torch.clamp(ratio, 0.9, 1.1) * adv) + F.smooth_l1_loss(self.v(s), r)
        self.optimizer.zero_grad()
        loss.mean().backward()
        self.optimizer.step()


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = PPO()
    for _ in range(2):
        for _ in range(5):
            s = rng.standard_normal(4).astype(np.float32)
            prob = model.pi(torch.from_numpy(s))
            a = torch.distributions.Categorical(prob).sample().item()
            model.put_data((s, a, float(rng.random()), prob[a].item()))
        model.train_net()
    return {"model": model}
""",
            expect={'grad_ok': ['model.fc.weight', 'model.pi_head.weight']},
        ),
        Example(
            bad=False,
            name="state-dict-of-a-model-from-a-factory-compared-in-numpy",
            code="""import copy

import torch
import torch.nn as nn


def build_and_fit(width):
    net = nn.Linear(width, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(3):
        loss = (net(torch.randn(16, width)) - 1.0).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net


class CopyCheck:
    def __init__(self, factory, width=4):
        self.factory = factory
        self.width = width

    def run(self):
        model = self.factory(self.width)
        twin = copy.deepcopy(model)
        same = all((model.state_dict()[k].cpu().numpy() == twin.state_dict()[k].cpu().numpy()).all() for k in model.state_dict())
        loss = twin(torch.randn(2, self.width)).sum()
        loss.backward()
        return twin, bool(same)


def main():
    torch.manual_seed(0)
    twin, same = CopyCheck(build_and_fit).run()
    return {"twin": twin}, {"same": same}
""",
            expect={'grad_ok': ['twin.bias', 'twin.weight'], 'facts': {'same': True}},
        ),
    )

    cut_kinds = frozenset({"numpy", "item", "tolist", "python", "rewrap"})  # the GradientFlow cut kinds this rule reports

    def check(self, facts):
        def describe(kind, node, st):
            if kind == "numpy" and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "numpy":
                return "The round trip through NumPy (`.numpy()`)"
            if kind == "numpy":
                return f"The NumPy call `{_short(facts, node)}`"
            if kind == "item":
                return f"Converting to a Python number (`{_short(facts, node)}`)"
            if kind == "tolist":
                return "Converting to a Python list (`.tolist()`)"
            if kind == "python":
                return f"Converting to a Python number (`{_short(facts, node)}`)"
            return f"Re-wrapping with `{_short(facts, node)}`"

        def fixes_for(kind, node, st):
            return [lambda: _fix(facts, kind, node)]

        raised = list(_numpy_of_grad_tensors(self, facts))
        yield from (f for f, _node in raised)
        # (the same ``.numpy()`` is not reported again as a cut: it raises before any gradient is lost)
        found = list(cut_findings(self, facts, self.cut_kinds, describe, fixes_for, skip={id(node) for _f, node in raised}))
        yield from found
        # a term of a loss that still trains through its other terms, left a constant by the round trip
        # (once per line: a cut already reported as starving parameters is that finding)
        done = {f.start.line for f in found} | {f.start.line for f, _node in raised}
        yield from (f for f in dead_term_findings(self, facts, lambda kind, node: describe(kind, node, None)) if f.start.line not in done)


def _numpy_of_grad_tensors(rule, facts):
    """``pred.numpy()`` in training code (a function that backpropagates, or a loss a framework backpropagates) on a tensor
    computed with grad on from parameters that are not frozen: torch raises ``Can't call numpy() on Tensor that requires
    grad`` right there, whatever the loss does with the result. Reported once per call, as an error: (finding, call)."""
    if ".numpy()" not in facts.source.text:
        return
    frozen = frozen_paths(facts)
    seen: set = set()
    for fl in facts.backward_flows:
        if not fl.loss_sites or facts.flow.is_autograd_function_method(fl.node):
            continue
        for ev in fl.events:
            if ev.what != "numpy_of_grad_tensor" or ev.target is None or id(ev.node) in seen or not ev.mode.enabled:
                continue
            roots = sorted(r for r in ev.target.live if r != "?" and not r.startswith("arg:") and not is_frozen(r, frozen))
            if not roots:
                continue
            seen.add(id(ev.node))
            yield rule.finding(
                facts,
                ev.node,
                f"`{_short(facts, ev.node)}` is called on a tensor that requires grad (computed from {roots_label(roots)}): torch raises "
                "`Can't call numpy() on Tensor that requires grad` here",
                severity=Severity.ERROR,
                related=[(site.node, "in training code: gradients are recorded here") for site in fl.loss_sites[:1]],
                explanation="A tensor computed from parameters that require grad carries autograd history, and `.numpy()` refuses it. "
                "Keep the computation in torch (so the gradient flows through it), or call `.detach().numpy()` where the value is only "
                "for logging or metrics.",
            ), ev.node


def _keep_given_tensor(facts, call: ast.Call):
    """``self.weight = nn.Parameter(weight)`` in a Module's ``__init__``, with ``weight`` a tensor the constructor is
    given (computed by another network): keep that tensor, history and all, as a plain attribute."""
    init = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef))
    st = facts.parent(call)
    if init is None or init.name != "__init__" or len(call.args) != 1 or call.keywords or not isinstance(call.args[0], ast.Name):
        return None
    if call.args[0].id not in {a.arg for a in init.args.args[1:]} or not (isinstance(st, ast.Assign) and st.value is call):
        return None
    return fix(f"Keep the given tensor `{call.args[0].id}` (its history) instead of a new Parameter", replace_node(facts, call, call.args[0].id), unsafe=True)


def _short(facts, node) -> str:
    text = facts.text(node).replace("\n", " ")
    return text if len(text) <= 40 else text[:37] + "..."


def _strip_to_tensor(facts, node: ast.AST):
    """``h.detach().cpu().numpy()`` -> the ``h`` node; None when the chain is anything else."""
    cur = node
    while isinstance(cur, ast.Call) and isinstance(cur.func, ast.Attribute) and cur.func.attr in ("numpy", "detach", "cpu", "clone"):
        cur = cur.func.value
    return cur if cur is not node else None


def _made_leaf_after(facts, call: ast.AST) -> bool:
    """``x = torch.tensor([...])`` followed in the same function by ``x.requires_grad = True`` / ``x.requires_grad_()``:
    the name is made a leaf after the re-wrap (which a non-leaf would not allow)."""
    st = facts.parent(call)
    if not (isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name)):
        return False
    name = st.targets[0].id
    scope = facts.enclosing(st, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    for n in walk_nodes(scope):
        if isinstance(n, ast.Attribute) and n.attr in ("requires_grad", "requires_grad_") and isinstance(n.value, ast.Name) and n.value.id == name and n.lineno > st.lineno:
            return True
    return False


def _torchify(facts, node: ast.AST, torch_name: str):
    """Rewrite an expression made of np.<ufunc>(...) calls over ``t.detach().numpy()`` into torch calls."""
    if isinstance(node, ast.Call):
        q = facts.imports.qualname(node.func) or ""
        if q.startswith("numpy."):
            fname = q.split(".", 1)[1]
            if fname not in NUMPY_TO_TORCH or node.keywords:
                return None
            args = [_torchify(facts, a, torch_name) for a in node.args]
            if any(a is None for a in args):
                return None
            return f"{torch_name}.{RENAMED.get(fname, fname)}({', '.join(args)})"
        inner = _strip_to_tensor(facts, node)
        if inner is not None:
            return facts.text(inner)
    if isinstance(node, (ast.Constant, ast.Name, ast.Attribute, ast.BinOp, ast.UnaryOp, ast.Subscript)):
        return facts.text(node)
    return None


def _fix(facts, kind: str, node: ast.AST):
    torch_name = alias_for(facts, "torch")
    if torch_name is None:
        return None
    if kind == "rewrap" and isinstance(node, ast.Call) and (facts.imports.qualname(node.func) or "") in PARAMETER_CTORS:
        return _keep_given_tensor(facts, node)
    # climb to the outermost NumPy call / torch re-wrapper around the round trip
    top = node
    while True:
        parent = facts.parent(top)
        if isinstance(parent, ast.Call) and top in parent.args:
            q = facts.imports.qualname(parent.func) or ""
            if q.startswith("numpy.") or q in WRAPPERS:
                top = parent
                continue
        break
    if isinstance(top, ast.Call):
        q = facts.imports.qualname(top.func) or ""
        if q in WRAPPERS and top.args:
            arg = top.args[0]
            if kind == "item" and isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "item":
                return fix("Use the tensor itself instead of re-wrapping its value", replace_node(facts, top, facts.text(arg.func.value)), unsafe=True)
            if kind == "rewrap" and isinstance(arg, (ast.List, ast.Tuple)) and arg.elts and not any(isinstance(e, (ast.List, ast.Tuple, ast.Constant)) for e in arg.elts):
                if _made_leaf_after(facts, top):
                    return None  # (``losses.requires_grad = True`` after it would raise on the stacked non-leaf: two edits)
                return fix("Use torch.stack to keep the graph", replace_node(facts, top, f"{torch_name}.stack({facts.text(arg)})"), unsafe=True)
            body = _torchify(facts, arg, torch_name)
            if body is not None and body != facts.text(arg):
                return fix("Compute with torch ops instead of NumPy", replace_node(facts, top, body), unsafe=True)
            return None
        # only where the value goes straight back into torch: stored, it may feed NumPy code that a tensor
        # requiring grad would make raise (``np.percentile(t)``)
        parent = facts.parent(top)
        pq = (facts.imports.qualname(parent.func) or "") if isinstance(parent, ast.Call) else ""
        if not pq.startswith("torch."):
            return None
        body = _torchify(facts, top, torch_name)
        if body is not None and body != facts.text(top):
            return fix("Compute with torch ops instead of NumPy", replace_node(facts, top, body), unsafe=True)
    return None
