"""The names ``named_parameters()`` yields for an instance of an in-file Module class, as far as the file tells.

Each attribute the class's ``__init__`` assigns once (``self.attn = nn.MultiheadAttention(...)``) contributes the
names of what it holds: a ``torch.nn`` layer the table in ``torchapi.LAYER_PARAMETER_NAMES`` knows (``attn.in_proj_weight``,
``attn.out_proj.weight``...), an ``nn.Sequential`` of such layers (``ffn.0.weight``), an ``nn.Parameter`` (its own
name), or another in-file Module class (recursively). What is not known (a layer outside the table, a container built
in a loop, an attribute assigned twice) contributes nothing, so the list is a subset of the real names: every name in
it is one the model really has, which is what a claim that two name filters both select a parameter needs.
"""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.torchapi import LAYER_PARAMETER_NAMES, PARAMETER_CTORS

_MAX_DEPTH = 6


def parameter_names(modules, imports, cls: str, depth: int = 0) -> list:
    """Known parameter names of an instance of the in-file class ``cls`` (a subset of the real ones)."""
    info = modules.classes.get(cls)
    if info is None or depth > _MAX_DEPTH:
        return []
    init = info.methods.get("__init__")
    if init is None:
        return []
    if any(isinstance(n, ast.Assign) and any(isinstance(t, ast.Attribute) and isinstance(t.value, ast.Attribute) for t in n.targets) for m in info.methods.values() for n in ast.walk(m)):
        return []  # ``self.head.weight = self.emb.weight``: a tied tensor is yielded once, under its first name
    out: list = []
    for attr, values in info.attr_values.items():
        if len(values) != 1 or attr in info.buffers:
            continue
        for name in value_parameter_names(modules, imports, values[0], depth + 1):
            out.append(f"{attr}.{name}" if name else attr)
    return out


def value_parameter_names(modules, imports, value: ast.AST, depth: int = 0) -> list:
    """Known parameter names (relative to the object) of what the expression ``value`` builds; ``""`` stands for the
    object itself being a parameter."""
    if not isinstance(value, ast.Call) or depth > _MAX_DEPTH:
        return []
    q = imports.qualname(value.func) or ""
    if q in PARAMETER_CTORS:
        return [""]
    if isinstance(value.func, ast.Name) and value.func.id in modules.classes:
        return parameter_names(modules, imports, value.func.id, depth)
    short = q.rsplit(".", 1)[-1]
    if q in ("torch.nn.Sequential", "torch.nn.modules.container.Sequential"):
        if value.keywords or any(isinstance(a, ast.Starred) for a in value.args):
            return []
        out = []
        for i, a in enumerate(value.args):
            out += [f"{i}.{n}" if n else str(i) for n in value_parameter_names(modules, imports, a, depth + 1)]
        return out
    if not q.startswith("torch.nn.") or short not in LAYER_PARAMETER_NAMES:
        return []
    always, optional, switch, default, unknown, before_switch = LAYER_PARAMETER_NAMES[short]
    if any(k.arg in unknown or k.arg is None for k in value.keywords) or any(isinstance(a, ast.Starred) for a in value.args):
        return []  # (a setting that changes which parameters exist in a way the table does not follow)
    on: Optional[bool] = default if len(value.args) <= before_switch else None  # (the switch given by position)
    given = next((k.value for k in value.keywords if k.arg == switch), None) if switch else None
    if given is not None:
        on = given.value if isinstance(given, ast.Constant) and isinstance(given.value, bool) else None
    if on is None:
        return list(always)
    return list(always) + (list(optional) if on else [])
