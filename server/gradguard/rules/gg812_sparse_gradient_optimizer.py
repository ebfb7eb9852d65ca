"""GG812 sparse-gradient-optimizer: an embedding built with ``sparse=True`` is trained by an optimizer whose step()
raises on sparse gradients (Adam, AdamW, RMSprop, ...; the Hugging Face Trainer's default AdamW)."""
from __future__ import annotations

import ast
from functools import partial
from typing import Optional

from gradguard.core.model import Applicability, Severity
from gradguard.core.starvation import frozen_paths, is_frozen
from gradguard.core.torchapi import (
    HF_OPTIM_WITHOUT_SPARSE,
    HF_TRAINER_BASES,
    OPTIMIZERS_WITHOUT_SPARSE,
    SPARSE_GRAD_MODULES,
    SPARSE_WITHOUT_WEIGHT_DECAY,
)
from gradguard.core.training import attribute_origin, concrete_param, covered_by, stepped_after, stepped_by_framework
from gradguard.fixes import fix, replace_node
from gradguard.rules.base import Example, Rule


def _sparse_keyword(facts, call: ast.AST) -> Optional[ast.keyword]:
    """The ``sparse=True`` keyword of an ``nn.Embedding`` / ``nn.EmbeddingBag`` construction (also
    ``nn.Embedding.from_pretrained(w, freeze=False, sparse=True)``), else None."""
    if not isinstance(call, ast.Call):
        return None
    q = facts.imports.qualname(call.func) or ""
    kws = {k.arg: k.value for k in call.keywords if k.arg}
    if q.endswith(".from_pretrained") and q.rsplit(".", 1)[0] in SPARSE_GRAD_MODULES:
        freeze = kws.get("freeze")
        if not (isinstance(freeze, ast.Constant) and freeze.value is False):
            return None  # (frozen by default: no gradient at all)
    elif q not in SPARSE_GRAD_MODULES:
        return None
    sparse = kws.get("sparse")
    if isinstance(sparse, ast.Constant) and sparse.value is True:
        return next(k for k in call.keywords if k.arg == "sparse")
    return None


def _optimizer_class(facts, node: ast.AST) -> Optional[str]:
    """``"Adam"`` for ``torch.optim.Adam(...)`` when its step() raises on a sparse gradient (``SGD`` / ``Adagrad``
    only with a non-zero constant ``weight_decay``); else None."""
    if not isinstance(node, ast.Call):
        return None
    q = facts.imports.qualname(node.func) or ""
    if not q.startswith("torch.optim."):
        return None
    short = q.rsplit(".", 1)[-1]
    if short in OPTIMIZERS_WITHOUT_SPARSE:
        return short
    if short in SPARSE_WITHOUT_WEIGHT_DECAY:
        wd = next((k.value for k in node.keywords if k.arg == "weight_decay"), None)
        if isinstance(wd, ast.Constant) and isinstance(wd.value, (int, float)) and not isinstance(wd.value, bool) and wd.value != 0:
            return f"{short}(weight_decay={wd.value})"
    return None


def _dense_fix(facts, kw: ast.keyword):
    """``sparse=True`` -> ``sparse=False``: the same gradient, stored dense."""
    return fix("Use dense gradients (`sparse=False`)", replace_node(facts, kw.value, "False"), unsafe=True)


