"""GG203 non-differentiable-op: argmax, comparisons, integer casts, sign/round on the only path to a loss."""
from __future__ import annotations

import ast
import re
from functools import partial
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.deadterms import dead_terms
from gradguard.core.flow import CONSTANT_TERM_CUTS
from gradguard.core.model import Applicability, Severity
from gradguard.core.paramnames import Unknown, evaluate_name_test, models_of, module_constants, parameter_names, single_binding
from gradguard.core.starvation import cut_order, find_starvations, frozen_paths, helper_freezes, is_frozen
from gradguard.core.torchapi import LAYER_PARAMETER_NAMES, LOSS_SINK_WORDS, is_module_ctor
from gradguard.fixes import fix, insert_after_stmt, keyword_edit, replace_node
from gradguard.rules._cuts import cut_findings, effective_cut, sole_cut
from gradguard.rules.base import Example, Rule


def _pass_keyword(facts, call: ast.Call, name: str, value: str):
    """The fix that makes ``call`` pass ``name=value`` (None when its text cannot take it)."""
    edit = keyword_edit(facts, call, name, value)
    return fix(f"Pass `{name}={value}`", edit) if edit is not None else None


def _create_graph_fix(facts, call: ast.Call):
    """``torch.autograd.grad(out, inp)`` -> ``torch.autograd.grad(out, inp, create_graph=True)``: the same gradients,
    now with a graph, so a loss term built from them (a gradient penalty) reaches the parameters."""
    if len(call.args) > 4 and not any(k.arg == "create_graph" for k in call.keywords):
        return None  # (create_graph is the fifth positional parameter: already given)
    return _pass_keyword(facts, call, "create_graph", "True")


_INPUT_REQUIRE_GRADS = re.compile(r"\.enable_input_require_grads\(|\bprepare_model_for_kbit_training\(")


def _non_reentrant_fix(facts, call: ast.Call):
    """``checkpoint(fn, x, use_reentrant=True)`` -> ``use_reentrant=False``: the non-reentrant implementation records
    the recomputation with autograd, so ``fn``'s parameters get their gradients whatever its inputs."""
    return _pass_keyword(facts, call, "use_reentrant", "False")


def _own_slot_fix(facts, call: ast.Call):
    """``dist.all_gather(bufs, x)`` -> also ``bufs[dist.get_rank()] = x``: this rank's slot holds the local tensor with
    its history, so the local part of the gathered batch backpropagates (the other ranks' parts stay constants, as
    each rank computes its own gradient; the usual pattern of contrastive losses over gathered features)."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "all_gather" and len(call.args) >= 2 and not call.keywords):
        return None
    if not all(isinstance(a, (ast.Name, ast.Attribute)) for a in call.args[:2]):
        return None
    stmt = facts.parent(call)
    if not isinstance(stmt, ast.Expr):
        return None
    head = facts.text(func.value)
    out, inp = facts.text(call.args[0]), facts.text(call.args[1])
    return fix(
        f"Put the local `{inp}` (with its gradient) back into this rank's slot",
        insert_after_stmt(facts, stmt, f"{out}[{head}.get_rank()] = {inp}"),
        unsafe=True,
    )


def _unmark_fix(facts, call: ast.Call):
    """``ctx.mark_non_differentiable(pooled, idx)`` -> ``ctx.mark_non_differentiable(idx)``: the outputs whose incoming
    gradient the Function's own ``backward`` reads (``grad_pooled``) are the ones it was written to differentiate;
    only those are unmarked, the rest (indices, masks) stay marked. None when ``backward`` reads none of them or
    all of them."""
    cls = facts.enclosing(call, ast.ClassDef)
    fwd = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef))
    bwd = next((b for b in getattr(cls, "body", []) if isinstance(b, ast.FunctionDef) and b.name == "backward"), None)
    if cls is None or fwd is None or bwd is None or bwd.args.vararg or call.keywords:
        return None
    ret = next((n for n in ast.walk(fwd) if isinstance(n, ast.Return) and n.value is not None), None)
    if ret is None:
        return None
    outs = [e.id for e in (ret.value.elts if isinstance(ret.value, ast.Tuple) else [ret.value]) if isinstance(e, ast.Name)]
    grads = [a.arg for a in bwd.args.args[1:]]
    if len(grads) != len(outs):
        return None
    read = {n.id for n in ast.walk(bwd) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    differentiated = {o for o, g in zip(outs, grads) if g in read}
    keep = [a for a in call.args if not (isinstance(a, ast.Name) and a.id in differentiated)]
    if not keep or len(keep) == len(call.args):
        return None
    names = ", ".join(facts.text(a) for a in keep)
    unmarked = ", ".join(f"`{a.id}`" for a in call.args if isinstance(a, ast.Name) and a.id in differentiated)
    return fix(f"Leave {unmarked} differentiable (its gradient is what `backward` computes)",
               replace_node(facts, call, f"{facts.text(call.func)}({names})"), unsafe=True)


def _rsample_fix(facts, call: ast.Call):
    """``dist.sample(shape)`` -> ``dist.rsample(shape)``: the same draw, through the reparameterization."""
    func = call.func
    assert isinstance(func, ast.Attribute)
    text = facts.text(call)
    head = facts.text(func.value)
    if not text.startswith(head):
        return None
    rest = text[len(head):].replace("." + func.attr, ".rsample" if func.attr == "sample" else ".rsample", 1)
    if func.attr == "sample_n":  # sample_n(n) is sample((n,))
        return None
    return fix("Draw with `rsample()` (reparameterized)", replace_node(facts, call, head + rest), unsafe=True)


def _one_hot_of_indices(facts, node: ast.AST) -> Optional[tuple]:
    """``index = probs.argmax(-1)`` then ``F.one_hot(index, n)`` (or ``F.one_hot(probs.argmax(-1), n)``, with a
    ``.float()`` / ``.to(...)`` after it): the hard choice over the last dimension of ``probs`` (a name), which carries no
    gradient. (the one-hot expression, the straight-through expression: ``(hard - probs.detach() + probs)``, whose
    forward is the one-hot and whose gradient is the probabilities'); else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "argmax" and isinstance(node.func.value, ast.Name)):
        return None
    dim = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "dim"), None)
    if not (isinstance(dim, ast.UnaryOp) and isinstance(dim.op, ast.USub) and isinstance(dim.operand, ast.Constant) and dim.operand.value == 1):
        return None  # (the last dimension only: the one-hot's classes run along it, as the probabilities do)
    probs = node.func.value.id
    scope = facts.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    if scope is None:
        return None

    def is_one_hot(call: ast.AST, index: ast.AST) -> bool:
        return isinstance(call, ast.Call) and (facts.imports.qualname(call.func) or "") in ("torch.nn.functional.one_hot", "torch.one_hot") \
            and bool(call.args) and call.args[0] is index

    oh = facts.parent(node)
    if not is_one_hot(oh, node):
        st = facts.parent(node)
        if not (isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name) and st.value is node):
            return None
        index = st.targets[0].id
        later = [n for n in walk_nodes(scope) if isinstance(n, ast.Call) and n.args and isinstance(n.args[0], ast.Name) and n.args[0].id == index
                 and (n.lineno, n.col_offset) > (st.lineno, st.col_offset) and is_one_hot(n, n.args[0])]
        if len(later) != 1:
            return None
        oh = later[0]
        # neither name bound again between the choice and the one-hot (the one-hot's own statement may rebind them: its
        # right side runs first)
        home = facts.statement_of(oh)
        for n in walk_nodes(scope):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id in (index, probs) and n is not st.targets[0] \
                    and (st.lineno, st.col_offset) < (n.lineno, n.col_offset) < (oh.lineno, oh.col_offset) and facts.statement_of(n) is not home:
                return None
    whole: ast.AST = oh
    while True:
        up = facts.parent(whole)
        call = facts.parent(up) if isinstance(up, ast.Attribute) and up.value is whole else None
        if isinstance(call, ast.Call) and isinstance(up, ast.Attribute) and call.func is up and up.attr in ("float", "to", "type_as", "half", "double", "bfloat16"):
            whole = call
            continue
        break
    if not _probabilities(facts, scope, probs):
        # scores or logits (perhaps masked with ``-inf``, which the difference of the scores would turn into NaN): the
        # straight-through surrogate is their softmax, whose forward still cancels to the one-hot
        soft = f"{probs}.softmax(-1)"
        return whole, f"({facts.text(whole)} - {soft}.detach() + {soft})"
    return whole, f"({facts.text(whole)} - {probs}.detach() + {probs})"


def _probabilities(facts, scope: ast.AST, name: str) -> bool:
    """Is ``name`` bound once in ``scope`` to a softmax's output (``probs = logits.softmax(-1)``, ``F.softmax(x, dim=-1)``,
    a Gumbel-softmax)?"""
    bound = single_binding(scope, name)
    if not isinstance(bound, ast.Call):
        return False
    q = facts.imports.qualname(bound.func) or ""
    return q.endswith(("softmax", "gumbel_softmax")) or (isinstance(bound.func, ast.Attribute) and bound.func.attr == "softmax")


