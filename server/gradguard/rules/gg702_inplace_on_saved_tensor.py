"""GG702 inplace-on-saved-tensor: modifying in place a tensor autograd saved for backward."""
from __future__ import annotations

import ast
import re
from functools import partial
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.facts import INPLACE_SYNTAX
from gradguard.core.flow import argument_writes, related
from gradguard.core.model import Applicability, Severity
from gradguard.core.order import position
from gradguard.core.torchapi import (
    INPLACE_FUNCTIONAL,
    INPLACE_MODULES,
    MULTI_OUTPUT_VIEWS,
    PARAMLESS_SUFFIXES,
    SAVES_INPUT,
    SAVES_INPUT_MODULES,
    SAVES_OUTPUT,
    SAVES_OUTPUT_MODULES,
)
from gradguard.core.training import covered_by, stepped_after
from gradguard.fixes import drop_inplace, fix, inplace_flag, replace_node
from gradguard.rules._leafs import inference_branch, known_roots, lexically_no_grad, runs_without_grad
from gradguard.rules.base import Example, Rule

OUT_OF_PLACE = {
    "masked_fill_", "add_", "sub_", "mul_", "div_", "clamp_", "clamp_min_", "clamp_max_", "clip_", "pow_",
    "index_fill_", "masked_scatter_", "scatter_", "scatter_add_", "index_add_", "index_copy_", "abs_", "neg_",
    "exp_", "log_", "sqrt_", "relu_", "sigmoid_", "tanh_", "addcmul_", "addcdiv_", "lerp_", "nan_to_num_",
    "fill_diagonal_",
}
NOT_INPLACE = {"requires_grad_", "share_memory_", "record_stream", "retain_grad", "register_hook"}
BINOPS = {"Add": "+", "Sub": "-", "Mult": "*", "Div": "/", "Pow": "**", "MatMult": "@", "FloorDiv": "//", "Mod": "%"}


def _uses_between(scope: ast.AST, name: str, start: tuple, end: tuple) -> list:
    """Every read of ``name`` in ``scope`` between two positions, when ``name`` is not bound again between them."""
    nodes = [n for n in walk_nodes(scope) if isinstance(n, ast.Name) and n.id == name and start < (n.lineno, n.col_offset) < end]
    if any(not isinstance(n.ctx, ast.Load) for n in nodes):
        return []
    return sorted(nodes, key=lambda n: (n.lineno, n.col_offset))


def _detach_uses_fix(facts, uses: list, name: str):
    return fix(f"Use `{name}.detach()` after the step (a constant for this loss)", *(replace_node(facts, n, f"{name}.detach()") for n in uses), unsafe=True)


def _first_use_after(scope: ast.AST, name: str, start: tuple, end: tuple) -> Optional[ast.Name]:
    """The first read of ``name`` in ``scope`` between two positions (where a value computed before a step is used after
    it), else None."""
    uses = [n for n in walk_nodes(scope) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) and start < (n.lineno, n.col_offset) < end]
    return min(uses, key=lambda n: (n.lineno, n.col_offset)) if uses else None


def _clone_fix(facts, node: ast.AST):
    return fix("Use a clone of the weight", replace_node(facts, node, f"{facts.text(node)}.clone()"))


def _max_norm_tables(facts, info) -> dict:
    """Attributes of the class built as ``nn.Embedding(..., max_norm=<not None>)``: attribute -> constructor call."""
    out = {}
    for attr, values in info.attr_values.items():
        if len(values) != 1 or not isinstance(values[0], ast.Call):
            continue
        call = values[0]
        if (facts.imports.qualname(call.func) or "") not in ("torch.nn.Embedding", "torch.nn.modules.sparse.Embedding", "torch.nn.EmbeddingBag"):
            continue
        mn = next((k.value for k in call.keywords if k.arg == "max_norm"), call.args[2] if len(call.args) > 2 else None)
        if mn is not None and not (isinstance(mn, ast.Constant) and mn.value is None):
            out[attr] = call
    return out


def _table_events(facts, info, fn, tables: dict, depth: int = 0) -> Optional[list]:
    """In statement order, what one run of ``fn`` does with the tables: ``("read", node, attr)`` for ``self.<t>.weight``
    used as a value, ``("call", node, attr)`` for ``self.<t>(...)``; calls of the class's own methods are followed. None
    when the order is not known (both in one statement, a loop, a branch)."""
    out: list = []
    for st in fn.body:
        own: list = []
        nested: list = []
        for n in walk_nodes(st):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == "self":
                if n.func.attr in tables:
                    own.append(("call", n, n.func.attr))
                elif n.func.attr in info.methods and depth < 3:
                    inner = _table_events(facts, info, info.methods[n.func.attr], tables, depth + 1)
                    if inner is None:
                        return None
                    nested += inner
            elif isinstance(n, ast.Attribute) and n.attr == "weight" and isinstance(n.ctx, ast.Load) and isinstance(n.value, ast.Attribute) and n.value.attr in tables and isinstance(n.value.value, ast.Name) and n.value.value.id == "self":
                parent = facts.parent(n)
                if isinstance(parent, ast.Attribute) and parent.attr in ("data", "detach", "clone", "shape", "size", "dtype", "device"):
                    continue  # a copy, or no tensor op that saves it
                own.append(("read", n, n.value.attr))
        if (own or nested) and not isinstance(st, (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return)):
            return None  # (a loop, a branch, a with block: order or grad mode unknown)
        if own and nested:
            return None
        if len({kind for kind, _, _ in own}) > 1:
            return None  # (a read and a lookup in one statement)
        out += nested + own
    return out


def _atom(facts, node):
    t = facts.text(node)
    return t if isinstance(node, (ast.Name, ast.Call, ast.Attribute, ast.Subscript, ast.Constant)) else f"({t})"


