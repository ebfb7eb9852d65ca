"""GG701 inplace-on-leaf: an in-place op on a leaf that requires grad, with gradient recording on."""
from __future__ import annotations

import ast
import re
from functools import partial

from gradguard.core.astindex import walk_nodes
from gradguard.core.facts import INPLACE_SYNTAX
from gradguard.core.model import Applicability, Edit, Severity
from gradguard.core.starvation import frozen_paths, is_frozen
from gradguard.core.torchapi import LAYER_PARAMETERS
from gradguard.fixes import alias_for, drop_inplace, fix, inplace_flag, line_indent
from gradguard.rules._leafs import call_sites, freezes_anything, inference_branch, known_roots, lexically_no_grad
from gradguard.rules.base import Example, Rule

INPLACE_MATH = {
    "add_", "sub_", "mul_", "div_", "zero_", "fill_", "copy_", "clamp_", "clamp_min_", "clamp_max_", "clip_",
    "normal_", "uniform_", "masked_fill_", "index_fill_", "scatter_", "scatter_add_", "index_add_", "index_copy_",
    "exp_", "log_", "pow_", "sqrt_", "abs_", "neg_", "addcmul_", "addcdiv_", "lerp_", "fill_diagonal_",
    "bernoulli_", "exponential_", "random_", "masked_scatter_", "put_", "sign_", "floor_", "round_", "t_",
    "addmm_", "baddbmm_", "renorm_", "tanh_", "sigmoid_", "relu_", "squeeze_", "unsqueeze_", "transpose_",
}


# a scope can only hold a requires-grad leaf when it creates one, iterates parameters, or touches .grad
_LEAF_HINT = re.compile(r"requires_grad|Parameter|parameters\(|\.grad\b")
_SELF_ATTR_ARG = re.compile(r"\(\s*self\.\w+\s*[,)]")  # ``self.act(self.weight)``
# ``self.embed.weight[0] = 0.0``: the parameter a torch layer held on ``self`` registers (``nn.Embedding(...).weight``)
_LAYER_PARAMETER = re.compile(r"self\.\w+\.(?:{})\b".format("|".join(sorted({p for ps in LAYER_PARAMETERS.values() for p in ps}))))


class InplaceOnLeaf(Rule):
    code = "GG701"
    name = "inplace-on-leaf"
    summary = "An in-place operation on a leaf tensor that requires grad, outside `torch.no_grad()`: it raises."
    severity = Severity.ERROR
    needs = ("requires_grad", "Parameter", "parameters", ".weight")
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags in-place modifications (`p -= lr * p.grad`, `w.add_(...)`, `w.zero_()`, `x[i] = v`, an
`nn.ReLU(inplace=True)` module applied to a parameter) of a leaf that requires grad (a parameter from `model.parameters()`, a `requires_grad=True` tensor,
the weight a torch layer registers: `self.embed.weight[0] = 0.0` for `self.embed = nn.Embedding(...)`) while gradient
recording is on. A helper function that updates parameters is flagged when every call site in the file
runs with gradients enabled; the call site is shown. A file that freezes parameters (`requires_grad_(False)`, or
`p.detach_()` over `model.parameters()`, which clears `requires_grad` in place: an EMA copy) leaves elements of
`parameters()` alone: which of them still require grad is not known. Silent under `torch.no_grad()` /
`inference_mode()`, for `nn.init.*` (which disables gradients itself), after `.detach()` / `.clone()`
/ `.data`, and for parameters when the file freezes parameters somewhere (they may not require grad).

## Why is this bad?
Autograd refuses to modify a leaf that requires grad in place, because the change could not be
differentiated: `RuntimeError: a leaf Variable that requires grad is being used in an in-place
operation` (or `a view of a leaf Variable ...` for index assignment).

## Example
```python
def sgd_step(model, lr):
    for p in model.parameters():
        p -= lr * p.grad
```