def _single_call(facts, expr: Optional[ast.AST], at: ast.AST) -> Optional[ast.Call]:
    """The call ``expr`` is, or the one call its name is bound to wherever ``at`` runs."""
    if isinstance(expr, ast.Call):
        return expr
    if not isinstance(expr, ast.Name):
        return None
    scope = facts.enclosing(at, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    reach = facts.semantic.reaching_defs(scope, expr.id, at, facts.parent)
    if len(reach) != 1 or reach[0].kind != "assign" or not reach[0].whole or not isinstance(reach[0].value, ast.Call):
        return None
    return reach[0].value


def _trainer_default_optimizers(facts, cls: Optional[str]) -> list:
    """``(Trainer call, "AdamW")`` for every Hugging Face ``Trainer`` built for a model of the in-file class ``cls``
    that builds its own optimizer over every parameter: no ``optimizers=`` / ``optimizer_cls_and_kwargs=`` given, the
    Trainer class itself (not a subclass that may build its own), and ``TrainingArguments(...)`` seen, whose ``optim``
    is not given (AdamW) or names one of the optimizers that raise on sparse gradients."""
    out: list = []
    if cls is None:
        return out
    for fl in facts.flows:
        for ev in fl.events:
            if ev.what != "trainer_built" or ev.target is None or ev.target.cls != cls or ev.value is not None:
                continue
            call = ev.node
            if not isinstance(call, ast.Call) or (facts.imports.qualname(call.func) or "") not in HF_TRAINER_BASES:
                continue
            kws = {k.arg: k.value for k in call.keywords}
            if None in kws or "optimizers" in kws or "optimizer_cls_and_kwargs" in kws:
                continue
            args_expr = kws.get("args", call.args[1] if len(call.args) > 1 else None)
            optim = "adamw_torch"
            if args_expr is not None:
                targs = _single_call(facts, args_expr, call)
                if targs is None or not (facts.imports.qualname(targs.func) or "").endswith("TrainingArguments"):
                    continue
                tkws = {k.arg: k.value for k in targs.keywords}
                if None in tkws:
                    continue
                given = tkws.get("optim")
                if given is not None:
                    if not (isinstance(given, ast.Constant) and isinstance(given.value, str)):
                        continue
                    optim = given.value
            if optim in HF_OPTIM_WITHOUT_SPARSE:
                out.append((call, "AdamW" if optim.startswith("adamw") else optim))
    return out


class SparseGradientOptimizer(Rule):
    code = "GG812"
    name = "sparse-gradient-optimizer"
    summary = "An embedding built with `sparse=True` is trained by an optimizer whose `step()` raises on sparse gradients (Adam, AdamW, RMSprop, ...)."
    severity = Severity.ERROR
    needs = ("sparse=True",)
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Flags `nn.Embedding(..., sparse=True)` / `nn.EmbeddingBag(..., sparse=True)` (and
`nn.Embedding.from_pretrained(w, freeze=False, sparse=True)`) when a backpropagated loss reaches the layer and an
optimizer that cannot take sparse gradients holds its weight: `Adam`, `AdamW`, `RMSprop`, `Adadelta`, `Adamax`,
`NAdam`, `RAdam`, `ASGD`, `Rprop`, `Adafactor`, `SGD` / `Adagrad` with a non-zero `weight_decay`, and the Hugging Face
`Trainer`'s own optimizer (AdamW unless `TrainingArguments(optim=...)` says otherwise). The optimizer is the one the
model knows steps after that backward (built from `model.parameters()`, a Lightning `configure_optimizers`, the
`Trainer`'s default); an optimizer that holds only the other parameters (a `SparseAdam` for the embeddings beside an
`AdamW` for the rest) is fine.

## Why is this bad?
With `sparse=True` the embedding's `weight.grad` is a sparse tensor. These optimizers raise at the first `step()`
(`RuntimeError: Adam does not support sparse gradients, please consider SparseAdam instead`), so the run stops before
any parameter is updated.

## Example
```python
self.user_emb = nn.Embedding(n_users, dim, sparse=True)
...
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
```

## Use instead
```python
self.user_emb = nn.Embedding(n_users, dim)        # dense gradients
```

or keep the sparse gradients and give the embeddings their own optimizer:
```python
sparse = list(model.user_emb.parameters())
dense = [p for n, p in model.named_parameters() if not n.startswith("user_emb.")]
optimizers = [torch.optim.SparseAdam(sparse, lr=1e-3), torch.optim.AdamW(dense, lr=1e-3)]
```

## Fix safety
The fix builds the layer with `sparse=False`: the same gradients, stored dense, which every optimizer takes. It is
unsafe: for very large tables the dense gradient costs memory and time that `sparse=True` was chosen to save.
"""
    examples = (
        Example(
            name="adamw-over-a-sparse-embedding",
            code="""import torch
import torch.nn as nn


class Recommender(nn.Module):
    def __init__(self, n_items=20, dim=8):
        super().__init__()
        self.items = nn.Embedding(n_items, dim, sparse=True)
        self.head = nn.Linear(dim, 1)

    def forward(self, ids):
        return self.head(self.items(ids)).squeeze(-1)


def train(model, loader, optimizer):
    for ids, y in loader:
        loss = (model(ids) - y).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = Recommender()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    loader = [(torch.randint(0, 20, (4,)), torch.randn(4)) for _ in range(3)]
    train(model, loader, optimizer)
    return {"model": model}
""",
            lines=(8,),
            expect={"error": "does not support sparse gradients"},
            fixed_expect={"grad_ok": ["model.items.weight", "model.head.weight"]},
        ),
        Example(
            name="sgd-with-weight-decay-over-an-embedding-bag",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    bag = nn.EmbeddingBag(30, 6, mode="mean", sparse=True)
    clf = nn.Linear(6, 2)
    params = list(bag.parameters()) + list(clf.parameters())
    optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-4)
    for _ in range(2):
        tokens = torch.randint(0, 30, (4, 5))
        loss = nn.functional.cross_entropy(clf(bag(tokens)), torch.randint(0, 2, (4,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"bag": bag, "clf": clf}
""",
            lines=(7,),
            expect={"error": "add(sparse, dense) is not supported"},
            fixed_expect={"grad_ok": ["bag.weight", "clf.weight"]},
        ),
        Example(
            name="lightning-configure-optimizers-adam",
            code="""import torch
import torch.nn as nn
import lightning.pytorch as pl


class BagClassifier(pl.LightningModule):
    def __init__(self, vocab=50, dim=8):
        super().__init__()
        self.bag = nn.EmbeddingBag(vocab, dim, sparse=True)
        self.fc = nn.Linear(dim, 2)

    def forward(self, tokens):
        return self.fc(self.bag(tokens))

    def training_step(self, batch, batch_idx):
        tokens, y = batch
        return nn.functional.cross_entropy(self(tokens), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def main():
    torch.manual_seed(0)
    model = BagClassifier()
    data = [(torch.randint(0, 50, (4, 6)), torch.randint(0, 2, (4,))) for _ in range(3)]
    pl.Trainer(max_epochs=1).fit(model, data)
    return {"model": model}
""",
            lines=(9,),
            expect={"error": "does not support sparse gradients"},
            fixed_expect={"grad_ok": ["model.bag.weight", "model.fc.weight"]},
        ),
        Example(
            name="hugging-face-trainer-default-adamw",
            code="""import torch
import torch.nn as nn
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class MatchConfig(PretrainedConfig):
    model_type = "matcher"

    def __init__(self, n_ids=40, dim=8, **kwargs):
        super().__init__(**kwargs)
        self.n_ids, self.dim = n_ids, dim


class Matcher(PreTrainedModel):
    config_class = MatchConfig

    def __init__(self, config):
        super().__init__(config)
        self.ids = nn.Embedding(config.n_ids, config.dim, sparse=True)
        self.score = nn.Linear(config.dim, 1)

    def forward(self, ids=None, labels=None):
        logits = self.score(self.ids(ids)).squeeze(-1)
        return {"loss": nn.functional.binary_cross_entropy_with_logits(logits, labels.float()), "logits": logits}


def main():
    torch.manual_seed(0)
    model = Matcher(MatchConfig())
    data = [{"ids": torch.tensor(i % 40), "labels": torch.tensor(i % 2)} for i in range(16)]
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=4, num_train_epochs=1, max_grad_norm=0.0, report_to=[])
    before = model.ids.weight.detach().clone()
    Trainer(model=model, args=args, train_dataset=data).train()
    return {"model": model}, {"ids_changed": not torch.equal(before, model.ids.weight.detach())}
""",
            lines=(19,),
            expect={"error": "does not support sparse gradients"},
            fixed_expect={"facts": {"ids_changed": True}},
        ),
        Example(
            bad=False,
            name="sparse-adam-for-the-embedding-adam-for-the-rest",
            code="""import torch
import torch.nn as nn


class Recommender(nn.Module):
    def __init__(self, n_items=20, dim=8):
        super().__init__()
        self.items = nn.Embedding(n_items, dim, sparse=True)
        self.head = nn.Linear(dim, 1)

    def forward(self, ids):
        return self.head(self.items(ids)).squeeze(-1)


def main():
    torch.manual_seed(0)
    model = Recommender()
    sparse_opt = torch.optim.SparseAdam(model.items.parameters(), lr=1e-2)
    dense_opt = torch.optim.Adam(model.head.parameters(), lr=1e-2)
    for _ in range(3):
        ids, y = torch.randint(0, 20, (4,)), torch.randn(4)
        loss = (model(ids) - y).pow(2).mean()
        sparse_opt.zero_grad()
        dense_opt.zero_grad()
        loss.backward()
        sparse_opt.step()
        dense_opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.items.weight", "model.head.weight"]},
        ),
        Example(
            bad=False,
            name="plain-sgd-takes-sparse-gradients",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    emb = nn.Embedding(30, 6, sparse=True)
    head = nn.Linear(6, 1)
    optimizer = torch.optim.SGD([*emb.parameters(), *head.parameters()], lr=0.1, momentum=0.9)
    for _ in range(3):
        loss = head(emb(torch.randint(0, 30, (4,)))).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"emb": emb, "head": head}
""",
            expect={"grad_ok": ["emb.weight", "head.weight"]},
        ),
        Example(
            bad=False,
            name="frozen-sparse-embedding-gets-no-gradient",
            code="""import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self, vectors):
        super().__init__()
        self.words = nn.Embedding.from_pretrained(vectors, sparse=True)
        self.out = nn.Linear(vectors.shape[1], 3)

    def forward(self, ids):
        return self.out(self.words(ids))


def main():
    torch.manual_seed(0)
    model = Tagger(torch.randn(40, 8))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        logits = model(torch.randint(0, 40, (5,)))
        loss = nn.functional.cross_entropy(logits, torch.randint(0, 3, (5,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.out.weight"], "grad_none": ["model.words.weight"]},
        ),
        Example(
            bad=False,
            name="sparse-table-filtered-out-of-adam-by-identity",
            code="""import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, n, d):
        super().__init__()
        self.table = nn.Embedding(n, d, sparse=True)
        self.proj = nn.Linear(d, 1)

    def forward(self, idx):
        return self.proj(self.table(idx)).squeeze(-1)