class InplaceOnSavedTensor(Rule):
    code = "GG702"
    name = "inplace-on-saved-tensor"
    summary = "A tensor that autograd saved for backward (output of exp/sigmoid/tanh/softmax/relu...) is modified in place."
    severity = Severity.ERROR
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags an in-place modification (`masked_fill_`, `+=`, index assignment, any `x.op_()`) of the output of an
operation that saves its *output* for backward (`exp`, `sigmoid`, `tanh`, `softmax`, `log_softmax`,
`relu`, `sqrt`, ...), when that output carries gradient from trainable values and gradient recording is on.
Also flags an `inplace=True` activation or dropout placed right after `nn.Sigmoid()` / `nn.Tanh()` /
`nn.Softmax()` / `nn.ReLU()` in an `nn.Sequential`. The output of a layer attribute that saves its output
(`self.act = nn.ReLU()` / `nn.Sigmoid()` / `nn.Tanh()` / `nn.Softmax()` / `nn.LogSoftmax()`, an `nn.Sequential`
ending in one, also built by a module-level helper, `nn.Sequential(*layers)` with `layers` a list it builds, a layer
picked by `nn.GELU() if act == "gelu" else nn.ReLU()` where every construction decides `act`) counts as
that op's output (`out = self.conv2(x); out += x` in a residual unit whose block ends in `nn.ReLU()`); `nn.ReLU6()` and
`nn.GELU()` save their input, not their output. A tensor given to a module of the file whose `forward` hands it (or a
view of it) to a layer that saves its input for the layer's weight gradient (`self.location(coverage.unsqueeze(1))`, a
convolution) is saved by that call, also when it is data that requires no grad: `coverage += weights` after
`self.attention(keys, coverage)` breaks the backward. Views of one tensor share its version counter: after
`xb = x[:, d:]` was saved by a layer (`self.net(xb)`, also with `self.net` built by a module-level factory that returns
an `nn.Sequential`), an in-place change to another view of `x` (`xa = x[:, :d]`, then `xa *= torch.exp(s)`, a coupling
layer's update) breaks the backward too. In a loop, what an op of one iteration saved is still saved when the next
iteration starts: a recurrent scan that updates its state in place (`h.mul_(decay[:, t]).add_(inp[:, t])`) after the
previous step's `h * c` saved it breaks the backward (one finding per statement); so does a scan that reads the
previous state back from the buffer it writes (`prev = states[:, t - 1] if t > 0 else x.new_zeros(...)`, then
`h = dA[:, t] * prev + dBx[:, t]` and `states[:, t] = h`): the multiplication saved a view of the buffer, and the
write changes the version every view of it shares. A view of a saved output is that output too (`torch.tanh(h).squeeze(1)`
returned by a `forward`, then `est -= est.mean(-1, keepdim=True)` in the loss helper it is given). Also a call of a module attribute built in place
(`self.drop = nn.Dropout(p, inplace=True)`) on such a saved output, with the constructor as related
information. So is a `torch.nn.functional` op told to work in place at the call (`F.dropout(w, p, training,
inplace=True)`, `F.relu(x, inplace=True)`; a dropout told `training=False` changes nothing), also in a helper that
computes the saved tensor from what its caller passes (`y = p.sigmoid(); y[..., :2] = ...` in `decode(p)`, reported in
the helper with the call as related information). Silent under `torch.no_grad()`, when a `.clone()` or
any out-of-place op intervenes, and for tensors that carry no gradient.
The ops that save their input or their output are one table (`torchapi.SAVES_INPUT` / `SAVES_OUTPUT`), its unary
ops measured under torch: `acos`, `asin`, `atanh`, `lgamma`, `logit`, `leaky_relu`, `elu`, `hardtanh`, `std`,
`logsumexp` and the like save their input (`theta = torch.acos(cos)` then `cos[hit] = target[hit]` raises at
backward), `tan` and `reciprocal` their output.
Also an op that saves its *input* (a `Linear` or convolution for its weight's gradient, `pow`, `layer_norm`,
...) given a view of a tensor (`self.rec(states[:, t])`, basic indexing by slices and integers, a `range`
loop counter included) that is then written into in place (`states[:, t + 1] = ...`): a view shares its
base's version counter, so writing into any part of the base invalidates what was saved. So does an in-place
activation given the very tensor such an op saved (`main = self.conv(padded)`, then `self.act(padded)` with
`self.act = nn.LeakyReLU(0.2, inplace=True)`, or `F.leaky_relu(padded, 0.2, inplace=True)`), or the tensor a custom
Function's `forward` saves with `ctx.save_for_backward(feat, ...)` (the save as related information: a private copy saved
there is the other fix).
Also a helper that writes into its argument in place (`def drop_rows(h, keep): h[~keep] = 0.0`) given such
a saved tensor (`drop_rows(F.relu(self.fc(x)), keep)`): Python passes the tensor itself, so the helper modifies
what autograd saved; the finding is on the helper's write, with the call as related information.
Also a table built as `nn.Embedding(n, d, max_norm=...)` whose whole weight is used (`u @ self.items.weight.t()`)
and that is then looked up in the same forward pass (`self.items(ids)`): the lookup renormalizes rows of the weight in
place (the fix uses `self.items.weight.clone()`, as PyTorch's documentation says).
Also a value computed through a model (`d_fake = D(fake)`) before an optimizer step that updates that model's
parameters in place (`opt_d.step()`, or a call of a helper that steps it: `self.fit_critic(states, target)`), then backpropagated after the step to reach other trained parameters
(`loss_g = bce(d_fake, ones); loss_g.backward()`): the graph saved the parameters the step modified. The
optimizers and the accelerator may be kept on a trainer object (`self.opt_d`, `self.accelerator.backward(...)`,
with the accelerator given to its constructor). The losses may come from the caller (`gan.update(g_loss, d_loss)`,
computed by another method before the call): a loss given to the function was built before any step in it.
Also a forward hook (`layer.register_forward_hook(clip)`) that writes the `weight` of the layer it is given in
place under `torch.no_grad()` (`module.weight.clamp_(...)`, `module.weight[mask] = 0`): torch runs the hook right
after the layer's forward, when a convolution or normalization layer (always) or an `nn.Linear` whose input requires
grad (not the first layer) has already saved that weight, so the backward of a program that trains raises. A forward
*pre*-hook runs before the layer and is fine, and so are writes through `.data`.
Also an in-place op on one of the views `chunk` / `split` / `unbind` return together (or on a basic-indexed view
of one: `log_std.clamp_(...)` after `mean, log_std = head(x).chunk(2, dim=-1)`), made in grad mode from a tensor
carrying trainable values: autograd raises at the op itself (`Output 1 of Split is a view and is being modified
inplace`). `tensor_split` and `unsafe_chunk` / `unsafe_split` return views that may be modified.
What a custom `autograd.Function`'s `forward` passes to `ctx.save_for_backward` counts the same: its returned tensor
when it saved it (`ctx.save_for_backward(s, y); return y`), and an input saved as given; a write into it before the
backward (also in a helper it is handed to, `return act.mul_(up)`) makes the Function's backward raise.
A helper that makes such a saved tensor from its argument and writes into it (`phi = torch.exp(-z * z); phi[..., 0] =
1.0` in a layer's `basis(x)`) raises only when its argument requires grad: it is followed through the methods and
functions that hand it their own arguments (`forward(x)` calling `self.basis(x)`), as each caller runs it (the second of
two such layers gets the first one's output). The fix that clones the saved output is not offered when the value written
is computed from the tensor itself by an op that saves it (`phi[..., 0] = phi[..., 0].clamp(min=eps)`): the copy would
be read and written the same way.
A helper that saves its argument (`q @ keys.t()` in `memory_loss(q, keys)`, a view of it included) saves what its caller
passes, an attribute of an object too (`memory_loss(q, memory.feats)`); a method of that object that writes its state in
place before the backward (`memory.enqueue(q)` with `self.feats[idx] = ...`) is reported in the method. A write after
`loss.backward()` (without `retain_graph`) is not: the backward has used and freed what was saved.

## Why is this bad?
Backward of these ops reads the saved output. Modifying it in place bumps its version counter and
`backward()` fails with `RuntimeError: one of the variables needed for gradient computation has been
modified by an inplace operation`.

## Example
```python
attn = scores.softmax(dim=-1)
attn.masked_fill_(mask, 0.0)
```

## Use instead
```python
attn = scores.softmax(dim=-1)
attn = attn.masked_fill(mask, 0.0)
```

## Fix safety
The out-of-place version (or a `.clone()` of the saved output before writing into it) computes the same
values and leaves the saved tensor intact, so the fix is safe (a chain of in-place calls on one name,
`rgb.mul_(0.5).add_(0.5)`, becomes `rgb = rgb.mul(0.5).add(0.5)`). For a module built in place, the fix drops
`inplace=True` from its constructor: every call of that module then computes the same values out of place, which
costs only the memory of one more tensor. A value computed through a model before that model's optimizer step and read
by a later loss gets `.detach()` at its reads after the step only when it carries nothing but the stepped model (an
advantage from the critic in an actor's loss): the loss then treats it as a constant, which changes no gradient it
gives other parameters; this fix is unsafe, since the stepped model no longer gets a gradient from that loss.
"""
    examples = (
        Example(
            name="tanh-output-rescaled-by-a-chain-of-in-place-calls",
            code="""import torch
import torch.nn as nn


class Siren(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3))

    def forward(self, coords):
        rgb = torch.tanh(self.net(coords))
        rgb.mul_(0.5).add_(0.5)
        return rgb


def main():
    torch.manual_seed(0)
    model = Siren()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    w0 = model.net[0].weight.detach().clone()
    for _ in range(2):
        loss = (model(torch.rand(8, 2)) - torch.rand(8, 3)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"net_changed": not torch.equal(w0, model.net[0].weight)}
""",
            lines=(12,),
            expect={'error': 'modified by an inplace operation'},
            fixed_expect={'facts': {'net_changed': True}},
        ),
        Example(
            bad=False,
            name="tanh-output-rescaled-out-of-place",
            code="""import torch
import torch.nn as nn


class Siren(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3))

    def forward(self, coords):
        rgb = torch.tanh(self.net(coords))
        rgb = rgb * 0.5 + 0.5
        return rgb


def main():
    torch.manual_seed(0)
    model = Siren()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    w0 = model.net[0].weight.detach().clone()
    for _ in range(2):
        loss = (model(torch.rand(8, 2)) - torch.rand(8, 3)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"net_changed": not torch.equal(w0, model.net[0].weight)}
""",
            expect={'facts': {'net_changed': True}},
        ),
        Example(
            name="int-width-doubled-after-a-builder-and-a-data-gain-refilled-per-level",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Stack(nn.Module):
    def __init__(self, width=4, widen=2):
        super().__init__()
        n = width * widen
        self.stem = nn.Linear(3, n)
        self.layer1 = self._make_layer(n, 1)
        n *= 2
        self.layer2 = self._make_layer(n // 2, 2)

    def _make_layer(self, planes, expansion):
        return nn.Linear(planes, planes * expansion)

    def forward(self, x):
        return self.layer2(self.layer1(self.stem(x)))


def build_targets(preds, targets):
    gain = torch.ones(3)
    out = []
    for p in preds:
        gain[1:] = torch.tensor(p.shape)[[1, 1]]
        out.append(targets * gain)
    return out


def main():
    torch.manual_seed(0)
    model = Stack()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(5, 3)
    preds = [model(x)[:, :3], model(x)[:, 3:6]]
    tgts = build_targets(preds, torch.rand(5, 3))
    loss = sum(F.mse_loss(p, t) for p, t in zip(preds, tgts))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            bad=False,
            expect={"grad_ok": ["model.stem.weight", "model.layer2.weight"]},
        ),
        Example(
            name="scan-state-updated-in-place-after-the-previous-step-saved-it",
            code="""import torch
import torch.nn as nn


def linear_scan(x, log_a, b, c):
    decay = torch.exp(-torch.exp(log_a) * torch.ones_like(x))
    inp = b * x
    h = torch.zeros_like(x[:, 0])
    ys = []
    for t in range(x.shape[1]):
        h.mul_(decay[:, t]).add_(inp[:, t])
        ys.append(h * c)
    return torch.stack(ys, dim=1)


class SSMLayer(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.log_a = nn.Parameter(torch.zeros(d))
        self.b = nn.Parameter(torch.ones(d))
        self.c = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return linear_scan(x, self.log_a, self.b, self.c)


def main():
    torch.manual_seed(0)
    layer = SSMLayer()
    opt = torch.optim.Adam(layer.parameters(), lr=1e-2)
    loss = layer(torch.randn(2, 5, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"layer": layer}
""",
            lines=(11,),
            expect={"error": "modified by an inplace operation"},
            fixable=False,
        ),
        Example(
            name="scan-state-updated-out-of-place",
            code="""import torch
import torch.nn as nn


def linear_scan(x, log_a, b, c):
    decay = torch.exp(-torch.exp(log_a) * torch.ones_like(x))
    inp = b * x
    h = torch.zeros_like(x[:, 0])
    ys = []
    for t in range(x.shape[1]):
        h = h * decay[:, t] + inp[:, t]
        ys.append(h * c)
    return torch.stack(ys, dim=1)


class SSMLayer(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.log_a = nn.Parameter(torch.zeros(d))
        self.b = nn.Parameter(torch.ones(d))
        self.c = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return linear_scan(x, self.log_a, self.b, self.c)


def main():
    torch.manual_seed(0)
    layer = SSMLayer()
    opt = torch.optim.Adam(layer.parameters(), lr=1e-2)
    loss = layer(torch.randn(2, 5, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"layer": layer}
""",
            bad=False,
            expect={"grad_ok": ["layer.log_a", "layer.b", "layer.c"]},
        ),
        Example(
            name="coupling-updates-one-half-in-place-after-the-other-half-was-saved",
            code="""import torch
import torch.nn as nn


def mlp(c_in, c_out):
    return nn.Sequential(nn.Linear(c_in, 16), nn.ReLU(), nn.Linear(16, 2 * c_out))


class AffineCoupling(nn.Module):
    def __init__(self, dim=4):
        super().__init__()
        self.half = dim // 2
        self.net = mlp(dim - self.half, self.half)

    def forward(self, x):
        xa = x[:, :self.half]
        xb = x[:, self.half:]
        s, t = self.net(xb).chunk(2, dim=1)
        xa *= torch.exp(s)
        xa += t
        return torch.cat([xa, xb], dim=1), s.sum(dim=1)


def main():
    torch.manual_seed(0)
    flow = AffineCoupling()
    opt = torch.optim.Adam(flow.parameters(), lr=1e-3)
    z, log_det = flow(torch.randn(8, 4))
    loss = (0.5 * z.pow(2).sum(1) - log_det).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"flow": flow}
""",
            lines=(19,),
            expect={"error": "modified by an inplace operation"},
            fixed_expect={"grad_ok": ["flow.net.0.weight", "flow.net.2.weight"]},
        ),
        Example(
            name="coupling-updates-one-half-out-of-place",
            code="""import torch
import torch.nn as nn


def mlp(c_in, c_out):
    return nn.Sequential(nn.Linear(c_in, 16), nn.ReLU(), nn.Linear(16, 2 * c_out))


class AffineCoupling(nn.Module):
    def __init__(self, dim=4):
        super().__init__()
        self.half = dim // 2
        self.net = mlp(dim - self.half, self.half)

    def forward(self, x):
        xa = x[:, :self.half]
        xb = x[:, self.half:]
        s, t = self.net(xb).chunk(2, dim=1)
        xa = xa * torch.exp(s) + t
        return torch.cat([xa, xb], dim=1), s.sum(dim=1)


def main():
    torch.manual_seed(0)
    flow = AffineCoupling()
    opt = torch.optim.Adam(flow.parameters(), lr=1e-3)
    z, log_det = flow(torch.randn(8, 4))
    loss = (0.5 * z.pow(2).sum(1) - log_det).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"flow": flow}
""",
            bad=False,
            expect={"grad_ok": ["flow.net.0.weight", "flow.net.2.weight"]},
        ),
        Example(
            name="coverage-accumulated-in-place-after-the-location-convolution-saved-it",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class CoverageAttention(nn.Module):
    def __init__(self, dim=8, n_filters=4):
        super().__init__()
        self.location = nn.Conv1d(1, n_filters, 3, padding=1, bias=False)
        self.score = nn.Linear(dim + n_filters, 1)

    def forward(self, keys, coverage):
        loc = self.location(coverage.unsqueeze(1)).transpose(1, 2)
        return F.softmax(self.score(torch.cat([keys, loc], -1)).squeeze(-1), dim=-1)


class Decoder(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.attention = CoverageAttention(dim)
        self.out = nn.Linear(dim, 1)

    def forward(self, keys, steps=3):
        coverage = keys.new_zeros(keys.shape[:2])
        outs = []
        for _ in range(steps):
            weights = self.attention(keys, coverage)
            coverage += weights
            outs.append(self.out(torch.bmm(weights.unsqueeze(1), keys).squeeze(1)))
        return torch.cat(outs, -1)


def main():
    torch.manual_seed(0)
    model = Decoder()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    keys, target = torch.randn(2, 5, 8), torch.randn(2, 3)
    loss = F.mse_loss(model(keys), target)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(28,),
            expect={"error": "modified by an inplace operation"},
            fixed_expect={"grad_ok": ["model.attention.location.weight", "model.out.weight"]},
        ),
        Example(
            name="coverage-accumulated-out-of-place",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class CoverageAttention(nn.Module):
    def __init__(self, dim=8, n_filters=4):
        super().__init__()
        self.location = nn.Conv1d(1, n_filters, 3, padding=1, bias=False)
        self.score = nn.Linear(dim + n_filters, 1)

    def forward(self, keys, coverage):
        loc = self.location(coverage.unsqueeze(1)).transpose(1, 2)
        return F.softmax(self.score(torch.cat([keys, loc], -1)).squeeze(-1), dim=-1)


class Decoder(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.attention = CoverageAttention(dim)
        self.out = nn.Linear(dim, 1)

    def forward(self, keys, steps=3):
        coverage = keys.new_zeros(keys.shape[:2])
        outs = []
        for _ in range(steps):
            weights = self.attention(keys, coverage)
            coverage = coverage + weights
            outs.append(self.out(torch.bmm(weights.unsqueeze(1), keys).squeeze(1)))
        return torch.cat(outs, -1)


def main():
    torch.manual_seed(0)
    model = Decoder()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    keys, target = torch.randn(2, 5, 8), torch.randn(2, 3)
    loss = F.mse_loss(model(keys), target)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            bad=False,
            expect={"grad_ok": ["model.attention.location.weight", "model.out.weight"]},
        ),
        Example(
            name="function-saved-input-written-in-a-module-that-was-given-it",
            code="""import torch
import torch.nn as nn


class RectSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v, threshold):
        ctx.save_for_backward(v)
        ctx.threshold = threshold
        return (v > threshold).float()

    @staticmethod
    def backward(ctx, grad_out):
        (v,) = ctx.saved_tensors
        window = ((v - ctx.threshold).abs() < 0.5).float()
        return grad_out * window, None


class Neuron(nn.Module):
    def __init__(self, decay=0.8):
        super().__init__()
        self.decay = decay

    def forward(self, current, v):
        v = self.decay * v + current
        spikes = RectSpike.apply(v, 1.0)
        v[spikes > 0] = 0.0
        return spikes, v


def main():
    torch.manual_seed(0)
    fc = nn.Linear(6, 4)
    neuron = Neuron()
    opt = torch.optim.SGD(fc.parameters(), lr=0.1)
    v = torch.zeros(8, 4)
    total = 0
    for x in torch.rand(3, 8, 6):
        s, v = neuron(fc(x) * 3, v)
        total = total + s.sum()
    opt.zero_grad()
    total.backward()
    opt.step()
    return {"fc": fc}
""",
            lines=(27,),
            fixable=False,
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            bad=False,
            name="function-saved-input-reset-out-of-place",
            code="""import torch
import torch.nn as nn


class RectSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v, threshold):
        ctx.save_for_backward(v)
        ctx.threshold = threshold
        return (v > threshold).float()

    @staticmethod
    def backward(ctx, grad_out):
        (v,) = ctx.saved_tensors
        window = ((v - ctx.threshold).abs() < 0.5).float()
        return grad_out * window, None


class Neuron(nn.Module):
    def __init__(self, decay=0.8):
        super().__init__()
        self.decay = decay

    def forward(self, current, v):
        v = self.decay * v + current
        spikes = RectSpike.apply(v, 1.0)
        v = v * (1.0 - spikes)
        return spikes, v


def main():
    torch.manual_seed(0)
    fc = nn.Linear(6, 4)
    neuron = Neuron()
    opt = torch.optim.SGD(fc.parameters(), lr=0.1)
    v = torch.zeros(8, 4)
    total = 0
    for x in torch.rand(3, 8, 6):
        s, v = neuron(fc(x) * 3, v)
        total = total + s.sum()
    opt.zero_grad()
    total.backward()
    opt.step()
    return {"fc": fc}
""",
            expect={"grad_ok": ["fc.weight", "fc.bias"]},
        ),
        Example(
            bad=False,
            name="list-items-replaced-by-a-conv-of-themselves",
            code="""import torch
import torch.nn as nn


class Neck(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(3, 3, 1)
        self.proj0 = nn.Conv2d(3, 3, 1)
        self.proj1 = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        maps = list((self.enc(x), self.enc(x * 2)))
        maps[0] = self.proj0(maps[0])
        maps[1] = self.proj1(maps[1])
        return maps[0].sum() + maps[1].sum()


def main():
    torch.manual_seed(0)
    model = Neck()
    model(torch.randn(1, 3, 4, 4)).backward()
    return {"model": model}
""",
            expect={"grad_ok": ["model.enc.weight", "model.proj0.weight", "model.proj1.weight"]},
        ),
        Example(
            name="residual-added-in-place-to-what-a-block-returns-from-relu",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, h):
        return F.relu(self.fc(h))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList(Block() for _ in range(2))

    def forward(self, h):
        for block in self.blocks:
            h_in = h
            h = block(h)
            h += h_in
        return h


def main():
    torch.manual_seed(0)
    model = Encoder()
    model(torch.randn(3, 4)).sum().backward()
    return {"model": model}
""",
            lines=(24,),
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            bad=False,
            name="residual-added-out-of-place-to-what-a-block-returns-from-relu",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, h):
        return F.relu(self.fc(h))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList(Block() for _ in range(2))

    def forward(self, h):
        for block in self.blocks:
            h_in = h
            h = block(h)
            h = h + h_in
        return h


def main():
    torch.manual_seed(0)
    model = Encoder()
    model(torch.randn(3, 4)).sum().backward()
    return {"model": model}
""",
            expect={"grad_ok": ["model.blocks.0.fc.weight"]},
        ),
        Example(
            name="generator-loss-reuses-the-critic-output-after-the-critic-stepped",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator


class GanTrainer:
    def __init__(self, accelerator):
        self.accelerator = accelerator
        self.generator = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 4))
        self.discriminator = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=1e-3)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=1e-3)
        self.generator, self.discriminator, self.opt_g, self.opt_d = accelerator.prepare(
            self.generator, self.discriminator, self.opt_g, self.opt_d)

    def step(self, real, z):
        fake = self.generator(z)
        d_fake = self.discriminator(fake)
        d_loss = F.softplus(-self.discriminator(real)).mean() + F.softplus(d_fake).mean()
        self.opt_d.zero_grad()
        self.accelerator.backward(d_loss, retain_graph=True)
        self.opt_d.step()

        g_loss = F.softplus(-d_fake).mean()
        self.opt_g.zero_grad()
        self.accelerator.backward(g_loss)
        self.opt_g.step()


def main():
    torch.manual_seed(0)
    trainer = GanTrainer(Accelerator())
    trainer.step(torch.randn(16, 4), torch.randn(16, 4))
    return {"generator": trainer.generator}
""",
            lines=(19,),
            expect={"error": "modified by an inplace operation"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="generator-loss-runs-the-stepped-critic-again",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator


class GanTrainer:
    def __init__(self, accelerator):
        self.accelerator = accelerator
        self.generator = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 4))
        self.discriminator = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=1e-3)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=1e-3)
        self.generator, self.discriminator, self.opt_g, self.opt_d = accelerator.prepare(
            self.generator, self.discriminator, self.opt_g, self.opt_d)

    def step(self, real, z):
        fake = self.generator(z)
        d_fake = self.discriminator(fake)
        d_loss = F.softplus(-self.discriminator(real)).mean() + F.softplus(d_fake).mean()
        self.opt_d.zero_grad()
        self.accelerator.backward(d_loss, retain_graph=True)
        self.opt_d.step()
        d_fake = self.discriminator(fake)
        g_loss = F.softplus(-d_fake).mean()
        self.opt_g.zero_grad()
        self.accelerator.backward(g_loss)
        self.opt_g.step()


def main():
    torch.manual_seed(0)
    trainer = GanTrainer(Accelerator())
    trainer.step(torch.randn(16, 4), torch.randn(16, 4))
    return {"generator": trainer.generator}
""",
            expect={"grad_ok": ["generator.0.weight", "generator.2.weight"]},
        ),
        Example(
            name="residual-added-in-place-to-the-input-a-nested-layer-norm-saved",
            code="""import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.ln = nn.LayerNorm(d)
        self.attn = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, d))

    def forward(self, x):
        x += self.attn(self.ln(x))
        return x


def main():
    torch.manual_seed(0)
    emb = nn.Embedding(10, 8)
    model = nn.ModuleList([emb, Block(8), nn.Linear(8, 1)])
    h = model[1](emb(torch.randint(0, 10, (4, 5))))
    model[2](h).pow(2).mean().backward()
    return {"model": model}
""",
            lines=(12,),
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            bad=False,
            name="residual-added-out-of-place-to-the-input-a-nested-layer-norm-saved",
            code="""import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.ln = nn.LayerNorm(d)
        self.attn = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, d))

    def forward(self, x):
        x = x + self.attn(self.ln(x))
        return x


def main():
    torch.manual_seed(0)
    emb = nn.Embedding(10, 8)
    model = nn.ModuleList([emb, Block(8), nn.Linear(8, 1)])
    h = model[1](emb(torch.randint(0, 10, (4, 5))))
    model[2](h).pow(2).mean().backward()
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.weight", "model.1.ln.weight", "model.1.attn.0.weight"]},
        ),
        Example(
            name="sequential-hardtanh-in-place-by-position-after-sigmoid",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    head = nn.Sequential(nn.Linear(4, 4), nn.Sigmoid(), nn.Hardtanh(0.0, 0.9, True))
    opt = torch.optim.SGD(head.parameters(), lr=0.1)
    loss = head(torch.randn(3, 4)).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"head": head}