class NonDifferentiableOp(Rule):
    code = "GG203"
    name = "non-differentiable-op"
    summary = "A non-differentiable op (argmax, comparison, integer cast, sign/round, `Distribution.sample()`, `autograd.grad` without `create_graph`) is the only path from trained parameters to a loss, or makes a loss term a constant."
    severity = Severity.WARNING
    needs = LOSS_SINK_WORDS
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Flags `argmax`/`argmin`/`argsort`, comparisons (`>`, `==`, ...), integer casts (`.long()`, `.int()`,
`.to(torch.long)`), integer indexing and zero-gradient ops (`sign`, `round`, `floor`, `ceil`) when trained
parameters reach a backpropagated loss only through them. Masks and indices that merely *select* among
differentiable values (`torch.where(diff.abs() < 1, ...)`, `gather` with labels) stay silent, and so do Python values
compared or cast: a parameter annotated as a Python scalar (`eos_id: Optional[int]`), a Module attribute computed from
numbers (`self.min_id = self.rank * block` with `self.rank = dist.get_rank()`), a layer's hyperparameters read from
`model.modules()` (`m.padding[0]`, `m.stride[0]`), and an input a custom Function's `forward` annotates as a non-tensor
(`group: Optional[ProcessGroup]`, whose None gradient is required), and an attribute of no known kind tested for
equality (`text != self.pad_id`: an id or a setting; a value a loss trains is never compared with `==`). Also
`dist.sample()` of a distribution built from the model's outputs, when the sampled value is the only path
to the loss (a policy trained through a critic, a VAE decoder fed a sample): `sample()` draws under
`torch.no_grad()`. REINFORCE, which trains through `dist.log_prob(action)`, stays silent.
The indices of `max`/`min`/`topk`/`sort`/`median`/`mode`/`kthvalue` (`out.max(1)[1]`, `_, pred = torch.max(out, 1)`)
are integers without gradient; their values keep it. Histograms and counts (`torch.histc`, `bincount`, `count_nonzero`) have no gradient either.
A loss bound on one branch of an `if` to a value made only through such ops, and on another to one that trains
(`if epoch < warmup: loss = hist_loss(...)` / `else: loss = l1 + ...`), then backpropagated after the `if`, has no
gradient path whenever that branch runs: reported on the op as a warning (whether the branch runs is a run-time value),
with the branch's binding as related information. The same holds for the cuts of the other rules (GG201, GG202, GG501).
A term multiplied by a variable that is 0 on every path to it (`tau, kl_weight = 1.0, 0.0` and never raised, so
`loss = rec + kl_weight * kl` adds nothing) passes back a zero gradient: when it is the only path from a part to the
loss, that part gets zero gradients. A literal `0.0 * x` is left alone (written on purpose, e.g. to keep unused parameters
in the graph for DDP). A helper's branch decided by a flag the call leaves at its default (`def quantize(logits,
hard=True)`, `if hard: y = F.one_hot(y.argmax(-1), n)`) is followed as the call runs it.
A softmax over a dimension of size 1 is identically 1 (a log-softmax 0), so its gradient is zero: the values of
`topk(k)` with `k` 1 (a literal, or `self.k` that every construction makes 1), normalized along the same dimension
(`top, idx = logits.topk(self.k, dim=-1); gates = F.softmax(top, dim=-1)`, top-1 gating). Then the indices of that
`topk` are not reported as well: they only select, and the softmax is what to change.
A loss term made only through such ops, added to a term that trains (`return pixel + w * hist` in a loss
module's `forward`, `loss = ce + penalty`), is flagged too when that sum is the tensor `backward()` is called on:
the term is a constant to autograd, so its objective is never optimized while the rest of the loss trains. The same for
the loss a framework backpropagates (`return loss` from a Lightning `training_step` or a Hugging Face `compute_loss`,
also `(loss, outputs) if return_outputs else loss`). A term that a `.detach()` or `.data` cuts as well is left to
GG201. So are
the gradients `torch.autograd.grad(out, inputs)` returns without `create_graph=True`: they have no `grad_fn`, so a
gradient penalty built from them (WGAN-GP, R1, an input-gradient norm) adds nothing to any gradient; the fix passes
`create_graph=True`. A `create_graph` spelled by a configuration (`create_graph=not cfg["first_order"]`) is a chosen
first-order approximation: when another cut stands in front of the same parameters (`w.data - lr * g` in the inner
loop), that one is reported (GG201), not this. So is reentrant activation checkpointing (`checkpoint(fn, x, use_reentrant=True)`, also the
default when `use_reentrant` is not passed) when none of its inputs requires grad (raw images, token ids): it runs
`fn` under no_grad and reconnects to autograd only through those inputs, so its output has no `grad_fn` and `fn`'s
parameters get no gradient (torch warns "None of the inputs have requires_grad=True"); the fix passes
`use_reentrant=False`. (A Hugging Face model whose program calls `model.enable_input_require_grads()`, directly or
through PEFT's `prepare_model_for_kbit_training`, is left alone: its embedding output then requires grad.) The stages may go through a helper of the model (`self._run(self.stem, x)` with `def _run(self,
module, *args): if self.gradient_checkpointing and self.training: return checkpoint(module, *args, ...)`): a flag a
method of the object set to a constant before the call (`model.enable_gradient_checkpointing()`, `model.train()`) is
known when the object's methods run. Checkpointing a block whose input comes from layers that train is fine either way; inputs
computed only by a part the program froze before training (a frozen embedding table in front of checkpointed blocks with
adapters, under `if self.gradient_checkpointing and self.training:` switched on by `gradient_checkpointing_enable()`) are
the same as raw inputs. Reentrant checkpointing of a block whose `forward` returns its tensors inside a dict, a
list or an object of a plain class of the file (a `@dataclass` of outputs) cuts whatever its inputs are: the Function
behind it gives a backward node only to tensors returned alone or in a tuple, so the tensors inside come back as
computed under no_grad (a tuple is fine). A branch `if self.<flag> and self.training:` counts as taken when the
constructor decides the flag and the model computes with grad on (a module is built in training mode; `eval()`
the program calls is followed). A custom
`torch.autograd.Function` whose `backward` returns `None` on every path as the gradient of an input (a
weight passed to `apply`) is no gradient path for that input: autograd reads None as "no gradient". So is a
gradient computed only under `if ctx.needs_input_grad[k]:` where every call passes a Python number at `k`
(the flag is then False): a literal, or `self.scaling` when every construction makes it one (`alpha / r` from
constructor and helper-function defaults: arithmetic on numbers gives a number). So is a custom Function whose
`forward` passes every output it returns to `ctx.mark_non_differentiable` (the pooled values together with their
indices): autograd makes marked outputs constants and never calls `backward` for them, so the layers under `apply`
get no gradient. So is a module passed to `apply` (`Fn.apply(x, self)`) whose parameters `forward` reads (`layer.kernel`):
autograd tracks only the tensors given to `apply`, so those parameters get no gradient whatever `backward` returns (pass
the parameter itself and return its gradient); a hand-written checkpoint `Function` given the block
(`Checkpoint.apply(self.mid_block, h)`) is the same, also under a switch the model's registered config decides
(`if self.config.use_checkpoint and self.training:` in a diffusers `ModelMixin` whose `@register_to_config`
constructor the program calls without changing that default). Marking only the indices or masks beside a differentiable output is fine; the fix unmarks the
outputs whose incoming gradient `backward` reads. So is a product with a frozen all-zero parameter
(`self.lora_up = nn.Parameter(torch.zeros(out, r), requires_grad=False)` in a LoRA adapter, then
`x @ self.lora_down.t() @ self.lora_up.t()`): when nothing in the file changes it (no in-place write, no `.data`, no
flag switched back on, no checkpoint loaded), the product is zero on every step and the gradient it passes to the other
factor is zero too, so `lora_down` never moves and the adapter stays a no-op.

## Why is this bad?
Index-valued ops have no gradient at all (their output has no `grad_fn`): the loss is cut from the
model and `backward()` raises or leaves `.grad` None. `sign`/`round` are piecewise constant: their gradient
is zero everywhere, so the weights get all-zero gradients and never move.

## Example
```python
pred = logits.argmax(dim=1).float()
loss = F.mse_loss(pred, y.float())
```

## Use instead
```python
loss = F.cross_entropy(logits, y)      # argmax only for metrics
w_bin = w + (torch.sign(w) - w).detach()  # straight-through estimator
```

## Fix safety
`sign`/`round`/`floor`/`ceil` get the straight-through estimator; it is unsafe because it changes the
gradient the model trains with (by design). `.sample()` gets `.rsample()`, unsafe because only
reparameterizable distributions (Normal, Uniform, Beta, ...; not Categorical or Bernoulli) implement it.
`torch.distributed.all_gather(bufs, x)` gets `bufs[dist.get_rank()] = x` after it, unsafe because each rank then
backpropagates only through its own part of the gathered batch (the common pattern for contrastive losses; a
gradient through every rank's part needs `torch.distributed.nn.functional.all_gather`).
"""
    examples = (
        Example(
            name="hard-selection-switched-on-by-an-outer-constructors-config",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"n_vars": 3, "hidden": 4, "hard_selection": True}


class VariableSelection(nn.Module):
    def __init__(self, n_vars, d, hard):
        super().__init__()
        self.n_vars, self.hard = n_vars, hard
        self.embed = nn.Linear(1, d)
        self.selector = nn.Linear(n_vars, n_vars)

    def forward(self, x):
        logits = self.selector(x)
        if self.hard:
            weights = F.one_hot(logits.argmax(dim=-1), self.n_vars).to(logits.dtype)
        else:
            weights = torch.softmax(logits, dim=-1)
        return (self.embed(x.unsqueeze(-1)) * weights.unsqueeze(-1)).sum(1)


class Forecaster(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.vsn = VariableSelection(cfg["n_vars"], cfg["hidden"], cfg["hard_selection"])
        self.head = nn.Linear(cfg["hidden"], 1)

    def forward(self, x):
        return self.head(self.vsn(x)).squeeze(-1)


def main():
    torch.manual_seed(0)
    model = Forecaster(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(2):
        loss = (model(torch.randn(8, 3)) - 1.0).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            lines=(18,),
            expect={'grad_none': ['model.vsn.selector.weight'], 'grad_ok': ['model.head.weight']},
            fixed_expect={'grad_ok': ['model.vsn.selector.weight']},
        ),
        Example(
            bad=False,
            name="soft-selection-by-the-outer-constructors-config",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"n_vars": 3, "hidden": 4, "hard_selection": False}


class VariableSelection(nn.Module):
    def __init__(self, n_vars, d, hard):
        super().__init__()
        self.n_vars, self.hard = n_vars, hard
        self.embed = nn.Linear(1, d)
        self.selector = nn.Linear(n_vars, n_vars)

    def forward(self, x):
        logits = self.selector(x)
        if self.hard:
            weights = F.one_hot(logits.argmax(dim=-1), self.n_vars).to(logits.dtype)
        else:
            weights = torch.softmax(logits, dim=-1)
        return (self.embed(x.unsqueeze(-1)) * weights.unsqueeze(-1)).sum(1)


class Forecaster(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.vsn = VariableSelection(cfg["n_vars"], cfg["hidden"], cfg["hard_selection"])
        self.head = nn.Linear(cfg["hidden"], 1)

    def forward(self, x):
        return self.head(self.vsn(x)).squeeze(-1)


def main():
    torch.manual_seed(0)
    model = Forecaster(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(2):
        loss = (model(torch.randn(8, 3)) - 1.0).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            expect={'grad_ok': ['model.vsn.selector.weight', 'model.head.weight']},
        ),
        Example(
            bad=False,
            name="cutoff-mask-from-a-config-number-kept-on-the-module",
            code="""import torch
import torch.nn as nn

CFG = {"n_rbf": 6, "hidden": 8, "cutoff": 2.5}


class Filter(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.centers = nn.Parameter(torch.linspace(0, cfg["cutoff"], cfg["n_rbf"]))
        self.proj = nn.Linear(cfg["n_rbf"], cfg["hidden"])
        self.cutoff = cfg["cutoff"]

    def forward(self, pos):
        d = (pos.unsqueeze(1) - pos.unsqueeze(0)).norm(dim=-1)
        mask = (d < self.cutoff).float()
        rbf = torch.exp(-(d.unsqueeze(-1) - self.centers) ** 2)
        return (self.proj(rbf) * mask.unsqueeze(-1)).sum()


def main():
    torch.manual_seed(0)
    model = Filter(CFG)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss = model(torch.randn(5, 3))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"model": model}
""",
            expect={'grad_ok': ['model.centers', 'model.proj.weight']},
        ),
        Example(
            bad=False,
            name="margin-threshold-from-math-constants",
            code="""import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class AAMSoftmax(nn.Module):
    def __init__(self, emb_dim=4, n_classes=3, margin=0.2, scale=10.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_classes, emb_dim) * 0.01)
        self.m, self.s = margin, scale
        self.th, self.mm = math.cos(math.pi - margin), math.sin(math.pi - margin) * margin

    def forward(self, emb, labels):
        cosine = F.linear(F.normalize(emb, dim=1), F.normalize(self.weight, dim=1))
        sine = torch.sqrt((1.0 - cosine.pow(2)).clamp(1e-7, 1))
        phi = cosine * math.cos(self.m) - sine * math.sin(self.m)
        phi = torch.where(cosine - self.th > 0, phi, cosine - self.mm)
        one_hot = F.one_hot(labels, cosine.shape[1]).to(cosine.dtype)
        return F.cross_entropy(self.s * (one_hot * phi + (1 - one_hot) * cosine), labels)


def main():
    torch.manual_seed(0)
    encoder, head = nn.Linear(6, 4), AAMSoftmax()
    optimizer = torch.optim.SGD([*encoder.parameters(), *head.parameters()], lr=0.1)
    for _ in range(2):
        loss = head(encoder(torch.randn(8, 6)), torch.randint(0, 3, (8,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"encoder": encoder, "head": head}
""",
            expect={'grad_ok': ['head.weight', 'encoder.weight']},
        ),
        Example(
            name="one-hot-of-the-chosen-operation",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class MixedEdge(nn.Module):
    def __init__(self, dim=4, n_ops=3):
        super().__init__()
        self.ops = nn.ModuleList([nn.Linear(dim, dim) for _ in range(n_ops)])
        self.alpha = nn.Parameter(1e-3 * torch.randn(n_ops))

    def choose(self):
        probs = F.softmax(self.alpha, dim=-1)
        index = probs.argmax(-1)
        return F.one_hot(index, len(self.ops)).float()

    def forward(self, x):
        weights = self.choose()
        return sum(w * op(x) for w, op in zip(weights, self.ops))


def main():
    torch.manual_seed(0)
    edge = MixedEdge()
    optimizer = torch.optim.Adam(edge.parameters(), lr=1e-2)
    for _ in range(3):
        loss = edge(torch.randn(5, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"edge": edge}
""",
            lines=(14,),
            expect={'grad_none': ['edge.alpha'], 'grad_ok': ['edge.ops.0.weight']},
            fixed_expect={'grad_ok': ['edge.alpha']},
        ),
        Example(
            bad=False,
            name="one-hot-with-straight-through",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class MixedEdge(nn.Module):
    def __init__(self, dim=4, n_ops=3):
        super().__init__()
        self.ops = nn.ModuleList([nn.Linear(dim, dim) for _ in range(n_ops)])
        self.alpha = nn.Parameter(1e-3 * torch.randn(n_ops))

    def choose(self):
        probs = F.softmax(self.alpha, dim=-1)
        index = probs.argmax(-1)
        hard = F.one_hot(index, len(self.ops)).float()
        return hard - probs.detach() + probs

    def forward(self, x):
        weights = self.choose()
        return sum(w * op(x) for w, op in zip(weights, self.ops))


def main():
    torch.manual_seed(0)
    edge = MixedEdge()
    optimizer = torch.optim.Adam(edge.parameters(), lr=1e-2)
    for _ in range(3):
        loss = edge(torch.randn(5, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"edge": edge}
""",
            expect={'grad_ok': ['edge.alpha']},
        ),
        Example(
            name="warm-up-branch-binds-the-loss-to-a-hard-histogram",
            code="""import torch
import torch.nn as nn


def histogram(img, bins=8):
    hists = torch.stack([torch.histc(im, bins=bins, min=0.0, max=1.0) for im in img])
    return hists / hists.sum(-1, keepdim=True)


def train(model, batches, optimizer, warmup_epochs=1):
    for epoch in range(2):
        for x, target in batches:
            out = torch.sigmoid(model(x))
            if epoch < warmup_epochs:
                loss = (histogram(out) - histogram(target)).abs().mean()
            else:
                loss = (out - target).abs().mean() + 0.1 * (histogram(out) - histogram(target)).abs().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(6, 6)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [(torch.randn(4, 6), torch.rand(4, 6)) for _ in range(3)]
    train(model, batches, optimizer)
    return {"model": model}
""",
            lines=(6,),
            expect={"error": "does not require grad"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="warm-up-branch-binds-the-loss-to-a-soft-histogram",
            code="""import torch
import torch.nn as nn


def histogram(img, bins=8):
    centers = torch.linspace(0.0, 1.0, bins)
    weights = torch.exp(-0.5 * ((img.unsqueeze(-1) - centers) / 0.05) ** 2).sum(1)
    return weights / weights.sum(-1, keepdim=True)


def train(model, batches, optimizer, warmup_epochs=1):
    for epoch in range(2):
        for x, target in batches:
            out = torch.sigmoid(model(x))
            if epoch < warmup_epochs:
                loss = (histogram(out) - histogram(target)).abs().mean()
            else:
                loss = (out - target).abs().mean() + 0.1 * (histogram(out) - histogram(target)).abs().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(6, 6)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [(torch.randn(4, 6), torch.rand(4, 6)) for _ in range(3)]
    train(model, batches, optimizer)
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight", "model.bias"]},
        ),
        Example(
            name="learned-quantization-scale-passed-through-a-function-that-drops-its-gradient",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x, scale)
        return torch.round(x / scale) * scale

    @staticmethod
    def backward(ctx, grad_output):
        x, scale = ctx.saved_tensors
        return grad_output, None


class QuantConv(nn.Module):
    def __init__(self, c_in=3, c_out=4):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.act_scale = nn.Parameter(torch.tensor(0.1))

    def forward(self, x):
        return self.conv(RoundSTE.apply(x, self.act_scale))


def main():
    torch.manual_seed(0)
    model = nn.Sequential(QuantConv(), nn.Flatten(), nn.Linear(4 * 8 * 8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = F.cross_entropy(model(torch.randn(4, 3, 8, 8)), torch.randint(0, 2, (4,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            lines=(15,),
            fixable=False,
            expect={"grad_none": ["model.0.act_scale"], "grad_ok": ["model.0.conv.weight"]},
        ),
        Example(
            bad=False,
            name="learned-quantization-scale-with-its-gradient",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x, scale)
        return torch.round(x / scale) * scale

    @staticmethod
    def backward(ctx, grad_output):
        x, scale = ctx.saved_tensors
        q = x / scale
        grad_scale = (grad_output * (torch.round(q) - q)).sum().reshape(scale.shape)
        return grad_output, grad_scale


class QuantConv(nn.Module):
    def __init__(self, c_in=3, c_out=4):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.act_scale = nn.Parameter(torch.tensor(0.1))

    def forward(self, x):
        return self.conv(RoundSTE.apply(x, self.act_scale))


def main():
    torch.manual_seed(0)
    model = nn.Sequential(QuantConv(), nn.Flatten(), nn.Linear(4 * 8 * 8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = F.cross_entropy(model(torch.randn(4, 3, 8, 8)), torch.randint(0, 2, (4,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.act_scale", "model.0.conv.weight"]},
        ),
        Example(
            bad=False,
            name="fixed-quantization-scale-kept-as-a-buffer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x, scale)
        return torch.round(x / scale) * scale

    @staticmethod
    def backward(ctx, grad_output):
        x, scale = ctx.saved_tensors
        return grad_output, None


class QuantConv(nn.Module):
    def __init__(self, c_in=3, c_out=4):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.register_buffer("act_scale", torch.tensor(0.1))

    def forward(self, x):
        return self.conv(RoundSTE.apply(x, self.act_scale))


def main():
    torch.manual_seed(0)
    model = nn.Sequential(QuantConv(), nn.Flatten(), nn.Linear(4 * 8 * 8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = F.cross_entropy(model(torch.randn(4, 3, 8, 8)), torch.randint(0, 2, (4,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.conv.weight"]},
        ),
        Example(
            name="lora-up-made-frozen-at-zero-so-lora-down-gets-zero-gradient",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRAAdapter(nn.Module):
    def __init__(self, d, rank=2):
        super().__init__()
        self.lora_down = nn.Parameter(torch.randn(rank, d) / rank)
        self.lora_up = nn.Parameter(torch.zeros(d, rank), requires_grad=False)

    def forward(self, x):
        return x @ self.lora_down.t() @ self.lora_up.t()


class Block(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.lora = LoRAAdapter(d)

    def forward(self, x):
        return self.proj(x) + self.lora(x)


def main():
    torch.manual_seed(0)
    model = Block()
    model.proj.requires_grad_(False)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    down0 = model.lora.lora_down.detach().clone()
    for _ in range(3):
        optimizer.zero_grad()
        F.mse_loss(model(torch.randn(6, 4)), torch.randn(6, 4)).backward()
        optimizer.step()
    return {"model": model}, {"lora_down_changed": not torch.equal(down0, model.lora.lora_down)}
""",
            lines=(13,),
            expect={"grad_zero": ["model.lora.lora_down"], "facts": {"lora_down_changed": False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="lora-up-made-at-zero-and-trained",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRAAdapter(nn.Module):
    def __init__(self, d, rank=2):
        super().__init__()
        self.lora_down = nn.Parameter(torch.randn(rank, d) / rank)
        self.lora_up = nn.Parameter(torch.zeros(d, rank))

    def forward(self, x):
        return x @ self.lora_down.t() @ self.lora_up.t()


class Block(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.lora = LoRAAdapter(d)

    def forward(self, x):
        return self.proj(x) + self.lora(x)


def main():
    torch.manual_seed(0)
    model = Block()
    model.proj.requires_grad_(False)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    down0 = model.lora.lora_down.detach().clone()
    for _ in range(3):
        optimizer.zero_grad()
        F.mse_loss(model(torch.randn(6, 4)), torch.randn(6, 4)).backward()
        optimizer.step()
    return {"model": model}, {"lora_down_changed": not torch.equal(down0, model.lora.lora_down)}
""",
            expect={"facts": {"lora_down_changed": True}},
        ),
        Example(
            name="lightning-step-returns-a-loss-with-a-term-made-through-argmax",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def mismatch_penalty(logits, y):
    return (logits.argmax(dim=1) != y).float().mean()


class Classifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(6, 3)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self.net(x)
        penalty = mismatch_penalty(logits, y)
        self.penalty_requires_grad = penalty.requires_grad
        loss = F.cross_entropy(logits, y) + 0.5 * penalty
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    model = Classifier()
    data = TensorDataset(torch.randn(16, 6), torch.randint(0, 3, (16,)))
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=8))
    return {"model": model}, {"penalty_trains": model.penalty_requires_grad}
""",
            lines=(9,),
            fixable=False,
            expect={"grad_ok": ["model.net.weight"], "facts": {"penalty_trains": False}},
        ),
        Example(
            bad=False,
            name="lightning-step-returns-a-loss-with-a-term-made-from-probabilities",
            code="""import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def mismatch_penalty(logits, y):
    return 1 - logits.softmax(dim=1).gather(1, y[:, None]).mean()


class Classifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(6, 3)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self.net(x)
        penalty = mismatch_penalty(logits, y)
        self.penalty_requires_grad = penalty.requires_grad
        loss = F.cross_entropy(logits, y) + 0.5 * penalty
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    model = Classifier()
    data = TensorDataset(torch.randn(16, 6), torch.randint(0, 3, (16,)))
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=8))
    return {"model": model}, {"penalty_trains": model.penalty_requires_grad}
""",
            expect={"grad_ok": ["model.net.weight"], "facts": {"penalty_trains": True}},
        ),
        Example(
            name="dice-on-argmax-when-the-constructor-picks-the-dice-only-loss",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Segmenter(nn.Module):
    def __init__(self, loss_type="dice"):
        super().__init__()
        self.net = nn.Conv2d(3, 3, 1)
        self.loss_type = loss_type

    def loss(self, x, masks):
        logits = self.net(x)
        hard = F.one_hot(logits.argmax(dim=1), 3).permute(0, 3, 1, 2).float()
        loss = 1 - (hard * F.one_hot(masks, 3).permute(0, 3, 1, 2)).mean()
        if self.loss_type == "dice+ce":
            loss = loss + F.cross_entropy(logits, masks)
        return loss


def main():
    torch.manual_seed(0)
    model = Segmenter(loss_type="dice")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, masks = torch.randn(2, 3, 4, 4), torch.randint(0, 3, (2, 4, 4))
    opt.zero_grad()
    model.loss(x, masks).backward()
    opt.step()
    return {"model": model}
""",
            lines=(14,),
            fixable=False,
            expect={"error": "does not require grad"},
        ),
        Example(
            bad=False,
            name="argmax-dice-only-on-a-loss-type-no-construction-picks",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Segmenter(nn.Module):
    def __init__(self, loss_type="dice"):
        super().__init__()
        self.net = nn.Conv2d(3, 3, 1)
        self.loss_type = loss_type

    def loss(self, x, masks):
        logits = self.net(x)
        if self.loss_type in ("ce", "dice+ce"):
            return F.cross_entropy(logits, masks)
        hard = F.one_hot(logits.argmax(dim=1), 3).permute(0, 3, 1, 2).float()
        return 1 - (hard * F.one_hot(masks, 3).permute(0, 3, 1, 2)).mean()


def main():
    torch.manual_seed(0)
    model = Segmenter(loss_type="ce")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, masks = torch.randn(2, 3, 4, 4), torch.randint(0, 3, (2, 4, 4))
    opt.zero_grad()
    model.loss(x, masks).backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.net.weight"]},
        ),
        Example(
            name="argmin-ids-feed-the-decoder-and-the-term-that-reaches-the-encoder-is-configured-off",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Tokenizer(nn.Module):
    def __init__(self, commit_weight=0.0):
        super().__init__()
        self.encoder = nn.Linear(6, 8)
        self.codebook = nn.Embedding(16, 8)
        self.decoder = nn.Sequential(nn.Embedding(16, 8), nn.Linear(8, 6))
        self.commit_weight = commit_weight

    def loss(self, x):
        z = self.encoder(x)
        ids = torch.cdist(z, self.codebook.weight).argmin(dim=-1)
        loss = F.mse_loss(self.decoder(ids), x) + F.mse_loss(self.codebook(ids), z.detach())
        if self.commit_weight > 0:
            loss = loss + self.commit_weight * F.mse_loss(z, self.codebook(ids).detach())
        return loss


def main():
    torch.manual_seed(0)
    model = Tokenizer(commit_weight=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = model.loss(torch.randn(32, 6))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(16,),
            expect={"grad_none": ["model.encoder.weight", "model.encoder.bias"], "grad_ok": ["model.decoder.1.weight"]},
            fixable=False,
        ),
        Example(
            bad=False,
            name="argmin-ids-feed-the-decoder-and-the-commitment-term-is-configured-on",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Tokenizer(nn.Module):
    def __init__(self, commit_weight=0.0):
        super().__init__()
        self.encoder = nn.Linear(6, 8)
        self.codebook = nn.Embedding(16, 8)
        self.decoder = nn.Sequential(nn.Embedding(16, 8), nn.Linear(8, 6))
        self.commit_weight = commit_weight

    def loss(self, x):
        z = self.encoder(x)
        ids = torch.cdist(z, self.codebook.weight).argmin(dim=-1)
        loss = F.mse_loss(self.decoder(ids), x) + F.mse_loss(self.codebook(ids), z.detach())
        if self.commit_weight > 0:
            loss = loss + self.commit_weight * F.mse_loss(z, self.codebook(ids).detach())
        return loss


def main():
    torch.manual_seed(0)
    model = Tokenizer(commit_weight=0.25)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = model.loss(torch.randn(32, 6))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.encoder.weight", "model.decoder.1.weight"]},
        ),
        Example(
            name="features-gathered-across-ranks-with-all-gather",
            code="""import os
import tempfile

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F


def gather(feats):
    bufs = [torch.zeros_like(feats) for _ in range(dist.get_world_size())]
    dist.all_gather(bufs, feats)
    return torch.cat(bufs, dim=0)


def main():
    torch.manual_seed(0)
    path = os.path.join(tempfile.mkdtemp(), "init")
    dist.init_process_group("gloo", init_method="file://" + path, rank=0, world_size=1)
    try:
        img, txt = nn.Linear(6, 4), nn.Linear(5, 4)
        scale = nn.Parameter(torch.tensor(2.3))
        opt = torch.optim.SGD([*img.parameters(), *txt.parameters(), scale], lr=0.1)
        a = F.normalize(img(torch.randn(8, 6)), dim=-1)
        b = F.normalize(txt(torch.randn(8, 5)), dim=-1)
        logits = scale.exp() * gather(a) @ gather(b).t()
        loss = F.cross_entropy(logits, torch.arange(8))
        opt.zero_grad()
        loss.backward()
        opt.step()
    finally:
        dist.destroy_process_group()
    return {"img": img, "txt": txt, "scale": scale}
""",
            lines=(12,),
            expect={"grad_none": ["img.weight", "txt.weight"], "grad_ok": ["scale"]},
            fixed_expect={"grad_ok": ["img.weight", "txt.weight"]},
        ),
        Example(
            bad=False,
            name="all-gather-with-the-local-slot-restored",
            code="""import os
import tempfile

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F


def gather(feats):
    bufs = [torch.zeros_like(feats) for _ in range(dist.get_world_size())]
    dist.all_gather(bufs, feats)
    bufs[dist.get_rank()] = feats
    return torch.cat(bufs, dim=0)


def main():
    torch.manual_seed(0)
    path = os.path.join(tempfile.mkdtemp(), "init")
    dist.init_process_group("gloo", init_method="file://" + path, rank=0, world_size=1)
    try:
        img, txt = nn.Linear(6, 4), nn.Linear(5, 4)
        opt = torch.optim.SGD([*img.parameters(), *txt.parameters()], lr=0.1)
        a = F.normalize(img(torch.randn(8, 6)), dim=-1)
        b = F.normalize(txt(torch.randn(8, 5)), dim=-1)
        loss = F.cross_entropy(10.0 * gather(a) @ gather(b).t(), torch.arange(8))
        opt.zero_grad()
        loss.backward()
        opt.step()
    finally:
        dist.destroy_process_group()
    return {"img": img, "txt": txt}
""",
            expect={"grad_ok": ["img.weight", "txt.weight"]},
        ),
        Example(
            name="function-marks-its-pooled-values-non-differentiable",
            code="""import torch
import torch.nn as nn


class TopKPool(torch.autograd.Function):
    @staticmethod
    def forward(ctx, feats, k):
        idx = feats.argsort(dim=1, descending=True)[:, :k]
        pooled = feats.gather(1, idx)
        ctx.save_for_backward(idx)
        ctx.n = feats.size(1)
        ctx.mark_non_differentiable(pooled, idx)
        return pooled, idx

    @staticmethod
    def backward(ctx, grad_pooled, grad_idx):
        (idx,) = ctx.saved_tensors
        grad = grad_pooled.new_zeros(grad_pooled.size(0), ctx.n)
        grad.scatter_(1, idx, grad_pooled)
        return grad, None


def main():
    torch.manual_seed(0)
    enc, head = nn.Linear(4, 8), nn.Linear(3, 1)
    opt = torch.optim.SGD([*enc.parameters(), *head.parameters()], lr=0.1)
    pooled, _ = TopKPool.apply(enc(torch.randn(6, 4)), 3)
    loss = head(pooled).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"enc": enc, "head": head}
""",
            lines=(12,),
            expect={"grad_none": ["enc.weight"], "grad_ok": ["head.weight"]},
            fixed_expect={"grad_ok": ["enc.weight", "head.weight"]},
        ),
        Example(
            bad=False,
            name="function-marks-only-its-indices-non-differentiable",
            code="""import torch
import torch.nn as nn


class TopKPool(torch.autograd.Function):
    @staticmethod
    def forward(ctx, feats, k):
        idx = feats.argsort(dim=1, descending=True)[:, :k]
        pooled = feats.gather(1, idx)
        ctx.save_for_backward(idx)
        ctx.n = feats.size(1)
        ctx.mark_non_differentiable(idx)
        return pooled, idx

    @staticmethod
    def backward(ctx, grad_pooled, grad_idx):
        (idx,) = ctx.saved_tensors
        grad = grad_pooled.new_zeros(grad_pooled.size(0), ctx.n)
        grad.scatter_(1, idx, grad_pooled)
        return grad, None


def main():
    torch.manual_seed(0)
    enc, head = nn.Linear(4, 8), nn.Linear(3, 1)
    opt = torch.optim.SGD([*enc.parameters(), *head.parameters()], lr=0.1)
    pooled, _ = TopKPool.apply(enc(torch.randn(6, 4)), 3)
    loss = head(pooled).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"enc": enc, "head": head}
""",
            expect={"grad_ok": ["enc.weight", "head.weight"]},
        ),
        Example(
            name="reentrant-checkpoint-on-the-stem-fed-raw-inputs",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        h = checkpoint(self.stem, x, use_reentrant=True)
        return self.head(h)


def main():
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(14,),
            expect={"grad_none": ["model.stem.weight"], "grad_ok": ["model.head.weight"]},
            fixed_expect={"grad_ok": ["model.stem.weight", "model.head.weight"]},
        ),
        Example(
            bad=False,
            name="reentrant-checkpoint-on-a-block-after-a-trained-stem",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 4)
        self.block = nn.Linear(4, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        h = checkpoint(self.block, self.stem(x), use_reentrant=True)
        return self.head(h)


def main():
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.stem.weight", "model.block.weight", "model.head.weight"]},
        ),
        Example(
            bad=False,
            name="non-reentrant-checkpoint-on-the-stem",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        h = checkpoint(self.stem, x, use_reentrant=False)
        return self.head(h)


def main():
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.stem.weight", "model.head.weight"]},
        ),
        Example(
            name="gradient-computed-only-when-a-number-needs-it",
            code="""import torch
import torch.nn as nn


class ScaleGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_out):
        grad_x = None
        if ctx.needs_input_grad[1]:
            grad_x = grad_out * ctx.scale
        return grad_x, None


def main():
    torch.manual_seed(0)
    trunk, head = nn.Linear(4, 4), nn.Linear(4, 1)
    opt = torch.optim.SGD([*trunk.parameters(), *head.parameters()], lr=0.1)
    loss = head(ScaleGrad.apply(trunk(torch.randn(6, 4)), 0.1)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"trunk": trunk, "head": head}
""",
            lines=(14,),
            expect={"grad_none": ["trunk.weight"], "grad_ok": ["head.weight"]},
            fixable=False,
        ),
        Example(
            bad=False,
            name="gradient-computed-when-the-tensor-input-needs-it",
            code="""import torch
import torch.nn as nn


class ScaleGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_out):
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_out * ctx.scale
        return grad_x, None


def main():
    torch.manual_seed(0)
    trunk, head = nn.Linear(4, 4), nn.Linear(4, 1)
    opt = torch.optim.SGD([*trunk.parameters(), *head.parameters()], lr=0.1)
    loss = head(ScaleGrad.apply(trunk(torch.randn(6, 4)), 0.1)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"trunk": trunk, "head": head}
""",
            expect={"grad_ok": ["trunk.weight", "head.weight"]},
        ),
        Example(
            name="adapter-gradient-guarded-by-the-scaling-index",
            code="""import torch
import torch.nn as nn


class LowRank(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, a, b, scaling):
        ctx.save_for_backward(x, a, b)
        ctx.scaling = scaling
        return scaling * (x @ a.t()) @ b.t()

    @staticmethod
    def backward(ctx, grad_out):
        x, a, b = ctx.saved_tensors
        grad_x = grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = ctx.scaling * (grad_out @ b) @ a
        if ctx.needs_input_grad[1]:
            grad_a = ctx.scaling * (grad_out @ b).t() @ x
        if ctx.needs_input_grad[3]:
            grad_b = ctx.scaling * grad_out.t() @ (x @ a.t())
        return grad_x, grad_a, grad_b, None


class Adapter(nn.Module):
    def __init__(self, d, r=2, alpha=4):
        super().__init__()
        self.a = nn.Parameter(torch.randn(r, d) * 0.1)
        self.b = nn.Parameter(torch.randn(d, r) * 0.1)
        self.scaling = alpha / r

    def forward(self, x):
        return x + LowRank.apply(x, self.a, self.b, self.scaling)


class Net(nn.Module):
    def __init__(self, d, r):
        super().__init__()
        self.fc = nn.Linear(d, d)
        self.adapter = Adapter(d, r)

    def forward(self, x):
        return self.adapter(self.fc(x))


def build(d, r=2):
    return Net(d, r)


def main():
    torch.manual_seed(0)
    net = build(4)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = net(torch.randn(6, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            lines=(20,),
            expect={"grad_none": ["net.adapter.b"], "grad_ok": ["net.adapter.a", "net.fc.weight"]},
            fixable=False,
        ),
        Example(
            bad=False,
            name="adapter-gradient-guarded-by-its-own-index",
            code="""import torch
import torch.nn as nn


class LowRank(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, a, b, scaling):
        ctx.save_for_backward(x, a, b)
        ctx.scaling = scaling
        return scaling * (x @ a.t()) @ b.t()

    @staticmethod
    def backward(ctx, grad_out):
        x, a, b = ctx.saved_tensors
        grad_x = grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = ctx.scaling * (grad_out @ b) @ a
        if ctx.needs_input_grad[1]:
            grad_a = ctx.scaling * (grad_out @ b).t() @ x
        if ctx.needs_input_grad[2]:
            grad_b = ctx.scaling * grad_out.t() @ (x @ a.t())
        return grad_x, grad_a, grad_b, None


class Adapter(nn.Module):
    def __init__(self, d, r=2, alpha=4):
        super().__init__()
        self.a = nn.Parameter(torch.randn(r, d) * 0.1)
        self.b = nn.Parameter(torch.randn(d, r) * 0.1)
        self.scaling = alpha / r

    def forward(self, x):
        return x + LowRank.apply(x, self.a, self.b, self.scaling)


class Net(nn.Module):
    def __init__(self, d, r):
        super().__init__()
        self.fc = nn.Linear(d, d)
        self.adapter = Adapter(d, r)

    def forward(self, x):
        return self.adapter(self.fc(x))


def build(d, r=2):
    return Net(d, r)


def main():
    torch.manual_seed(0)
    net = build(4)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = net(torch.randn(6, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.adapter.a", "net.adapter.b", "net.fc.weight"]},
        ),
        Example(
            name="loss-on-the-indices-of-max",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
    pred = model(x).max(1)[1]
    loss = F.mse_loss(pred.float(), y.float())
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(11,),
            expect={"error": "does not require grad"},
            fixable=False,
        ),
        Example(
            name="argmax-loss-returned-in-a-dataclass-record",
            code="""from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class StepOutput:
    loss: Optional[torch.Tensor] = None
    logits: Optional[torch.Tensor] = None


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 3)

    def forward(self, x, y):
        logits = self.proj(x)
        preds = logits.argmax(-1).float()
        return StepOutput(loss=F.mse_loss(preds, y.float()), logits=logits)


def main():
    torch.manual_seed(0)
    model = Tagger()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    out = model(torch.randn(8, 4), torch.randint(0, 3, (8,)))
    opt.zero_grad()
    out.loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(22,),
            expect={"error": "element 0 of tensors does not require grad"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="trainer-takes-the-loss-entry-of-a-metrics-dict",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def step_outputs(model, x, y):
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    preds = logits.argmax(-1)
    return {"loss": loss, "acc": (preds == y).float().mean()}


def run_step(model, opt, x, y):
    out = step_outputs(model, x, y)
    if isinstance(out, dict):
        loss = out["loss"]
    else:
        loss = out
    opt.zero_grad()
    loss.backward()
    opt.step()
    return out["acc"].item()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    acc = run_step(model, opt, torch.randn(8, 4), torch.randint(0, 3, (8,)))
    return {"model": model}, {"acc_is_number": isinstance(acc, float)}
""",
            expect={"grad_ok": ["model.weight", "model.bias"], "facts": {"acc_is_number": True}},
        ),
        Example(
            name="top-1-gate-softmax-over-one-logit",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class TopKGate(nn.Module):
    def __init__(self, d=4, n_experts=3, k=1):
        super().__init__()
        self.k = k
        self.w_gate = nn.Linear(d, n_experts, bias=False)
        self.experts = nn.ModuleList(nn.Linear(d, d) for _ in range(n_experts))

    def forward(self, x):
        logits = self.w_gate(x)
        top, idx = logits.topk(self.k, dim=-1)
        gates = F.softmax(top, dim=-1)
        out = torch.zeros_like(x)
        for slot in range(self.k):
            for e, expert in enumerate(self.experts):
                sel = idx[:, slot] == e
                out[sel] += gates[sel, slot, None] * expert(x[sel])
        return out


def main():
    torch.manual_seed(0)
    moe = TopKGate()
    loss = moe(torch.randn(16, 4)).pow(2).mean()
    loss.backward()
    return {"moe": moe}
""",
            lines=(16,),
            expect={"grad_zero": ["moe.w_gate.weight"], "grad_ok": ["moe.experts.0.weight"]},
            fixable=False,
        ),
        Example(
            bad=False,
            name="top-1-gate-normalized-before-selecting",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class TopKGate(nn.Module):
    def __init__(self, d=4, n_experts=3, k=1):
        super().__init__()
        self.k = k
        self.w_gate = nn.Linear(d, n_experts, bias=False)
        self.experts = nn.ModuleList(nn.Linear(d, d) for _ in range(n_experts))

    def forward(self, x):
        logits = self.w_gate(x)
        probs = F.softmax(logits, dim=-1)
        gates, idx = probs.topk(self.k, dim=-1)
        out = torch.zeros_like(x)
        for slot in range(self.k):
            for e, expert in enumerate(self.experts):
                sel = idx[:, slot] == e
                out[sel] += gates[sel, slot, None] * expert(x[sel])
        return out


def main():
    torch.manual_seed(0)
    moe = TopKGate()
    loss = moe(torch.randn(16, 4)).pow(2).mean()
    loss.backward()
    return {"moe": moe}
""",
            expect={"grad_ok": ["moe.w_gate.weight", "moe.experts.0.weight"]},
        ),
        Example(
            bad=False,
            name="top-2-gate-softmax-over-the-selected-logits",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class TopKGate(nn.Module):
    def __init__(self, d=4, n_experts=3, k=1):
        super().__init__()
        self.k = k
        self.w_gate = nn.Linear(d, n_experts, bias=False)
        self.experts = nn.ModuleList(nn.Linear(d, d) for _ in range(n_experts))

    def forward(self, x):
        logits = self.w_gate(x)
        top, idx = logits.topk(self.k, dim=-1)
        gates = F.softmax(top, dim=-1)
        out = torch.zeros_like(x)
        for slot in range(self.k):
            for e, expert in enumerate(self.experts):
                sel = idx[:, slot] == e
                out[sel] += gates[sel, slot, None] * expert(x[sel])
        return out


def main():
    torch.manual_seed(0)
    moe = TopKGate(k=2)
    loss = moe(torch.randn(16, 4)).pow(2).mean()
    loss.backward()
    return {"moe": moe}
""",
            expect={"grad_ok": ["moe.w_gate.weight", "moe.experts.0.weight"]},
        ),
        Example(
            bad=False,
            name="max-values-train-and-indices-for-accuracy",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
    out = model(x)
    best, idx = out.max(1)
    top, _ = torch.topk(out, 2, dim=1)
    loss = F.cross_entropy(out, y) + 0.1 * best.mean() + 0.1 * top.sum() + 0.1 * out.max(dim=1).values.mean()
    acc = (idx == y).float().mean().item()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}, {"acc_is_number": isinstance(acc, float)}
""",
            expect={"grad_ok": ["model.weight"], "facts": {"acc_is_number": True}},
        ),
        Example(
            name="comparison-loss-silenced-with-requires-grad",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(2):
        out = net(torch.randn(8, 4))
        loss = (out > 0).float().mean()
        loss.requires_grad_(True)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"net": net}
""",
            lines=(11,),
            expect={"grad_none": ["net.weight", "net.bias"]},
            fixable=False,
        ),
        Example(
            name="threshold-set-by-every-construction",
            code="""import torch
import torch.nn as nn


class DiceLoss(nn.Module):
    def __init__(self, threshold=None):
        super().__init__()
        self.threshold = threshold

    def forward(self, logits, target):
        pred = torch.sigmoid(logits)
        if self.threshold is not None:
            pred = (pred > self.threshold).float()
        inter = (pred * target).sum()
        return 1 - (2 * inter + 1) / (pred.sum() + target.sum() + 1)


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 1)
    criterion = DiceLoss(threshold=0.5)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x, y = torch.randn(8, 4), (torch.rand(8, 1) > 0.5).float()
    loss = criterion(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            lines=(13,),
            expect={"error": "does not require grad"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="threshold-left-at-its-default-none",
            code="""import torch
import torch.nn as nn


class DiceLoss(nn.Module):
    def __init__(self, threshold=None):
        super().__init__()
        self.threshold = threshold

    def forward(self, logits, target):
        pred = torch.sigmoid(logits)
        if self.threshold is not None:
            pred = (pred > self.threshold).float()
        inter = (pred * target).sum()
        return 1 - (2 * inter + 1) / (pred.sum() + target.sum() + 1)


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 1)
    criterion = DiceLoss()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x, y = torch.randn(8, 4), (torch.rand(8, 1) > 0.5).float()
    loss = criterion(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight"]},
        ),
        Example(
            name="custom-function-returns-none-for-the-weight",
            code="""import torch
import torch.nn as nn


class L1Distance(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x, weight)
        return -(x[:, None, :] - weight[None, :, :]).abs().sum(-1)

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        diff = x[:, None, :] - weight[None, :, :]
        grad_x = (grad_output[:, :, None] * (-diff).clamp(-1, 1)).sum(1)
        grad_w = None
        return grad_x, grad_w


class AdderLayer(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in))

    def forward(self, x):
        return L1Distance.apply(x, self.weight)


def main():
    torch.manual_seed(0)
    layer = AdderLayer(4, 3)
    head = nn.Linear(3, 1)
    opt = torch.optim.SGD([*layer.parameters(), *head.parameters()], lr=0.1)
    loss = head(layer(torch.randn(5, 4))).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"layer": layer, "head": head}
""",
            lines=(16,),
            expect={"grad_none": ["layer.weight"], "grad_ok": ["head.weight"]},
            fixable=False,
        ),
        Example(
            bad=False,
            name="custom-function-returns-none-for-data-inputs",
            code="""import torch
import torch.nn as nn


class MaskedScale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, mask, scale):
        ctx.save_for_backward(mask)
        ctx.scale = scale
        return x * mask * scale

    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return grad_output * mask * ctx.scale, None, None


def main():
    torch.manual_seed(0)
    layer = nn.Linear(4, 4)
    x = torch.randn(5, 4)
    mask = (torch.rand(5, 4) > 0.3).float()
    loss = MaskedScale.apply(layer(x), mask, 2.0).pow(2).mean()
    loss.backward()
    return {"layer": layer}
""",
            expect={"grad_ok": ["layer.weight"]},
        ),
        Example(
            name="gradient-penalty-from-autograd-grad-without-create-graph",
            code="""import torch
import torch.nn as nn


def input_gradient_penalty(critic, real, fake):
    eps = torch.rand(real.size(0), 1)
    mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grads,) = torch.autograd.grad(critic(mixed).sum(), mixed)
    return ((grads.norm(2, dim=1) - 1) ** 2).mean()


def main():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    opt = torch.optim.Adam(critic.parameters(), lr=1e-3)
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    gp = input_gradient_penalty(critic, real, fake)
    loss = critic(fake).mean() - critic(real).mean() + 10.0 * gp
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"critic": critic}, {"penalty_requires_grad": gp.requires_grad}
""",
            lines=(8,),
            expect={"grad_ok": ["critic.0.weight"], "facts": {"penalty_requires_grad": False}},
        ),
        Example(
            bad=False,
            name="r1-penalty-with-create-graph",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    disc = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    opt = torch.optim.Adam(disc.parameters(), lr=1e-3)
    real = torch.randn(8, 2).requires_grad_(True)
    scores = disc(real)
    (grads,) = torch.autograd.grad(scores.sum(), real, create_graph=True)
    r1 = grads.pow(2).sum(dim=1).mean()
    loss = nn.functional.softplus(-scores).mean() + 5.0 * r1
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"disc": disc}, {"penalty_requires_grad": r1.requires_grad}
""",
            expect={"grad_ok": ["disc.0.weight"], "facts": {"penalty_requires_grad": True}},
        ),
        Example(
            name="histogram-matching-loss-with-histc",
            code="""import torch
import torch.nn as nn


def histogram(x, bins=8):
    return torch.histc(x, bins=bins, min=0.0, max=1.0) / x.numel()


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 3), nn.Sigmoid())
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    source, target = torch.rand(64, 3), torch.rand(64, 3)
    out = net(source)
    loss = (histogram(out) - histogram(target)).abs().sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            lines=(6,),
            expect={"error": "does not require grad"},
            fixable=False,
        ),
        Example(
            name="histogram-term-added-to-a-pixel-loss",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def histogram(x, bins=8):
    return torch.histc(x, bins=bins, min=0.0, max=1.0) / x.numel()


class MatchLoss(nn.Module):
    def forward(self, pred, target):
        pixel = F.l1_loss(pred, target)
        hist = (histogram(pred) - histogram(target)).abs().sum()
        return pixel + 0.5 * hist


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 3), nn.Sigmoid())
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    criterion = MatchLoss()
    source, target = torch.rand(64, 3), torch.rand(64, 3)
    loss = criterion(net(source), target)
    opt.zero_grad()
    loss.backward()
    with_term = net[0].weight.grad.clone()
    opt.zero_grad()
    F.l1_loss(net(source), target).backward()
    same = torch.equal(with_term, net[0].weight.grad)
    opt.step()
    return {"net": net}, {"hist_term_changes_gradient": not same}
""",
            lines=(7,),
            expect={"grad_ok": ["net.0.weight"], "facts": {"hist_term_changes_gradient": False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="soft-histogram-term-added-to-a-pixel-loss",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def histogram(x, bins=8):
    centers = torch.linspace(0.0, 1.0, bins)
    weights = torch.exp(-((x.reshape(-1, 1) - centers) ** 2) / (2 * 0.05 ** 2))
    return weights.sum(0) / weights.sum()


class MatchLoss(nn.Module):
    def forward(self, pred, target):
        pixel = F.l1_loss(pred, target)
        hist = (histogram(pred) - histogram(target)).abs().sum()
        return pixel + 0.5 * hist


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 3), nn.Sigmoid())
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    criterion = MatchLoss()
    source, target = torch.rand(64, 3), torch.rand(64, 3)
    loss = criterion(net(source), target)
    opt.zero_grad()
    loss.backward()
    with_term = net[0].weight.grad.clone()
    opt.zero_grad()
    F.l1_loss(net(source), target).backward()
    same = torch.equal(with_term, net[0].weight.grad)
    opt.step()
    return {"net": net}, {"hist_term_changes_gradient": not same}
""",
            expect={"grad_ok": ["net.0.weight"], "facts": {"hist_term_changes_gradient": True}},
        ),
        Example(
            bad=False,
            name="reinforce-discrete-sample-with-log-prob",
            code="""import torch
import torch.nn as nn
from torch.distributions import Categorical


def main():
    torch.manual_seed(0)
    policy = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3))
    states = torch.randn(8, 4)
    dist = Categorical(logits=policy(states))
    actions = dist.sample()  # discrete: no reparameterized draw exists; log_prob carries the gradient
    rewards = (actions == 1).float()
    loss = -(dist.log_prob(actions) * (rewards - rewards.mean())).mean()
    loss.backward()
    return {"policy": policy}
""",
            expect={"grad_ok": ["policy.0.weight", "policy.2.weight"]},
        ),
        Example(
            bad=False,
            name="float-hyperparameter-cast-to-int",
            code="""import torch
import torch.nn as nn


class Sampler(nn.Module):
    def __init__(self, num_timesteps=1000.0, dim=4):
        super().__init__()
        self.num_timesteps = num_timesteps
        self.scale = num_timesteps / 10
        self.net = nn.Linear(dim, dim)

    def forward(self, x):
        t = (torch.rand(x.shape[0]) * self.num_timesteps).long()
        return self.net(x) * (t.float() / self.scale).unsqueeze(1)


def main():
    torch.manual_seed(0)
    model = Sampler()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(8, 4)).pow(2).mean()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.net.weight"]},
        ),
        Example(
            name="actor-trained-through-sample",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    actor, critic = nn.Linear(4, 2), nn.Linear(6, 1)
    state = torch.randn(8, 4)
    mu, log_std = actor(state).chunk(2, dim=-1)
    dist = torch.distributions.Normal(mu, log_std.exp())
    action = dist.sample()
    actor_loss = -critic(torch.cat([state, action, action], dim=-1)).mean()
    actor_loss.backward()
    return {"actor": actor, "critic": critic}
""",
            lines=(11,),
            expect={"grad_none": ["actor.weight"], "grad_ok": ["critic.weight"]},
        ),
        Example(
            bad=False,
            name="reinforce-through-log-prob",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    policy = nn.Linear(4, 3)
    dist = torch.distributions.Categorical(logits=policy(torch.randn(8, 4)))
    action = dist.sample()
    reward = (action == 1).float()
    loss = -(dist.log_prob(action) * reward).mean()
    loss.backward()
    return {"policy": policy}
""",
            expect={"grad_ok": ["policy.weight"]},
        ),
        Example(
            name="argmax-into-loss",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    clf = nn.Linear(5, 3)
    scores = clf(torch.randn(7, 5))
    guess = scores.argmax(dim=1).float()
    loss = ((guess - 1.0) ** 2).mean()
    loss.backward()
    return {"clf": clf}
""",
            lines=(9,),
            fixable=False,
            expect={"error": "element 0 of tensors does not require grad"},
        ),
        Example(
            name="binarized-weights",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class SignLinear(nn.Linear):
    def forward(self, x):
        return F.linear(x, torch.sign(self.weight), self.bias)


def main():
    torch.manual_seed(0)
    layer = SignLinear(4, 2)
    layer(torch.randn(6, 4)).pow(2).sum().backward()
    return {"layer": layer}
""",
            lines=(8,),
            expect={"grad_zero": ["layer.weight"], "grad_ok": ["layer.bias"]},
        ),
        Example(
            bad=False,
            name="mask-selects-branches",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    reg = nn.Linear(3, 1)
    err = reg(torch.randn(9, 3)) - torch.randn(9, 1)
    loss = torch.where(err.abs() < 1.0, 0.5 * err ** 2, err.abs() - 0.5).mean()
    acc = (err.abs() < 0.1).float().mean().item()
    loss.backward()
    return {"reg": reg}
""",
            expect={"grad_ok": ["reg.weight"]},
        ),
        Example(
            name="top1-router-output-written-by-index-without-gate",
            code="""import torch
import torch.nn as nn


class Top1MoE(nn.Module):
    def __init__(self, dim=4, n_experts=2):
        super().__init__()
        self.router = nn.Linear(dim, n_experts)
        self.experts = nn.ModuleList(nn.Linear(dim, dim) for _ in range(n_experts))

    def forward(self, x):
        choice = self.router(x).argmax(dim=-1)
        out = torch.zeros_like(x)
        for i, expert in enumerate(self.experts):
            mask = choice == i
            out[mask] = expert(x[mask])
        return out


def main():
    torch.manual_seed(0)
    moe = Top1MoE()
    opt = torch.optim.SGD(moe.parameters(), lr=0.1)
    opt.zero_grad()
    moe(torch.randn(16, 4)).pow(2).mean().backward()
    opt.step()
    return {"moe.router": moe.router, "moe.experts": moe.experts}
""",
            lines=(12,),
            fixable=False,
            expect={"grad_none": ["moe.router.weight", "moe.router.bias"], "grad_ok": ["moe.experts.0.weight"]},
        ),
        Example(
            bad=False,
            name="top1-router-output-scaled-by-its-gate",
            code="""import torch
import torch.nn as nn


class Top1MoE(nn.Module):
    def __init__(self, dim=4, n_experts=2):
        super().__init__()
        self.router = nn.Linear(dim, n_experts)
        self.experts = nn.ModuleList(nn.Linear(dim, dim) for _ in range(n_experts))

    def forward(self, x):
        gate, choice = self.router(x).softmax(dim=-1).max(dim=-1)
        out = torch.zeros_like(x)
        for i, expert in enumerate(self.experts):
            mask = choice == i
            out[mask] = gate[mask, None] * expert(x[mask])
        return out


def main():
    torch.manual_seed(0)
    moe = Top1MoE()
    opt = torch.optim.SGD(moe.parameters(), lr=0.1)
    opt.zero_grad()
    moe(torch.randn(16, 4)).pow(2).mean().backward()
    opt.step()
    return {"moe.router": moe.router}
""",
            expect={"grad_ok": ["moe.router.weight", "moe.router.bias"]},
        ),
        Example(
            name="reentrant-checkpoint-of-blocks-fed-by-a-frozen-embedding",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, d)

    def forward(self, h):
        return h + torch.tanh(self.fc(h))


class Encoder(nn.Module):
    def __init__(self, vocab=20, d=8):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList([Block(d) for _ in range(2)])
        self.head = nn.Linear(d, 2)
        self.gradient_checkpointing = False

    def gradient_checkpointing_enable(self):
        self.gradient_checkpointing = True

    def forward(self, ids):
        h = self.embed(ids)
        for blk in self.blocks:
            if self.gradient_checkpointing and self.training:
                h = checkpoint(blk, h, use_reentrant=True)
            else:
                h = blk(h)
        return self.head(h.mean(1))


def main():
    torch.manual_seed(0)
    model = Encoder()
    model.embed.weight.requires_grad_(False)
    model.gradient_checkpointing_enable()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model.train()
    for _ in range(2):
        loss = F.cross_entropy(model(torch.randint(0, 20, (4, 5))), torch.randint(0, 2, (4,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(31,),
            expect={"grad_none": ["model.blocks.0.fc.weight"], "grad_ok": ["model.head.weight"]},
            fixed_expect={"grad_ok": ["model.blocks.0.fc.weight", "model.head.weight"]},
        ),
        Example(
            name="reentrant-checkpoint-after-a-freeze-computed-from-parameter-names",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, d)

    def forward(self, h):
        return h + torch.tanh(self.fc(h))


class Encoder(nn.Module):
    def __init__(self, vocab=20, d=8):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList([Block(d) for _ in range(2)])
        self.head = nn.Linear(d, 2)
        self.gradient_checkpointing = False

    def gradient_checkpointing_enable(self):
        self.gradient_checkpointing = True

    def forward(self, ids):
        h = self.embed(ids)
        for blk in self.blocks:
            if self.gradient_checkpointing and self.training:
                h = checkpoint(blk, h, use_reentrant=True)
            else:
                h = blk(h)
        return self.head(h.mean(1))


def main():
    torch.manual_seed(0)
    model = Encoder()
    for name, p in model.named_parameters():
        p.requires_grad = not name.startswith("embed")
    model.gradient_checkpointing_enable()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model.train()
    for _ in range(2):
        loss = F.cross_entropy(model(torch.randint(0, 20, (4, 5))), torch.randint(0, 2, (4,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(31,),
            expect={"grad_none": ["model.blocks.0.fc.weight"], "grad_ok": ["model.head.weight"]},
            fixed_expect={"grad_ok": ["model.blocks.0.fc.weight", "model.head.weight"]},
        ),
        Example(
            bad=False,
            name="reentrant-checkpoint-of-blocks-fed-by-a-trained-embedding",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, d)

    def forward(self, h):
        return h + torch.tanh(self.fc(h))


class Encoder(nn.Module):
    def __init__(self, vocab=20, d=8):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList([Block(d) for _ in range(2)])
        self.head = nn.Linear(d, 2)
        self.gradient_checkpointing = False

    def gradient_checkpointing_enable(self):
        self.gradient_checkpointing = True

    def forward(self, ids):
        h = self.embed(ids)
        for blk in self.blocks:
            if self.gradient_checkpointing and self.training:
                h = checkpoint(blk, h, use_reentrant=True)
            else:
                h = blk(h)
        return self.head(h.mean(1))


def main():
    torch.manual_seed(0)
    model = Encoder()
    model.gradient_checkpointing_enable()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for _ in range(2):
        loss = F.cross_entropy(model(torch.randint(0, 20, (4, 5))), torch.randint(0, 2, (4,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.blocks.0.fc.weight", "model.embed.weight"]},
        ),
        Example(
            name="reentrant-checkpoint-after-a-helper-freezes-the-model-and-injects-adapters",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


class Adapter(nn.Module):
    def __init__(self, base, r=2):
        super().__init__()
        self.base = base
        self.down = nn.Linear(base.in_features, r, bias=False)
        self.up = nn.Linear(r, base.out_features, bias=False)

    def forward(self, x):
        return self.base(x) + self.up(self.down(x))


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, d)

    def forward(self, h):
        return h + torch.tanh(self.fc(h))


class Encoder(nn.Module):
    def __init__(self, vocab=20, d=8):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList([Block(d) for _ in range(2)])
        self.gradient_checkpointing = False

    def gradient_checkpointing_enable(self):
        self.gradient_checkpointing = True

    def forward(self, ids):
        h = self.embed(ids)
        for blk in self.blocks:
            if self.gradient_checkpointing and self.training:
                h = checkpoint(blk, h, use_reentrant=True)
            else:
                h = blk(h)
        return h.mean(1)


def add_adapters(model):
    for p in model.parameters():
        p.requires_grad_(False)
    for blk in model.blocks:
        blk.fc = Adapter(blk.fc)
    return model


def main():
    torch.manual_seed(0)
    model = add_adapters(Encoder())
    model.gradient_checkpointing_enable()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model.train()
    for _ in range(2):
        loss = model(torch.randint(0, 20, (4, 5))).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(41,),
            fixable=True,
            expect={"error": "does not require grad"},
            fixed_expect={"grad_ok": ["model.blocks.0.fc.up.weight"]},
        ),
        Example(
            name="one-hot-of-argmax-under-a-default-flag",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def quantize(logits, hard=True):
    y = F.softmax(logits, dim=-1)
    if hard:
        y = F.one_hot(y.argmax(-1), logits.size(-1)).to(y.dtype)
    return y


def main():
    torch.manual_seed(0)
    encoder, decoder = nn.Linear(6, 4), nn.Linear(4, 6)
    opt = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=1e-2)
    for _ in range(3):
        x = torch.randn(8, 6)
        loss = F.mse_loss(decoder(quantize(encoder(x))), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"encoder": encoder, "decoder": decoder}
""",
            lines=(9,),
            fixed_expect={"grad_ok": ["encoder.weight", "decoder.weight"]},
            expect={"grad_none": ["encoder.weight"], "grad_ok": ["decoder.weight"]},
        ),
        Example(
            name="relaxed-sample-under-a-default-flag",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def quantize(logits, hard=False):
    y = F.softmax(logits, dim=-1)
    if hard:
        y = F.one_hot(y.argmax(-1), logits.size(-1)).to(y.dtype)
    return y


def main():
    torch.manual_seed(0)
    encoder, decoder = nn.Linear(6, 4), nn.Linear(4, 6)
    opt = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=1e-2)
    for _ in range(3):
        x = torch.randn(8, 6)
        loss = F.mse_loss(decoder(quantize(encoder(x))), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"encoder": encoder, "decoder": decoder}
""",
            expect={"grad_ok": ["decoder.weight", "encoder.weight"]},
        ),
        Example(
            name="only-path-weighted-by-a-zero-that-never-changes",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    encoder, decoder = nn.Linear(6, 4), nn.Linear(4, 6)
    opt = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=1e-2)
    tau, kl_weight = 1.0, 0.0
    for _ in range(3):
        x = torch.randn(8, 6)
        h = encoder(x)
        kl = h.pow(2).mean()
        loss = F.mse_loss(decoder(h.detach()), x) + kl_weight * kl
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"encoder": encoder, "decoder": decoder}
""",
            lines=(15,),
            fixable=False,
            expect={"grad_zero": ["encoder.weight"], "grad_ok": ["decoder.weight"]},
        ),
        Example(
            name="only-path-weighted-by-a-nonzero-constant",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    encoder, decoder = nn.Linear(6, 4), nn.Linear(4, 6)
    opt = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=1e-2)
    tau, kl_weight = 1.0, 0.1
    for _ in range(3):
        x = torch.randn(8, 6)
        h = encoder(x)
        kl = h.pow(2).mean()
        loss = F.mse_loss(decoder(h.detach()), x) + kl_weight * kl
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"encoder": encoder, "decoder": decoder}
""",
            expect={"grad_ok": ["decoder.weight", "encoder.weight"]},
        ),
        Example(
            name="reentrant-checkpoint-helper-switched-on-runs-the-stem-on-raw-inputs",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


class Denoiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 8)
        self.block = nn.Sequential(nn.Linear(8, 8), nn.SiLU())
        self.out = nn.Linear(8, 4)
        self.gradient_checkpointing = False

    def enable_gradient_checkpointing(self):
        self.gradient_checkpointing = True

    def _run(self, module, *args):
        if self.gradient_checkpointing and self.training:
            return checkpoint(module, *args, use_reentrant=True)
        return module(*args)

    def forward(self, x):
        h = self._run(self.stem, x)
        return self.out(self._run(self.block, h))


def main():
    torch.manual_seed(0)
    model = Denoiser()
    model.enable_gradient_checkpointing()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(2):
        x = torch.randn(8, 4)
        loss = F.mse_loss(model(x), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            lines=(20,),
            expect={"grad_none": ["model.stem.weight"], "grad_ok": ["model.out.weight"]},
            fixed_expect={"grad_ok": ["model.stem.weight", "model.out.weight"]},
        ),
        Example(
            name="reentrant-checkpoint-helper-left-switched-off",
            bad=False,
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


class Denoiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 8)
        self.block = nn.Sequential(nn.Linear(8, 8), nn.SiLU())
        self.out = nn.Linear(8, 4)
        self.gradient_checkpointing = False

    def enable_gradient_checkpointing(self):
        self.gradient_checkpointing = True

    def _run(self, module, *args):
        if self.gradient_checkpointing and self.training:
            return checkpoint(module, *args, use_reentrant=True)
        return module(*args)

    def forward(self, x):
        h = self._run(self.stem, x)
        return self.out(self._run(self.block, h))


def main():
    torch.manual_seed(0)
    model = Denoiser()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(2):
        x = torch.randn(8, 4)
        loss = F.mse_loss(model(x), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.stem.weight", "model.out.weight"]},
        ),
        Example(
            bad=False,
            name="reentrant-checkpoint-of-a-frozen-embedding-after-enable-input-require-grads",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint
from transformers import PretrainedConfig, PreTrainedModel


class TinyConfig(PretrainedConfig):
    model_type = "tiny-ckpt"

    def __init__(self, vocab=20, d=8, **kw):
        super().__init__(**kw)
        self.vocab, self.d = vocab, d


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, d)

    def forward(self, h):
        return h + torch.tanh(self.fc(h))


class Encoder(PreTrainedModel):
    config_class = TinyConfig
    supports_gradient_checkpointing = True

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab, config.d)
        self.blocks = nn.ModuleList([Block(config.d) for _ in range(2)])
        self.head = nn.Linear(config.d, 2)
        self.gradient_checkpointing = False

    def get_input_embeddings(self):
        return self.embed

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs=None):
        self.gradient_checkpointing = True

    def forward(self, ids):
        h = self.embed(ids)
        for blk in self.blocks:
            if self.gradient_checkpointing and self.training:
                h = checkpoint(blk, h, use_reentrant=True)
            else:
                h = blk(h)
        return self.head(h.mean(1))


def main():
    torch.manual_seed(0)
    model = Encoder(TinyConfig())
    model.embed.weight.requires_grad_(False)
    model.gradient_checkpointing_enable()
    model.enable_input_require_grads()  # the embedding's output requires grad: the blocks are recomputed with a graph
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model.train()
    for _ in range(2):
        loss = F.cross_entropy(model(torch.randint(0, 20, (4, 5))), torch.randint(0, 2, (4,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.blocks.0.fc.weight", "model.head.weight"]},
        ),
        Example(
            name="reentrant-checkpoint-of-blocks-that-return-a-dict",
            code="""import torch
import torch.nn as nn
from torch.utils.checkpoint import checkpoint


class Block(nn.Module):
    def __init__(self, d=8):
        super().__init__()
        self.ff = nn.Linear(d, d)

    def forward(self, x):
        h = x + torch.relu(self.ff(x))
        return {"hidden": h, "norm": h.norm()}


class Net(nn.Module):
    def __init__(self, checkpointing=True):
        super().__init__()
        self.embed = nn.Linear(4, 8)
        self.blocks = nn.ModuleList([Block(), Block()])
        self.head = nn.Linear(8, 1)
        self.checkpointing = checkpointing

    def forward(self, x):
        h = self.embed(x)
        for block in self.blocks:
            if self.checkpointing and self.training:
                h = checkpoint(block, h, use_reentrant=True)["hidden"]
            else:
                h = block(h)["hidden"]
        return self.head(h)


def main():
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(16, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(28,),
            expect={"grad_none": ["model.embed.weight", "model.blocks.0.ff.weight"], "grad_ok": ["model.head.weight"]},
        ),
        Example(
            bad=False,
            name="reentrant-checkpoint-of-blocks-that-return-a-tuple",
            code="""import torch
import torch.nn as nn
from torch.utils.checkpoint import checkpoint


class Block(nn.Module):
    def __init__(self, d=8):
        super().__init__()
        self.ff = nn.Linear(d, d)

    def forward(self, x):
        h = x + torch.relu(self.ff(x))
        return h, h.norm()


class Net(nn.Module):
    def __init__(self, checkpointing=True):
        super().__init__()
        self.embed = nn.Linear(4, 8)
        self.blocks = nn.ModuleList([Block(), Block()])
        self.head = nn.Linear(8, 1)
        self.checkpointing = checkpointing

    def forward(self, x):
        h = self.embed(x)
        for block in self.blocks:
            if self.checkpointing and self.training:
                h = checkpoint(block, h, use_reentrant=True)[0]
            else:
                h = block(h)[0]
        return self.head(h)


def main():
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(16, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.embed.weight", "model.blocks.0.ff.weight", "model.head.weight"]},
        ),
        Example(
            name="function-reads-the-weight-from-the-module-it-is-given",
            code="""import torch
import torch.nn as nn


class ScaledMatmul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, layer):
        ctx.save_for_backward(x, layer.weight)
        return x @ layer.weight.t()

    @staticmethod
    def backward(ctx, grad_out):
        x, w = ctx.saved_tensors
        return grad_out @ w, None


class Proj(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(3, 4) * 0.1)
        self.bias = nn.Parameter(torch.zeros(3))

    def forward(self, x):
        return ScaledMatmul.apply(x, self) + self.bias


def main():
    torch.manual_seed(0)
    model = Proj()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(5, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(24,), fixable=False,
            expect={"grad_none": ["model.weight"], "grad_ok": ["model.bias"]},
        ),
        Example(
            bad=False,
            name="function-given-the-weight-tensor-returns-its-gradient",
            code="""import torch
import torch.nn as nn


class ScaledMatmul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x, weight)
        return x @ weight.t()

    @staticmethod
    def backward(ctx, grad_out):
        x, w = ctx.saved_tensors
        return grad_out @ w, grad_out.t() @ x


class Proj(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(3, 4) * 0.1)
        self.bias = nn.Parameter(torch.zeros(3))

    def forward(self, x):
        return ScaledMatmul.apply(x, self.weight) + self.bias


def main():
    torch.manual_seed(0)
    model = Proj()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(5, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight", "model.bias"]},
        ),
        Example(
            name="checkpoint-function-given-the-block-under-a-registered-config-switch",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ModelMixin
from diffusers.configuration_utils import register_to_config


class Checkpoint(torch.autograd.Function):
    @staticmethod
    def forward(ctx, fn, x):
        ctx.fn = fn
        ctx.save_for_backward(x)
        with torch.no_grad():
            return fn(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            out = ctx.fn(x)
        (grad_x,) = torch.autograd.grad(out, (x,), grad_out)
        return None, grad_x


class Denoiser(ModelMixin):
    @register_to_config
    def __init__(self, ch=4, use_checkpoint=True):
        super().__init__()
        self.inp = nn.Linear(ch, ch)
        self.mid = nn.Sequential(nn.Linear(ch, ch), nn.SiLU(), nn.Linear(ch, ch))
        self.out = nn.Linear(ch, ch)

    def forward(self, x):
        h = self.inp(x)
        if self.config.use_checkpoint and self.training:
            h = Checkpoint.apply(self.mid, h)
        else:
            h = self.mid(h)
        return self.out(h)


def main():
    torch.manual_seed(0)
    model = Denoiser()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for _ in range(2):
        x = torch.randn(5, 4)
        loss = F.mse_loss(model(x), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            lines=(37,),
            fixable=False,
            expect={"grad_none": ["model.mid.0.weight"], "grad_ok": ["model.inp.weight"]},
        ),
        Example(
            bad=False,
            name="checkpoint-function-switched-off-by-the-registered-config",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ModelMixin
from diffusers.configuration_utils import register_to_config


class Checkpoint(torch.autograd.Function):
    @staticmethod
    def forward(ctx, fn, x):
        ctx.fn = fn
        ctx.save_for_backward(x)
        with torch.no_grad():
            return fn(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            out = ctx.fn(x)
        (grad_x,) = torch.autograd.grad(out, (x,), grad_out)
        return None, grad_x


class Denoiser(ModelMixin):
    @register_to_config
    def __init__(self, ch=4, use_checkpoint=True):
        super().__init__()
        self.inp = nn.Linear(ch, ch)
        self.mid = nn.Sequential(nn.Linear(ch, ch), nn.SiLU(), nn.Linear(ch, ch))
        self.out = nn.Linear(ch, ch)

    def forward(self, x):
        h = self.inp(x)
        if self.config.use_checkpoint and self.training:
            h = Checkpoint.apply(self.mid, h)
        else:
            h = self.mid(h)
        return self.out(h)


def main():
    torch.manual_seed(0)
    model = Denoiser(use_checkpoint=False)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for _ in range(2):
        x = torch.randn(5, 4)
        loss = F.mse_loss(model(x), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.mid.0.weight", "model.inp.weight"]},
        ),
        Example(
            name="custom-function-with-a-defaulted-argument-returns-none-for-its-clip-parameter",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class ClipQuant(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha, bits=4):
        ctx.save_for_backward(x, alpha)
        y = torch.minimum(torch.clamp(x, min=0.0), alpha)
        scale = (2 ** bits - 1) / alpha
        return torch.round(y * scale) / scale

    @staticmethod
    def backward(ctx, grad_output):
        x, alpha = ctx.saved_tensors
        grad_x = grad_output * ((x >= 0) & (x < alpha)).float()
        return grad_x, None


class QuantAct(nn.Module):
    def __init__(self):
        super().__init__()
        self.alpha = nn.Parameter(torch.tensor([2.0]))

    def forward(self, x):
        return ClipQuant.apply(x, self.alpha)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), QuantAct(), nn.Linear(8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        loss = F.mse_loss(model(torch.randn(16, 4) * 3), torch.randn(16, 2))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"alpha": model[1].alpha}
""",
            lines=(18,),
            fixable=False,
            expect={"grad_none": ["alpha"]},
        ),
        Example(
            bad=False,
            name="custom-function-with-a-defaulted-argument-returns-the-clip-gradient",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class ClipQuant(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha, bits=4):
        ctx.save_for_backward(x, alpha)
        y = torch.minimum(torch.clamp(x, min=0.0), alpha)
        scale = (2 ** bits - 1) / alpha
        return torch.round(y * scale) / scale

    @staticmethod
    def backward(ctx, grad_output):
        x, alpha = ctx.saved_tensors
        grad_x = grad_output * ((x >= 0) & (x < alpha)).float()
        grad_alpha = (grad_output * (x >= alpha).float()).sum().reshape(alpha.shape)
        return grad_x, grad_alpha


class QuantAct(nn.Module):
    def __init__(self):
        super().__init__()
        self.alpha = nn.Parameter(torch.tensor([2.0]))

    def forward(self, x):
        return ClipQuant.apply(x, self.alpha)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), QuantAct(), nn.Linear(8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        loss = F.mse_loss(model(torch.randn(16, 4) * 3), torch.randn(16, 2))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"alpha": model[1].alpha}
""",
            expect={"grad_ok": ["alpha"]},
        ),
        Example(
            name="hard-attention-one-hot-of-masked-scores",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class HardAttention(nn.Module):
    def __init__(self, dim=4):
        super().__init__()
        self.proj = nn.Linear(dim, dim, bias=False)
        self.att = nn.Parameter(0.1 * torch.randn(dim))

    def forward(self, x, adj):
        h = self.proj(x)
        scores = ((h @ self.att)[:, None] + (h @ self.att)[None, :]).masked_fill(adj == 0, float("-inf"))
        alpha = F.one_hot(scores.argmax(dim=-1), num_classes=adj.shape[0]).float()
        return alpha @ h + h


def main():
    torch.manual_seed(0)
    layer = HardAttention()
    opt = torch.optim.Adam(layer.parameters(), lr=1e-2)
    adj = ((torch.rand(6, 6) < 0.4).float() + torch.eye(6)).clamp(max=1)
    for _ in range(3):
        loss = layer(torch.randn(6, 4), adj).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"layer": layer}
""",
            lines=(15,),
            expect={'grad_none': ['layer.att'], 'grad_ok': ['layer.proj.weight']},
            fixed_expect={'grad_ok': ['layer.att']},
        ),
        Example(
            bad=False,
            name="sharded-embedding-offsets-from-the-rank",
            code="""import torch
import torch.distributed as dist
import torch.nn as nn


class ShardedEmbedding(nn.Embedding):
    def __init__(self, num_embeddings, dim):
        self.rank = dist.get_rank() if dist.is_initialized() else 0
        self.world_size = dist.get_world_size() if dist.is_initialized() else 1
        block = num_embeddings // self.world_size
        self.min_id = self.rank * block
        self.max_id = (self.rank + 1) * block
        super().__init__(block, dim)

    def forward(self, ids):
        outside = torch.logical_or(ids < self.min_id, ids >= self.max_id)
        local = ids - self.min_id
        local[outside] = 0
        return super().forward(local) * (~outside[..., None])


def main():
    torch.manual_seed(0)
    emb, head = ShardedEmbedding(16, 4), nn.Linear(4, 1)
    opt = torch.optim.SGD([*emb.parameters(), *head.parameters()], lr=0.1)
    ids = torch.randint(0, 16, (8, 5))
    for _ in range(2):
        loss = head(emb(ids)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"emb": emb, "head": head}
""",
            expect={'grad_ok': ['emb.weight', 'head.weight']},
        ),
        Example(
            bad=False,
            name="function-input-declared-a-group-not-a-tensor",
            code="""from types import SimpleNamespace
from typing import Optional

import torch
import torch.nn as nn


class GroupSum(torch.autograd.Function):
    @staticmethod
    def forward(ctx, tensor, group: Optional[SimpleNamespace]):
        return tensor * float(group.scale) if group is not None else tensor.clone()

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


def group_sum(tensor, group=None):
    return GroupSum.apply(tensor, group)


class ParallelEmbedding(nn.Embedding):
    def __init__(self, num_embeddings, dim, group=None):
        self.group = group
        super().__init__(num_embeddings, dim)

    def forward(self, ids):
        return group_sum(super().forward(ids), group=self.group)


def train(context, steps=2):
    emb, head = ParallelEmbedding(16, 4, group=context.group), nn.Linear(4, 1)
    opt = torch.optim.SGD([*emb.parameters(), *head.parameters()], lr=0.1)
    ids = torch.randint(0, 16, (8, 5))
    for _ in range(steps):
        loss = head(emb(ids)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return emb, head


def main():
    torch.manual_seed(0)
    emb, head = train(SimpleNamespace(group=SimpleNamespace(scale=1.0)))
    return {"emb": emb, "head": head}
""",
            expect={'grad_ok': ['emb.weight', 'head.weight']},
        ),
        Example(
            bad=False,
            name="lengths-from-conv-hyperparameters",
            code="""import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(2, 4, 5, stride=2, padding=2), nn.ReLU(), nn.Conv1d(4, 4, 3, stride=2, padding=1))
        self.out = nn.Linear(4, 3)

    def out_lengths(self, lengths):
        for m in self.conv.modules():
            if isinstance(m, nn.Conv1d):
                lengths = (lengths + 2 * m.padding[0] - m.dilation[0] * (m.kernel_size[0] - 1) - 1) // m.stride[0] + 1
        return lengths.int()

    def forward(self, x, lengths):
        h = self.out(self.conv(x).transpose(1, 2))
        n = self.out_lengths(lengths)
        mask = torch.arange(h.size(1))[None, :] < n[:, None]
        return h * mask[..., None], n


def main():
    torch.manual_seed(0)
    enc = Encoder()
    opt = torch.optim.SGD(enc.parameters(), lr=0.1)
    x, lengths = torch.randn(2, 2, 16), torch.tensor([16, 12])
    for _ in range(2):
        h, n = enc(x, lengths)
        loss = h.pow(2).sum() / n.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"enc": enc}
""",
            expect={'grad_ok': ['enc.conv.0.weight', 'enc.out.weight']},
        ),
        Example(
            bad=False,
            name="eos-pooling-compares-ids-with-an-int-parameter",
            code="""from typing import Optional

import torch
import torch.nn as nn


class Pool(nn.Module):
    def forward(self, x, text, eos_id: Optional[int]):
        eos = text == eos_id
        idx = eos.int().argmax(dim=1)
        return x[torch.arange(x.shape[0]), idx]


class TextEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.pool = Pool()
        self.eos_id = cfg.eos_id

    def forward(self, text):
        return self.pool(self.emb(text), text, self.eos_id)


def train(cfg):
    m = TextEncoder(cfg)
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    text = torch.randint(0, 10, (3, 6))
    text[:, -1] = cfg.eos_id
    for _ in range(2):
        loss = m(text).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return m


def main():
    from types import SimpleNamespace
    return {"m": train(SimpleNamespace(eos_id=9))}
""",
            expect={'grad_ok': ['m.emb.weight']},
        ),
        Example(
            bad=False,
            name="padding-mask-from-a-config-id",
            code="""import torch
import torch.nn as nn


class TextTower(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.pad_id = cfg.pad_id

    def forward(self, text):
        valid = text != self.pad_id
        h = self.emb(text) * valid[..., None]
        return h.sum(1) / valid.sum(1, keepdim=True).clamp(min=1)


def train(cfg):
    m = TextTower(cfg)
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    text = torch.randint(0, 10, (3, 6))
    for _ in range(2):
        loss = m(text).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return m


def main():
    from types import SimpleNamespace
    return {"m": train(SimpleNamespace(pad_id=0))}
""",
            expect={'grad_ok': ['m.emb.weight']},
        ),
        Example(
            name="learned-noise-distribution-only-sampled-by-multinomial",
            code="""import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class NegativeSamplingLoss(nn.Module):
    def __init__(self, n, k, d):
        super().__init__()
        self.k = k
        self.table = nn.Parameter(torch.randn(n, d) * 0.1)
        self.noise = nn.Parameter(torch.ones(n) / n)

    def forward(self, emb, label):
        b = emb.shape[0]
        pos = F.logsigmoid((emb * self.table[label]).sum(1))
        negs = torch.multinomial(self.noise, self.k * b, replacement=True).view(b, self.k)
        neg = F.logsigmoid(torch.bmm(-self.table[negs], emb.unsqueeze(2))).sum(1).squeeze(-1)
        return -(pos + neg).sum() / b


def main():
    torch.manual_seed(0)
    crit = NegativeSamplingLoss(20, 3, 8)
    enc = nn.Linear(4, 8)
    opt = torch.optim.Adam([{"params": enc.parameters()}, {"params": crit.parameters()}], lr=1e-3)
    for _ in range(3):
        loss = crit(enc(torch.randn(6, 4)), torch.randint(0, 20, (6,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"crit": crit, "enc": enc}
""",
            lines=(18,),
            expect={'grad_none': ['crit.noise']},
            fixable=False,
        ),
        Example(
            bad=False,
            name="fixed-noise-distribution-tensor-sampled-by-multinomial",
            code="""import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class NegativeSamplingLoss(nn.Module):
    def __init__(self, n, k, d):
        super().__init__()
        self.k = k
        self.table = nn.Parameter(torch.randn(n, d) * 0.1)
        self.noise = F.normalize(torch.Tensor([math.log(i + 2) - math.log(i + 1) for i in range(n)]), dim=0)

    def forward(self, emb, label):
        b = emb.shape[0]
        pos = F.logsigmoid((emb * self.table[label]).sum(1))
        negs = torch.multinomial(self.noise, self.k * b, replacement=True).view(b, self.k)
        neg = F.logsigmoid(torch.bmm(-self.table[negs], emb.unsqueeze(2))).sum(1).squeeze(-1)
        return -(pos + neg).sum() / b


def main():
    torch.manual_seed(0)
    crit = NegativeSamplingLoss(20, 3, 8)
    enc = nn.Linear(4, 8)
    opt = torch.optim.Adam([{"params": enc.parameters()}, {"params": crit.parameters()}], lr=1e-3)
    for _ in range(3):
        loss = crit(enc(torch.randn(6, 4)), torch.randint(0, 20, (6,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"crit": crit, "enc": enc}
""",
            expect={'grad_ok': ['crit.table', 'enc.bias', 'enc.weight']},
        ),
        Example(
            bad=False,
            name="parameterless-module-handed-to-apply-for-its-settings",
            code="""import torch
import torch.nn as nn


class SignPenalty(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, cfg):
        ctx.save_for_backward(x)
        ctx.cfg = cfg
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g + ctx.cfg.scale * x.sign(), None


class Penalizer(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        if not x.requires_grad:
            return x
        return SignPenalty.apply(x, self)


def main():
    torch.manual_seed(0)
    layer = nn.Linear(6, 6)
    pen = Penalizer(0.1)
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    for _ in range(3):
        loss = pen(layer(torch.randn(10, 6))).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"layer": layer}
""",
            expect={'grad_ok': ['layer.bias', 'layer.weight']},
        ),
        Example(
            bad=False,
            name="module-kept-on-ctx-for-backward-settings-only",
            code="""import torch
import torch.nn as nn


class KeptPenalty(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, cfg):
        ctx.save_for_backward(x)
        ctx.module = cfg
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g + ctx.module.scale * x.sign(), None


class Penalizer(nn.Module):
    def __init__(self, scale, prob):
        super().__init__()
        self.scale = scale
        (self.min_prob, self.max_prob) = prob

    def forward(self, x):
        if not x.requires_grad:
            return x
        return KeptPenalty.apply(x, self)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 6), Penalizer(0.1, (0.5, 1.0)))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        loss = model(torch.randn(10, 6)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={'grad_ok': ['model.0.bias', 'model.0.weight']},
        ),
        Example(
            name="loss-term-weighted-by-a-config-entry-of-zero",
            code="""import torch
import torch.nn as nn

CFG = {"aux_weight": 0.0, "lr": 0.1}


class TwoHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.main = nn.Linear(8, 1)
        self.aux = nn.Linear(8, 1)

    def forward(self, x):
        h = torch.relu(self.body(x))
        return self.main(h), self.aux(h)


def train(model, opt, steps=3):
    for _ in range(steps):
        x, y = torch.randn(16, 4), torch.randn(16, 1)
        out, aux_out = model(x)
        loss = (out - y).pow(2).mean() + CFG["aux_weight"] * aux_out.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    torch.manual_seed(0)
    model = TwoHead()
    opt = torch.optim.SGD(model.parameters(), lr=CFG["lr"])
    before = model.aux.weight.detach().clone()
    train(model, opt)
    return {"model": model}, {"aux_changed": not torch.equal(before, model.aux.weight)}
""",
            lines=(23,),
            expect={'facts': {'aux_changed': False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="loss-term-weighted-by-a-config-entry",
            code="""import torch
import torch.nn as nn

CFG = {"aux_weight": 0.1, "lr": 0.1}


class TwoHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.main = nn.Linear(8, 1)
        self.aux = nn.Linear(8, 1)

    def forward(self, x):
        h = torch.relu(self.body(x))
        return self.main(h), self.aux(h)


def train(model, opt, steps=3):
    for _ in range(steps):
        x, y = torch.randn(16, 4), torch.randn(16, 1)
        out, aux_out = model(x)
        loss = (out - y).pow(2).mean() + CFG["aux_weight"] * aux_out.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    torch.manual_seed(0)
    model = TwoHead()
    opt = torch.optim.SGD(model.parameters(), lr=CFG["lr"])
    before = model.aux.weight.detach().clone()
    train(model, opt)
    return {"model": model}, {"aux_changed": not torch.equal(before, model.aux.weight)}
""",
            expect={'grad_ok': ['model.aux.weight'], 'facts': {'aux_changed': True}},
        ),
    )

    cut_kinds = frozenset({"nondiff", "cast", "compare", "zero", "sample", "dropped", "nograph", "reentrant"})  # the GradientFlow cut kinds this rule reports

    def check(self, facts):
        def describe(kind, node, st):
            text = facts.text(node).replace("\n", " ")
            text = text if len(text) <= 40 else text[:37] + "..."
            if kind == "zero" and "frozen all-zero parameter" in st.cut.detail:
                return f"`{text}` ({st.cut.detail}: zero, with a zero gradient for the other factor)"
            if kind == "zero":
                return f"`{text}` (zero gradient everywhere)"
            if kind == "compare":
                return f"The comparison `{text}` (no gradient)"
            if kind == "cast":
                return f"The integer cast `{text}` (no gradient)"
            if kind == "dropped":
                return st.cut.detail
            if kind == "nondiff" and st.cut.detail.endswith("non-differentiable"):
                return st.cut.detail
            if kind == "nondiff" and st.cut.detail.endswith(" indices"):
                return f"Taking the indices of `{text}` (no gradient)"
            if kind == "sample":
                return f"`{text}` (draws without gradient; `rsample()` is the differentiable draw)"
            if kind == "nograph":
                return f"`{text}` without `create_graph=True` (its gradients have no graph)"
            if kind == "reentrant" and "of a function that returns" in st.cut.detail:
                made = st.cut.detail.split("of a function that returns ", 1)[1]
                return f"`{text}` (reentrant, over a function that returns {made}: only tensors returned alone or in a tuple get a graph)"
            if kind == "reentrant":
                return f"`{text}` (reentrant: no input requires grad, so its output has no graph)"
            if kind == "nondiff" and st.cut.detail.startswith("torch.distributed."):
                return f"`{text}` (a collective outside autograd: the gathered buffers, this rank's slot included, carry no gradient)"
            return f"`{text}` (no gradient)"

        def fixes_for(kind, node, st):
            made = _one_hot_of_indices(facts, node) if kind == "nondiff" else None
            if made is not None:
                return [lambda made=made: fix("Use a straight-through estimator (the one-hot forward, the probabilities' gradient)",
                                              replace_node(facts, made[0], made[1]), unsafe=True)]
            if kind == "sample" and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                return [partial(_rsample_fix, facts, node)]
            if kind == "nograph" and isinstance(node, ast.Call):
                return [partial(_create_graph_fix, facts, node)]
            if kind == "reentrant" and isinstance(node, ast.Call):
                return [partial(_non_reentrant_fix, facts, node)]
            if kind == "nondiff" and isinstance(node, ast.Call) and st.cut.detail.startswith("torch.distributed."):
                return [partial(_own_slot_fix, facts, node)]
            if kind == "nondiff" and isinstance(node, ast.Call) and st.cut.detail.endswith("non-differentiable"):
                return [partial(_unmark_fix, facts, node)]
            if kind != "zero" or not isinstance(node, ast.Call) or len(node.args) != 1 or "size 1" in st.cut.detail:
                return []  # (a softmax over one element is no piecewise-constant op: normalize before selecting)
            if not isinstance(node.args[0], (ast.Name, ast.Attribute)):
                return []
            inner = facts.text(node.args[0])
            return [lambda: fix("Use a straight-through estimator", replace_node(facts, node, f"({inner} + ({facts.text(node)} - {inner}).detach())"), unsafe=True)]

        def one_hot_related(kind, node):
            made = _one_hot_of_indices(facts, node) if kind == "nondiff" else None
            return [(made[0], f"the one-hot made from the indices carries no gradient: `{made[0 + 1]}` would (straight-through)")] if made else []

        # (gradients taken without a graph are how attacks and saliency maps are made on purpose, PGD's ``grad.sign()``: only
        # where they are all that stands between parameters and the loss is the missing ``create_graph=True`` the cause; where
        # another cut starves the same parameters too, that cut is the one reported)
        nograph = [(effective_cut(facts, st)[1], sole_cut(st, self.cut_kinds)) for st in find_starvations(facts) if effective_cut(facts, st)[0] == "nograph"]
        skip = set(_indices_behind_another_cut(facts)) | ({id(n) for n, sole in nograph if not sole} - {id(n) for n, sole in nograph if sole})
        found = list(cut_findings(self, facts, self.cut_kinds, describe, fixes_for, skip=skip, related_extra=one_hot_related))
        yield from found
        reported = {(f.start.line, f.start.col) for f in found}
        yield from self._constant_loss_terms(facts, reported)
        yield from self._parameters_dropped_in_forward(facts, reported)
        yield from self._reentrant_over_frozen_inputs(facts, reported)

    def _reentrant_over_frozen_inputs(self, facts, reported: set):
        """``checkpoint(block, h, use_reentrant=True)`` in a Module's ``forward`` whose inputs come only from parts of the
        model the program froze before training (a frozen embedding table feeding the first checkpointed block: LoRA /
        adapter fine-tuning with gradient checkpointing). Reentrant checkpointing runs ``block`` without a graph and
        reconnects only through inputs that require grad, so the block's trainable parameters (the adapters) get no
        gradient. The checkpoint must run when the model trains: not under ``if``s other than ``self.training`` and flags
        the program switches on before training (``model.gradient_checkpointing_enable()``, or ``TrainingArguments(
        gradient_checkpointing=True)``, which calls it)."""
        if "use_reentrant" not in facts.source.text or not _CHECKPOINT_WORD.search(facts.source.text):
            return
        frozen: Optional[set] = None
        for info in facts.modules.classes.values():
            fwd = info.methods.get("forward") if info.is_module else None
            if fwd is None:
                continue
            for call in walk_nodes(fwd):
                if not (isinstance(call, ast.Call) and (facts.imports.qualname(call.func) or "") == "torch.utils.checkpoint.checkpoint"):
                    continue
                flag = next((k.value for k in call.keywords if k.arg == "use_reentrant"), None)
                if not (isinstance(flag, ast.Constant) and flag.value is True) or len(call.args) < 2 or any(k.arg is None for k in call.keywords):
                    continue
                at = facts.start(call)
                if (at.line, at.col) in reported:
                    continue
                ifs = _enclosing_ifs(facts, call, fwd)
                if ifs is None:
                    continue
                evidence: list = []
                if not all(_switched_on(facts, info, br.test, evidence) for br in ifs):
                    continue
                instances = [r for r, o in facts.flow.root_origins.items() if o.cls == info.name and o.kind == "module" and isinstance(o.stmt, (ast.Assign, ast.AnnAssign))]
                if not instances:
                    continue
                if info.framework == "hf_model" and _INPUT_REQUIRE_GRADS.search(facts.source.text):
                    # ``model.enable_input_require_grads()`` (also run by PEFT's ``prepare_model_for_kbit_training``): a hook
                    # on the input embedding makes its output require grad, so the checkpointed blocks get an input that does
                    continue
                if frozen is None:
                    frozen = set(frozen_paths(facts)) | {hf.root for _c, hf in helper_freezes(facts, restructuring=True) if _whole_off(facts, hf)}
                    frozen |= _name_computed_freezes(facts)
                fl = facts.flow.flow(fwd)
                inputs = [a.id for a in call.args[1:] if isinstance(a, ast.Name)]
                if len(inputs) != len(call.args) - 1:
                    continue
                parts: set = set()
                if not all(_inputs_from(facts, fl, fwd, a, call, ifs, parts) for a in inputs) or not parts:
                    continue  # (an input that may require grad, or nothing frozen feeding it)
                if not all(_frozen_part(facts, info.name, i, part, frozen) for i in instances for part in parts):
                    continue
                block = _checkpointed_parts(facts, fwd, call.args[0])
                if block is None or all(is_frozen(f"{i}.{b}", frozen) and not _refilled_after_freeze(facts, i, b) for i in instances for b in block):
                    continue  # (the checkpointed blocks are frozen too: nothing trainable loses its gradient)
                reported.add((at.line, at.col))
                names = ", ".join(f"`self.{p}`" for p in sorted(parts))
                yield self.finding(
                    facts,
                    call,
                    f"reentrant checkpointing of `{facts.text(call.args[0])}` gets inputs computed only from {names}, which the program "
                    f"froze before training: no input requires grad, so the checkpointed blocks run without a graph and their trainable "
                    f"parameters get no gradient",
                    related=evidence[:2],
                    fixes=[partial(_non_reentrant_fix, facts, call)],
                    explanation="`checkpoint(fn, *inputs, use_reentrant=True)` runs `fn` under no_grad and re-runs it in backward only "
                    "through inputs that require grad (torch warns \"None of the inputs have requires_grad=True. Gradients will be None\"). "
                    "With a frozen embedding in front, the adapters inside the blocks never train. Use `use_reentrant=False`, or make "
                    "the embedding output require grad (`model.enable_input_require_grads()`).",
                )

    def _parameters_dropped_in_forward(self, facts, reported: set):
        """Parameters a Module registers (``self.act_scale = nn.Parameter(...)``) that reach its ``forward``'s output only
        through a custom ``autograd.Function`` whose ``backward`` returns None for them: whatever trains the module, they
        never get a gradient. Only when the file backpropagates somewhere and no other method of the class reads the
        parameter (a term built elsewhere could train it)."""
        if not any(i.is_autograd_function for i in facts.modules.classes.values()):
            return
        if not any(fl.loss_sites for fl in facts.backward_flows):
            return
        for info in facts.modules.classes.values():
            fwd = info.methods.get("forward") if info.is_module else None
            if fwd is None:
                continue
            ret = facts.flow.flow(fwd).returns
            by_node: dict = {}
            for root, cut in sorted(ret.cut, key=lambda rc: (cut_order(rc[1]), rc[0])):
                if cut.kind != "dropped" or not root.startswith("self.") or root.count(".") != 1 or root in ret.live or not hasattr(cut.node, "lineno"):
                    continue
                attr = root[5:]
                if not facts.modules.parameter_attr(info.name, attr):
                    continue
                if any(m.name not in ("__init__", "forward") and any(isinstance(n, ast.Attribute) and n.attr == attr and isinstance(n.value, ast.Name) and n.value.id == "self" for n in ast.walk(m)) for m in info.methods.values()):
                    continue
                by_node.setdefault(id(cut.node), (cut, []))[1].append(attr)
            for cut, attrs in by_node.values():
                at = facts.start(cut.node)
                if (at.line, at.col) in reported:
                    continue
                reported.add((at.line, at.col))
                names = ", ".join(f"`self.{a}`" for a in attrs)
                made = [(v[0], f"`self.{a}` is registered here, as a trained parameter") for a in attrs if (v := info.attr_values.get(a))]
                yield self.finding(
                    facts,
                    cut.node,
                    f"{cut.detail}, and `{info.name}.forward` passes {names} only through it: "
                    f"{'it never gets' if len(attrs) == 1 else 'they never get'} a gradient, so no optimizer ever changes "
                    f"{'it' if len(attrs) == 1 else 'them'}",
                    related=made[:2],
                    explanation="A custom `autograd.Function`'s `backward` returns one gradient per input of `forward`; None means "
                    "\"no gradient\", so autograd gives that input nothing. A registered `nn.Parameter` passed only through it stays "
                    "at its initial value (its `.grad` stays None). Return its gradient from `backward` (for a learned quantization "
                    "scale, the LSQ gradient), or register it as a buffer if it is not meant to train.",
                )

    def _constant_loss_terms(self, facts, reported: set):
        """A term added to (or subtracted from) a backpropagated loss, made from the model's outputs only through ops
        without a gradient (``torch.histc``, a comparison, an integer cast) while the other term trains: autograd
        sees a constant, so that term's objective is never optimized (core.deadterms)."""
        for dt in dead_terms(facts, CONSTANT_TERM_CUTS):
            ev, site, cut = dt.event, dt.site, dt.cut
            nograph = cut.kind == "nograph" and isinstance(cut.node, ast.Call)
            at = facts.start(cut.node)
            if (at.line, at.col) in reported:
                continue
            term = dt.term
            text, term_text = (" ".join(facts.text(n).split()) for n in (cut.node, term))
            text = text if len(text) <= 40 else text[:37] + "..."
            term_text = term_text if len(term_text) <= 40 else term_text[:37] + "..."
            what = f"`{text}` without `create_graph=True` returns gradients with no graph" if nograph else f"`{text}` has no gradient"
            yield self.finding(
                facts,
                cut.node,
                f"{what}, so the term `{term_text}` is a constant of the loss backpropagated at line {site.node.lineno}: "
                "it adds nothing to any gradient and its objective is never optimized",
                related=[(ev.node, "the constant term is added to the loss here"), (site.node, "backward() through the loss here")],
                explanation=(
                    "`torch.autograd.grad` returns gradients without `grad_fn` unless `create_graph=True`: a penalty built from them "
                    "(a gradient penalty, an input-gradient norm) does not require grad, so `backward()` treats it as a constant and "
                    "the model trains on the other terms only. Pass `create_graph=True` so the penalty is differentiated too."
                    if nograph
                    else "Ops that count or index (`histc`, `bincount`, `argmax`, comparisons, integer casts) return tensors without "
                    "`grad_fn`: a loss term computed through them does not require grad, so `backward()` treats it as a constant and the "
                    "model trains on the other terms only. Use a differentiable surrogate (a soft histogram, `softmax` instead of "
                    "`argmax`, a sigmoid instead of a comparison), or drop the term."
                ),
                fixes=[partial(_create_graph_fix, facts, cut.node)] if nograph else [],
            )


def _indices_behind_another_cut(facts) -> set:
    """The indices cuts (``_, idx = logits.topk(k)``) of starvations whose roots the same loss also loses through
    another cut of theirs (``F.softmax(top_logits)`` over one element): indices only select, and the op's values
    keep the gradient up to that other cut, which is the one to change. Ids of the cut nodes to leave unreported."""
    sts = list(find_starvations(facts))
    out = set()
    for st in sts:
        if st.cut.kind == "nondiff" and st.cut.detail.endswith(" indices"):
            if any(o is not st and o.site is st.site and set(o.roots) & set(st.roots) and not (o.cut.kind == "nondiff" and o.cut.detail.endswith(" indices")) for o in sts):
                out.add(id(st.cut.node))
        elif st.cut.kind == "nograph" and _create_graph_chosen(st.cut.node):
            # ``torch.autograd.grad(..., create_graph=not cfg["first_order"])`` decided false: first-order meta-learning chosen
            # on purpose; when another cut (``w.data - lr * g``) also stands in front of these parameters, that one is the bug
            if any(o is not st and o.site is st.site and set(o.roots) & set(st.roots) and o.cut.kind != "nograph" for o in sts):
                out.add(id(st.cut.node))
    return out


def _create_graph_chosen(call: ast.AST) -> bool:
    """Does the call spell ``create_graph`` with an expression (a configuration's choice), not a literal?"""
    flag = next((k.value for k in call.keywords if k.arg == "create_graph"), None) if isinstance(call, ast.Call) else None
    return flag is not None and not isinstance(flag, ast.Constant)


_CHECKPOINT_WORD = re.compile(r"\bcheckpoint\(")


def _enclosing_ifs(facts, node: ast.AST, fn: ast.AST) -> Optional[list]:
    """The ``if`` statements around ``node`` in ``fn`` (``node`` in their body); None when it sits in an ``else``."""
    out = []
    child, cur = node, facts.parent(node)
    while cur is not None and cur is not fn:
        if isinstance(cur, ast.If):
            if child not in cur.body:
                return None
            out.append(cur)
        elif isinstance(cur, ast.Try):
            return None
        child, cur = cur, facts.parent(cur)
    return out if cur is fn else None


def _switched_on(facts, info, test: ast.AST, evidence: list) -> bool:
    """Is ``test`` true in a training forward of the model: ``self.training``, or ``self.<flag>`` that a method of the
    class sets to True and the program calls before it trains (``gradient_checkpointing_enable()``), joined by ``and``."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return all(_switched_on(facts, info, v, evidence) for v in test.values)
    if not (isinstance(test, ast.Attribute) and isinstance(test.value, ast.Name) and test.value.id == "self"):
        return False
    if test.attr == "training":
        return True
    flag = test.attr
    for m in facts.modules.classes[info.name].methods.values() if info.name in facts.modules.classes else ():
        if m.name == "__init__":
            continue
        sets = any(
            isinstance(st, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == flag and isinstance(t.value, ast.Name) and t.value.id == "self" for t in st.targets)
            and isinstance(st.value, ast.Constant) and st.value.value is True
            for st in m.body
        )
        if not sets:
            continue
        for n in walk_nodes(facts.tree):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == m.name and facts.enclosing(n, (ast.ClassDef,)) is None:
                evidence.append((n, f"`{m.name}()` switches `self.{flag}` on here"))
                return True
            if m.name == "gradient_checkpointing_enable" and isinstance(n, ast.keyword) and n.arg == "gradient_checkpointing" and isinstance(n.value, ast.Constant) and n.value.value is True:
                evidence.append((n.value, "the Trainer calls `gradient_checkpointing_enable()` for this argument"))
                return True
    return False


def _inputs_from(facts, fl, fn: ast.AST, name: str, call: ast.Call, ifs: list, parts: set) -> bool:
    """Does every value ``name`` may hold at ``call`` (in a forward where the ``ifs`` around ``call`` are taken) come from
    data or from parts of ``self`` (collected in ``parts``)? The checkpoint's own result counts as what its inputs were."""
    dead = [s for br in ifs for s in br.orelse]
    stores = [n for n in walk_nodes(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id == name]
    if any(isinstance(a, ast.arg) and a.arg == name for a in walk_nodes(fn.args)):  # type: ignore[attr-defined]
        return False  # (what the caller passes)
    for st in stores:
        if any(st is n for d in dead for n in walk_nodes(d)):
            continue
        stmt = facts.parent(st)
        if isinstance(stmt, ast.Assign) and stmt.value is call:
            continue
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and stmt.targets[0] is st):
            return False
        emb = _embedding_lookup(facts, stmt.value, fn)
        if emb is not None:
            parts.add(emb)  # (an embedding's input is integer indices: only its table can carry a gradient)
            continue
        v = fl.assigned.get(id(st))
        if v is None or v.cut or v.leaf or v.kind not in ("tensor", None):
            return False
        for r in v.live:
            if not r.startswith("self.") or "[" in r:
                return False
            parts.add(r[5:])
    return True


def _embedding_lookup(facts, value: ast.AST, fn: ast.AST) -> Optional[str]:
    """``self.<attr>(ids)`` with ``self.<attr> = nn.Embedding(...)`` (or ``EmbeddingBag``) -> ``attr``."""
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and isinstance(value.func.value, ast.Name) and value.func.value.id == "self"):
        return None
    cls = facts.flow.owner.get(id(fn))
    ctor = facts.modules.attr_torch_ctor(cls, value.func.attr) if cls else None
    return value.func.attr if ctor is not None and ctor[0].rsplit(".", 1)[-1] in ("Embedding", "EmbeddingBag") else None


def _frozen_part(facts, cls: str, inst: str, part: str, frozen: set) -> bool:
    """Is every parameter of ``self.<part>`` frozen on the instance ``inst``: the part frozen whole, or a ``torch.nn``
    layer whose every parameter is (``embeddings.weight`` of an ``nn.Embedding``)."""
    path = f"{inst}.{part}"
    if is_frozen(path, frozen, inner=False):
        return True
    ctor = facts.modules.attr_torch_ctor(cls, part) if "." not in part else None
    if ctor is None:
        return False
    names = LAYER_PARAMETER_NAMES.get(ctor[0].rsplit(".", 1)[-1])
    if names is None or names[1]:
        return False  # (a layer with optional parameters: which exist depends on its arguments)
    return all(any(f == f"{path}.{n}" for f in frozen) for n in names[0])


def _checkpointed_parts(facts, fn: ast.AST, target: ast.AST) -> Optional[list]:
    """The parts of ``self`` the checkpointed callable is: ``self.block``, or the loop variable of ``for blk in
    self.blocks``."""
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
        return [target.attr]
    if isinstance(target, ast.Name):
        for loop in walk_nodes(fn):
            if isinstance(loop, ast.For) and isinstance(loop.target, ast.Name) and loop.target.id == target.id:
                it = loop.iter
                if isinstance(it, ast.Attribute) and isinstance(it.value, ast.Name) and it.value.id == "self":
                    return [it.attr]
    return None


def _whole_off(facts, hf) -> bool:
    """A helper's freeze of everything it is given (``for p in model.parameters(): p.requires_grad_(False)``)."""
    ev = hf.event
    return (ev.what == "requires_grad_call" and ev.extra == "False") or (
        ev.what == "requires_grad_set" and isinstance(getattr(ev.stmt, "value", None), ast.Constant) and ev.stmt.value.value is False)


def _refilled_after_freeze(facts, inst: str, part: str) -> bool:
    """Does the program put new layers into ``inst.part`` (adapters injected by assignment: ``for blk in
    model.blocks: blk.q_proj = LoRALinear(blk.q_proj)``, or ``model.blocks[0].proj = nn.Linear(...)``)? Layers made
    after a freeze require grad."""
    for st in walk_nodes(facts.tree):
        if not (isinstance(st, ast.Assign) and isinstance(st.value, ast.Call)):
            continue
        callee = st.value.func
        q = facts.imports.qualname(callee) or ""
        if not ((isinstance(callee, ast.Name) and callee.id in facts.modules.classes and facts.modules.classes[callee.id].is_module) or is_module_ctor(q)):
            continue
        for t in st.targets:
            if not isinstance(t, ast.Attribute):
                continue
            base = t.value
            if any(isinstance(n, ast.Attribute) and n.attr == part for n in ast.walk(base)):
                return True  # (``model.blocks[0].proj = ...``)
            if isinstance(base, ast.Name):
                loop = facts.parent(st)
                while loop is not None and not isinstance(loop, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
                    if isinstance(loop, ast.For) and isinstance(loop.target, ast.Name) and loop.target.id == base.id and isinstance(loop.iter, ast.Attribute) and loop.iter.attr == part:
                        return True
                    loop = facts.parent(loop)
    return False


def _name_computed_freezes(facts) -> set:
    """``for name, p in model.named_parameters(): p.requires_grad = "lora_" in name or name.startswith("head")``: the
    parameters whose names make the flag False, as paths on the one instance of the model's in-file class
    (``model.embed_tokens.weight``). The names are those the class is known to register (a subset of the real ones)."""
    out: set = set()
    if "named_parameters" not in facts.source.text:
        return out
    consts = module_constants(facts.tree)
    for loop in walk_nodes(facts.tree):
        if not (isinstance(loop, ast.For) and isinstance(loop.target, ast.Tuple) and len(loop.target.elts) == 2
                and all(isinstance(e, ast.Name) for e in loop.target.elts) and isinstance(loop.iter, ast.Call)
                and isinstance(loop.iter.func, ast.Attribute) and loop.iter.func.attr == "named_parameters" and not loop.iter.args):
            continue
        name_var, p_var = loop.target.elts[0].id, loop.target.elts[1].id  # type: ignore[attr-defined]
        exprs = []
        for st in loop.body:
            if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Attribute) and st.targets[0].attr == "requires_grad" \
                    and isinstance(st.targets[0].value, ast.Name) and st.targets[0].value.id == p_var:
                exprs.append(st.value)
        if len(exprs) != 1 or len(loop.body) != 1:
            continue
        scope = facts.enclosing(loop, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
        classes = _model_classes_of(facts, loop.iter.func.value, scope)
        for cls in classes:
            insts = [r for r, o in facts.flow.root_origins.items() if o.cls == cls and o.kind == "module" and isinstance(o.stmt, (ast.Assign, ast.AnnAssign))]
            if len(insts) != 1:
                continue
            for n in parameter_names(facts.modules, facts.imports, cls):
                try:
                    flag = evaluate_name_test(exprs[0], name_var, n, consts)
                except Unknown:
                    continue
                if flag is False:
                    out.add(f"{insts[0]}.{n}")
    return out


def _model_classes_of(facts, expr: ast.AST, scope: ast.AST) -> list:
    """The in-file Module classes ``expr`` holds: what :func:`models_of` finds, or, for a parameter of ``scope``, the
    classes its callers construct in place (``inject_lora(TinyEncoder(config))``)."""
    got = models_of(facts, expr, scope)
    if got or not (isinstance(expr, ast.Name) and isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef))):
        return got
    params = [a.arg for a in scope.args.posonlyargs + scope.args.args]
    if expr.id not in params:
        return []
    i = params.index(expr.id)
    out: list = []
    for call in facts.walk(ast.Call):
        if isinstance(call.func, ast.Name) and call.func.id == scope.name and i < len(call.args):
            arg = call.args[i]
            if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id in facts.modules.classes and arg.func.id not in out:
                out.append(arg.func.id)
            else:
                return []
    return out