def main():
    torch.manual_seed(0)
    model = Encoder(50, 8)
    sparse_ids = set(map(id, model.table.parameters()))
    dense_opt = torch.optim.Adam(filter(lambda p: id(p) not in sparse_ids, model.parameters()), lr=1e-3)
    sparse_opt = torch.optim.SparseAdam(list(model.table.parameters()), lr=1e-3)
    for _ in range(3):
        dense_opt.zero_grad()
        sparse_opt.zero_grad()
        loss = model(torch.randint(0, 50, (16,))).pow(2).mean()
        loss.backward()
        dense_opt.step()
        sparse_opt.step()
    return {"model": model}
""",
            expect={'grad_ok': ['model.proj.bias', 'model.proj.weight', 'model.table.weight']},
        ),
    )

    def check(self, facts):
        frozen = frozen_paths(facts)
        done: set = set()
        for fl in facts.backward_flows:
            for site in fl.loss_sites:
                if not site.mode.enabled:
                    continue
                roots = [r for r in site.loss.live if concrete_param(r)]
                if not roots:
                    continue
                optimizers = [(o, _optimizer_class(facts, o.node)) for o in [*stepped_after(fl, site), *stepped_by_framework(facts, fl, site)]]
                optimizers = [(o, name) for o, name in optimizers if name]
                defaults = _trainer_default_optimizers(facts, fl.owner) if site.implicit and getattr(fl.node, "name", None) == "forward" else []
                if not optimizers and not defaults:
                    continue
                for root in sorted(roots):
                    if is_frozen(root, frozen):
                        continue
                    for path, kw, _call in self._sparse_layers(facts, fl, root):
                        if id(kw) in done:
                            continue
                        holder = next(((o.node, name) for o, name in optimizers if covered_by(path, [o]) or covered_by(root, [o])), None)
                        if holder is None and defaults:
                            holder = defaults[0]
                        if holder is None:
                            continue
                        done.add(id(kw))
                        onode, oname = holder
                        what = f"`{oname}`" if not isinstance(onode, ast.Call) or oname != "AdamW" or (facts.imports.qualname(onode.func) or "").startswith("torch.optim") else "the Trainer's own `AdamW`"
                        yield self.finding(
                            facts,
                            kw,
                            f"`sparse=True` gives this embedding a sparse gradient, and {what} cannot take one: the first training step "
                            "raises and nothing is ever updated",
                            related=[(onode, "the optimizer that holds the embedding's weight"), (site.node, f"{site.label}")],
                            fixes=[partial(_dense_fix, facts, kw)],
                        )

    @staticmethod
    def _sparse_layers(facts, fl, root: str) -> list:
        """``(path, sparse keyword, construction)`` for the sparse embeddings ``root`` names or holds: the layer itself
        (``model.items``, ``self.user_emb``), or one that the ``forward`` of ``root``'s in-file class (and of the in-file
        classes it calls the same way) uses."""
        parts = root.replace("[]", "").split(".")
        if parts[0] == "self":
            cls: Optional[str] = fl.owner
            attrs = parts[1:]
        else:
            origin = facts.flow.root_origins.get(parts[0])
            if origin is None or origin.kind not in ("module", "instance"):
                return []
            cls, attrs = origin.cls, parts[1:]
            value = getattr(origin.stmt, "value", None)
            if not attrs and value is not None and isinstance(origin.stmt, ast.Assign) and len(origin.stmt.targets) == 1 and isinstance(origin.stmt.targets[0], ast.Name):
                kw = _sparse_keyword(facts, value)  # (``bag = nn.EmbeddingBag(..., sparse=True)``)
                if kw is not None:
                    return [(root, kw, value)]
        if not cls or cls not in facts.modules.classes:
            return []
        if attrs:
            call = attribute_origin(facts, cls, attrs)
            kw = _sparse_keyword(facts, call) if call is not None else None
            if kw is not None:
                return [(root, kw, call)]
            for a in attrs:  # a submodule of an in-file class: look inside it
                acls, _elem = facts.modules.attr_class(cls, a)
                if not acls:
                    return []
                cls = acls
        out: list = []
        seen: set = set()

        def inside(c: str, prefix: str, depth: int) -> None:
            if depth > 3 or c in seen or c not in facts.modules.classes:
                return
            seen.add(c)
            fwd = facts.modules.method(c, "forward")
            if fwd is None:
                return
            used = {n.attr for n in ast.walk(fwd) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self"}
            for attr in sorted(used):
                values = facts.modules.classes[c].attr_values.get(attr) or []
                if len(values) != 1:
                    continue
                kw = _sparse_keyword(facts, values[0])
                if kw is not None:
                    out.append((f"{prefix}.{attr}", kw, values[0]))
                    continue
                acls, _elem = facts.modules.attr_class(c, attr)
                if acls:
                    inside(acls, f"{prefix}.{attr}", depth + 1)

        inside(cls, root, 0)
        return out