""",
            lines=(7,),
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            bad=False,
            name="max-only-compared-then-scaled-in-place",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 4)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    boxes = net(torch.randn(3, 4))
    if boxes.max() <= 1.0:
        boxes *= 2.0
    loss = boxes.pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight"]},
        ),
        Example(
            bad=False,
            name="detached-policy-output-reused-after-the-actor-step",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    actor = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    log_alpha = torch.zeros(1, requires_grad=True)
    actor_opt = torch.optim.Adam(actor.parameters(), lr=1e-3)
    alpha_opt = torch.optim.Adam([log_alpha], lr=1e-3)
    for _ in range(2):
        probs = actor(torch.randn(5, 4)).softmax(-1)
        log_pi = torch.log(probs + 1e-8)
        actor_loss = (probs * (log_alpha.exp().detach() * log_pi)).sum(-1).mean()
        actor_opt.zero_grad()
        actor_loss.backward()
        actor_opt.step()
        alpha_loss = (probs.detach() * (-log_alpha * (log_pi - 1.0).detach())).mean()
        alpha_opt.zero_grad()
        alpha_loss.backward()
        alpha_opt.step()
    return {"actor": actor, "log_alpha": log_alpha}
""",
            expect={"grad_ok": ["actor.0.weight", "log_alpha"]},
        ),
        Example(
            name="generator-loss-through-a-discriminator-output-from-before-its-step",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    D = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3)
    for _ in range(2):
        real, fake = torch.randn(8, 2), G(torch.randn(8, 2))
        d_real, d_fake = D(real), D(fake)
        loss_d = F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real)) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
        opt_d.zero_grad()
        loss_d.backward(retain_graph=True)
        opt_d.step()
        loss_g = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return {"G": G, "D": D}
""",
            lines=(14,),
            expect={"error": "modified by an inplace operation"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="discriminator-run-again-after-its-step",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    D = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3)
    for _ in range(2):
        real, fake = torch.randn(8, 2), G(torch.randn(8, 2))
        d_real, d_fake = D(real), D(fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real)) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        d_fake = D(fake)
        loss_g = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return {"G": G, "D": D}
""",
            expect={"grad_ok": ["G.0.weight", "D.0.weight"]},
        ),
        Example(
            name="helper-zeroes-rows-of-the-relu-output-it-is-given",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def mask_rows(h, keep):
    h[~keep] = 0.0
    return h


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(6, 8)
        self.out = nn.Linear(8, 2)

    def forward(self, x, keep):
        h = F.relu(self.inp(x))
        return self.out(mask_rows(h, keep))


def main():
    torch.manual_seed(0)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = net(torch.randn(5, 6), torch.tensor([True, False, True, True, False])).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            lines=(7,),
            fixable=False,
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            bad=False,
            name="helper-zeroes-rows-of-a-linear-output-or-a-copy",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def mask_rows(h, keep):
    h[~keep] = 0.0
    return h


def scaled(h, s):
    h = h.clone()
    h.mul_(s)
    return h


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(6, 8)
        self.out = nn.Linear(8, 2)

    def forward(self, x, keep):
        h = mask_rows(self.inp(x), keep)
        h = scaled(torch.sigmoid(h), 2.0)
        with torch.no_grad():
            probe = mask_rows(torch.exp(h), keep)
        return self.out(F.relu(h)) + 0 * probe.sum()


def main():
    torch.manual_seed(0)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = net(torch.randn(5, 6), torch.tensor([True, False, True, True, False])).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.inp.weight", "net.out.weight"]},
        ),
        Example(
            name="coupling-layer-writes-into-the-input-it-conditioned-on",
            code="""import torch
import torch.nn as nn


class Coupling(nn.Module):
    def __init__(self, dim=4):
        super().__init__()
        self.d = dim // 2
        self.st = nn.Sequential(nn.Linear(self.d, 8), nn.ReLU(), nn.Linear(8, 2 * (dim - self.d)))

    def forward(self, x):
        s, t = self.st(x[:, :self.d]).chunk(2, dim=1)
        x[:, self.d:] = x[:, self.d:] * torch.exp(s) + t
        return x, s.sum(dim=1)


def main():
    torch.manual_seed(0)
    flow = Coupling()
    z, logdet = flow(torch.randn(6, 4))
    (z.pow(2).sum(dim=1) / 2 - logdet).mean().backward()
    return {"flow": flow}
""",
            lines=(13,),
            fixable=False,
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            bad=False,
            name="coupling-layer-out-of-place",
            code="""import torch
import torch.nn as nn


class Coupling(nn.Module):
    def __init__(self, dim=4):
        super().__init__()
        self.d = dim // 2
        self.st = nn.Sequential(nn.Linear(self.d, 8), nn.ReLU(), nn.Linear(8, 2 * (dim - self.d)))

    def forward(self, x):
        x1, x2 = x[:, :self.d], x[:, self.d:]
        s, t = self.st(x1).chunk(2, dim=1)
        return torch.cat([x1, x2 * torch.exp(s) + t], dim=1), s.sum(dim=1)


def main():
    torch.manual_seed(0)
    flow = Coupling()
    z, logdet = flow(torch.randn(6, 4))
    (z.pow(2).sum(dim=1) / 2 - logdet).mean().backward()
    return {"flow": flow}
""",
            expect={"grad_ok": ["flow.st.0.weight"]},
        ),
        Example(
            name="euler-step-updates-the-input-a-submodule-saved",
            code="""import torch
import torch.nn as nn


class VectorField(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 4))

    def forward(self, t, h):
        return self.net(h)


class Euler(nn.Module):
    def __init__(self, func, steps=3):
        super().__init__()
        self.func = func
        self.steps = steps

    def forward(self, h0):
        h = h0.clone()
        for k in range(self.steps):
            h += 0.1 * self.func(k * 0.1, h)
        return h


def main():
    torch.manual_seed(0)
    model = Euler(VectorField())
    model(torch.randn(5, 4)).pow(2).mean().backward()
    return {"model": model}
""",
            lines=(23,),
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            bad=False,
            name="euler-step-out-of-place",
            code="""import torch
import torch.nn as nn


class VectorField(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 4))

    def forward(self, t, h):
        return self.net(h)


class Euler(nn.Module):
    def __init__(self, func, steps=3):
        super().__init__()
        self.func = func
        self.steps = steps

    def forward(self, h0):
        h = h0.clone()
        for k in range(self.steps):
            h = h + 0.1 * self.func(k * 0.1, h)
        return h


def main():
    torch.manual_seed(0)
    model = Euler(VectorField())
    model(torch.randn(5, 4)).pow(2).mean().backward()
    return {"model": model}
""",
            expect={"grad_ok": ["model.func.net.0.weight"]},
        ),
        Example(
            name="attention-energies-through-a-dropout-built-in-place",
            code="""import torch
import torch.nn as nn


class AdditiveAttention(nn.Module):
    def __init__(self, hidden, dim=8):
        super().__init__()
        self.q = nn.Linear(hidden, dim)
        self.k = nn.Linear(hidden, dim)
        self.v = nn.Linear(dim, 1)
        self.drop = nn.Dropout(0.1, inplace=True)

    def forward(self, query, keys):
        energy = torch.tanh(self.q(query).unsqueeze(1) + self.k(keys))
        energy = self.drop(energy)
        weights = torch.softmax(self.v(energy).squeeze(-1), dim=-1)
        return torch.bmm(weights.unsqueeze(1), keys).squeeze(1)


def main():
    torch.manual_seed(0)
    attn = AdditiveAttention(6)
    attn(torch.randn(3, 6), torch.randn(3, 5, 6)).pow(2).mean().backward()
    return {"attn": attn}
""",
            lines=(15,),
            expect={"error": "modified by an inplace operation"},
            fixed_expect={"grad_ok": ["attn.q.weight", "attn.k.weight", "attn.v.weight"]},
        ),
        Example(
            bad=False,
            name="attention-scores-through-a-dropout-built-in-place-before-tanh",
            code="""import torch
import torch.nn as nn


class AdditiveAttention(nn.Module):
    def __init__(self, hidden, dim=8):
        super().__init__()
        self.q = nn.Linear(hidden, dim)
        self.k = nn.Linear(hidden, dim)
        self.v = nn.Linear(dim, 1)
        self.drop = nn.Dropout(0.1, inplace=True)

    def forward(self, query, keys):
        scores = self.q(query).unsqueeze(1) + self.k(keys)
        energy = torch.tanh(self.drop(scores))
        weights = torch.softmax(self.v(energy).squeeze(-1), dim=-1)
        return torch.bmm(weights.unsqueeze(1), keys).squeeze(1)


def main():
    torch.manual_seed(0)
    attn = AdditiveAttention(6)
    attn(torch.randn(3, 6), torch.randn(3, 5, 6)).pow(2).mean().backward()
    return {"attn": attn}
""",
            expect={"grad_ok": ["attn.q.weight", "attn.k.weight", "attn.v.weight"]},
        ),
        Example(
            name="in-place-activation-attribute-on-the-padded-map-a-conv-saved",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class PaddedBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3)
        self.skip = nn.Conv2d(ch, ch, 1)
        self.skip_act = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x):
        padded = F.pad(x, (1, 1, 1, 1))
        main = self.conv(padded)
        skip = self.skip(self.skip_act(padded))[:, :, 1:-1, 1:-1]
        return main + skip


def main():
    torch.manual_seed(0)
    block = PaddedBlock(3)
    block(torch.randn(2, 3, 6, 6)).pow(2).mean().backward()
    return {"block": block}
""",
            lines=(16,),
            expect={"error": "modified by an inplace operation"},
            fixed_expect={"grad_ok": ["block.conv.weight", "block.skip.weight"]},
        ),
        Example(
            name="functional-in-place-activation-on-the-input-a-conv-saved",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class PaddedBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)
        self.skip = nn.Conv2d(ch, ch, 1)

    def forward(self, x):
        h = x * 2.0
        main = self.conv(h)
        skip = self.skip(F.leaky_relu(h, 0.2, inplace=True))
        return main + skip


def main():
    torch.manual_seed(0)
    block = PaddedBlock(3)
    block(torch.randn(2, 3, 6, 6)).pow(2).mean().backward()
    return {"block": block}
""",
            lines=(15,),
            expect={"error": "modified by an inplace operation"},
            fixed_expect={"grad_ok": ["block.conv.weight", "block.skip.weight"]},
        ),
        Example(
            name="in-place-activation-on-the-input-a-custom-function-saved",
            code="""import torch
import torch.nn as nn


class Splat(torch.autograd.Function):
    @staticmethod
    def forward(ctx, feat, shift):
        ctx.save_for_backward(feat)
        return feat.roll(1, -1) * 2.0

    @staticmethod
    def backward(ctx, grad_out):
        (feat,) = ctx.saved_tensors
        return grad_out.roll(-1, -1) * 2.0 + 0.0 * feat, None


class Interp(nn.Module):
    def __init__(self):
        super().__init__()
        self.encode = nn.Conv1d(2, 4, 3, padding=1)
        self.act = nn.ReLU(inplace=True)
        self.decode = nn.Conv1d(8, 1, 1)

    def forward(self, x):
        feat = self.encode(x)
        warped = Splat.apply(feat, x[:, 1:] - x[:, :1])
        context = self.act(feat)
        return self.decode(torch.cat([warped, context], dim=1))


def main():
    torch.manual_seed(0)
    model = Interp()
    model(torch.randn(3, 2, 8)).pow(2).mean().backward()
    return {"model": model}
""",
            lines=(27,),
            expect={"error": "modified by an inplace operation"},
            fixed_expect={"grad_ok": ["model.encode.weight", "model.decode.weight"]},
        ),
        Example(
            bad=False,
            name="out-of-place-activation-on-the-input-a-custom-function-saved",
            code="""import torch
import torch.nn as nn


class Splat(torch.autograd.Function):
    @staticmethod
    def forward(ctx, feat, shift):
        ctx.save_for_backward(feat)
        return feat.roll(1, -1) * 2.0

    @staticmethod
    def backward(ctx, grad_out):
        (feat,) = ctx.saved_tensors
        return grad_out.roll(-1, -1) * 2.0 + 0.0 * feat, None


class Interp(nn.Module):
    def __init__(self):
        super().__init__()
        self.encode = nn.Conv1d(2, 4, 3, padding=1)
        self.act = nn.ReLU(inplace=False)
        self.decode = nn.Conv1d(8, 1, 1)

    def forward(self, x):
        feat = self.encode(x)
        warped = Splat.apply(feat, x[:, 1:] - x[:, :1])
        context = self.act(feat)
        return self.decode(torch.cat([warped, context], dim=1))


def main():
    torch.manual_seed(0)
    model = Interp()
    model(torch.randn(3, 2, 8)).pow(2).mean().backward()
    return {"model": model}
""",
            expect={"grad_ok": ["model.encode.weight", "model.decode.weight"]},
        ),
        Example(
            bad=False,
            name="in-place-activation-attribute-before-the-conv-reads-the-map",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class PreActBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3)
        self.act = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x):
        padded = F.pad(x, (1, 1, 1, 1))
        return self.conv(self.act(padded))


def main():
    torch.manual_seed(0)
    block = PreActBlock(3)
    block(torch.randn(2, 3, 6, 6)).pow(2).mean().backward()
    return {"block": block}
""",
            expect={"grad_ok": ["block.conv.weight", "block.conv.bias"]},
        ),
        Example(
            name="in-place-activation-passed-in-after-sigmoid",
            code="""import torch
import torch.nn as nn


class Gate(nn.Module):
    def __init__(self, dim, act):
        super().__init__()
        self.score = nn.Linear(dim, 1)
        self.act = act

    def forward(self, h):
        a = torch.sigmoid(self.score(h))
        a = self.act(a)
        return (a * h).sum(dim=1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        act = nn.ReLU(inplace=True)
        self.embed = nn.Sequential(nn.Linear(4, 8), act)
        self.gate = Gate(8, act)

    def forward(self, x):
        return self.gate(self.embed(x))


def main():
    torch.manual_seed(0)
    net = Net()
    net(torch.randn(2, 5, 4)).pow(2).mean().backward()
    return {"net": net}
""",
            lines=(13,),
            expect={"error": "modified by an inplace operation"},
            fixed_expect={"grad_ok": ["net.gate.score.weight", "net.embed.0.weight"]},
        ),
        Example(
            name="chunked-head-output-clamped-in-place",
            code="""import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 6)

    def forward(self, x):
        loc, scale = self.proj(x).chunk(2, dim=-1)
        scale.clamp_(0.1, 2.0)
        return loc * scale


def main():
    torch.manual_seed(0)
    head = Head()
    head(torch.randn(5, 4)).pow(2).mean().backward()
    return {"head": head}