## Use instead
```python
def sgd_step(model, lr):
    for p in model.parameters():
        with torch.no_grad():
            p -= lr * p.grad
```

## Fix safety
Wrapping the update in `torch.no_grad()` is safe for gradient steps (the statement uses `.grad`): it is
exactly what a parameter update needs. For other in-place ops the same fix is offered as unsafe, since
the intended meaning (initialization vs. a differentiable edit) is for you to decide; index assignment
into a leaf gets no automatic fix (build the tensor out of place, or write into a `.clone()`).
"""
    examples = (
        Example(
            name="helper-edits-columns-of-a-nested-layer-weight",
            code="""import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, dim=8, hidden=16):
        super().__init__()
        self.up = nn.Linear(dim, hidden)
        self.down = nn.Linear(hidden, dim)

    def forward(self, x):
        return x + self.down(torch.relu(self.up(x)))


class Net(nn.Module):
    def __init__(self, depth=2):
        super().__init__()
        self.blocks = nn.ModuleList(Block() for _ in range(depth))
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def prune_neurons(model, layer, neurons):
    proj = model.blocks[layer].down
    for j in neurons:
        proj.weight[:, j] *= 0.0


def main():
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    prune_neurons(model, 1, [2, 5])
    loss = model(torch.randn(4, 8)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"model": model}
""",
            lines=(30,),
            expect={"error": "a view of a leaf Variable that requires grad is being used in an in-place operation"},
        ),
        Example(
            bad=False,
            name="helper-edits-columns-of-a-nested-layer-weight-under-no-grad",
            code="""import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, dim=8, hidden=16):
        super().__init__()
        self.up = nn.Linear(dim, hidden)
        self.down = nn.Linear(hidden, dim)

    def forward(self, x):
        return x + self.down(torch.relu(self.up(x)))


class Net(nn.Module):
    def __init__(self, depth=2):
        super().__init__()
        self.blocks = nn.ModuleList(Block() for _ in range(depth))
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


@torch.no_grad()
def prune_neurons(model, layer, neurons):
    proj = model.blocks[layer].down
    for j in neurons:
        proj.weight[:, j] *= 0.0