""",
            lines=(12,),
            expect={"error": "is a view and is being modified inplace"},
        ),
        Example(
            name="unbind-parts-updated-with-augmented-assignment",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 4)
    rows = torch.unbind(net(torch.randn(2, 3)), dim=0)
    first = rows[0]
    first += 1.0
    loss = (first * rows[1]).sum()
    loss.backward()
    return {"net": net}
""",
            lines=(10,),
            expect={"error": "is a view and is being modified inplace"},
        ),
        Example(
            bad=False,
            name="split-of-data-or-a-clone-or-tensor-split-modified-in-place",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 6)
    data_a, data_b = torch.randn(5, 6).split(3, dim=-1)
    data_b.clamp_(0.0, 1.0)
    out = net(torch.randn(5, 4))
    loc, scale = out.chunk(2, dim=-1)
    scale = scale.clone()
    scale.clamp_(0.1, 2.0)
    left, right = net(torch.randn(5, 4)).tensor_split(2, dim=-1)
    right.relu_()
    loss = (loc * scale + data_b).sum() + right.sum()
    loss.backward()
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight"]},
        ),
        Example(
            name="loss-helper-modifies-the-input-pow-saved",
            code="""import torch
import torch.nn as nn


def robust_loss(pred, target):
    diff = pred - target
    quadratic = 0.5 * diff.pow(2)
    diff.abs_()
    return torch.where(diff < 1.0, quadratic, diff - 0.5).mean()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    loss = robust_loss(model(torch.randn(8, 4)), torch.randn(8, 1))
    loss.backward()
    return {"model": model}
""",
            lines=(8,),
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            name="softmax-masked-fill-inplace",
            code="""import torch
import torch.nn as nn


class Pool(nn.Module):
    def __init__(self):
        super().__init__()
        self.score = nn.Linear(6, 1)

    def forward(self, x, keep):
        w = self.score(x).squeeze(-1).softmax(dim=-1)
        w.masked_fill_(~keep, 0.0)
        return (w.unsqueeze(-1) * x).sum(dim=1)


def main():
    torch.manual_seed(0)
    pool = Pool()
    x = torch.randn(2, 4, 6)
    keep = torch.tensor([[True, True, False, True], [True, False, True, True]])
    pool(x, keep).pow(2).sum().backward()
    return {"pool": pool}
""",
            lines=(12,),
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            name="sigmoid-index-assign-and-augassign",
            code="""import torch


def main():
    torch.manual_seed(0)
    logits = torch.randn(3, 5, requires_grad=True)
    gates = torch.sigmoid(logits)
    gates[:, -1] = 1.0
    scores = torch.tanh(logits)
    scores *= 2.0
    (gates * scores).sum().backward()
    return {"logits": logits}
""",
            lines=(8, 10),
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            name="sequential-inplace-after-sigmoid",
            code="""import torch
from torch import nn


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Dropout(0.1, inplace=True), nn.Linear(4, 1))
    net(torch.randn(5, 3)).sum().backward()
    return {"net": net}
""",
            lines=(7,),
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            name="recurrence-written-into-a-preallocated-state-buffer",
            code="""import torch
import torch.nn as nn


class Recurrent(nn.Module):
    def __init__(self, d_in=3, hidden=4):
        super().__init__()
        self.hidden = hidden
        self.inp = nn.Linear(d_in, hidden)
        self.rec = nn.Linear(hidden, hidden, bias=False)

    def forward(self, x):
        states = x.new_zeros(x.shape[0], x.shape[1] + 1, self.hidden)
        for t in range(x.shape[1]):
            states[:, t + 1] = torch.tanh(self.inp(x[:, t]) + self.rec(states[:, t]))
        return states[:, 1:]


def main():
    torch.manual_seed(0)
    net = Recurrent()
    net(torch.randn(2, 5, 3)).sum().backward()
    return {"net": net}
""",
            lines=(15,),
            fixable=False,  # the sound fix (a list of states and torch.stack) rewrites the loop
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            bad=False,
            name="recurrence-collected-in-a-list-and-outputs-written-into-a-buffer",
            code="""import torch
import torch.nn as nn


class Recurrent(nn.Module):
    def __init__(self, d_in=3, hidden=4):
        super().__init__()
        self.hidden = hidden
        self.inp = nn.Linear(d_in, hidden)
        self.rec = nn.Linear(hidden, hidden, bias=False)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        h = x.new_zeros(x.shape[0], self.hidden)
        states = []
        preds = x.new_zeros(x.shape[0], x.shape[1])
        for t in range(x.shape[1]):
            h = torch.tanh(self.inp(x[:, t]) + self.rec(h))
            states.append(h)
            preds[:, t] = self.out(h).squeeze(-1)
        return torch.stack(states, dim=1), preds


def main():
    torch.manual_seed(0)
    net = Recurrent()
    states, preds = net(torch.randn(2, 5, 3))
    (states.sum() + preds.sum()).backward()
    return {"net": net}
""",
            expect={"grad_ok": ["net.inp.weight", "net.rec.weight", "net.out.weight"]},
        ),
        Example(
            bad=False,
            name="clone-or-out-of-place",
            code="""import torch
from torch import nn


def main():
    torch.manual_seed(0)
    logits = torch.randn(3, 5, requires_grad=True)
    attn = logits.softmax(dim=-1)
    attn = attn.masked_fill(attn < 0.1, 0.0)
    gates = torch.sigmoid(logits).clone()
    gates[:, 0] = 1.0
    with torch.no_grad():
        probe = torch.exp(logits)
        probe += 1.0
    h = torch.relu(logits)
    h = h + 1.0
    net = nn.Sequential(nn.Linear(5, 5), nn.ReLU(inplace=True), nn.Linear(5, 1))
    (attn * gates * h).sum().backward()
    net(logits).sum().backward()
    return {"logits": logits, "net": net}
""",
            expect={"grad_ok": ["logits", "net.0.weight"]},
        ),
        Example(
            name="max-norm-table-read-whole-then-looked-up",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Retrieval(nn.Module):
    def __init__(self):
        super().__init__()
        self.users = nn.Embedding(8, 4)
        self.items = nn.Embedding(10, 4, max_norm=1.0)

    def scores(self, users):
        return self.users(users) @ self.items.weight.t()

    def forward(self, users, items):
        logits = self.scores(users)
        pos = self.items(items)
        return logits, pos


def main():
    torch.manual_seed(0)
    model = Retrieval()
    users, items = torch.tensor([0, 1, 2]), torch.tensor([3, 4, 5])
    logits, pos = model(users, items)
    (F.cross_entropy(logits, items) + 1e-3 * pos.pow(2).sum()).backward()
    return {"model": model}
""",
            expect={"error": "modified by an inplace operation"},
            lines=(13,),
        ),
        Example(
            bad=False,
            name="max-norm-table-looked-up-before-it-is-read-whole",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Retrieval(nn.Module):
    def __init__(self):
        super().__init__()
        self.users = nn.Embedding(8, 4)
        self.items = nn.Embedding(10, 4, max_norm=1.0)

    def scores(self, users):
        return self.users(users) @ self.items.weight.t()

    def forward(self, users, items):
        pos = self.items(items)
        logits = self.scores(users)
        return logits, pos


def main():
    torch.manual_seed(0)
    model = Retrieval()
    users, items = torch.tensor([0, 1, 2]), torch.tensor([3, 4, 5])
    logits, pos = model(users, items)
    (F.cross_entropy(logits, items) + 1e-3 * pos.pow(2).sum()).backward()
    return {"model": model}
""",
            expect={"grad_ok": ["model.items.weight", "model.users.weight"]},
        ),
        Example(
            name="residual-added-in-place-to-the-output-of-a-relu-attribute",
            code="""import torch
import torch.nn as nn


class Residual(nn.Module):
    def __init__(self, d=8):
        super().__init__()
        self.fc = nn.Linear(d, d)
        self.act = nn.ReLU()

    def forward(self, x):
        out = self.act(self.fc(x))
        out += x
        return out


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), Residual(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    model(torch.randn(5, 4)).pow(2).mean().backward()
    opt.step()
    return {"model": model}
""",
            lines=(13,),
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            name="shortcut-added-in-place-to-a-conv-bn-relu-block-from-a-helper",
            code="""import torch
import torch.nn as nn


def conv_bn_act(c_in, c_out, k=3):
    layers = [nn.Conv2d(c_in, c_out, k, 1, k // 2, bias=False), nn.BatchNorm2d(c_out)]
    layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Unit(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv1 = conv_bn_act(ch, ch, 1)
        self.conv2 = conv_bn_act(ch, ch)

    def forward(self, x):
        out = self.conv2(self.conv1(x))
        out += x
        return out


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), Unit(4), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    model(torch.randn(2, 3, 8, 8)).pow(2).mean().backward()
    opt.step()
    return {"model": model}
""",
            lines=(19,),
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            name="activation-chosen-by-a-constructor-argument-is-relu-before-an-in-place-shortcut",
            code="""import torch
import torch.nn as nn


def conv_act(c, act="gelu"):
    return nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.GELU() if act == "gelu" else nn.ReLU())


class Unit(nn.Module):
    def __init__(self, ch, act):
        super().__init__()
        self.body = conv_act(ch, act=act)

    def forward(self, x):
        out = self.body(x)
        out += x
        return out


class Net(nn.Module):
    def __init__(self, act="gelu"):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.unit = Unit(4, act)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.unit(self.stem(x)).mean((2, 3)))


def main():
    torch.manual_seed(0)
    model = Net(act="relu")
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    model(torch.randn(2, 3, 8, 8)).pow(2).mean().backward()
    opt.step()
    return {"model": model}
""",
            lines=(16,),
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            name="activation-chosen-by-a-constructor-argument-is-gelu-before-an-in-place-shortcut",
            bad=False,
            code="""import torch
import torch.nn as nn


def conv_act(c, act="gelu"):
    return nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.GELU() if act == "gelu" else nn.ReLU())


class Unit(nn.Module):
    def __init__(self, ch, act):
        super().__init__()
        self.body = conv_act(ch, act=act)

    def forward(self, x):
        out = self.body(x)
        out += x
        return out


class Net(nn.Module):
    def __init__(self, act="gelu"):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.unit = Unit(4, act)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.unit(self.stem(x)).mean((2, 3)))


def main():
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    model(torch.randn(2, 3, 8, 8)).pow(2).mean().backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.unit.body.0.weight", "model.stem.weight"]},
        ),
        Example(
            name="residual-added-in-place-after-batchnorm-then-relu",
            bad=False,
            code="""import torch
import torch.nn as nn


class Unit(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch))
        self.act = nn.ReLU()

    def forward(self, x):
        out = self.conv(x)
        out += x
        return self.act(out)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), Unit(4), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    model(torch.randn(2, 3, 8, 8)).pow(2).mean().backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.1.conv.0.weight", "model.4.weight"]},
        ),
        Example(
            name="in-place-add-to-the-output-of-gelu-and-relu6-attributes",
            bad=False,
            code="""import torch
import torch.nn as nn


class Mixer(nn.Module):
    def __init__(self, d=8):
        super().__init__()
        self.fc1 = nn.Linear(d, d)
        self.fc2 = nn.Linear(d, d)
        self.gelu = nn.GELU()
        self.clip = nn.ReLU6()

    def forward(self, x):
        h = self.gelu(self.fc1(x))
        h += x
        g = self.clip(self.fc2(h))
        g += 1.0
        return g


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), Mixer(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    model(torch.randn(5, 4)).pow(2).mean().backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.1.fc1.weight", "model.1.fc2.weight"]},
        ),
        Example(
            name="helper-writes-into-the-sigmoid-it-computed-from-its-argument",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def decode(p, stride=4):
    y = p.sigmoid()
    y[..., 0:2] = (y[..., 0:2] * 2 - 0.5) * stride
    return y


def train(model, batches, optimizer):
    for x, target in batches:
        y = decode(model(x))
        loss = F.l1_loss(y[..., :2], target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 6)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train(model, [(torch.randn(5, 4), torch.rand(5, 2))], optimizer)
    return {"model": model}
""",
            lines=(8,),
            expect={"error": "modified by an inplace operation"},
            fixed_expect={"grad_ok": ["model.weight"]},
        ),
        Example(
            bad=False,
            name="helper-writes-into-the-sigmoid-of-a-detached-prediction",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def decode(p, stride=4):
    y = p.sigmoid()
    y[..., 0:2] = (y[..., 0:2] * 2 - 0.5) * stride
    return y


def train(model, batches, optimizer):
    boxes = []
    for x, target in batches:
        out = model(x)
        loss = F.l1_loss(out.sigmoid()[..., :2], target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        boxes.append(decode(out.detach()))
    return boxes


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 6)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train(model, [(torch.randn(5, 4), torch.rand(5, 2))], optimizer)
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight"]},
        ),
        Example(
            name="functional-dropout-in-place-on-attention-probabilities",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, d=8, p=0.1):
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d)
        self.p = p

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        w = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
        w = F.dropout(w, p=self.p, training=self.training, inplace=True)
        return w @ v


def main():
    torch.manual_seed(0)
    model = Attention()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(2, 5, 8)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"model": model}
""",
            lines=(15,),
            expect={"error": "modified by an inplace operation"},
            fixed_expect={"grad_ok": ["model.qkv.weight"]},
        ),
        Example(
            bad=False,
            name="functional-dropout-and-relu-in-place-on-a-linear-output",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self, d=8):
        super().__init__()
        self.fc1 = nn.Linear(d, 16)
        self.fc2 = nn.Linear(16, 1)

    def forward(self, x):
        h = F.dropout(self.fc1(x), p=0.1, training=self.training, inplace=True)
        h = F.relu(h, inplace=True)
        return self.fc2(h)


def main():
    torch.manual_seed(0)
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(4, 8)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.fc1.weight", "model.fc2.weight"]},
        ),
        Example(
            name="forward-hook-clips-the-weight-its-layer-saved",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class ClippedMLP(nn.Module):
    def __init__(self, bound=0.2):
        super().__init__()
        self.fc1 = nn.Linear(6, 16)
        self.fc2 = nn.Linear(16, 3)
        self.bound = bound
        for layer in (self.fc1, self.fc2):
            layer.register_forward_hook(self._clip)

    def _clip(self, module, inputs, output):
        with torch.no_grad():
            module.weight.clamp_(-self.bound, self.bound)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def main():
    torch.manual_seed(0)
    model = ClippedMLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = F.cross_entropy(model(torch.randn(8, 6)), torch.randint(0, 3, (8,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(17,),
            fixable=False,
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            name="conv-forward-hook-masks-its-weight",
            code="""import torch
import torch.nn as nn


def prune_small(module, inputs, output):
    with torch.no_grad():
        module.weight[module.weight.abs() < 0.05] = 0.0


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))
    net[0].register_forward_hook(prune_small)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss = nn.functional.cross_entropy(net(torch.randn(4, 3, 8, 8)), torch.tensor([0, 1, 0, 1]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            lines=(7,),
            fixable=False,
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            bad=False,
            name="forward-pre-hook-clips-the-weight-before-the-layer-runs",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class ClippedMLP(nn.Module):
    def __init__(self, bound=0.2):
        super().__init__()
        self.fc1 = nn.Linear(6, 16)
        self.fc2 = nn.Linear(16, 3)
        self.bound = bound
        for layer in (self.fc1, self.fc2):
            layer.register_forward_pre_hook(self._clip)

    def _clip(self, module, inputs):
        with torch.no_grad():
            module.weight.clamp_(-self.bound, self.bound)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def main():
    torch.manual_seed(0)
    model = ClippedMLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = F.cross_entropy(model(torch.randn(8, 6)), torch.randint(0, 3, (8,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.fc1.weight", "model.fc2.weight"]},
        ),
        Example(
            bad=False,
            name="forward-hook-on-the-first-linear-and-data-writes",
            code="""import torch
import torch.nn as nn


def clip_first(module, inputs, output):
    with torch.no_grad():
        module.weight.clamp_(-0.3, 0.3)


def clip_data(module, inputs, output):
    module.weight.data.clamp_(-0.3, 0.3)


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 1))
    net[0].register_forward_hook(clip_first)
    net[2].register_forward_hook(clip_data)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = (net(torch.randn(6, 5)) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.0.weight", "net.2.weight"]},
        ),
        Example(
            name="helper-of-forward-writes-into-the-exp-output-of-a-tensor-that-requires-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class RBFLayer(nn.Module):
    def __init__(self, d_in, d_out, knots=5):
        super().__init__()
        self.register_buffer("grid", torch.linspace(-2, 2, knots))
        self.weight = nn.Parameter(torch.randn(d_out, d_in * knots) * 0.1)

    def basis(self, x):
        phi = torch.exp(-(x.unsqueeze(-1) - self.grid) ** 2)
        phi[..., 0] = 1.0
        return phi.flatten(1)

    def forward(self, x):
        return F.linear(self.basis(x), self.weight)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(RBFLayer(3, 4), RBFLayer(4, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(8, 3)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(14,),
            expect={"error": "modified by an inplace operation"},
            fixed_expect={"grad_ok": ["model.0.weight", "model.1.weight"]},
        ),
        Example(
            name="helper-of-forward-writes-into-a-copy-of-the-exp-output",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class RBFLayer(nn.Module):
    def __init__(self, d_in, d_out, knots=5):
        super().__init__()
        self.register_buffer("grid", torch.linspace(-2, 2, knots))
        self.weight = nn.Parameter(torch.randn(d_out, d_in * knots) * 0.1)

    def basis(self, x):
        phi = torch.exp(-(x.unsqueeze(-1) - self.grid) ** 2).clone()
        phi[..., 0] = 1.0
        return phi.flatten(1)

    def forward(self, x):
        return F.linear(self.basis(x), self.weight)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(RBFLayer(3, 4), RBFLayer(4, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(8, 3)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.weight", "model.1.weight"]},
        ),
        Example(
            name="helper-multiplies-into-the-output-a-custom-function-saved",
            code="""import torch
import torch.nn as nn


class FusedSiLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = torch.sigmoid(x)
        y = x * s
        ctx.save_for_backward(s, y)
        return y

    @staticmethod
    def backward(ctx, g):
        s, y = ctx.saved_tensors
        return g * (s + y * (1 - s))


def gate_with(act, up):
    return act.mul_(up)


class GatedMLP(nn.Module):
    def __init__(self, d=4, h=8):
        super().__init__()
        self.gate, self.up, self.down = nn.Linear(d, h), nn.Linear(d, h), nn.Linear(h, d)

    def forward(self, x):
        return self.down(gate_with(FusedSiLU.apply(self.gate(x)), self.up(x)))


def main():
    torch.manual_seed(0)
    mlp = GatedMLP()
    opt = torch.optim.SGD(mlp.parameters(), lr=0.1)
    loss = mlp(torch.randn(6, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"mlp": mlp}
""",
            lines=(20,),
            fixable=False,
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            name="helper-multiplies-the-output-a-custom-function-saved-out-of-place",
            bad=False,
            code="""import torch
import torch.nn as nn


class FusedSiLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = torch.sigmoid(x)
        y = x * s
        ctx.save_for_backward(s, y)
        return y

    @staticmethod
    def backward(ctx, g):
        s, y = ctx.saved_tensors
        return g * (s + y * (1 - s))


def gate_with(act, up):
    return act * up


class GatedMLP(nn.Module):
    def __init__(self, d=4, h=8):
        super().__init__()
        self.gate, self.up, self.down = nn.Linear(d, h), nn.Linear(d, h), nn.Linear(h, d)

    def forward(self, x):
        return self.down(gate_with(FusedSiLU.apply(self.gate(x)), self.up(x)))


def main():
    torch.manual_seed(0)
    mlp = GatedMLP()
    opt = torch.optim.SGD(mlp.parameters(), lr=0.1)
    loss = mlp(torch.randn(6, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"mlp": mlp}
""",
            expect={"grad_ok": ["mlp.gate.weight", "mlp.up.weight"]},
        ),
        Example(
            name="trainer-method-steps-the-critic-before-the-generator-loss-it-was-given",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class GAN:
    def __init__(self):
        self.G, self.D = nn.Linear(3, 4), nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=1e-3)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=1e-3)

    def losses(self, real, z):
        fake = self.G(z)
        d_loss = F.softplus(-self.D(real)).mean() + F.softplus(self.D(fake.detach())).mean()
        g_loss = F.softplus(-self.D(fake)).mean()
        return g_loss, d_loss

    def update(self, g_loss, d_loss):
        self.opt_d.zero_grad()
        d_loss.backward()
        self.opt_d.step()
        self.opt_g.zero_grad()
        g_loss.backward()
        self.opt_g.step()

def main():
    torch.manual_seed(0)
    gan = GAN()
    for _ in range(2):
        g_loss, d_loss = gan.losses(torch.randn(8, 4), torch.randn(8, 3))
        gan.update(g_loss, d_loss)
    return {"G": gan.G, "D": gan.D}
""",
            lines=(21,),
            fixable=False,
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            name="trainer-method-runs-both-backward-passes-before-stepping",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class GAN:
    def __init__(self):
        self.G, self.D = nn.Linear(3, 4), nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=1e-3)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=1e-3)

    def losses(self, real, z):
        fake = self.G(z)
        d_loss = F.softplus(-self.D(real)).mean() + F.softplus(self.D(fake.detach())).mean()
        g_loss = F.softplus(-self.D(fake)).mean()
        return g_loss, d_loss

    def update(self, g_loss, d_loss):
        self.opt_d.zero_grad()
        d_loss.backward()
        d_grads = [p.grad.clone() for p in self.D.parameters()]
        self.opt_g.zero_grad()
        g_loss.backward()
        for p, g in zip(self.D.parameters(), d_grads):
            p.grad = g
        self.opt_d.step()
        self.opt_g.step()

def main():
    torch.manual_seed(0)
    gan = GAN()
    for _ in range(2):
        g_loss, d_loss = gan.losses(torch.randn(8, 4), torch.randn(8, 3))
        gan.update(g_loss, d_loss)
    return {"G": gan.G, "D": gan.D}
""",
            expect={"grad_ok": ["G.weight", "D.0.weight"]},
        ),
        Example(
            name="memory-buffer-saved-by-a-helper-then-enqueued-before-backward",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Memory(nn.Module):
    def __init__(self, size=16, dim=4):
        super().__init__()
        self.register_buffer("feats", F.normalize(torch.randn(size, dim), dim=-1))
        self.ptr = 0

    def enqueue(self, x):
        idx = (torch.arange(x.shape[0]) + self.ptr) % self.feats.shape[0]
        self.feats[idx] = x.detach()
        self.ptr = int((self.ptr + x.shape[0]) % self.feats.shape[0])


def memory_loss(q, keys):
    return (1.0 - q @ keys.t()).clamp(min=0).mean()


def main():
    torch.manual_seed(0)
    encoder, memory = nn.Linear(6, 4), Memory()
    opt = torch.optim.SGD(encoder.parameters(), lr=0.1)
    for _ in range(2):
        q = F.normalize(encoder(torch.randn(8, 6)), dim=-1)
        loss = memory_loss(q, memory.feats)
        memory.enqueue(q)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"encoder": encoder}
""",
            lines=(14,),
            expect={"error": "modified by an inplace operation"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="memory-buffer-enqueued-after-backward",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Memory(nn.Module):
    def __init__(self, size=16, dim=4):
        super().__init__()
        self.register_buffer("feats", F.normalize(torch.randn(size, dim), dim=-1))
        self.ptr = 0

    def enqueue(self, x):
        idx = (torch.arange(x.shape[0]) + self.ptr) % self.feats.shape[0]
        self.feats[idx] = x.detach()
        self.ptr = int((self.ptr + x.shape[0]) % self.feats.shape[0])


def memory_loss(q, keys):
    return (1.0 - q @ keys.t()).clamp(min=0).mean()


def main():
    torch.manual_seed(0)
    encoder, memory = nn.Linear(6, 4), Memory()
    opt = torch.optim.SGD(encoder.parameters(), lr=0.1)
    for _ in range(2):
        q = F.normalize(encoder(torch.randn(8, 6)), dim=-1)
        loss = memory_loss(q, memory.feats)
        opt.zero_grad()
        loss.backward()
        opt.step()
        memory.enqueue(q)  # after backward: what matmul saved is no longer needed
    return {"encoder": encoder}
""",
            expect={"grad_ok": ["encoder.weight"]},
        ),
        Example(
            name="advantage-from-before-a-helper-that-steps-the-critic",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Agent:
    def __init__(self):
        self.actor = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        self.critic = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=1e-3)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=1e-2)

    def fit_critic(self, states, target):
        loss = F.mse_loss(self.critic(states), target.detach())
        self.critic_opt.zero_grad()
        loss.backward()
        self.critic_opt.step()

    def update(self, states, actions, rewards, next_states):
        target = rewards + 0.9 * self.critic(next_states)
        advantage = target - self.critic(states)
        self.fit_critic(states, target)
        log_probs = torch.log_softmax(self.actor(states), -1).gather(1, actions)
        actor_loss = -(log_probs * advantage).mean()
        self.actor_opt.zero_grad()
        actor_loss.backward()
        self.actor_opt.step()


def main():
    torch.manual_seed(0)
    agent = Agent()
    for _ in range(2):
        s, s2 = torch.randn(6, 4), torch.randn(6, 4)
        agent.update(s, torch.randint(0, 2, (6, 1)), torch.rand(6, 1), s2)
    return {"actor": agent.actor}
""",
            lines=(21,),
            expect={"error": "modified by an inplace operation"},
            fixed_expect={"grad_ok": ["actor.0.weight"]},
        ),
        Example(
            bad=False,
            name="advantage-detached-before-a-helper-that-steps-the-critic",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Agent:
    def __init__(self):
        self.actor = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        self.critic = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=1e-3)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=1e-2)

    def fit_critic(self, states, target):
        loss = F.mse_loss(self.critic(states), target.detach())
        self.critic_opt.zero_grad()
        loss.backward()
        self.critic_opt.step()

    def update(self, states, actions, rewards, next_states):
        target = rewards + 0.9 * self.critic(next_states)
        advantage = target - self.critic(states)
        self.fit_critic(states, target)
        log_probs = torch.log_softmax(self.actor(states), -1).gather(1, actions)
        actor_loss = -(log_probs * advantage.detach()).mean()
        self.actor_opt.zero_grad()
        actor_loss.backward()
        self.actor_opt.step()


def main():
    torch.manual_seed(0)
    agent = Agent()
    for _ in range(2):
        s, s2 = torch.randn(6, 4), torch.randn(6, 4)
        agent.update(s, torch.randint(0, 2, (6, 1)), torch.rand(6, 1), s2)
    return {"actor": agent.actor}
""",
            expect={"grad_ok": ["actor.0.weight"]},
        ),
        Example(
            name="margin-written-into-the-cosines-acos-saved",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class AngularMargin(nn.Module):
    def __init__(self, dim=4, classes=3, margin=0.2):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(classes, dim) * 0.1)
        self.margin = margin

    def forward(self, emb, labels):
        cos = F.linear(F.normalize(emb), F.normalize(self.weight)).clamp(-1 + 1e-6, 1 - 1e-6)
        theta = torch.acos(cos)
        target = torch.cos(theta + self.margin)
        hit = F.one_hot(labels, cos.size(1)).bool()
        cos[hit] = target[hit]
        return cos * 16.0


def main():
    torch.manual_seed(0)
    head = AngularMargin()
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
    emb, labels = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    for _ in range(2):
        loss = F.cross_entropy(head(emb, labels), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"head": head}
""",
            lines=(17,),
            expect={"error": "modified by an inplace operation"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="margin-applied-out-of-place-after-acos",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class AngularMargin(nn.Module):
    def __init__(self, dim=4, classes=3, margin=0.2):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(classes, dim) * 0.1)
        self.margin = margin

    def forward(self, emb, labels):
        cos = F.linear(F.normalize(emb), F.normalize(self.weight)).clamp(-1 + 1e-6, 1 - 1e-6)
        theta = torch.acos(cos)
        target = torch.cos(theta + self.margin)
        hit = F.one_hot(labels, cos.size(1)).bool()
        logits = torch.where(hit, target, cos)
        logits[:, 0] = logits[:, 0] * 1.0
        return logits * 16.0


def main():
    torch.manual_seed(0)
    head = AngularMargin()
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
    emb, labels = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    for _ in range(2):
        loss = F.cross_entropy(head(emb, labels), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"head": head}
""",
            expect={"grad_ok": ["head.weight"]},
        ),
        Example(
            name="first-token-normalized-in-place-from-a-slice-of-itself",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.token_norm = nn.LayerNorm(dim)

    def forward(self, x):
        h = self.proj(x)
        h[:, 0] = self.token_norm(h[:, 0])
        return h


def main():
    torch.manual_seed(0)
    model = nn.Sequential(Block(), nn.Flatten(), nn.Linear(4 * 8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = F.cross_entropy(model(torch.randn(6, 4, 8)), torch.randint(0, 2, (6,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            lines=(14,),
            expect={"error": "modified by an inplace operation"},
        ),
        Example(
            name="scan-reads-the-previous-state-back-from-the-buffer-it-writes",
            code="""import torch
import torch.nn as nn


class SelectiveScan(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.a = nn.Parameter(torch.randn(d))

    def forward(self, x):
        L = x.size(0)
        dA = torch.exp(self.a * x)
        states = x.new_zeros(L, x.size(1))
        for t in range(L):
            prev = states[t - 1] if t > 0 else x.new_zeros(x.size(1))
            h = dA[t] * prev + x[t]
            states[t] = h
        return states


def main():
    torch.manual_seed(0)
    scan = SelectiveScan()
    opt = torch.optim.SGD(scan.parameters(), lr=0.1)
    loss = scan(torch.randn(5, 3)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"scan": scan}
""",
            lines=(17,),
            expect={'error': 'modified by an inplace operation'},
            fixable=False,
        ),
        Example(
            bad=False,
            name="scan-keeps-the-states-in-a-list-and-stacks-them",
            code="""import torch
import torch.nn as nn


class SelectiveScan(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.a = nn.Parameter(torch.randn(d))

    def forward(self, x):
        L = x.size(0)
        dA = torch.exp(self.a * x)
        states = []
        prev = x.new_zeros(x.size(1))
        for t in range(L):
            prev = dA[t] * prev + x[t]
            states.append(prev)
        return torch.stack(states)


def main():
    torch.manual_seed(0)
    scan = SelectiveScan()
    opt = torch.optim.SGD(scan.parameters(), lr=0.1)
    loss = scan(torch.randn(5, 3)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"scan": scan}
""",
            expect={'grad_ok': ['scan.a']},
        ),
        Example(
            name="recurrence-written-into-a-buffer-read-through-a-view",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    w = nn.Parameter(torch.randn(3))
    opt = torch.optim.SGD([w], lr=0.1)
    states = torch.zeros(4, 3)
    for t in range(1, 4):
        prev = states[t - 1]
        states[t] = w * prev + 1.0
    loss = states.sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"w": w}
""",
            lines=(12,),
            expect={'error': 'modified by an inplace operation'},
            fixable=False,
        ),
        Example(
            name="helper-zero-means-a-squeezed-view-of-a-tanh-output-in-place",
            code="""import torch
import torch.nn as nn


class Enhancer(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Conv1d(1, 1, 5, padding=2)

    def forward(self, noisy):
        return torch.tanh(self.net(noisy)).squeeze(1)


def zero_mean_loss(est, ref):
    est -= est.mean(-1, keepdim=True)
    return (est - ref).pow(2).mean()


def main():
    torch.manual_seed(0)
    model = Enhancer()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):
        loss = zero_mean_loss(model(torch.randn(4, 1, 32)), torch.randn(4, 32))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(15,),
            expect={'error': 'modified by an inplace operation'},
            fixed_expect={'grad_ok': ['model.net.weight']},
        ),
        Example(
            bad=False,
            name="helper-zero-means-a-squeezed-view-out-of-place",
            code="""import torch
import torch.nn as nn


class Enhancer(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Conv1d(1, 1, 5, padding=2)

    def forward(self, noisy):
        return torch.tanh(self.net(noisy)).squeeze(1)


def zero_mean_loss(est, ref):
    est = est - est.mean(-1, keepdim=True)
    return (est - ref).pow(2).mean()


def main():
    torch.manual_seed(0)
    model = Enhancer()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):
        loss = zero_mean_loss(model(torch.randn(4, 1, 32)), torch.randn(4, 32))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={'grad_ok': ['model.net.weight']},
        ),
        Example(
            name="model-output-log-softmax-shifted-in-place-by-a-training-helper",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(8, 16)
        self.out = nn.Linear(16, 5)

    def forward(self, x):
        return F.log_softmax(self.out(torch.relu(self.enc(x))), dim=-1)


def lower_first_class(log_probs, penalty):
    log_probs[:, 0] -= penalty
    return log_probs


def train(model, batches):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in batches:
        log_probs = lower_first_class(model(x), 0.5)
        loss = F.nll_loss(log_probs, y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    torch.manual_seed(0)
    model = Tagger()
    train(model, [(torch.randn(6, 8), torch.randint(0, 5, (6,))) for _ in range(3)])
    return {"model": model}
""",
            lines=(17,),
            expect={'error': 'modified by an inplace operation'},
            fixable=False,
        ),
        Example(
            bad=False,
            name="model-output-shifted-out-of-place-by-a-training-helper",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(8, 16)
        self.out = nn.Linear(16, 5)

    def forward(self, x):
        return F.log_softmax(self.out(torch.relu(self.enc(x))), dim=-1)


def lower_first_class(log_probs, penalty):
    shift = torch.zeros(log_probs.shape[-1])
    shift[0] = penalty
    return log_probs - shift


def train(model, batches):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in batches:
        log_probs = lower_first_class(model(x), 0.5)
        loss = F.nll_loss(log_probs, y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    torch.manual_seed(0)
    model = Tagger()
    train(model, [(torch.randn(6, 8), torch.randint(0, 5, (6,))) for _ in range(3)])
    return {"model": model}
""",
            expect={'grad_ok': ['model.enc.weight', 'model.enc.bias', 'model.out.weight', 'model.out.bias']},
        ),
        Example(
            name="log-softmax-shifted-in-place-by-a-helper-also-called-with-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.out = nn.Linear(4, 3)

    def forward(self, x):
        return self.out(x)

    @torch.no_grad()
    def decode(self, x, penalty=0.5):
        return self.scores(x, penalty).argmax(-1)

    def scores(self, x, penalty):
        s = F.log_softmax(self.out(x), -1)
        s[:, 0] -= penalty
        return s


def main():
    torch.manual_seed(0)
    model = Tagger()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 3, (8,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        s = model.scores(torch.randn(8, 4), 0.5)
        F.nll_loss(s, torch.randint(0, 3, (8,))).backward()
    return {"model": model}
""",
            lines=(20,),
            expect={'error': 'modified by an inplace operation'},
            fixable=False,
        ),
        Example(
            bad=False,
            name="log-softmax-shifted-in-place-by-a-helper-only-a-no-grad-method-calls",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.out = nn.Linear(4, 3)

    def forward(self, x):
        return self.out(x)

    @torch.no_grad()
    def decode(self, x, penalty=0.5):
        return self.scores(x, penalty).argmax(-1)

    def scores(self, x, penalty):
        s = F.log_softmax(self.out(x), -1)
        s[:, 0] -= penalty
        return s


def main():
    torch.manual_seed(0)
    model = Tagger()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 3, (8,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    tags = model.decode(torch.randn(5, 4))
    return {"model": model}, {"decoded": len(tags.tolist())}
""",
            expect={'grad_ok': ['model.out.bias', 'model.out.weight']},
        ),
        Example(
            bad=False,
            name="in-place-after-a-saver-read-only-as-a-number",
            code="""import torch
import torch.nn as nn


class ScaledMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        x = self.fc(torch.relu(self.fc(x)))
        while x.norm().item() > 1:
            x /= 2
        if float(x.abs().sum()) < 0.8:
            x *= 10
        return x.sum()


def main():
    torch.manual_seed(0)
    model = ScaledMLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    model(torch.rand(3, 8) * 10).backward()
    opt.step()
    return {"model": model}
""",
            expect={'grad_ok': ['model.fc.weight']},
        ),
        Example(
            name="in-place-on-an-activation-output-beside-number-reads",
            code="""import torch
import torch.nn as nn


class ScaledMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        x = torch.relu(self.fc(x))
        while x.norm().item() > 1:
            x /= 2
        if float(x.abs().sum()) < 0.8:
            x *= 10
        return x.sum()


def main():
    torch.manual_seed(0)
    model = ScaledMLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    model(torch.rand(3, 8) * 10).backward()
    opt.step()
    return {"model": model}
""",
            lines=(13, 15),
            expect={'error': 'modified by an inplace operation'},
            fixed_expect={'grad_ok': ['model.fc.weight']},
        ),
        Example(
            bad=False,
            name="inference-method-masks-scores-in-place-and-returns-indices",
            code="""import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3, padding=1)

    def forward(self, x):
        return self.conv(x).mean()

    def predict(self, x, k=5):
        score = torch.sigmoid(self.conv(x))
        peak = nn.functional.max_pool2d(score, 3, padding=1, stride=1)
        score *= (peak == score).float()
        return score.flatten(1).topk(k)[1].cpu().numpy()


def main():
    torch.manual_seed(0)
    net = Head()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    opt.zero_grad()
    net(torch.rand(2, 3, 8, 8)).backward()
    opt.step()
    picks = net.predict(torch.rand(1, 3, 8, 8))
    return {"net": net}, {"picked": int(picks.shape[1])}
""",
            expect={'grad_ok': ['net.conv.weight'], 'facts': {'picked': 5}},
        ),
        Example(
            name="method-masks-scores-in-place-and-returns-them-to-a-loss",
            code="""import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3, padding=1)

    def scores(self, x):
        score = torch.sigmoid(self.conv(x))
        peak = nn.functional.max_pool2d(score, 3, padding=1, stride=1)
        score *= (peak == score).float()
        return score


def main():
    torch.manual_seed(0)
    net = Head()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    opt.zero_grad()
    net.scores(torch.rand(2, 3, 8, 8)).mean().backward()
    opt.step()
    return {"net": net}
""",
            lines=(13,),
            expect={'error': 'modified by an inplace operation'},
            fixed_expect={'grad_ok': ['net.conv.weight']},
        ),
    )

    def check(self, facts):
        yield from self._stale_after_step(facts)
        yield from self._max_norm_lookup_after_read(facts)
        yield from self._forward_hook_writes_saved_weight(facts)
        seen: set = set()
        for fl in self._scopes(facts):
            for ev in fl.events:
                if ev.what != "inplace" or id(ev.node) in seen:
                    continue
                v = ev.target
                if v is not None and v.multi_view and ev.mode.enabled and ev.extra not in ("init",) and ev.extra not in NOT_INPLACE:
                    finding = self._multi_view(facts, fl, ev, seen)
                    if finding is not None:
                        yield finding
                        continue
                if v is None or not v.saved_output or not ev.mode.enabled or ev.extra in ("init",) or ev.extra in NOT_INPLACE:
                    continue
                if ev.stmt is not None and id(ev.stmt) in seen:
                    continue  # (``h.mul_(a).add_(b)``: one statement, reported once, at its first in-place op)
                if runs_without_grad(facts, ev.node) or inference_branch(facts, ev.node):
                    continue
                if _graph_dies_in(facts, fl, ev):
                    continue
                if not known_roots(v) and not (v.saved_output.startswith("in:") and _saved_for_another_operand(v.saved_output[3:]) and _inputs_need_grad(facts, fl)):
                    continue
                if any(r == "self" or r.startswith(("self.", "self[")) for r in known_roots(v)):
                    info = facts.modules.classes.get(fl.self_cls or "")
                    if info is None or not info.is_module:
                        continue  # gradient of an object we cannot see: only nn.Module state is trainable for sure
                seen.add(id(ev.node))
                if ev.stmt is not None:
                    seen.add(id(ev.stmt))
                kind = ev.extra
                what = {"augassign": "augmented assignment", "setitem": "index assignment"}.get(kind, f"`.{kind}()`")
                fixes = []
                f = self._fix(facts, fl, ev)
                if f is not None:
                    fixes.append(f)
                saved = f"the input of `{v.saved_output[3:]}`" if v.saved_output.startswith("in:") else f"the output of `{v.saved_output}`"
                related = []
                fn_cls = v.saved_output[3:-len(".forward")] if v.saved_output.startswith("in:") and v.saved_output.endswith(".forward") else None
                info_fn = facts.modules.classes.get(fn_cls or "")
                fwd = facts.modules.method(fn_cls, "forward") if info_fn is not None and info_fn.is_autograd_function else None
                save = next((n for n in walk_nodes(fwd) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "save_for_backward"), None) if fwd is not None else None
                if save is not None:
                    # (a custom Function saves the tensor itself: a private copy saved there is the other fix)
                    related.append((save, f"`{fn_cls}.forward` saves the tensor it is given here"))
                if kind and kind.endswith("(inplace=True)"):
                    what = f"`{kind}`"
                    ctor = ev.origin
                    flag = inplace_flag(ctor, kind[: -len("(inplace=True)")]) if isinstance(ctor, ast.Call) and facts.parent(ctor) is not None else None
                    if flag is not None:
                        # ``self.drop = nn.Dropout(p, inplace=True)`` in ``__init__``: the flag is set there, and
                        # dropping it is the fix (the call site stays as it is)
                        if ctor is not ev.node:  # (a functional op told ``inplace=True`` at the call itself: no second place)
                            related.append((ctor, f"`{kind[: -len('(inplace=True)')]}` is made in-place here"))
                        fixes.append(partial(drop_inplace, facts, ctor, flag))
                call = getattr(fl, "context", None)
                if isinstance(call, ast.Call) and isinstance(fl.node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not _within(call, fl.node):
                    held = _self_attribute_written(ev.node)
                    if held is not None and id(ev.node) not in argument_writes(fl.node):
                        # a method writing into its object's state, which an op of the caller saved before the call
                        saved += f" (the object's `{held}`, which `{fl.node.name}` writes when called at line {call.lineno})"
                        related.append((call, f"`{fl.node.name}` is called here, after an op saved `{held}` for backward"))
                    elif id(ev.node) in argument_writes(fl.node):
                        # a helper writing into what its caller passed: the caller's tensor is the one autograd saved
                        saved += f" (given to `{fl.node.name}` at line {call.lineno})"
                        related.append((call, f"`{fl.node.name}` is given the tensor autograd saved here"))
                    else:
                        # a helper that computes the saved tensor from what its caller passed, then writes into it
                        saved += f" (in `{fl.node.name}`, given a tensor that requires grad at line {call.lineno})"
                        related.append((call, f"`{fl.node.name}` is given a tensor that requires grad here"))
                yield self.finding(
                    facts,
                    ev.node,
                    f"in-place {what} modifies {saved}, which autograd saved for backward",
                    related=related,
                    fixes=fixes,
                    explanation="RuntimeError at backward(): one of the variables needed for gradient computation has been modified by an inplace operation.",
                )
        yield from self._sequential(facts)

    def _forward_hook_writes_saved_weight(self, facts):
        """A forward hook that writes the weight of the layer it is registered on in place, under no_grad (weight
        clipping, masking): torch runs it right after the layer's forward, when the layer's op has already saved that
        weight for backward (a convolution or normalization always, a ``nn.Linear`` whose input requires grad), so the
        backward of a program that trains raises."""
        if "register_forward_hook" not in facts.source.text:
            return
        regs = [r for r in facts.hooks.registrations() if r.kind == "forward" and r.layers]
        if not regs or not any(fl.loss_sites for fl in facts.backward_flows):
            return
        seen: set = set()
        for reg in regs:
            saving = [la for la in reg.layers if facts.hooks.saves_weight(la)]
            if not saving:
                continue
            for node, param in facts.hooks.parameter_writes(reg):
                if param != "weight" or id(node) in seen or not lexically_no_grad(facts, node):
                    continue
                seen.add(id(node))
                layer = saving[0]
                yield self.finding(
                    facts,
                    node,
                    f"this forward hook modifies the `weight` of the `{layer.kind}` it is registered on (line {reg.call.lineno}) in place, "
                    "right after the layer's forward saved that weight for backward: the backward raises",
                    related=[(reg.call, f"the forward hook is registered on `{layer.kind}` here"), (layer.ctor, f"the `{layer.kind}` whose forward saves its weight")],
                    explanation="RuntimeError at backward(): one of the variables needed for gradient computation has been modified by an "
                    "inplace operation. Change the weight after the optimizer step (or in a forward pre-hook, before the layer runs).",
                )

    def _multi_view(self, facts, fl, ev, seen: set):
        """An in-place op on one of the views ``chunk`` / ``split`` / ``unbind`` returned together (or on a view of
        one), made in grad mode from a tensor carrying this program's trainable values: autograd raises at the op."""
        v = ev.target
        if lexically_no_grad(facts, ev.node) or inference_branch(facts, ev.node) or not known_roots(v):
            return None
        if any(r == "self" or r.startswith(("self.", "self[")) for r in known_roots(v)):
            info = facts.modules.classes.get(fl.self_cls or "")
            if info is None or not info.is_module:
                return None
        seen.add(id(ev.node))
        kind = ev.extra
        what = {"augassign": "augmented assignment", "setitem": "index assignment"}.get(kind, f"`.{kind}()`")
        if kind and kind.endswith("(inplace=True)"):
            what = f"`{kind}`"
        f = self._fix(facts, fl, ev)
        return self.finding(
            facts,
            ev.node,
            f"in-place {what} modifies one of the views `{v.multi_view}` returned together, and they require grad: autograd forbids it and raises here",
            fixes=[f] if f is not None else [],
            explanation=f"RuntimeError: Output N of {v.multi_view.capitalize()} is a view and is being modified inplace. `{v.multi_view}` returns several "
            "views of its input from one autograd node, and none of them (nor a view of one) may be modified in place while the input "
            "requires grad. Compute out of place, `.clone()` the part first, or use `unsafe_chunk` / `unsafe_split` if the in-place write is meant.",
        )

    def _max_norm_lookup_after_read(self, facts):
        """``u @ self.item_emb.weight.t()`` and then ``self.item_emb(items)`` in one forward pass, with the table built as
        ``nn.Embedding(n, d, max_norm=1.0)``: the lookup renormalizes the selected rows of the weight in place, which the
        matmul saved for backward."""
        if "max_norm" not in facts.source.text:
            return
        for info in facts.modules.classes.values():
            fwd = info.methods.get("forward")
            if not info.is_module or fwd is None or lexically_no_grad(facts, fwd):
                continue
            tables = _max_norm_tables(facts, info)
            if not tables:
                continue
            events = _table_events(facts, info, fwd, tables)
            if not events:
                continue
            for i, (kind, node, attr) in enumerate(events):
                if kind != "read":
                    continue
                later = next((n for k, n, a in events[i + 1 :] if k == "call" and a == attr), None)
                if later is None:
                    continue
                yield self.finding(
                    facts,
                    node,
                    f"`self.{attr}.weight` is used here and then `self.{attr}(...)` is called in the same forward pass: `{attr}` was "
                    f"built with `max_norm`, so the lookup renormalizes rows of the weight in place, which this op saved for backward: "
                    f"backward() raises",
                    related=[(later, "the lookup that writes into the weight"), (tables[attr], "built with max_norm")],
                    fixes=[partial(_clone_fix, facts, node)],
                    explanation="With `max_norm`, `nn.Embedding`'s forward calls `torch.embedding_renorm_` on the looked-up rows, "
                    "which modifies the weight in place and bumps its version counter. An op that used the weight before (a matmul "
                    "against the whole table saves it) then fails in backward with `one of the variables needed for gradient "
                    "computation has been modified by an inplace operation`. PyTorch's documentation: use a clone of the weight "
                    "outside the lookup (`self.emb.weight.clone()`), or do the lookup first.",
                )
                break

    def _stale_after_step(self, facts):
        """``opt_d.step()`` between building a value through D (``d_fake = D(G(z))``) and a backward through it
        (``loss_g = bce(d_fake, ones); loss_g.backward()``): the step updates D's parameters in place, which the
        graph saved, and the backward raises. Only when the gradient must flow through D to other trained
        parameters (G): then D's layers saved their weights."""
        if "step(" not in facts.source.text or "backward" not in facts.source.text:
            return
        seen: set = set()
        for fl in facts.backward_flows:
            # (also a call of a helper that steps: ``self.update_critic(states, td_target)``)
            steps = [e for e in fl.events if e.what in ("step", "step_via_call") and e.target is not None and e.target.kind == "optimizer" and e.target.params and e.mode.enabled]
            if not steps or not isinstance(fl.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
                continue
            stores, bound = _stores_by_name(fl.node)
            for site in fl.backward_sites:
                if not site.loss.live or not site.mode.enabled or id(site.node) in seen:
                    continue
                for e in steps:
                    if not (position(e.node) < position(site.node)) or e.loops != site.loops:
                        continue
                    stepped = {p for p in e.target.params if p != "?" and not p.startswith("arg:")}  # parameters the model knows
                    if not stepped:
                        continue
                    stale = _values_before(fl, stores, bound, site.loss_expr, position(e.node), position(site.node))
                    given = _given_loss(fl, stores, site)
                    if given is not None:
                        # a loss the caller computed and passed (``model.backward(gen_loss, dis_loss)``): built before
                        # this function ran, so before the step; reported on the step
                        stale.append((e.node, given))
                    for name_node, v in stale:
                        # the stepped parameters the stale value carries into the loss differentiably (not ``.detach()``-ed)
                        through = {r for r in v.live if any(r == p or r.startswith(p + ".") for p in stepped) and r in site.loss.live}
                        upstream = {r for r in site.loss.live if r != "?" and not r.startswith("arg:") and not any(r == p or r.startswith(p + ".") or p.startswith(r + ".") for p in stepped)}
                        if not through or not upstream:
                            continue
                        if not _grads_at_step(fl, e, through):
                            continue  # (their .grad is None at the step: the optimizer skips them and changes nothing)
                        seen.add(id(site.node))
                        if not isinstance(name_node, ast.Name):
                            call = fl.context
                            yield self.finding(
                                facts,
                                e.node,
                                f"`{_text(facts, e.node)}` updates in place the parameters of {_names(through)}, which the graph of "
                                f"`{_text(facts, site.loss_expr)}` (computed by the caller, before this step) saved; the backward at line "
                                f"{site.node.lineno} goes back through that graph and raises",
                                severity=Severity.ERROR,
                                related=[(site.node, "backward() through the stale graph"), *([(call, "the loss is computed before this call")] if call is not None else [])],
                                explanation="`optimizer.step()` updates parameters in place, bumping their version counters. A graph built before the "
                                "step saved those parameters; backpropagating through it afterwards raises `one of the variables needed for gradient "
                                "computation has been modified by an inplace operation`. Run every backward before stepping either optimizer, or "
                                "recompute the loss after the step.",
                            )
                            break
                        inside = [(e.origin, "the helper steps the optimizer here")] if e.what == "step_via_call" and e.origin is not None else []
                        use = _first_use_after(fl.node, name_node.id, position(e.node), position(site.node))
                        used = [(use, f"`{name_node.id}` enters the loss here, after the step")] if use is not None else []
                        # the stale value reaches only the stepped parameters (an advantage from the critic in an actor's loss):
                        # its graph gives the loss nothing else, so a detached copy of it keeps what the loss trains
                        # (and only when no optimizer stepped after this loss's backward holds them: the loss is not the one meant to
                        # train them, as a generator's loss is for the generator)
                        only_stepped = all(r == "?" or any(r == p or r.startswith(p + ".") for p in stepped) for r in v.live if not r.startswith("arg:")) \
                            and not any(covered_by(r, stepped_after(fl, site)) for r in through)
                        uses = _uses_between(fl.node, name_node.id, position(e.node), position(site.node)) if only_stepped else []
                        fixes = [partial(_detach_uses_fix, facts, uses, name_node.id)] if uses else []
                        yield self.finding(
                            facts,
                            name_node,
                            f"`{name_node.id}` was computed through {_names(through)} before `{_text(facts, e.node)}` updated their parameters in place; "
                            f"the backward at line {site.node.lineno} goes back through that graph, whose saved weights the step modified, and raises",
                            severity=Severity.ERROR,
                            related=[(e.node, "the optimizer step modifies the parameters in place here" if not inside else "this call steps the optimizer, "
                                      "updating the parameters in place"), *inside, *used, (site.node, "backward() through the stale graph")],
                            fixes=fixes,
                            explanation="`optimizer.step()` updates parameters in place, bumping their version counters. A graph built before the "
                            "step saved those parameters; backpropagating through it afterwards raises `one of the variables needed for gradient "
                            "computation has been modified by an inplace operation`. Recompute the value after the step (e.g. `D(fake)` again for "
                            "the generator loss), or step after both backward passes.",
                        )
                        break
                    if id(site.node) in seen:
                        break

    def _scopes(self, facts):
        """Flows of the scopes with an in-place op and a saving op, the latter possibly a submodule the
        class builds in ``__init__`` (``self.norm1 = nn.LayerNorm(d)`` ... ``self.norm1(x)``)."""
        text = facts.source.text
        ti = facts.text_index
        if not ("inplace" in text or ti.anywhere(_SAVES_OUTPUT_RE) or ti.anywhere(_SAVES_INPUT_RE) or ti.anywhere(_MULTI_VIEW_RE) or ti.anywhere(_VIEW_OF_NAME)):
            return
        if "backward" in text:
            facts.backward_flows  # noqa: B018 - walks the training code, so helpers get their callers' contexts
        scopes = list(facts.scopes_matching(INPLACE_SYNTAX))
        if "inplace" in text:  # and functional ops told to work in place (``F.dropout(w, p, training, inplace=True)``)
            seen_ids = {id(sc) for sc in scopes}
            scopes += [sc for sc in facts.scopes_matching(_FUNCTIONAL_INPLACE) if id(sc) not in seen_ids]
        if "inplace" in text:  # also methods that call an in-place activation attribute (``self.act(a)``)
            seen = {id(sc) for sc in scopes}
            for info in facts.modules.classes.values():
                for m in info.methods.values():
                    # only where an op that saves its output (other than the activation itself) runs first
                    if id(m) not in seen and _calls_inplace_activation(facts, info.name, ti.body(m)) and (
                            ti.search(_SAVES_OUTPUT_NOT_RELU, m) or _saves_a_modified_input(facts, m, ti.body(m))):
                        scopes.append(m)
        # in-file Module classes whose ``forward`` runs an op that saves its output (``return F.relu(...)``): a method of
        # another class that calls them gets that saved tensor back (``h = layer(h, adj)`` then ``h += h_in``)
        saving_forwards = any(
            info.is_module and "forward" in info.methods and ti.search(_SAVES_OUTPUT_RE, info.methods["forward"]) for info in facts.modules.classes.values()
        )
        owner = facts.flow.owner
        applies_saving_function = "save_for_backward" in text
        training: list = []

        def training_scopes() -> set:
            """The code that backpropagates (a training function, a trainer's step, a script) and the functions it calls by
            name, directly or through helpers (``self.loss(x, y)`` calling ``self.penalize(model(x))``): where a model's
            saved output is handled."""
            if not training:
                by_name: dict = {}
                for fn in facts.walk((ast.FunctionDef, ast.AsyncFunctionDef)):
                    by_name.setdefault(fn.name, []).append(fn)
                todo = [fl.node for fl in facts.backward_flows if fl.backward_sites]
                ids: set = set()
                while todo:
                    node = todo.pop()
                    if id(node) in ids:
                        continue
                    ids.add(id(node))
                    for n in facts.own_nodes(node):  # (its own code: not the bodies of the functions it defines)
                        if isinstance(n, ast.Call):
                            f = n.func
                            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
                            todo.extend(by_name.get(name, ()))
                training.append(ids)
            return training[0]
        for scope in scopes:
            if saving_forwards and ((owner.get(id(scope)) in facts.modules.classes and facts.modules.classes[owner[id(scope)]].is_module)
                                    or id(scope) in training_scopes()):
                pass  # (walked: what a model it calls returns may be saved, in a Module's method or in the training code)
            elif applies_saving_function and ti.search(_APPLY_CALL, scope):
                pass  # (a custom Function's ``apply`` whose ``forward`` calls ``ctx.save_for_backward``)
            elif not ti.search(_SAVES_OUTPUT_RE, scope) and not ti.search(_MULTI_VIEW_RE, scope) and (isinstance(scope, ast.Module) or not (
                    _saves_a_modified_input(facts, scope, ti.body(scope)) or _calls_output_saving_attr(facts, scope, ti.body(scope)))):
                # a helper that writes into its argument in place: only as its callers run it, given a saved tensor
                if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and not scope.name.startswith("__") and scope.name != "forward" and _may_write_argument(ti.body(scope), scope) and facts.flow.writes_into_argument(scope):
                    # as the callers the training code runs hand it their values (the walk of the code that backpropagates,
                    # above, analyzed it in each such context; walking every other caller too costs more than it finds)
                    yield from [_ArgumentWrites(ctx, argument_writes(scope)) for ctx in facts.flow.context_flows if ctx.node is scope]
                elif isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and owner.get(id(scope)) is not None:
                    # a method that writes into its object's state (``self.feats[idx] = ...``), as a caller runs it after an op
                    # saved that state for backward (the caller's walk hands the method what it knows of the receiver)
                    yield from [ctx for ctx in facts.flow.context_flows if ctx.node is scope
                                and any(ev.what == "inplace" and ev.target is not None and ev.target.saved_output and _self_attribute_written(ev.node) for ev in ctx.events)]
                continue
            yield facts.flow.flow(scope)
            # and as its callers in this file run it (their arguments' parameters)
            for ctx in facts.flow.context_flows:
                if ctx.node is scope:
                    yield ctx

    def _fix(self, facts, fl, ev):
        node, st, kind = ev.node, ev.stmt, ev.extra
        if kind == "augassign" and isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            op = BINOPS.get(type(node.op).__name__)
            if op is None:
                return None
            name = node.target.id
            text = f"{name} = {name} {op} {_atom(facts, node.value)}"
            return lambda: fix("Compute out of place", replace_node(facts, node, text))
        if kind in OUT_OF_PLACE and isinstance(st, ast.Expr) and st.value is node and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            name = node.func.value.id
            func_end = facts.end(node.func)
            call_text = facts.source.segment(func_end, facts.end(node))
            text = f"{name} = {name}.{kind[:-1]}{call_text}"
            return lambda: fix(f"Use out-of-place `{kind[:-1]}`", replace_node(facts, node, text))
        chain = _inplace_chain(st) if kind in OUT_OF_PLACE and isinstance(st, ast.Expr) else None
        if chain is not None and any(c is node for c in chain[1]):
            # ``rgb.mul_(0.5).add_(0.5)``: each in-place call of the chain out of place, the result bound to the name
            name, calls = chain
            parts = [f".{c.func.attr[:-1]}{facts.source.segment(facts.end(c.func), facts.end(c))}" for c in calls]
            text = f"{name} = {name}{''.join(parts)}"
            return lambda: fix("Compute out of place", replace_node(facts, st.value, text))
        if kind == "setitem" and isinstance(node, ast.Subscript):
            base = node.value
            while isinstance(base, ast.Subscript):
                base = base.value
            if not isinstance(base, ast.Name):
                return None
            if isinstance(st, ast.Assign) and _reads_through_saving_op(st.value, base.id):
                # ``phi[..., 0] = phi[..., 0].clamp(min=eps)``: the value written is computed from the tensor itself, by an
                # op that may save it; a copy made at the producer would be read and written the same way. The op given a
                # clone of what it reads (``norm(h[:, 0].clone())``) saves the clone, which the write leaves alone
                reads = [n for n in walk_nodes(st.value) if isinstance(n, (ast.Subscript, ast.Name)) and isinstance(getattr(n, "ctx", None), ast.Load)
                         and _rooted_at(n, base.id) and not isinstance(facts.parent(n), ast.Subscript)]
                if not reads or any(isinstance(n, ast.Name) for n in reads) or _saved_elsewhere(fl, base.id, node):
                    return None
                return lambda: fix("Give the op a clone of what it reads", *[replace_node(facts, r, f"{facts.text(r)}.clone()") for r in reads])
            producer = None
            for cand in walk_nodes(fl.node):
                if isinstance(cand, ast.Assign) and len(cand.targets) == 1 and isinstance(cand.targets[0], ast.Name) and cand.targets[0].id == base.id:
                    if (cand.lineno, cand.col_offset) < (node.lineno, node.col_offset) and (producer is None or cand.lineno > producer.lineno):
                        producer = cand
            if producer is None:
                return None
            pv = fl.assigned.get(id(producer.targets[0]))
            if pv is None or not pv.saved_output:
                return None
            val = producer.value
            return lambda: fix("Clone the saved output before writing into it", replace_node(facts, val, f"{_atom(facts, val)}.clone()"))
        return None

    def _sequential(self, facts):
        if "Sequential" not in facts.source.text or not _INPLACE_TRUE.search(facts.source.text):
            return
        # ``nn.Sequential(...)`` under any import alias: only the statements that name it hold one
        names = {"Sequential"} | {a for a, q in facts.imports.aliases.items() if q == "torch.nn.Sequential"}
        for call in facts.nodes_near(ast.Call, names):
            q = facts.imports.qualname(call.func) or ""
            if q != "torch.nn.Sequential":
                continue
            args = call.args
            for a, b in zip(args, args[1:]):
                if not (isinstance(a, ast.Call) and isinstance(b, ast.Call)):
                    continue
                qa = (facts.imports.qualname(a.func) or "").rsplit(".", 1)[-1]
                qb = (facts.imports.qualname(b.func) or "").rsplit(".", 1)[-1]
                if not (facts.imports.qualname(a.func) or "").startswith("torch.nn.") or qa not in SAVES_OUTPUT_MODULES or inplace_flag(a, qa) is not None:
                    continue
                flag = inplace_flag(b, qb)
                if flag is None:
                    continue
                yield self.finding(
                    facts,
                    b,
                    f"`{qb}(inplace=True)` overwrites the output of `{qa}`, which autograd saved for backward",
                    fixes=[partial(drop_inplace, facts, b, flag)],
                    explanation="RuntimeError at backward(): one of the variables needed for gradient computation has been modified by an inplace operation.",
                )


# a torch.nn.functional op with an ``inplace`` flag, called with ``inplace=True`` (``F.dropout(w, p=0.1, inplace=True)``)
_FUNCTIONAL_INPLACE = re.compile(r"\b(?:" + "|".join(sorted(INPLACE_FUNCTIONAL)) + r")\((?:[^()]|\([^()]*\))*\binplace\s*=\s*True")


# its first argument, when a name (``F.leaky_relu(padded, 0.2, inplace=True)``: ``padded``)
_FUNCTIONAL_INPLACE_ARG = re.compile(r"\b(?:" + "|".join(sorted(INPLACE_FUNCTIONAL)) + r")\(\s*([A-Za-z_]\w*)\s*[,)](?:[^()]|\([^()]*\))*\binplace\s*=\s*True")


_ESCAPING_CALLS = frozenset({"append", "extend", "update", "insert", "add", "setdefault", "put", "put_nowait", "copy_"})


def _graph_dies_in(facts, fl, ev) -> bool:
    """Does every graph the function builds die with it unused by any backward: a function that backpropagates nothing,
    returns no value carrying a graph (numbers, indices turned into NumPy arrays) and puts no value anywhere that
    outlives it (an attribute, an argument's or a global's container, a generator's consumer)? Then an in-place change
    of a local tensor that one of its ops saved can never reach a backward (an inference-only ``predict`` that masks
    its sigmoid scores in place before ``topk(...).numpy()``)."""
    fn = fl.node
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or fl.backward_sites or fl.implicit_sites:
        return False
    name = ev.name
    if not name or "." in name or "[" in name or name in fl.args or name == "self":
        return False  # (the caller's tensor, or an object's state: the caller's graph may save it)
    r = fl.returns
    if r.live or any(x.live for x in (r.items or ())) or any(x.live for _k, x in (r.fields or ())):
        return False  # (a cut value, indices, a number: no graph leaves the function)
    local = {n.id for n in walk_nodes(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    a = fn.args
    params = {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, *(x for x in (a.vararg, a.kwarg) if x is not None))}
    for n in walk_nodes(fn):
        if isinstance(n, (ast.Yield, ast.YieldFrom, ast.Global, ast.Nonlocal)) or (n is not fn and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))):
            return False
        target: Optional[ast.AST] = None
        if isinstance(n, (ast.Attribute, ast.Subscript)) and isinstance(n.ctx, ast.Store):
            target = n
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _ESCAPING_CALLS:
            target = n.func.value
        if target is None:
            continue
        if isinstance(target, ast.Attribute):
            return False  # (``self.cache = score``)
        root: ast.AST = target
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            root = root.value
        if not isinstance(root, ast.Name) or root.id in params or root.id not in local:
            return False
    return True


def _called_attrs(facts, cls: Optional[str], body: str) -> list:
    """The attributes of ``cls`` that ``body`` calls (``self.<attr>(``): only a called submodule saves what it is given."""
    info = facts.modules.classes.get(cls) if cls else None
    return [a for a in info.attr_values if f"self.{a}(" in body] if info is not None else []


def _saving_ctor(facts, cls: str, attr: str) -> Optional[str]:
    """The ``torch.nn`` module ``self.<attr>`` of ``cls`` is built by (its short name), when it saves its input or runs in
    place; else None (cached per attribute)."""
    cache = facts.__dict__.setdefault("_gg702_saving_ctor", {})
    key = (cls, attr)
    if key not in cache:
        ctor = facts.modules.attr_torch_ctor(cls, attr)
        short = ctor[0].rsplit(".", 1)[-1] if ctor is not None else None
        cache[key] = short if ctor is not None and (facts.modules.ctor_saves_input(ctor) or short in INPLACE_MODULES) else None
    return cache[key]


def _input_saving_submodule(facts, cls: str, attr: str) -> bool:
    """Does ``self.<attr>`` of ``cls`` hold an in-file Module class whose ``forward`` saves some of its inputs?"""
    sub, _ = facts.modules.attr_class(cls, attr)
    return sub is not None and bool(facts.modules.saves_input(sub))


# ops that save an input for the gradient of *another* operand (a weight, the other factor): the input is saved
# whatever it carries, as long as that operand trains. Elementwise ops and reductions of one tensor (``max``,
# ``abs``, ``log``, ``gelu``, ...) save their input only when it requires grad itself.
_FOR_OTHER_OPERAND = {
    "matmul", "mm", "bmm", "mul", "div", "linear", "bilinear", "conv1d", "conv2d", "conv3d", "layer_norm", "batch_norm",
    "group_norm", "instance_norm", "rms_norm", "cosine_similarity",
}


# the parameterless activations among the input-saving modules (GELU, SiLU, Softplus, Mish)
_PARAMLESS_SAVING_MODULES = frozenset(m for m in SAVES_INPUT_MODULES if m.endswith(PARAMLESS_SUFFIXES))


def _self_attribute_written(node: ast.AST) -> Optional[str]:
    """``self.feats`` for ``self.feats[idx] = v`` / ``self.feats.mul_(m)`` / ``self.feats += v``: the attribute of the
    object an in-place write goes into, if it is one."""
    e = node.func.value if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) else (node.target if isinstance(node, ast.AugAssign) else node)
    while isinstance(e, ast.Subscript):
        e = e.value
    if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id == "self":
        return f"self.{e.attr}"
    return None


def _saved_for_another_operand(op: str) -> bool:
    """Does ``op`` (a torch op, a ``torch.nn`` layer, or an in-file module's ``forward``) save its input for the
    gradient of a weight or another operand? A layer does (``Linear``, ``Sequential``...), save the
    parameterless activations."""
    if op in _PARAMLESS_SAVING_MODULES:
        return False
    return op in _FOR_OTHER_OPERAND or op.endswith(".forward") or op[:1].isupper()


def _rooted_at(e: ast.AST, name: str) -> bool:
    while isinstance(e, ast.Subscript):
        e = e.value
    return isinstance(e, ast.Name) and e.id == name


def _grads_at_step(fl, step, params: set) -> bool:
    """May any of ``params`` have a gradient when ``step`` runs? Not when a ``zero_grad()`` before it (in the same loop
    body, leaving ``.grad`` None: the default ``set_to_none=True``) cleared them all and no backward between that call and
    the step reaches them: an optimizer skips a parameter whose ``.grad`` is None, so the step does not modify it."""
    sp = position(step.node)
    clears = [e for e in fl.events if e.what == "zero_grad" and isinstance(e.node, ast.Call) and e.loops == step.loops and position(e.node) < sp
              and e.target is not None and not any(k.arg == "set_to_none" and not (isinstance(k.value, ast.Constant) and k.value.value is True) for k in e.node.keywords)]
    covering = [e for e in clears if all(any(r == p or r.startswith(p + ".") for p in (e.target.params if e.target.kind == "optimizer" else e.target.live)) for r in params)]
    if not covering:
        return True
    zp = max(position(e.node) for e in covering)
    for site in fl.backward_sites:
        if zp < position(site.node) < sp and (not site.loss.live or any(related(r, lv) for r in params for lv in site.loss.live if lv != "?")):
            return True
    # (a helper called in between may backpropagate: counted as reaching them)
    return any(e.what == "step_via_call" and zp < position(e.node) < sp for e in fl.events)


def _saved_elsewhere(fl, name: str, node: ast.AST) -> bool:
    """Is the value ``name`` holds before ``node`` the saved output of an op (``h = torch.sigmoid(x)``)? Then cloning what
    the written value reads does not protect it."""
    producer = None
    for cand in walk_nodes(fl.node):
        if isinstance(cand, ast.Assign) and len(cand.targets) == 1 and isinstance(cand.targets[0], ast.Name) and cand.targets[0].id == name:
            if (cand.lineno, cand.col_offset) < (getattr(node, "lineno", 0), getattr(node, "col_offset", 0)) and (producer is None or cand.lineno > producer.lineno):
                producer = cand
    if producer is None:
        return True  # (an argument or a value from elsewhere: not known)
    pv = fl.assigned.get(id(producer.targets[0]))
    if pv is None or pv.saved_output:
        return True
    # (nor may another statement between them give it to an op that saves its input: ``y = h * w``)
    start, end = (producer.lineno, producer.col_offset), (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
    for st in walk_nodes(fl.node):
        if isinstance(st, (ast.Assign, ast.Expr, ast.AugAssign, ast.Return)) and st is not producer and start < (st.lineno, st.col_offset) < end:
            if st.value is not None and _reads_through_saving_op(st.value, name):
                return True
    return False


def _reads_through_saving_op(value: ast.AST, name: str) -> bool:
    """Does ``value`` pass ``name`` (or an index of it) straight to an op that may save it for backward: a method call on
    it (``phi[..., 0].clamp(min=eps)``), a call given it, a power of it or a product with a non-constant? Then writing
    that value into ``name`` modifies what the op saved, and a copy made earlier is read and written the same way."""
    for n in walk_nodes(value):
        if isinstance(n, ast.Call):
            if isinstance(n.func, ast.Attribute) and _rooted_at(n.func.value, name):
                return True
            if any(_rooted_at(a, name) for a in n.args):
                return True
        elif isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Pow, ast.Mult, ast.Div, ast.MatMult)):
            for x, y in ((n.left, n.right), (n.right, n.left)):
                if _rooted_at(x, name) and (isinstance(n.op, ast.Pow) and x is n.left or not isinstance(y, ast.Constant)):
                    return True
    return False


def _inputs_need_grad(facts, fl) -> bool:
    """A tensor saved as the *input* of an op whose parameters train is saved whatever the input carries;
    in a function that only sees its arguments, count it when the function is a Module's ``forward`` or is
    called from a scope that backpropagates."""
    fn = fl.node
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    info = facts.modules.classes.get(fl.owner or "")
    if info is not None and info.is_module and fn.name == "forward":
        return True
    if any(isinstance(s.node, ast.Call) and s.mode.enabled for s in fl.backward_sites):
        return True  # (the function backpropagates its own loss: what its ops saved for a trained operand is needed there)
    call = re.compile(r"\b" + re.escape(fn.name) + r"\s*\(")
    ti = facts.text_index
    for other in facts.backward_flows:
        node = other.node
        if node is not fn and ti.search(call, node):
            return True
    return False


_APPLY_CALL = re.compile(r"\.apply\(")
_INPLACE_TRUE = re.compile(r"inplace\s*=\s*True|\(\s*True\s*\)|,\s*True\s*\)")
_SAVES_OUTPUT_NOT_RELU = re.compile(r"\b(?:" + "|".join(sorted(SAVES_OUTPUT - {"relu"})) + r")\(")
_SAVES_OUTPUT_RE = re.compile(r"\b(?:" + "|".join(sorted(SAVES_OUTPUT)) + r")\b")
_MULTI_VIEW_RE = re.compile(r"\b(?:" + "|".join(sorted(MULTI_OUTPUT_VIEWS)) + r")\(")
_SAVES_INPUT_RE = re.compile(r"\b(?:" + "|".join(sorted(SAVES_INPUT | SAVES_INPUT_MODULES)) + r")\b")
_SAVING_OPS = "|".join(sorted(SAVES_INPUT))
_SAVING_CALL = re.compile(r"[.\s(=,]\b(?:" + _SAVING_OPS + r")\(")
_IDENT = re.compile(r"\s*([A-Za-z_]\w*)")
# (the argument by lookahead: a call nested in another's arguments, ``self.attn(self.ln_1(x))``, is matched too)
_ATTR_CALL_ARG = re.compile(r"self\.(\w+)\(\s*(?=([A-Za-z_]\w*))")
_MODIFIED_AFTER = re.compile(r"\s*(?:[-+*/@%&|^]=|\.[a-z]\w*[a-z0-9]_\(|\[[^\]\n]*\]\s*=[^=])")
_SAVED_OUTPUT_NAME = re.compile(r"\b([A-Za-z_]\w*)\s*=\s*[\w.]*?\b(?:exp|exp2|expm1|sigmoid|tanh|softmax|log_softmax|relu|sqrt|rsqrt)\(")


def _calls_inplace_activation(facts, cls: str, body: str) -> bool:
    return any(_saving_ctor(facts, cls, a) in INPLACE_MODULES for a in _called_attrs(facts, cls, body))


def _calls_output_saving_attr(facts, scope, body: str) -> bool:
    """Does ``scope`` call a layer of its class whose output autograd saves (``self.act = nn.Sigmoid()``, then
    ``self.act(h)``; a ``nn.Sequential`` ending in one)? Its walk then knows that output (cheap text test first)."""
    if not facts.text_index.anywhere(_OUTPUT_SAVING_LAYER):
        return False
    owner = facts.flow.owner.get(id(scope))
    for attr in _called_attrs(facts, owner, body):
        if owner and facts.modules.attr_output_saver(owner, attr, facts.flow.constructions.init_argument):
            return True
    return False


_OUTPUT_SAVING_LAYER = re.compile(r"\b(?:" + "|".join(sorted(SAVES_OUTPUT_MODULES)) + r")\(")


def _saves_a_modified_input(facts, scope, body: str) -> bool:
    """Cheap text test before walking a scope for saved *inputs*: a name that is the argument or receiver of
    an op that saves its input (``diff.pow(2)``, ``self.norm1(x)`` with a LayerNorm ``norm1``) is also
    modified in place, or an in-place activation attribute is called on the output of an op that saves it."""
    owner = facts.flow.owner.get(id(scope))
    called = _called_attrs(facts, owner, body)
    attrs = {a for a in called if _saving_ctor(facts, owner, a)}
    inplace_attrs = {a for a in attrs if _saving_ctor(facts, owner, a) in INPLACE_MODULES}
    if inplace_attrs:
        outputs = set(_SAVED_OUTPUT_NAME.findall(body))
        if any(arg in outputs for attr, arg in _ATTR_CALL_ARG.findall(body) if attr in inplace_attrs):
            return True
    saved = set()
    for m in _SAVING_CALL.finditer(body):
        if body[m.start()] == ".":  # ``x.pow(``: the receiver, read backwards
            j = m.start()
            while j > 0 and (body[j - 1].isalnum() or body[j - 1] == "_"):
                j -= 1
            saved.add(body[j : m.start()])
        arg = _IDENT.match(body, m.end())  # ``pow(x`` / ``F.layer_norm(x``: the first argument
        if arg:
            saved.add(arg.group(1))
    if attrs:
        saved |= {arg for attr, arg in _ATTR_CALL_ARG.findall(body) if attr in attrs}
    # an in-file submodule whose forward saves some of its inputs (``self.func(t, h)``): the names in its arguments
    for attr in called:
        if _input_saving_submodule(facts, owner, attr):
            for m in re.finditer(r"self\." + re.escape(attr) + r"\(([^()]*)\)", body):
                saved |= set(re.findall(r"\b[A-Za-z_]\w*\b", m.group(1)))
    saved.discard("self")
    saved.discard("")
    if inplace_attrs and any(arg in saved for attr, arg in _ATTR_CALL_ARG.findall(body) if attr in inplace_attrs):
        return True  # (``self.conv(padded)`` then ``self.act(padded)`` with ``self.act = nn.LeakyReLU(0.2, inplace=True)``)
    if "inplace" in body and any(m.group(1) in saved for m in _FUNCTIONAL_INPLACE_ARG.finditer(body)):
        return True  # (``F.leaky_relu(padded, 0.2, inplace=True)``)
    modified_after = _MODIFIED_AFTER.match
    # a view of a buffer (``prev = states[:, t - 1]``) whose buffer is written in place (``states[:, t] = h``): an op on the view
    # (``dA[:, t] * prev``) may have saved it, and the write changes the version of every view of that buffer
    written = {m.group(1) for m in _WRITE_TARGET.finditer(body)}
    if written and any(m.group(2) in written for m in _VIEW_OF_NAME.finditer(body)):
        return True
    for n in saved:  # modified in place after being saved (``x += ...``, ``x.abs_()``, ``x[i] = ...``)
        # each occurrence of the name that starts a word (names are words: an occurrence inside another is inside a
        # word, never one), followed by an in-place change
        k = len(n)
        i = body.find(n)
        while i != -1:
            before = body[i - 1] if i else " "
            if not (before.isalnum() or before in "_.") and modified_after(body, i + k):
                return True
            i = body.find(n, i + 1)
    return False


def _may_write_argument(body: str, fn) -> bool:
    """Cheap text test before walking a function for writes into its parameters: a parameter's name followed by an
    index assignment, an in-place method call or an augmented assignment."""
    a = fn.args
    names = {x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)} - {"self", "cls"}
    return bool(names) and any(m.group(1) in names for m in _WRITE_TARGET.finditer(body))


# ``prev = states[:, t - 1]`` (also in a conditional expression's first branch): a name bound to an indexed read of another
_VIEW_OF_NAME = re.compile(r"^[ \t]*([A-Za-z_]\w*)[ \t]*=[ \t]*([A-Za-z_]\w*)\[", re.M)


# a statement that writes into a name in place (``h[m] = 0.0``, ``h += b``, ``h.clamp_(...)``), read from its line's start
# (also the value of a ``return`` or an assignment: ``return gate_act.mul_(up)``)
_WRITE_TARGET = re.compile(r"^[ \t]*(?:return[ \t]+|[A-Za-z_][\w.]*[ \t]*=[ \t]*)?([A-Za-z_]\w*)[ \t]*(?:\[[^\n]*\][ \t]*=[^=]|[-+*/@%&|^]=|\.[a-z]\w*[a-z0-9]_\()", re.M)


class _ArgumentWrites:
    """A helper's flow in its caller's context, with only the events that write into what the caller passed (a
    tensor the helper computes itself and saves is the helper's business, seen in its own flow)."""

    def __init__(self, fl, writes: frozenset) -> None:
        self._fl = fl
        self.events = [ev for ev in fl.events if id(ev.node) in writes]

    def __getattr__(self, name: str):
        return getattr(self._fl, name)


def _within(node: ast.AST, scope: ast.AST) -> bool:
    return getattr(scope, "lineno", 0) <= getattr(node, "lineno", -1) <= getattr(scope, "end_lineno", -1)


def _names(roots: set) -> str:
    shown = sorted(roots)[:3]
    return ", ".join(f"`{r}`" for r in shown)


def _text(facts, node: ast.AST) -> str:
    t = facts.text(node).replace("\n", " ")
    return t if len(t) <= 40 else t[:37] + "..."


def _stores_by_name(fn: ast.AST) -> tuple:
    """``({name: its Name stores, in walk order}, {id(a Name an assignment binds): the value of the first such assignment
    in walk order})`` of ``fn``, from one walk."""
    stores: dict = {}
    bound: dict = {}
    for n in walk_nodes(fn):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            stores.setdefault(n.id, []).append(n)
        elif isinstance(n, ast.Assign):
            for t in n.targets:
                for x in walk_nodes(t):
                    if isinstance(x, ast.Name):
                        bound.setdefault(id(x), n.value)
    return stores, bound


def _given_loss(fl, stores: dict, site):
    """The loss value when the backward's loss is a parameter of the function the caller's context gave it (a tensor
    with gradient), not rebound before the backward; else None."""
    expr = site.loss_expr
    fn = fl.node
    if getattr(fl, "context", None) is None or not isinstance(expr, ast.Name) or not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    if expr.id not in {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)}:
        return None
    if any(position(s) < position(site.node) for s in stores.get(expr.id, [])):
        return None
    v = site.loss
    return v if v.live and v.kind == "tensor" and not v.ident and not v.leaf else None


def _values_before(fl, stores: dict, bound: dict, expr: ast.AST, step_at: tuple, site_at: tuple, depth: int = 0) -> list:
    """(Name store, value) of the names ``expr`` reads whose latest binding before ``site_at`` comes before
    ``step_at``, following names bound between the step and the site (``loss_g = bce(d_fake, ...)``)."""
    out: list = []
    if depth > 3:
        return out
    callees = {id(c.func) for c in walk_nodes(expr) if isinstance(c, ast.Call)}
    for n in walk_nodes(expr):
        if not (isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)) or id(n) in callees:
            continue  # (a model called here runs after the step: ``D_B(fake_B)``)
        before = [s for s in stores.get(n.id, []) if position(s) < site_at]
        if not before:
            continue
        last = max(before, key=position)
        if any(step_at < position(s) < site_at for s in stores.get(n.id, [])) or position(last) > step_at:
            # bound again after the step: follow what it was computed from
            stmt_value = bound.get(id(last))
            if stmt_value is not None:
                out.extend(_values_before(fl, stores, bound, stmt_value, step_at, site_at, depth + 1))
            continue
        v = fl.assigned.get(id(last))
        if v is not None and v.live and v.kind == "tensor" and not v.ident and not v.leaf:
            out.append((last, v))  # a tensor computed with gradient (not a module, a parameter or a leaf)
    return out


def _inplace_chain(st: ast.Expr) -> Optional[tuple]:
    """``(name, [calls, innermost first])`` for a statement that is a chain of in-place tensor methods with an out-of-place
    twin on one name (``rgb.mul_(0.5).add_(0.5)``), of two calls or more; else None."""
    calls = []
    cur = st.value
    while isinstance(cur, ast.Call) and isinstance(cur.func, ast.Attribute) and cur.func.attr in OUT_OF_PLACE and not any(isinstance(a, ast.Starred) for a in cur.args):
        calls.append(cur)
        cur = cur.func.value
    if len(calls) < 2 or not isinstance(cur, ast.Name):
        return None
    return cur.id, calls[::-1]