def main():
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    prune_neurons(model, 1, [2, 5])
    loss = model(torch.randn(4, 8)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.blocks.1.down.weight", "model.head.weight"]},
        ),
        Example(
            name="noise-added-in-place-to-a-prompt-parameter-in-a-model-that-freezes-its-encoder",
            code="""import torch
import torch.nn as nn


class PromptModel(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder.requires_grad_(False)
        self.prompt = nn.Parameter(torch.randn(2, 4) * 0.1)
        self.head = nn.Linear(4, 1)

    def prompts(self):
        prompt = self.prompt
        if self.training:
            prompt += 0.01 * torch.randn_like(prompt)
        return prompt

    def forward(self, x):
        return self.head(self.encoder(torch.cat([self.prompts(), x])))


def main():
    torch.manual_seed(0)
    model = PromptModel(nn.Linear(4, 4))
    model.train()
    model(torch.randn(3, 4)).sum().backward()
    return {"model": model}
""",
            lines=(15,),
            expect={"error": "a leaf Variable that requires grad"},
        ),
        Example(
            bad=False,
            name="noise-added-in-place-to-a-prompt-parameter-that-is-frozen",
            code="""import torch
import torch.nn as nn


class PromptModel(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder.requires_grad_(False)
        self.prompt = nn.Parameter(torch.randn(2, 4) * 0.1)
        self.prompt.requires_grad_(False)  # a fixed random prompt: noise added in place is fine
        self.head = nn.Linear(4, 1)

    def prompts(self):
        prompt = self.prompt
        if self.training:
            prompt += 0.01 * torch.randn_like(prompt)
        return prompt

    def forward(self, x):
        return self.head(self.encoder(torch.cat([self.prompts(), x])))


def main():
    torch.manual_seed(0)
    model = PromptModel(nn.Linear(4, 4))
    model.train()
    model(torch.randn(3, 4)).sum().backward()
    return {"model": model}
""",
            expect={"grad_ok": ["model.head.weight"], "grad_none": ["model.prompt"]},
        ),
        Example(
            name="noise-added-in-place-to-an-alias-of-a-registered-parameter",
            code="""import torch
import torch.nn as nn


class PromptHead(nn.Module):
    def __init__(self, n_prompt=4, dim=8):
        super().__init__()
        self.soft_prompt = nn.Parameter(torch.randn(n_prompt, dim) * 0.1)
        self.head = nn.Linear(dim, 2)

    def prompt_embeddings(self):
        prompt = self.soft_prompt
        if self.training:
            prompt += 0.05 * torch.randn_like(prompt)
        return prompt

    def forward(self, x):
        return self.head(x + self.prompt_embeddings().mean(0))


def main():
    torch.manual_seed(0)
    model = PromptHead()
    model(torch.randn(5, 8)).pow(2).mean().backward()
    return {"model": model}
""",
            lines=(14,),
            expect={"error": "leaf Variable that requires grad"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="noise-added-out-of-place-to-an-alias-of-a-registered-parameter",
            code="""import torch
import torch.nn as nn


class PromptHead(nn.Module):
    def __init__(self, n_prompt=4, dim=8):
        super().__init__()
        self.soft_prompt = nn.Parameter(torch.randn(n_prompt, dim) * 0.1)
        self.head = nn.Linear(dim, 2)

    def prompt_embeddings(self):
        prompt = self.soft_prompt
        if self.training:
            prompt = prompt + 0.05 * torch.randn_like(prompt)
        return prompt

    def forward(self, x):
        return self.head(x + self.prompt_embeddings().mean(0))


def main():
    torch.manual_seed(0)
    model = PromptHead()
    model(torch.randn(5, 8)).pow(2).mean().backward()
    return {"model": model}
""",
            expect={"grad_ok": ["model.soft_prompt", "model.head.weight"]},
        ),
        Example(
            name="pgd-step-then-projection",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def pgd(model, images, labels, eps=0.3, alpha=0.05, steps=2):
    delta = torch.empty_like(images).uniform_(-eps, eps).requires_grad_(True)
    for _ in range(steps):
        loss = F.cross_entropy(model(images + delta), labels)
        (grad,) = torch.autograd.grad(loss, delta)
        delta += alpha * grad.sign()
        delta.clamp_(-eps, eps)  # project back onto the eps-ball
    return (images + delta).detach()


def main():
    torch.manual_seed(0)
    model = nn.Linear(8, 3)
    adv = pgd(model, torch.rand(4, 8), torch.tensor([0, 1, 2, 0]))
    F.cross_entropy(model(adv), torch.tensor([0, 1, 2, 0])).backward()
    return {"model": model}
""",
            lines=(11,),
            expect={"error": "a leaf Variable that requires grad is being used in an in-place operation"},
            fixed_expect={"error": None, "grad_ok": ["model.weight"]},
        ),
        Example(
            name="in-place-activation-module-on-a-parameter",
            code="""import torch
import torch.nn as nn


class WeightedSum(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(2))
        self.act = nn.ReLU(inplace=True)
        self.proj = nn.Linear(4, 4)

    def forward(self, a, b):
        w = self.act(self.weight)
        w = w / (w.sum() + 1e-4)
        return self.proj(w[0] * a + w[1] * b)


def main():
    torch.manual_seed(0)
    model = WeightedSum()
    out = model(torch.randn(3, 4), torch.randn(3, 4))
    out.pow(2).mean().backward()
    return {"model": model}
""",
            lines=(13,),
            fixable=False,
            expect={"error": "a leaf Variable that requires grad is being used in an in-place operation"},
        ),
        Example(
            bad=False,
            name="in-place-activation-module-on-activations",
            code="""import torch
import torch.nn as nn


class WeightedSum(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(2))
        self.act = nn.ReLU(inplace=True)
        self.proj = nn.Linear(4, 4)

    def forward(self, a, b):
        w = torch.relu(self.weight)
        w = w / (w.sum() + 1e-4)
        return self.act(self.proj(w[0] * a + w[1] * b))


def main():
    torch.manual_seed(0)
    model = WeightedSum()
    out = model(torch.randn(3, 4), torch.randn(3, 4))
    out.pow(2).mean().backward()
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight", "model.proj.weight"]},
        ),
        Example(
            bad=False,
            name="running-statistic-kept-as-a-frozen-parameter",
            code="""import torch
import torch.nn as nn


class PathLengthPenalty(nn.Module):
    def __init__(self, beta=0.99):
        super().__init__()
        self.beta = beta
        self.steps = nn.Parameter(torch.tensor(0.0), requires_grad=False)
        self.mean_norm = nn.Parameter(torch.tensor(0.0), requires_grad=False)
        self.proj = nn.Linear(4, 4)

    def forward(self, x):
        norm = self.proj(x).norm(dim=1)
        loss = ((norm - self.mean_norm) ** 2).mean()
        self.mean_norm.mul_(self.beta).add_(norm.mean().detach(), alpha=1 - self.beta)
        self.steps.add_(1.0)
        return loss


def main():
    torch.manual_seed(0)
    penalty = PathLengthPenalty()
    for _ in range(2):
        penalty(torch.randn(5, 4)).backward()
    return {"penalty": penalty}
""",
            expect={"grad_ok": ["penalty.proj.weight"]},
        ),
        Example(
            bad=False,
            name="ema-helper-called-under-no-grad",
            code="""import torch
import torch.nn as nn


class EMA:
    def __init__(self, model):
        self.model = model
        self.shadow = nn.Linear(4, 1)

    def _blend(self, beta):
        for p, s in zip(self.model.parameters(), self.shadow.parameters()):
            s.copy_(beta * s + (1 - beta) * p)

    @torch.no_grad()
    def update(self, beta=0.9):
        self._blend(beta)


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    ema = EMA(model)
    model(torch.randn(8, 4)).pow(2).mean().backward()
    ema.update()
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight"]},
        ),
        Example(
            name="manual-sgd-helper",
            code="""import torch
import torch.nn as nn


def apply_update(net, step):
    for p in net.parameters():
        p -= step * p.grad
        p.grad = None


def main():
    torch.manual_seed(0)
    net = nn.Linear(2, 2)
    for _ in range(2):
        loss = net(torch.randn(5, 2)).pow(2).mean()
        loss.backward()
        apply_update(net, 0.1)
    loss = net(torch.randn(5, 2)).pow(2).mean()
    loss.backward()
    return {"net": net}
""",
            lines=(7,),
            expect={"error": "a leaf Variable that requires grad is being used in an in-place operation"},
        ),
        Example(
            name="index-assign-into-leaf",
            code="""import torch


def main():
    offsets = torch.zeros(4, requires_grad=True)
    offsets[0] = 2.0
    (offsets * torch.arange(4.0)).sum().backward()
    return {"offsets": offsets}
""",
            lines=(6,),
            expect={"error": "a view of a leaf Variable that requires grad is being used in an in-place operation"},
            fixable=False,
        ),
        Example(
            name="padding-row-zeroed-in-forward",
            code="""import torch
import torch.nn as nn


class BagOfWords(nn.Module):
    def __init__(self, vocab=20, dim=8):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.head = nn.Linear(dim, 2)

    def forward(self, tokens):
        self.embed.weight[0] = 0.0  # keep the padding row at zero
        return self.head(self.embed(tokens).mean(dim=1))


def main():
    torch.manual_seed(0)
    model = BagOfWords()
    model(torch.randint(0, 20, (4, 6))).pow(2).mean().backward()
    return {"model": model}
""",
            lines=(12,),
            expect={"error": "a view of a leaf Variable that requires grad is being used in an in-place operation"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="padding-row-kept-by-padding-idx-or-zeroed-without-recording",
            code="""import torch
import torch.nn as nn


class BagOfWords(nn.Module):
    def __init__(self, vocab=20, dim=8):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=0)
        self.proj = nn.Linear(dim, dim)
        with torch.no_grad():
            self.proj.weight[0] = 0.0
        self.head = nn.Linear(dim, 2)

    def forward(self, tokens):
        self.embed.weight.data[1] = 0.0
        return self.head(self.proj(self.embed(tokens).mean(dim=1)))


def main():
    torch.manual_seed(0)
    model = BagOfWords()
    model(torch.randint(0, 20, (4, 6))).pow(2).mean().backward()
    return {"model": model}
""",
            expect={"grad_ok": ["model.embed.weight", "model.proj.weight", "model.head.weight"]},
        ),
        Example(
            name="init-without-no-grad",
            code="""import torch


def main():
    torch.manual_seed(0)
    w = torch.empty(3, 2, requires_grad=True)
    w.uniform_(-0.1, 0.1)
    x = torch.randn(4, 3)
    (x @ w).pow(2).sum().backward()
    return {"w": w}
""",
            lines=(7,),
            expect={"error": "a leaf Variable that requires grad is being used in an in-place operation"},
        ),
        Example(
            bad=False,
            name="updates-under-no-grad",
            code="""import torch
import torch.nn as nn


@torch.no_grad()
def apply_update(net, step):
    for p in net.parameters():
        p -= step * p.grad


def main():
    torch.manual_seed(0)
    net = nn.Linear(2, 2)
    w = torch.zeros(2, requires_grad=True)
    nn.init.normal_(w)
    with torch.no_grad():
        net.bias.zero_()
        w.mul_(0.5)
    x = w.detach().clone()
    x[0] = 1.0
    loss = (net(torch.randn(5, 2)) * w).pow(2).mean()
    loss.backward()
    apply_update(net, 0.1)
    loss = (net(torch.randn(5, 2)) * w).pow(2).mean()
    loss.backward()
    return {"net": net, "w": w}
""",
            expect={"grad_ok": ["net.weight", "w"]},
        ),
        Example(
            name="linear-subclass-modifies-its-weight-in-forward",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class PositiveLinear(nn.Linear):
    def forward(self, x):
        self.weight.abs_()
        return F.linear(x, self.weight, self.bias)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(PositiveLinear(3, 4), nn.Tanh(), PositiveLinear(4, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    model(torch.randn(8, 3)).pow(2).mean().backward()
    opt.step()
    return {"model": model}
""",
            lines=(8,),
            expect={"error": "a leaf Variable that requires grad is being used in an in-place operation"},
        ),
        Example(
            bad=False,
            name="layer-subclasses-reparameterize-or-clamp-under-no-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class PositiveLinear(nn.Linear):
    def forward(self, x):
        return F.linear(x, self.weight.abs(), self.bias)


class ClampedConv(nn.Conv1d):
    def forward(self, x):
        with torch.no_grad():
            self.weight.clamp_(-1.0, 1.0)
        return super().forward(x)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(PositiveLinear(3, 4), nn.Tanh(), PositiveLinear(4, 1))
    conv = ClampedConv(2, 2, 3)
    opt = torch.optim.SGD([*model.parameters(), *conv.parameters()], lr=0.1)
    opt.zero_grad()
    loss = model(torch.randn(8, 3)).pow(2).mean() + conv(torch.randn(2, 2, 5)).pow(2).mean()
    loss.backward()
    opt.step()
    return {"model": model, "conv": conv}
""",
            expect={"grad_ok": ["model.0.weight", "conv.weight"]},
        ),
        Example(
            bad=False,
            name="ema-copy-parameters-detached-in-place",
            code="""from copy import deepcopy

import torch
import torch.nn as nn


class EMAHandler:
    def __init__(self, model, momentum=0.1):
        self.model = model
        self.momentum = momentum
        self.ema_model = deepcopy(model)
        for param in self.ema_model.parameters():
            param.detach_()

    def update(self):
        for ema_p, model_p in zip(self.ema_model.parameters(), self.model.parameters()):
            ema_p.mul_(1.0 - self.momentum).add_(model_p.data, alpha=self.momentum)


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    ema = EMAHandler(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        ema.update()
    return {"model": model}, {"ema_moved": not torch.equal(ema.ema_model.weight, model.weight)}
""",
            expect={'grad_ok': ['model.weight'], 'facts': {'ema_moved': True}},
        ),
    )

    def check(self, facts):
        seen = set()
        flows = list(facts.flows_matching(INPLACE_SYNTAX, _LEAF_HINT))
        if _LAYER_PARAMETER.search(facts.source.text):
            have = {id(fl) for fl in flows}
            flows += [fl for fl in facts.flows_matching(INPLACE_SYNTAX, _LAYER_PARAMETER) if id(fl) not in have]
        if "inplace=True" in facts.source.text and "Parameter(" in facts.source.text:  # an in-place activation module applied to a parameter
            have = {id(fl) for fl in flows}
            flows += [fl for fl in facts.flows_matching(_SELF_ATTR_ARG) if id(fl) not in have]
        # a method that reads a parameter the class registers elsewhere (``prompt = self.soft_prompt`` ... ``prompt += noise``,
        # with ``self.soft_prompt = nn.Parameter(...)`` in ``__init__``): its text need not say so
        if "Parameter(" in facts.source.text:
            have = {id(fl.node) for fl in flows}
            ti = facts.text_index
            for info in facts.modules.classes.values():
                if not info.is_module or not ti.search(INPLACE_SYNTAX, info.node):
                    continue
                params = [a for a in info.attr_values if facts.modules.parameter_attr(info.name, a)]
                if not params:
                    continue
                for m in info.methods.values():
                    if id(m) not in have and ti.search(INPLACE_SYNTAX, m):
                        body = ti.body(m)
                        if any(re.search(r"\bself\." + re.escape(a) + r"\b", body) for a in params):
                            flows.append(facts.flow.flow(m))
        # a subclass of a torch layer holds the layer's parameters without naming them (``self.weight`` of a class
        # extending ``nn.Linear``): its methods are read too
        mm = facts.modules
        if any(p in facts.source.text for ps in LAYER_PARAMETERS.values() for p in ps) and any(info.is_module and mm.extends_layer(info.name) for info in mm.classes.values()):
            have = {id(fl.node) for fl in flows}
            for info in mm.classes.values():
                if info.is_module and mm.extends_layer(info.name):
                    flows += [facts.flow.flow(m) for m in info.methods.values() if id(m) not in have and facts.text_index.search(INPLACE_SYNTAX, m)]
        # a helper analyzed with what its callers pass (``edit(model)`` writing ``model.layers[i].output.weight``): what
        # is a parameter is known only there
        if facts.flow.context_flows:
            ti = facts.text_index
            flows += [c for c in facts.flow.context_flows if isinstance(c.node, (ast.FunctionDef, ast.AsyncFunctionDef)) and ti.search(INPLACE_SYNTAX, c.node)]
        for fl in flows:
            for ev in fl.events:
                if ev.what != "inplace" or id(ev.node) in seen:
                    continue
                v = ev.target
                if v is None or not v.leaf or not ev.mode.enabled or ev.extra == "init":
                    continue
                kind = ev.extra
                module_inplace = bool(kind) and kind.endswith("(inplace=True)")  # ``self.act = nn.ReLU(inplace=True)`` called on it
                if kind not in ("augassign", "setitem") and kind not in INPLACE_MATH and not module_inplace:
                    continue
                if lexically_no_grad(facts, ev.node) or inference_branch(facts, ev.node):
                    continue
                from_params = v.ident is None  # an element of model.parameters()
                attribute = bool(v.ident) and "." in (v.ident or "")  # ``self.weight`` assigned nn.Parameter(...)
                if (from_params or (attribute and _may_be_frozen(facts, fl, v.ident or ""))) and freezes_anything(facts):
                    continue
                related = []
                callers = [c for c in call_sites(facts, fl.node) if c is not ev.node] if isinstance(fl.node, (ast.FunctionDef, ast.AsyncFunctionDef)) else []
                if callers and all(lexically_no_grad(facts, c) for c in callers):
                    continue  # a helper that only ever runs under its callers' no_grad (an EMA update)
                if not known_roots(v):
                    if not v.live or any(not r.startswith("arg:") for r in v.live):
                        continue
                    sites = [c for c in call_sites(facts, fl.node) if c is not ev.node]
                    if not sites or any(lexically_no_grad(facts, c) for c in sites):
                        continue
                    related = [(c, "called here with gradient recording on") for c in sites[:3]]
                seen.add(id(ev.node))
                if not related and getattr(fl, "context", None) is not None:
                    related = [(fl.context, "called here with gradient recording on")]  # (a helper, in its caller's context)
                what = {"augassign": "augmented assignment", "setitem": "index assignment"}.get(kind, f"`{kind}`" if module_inplace else f"`.{kind}()`")
                fixes = []
                if module_inplace and isinstance(ev.origin, ast.Call) and facts.parent(ev.origin) is not None and ev.origin is not ev.node:
                    # ``self.act = nn.ReLU(inplace=True)`` in ``__init__``: the flag is set there, and dropping it is the fix
                    flag = inplace_flag(ev.origin, kind[: -len("(inplace=True)")])
                    related.append((ev.origin, f"`{kind[: -len('(inplace=True)')]}` is made in-place here"))
                    if flag is not None:
                        fixes.append(partial(drop_inplace, facts, ev.origin, flag))
                if kind != "setitem" and not module_inplace:
                    f = self._fix(facts, ev.stmt)
                    if f is not None:
                        fixes.append(f)
                        # the updates of the same tensor right after it go into the same block: one finding for them
                        seen.update(id(n) for n in self._run(facts, ev.stmt)[1:])
                yield self.finding(
                    facts,
                    ev.node,
                    f"in-place {what} on a leaf that requires grad, outside torch.no_grad(): this raises",
                    related=related,
                    fixes=fixes,
                    explanation="RuntimeError: a leaf Variable that requires grad is being used in an in-place operation.",
                )

    def _fix(self, facts, st):
        if not self._own_line(facts, st):
            return None
        torch = alias_for(facts, "torch")
        if torch is None:
            return None
        run = self._run(facts, st)
        unsafe = not any(isinstance(n, ast.Attribute) and n.attr == "grad" for n in walk_nodes(st))
        indent = line_indent(facts, st.lineno)
        nl = "\r\n" if facts.source.lines[0].endswith("\r\n") else "\n"
        # every statement but the last with the rest of its line (a trailing comment stays with it)
        pieces = [facts.source.line(s.lineno)[facts.start(s).col :].rstrip("\r\n") for s in run[:-1]] + [facts.text(run[-1])]
        body = f"{nl}{indent}".join(f"    {piece}" for piece in pieces)
        text = f"with {torch}.no_grad():{nl}{indent}{body}"
        return lambda: fix("Wrap the update in `torch.no_grad()`", Edit(facts.start(st), facts.end(run[-1]), text), unsafe=unsafe)

    def _run(self, facts, st) -> list:
        """The update and the in-place ops on the same tensor right after it (``delta += a * g.sign()`` then
        ``delta.clamp_(-eps, eps)``): each would raise outside no_grad, so they go in one block."""
        run = [st]
        target = _inplace_target(facts, st)
        block = _block_of(facts, st)
        if target is not None and block is not None:
            for nxt in block[block.index(st) + 1 :]:
                if _inplace_target(facts, nxt) != target or not self._own_line(facts, nxt):
                    break
                run.append(nxt)
        return run

    @staticmethod
    def _own_line(facts, st) -> bool:
        """A one-line update statement alone on its line (its text can move into a block unchanged)."""
        if not isinstance(st, (ast.AugAssign, ast.Expr)) or st.lineno != st.end_lineno:
            return False
        line = facts.source.line(st.lineno)
        if len(line) - len(line.lstrip()) != facts.start(st).col:
            return False
        rest = line[facts.end(st).col :].strip()
        return not rest or rest.startswith("#")


def _inplace_target(facts, st):
    """The text of the tensor a statement updates in place (``x += ...``, ``x.clamp_(...)``), else None."""
    if isinstance(st, ast.AugAssign):
        return facts.text(st.target)
    if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Attribute):
        attr = st.value.func.attr
        if attr.endswith("_") and not attr.startswith("_"):
            return facts.text(st.value.func.value)
    return None


def _block_of(facts, st):
    """The statement list that holds ``st``."""
    parent = facts.parent(st)
    for name in ("body", "orelse", "finalbody"):
        block = getattr(parent, name, None)
        if isinstance(block, list) and any(x is st for x in block):
            return block
    for h in getattr(parent, "handlers", None) or []:
        if any(x is st for x in h.body):
            return h.body
    return None


def _may_be_frozen(facts, fl, ident: str) -> bool:
    """Can a freeze of the file (``requires_grad_(False)``, ``.requires_grad = False``) reach the parameter
    ``self.<attr>`` a class registers (``self.soft_prompt = nn.Parameter(...)``)? Not when every freeze names a known
    object that is not it: a sibling part of the class (``self.encoder``), an argument of a method of the class (the
    parameter is made in ``__init__``, not given), or an object of another class. Anything else may be it."""
    owner = fl.owner
    if owner is None or not ident.startswith("self.") or ident.count(".") != 1:
        return True
    attr = ident[5:]
    mods = facts.modules
    info = mods.classes.get(owner)
    if info is None or not mods.parameter_attr(owner, attr):
        return True
    if _unknown_freeze(facts):
        return True
    for f in frozen_paths(facts):
        if f.startswith("arg:"):
            continue  # (an argument of a method: some object given to it, not a parameter the class makes)
        if is_frozen(attr, {f}) or f in ("", "self"):
            return True
        head = f.split(".")[0]
        if head in info.attrs and head != attr:
            continue  # a sibling part of the class
        origin = facts.flow.root_origins.get(head)
        if origin is None or not origin.cls or origin.cls not in mods.classes or _holds(mods, origin.cls, owner, set()):
            return True  # an object of unknown class, or one that holds this class's instances
    return False


def _holds(mods, outer: str, cls: str, seen: set) -> bool:
    if outer == cls:
        return True
    if outer in seen:
        return False
    seen.add(outer)
    info = mods.classes.get(outer)
    if info is None:
        return True
    for a in info.attrs:
        acls, elem = mods.attr_class(outer, a)
        for c in (acls, elem):
            if c and _holds(mods, c, cls, seen):
                return True
    return False


def _unknown_freeze(facts) -> bool:
    """Does the file turn ``requires_grad`` off on something the engine cannot name (``for p in params: p.requires_grad
    = False`` over an unknown iterable)?"""
    cached = facts.__dict__.get("_gg701_unknown_freeze")
    if cached is not None:
        return cached
    out = False
    for fl in [*facts.flows, *facts.flow.context_flows]:
        for ev in fl.events:
            if ev.what in ("requires_grad_set", "requires_grad_call", "requires_grad_via_call") and (ev.target is None or not (set(ev.target.live) - {"?"}) and not ev.target.ident):
                out = True
    facts.__dict__["_gg701_unknown_freeze"] = out
    return out
