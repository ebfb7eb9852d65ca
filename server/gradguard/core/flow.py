"""GradientFlow: an abstract interpreter over stdlib ``ast`` that tracks, for every value in a function,
which *roots* (parameters, modules, tensors created with ``requires_grad``) reach it differentiably
(``live``) and which reach it only through a *cut* (``.detach()``, ``.item()``, ``argmax``, ``no_grad``...).

A backward site (``loss.backward()``, ``torch.autograd.grad(loss, ...)``) then tells which roots the
loss starves: those that reach it only through cuts. Functions and methods of the file are summarized
(what their return value carries, in terms of their arguments and ``self``) so that a cut inside a helper
is reported at the helper with the call site as related information.

Root ids are dotted strings: ``model`` (a module created in this function), ``model.encoder``,
``self.fc``, ``w``; ``arg:0`` stands for a function's first argument (excluding ``self``), ``?`` for
gradient of unknown origin. Nothing here imports or runs the analyzed code.
"""
from __future__ import annotations

import ast
import builtins
import dataclasses
import operator
import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from gradguard.core.astindex import TextIndex, child_nodes, node_cache, statements_of_type, walk_nodes
from gradguard.core.classes import Constructions
from gradguard.core.imports import Imports
from gradguard.core.modules import ModuleModel, self_factor
from gradguard.core.paramnames import ANY_OF_KEY, AnyOf, NamePrefix, Unknown, evaluate_name_test, module_constants, narrowed_parts, single_binding
from gradguard.core.partition import fill_loop, module_tree, narrowed_lists, rank_test
from gradguard.core.torchapi import (
    ALIASING_OPS,
    BACKWARD_METHODS,
    CAST_METHOD_DTYPE,
    COPY_FUNCTIONS,
    CUT_FUNCTIONS,
    CUT_METHODS,
    DATASET_CONSTRUCTORS,
    DISCRETE_DISTRIBUTIONS,
    FACTORIES,
    FLOAT_DTYPES,
    FORWARDS_TO_MODULE,
    FRAMEWORK_OBJECTS,
    FROZEN_BY_DEFAULT,
    FUNCTIONAL_CALLS,
    GRAD_DISABLING,
    GRAD_ENABLING,
    HF_CALLBACK_BASES,
    HF_CALLBACK_EVENTS_DURING_TRAINING,
    HF_TRAINER_BASES,
    IDENTITY_METHODS,
    INFERENCE,
    INPLACE_FUNCTIONAL,
    INPLACE_MODULES,
    INT_DTYPES,
    LAYER_HYPERPARAMETERS,
    LIGHTNING_CALLBACK_BASES,
    LIGHTNING_CALLBACK_TRAINING_HOOKS,
    LIGHTNING_HOOKS_BEFORE_TRAINING_STEP,
    META_ATTRS,
    META_METHODS,
    MODULE_SELF_METHODS,
    MODULE_WRAPPERS,
    MULTI_OUTPUT_VIEWS,
    NEW_TENSOR_METHODS,
    NONDIFF_COLLECTIVES,
    NUMPY_DTYPE_KEEPING,
    NUMPY_FLOAT64_MAKERS,
    NUMPY_FLOAT_FUNCTIONS,
    OPTIMIZER_BUILDERS,
    PARAMETER_CTORS,
    PYTHON_CASTS,
    RUN_BEFORE_OPTIMIZERS,
    SAVES_INPUT,
    SAVES_OUTPUT,
    SET_GRAD_ENABLED,
    SHAPE_METHODS,
    SHAPE_OF_ARG_METHODS,
    STEP_METHODS,
    TO_NUMBER_METHODS,
    VALUES_INDICES,
    VARIABLE,
    VIEW_METHODS,
    WITH_DIM_ONLY,
    WRAPPED_MODULE_ATTRS,
    is_loss_function,
    is_module_ctor,
    is_optimizer_ctor,
    is_parameterless_ctor,
    is_scheduler_ctor,
)


def replace(obj, **changes):
    """``dataclasses.replace`` for the engine's frozen values (``Val``, ``Cut``: plain fields, no
    ``__post_init__``, no slots): the same object, made by copying the instance dictionary instead of running
    ``__init__`` field by field (values are copied tens of thousands of times per file)."""
    cls = obj.__class__
    if cls not in _PLAIN_VALUES:
        return dataclasses.replace(obj, **changes)
    if not changes.keys() <= _PLAIN_VALUES[cls]:  # (the first key that names no field, as before)
        k = next(k for k in changes if k not in _PLAIN_VALUES[cls])
        raise TypeError(f"{cls.__name__} has no field {k!r}")
    new = object.__new__(cls)
    d = new.__dict__
    d.update(obj.__dict__)
    d.update(changes)
    return new


_REQUIRES_GRAD_WORD = re.compile(r"requires_grad")
CONSTANT_TERM_CUTS = frozenset({"nondiff", "compare", "cast", "nograph"})  # cuts after which a value has no gradient at all
# cuts after which a term added to a trained loss is a constant of it (the rule owning each kind reports the term)
DEAD_TERM_CUTS = CONSTANT_TERM_CUTS | {"detach", "data", "numpy", "item", "tolist", "python", "rewrap"}
NEW = "<new>"  # placeholder id for a root created by an expression, renamed at assignment
UNKNOWN = "?"
_CHECKPOINT_CALL = re.compile(r"\bcheckpoint(?:_sequential)?\(")
# Activation checkpointing that runs the function under no_grad and reconnects through its tensor inputs only.
REENTRANT_CHECKPOINTS = frozenset({"torch.utils.checkpoint.checkpoint", "torch.utils.checkpoint.checkpoint_sequential"})


@dataclass(frozen=True)
class Cut:
    kind: str  # detach, data, numpy, item, tolist, python, rewrap, nondiff, cast, compare, zero, no_grad, inference, nograph, reentrant, dropped (a custom Function's backward returns None for the input)
    node: ast.AST  # the expression (or with/decorator) that cuts
    detail: str  # e.g. ".detach()"
    via: tuple = ()  # call nodes through which the cut reached the caller, and index assignments (``out[idx] = v``) whose index it was (innermost first)

    def through(self, call: ast.AST) -> Cut:
        return replace(self, via=self.via + (call,))


@dataclass(frozen=True)
class Val:
    live: frozenset = frozenset()
    cut: frozenset = frozenset()  # of (root, Cut)
    kind: Optional[str] = None  # module, tensor, optimizer, params, python, numpy, function, class, none
    cls: Optional[str] = None  # in-file class of an instance (or the class itself for kind 'class')
    ident: Optional[str] = None  # root id when the value *is* a root object (module, leaf, attribute)
    leaf: bool = False  # a leaf tensor that requires grad (parameter or requires_grad=True)
    saved_output: Optional[str] = None  # op that saved this tensor for backward (exp, sigmoid, ...)
    multi_view: Optional[str] = None  # op that returned it as one of several views, in grad mode (chunk, split, unbind)
    items: Optional[tuple] = None  # element values of a tuple/list literal
    func: Optional[ast.AST] = None  # in-file function for kind 'function'
    params: frozenset = frozenset()  # for kind 'optimizer': the roots it steps
    fields: Optional[tuple] = None  # named entries ((key, Val), ...) of a dict literal or an output object
    elem_cls: Optional[str] = None  # in-file Module class of every element of a Sequential/ModuleList
    origin: Optional[ast.AST] = None  # for kind 'optimizer': the constructor call that built it
    rg_filter: bool = False  # for kind 'params': only those that require grad now (``filter(lambda p: p.requires_grad, ...)``)
    held_out: frozenset = frozenset()  # for kind 'optimizer': parts of ``params`` frozen (so left out) when it was built
    built_by: Optional[ast.AST] = None  # for kind 'optimizer' built by a helper: the outermost call of it (where it runs)
    discrete: bool = False  # a discrete ``torch.distributions`` object: ``sample()`` has no gradient by nature
    leaf_copy: Optional[ast.AST] = None  # the cast that made these tensors non-leaf copies of leaves (``p.double()``)
    seq: Optional[tuple] = None  # a Sequential: each element's in-file Module class (None: a torch layer), in order
    consts: Optional[frozenset] = None  # a Python value known to be one of these constants (str, int, bool, None)
    pytype: Optional[str] = None  # the builtin container it is on every path ("dict", "list", "tuple", "set"): decides isinstance
    wrapper: Optional[str] = None  # a module wrapper whose forward runs only the wrapped ``.module`` (``nn.DataParallel``)
    prefix: Optional[str] = None  # a string known to begin with this text (names from a wrapper's ``named_parameters()``)
    ids_of: Optional[frozenset] = None  # (root, node): the ``id()`` of every parameter of these roots, and nothing else (``set(map(id, m.parameters()))`` at node)
    left_out: frozenset = frozenset()  # for kind 'params' / 'optimizer': (root, node) parts of a model a filter left out, and the test that did
    layer: Optional[tuple] = None  # (in-file class, attribute): a module held as that attribute of that class (``model.layers[i].output``)
    leads: Optional[frozenset] = None  # a string (or each string of a list) known to begin with one of these texts
    flags: Optional[tuple] = None  # ((attr, constant Val), ...): attributes of this object its methods set to constants
    # (``model.enable_gradient_checkpointing()`` sets ``gradient_checkpointing = True``; ``model.train()`` sets ``training``)
    # a new module's ``requires_grad`` changes made where it was created, to be recorded on it where it is named:
    # ((path inside it, node, "True"/"False", origin), ...): the deep copy of a module frozen at that point (a deep copy
    # copies each parameter's ``requires_grad``; node the deepcopy call, origin the freeze), and the switches a factory
    # function makes on the module it builds and returns (``model.encoder.requires_grad_(False)`` in ``build_model()``)
    frozen_copy: Optional[tuple] = None
    table: Optional[ast.AST] = None  # the dict literal of constant string keys and constant values it is (a table in a config)
    loop_keys: bool = False  # ``consts`` are the keys of such a dict, one per iteration of a loop over it (``for k, v in d.items()``)
    dtype: Optional[str] = None  # a leaf's floating dtype when its factory names it (``dtype=torch.float16``): "float16"; None: not known
    # a list grown by ``append`` of structured values (dicts, tuples) in a loop: each element, its entries kept apart
    # (``outs.append({"logits": ..., "boxes": ...})`` per decoder layer; ``for o in outs: o["boxes"]``)
    elem: Optional[Val] = None
    # the op whose saved output this tensor was, before an in-place change already reported made it a modified copy of it
    dirtied: Optional[str] = None

    @property
    def carries(self) -> bool:
        return bool(self.live)

    def roots(self) -> set:
        return set(self.live) | {r for r, _ in self.cut}


_PLAIN_VALUES: dict = {cls: frozenset(f.name for f in dataclasses.fields(cls)) for cls in (Val, Cut)}  # what ``replace`` copies directly


def _fast_init(cls: type) -> None:
    """Give a frozen dataclass whose fields all have immutable defaults an ``__init__`` that sets its instance
    dictionary at once (the generated one calls ``object.__setattr__`` field by field): the same parameters, in
    the same order, the same values."""
    fields = dataclasses.fields(cls)
    assert all(f.default is not dataclasses.MISSING for f in fields)
    defaults = {f"_d_{f.name}": f.default for f in fields}
    src = (
        "def __init__(self, "
        + ", ".join(f"{f.name}=_d_{f.name}" for f in fields)
        + "):\n    _set(self, '__dict__', {"
        + ", ".join(f"{f.name!r}: {f.name}" for f in fields)
        + "})\n"
    )
    ns: dict = {"_set": object.__setattr__, **defaults}
    exec(src, ns)  # noqa: S102 - code built from the dataclass's own field names
    every = ns["__init__"]
    # Most values are made with at most the first two fields given by position and a few by keyword: the instance
    # dictionary is then a copy of the defaults (in field order) with those set -- the same dictionary, without
    # binding every parameter. More positional arguments go to the complete ``__init__`` above; a keyword that
    # names no field raises TypeError, as it does there.
    first, second = fields[0].name, fields[1].name
    fast = (
        f"def __init__(self, {first}=_d_{first}, {second}=_d_{second}, *_rest, **_kw):\n"
        f"    if _rest:\n"
        f"        _every(self, {first}, {second}, *_rest, **_kw)\n"
        f"        return\n"
        f"    d = _copy()\n"
        f"    d[{first!r}] = {first}\n"
        f"    d[{second!r}] = {second}\n"
        f"    if _kw:\n"
        f"        if not _kw.keys() <= _names:\n"
        f"            _every(self, {first}, {second}, **_kw)  # (raises the TypeError of an unknown keyword)\n"
        f"        d.update(_kw)\n"
        f"    _set(self, '__dict__', d)\n"
    )
    fns: dict = {"_set": object.__setattr__, "_every": every, "_copy": {f.name: f.default for f in fields}.copy,
                 "_names": frozenset(f.name for f in fields), **defaults}
    exec(fast, fns)  # noqa: S102 - code built from the dataclass's own field names
    __init__ = fns["__init__"]
    __init__.__qualname__ = f"{cls.__name__}.__init__"
    cls.__init__ = __init__  # type: ignore[misc]


_fast_init(Val)

_VAL_DEFAULTS: dict = dict(Val().__dict__)

CONST = Val(kind="python")
NONE = Val(kind="none")
_CONSTANTS: dict = {}  # (type, value) -> the Val of that constant


def constant(value) -> Val:
    """The value of a literal: a Python value that knows which constant it is (str, int, bool, None)."""
    t = type(value)
    if t is not str and t is not int and t is not bool and value is not None and not (t is float and value == 0.0):
        return CONST  # (floats are not told apart, but for zero: a weight of 0.0 removes a term)
    key = (t, value)
    v = _CONSTANTS.get(key)
    if v is None:
        v = Val(kind="none" if value is None else "python", consts=frozenset({value}))
        if len(_CONSTANTS) < 4096:
            _CONSTANTS[key] = v
    return v


_NUMBER_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne}
_FLIPPED = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE}


def _is_number_value(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_number_constant(node: ast.AST) -> bool:
    """A numeric literal (``0``, ``0.5``, ``-1``)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and _is_number_value(node.value)


def decided(v: Val) -> Optional[bool]:
    """True / False when every constant ``v`` may be is truthy / falsy; None when unknown."""
    if not v.consts:
        return None
    truth = {bool(c) for c in v.consts}
    return truth.pop() if len(truth) == 1 else None


def join(*vals: Val) -> Val:
    vals = tuple(v for v in vals if v is not None)
    if not vals:
        return CONST
    if len(vals) == 1:
        return vals[0]
    live = frozenset().union(*(v.live for v in vals))
    cut = frozenset().union(*(v.cut for v in vals))
    kinds = {v.kind for v in vals}
    kind = kinds.pop() if len(kinds) == 1 else ("tensor" if live or cut else None)
    optional = kinds - {"none", "python"}
    ident = cls = None
    if len(optional) == 1 and len(kinds) > 1 and next(iter(optional)) in ("scheduler", "scaler", "module", "optimizer"):
        # ``best_model = None`` (a Python value) or a model / scheduler: used as one wherever it is called
        kind = next(iter(optional))
        some = [v for v in vals if v.kind == kind]
        if all(v.ident == some[0].ident and v.cls == some[0].cls for v in some):
            ident, cls = some[0].ident, some[0].cls
    elem = None
    if any(v.elem is not None for v in vals) and all(v.elem is not None or v.items == () for v in vals):
        elem = join(*(v.elem for v in vals if v.elem is not None))  # (a list grown on some paths, empty on the others)
    fields = None
    if any(v.fields is not None for v in vals):  # a dict built differently on two branches
        merged: dict = {}
        for v in vals:
            for k, fv in v.fields or ():
                merged[k] = join(merged[k], fv) if k in merged else fv
        fields = tuple(merged.items())
    # tuples of one length on every path that builds one (``return out, aux`` in training, ``return out``
    # otherwise): positions are kept, each the join of that position over the tuple paths and of the whole
    # value of the other paths (what indexing or unpacking it there may give): nothing that may reach a
    # position is lost, and what reaches only another position stays out of it. An empty tuple has no position
    # to hold the other paths' values: an empty list on one path and a list grown by ``append`` in a loop on
    # another has the elements the loop put there, so its elements are unknown
    items = None
    shaped = [v.items for v in vals if v.items is not None]
    others = [v for v in vals if v.items is None]
    if shaped and len({len(t) for t in shaped}) == 1 and (shaped[0] or not others):
        items = tuple(join(*col, *others) for col in zip(*shaped))
    elif shaped and not others and all(v.pytype == "list" for v in vals):
        # a list literal grown by ``append`` on some paths only (``groups.append(...)`` under an ``if``): position k
        # holds what each path that has one put there
        items = tuple(join(*(t[k] for t in shaped if k < len(t))) for k in range(max(len(t) for t in shaped)))
    copies = {v.leaf_copy for v in vals}
    leaf_copy = copies.pop() if len(copies) == 1 else None
    consts = frozenset().union(*(v.consts for v in vals if v.consts is not None)) if all(v.consts is not None for v in vals) else None
    if consts is not None and kind is None:
        kind = "python"  # ``None`` on one path, a string on another: a Python value either way
    pytypes = {v.pytype for v in vals}
    pytype = pytypes.pop() if len(pytypes) == 1 else None
    prefix = vals[0].prefix
    if prefix is not None and any(v.prefix != prefix for v in vals):
        prefix = None
    flags = vals[0].flags if all(v.flags == vals[0].flags for v in vals) else None
    # (a tensor an op saved for backward stays saved at a join whose other paths hold that same tensor changed in place:
    # ``x = relu(...)``, then a loop that may run ``x /= 2`` zero times: ``x *= 10`` after it changes what relu saved
    # on the path that skipped the loop; a new value on another path, ``x = layer(x)``, is another tensor)
    saved = vals[0].saved_output if vals[0].saved_output and not vals[0].saved_output.startswith("in:") else vals[0].dirtied
    if saved is not None and not all(v.saved_output == saved or v.dirtied == saved for v in vals):
        saved = None
    if saved is not None and not any(v.saved_output == saved for v in vals):
        saved = None
    if kind == "optimizer":
        # (an optimizer on some paths, None on the others: ``opt_b = Adam(dec_b.parameters()) if use_b else None``,
        # stepped under ``if opt_b is not None``: where it is stepped, it steps what it was built over)
        opts = [v for v in vals if v.kind == "optimizer"]
        origins = {v.origin for v in opts}
        built = {v.built_by for v in opts}
        return Val(live, cut, kind=kind, ident=ident, params=frozenset().union(*(v.params for v in opts)), origin=origins.pop() if len(origins) == 1 else None,
                   held_out=frozenset().union(*(v.held_out for v in opts)), left_out=frozenset().union(*(v.left_out for v in opts)),
                   built_by=built.pop() if len(built) == 1 else None)
    return Val(live, cut, kind=kind, fields=fields, items=items, leaf_copy=leaf_copy, ident=ident, cls=cls, consts=consts, pytype=pytype, prefix=prefix, flags=flags, elem=elem,
               saved_output=saved)


def combine(*vals: Val) -> Val:
    """The result of a differentiable op on ``vals``: gradient flows from every input."""
    n = len(vals)
    if n == 2 or n == 1:
        # (most ops: one or two operands. ``a | b`` builds the same frozenset as ``frozenset().union(a, b)``, in the same
        # steps -- a new set, a's elements merged in, then b's -- so it also iterates in the same order; ``a | _EMPTY``
        # is the fresh copy ``frozenset().union(a)`` makes)
        a = vals[0]
        b = vals[1] if n == 2 else _ONE_OPERAND
        la, lb, ca, cb = a.live, b.live, a.cut, b.cut
        if type(la) is frozenset and type(lb) is frozenset and type(ca) is frozenset and type(cb) is frozenset:
            return _tensor(la | lb, ca | cb)
    live = frozenset().union(*(v.live for v in vals)) if vals else frozenset()
    cut = frozenset().union(*(v.cut for v in vals)) if vals else frozenset()
    return _tensor(live, cut)


_ONE_OPERAND = Val()  # (empty ``live`` and ``cut``: what ``combine`` joins a single operand with)


def _tensor(live: frozenset, cut: frozenset) -> Val:
    """``Val(live, cut, kind="tensor")``, built without the frozen dataclass's field-by-field ``__init__`` (the
    engine's most frequent value)."""
    new = object.__new__(Val)
    d = new.__dict__
    d.update(_VAL_DEFAULTS)
    d["live"] = live
    d["cut"] = cut
    d["kind"] = "tensor"
    return new


def cut_value(v: Val, kind: str, node: ast.AST, detail: str, result_kind: str = "tensor") -> Val:
    cut = set(v.cut)
    for r in v.live:
        cut.add((r, Cut(kind, node, detail)))
    return Val(frozenset(), frozenset(cut), kind=result_kind)


_decided = decided
# In-place writes that set a parameter's value outright or blend it with others (not a gradient step).
# in-place Tensor methods that write values computed from their tensor arguments (differentiably in them)
WRITING_INPLACE = frozenset({
    "add_", "sub_", "mul_", "div_", "copy_", "index_add_", "index_copy_", "index_put_", "scatter_", "scatter_add_", "scatter_reduce_",
    "masked_scatter_", "masked_fill_", "addcmul_", "addcdiv_", "lerp_", "put_", "clamp_", "pow_",
})
HAND_WRITE_METHODS = frozenset({"copy_", "mul_", "add_", "lerp_", "sub_", "addcmul_", "div_", "fill_", "zero_", "set_"})
# What a function's text must spell to write a parameter by hand: a ``.data`` or one of those methods.
HAND_WRITE_WORDS = re.compile(r"\.data\b|(?:" + "|".join(sorted(m[:-1] for m in HAND_WRITE_METHODS)) + r")_\(")


def _reads_grad(stmt: Optional[ast.AST]) -> bool:
    return stmt is not None and any(isinstance(n, ast.Attribute) and n.attr == "grad" for n in walk_nodes(stmt))


def hand_written_roots(ev: Event, in_fn: Optional[ast.AST] = None) -> set:
    """The roots whose parameters the event writes by hand (see ``Walker.hand_written``), or none: a ``.data``
    assignment to a parameter, an in-place write into a parameter or its ``.data``, in a function ``in_fn`` that
    reads no ``.grad`` (``p.data.add_(d_p, alpha=-lr)`` with ``d_p = p.grad`` is a hand-written gradient step: those
    parameters want gradients), and the writes of the functions an event's call runs (``hand_set_via_call``)."""
    t = ev.target
    if t is None:
        return set()
    if ev.what == "hand_set_via_call":
        return set(t.live)
    if ev.what not in ("attr_assign", "inplace"):
        return set()
    roots = _written_roots(ev, t)
    # (whether the function reads a ``.grad`` is asked last, and only of an event that writes some root: it walks the
    # whole function, and the answer is no roots either way when the event writes none)
    if roots and _reads_grad(in_fn if in_fn is not None else ev.stmt):
        return set()
    return roots


def _written_roots(ev: Event, t: Val) -> set:
    """``hand_written_roots`` of an ``attr_assign`` / ``inplace`` event, before the function's ``.grad`` reads count."""
    if ev.what == "attr_assign" and ev.name == "data" and t.leaf:
        return set() if _reads_grad(ev.stmt) else set(t.live)
    if ev.what == "inplace" and ev.extra in HAND_WRITE_METHODS and not _reads_grad(ev.stmt):
        if t.leaf:
            return set(t.live)
        recv = ev.node.func.value if isinstance(ev.node, ast.Call) and isinstance(ev.node.func, ast.Attribute) else None
        while isinstance(recv, ast.Call) and isinstance(recv.func, ast.Attribute) and recv.func.attr in HAND_WRITE_METHODS:
            recv = recv.func.value  # ``p.data.mul_(m).add_(...)``: the chain writes into ``p.data``
        if isinstance(recv, ast.Attribute) and recv.attr == "data":
            return {r for r, c in t.cut if c.kind == "data"}
    return set()
_PYTYPES = {ast.Tuple: "tuple", ast.List: "list", ast.Set: "set"}
_BUILTIN_CONTAINERS = frozenset({"dict", "list", "tuple", "set"})


def _compare_constants(op: ast.cmpop, a: Val, b: Val) -> Optional[frozenset]:
    """The possible results of ``a <op> b`` when both sides are known constants (``==``, ``!=``, ``is``,
    ``is not``; ``in`` / ``not in`` a literal of constants); None when unknown."""
    if a.consts is None:
        return None
    if isinstance(op, (ast.In, ast.NotIn)):
        if b.items is None or not all(i.consts is not None for i in b.items):
            return None
        pool = frozenset().union(*(i.consts for i in b.items))
        got = frozenset(x in pool for x in a.consts) if all(len(i.consts) == 1 for i in b.items) else None
        if got is None:
            return None
        return frozenset(not g for g in got) if isinstance(op, ast.NotIn) else got
    if b.consts is None:
        return None
    if isinstance(op, (ast.Eq, ast.NotEq)):
        eq = frozenset(x == y for x in a.consts for y in b.consts)
        return eq if isinstance(op, ast.Eq) else frozenset(not e for e in eq)
    if isinstance(op, (ast.Is, ast.IsNot)) and (None in a.consts or None in b.consts):
        if len(a.consts) > 1 and len(b.consts) > 1:
            return None
        same = frozenset((x is None and y is None) if (x is None or y is None) else None for x in a.consts for y in b.consts)
        if None in same:
            return None  # ``"a" is "a"``: identity of strings and ints is not for us to decide
        return same if isinstance(op, ast.Is) else frozenset(not e for e in same)
    return None


def _dotted_attribute(base: ast.expr, path: str) -> ast.Attribute:
    """``base.<path>`` (``self`` + ``"net.token_emb"``) as a loaded attribute node, positioned at ``base``."""
    cur: ast.expr = base
    for part in path.split("."):
        cur = ast.Attribute(value=cur, attr=part, ctx=ast.Load())
        ast.copy_location(cur, base)
    assert isinstance(cur, ast.Attribute)
    return cur


def _input_roots(inputs: Optional[Val]) -> Optional[frozenset]:
    """The roots of what ``torch.autograd.grad`` is asked to differentiate with respect to; None when not known (no
    inputs given, or a value whose roots the walk cannot name)."""
    if inputs is None:
        return None
    parts = inputs.items if inputs.items is not None else (inputs,)
    roots: set = set()
    for p in parts:
        if UNKNOWN in p.live or not p.live:
            return None
        roots |= p.live
    return frozenset(roots)


_SCALAR_TYPE_WORDS = frozenset({"int", "float", "bool", "str", "complex", "None", "Optional", "Union", "Literal", "typing.Optional", "typing.Union", "typing.Literal"})


def _as_annotated(p: ast.arg, v: Val) -> Val:
    """The value a parameter holds, given what it is passed (``v``) and its annotation: one that declares a Python scalar
    (``eos_id: Optional[int]``, ``scale: float``) holds a Python value, never a tensor of the program (its constants kept:
    they decide branches)."""
    ann = p.annotation
    if ann is None or not (v.live or v.cut or v.kind in ("tensor", None)):
        return v
    words = re.findall(r"[A-Za-z_][\w.]*", ast.unparse(ann))
    if not words or not set(words) <= _SCALAR_TYPE_WORDS or not set(words) & {"int", "float", "bool", "str", "complex"}:
        return v
    return Val(kind="python", consts=v.consts)


def related(a: str, b: str) -> bool:
    """Same root, or one is an attribute path of the other (``model`` / ``model.fc``)."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".") or a.startswith(b + "[") or b.startswith(a + "[")


def covers(outer: str, inner: str) -> bool:
    """Is ``inner`` the path ``outer`` or a part of it (``model`` / ``model.fc``, ``model.blocks`` / ``model.blocks[0]``)?
    An element marker (``model.blocks[]``) names the container's elements, which the container covers."""
    outer, inner = outer.replace("[]", ""), inner.replace("[]", "")
    return inner == outer or inner.startswith(outer + ".") or inner.startswith(outer + "[")


@dataclass(frozen=True)
class RootOrigin:
    """How a root object was made: the statement, and the kind / in-file class / leaf flag of the value."""

    stmt: ast.stmt
    kind: Optional[str]
    cls: Optional[str]
    leaf: bool


@dataclass
class GradMode:
    enabled: bool = True
    kind: str = ""  # no_grad | inference
    node: Optional[ast.AST] = None


@dataclass
class BackwardSite:
    node: ast.AST  # the backward()/autograd.grad call, or the returned loss a framework backpropagates
    loss: Val
    loss_expr: ast.AST
    mode: GradMode
    loops: tuple  # enclosing loop nodes, outermost first
    retain_graph: bool
    stmt: Optional[ast.stmt]
    implicit: str = ""  # who backpropagates a returned loss: "Lightning", "the Hugging Face Trainer"
    # (the ``if`` statement, the branch's first statement, the loss's value there) when the loss name was bound on one
    # branch of an ``if`` to a value with no gradient path and on another to one with a path: backward() raises whenever
    # that branch runs (``if self.current_epoch < warmup: loss = histogram_loss(...)``)
    dead_branch: Optional[tuple] = None
    # ``torch.autograd.grad(outputs, inputs)`` (and ``autograd.backward(..., inputs=...)``): the roots of ``inputs``, the
    # only tensors it computes gradients for (it fills no other ``.grad``: nothing else is trained by it); None: every leaf
    wrt: Optional[frozenset] = None
    # ``something.backward(loss)`` on an object of no known kind (a trainer's engine, a loss balancer): what the call
    # returns is that object's business (a framework's ``backward`` returns None, a balancer's the loss it built)
    on_object: bool = False

    @property
    def line(self) -> int:
        return getattr(self.node, "lineno", 0)

    @property
    def label(self) -> str:
        if self.implicit:
            return f"the loss {self.implicit} backpropagates (line {self.line})"
        return f"the loss backpropagated at line {self.line}"


@dataclass
class OptimizerSite:
    node: ast.Call
    covered: frozenset
    name: Optional[str] = None
    stmt: Optional[ast.stmt] = None
    held_out: frozenset = frozenset()  # parts of ``covered`` frozen when it was built from what required grad
    built_by: Optional[ast.AST] = None  # built by a helper: the outermost call of it, where the building runs in order
    left_out: frozenset = frozenset()  # (root, node): parts of a model a filter of its parameter list left out, and where


@dataclass
class Event:
    """Anything a rule may want to look at, recorded during the walk with the abstract values of the moment."""

    what: str  # step, zero_grad, inplace, augassign, grad_read, retain_grad, requires_grad_set, to_call
    node: ast.AST
    stmt: Optional[ast.stmt]
    loops: tuple
    mode: GradMode
    target: Optional[Val] = None
    value: Optional[Val] = None
    name: Optional[str] = None  # receiver / target name when it is a plain name
    extra: Optional[str] = None
    origin: Optional[ast.AST] = None  # what made the op what it is (the ``nn.ReLU(inplace=True)`` a call ran)
    given: Optional[str] = None  # for "replace": the root the new layer was bound to before (``model.fc1 = fc1``: ``fc1``)


@dataclass
class FunctionFlow:
    node: ast.AST  # FunctionDef or Module
    owner: Optional[str]  # class name for methods
    returns: Val = CONST
    backward_sites: list = field(default_factory=list)
    optimizers: list = field(default_factory=list)
    events: list = field(default_factory=list)
    created: set = field(default_factory=set)  # root ids created in this function
    assigned: dict = field(default_factory=dict)  # id(Name node) -> Val at that store
    args: list = field(default_factory=list)  # parameter names (excluding self), in order
    implicit_sites: list = field(default_factory=list)  # returned losses a framework backpropagates
    context: Optional[ast.Call] = None  # the call site whose argument values this flow was analyzed with
    bound_optimizers: list = field(default_factory=list)  # optimizer values that arrive as arguments
    leaves_grad_disabled: Optional[GradMode] = None  # ``torch.set_grad_enabled(False)`` never restored
    leaking_return: Optional[ast.AST] = None  # ... on this early ``return`` (restored on the other paths, perhaps)
    # the class whose instance the roots named ``self.*`` belong to: the owner for a method; for a plain
    # helper analyzed with a method's values (``attend(h, h)`` in ``forward``), that method's class
    self_cls: Optional[str] = None
    decided_ifs: set = field(default_factory=set)  # ids of the ``if`` statements whose test the walk decided (one branch runs)
    # a method walked with its caller's values: the tensors it leaves on its receiver (``self.protos = ...``), by
    # attribute path (``protos``, ``tracker.last``), for the caller's later reads
    attrs_out: dict = field(default_factory=dict)
    saved_params: dict = field(default_factory=dict)  # parameter name -> "in:<op>": an op saved it for backward

    def starved(self, site: BackwardSite) -> dict:
        """Roots that reach ``site``'s loss only through cuts -> the cuts that carried them (of an ``autograd.grad`` site,
        only those among its inputs: it computes no other gradient)."""
        out: dict = {}
        for r, c in site.loss.cut:
            if r == UNKNOWN or r.startswith("arg:"):
                continue
            if site.wrt is not None and not any(related(r, w) for w in site.wrt):
                continue
            if any(related(r, lv) for lv in site.loss.live):
                continue
            out.setdefault(r, set()).add(c)
        return out

    @property
    def loss_sites(self) -> list:
        """Every loss backpropagated here: explicit ``backward()`` calls and returned losses a framework
        backpropagates."""
        return self.backward_sites + self.implicit_sites

    def live_anywhere(self, root: str) -> bool:
        return any(any(related(root, lv) for lv in s.loss.live) for s in self.loss_sites)


# a type annotation that may name a tensor (``torch.Tensor``, ``Optional[Tensor]``, ``nn.Parameter``, ``Any``, an array)
_MAY_BE_TENSOR = re.compile(r"Tensor|Parameter|Variable|\bAny\b|[Aa]rray|object")
_SELF_BEFORE = re.compile(r"(?<![\w.])self$")  # (searched up to a ``.<attr> =`` match: its receiver is ``self``)
_ATTRIBUTE_WRITE = re.compile(r"\.([A-Za-z_]\w*)\s*(?:[-+*/%@&|^]|//|\*\*|<<|>>)?=(?!=)")


class _Return(Exception):
    pass


class _Syntax:
    """``GradientFlow.syntax_of``: three textual facts about a function, each computed on first use and kept in
    ``known`` (the engine's list for the function: the three facts, then the function's unparsed text)."""

    __slots__ = ("e", "fn", "_got")

    def __init__(self, engine: GradientFlow, fn: ast.AST, known: list) -> None:
        self.e = engine
        self.fn = fn
        self._got = known

    def __getitem__(self, i: int) -> bool:
        got = self._got[i]
        if got is None:
            got = self._got[i] = bool(self._compute(i))
        return got

    def _compute(self, i: int) -> bool:
        e, fn = self.e, self.fn
        if e.lines is not None and hasattr(fn, "lineno"):
            ti = e.text()
            text = ti.text
            s, end = ti.span(fn)
            if i == 0:
                backprop = text.find("backward(", s, end) != -1 or text.find(".grad(", s, end) != -1
            elif i == 1:
                # (the dot-first pattern is searched several times faster; a scope with one of its matches
                # is then searched with the full pattern)
                return ti.search(_ATTR_FROM_CALL_DOT, fn) and _ATTR_FROM_CALL.search(text, s, end) is not None
            else:
                # modifies a tensor in place that an op may have saved (``diff.pow(2)`` ... ``diff.abs_()``, or
                # ``attn = scores.softmax(-1)`` ... ``attn.masked_fill_(...)``)
                return ti.search(_INPLACE_CALL, fn) and any(text.find(f"{op}(", s, end) != -1 for op in _SAVING_OPS)
        else:
            if self._got[3] is None:
                self._got[3] = ast.unparse(fn)
            body = self._got[3]
            if i == 0:
                backprop = "backward(" in body or ".grad(" in body
            elif i == 1:
                return _ATTR_FROM_CALL.search(body) is not None
            else:
                return _INPLACE_CALL.search(body) is not None and any(f"{op}(" in body for op in _SAVING_OPS)
        owner = e.modules.classes.get(e.owner.get(id(fn), ""))
        if owner is not None and owner.framework and getattr(fn, "name", "") in ("training_step", "compute_loss", "forward"):
            backprop = True  # a framework backpropagates what it returns
        return backprop


class GradientFlow:
    """Analyzes the functions of one file on demand; summaries are cached per function node."""

    MAX_DEPTH = 6

    def __init__(self, tree: ast.Module, imports: Imports, modules: ModuleModel, lines: Optional[list] = None) -> None:
        self.tree = tree
        self.straight_through: set = set()  # ids of the ``.detach()`` calls of straight-through estimators walked so far
        self.lines = lines
        self.text_index: Optional[TextIndex] = None  # set by FileFacts (shared); built here on first use otherwise
        self.hooks: Optional[Any] = None  # the module hooks of the program (``core.hooks.Hooks``), set by FileFacts
        self.imports = imports
        self.modules = modules
        self.functions: dict[str, ast.FunctionDef] = {}
        for st in tree.body:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[st.name] = st  # type: ignore[assignment]
        self.owner: dict[int, str] = {}
        for info in modules.classes.values():
            for m in info.methods.values():
                self.owner[id(m)] = info.name
        self._flows: dict[int, FunctionFlow] = {}
        self._in_progress: set = set()
        self._contexts: dict = {}
        self._attr_cache: dict = {}
        self._stores: dict = {}  # id(method) -> {attr: its ``self.attr`` assignment targets}
        self._syntax: dict = {}
        self._dropped: dict = {}  # autograd.Function class -> dropped_gradients
        # (the text index through a weak reference: no cycle back to the engine, which would keep trees alive)
        self.constructions = Constructions(modules, tree, weakref.WeakMethod(self.text) if lines is not None else None)  # constants reaching attributes through constructors
        self.root_origins: dict[str, RootOrigin] = {}  # root created by a statement -> how it was made
        self.own_text: Optional[str] = None  # the file's own text when the workspace linker appended definitions
        self.touches_requires_grad: dict[int, bool] = {}  # id(function) -> its text mentions requires_grad
        self.hand_writes: dict[int, tuple] = {}  # id(function) -> roots whose parameters it writes outside autograd
        self._hand_writers: Optional[frozenset] = None  # names of the functions that may write parameters by hand
        self.context_flows: list[FunctionFlow] = []  # functions analyzed with their callers' argument values
        # id(call) -> (call, [the context flow of each walk of that call to a function that may backpropagate,
        # None for a walk that used the summary])
        self.call_contexts: dict = {}

    # -- public -----------------------------------------------------------------------------------
    def flow(self, node: ast.AST) -> FunctionFlow:
        key = id(node)
        if key in self._flows:
            return self._flows[key]
        if key in self._in_progress or len(self._in_progress) > self.MAX_DEPTH:
            return FunctionFlow(node, self.owner.get(key), returns=Val(frozenset({UNKNOWN}), kind="tensor"))
        self._in_progress.add(key)
        try:
            fl = _Walker(self, node).run()
        finally:
            self._in_progress.discard(key)
        self._flows[key] = fl
        return fl

    MAX_CONTEXTS = 64
    TRAINING_KINDS = ("optimizer", "scheduler", "accelerator", "fabric", "scaler")

    def module_constant(self, name: str) -> Optional[Val]:
        """The value of a module-level name bound once, at the top level, to a literal (``PHASE = "training"``,
        ``CONFIG = {"phases": {"fit": "training"}, "lr": 0.1}``) and bound nowhere else in the file (no other top-level
        binding, no ``global`` statement naming it): what a function reading it sees. None for any other name.
        (Decided per name on its first query: most names a function reads are no such literal, and are answered
        from the top-level statements alone.)"""
        literals = self._syntax.get(("module_literals",))
        if literals is None:
            literals = self._syntax[("module_literals",)] = self._module_literals()
        value = literals.get(name)
        if value is None:
            return None
        key = ("module_constant", name)
        if key not in self._syntax:
            self._syntax[key] = _literal_val(value) if self._stays_constant(name, value) else None
        return self._syntax[key]

    def _module_literals(self) -> dict:
        """name -> value of each top-level ``name = <literal>`` (the name's only single-name binding at the top level)."""
        once: dict = {}
        twice: set = set()
        for st in self.tree.body:
            if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
                name = st.targets[0].id
                if name in once:
                    twice.add(name)
                once[name] = st.value
        return {k: v for k, v in once.items() if k not in twice and isinstance(v, (ast.Constant, ast.Dict, ast.List, ast.Tuple))}

    def _stays_constant(self, name: str, value: ast.AST) -> bool:
        """Is the top-level literal ``name`` bound nowhere else (another top-level statement, a ``global``) and, for a
        dict or list, never written, updated or passed on?"""
        rebound = self._syntax.get(("module_rebound",))
        if rebound is None:
            rebound = set()
            for st in self.tree.body:
                if isinstance(st, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.If, ast.Try)) and not (
                    isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name)
                ):
                    rebound.update(n.id for n in walk_nodes(st) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
                elif isinstance(st, (ast.Import, ast.ImportFrom)):
                    rebound.update((a.asname or a.name).split(".")[0] for a in st.names)
            if self.lines is not None and any("global" in line for line in self.lines):
                rebound.update(g for n in walk_nodes(self.tree) if isinstance(n, ast.Global) for g in n.names)
            self._syntax[("module_rebound",)] = rebound
        if name in rebound:
            return False
        if not isinstance(value, (ast.Dict, ast.List)):
            return True
        # (a dict or list another module defines, which the workspace linker copied here, may be written by modules this
        # file does not see, ``SETTINGS["lr"] = args.lr`` in a launcher: only the file's own are read as constants)
        if self.own_text is not None and value.lineno > self.own_text.count("\n") + (not self.own_text.endswith("\n")):
            return False
        # a dict or list is a constant only while nothing can change it: every use reads an entry (``CONFIG["phases"]["fit"]``,
        # ``CONFIG.get("lr")``), or hands it to in-file functions and classes that only read it (``build_optimizer(model,
        # CONFIG)`` reading ``cfg["param_groups"].items()``); written, updated or handed to code not followed, it is not
        return self.constructions.table_unwritten(value)

    def plain_number_attribute(self, cls: str, attr: str) -> bool:
        """Does ``self.<attr>`` of ``cls`` hold a Python constant (a number, string, bool or None) wherever it is read: every
        value the class assigns it is one, through its constructors' arguments (``Constructions.attr_values``), no in-file
        subclass assigns it, and nothing in the file writes ``.<attr>`` outside the class (``model.cutoff =
        nn.Parameter(...)``, ``setattr``)? Only with the file's text."""
        key = ("plain_number_attribute", cls, attr)
        got = self._syntax.get(key)
        if got is None:
            got = self._syntax[key] = self._plain_number_attribute(cls, attr)
        return bool(got)

    def _plain_number_attribute(self, cls: str, attr: str) -> bool:
        if self.lines is None or self.subclass_sets(cls, attr):
            return False
        consts = self.constructions.attr_values(cls, attr)
        if not consts or not all(c is None or isinstance(c, (bool, int, float, str)) for c in consts):
            return False
        writes = self._syntax.get(("attribute_writes",))
        if writes is None:
            # (one pass over the text: the lines of every ``.<name> =`` / ``.<name> += ...``; None when ``setattr`` is used)
            text = self.text().text
            writes = {}
            if "setattr(" not in text:
                line, at = 1, 0
                for m in _ATTRIBUTE_WRITE.finditer(text):
                    line += text.count("\n", at, m.start())
                    at = m.start()
                    writes.setdefault(m.group(1), []).append((line, _SELF_BEFORE.search(text, max(0, m.start() - 5), m.start()) is not None))
            else:
                writes = None
            self._syntax[("attribute_writes",)] = writes if writes is not None else False
        if not writes:
            return writes == {}  # (no write at all: a value only ``__init__`` assigns through ``setattr``-free code)
        node = self.modules.classes[cls].node
        first, last = node.lineno, node.end_lineno or node.lineno
        # (``self.cutoff = cutoff`` in another class of the file, not a subclass: that class's own attribute)
        others = [(o.node.lineno, o.node.end_lineno or o.node.lineno) for o in self.modules.classes.values() if o.name != cls and not (o.node.lineno <= first and last <= (o.node.end_lineno or o.node.lineno))]
        return all(first <= line <= last or (own and any(a <= line <= b for a, b in others)) for line, own in writes.get(attr, ()))

    def subclass_sets(self, cls: str, attr: str) -> bool:
        """Does an in-file subclass of ``cls`` assign ``self.<attr>`` too (cached: the classes do not change)?"""
        key = ("subclass_sets", cls, attr)
        got = self._syntax.get(key)
        if got is None:
            modules = self.modules
            got = self._syntax[key] = any(other.name != cls and attr in other.attrs and cls in _all_bases(modules, other.name) for other in modules.classes.values())
        return bool(got)

    def hand_writers(self) -> frozenset:
        """Names of the functions that may write parameters by hand (see ``Walker.hand_written``): those whose text
        spells a ``.data`` or an in-place write, and, transitively, those whose text calls one of them by name. A text
        closure, so that a call of any other function costs nothing."""
        if self._hand_writers is None:
            # (functions are statements: the statement walk finds them all, without walking expressions)
            fns = statements_of_type(self.tree, (ast.FunctionDef, ast.AsyncFunctionDef))
            if self.lines is None:
                self._hand_writers = frozenset(f.name for f in fns)
                return self._hand_writers
            text = self.text()
            names = {f.name for f in fns if text.search(HAND_WRITE_WORDS, f)}
            new = names
            while new:
                # a function not added in the last round calls none of the names known before it: only the calls
                # of the names added since can add it now (the same closure, each name searched for once)
                calls = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in sorted(new)) + r")\s*\(")
                new = {f.name for f in fns if f.name not in names and text.search(calls, f)}
                names |= new
            self._hand_writers = frozenset(names)
        return self._hand_writers

    def text(self) -> TextIndex:
        """The file's text index, built on first use (only when ``lines`` are known)."""
        if self.text_index is None:
            lines = self.lines or []
            self.text_index = TextIndex("".join(lines), lines)
        return self.text_index

    def syntax_of(self, fn: ast.AST) -> _Syntax:
        """Cheap textual facts about a function, cached, each computed when first asked: [0] may backpropagate,
        [1] assigns an attribute from a call, [2] modifies in place next to an op that saves its input -- so
        callers skip analyses that cannot apply."""
        known = self._syntax.get(id(fn))
        if known is None:
            known = self._syntax[id(fn)] = [None, None, None, None]
        return _Syntax(self, fn, known)  # (not kept: it refers to the engine, which must stay free of cycles)

    def _spells(self, fn: ast.AST, pattern: re.Pattern) -> bool:
        """Does the text of ``fn`` match ``pattern`` (its lines in the file, else its unparsed source)?"""
        if self.lines is not None and hasattr(fn, "lineno"):
            return bool(self.text().search(pattern, fn))
        return pattern.search(ast.unparse(fn)) is not None

    def _spells_cached(self, fn: ast.AST, kind: str, pattern: re.Pattern) -> bool:
        key = (kind, id(fn))
        got = self._syntax.get(key)
        if got is None:
            got = self._syntax[key] = self._spells(fn, pattern)
        return bool(got)

    def modifies_in_place(self, fn: ast.AST) -> bool:
        """Does the function's text hold an in-place call or an augmented assignment (cached)?"""
        return self._spells_cached(fn, "inplace", _INPLACE_CALL)

    def calls_optimizer_ctor(self, fn: ast.AST) -> bool:
        """Does the function's text name an optimizer (``optim.``, ``Adam``, ``SGD``) (cached)?"""
        return self._spells_cached(fn, "optimizer", _OPTIMIZER_TEXT)

    def calls_step(self, fn: ast.AST) -> bool:
        """Does the function's text call a ``.step(`` method (cached)?"""
        return self._spells_cached(fn, "step", _STEP_CALL)

    def checkpoints(self, fn: ast.AST) -> bool:
        """Does the function's text call activation checkpointing (``checkpoint(self.stem, x, ...)``)? Whether the
        reentrant kind gives the checkpointed parameters a gradient depends on what the caller passes (cached)."""
        key = ("checkpoint", id(fn))
        got = self._syntax.get(key)
        if got is None:
            self._syntax[key] = False  # (recursion guard)
            got = self._spells(fn, _CHECKPOINT_CALL)
            if not got and isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and self.owner.get(id(fn)):
                # a method that runs its stages through a helper of its class that checkpoints (``self._run(self.conv_in,
                # sample)``): what the caller passes decides the helper's inputs too
                owner = self.owner[id(fn)]
                got = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == "self"
                          and (m := self.modules.method(owner, n.func.attr)) is not None and m is not fn and self.checkpoints(m)
                          for n in walk_nodes(fn))
            self._syntax[key] = got
        return bool(got)

    def writes_into_saved_argument_result(self, fn: ast.AST) -> bool:
        """Does the function, in grad mode, write in place into a tensor an op saved for backward that it computed from
        its arguments (``y = p.sigmoid(); y[..., :2] = ...`` in ``decode(p)``)? Whether that raises depends on whether
        the caller's argument requires grad (cached; its summary's events say)."""
        key = ("writes_saved_arg", id(fn))
        got = self._syntax.get(key)
        if got is None:
            self._syntax[key] = False  # (recursion guard)
            got = self._syntax[key] = any(
                ev.what == "inplace" and ev.mode.enabled and ev.target is not None and (ev.target.saved_output or ev.target.multi_view)
                and ev.target.live and all(r.startswith("arg:") for r in ev.target.live)
                for ev in self.flow(fn).events
            ) or self._calls_writer_of_saved_argument_result(fn)
        return bool(got)

    def _calls_writer_of_saved_argument_result(self, fn: ast.AST) -> bool:
        """Does ``fn`` hand one of its parameters (an expression that names it) to a method of its class or a function of
        the file that writes into a saved result of its argument (``forward(x)`` calling ``self.basis(x)``, whose ``phi =
        torch.exp(...)`` is then written in place)?"""
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        params = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs} - {"self"}
        owner = self.owner.get(id(fn))
        for n in walk_nodes(fn):
            if not isinstance(n, ast.Call) or not any(isinstance(x, ast.Name) and x.id in params for a in n.args for x in walk_nodes(a)):
                continue
            callee = None
            if isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == "self" and owner:
                callee = self.modules.method(owner, n.func.attr)
            elif isinstance(n.func, ast.Name):
                callee = self.functions.get(n.func.id)
            if callee is not None and callee is not fn and self.writes_into_saved_argument_result(callee):
                return True
        return False

    def writes_into_argument(self, fn: ast.AST) -> bool:
        """Does the function modify one of its parameters in place (``h[mask] = 0.0``, ``h.clamp_(...)``, ``h += b``
        on a parameter ``h``)? Then it modifies the caller's tensor itself: Python passes the object, not a copy
        (cached; only asked at a call given a tensor an op saved for backward)."""
        key = ("writes_arg", id(fn))
        got = self._syntax.get(key)
        if got is None:
            if self.lines is not None and hasattr(fn, "lineno") and not self.text().search(_WRITE_SYNTAX, fn):
                got = self._syntax[key] = frozenset()  # (no in-place syntax in its text: no walk)
            else:
                got = self._syntax[key] = argument_writes(fn)
        return bool(got)

    def _may_build_training_object(self, v: ast.AST) -> bool:
        """Could this assigned value be an optimizer / scheduler / framework object? (a constructor of one,
        or a call of this program's own code that may return one; never a module constructor; also either branch of
        ``StepLR(...) if use_schedule else None``)."""
        if isinstance(v, ast.IfExp):
            return any(self._may_build_training_object(b) for b in (v.body, v.orelse))
        if not isinstance(v, ast.Call):
            return False
        q = self.imports.qualname(v.func)
        if q is None:  # a function or method of this program that may build one
            return not (isinstance(v.func, ast.Name) and v.func.id in self.modules.classes)
        return is_optimizer_ctor(q) or is_scheduler_ctor(q) or q in FRAMEWORK_OBJECTS

    def inference_attribute(self, cls: str, attr: str) -> Optional[Val]:
        """``self.<attr>`` when every method of ``cls`` that assigns it (``__init__`` aside, which may only
        set a constant) computes it under inference mode from the model (``self.prototypes = ...`` in a
        Lightning ``validation_step``, an ``@torch.inference_mode()`` method): an inference tensor, whose
        inference cuts are re-anchored at the assignment that keeps it. None otherwise."""
        key = ("inference", cls, attr)
        if key in self._attr_cache:
            return self._attr_cache[key]
        self._attr_cache[key] = None  # recursion guard
        info = self.modules.classes.get(cls)
        found: Optional[Val] = None
        if info is not None and attr in info.attrs and self._has_inference_method(info):
            cuts: set = set()
            ok = True
            for mname, m in info.methods.items():
                stores = self._self_stores(m).get(attr, ())
                if not stores:
                    continue
                if mname == "__init__":
                    if any(v is not None and not (isinstance(v, ast.Constant)) for v in info.attr_values.get(attr, []) if self.owner.get(id(m)) == cls and _within(v, m)):
                        ok = False
                    continue
                fl = self.flow(m)
                evs = [e for e in fl.events if e.what == "attr_assign" and e.name == attr and e.target is not None and e.target.ident == "self"]
                if evs and not any(c.kind == "inference" for e in evs if e.value is not None for _r, c in e.value.cut):
                    # a helper of the class that only inference-mode methods call runs under inference mode too
                    via = self._called_only_under_inference(info, mname)
                    ctx = self.flow_in_context(m, via[0], {"self": Val(frozenset({"self"}), kind="module", cls=cls, ident="self")}, via[1]) if via is not None else None
                    if ctx is not None:
                        # (the helper's arguments are no roots of the methods that read the attribute)
                        evs = [replace(e, value=replace(e.value, cut=frozenset((UNKNOWN if r.startswith("arg:") else r, c) for r, c in e.value.cut)) if e.value is not None else None)
                               for e in ctx.events if e.what == "attr_assign" and e.name == attr and e.target is not None and e.target.ident == "self"]
                if len(evs) != len(stores) or not evs:
                    ok = False
                    break
                for e in evs:
                    # (the attribute's own earlier value, a running average's, is not a parameter it starves)
                    inf = {(r, c) for r, c in (e.value.cut if e.value is not None else ()) if c.kind == "inference" and r != f"self.{attr}"}
                    if not inf or (e.value is not None and e.value.live):
                        ok = False
                        break
                    st = e.stmt or e.node
                    for r, c in inf:
                        # (where inference mode came from, a decorator or a ``with`` of a helper, stays on the path)
                        first = (c.node,) if isinstance(c.node, ast.Call) and c.node.lineno != getattr(st, "lineno", None) else ()
                        cuts.add((r, replace(c, node=st, detail=f"`self.{attr}`, computed under inference mode in `{mname}`", via=(*first, *c.via))))
                if not ok:
                    break
            if ok and cuts:
                found = Val(frozenset(), frozenset(cuts), kind="tensor")
        self._attr_cache[key] = found
        return found

    def none_branches(self, fn: ast.AST) -> tuple:
        """The parameters of ``fn`` an ``if <p> is not None:`` / ``if <p> is None:`` statement of its own tests, when the
        branch calls a part of ``self`` (``cond = cond + self.stop_embed(s)``): which parts the call reaches depends on
        whether the caller passes them."""
        key = ("none_branches", id(fn))
        if key in self._attr_cache:
            return self._attr_cache[key]
        got: list = []
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and (self.lines is None or self.text().search(_IS_NONE_TEST, fn)):
            params = {x.arg for x in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
            for st in statements_of_type(fn, ast.If):
                t = st.test
                if isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], (ast.Is, ast.IsNot)) and isinstance(t.left, ast.Name) \
                        and t.left.id in params and isinstance(t.comparators[0], ast.Constant) and t.comparators[0].value is None and t.left.id not in got:
                    body = st.body if isinstance(t.ops[0], ast.IsNot) else st.orelse
                    if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Attribute)
                           and isinstance(n.func.value.value, ast.Name) and n.func.value.value.id == "self" or
                           isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == "self"
                           for b in body for n in walk_nodes(b)):
                        got.append(t.left.id)
        self._attr_cache[key] = tuple(got)
        return self._attr_cache[key]

    def flag_branches(self, fn: ast.AST) -> tuple:
        """The parameters of ``fn`` an ``if <p>:`` / ``if not <p>:`` statement or a ``a if <p> else b`` of its own tests, when a
        branch calls a part of ``self`` the other does not (``h = self.bn_aux(h) if adv else self.bn_main(h)``): which parts
        the call reaches depends on the flag the caller gives (or leaves at its default)."""
        key = ("flag_branches", id(fn))
        if key in self._attr_cache:
            return self._attr_cache[key]
        got: list = []
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            params = {x.arg for x in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
            for n in walk_nodes(fn):
                if not isinstance(n, (ast.If, ast.IfExp)):
                    continue
                t = n.test.operand if isinstance(n.test, ast.UnaryOp) and isinstance(n.test.op, ast.Not) else n.test
                if not (isinstance(t, ast.Name) and t.id in params and t.id not in got):
                    continue
                sides = [n.body, n.orelse] if isinstance(n, ast.IfExp) else [n.body, n.orelse]
                parts = [_self_parts_called(side if isinstance(side, list) else [side]) for side in sides]
                if parts[0] != parts[1]:
                    got.append(t.id)
        self._attr_cache[key] = tuple(got)
        return self._attr_cache[key]

    def pre_hooks(self, cls: str, attr: str) -> tuple:
        """The functions registered with ``register_forward_pre_hook`` on the layer ``self.<attr>`` of class ``cls`` holds
        (its one constructor call): torch runs each before the layer's ``forward``, and a value it returns replaces the
        layer's input."""
        key = ("pre_hooks", cls, attr)
        if key in self._attr_cache:
            return self._attr_cache[key]
        got: tuple = ()
        if self.hooks is not None and self.text().search(_PRE_HOOK_WORD, self.tree):
            _owner, values = self.modules._assigned_through_bases(cls, attr)
            if len(values) == 1:
                got = tuple(r.hook for r in self.hooks.registrations() if r.kind == "forward_pre" and r.hook is not None and any(la.ctor is values[0] for la in r.layers))
        self._attr_cache[key] = got
        return got

    def hook_attribute(self, cls: str, attr: str) -> Optional[Val]:
        """``self.<attr>`` when the class keeps it from a forward hook of its own: a method (or a function nested in
        one) registered with ``<part>.register_forward_hook(self.<hook>)`` on a part of the object, which assigns
        ``self.<attr>`` from the output it is given; any other assignment is ``None``. The hook runs on every call
        of that part, so the attribute holds what the hook made of the part's output: it carries the part's
        parameters, or cuts them (``self.latents = output.detach()``). In terms of ``self``; None otherwise."""
        key = ("hook", cls, attr)
        if key in self._attr_cache:
            return self._attr_cache[key]
        self._attr_cache[key] = None  # recursion guard
        info = self.modules.classes.get(cls)
        found: Optional[Val] = None
        hooks = self._forward_hooks(cls) if info is not None and attr in info.attrs and not self.subclass_sets(cls, attr) else ()
        if hooks and all(_is_none(v) or any(_within(v, fn) for fn, _part in hooks) for v in info.attr_values.get(attr, ())):  # type: ignore[union-attr]
            vals: list = []
            for fn, part in hooks:
                for e in self.flow(fn).events:
                    if e.what != "attr_assign" or e.name != attr or e.target is None or e.target.ident != "self" or e.value is None:
                        continue
                    v = e.value
                    if v.kind == "none":
                        continue
                    roots = v.roots()
                    if v.kind != "tensor" or any(r.startswith("arg:") and r != "arg:2" for r in roots) or not all(r == "arg:2" or r == UNKNOWN or r == "self" or r.startswith("self.") for r in roots):
                        vals = []
                        break
                    # the hook's third argument is the output of the part it is registered on
                    live = frozenset(x for r in v.live for x in (part if r == "arg:2" else (r,)))
                    cut = frozenset((x, c) for r, c in v.cut for x in (part if r == "arg:2" else (r,)))
                    vals.append(Val(live, cut, kind="tensor"))
                else:
                    continue
                break
            if vals:
                found = join(*vals) if len(vals) > 1 else vals[0]
        self._attr_cache[key] = found
        return found

    def _forward_hooks(self, cls: str) -> tuple:
        """``(hook function, roots of the part it is registered on)`` for each ``<part>.register_forward_hook(h)``
        a method of ``cls`` makes on a part of the object (``self.encoder.norm``, or a part of a constructor
        argument the class keeps as ``self.encoder``), ``h`` being a method of the class (``self._keep``) or a
        function nested in that method. Cached per class."""
        key = ("forward_hooks", cls)
        got = self._attr_cache.get(key)
        if got is not None:
            return got
        self._attr_cache[key] = ()
        out = []
        info = self.modules.classes[cls]
        if self.text().search(_FORWARD_HOOK_WORD, info.node) if self.lines is not None else "register_forward_hook" in ast.unparse(info.node):
            for m in info.methods.values():
                if id(m) in self._in_progress:
                    continue
                fl = self.flow(m)
                kept: dict = {}  # constructor argument root -> the attribute that keeps it
                for e in fl.events:
                    if e.what == "attr_assign" and e.target is not None and e.target.ident == "self" and e.value is not None and len(e.value.live) == 1 and not e.value.cut:
                        (r,) = e.value.live
                        if r.startswith("arg:"):
                            kept.setdefault(r, f"self.{e.name}")
                for e in fl.events:
                    if e.what != "forward_hook" or e.target is None:
                        continue
                    h = e.node.args[0]
                    fn: Optional[ast.AST] = None
                    if isinstance(h, ast.Attribute) and isinstance(h.value, ast.Name) and h.value.id == "self":
                        fn = info.methods.get(h.attr)
                    elif isinstance(h, ast.Name):
                        fn = next((d for d in walk_nodes(m) if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef)) and d.name == h.id and d is not m), None)
                    part = frozenset(kept.get(r, r) for r in e.target.live)
                    if fn is not None and part and all(r == "self" or r.startswith("self.") for r in part) and not e.target.cut:
                        out.append((fn, part))
        got = self._attr_cache[key] = tuple(out)
        return got

    def constant_self_sets(self, m: ast.AST) -> tuple:
        """``({attr: constant Val}, {attr, ...})`` for a method: the attributes of ``self`` it sets to a constant (bool, int,
        str, None) by a statement of its top level, and those it sets any other way (elsewhere, or to another value), whose
        value after a call is then not known. Cached per method (asked at every call of it on a named object)."""
        key = ("constant_self_sets", id(m))
        got = self._attr_cache.get(key)
        if got is None:
            constants: dict = {}
            kept: set = set()
            for st in getattr(m, "body", ()):
                if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Attribute) and isinstance(st.targets[0].value, ast.Name) \
                        and st.targets[0].value.id == "self" and isinstance(st.value, ast.Constant) and isinstance(st.value.value, (bool, int, str, type(None))):
                    constants[st.targets[0].attr] = constant(st.value.value)
                    kept.add(id(st.targets[0]))
            changed = {attr for attr, nodes in self._self_stores(m).items() if any(id(n) not in kept for n in nodes)}
            got = self._attr_cache[key] = ({a: v for a, v in constants.items() if a not in changed}, frozenset(changed))
        return got

    def reads_training(self, cls: str) -> bool:
        """Does a method of ``cls`` or of an in-file class it holds as a part (at any depth) read ``self.training``? Cached."""
        key = ("reads_training", cls)
        got = self._attr_cache.get(key)
        if got is None:
            self._attr_cache[key] = False  # (recursion guard)
            info = self.modules.classes.get(cls)
            got = False
            if info is not None:
                got = any(isinstance(n, ast.Attribute) and n.attr == "training" and isinstance(n.value, ast.Name) and n.value.id == "self"
                          for m in info.methods.values() for n in walk_nodes(m))
                if not got:
                    for a in info.attrs:
                        acls, elem = self.modules.attr_class(cls, a)
                        if any(c and c != cls and self.reads_training(c) for c in (acls, elem)):
                            got = True
                            break
            self._attr_cache[key] = got
        return got

    def lightning_callbacks(self) -> list:
        """The in-file Lightning ``Callback`` classes (directly or through in-file bases), cached."""
        key = ("lightning_callbacks",)
        got = self._attr_cache.get(key)
        if got is None:
            got = self._attr_cache[key] = [info for info in self.modules.classes.values() if self.modules.derives_from(info.name, LIGHTNING_CALLBACK_BASES)]
        return got

    def callbacks_leave_grad_disabled(self, framework: str) -> Optional[GradMode]:
        """Grad mode left off (``torch.set_grad_enabled(False)`` never restored, in the hook or in a helper or a method of
        an object it calls) by a hook of an in-file callback class the file builds, that the framework runs between
        training steps: a Lightning ``Callback`` (``framework`` "lightning") or a Hugging Face ``TrainerCallback`` ("hf").
        Grad mode is global: the training steps after it compute without a graph. Cached."""
        key = ("callback_grad_leak", framework)
        if key in self._attr_cache:
            return self._attr_cache[key]
        self._attr_cache[key] = None  # (a walk that reaches here again sees none)
        bases, hooks = (LIGHTNING_CALLBACK_BASES, LIGHTNING_CALLBACK_TRAINING_HOOKS) if framework == "lightning" else (HF_CALLBACK_BASES, HF_CALLBACK_EVENTS_DURING_TRAINING)
        got: Optional[GradMode] = None
        one_epoch = self._single_epoch(framework)
        for info in self.modules.classes.values():
            if got is not None:
                break
            if not self.modules.derives_from(info.name, bases) or not self.constructions.sites(info.name):
                continue
            for name in hooks:
                if one_epoch and name in ("on_train_epoch_end", "on_epoch_end"):
                    continue  # (after the last epoch: no training step follows)
                m = self.modules.method(info.name, name)
                if not isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                got = self.flow(m).leaves_grad_disabled
                if got is not None:
                    break
        self._attr_cache[key] = got
        return got

    def _single_epoch(self, framework: str) -> bool:
        """Does every trainer the file configures run one epoch (``pl.Trainer(max_epochs=1)``,
        ``TrainingArguments(num_train_epochs=1)``)?"""
        word, ctor = ("max_epochs", "Trainer") if framework == "lightning" else ("num_train_epochs", "TrainingArguments")
        calls = [c for c in walk_nodes(self.tree) if isinstance(c, ast.Call) and (c.func.attr if isinstance(c.func, ast.Attribute) else getattr(c.func, "id", "")) == ctor]
        if not calls:
            return False
        for c in calls:
            given = next((k.value for k in c.keywords if k.arg == word), None)
            if not (isinstance(given, ast.Constant) and given.value == 1):
                return False
        return True

    def callback_hook_flow(self, hook: ast.AST, callback_cls: str, module_cls: str) -> Optional[FunctionFlow]:
        """A Lightning Callback's hook ``(self, trainer, pl_module, ...)`` as the Trainer runs it, with ``pl_module`` the
        module of ``module_cls`` (its roots ``self...``); None for a hook of another shape (or when contexts are spent)."""
        if not isinstance(hook, (ast.FunctionDef, ast.AsyncFunctionDef)) or len(hook.args.args) < 3:
            return None
        module = Val(frozenset({"self"}), kind="module", cls=module_cls, ident="self")
        return self.flow_in_context(hook, None, {"self": Val(kind="instance", cls=callback_cls), 1: module}, GradMode())

    def callback_events_before_optimizers(self, module_cls: str) -> list:
        """The events of the hooks of the file's Lightning Callbacks that the Trainer runs before ``configure_optimizers``
        (``setup(trainer, pl_module, stage)``), walked with ``pl_module`` as the module of ``module_cls`` (roots ``self...``)."""
        out: list = []
        for cb in self.lightning_callbacks():
            for name in RUN_BEFORE_OPTIMIZERS.get("lightning", ()):
                fl = self.callback_hook_flow(cb.methods.get(name), cb.name, module_cls) if name != "__init__" else None
                if fl is not None:
                    out.extend(fl.events)
        return out

    def rebound_names(self, fn: ast.AST) -> frozenset:
        """The names ``fn`` assigns (its parameters among them when rebound: ``coords = deepcopy(coords)``), cached."""
        key = ("rebound", id(fn))
        got = self._attr_cache.get(key)
        if got is None:
            got = self._attr_cache[key] = frozenset(n.id for n in walk_nodes(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
        return got

    def attribute_reads(self, fn: ast.AST, name: str) -> frozenset:
        """The attributes ``fn`` reads from ``name`` (``name.<attr>`` loaded, or the base of a longer path), cached."""
        key = ("attribute_reads", id(fn), name)
        got = self._attr_cache.get(key)
        if got is None:
            got = self._attr_cache[key] = frozenset(
                _path_after(n, name)
                for n in walk_nodes(fn)
                if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load) and _path_after(n, name) is not None
            )
        return got

    def _self_stores(self, m: ast.AST) -> dict:
        """``self.<attr>`` assignment targets in ``m`` (nested scopes included), by attribute name, in
        ``ast.walk`` order: one walk per method, however many attributes are asked about (cached)."""
        got = self._stores.get(id(m))
        if got is None:
            got = {}
            for n in walk_nodes(m):
                if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name) and n.value.id == "self":
                    got.setdefault(n.attr, []).append(n)
            self._stores[id(m)] = got
        return got

    def _called_only_under_inference(self, info, mname: str) -> Optional[tuple]:
        """``(call, mode)`` when method ``mname`` of the class is a helper no framework calls by its name and every
        mention of it in the file is a call ``self.<mname>(...)`` made directly (outside any ``with`` block) in a
        method of the class that runs wholly under inference mode (a Lightning evaluation step, an
        ``@torch.inference_mode()`` method): then the helper runs under inference mode, whatever it computes is an
        inference tensor. None otherwise."""
        key = ("only_inference", info.name, mname)
        if key not in self._attr_cache:
            self._attr_cache[key] = self._find_only_inference_calls(info, mname)
        return self._attr_cache[key]

    def _find_only_inference_calls(self, info, mname: str) -> Optional[tuple]:
        if _FRAMEWORK_HOOK.match(mname):
            return None
        found: Optional[tuple] = None
        calls = 0
        for cname, caller in info.methods.items():
            if cname == mname:
                continue
            mode = _decorator_mode(self.imports, caller)
            if mode.enabled and mode.kind != "enable_grad" and info.framework == "lightning" and cname in LIGHTNING_INFERENCE_STEPS:
                mode = GradMode(False, "inference", caller)
            withs: Optional[list] = None  # (the method's ``with`` blocks: looked for at its first call of the helper)
            for n in walk_nodes(caller):
                if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == mname and isinstance(n.func.value, ast.Name) and n.func.value.id == "self"):
                    continue
                if withs is None:
                    withs = [w for w in walk_nodes(caller) if isinstance(w, (ast.With, ast.AsyncWith))]
                if mode.kind != "inference" or mode.enabled or any(w.lineno <= n.lineno <= (w.end_lineno or w.lineno) for w in withs):
                    return None
                calls += 1
                found = found or (n, mode)
        if not calls:
            return None  # (no call: the mentions need not be counted)
        mentions = sum(1 for n in walk_nodes(self.tree) if (isinstance(n, ast.Attribute) and n.attr == mname) or (isinstance(n, ast.Name) and n.id == mname))
        return found if calls == mentions else None

    def trainer_inference_mode(self) -> Optional[bool]:
        """Does the Lightning ``Trainer`` this file builds run evaluation steps under ``torch.inference_mode()`` (its
        default) rather than ``torch.no_grad()`` (``Trainer(inference_mode=False)``)? None when the file builds no
        Trainer (one built elsewhere may pass either)."""
        key = ("trainer_inference_mode",)
        if key not in self._attr_cache:
            text = "".join(self.lines) if self.lines is not None else ast.unparse(self.tree)
            calls = _TRAINER_CALL.findall(text)
            self._attr_cache[key] = None if not calls else not any(_NO_INFERENCE_MODE.search(c) for c in calls)
        return self._attr_cache[key]

    def _has_inference_method(self, info) -> bool:
        """Does the class run a method under inference mode (``@torch.inference_mode()``, a ``with
        torch.inference_mode():`` block, a Lightning evaluation step)? Cached per class."""
        key = ("has_inference", info.name)
        if key not in self._attr_cache:
            got = info.framework == "lightning" and any(m in info.methods for m in LIGHTNING_INFERENCE_STEPS)
            if not got:
                got = self.text().search(_INFERENCE_WORD, info.node) if self.lines is not None else "inference_mode" in ast.unparse(info.node)
            if not got and self.lines is not None:
                # a method calls a function of the file that runs under inference mode (``self.prototypes =
                # class_prototypes(...)`` with ``@torch.inference_mode()`` on ``class_prototypes``)
                names = self._attr_cache.get(("inference_functions",))
                if names is None:  # (the same for every class: the file's functions, found once)
                    names = self._attr_cache[("inference_functions",)] = [n for n, fn in self.functions.items() if self.text().search(_INFERENCE_WORD, fn) or any(
                        isinstance(d, ast.Call) and (self.imports.qualname(d.func) or "").endswith("inference_mode") for d in fn.decorator_list)]
                got = bool(names) and self.text().search(re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\("), info.node)
            self._attr_cache[key] = bool(got)
        return self._attr_cache[key]

    def requires_grad_callers(self) -> Optional[re.Pattern]:
        """A pattern matching a call of any function of the file whose text mentions ``requires_grad`` or calls one that
        does (at any depth), by name; None when there is none (or no text to search). Found once per file."""
        key = ("requires_grad_callers",)
        if key in self._attr_cache:
            return self._attr_cache[key]
        got = None
        if self.lines is not None and self.text().anywhere(_REQUIRES_GRAD_WORD):
            defs = statements_of_type(self.tree, (ast.FunctionDef, ast.AsyncFunctionDef))
            names = {d.name for d in defs if self.text().search(_REQUIRES_GRAD_WORD, d)}
            rest = [d for d in defs if d.name not in names]
            while names and rest:
                pattern = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in sorted(names)) + r")\(")
                more = [d for d in rest if self.text().search(pattern, d)]
                if not more:
                    break
                names |= {d.name for d in more}
                rest = [d for d in rest if d.name not in names]
            if names:
                got = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in sorted(names)) + r")\(")
        self._attr_cache[key] = got
        return got

    def training_attribute(self, cls: str, attr: str) -> Optional[Val]:
        """The value of ``self.<attr>`` when the class (or an in-file base) assigns it a training object
        (an optimizer, a scheduler, an accelerator...) in some method, in terms of ``self``."""
        key = (cls, attr)
        if key in self._attr_cache:
            return self._attr_cache[key]
        self._attr_cache[key] = None  # recursion guard
        found: Optional[Val] = None
        incomplete = False
        seen = set()
        c: Optional[str] = cls
        while c in self.modules.classes and c not in seen and found is None:
            seen.add(c)
            info = self.modules.classes[c]
            # (``self.accelerator = accelerator``, with ``Trainer(Accelerator())`` at every in-file construction, too)
            candidates = [v for v in info.attr_values.get(attr, ()) if self._may_build_training_object(v)
                          or (isinstance(v, ast.Name) and self.constructions.framework_argument(c, v.id) is not None)]
            if candidates:
                lines = {v.lineno for v in candidates}
                for m in info.methods.values():
                    if not any(m.lineno <= ln <= (m.end_lineno or m.lineno) for ln in lines):
                        continue  # only the methods that assign it
                    if id(m) in self._in_progress:
                        incomplete = True  # asked while that method is being walked: answer later
                        continue
                    fl = self.flow(m)
                    for ev in fl.events:
                        if ev.what == "attr_assign" and ev.name == attr and ev.value is not None and ev.value.kind in self.TRAINING_KINDS and ev.target is not None and ev.target.ident == "self":
                            found = ev.value
                            # (and what the method adds to it: ``self.optimizer.add_param_group(...)``)
                            more = [e.value.live for e in fl.events if e.what == "attr_param_group_added" and e.name == f"self.{attr}" and e.value is not None]
                            if more and found.kind == "optimizer":
                                found = replace(found, params=found.params.union(*more))
                            found = _stored_arguments_as_self(found, m, fl.args)
                            break
                    if found is not None:
                        break
            nxt = [b for b in info.base_names if b in self.modules.classes]
            c = nxt[0] if nxt else None
        if found is None and incomplete:
            del self._attr_cache[key]
        else:
            self._attr_cache[key] = found
        return found

    def _sole_init_values(self, cls: str, attr: str) -> Optional[list]:
        """The values ``__init__`` assigns ``self.<attr>`` (its ``attr_assign`` events, in terms of ``self``) when the
        class assigns it once, there, and no in-file base or subclass assigns it; None otherwise (or while
        ``__init__`` is being walked)."""
        info = self.modules.classes.get(cls)
        init = info.methods.get("__init__") if info is not None else None
        if info is None or init is None or len(info.attr_values.get(attr, [])) != 1 or id(init) in self._in_progress:
            return None
        if self.subclass_sets(cls, attr) or any(b in self.modules.classes for b in info.base_names):
            return None
        return [ev.value for ev in self.flow(init).events
                if ev.what == "attr_assign" and ev.name == attr and ev.value is not None and ev.target is not None and ev.target.ident == "self"]

    def plain_numpy_attribute(self, cls: str, attr: str) -> bool:
        """Is ``self.<attr>`` of a plain (not Module) class assigned once, in ``__init__``, a NumPy array
        (``self.proj = rng.standard_normal((8, 64))``)? Reading it gives no tensor, so it is never a root of gradient.
        (A Python value is left out: ``self.saved_log_probs = {}`` is an empty container other methods fill with
        tensors.)"""
        key = ("plain_numpy", cls, attr)
        if key not in self._attr_cache:
            self._attr_cache[key] = False  # recursion guard
            info = self.modules.classes.get(cls)
            values = self._sole_init_values(cls, attr) if info is not None and info.is_module is False else None
            self._attr_cache[key] = values is not None and {v.kind for v in values} == {"numpy"}
        return bool(self._attr_cache[key])

    def plain_data_attribute(self, cls: str, attr: str) -> bool:
        """Is ``self.<attr>`` of a plain (not Module) class assigned only in ``__init__`` (no in-file base or subclass
        assigns it), every time a tensor computed from constants and from other such attributes of the object
        (``self.betas = torch.linspace(...)``, ``self.alphas_cumprod = torch.cumprod(1.0 - self.betas, 0)``)? It then
        carries no gradient: data, as the arguments it is mixed with may be."""
        key = ("plain_data", cls, attr)
        if key in self._attr_cache:
            return bool(self._attr_cache[key])
        info = self.modules.classes.get(cls)
        init = info.methods.get("__init__") if info is not None else None
        if init is not None and id(init) in self._in_progress:
            return False  # (asked while the constructor is walked, reading its own attributes: not known yet, not cached)
        self._attr_cache[key] = False  # recursion guard (an attribute computed from itself is not known)
        ok = False
        if info is not None and not info.is_module and init is not None and id(init) not in self._in_progress and attr in info.attr_values \
                and not self.subclass_sets(cls, attr) and not any(attr in self.modules.classes[b].attr_values for b in info.base_names if b in self.modules.classes) \
                and all(init.lineno <= v.lineno <= (init.end_lineno or init.lineno) for v in info.attr_values[attr]):
            vals = [ev.value for ev in self.flow(init).events
                    if ev.what == "attr_assign" and ev.name == attr and ev.value is not None and ev.target is not None and ev.target.ident == "self"]
            ok = bool(vals) and len(vals) >= len(info.attr_values[attr]) and all(
                v.kind == "tensor" and not v.leaf and not v.cut and all(
                    r.startswith("self.") and "." not in r[5:] and r[5:] != attr and self.plain_data_attribute(cls, r[5:]) for r in v.live)
                for v in vals)
        self._attr_cache[key] = ok
        return ok

    def stored_leaf_copy(self, cls: str, attr: str) -> Optional[Val]:
        """The value of ``self.<attr>`` when the class (no in-file subclass or base) assigns it once, in ``__init__``,
        a non-leaf copy of a leaf that requires grad (``self.A = torch.randn(n, m, requires_grad=True) * 0.1``, also
        made by a helper): what an optimizer given ``obj.<attr>`` refuses. In terms of ``self``; None otherwise."""
        key = ("leaf_copy", cls, attr)
        if key in self._attr_cache:
            return self._attr_cache[key]
        self._attr_cache[key] = None  # recursion guard
        values = self._sole_init_values(cls, attr) or []
        found = next((v for v in values if v.kind == "tensor" and v.leaf_copy is not None), None)
        self._attr_cache[key] = found
        return found

    def declared_non_tensors(self, cls: str) -> frozenset:
        """The positions (after ``ctx``) of the inputs of the custom Function ``cls`` whose ``forward`` declares a type
        that is not a tensor (``group: Optional[ProcessGroup]``, ``meta: FP8LinearMeta``, ``k: int``): autograd wants None
        as their gradient, so returning None there cuts nothing."""
        fwd = self.modules.method(cls, "forward")
        if fwd is None:
            return frozenset()
        params = [*fwd.args.posonlyargs, *fwd.args.args][1:]
        out = set()
        for i, a in enumerate(params):
            ann = a.annotation
            if ann is None:
                continue
            text = ast.unparse(ann)
            if _MAY_BE_TENSOR.search(text) or re.fullmatch(r"[A-Z]\w?", text):
                continue  # (a tensor type, ``Any``, a type variable: may be a tensor)
            out.add(i)
        return frozenset(out)

    def dropped_gradients(self, cls: str, numbers: frozenset = frozenset(), arity: Optional[int] = None) -> dict:
        """A custom ``autograd.Function``'s inputs whose gradient its ``backward`` returns as None on every
        path: position in ``apply(...)`` -> (the node that makes it None, the forward parameter's name).
        Autograd takes None as "no gradient": nothing reaches such an input through the op. ``numbers``: the
        positions where this call passes a Python number, for which ``ctx.needs_input_grad[k]`` is False: a
        gradient computed only under ``if ctx.needs_input_grad[k]:`` stays None. ``arity``: how many inputs the call
        gives ``apply`` (a ``forward`` parameter with a default that the call leaves out takes no gradient: ``backward``
        returns one per input given, and trailing Nones beyond them are ignored)."""
        got = self._dropped.get((cls, numbers, arity))
        if got is not None:
            return got
        out: dict = {}
        fwd, bwd = self.modules.method(cls, "forward"), self.modules.method(cls, "backward")
        if fwd is not None and bwd is not None:
            names = [a.arg for a in fwd.args.args[1:]]  # after ctx
            returns = [n for n in walk_nodes(bwd) if isinstance(n, ast.Return)]
            nones: dict = {}  # names bound only to None in backward -> that assignment's value
            binds: dict = {}
            for n in walk_nodes(bwd):
                if isinstance(n, ast.Assign) and all(isinstance(t, ast.Name) for t in n.targets):  # (``gx = gw = None`` too)
                    for t in n.targets:
                        binds.setdefault(t.id, []).append(n.value)  # type: ignore[attr-defined]
            guarded = _needs_grad_guarded(bwd, numbers) if numbers else {}
            for k, vals in binds.items():
                if all(isinstance(v, ast.Constant) and v.value is None for v in vals):
                    nones[k] = vals[0]
                elif numbers and any(isinstance(v, ast.Constant) and v.value is None for v in vals) and all(
                    (isinstance(v, ast.Constant) and v.value is None) or id(v) in guarded for v in vals
                ):
                    nones[k] = next(guarded[id(v)] for v in vals if id(v) in guarded)  # computed only where it never runs: the guard
            shapes = [r.value.elts if isinstance(r.value, ast.Tuple) else ([r.value] if r.value is not None else None) for r in returns]
            given = len(names) if arity is None or arity > len(names) else arity
            if returns and all(sh is not None and (len(sh) == given or (arity is not None and len(sh) > given and all(isinstance(e, ast.Constant) and e.value is None for e in sh[given:])))
                               for sh in shapes) and not fwd.args.vararg:
                for i, name in enumerate(names[:given]):
                    at = None
                    for sh in shapes:
                        e = sh[i]  # type: ignore[index]
                        if isinstance(e, ast.Constant) and e.value is None:
                            at = at or e
                        elif isinstance(e, ast.Name) and e.id in nones:
                            at = at or nones[e.id]
                        else:
                            at = None
                            break
                    if at is not None:
                        out[i] = (at, name)
        self._dropped[(cls, numbers, arity)] = out
        return out

    def function_saves(self, cls: str) -> tuple:
        """``(saves its output, indices of the inputs it saves)`` for a custom ``autograd.Function`` whose ``forward``
        passes names to ``ctx.save_for_backward``: every ``return`` of a single name it saved (``y = x * s;
        ctx.save_for_backward(s, y); return y``) saves the output, a parameter of ``forward`` saved as it was given saves
        that input (indices after ``ctx``). An in-place change to either before backward() makes it raise."""
        key = ("function_saves", cls)
        if key in self._dropped:
            return self._dropped[key]
        out: tuple = (False, frozenset())
        fwd = self.modules.method(cls, "forward")
        if isinstance(fwd, (ast.FunctionDef, ast.AsyncFunctionDef)) and fwd.args.args:
            ctx = fwd.args.args[0].arg
            saved = {a.id for n in walk_nodes(fwd) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "save_for_backward"
                     and isinstance(n.func.value, ast.Name) and n.func.value.id == ctx for a in n.args if isinstance(a, ast.Name)}
            if saved:
                params = [a.arg for a in fwd.args.args[1:]]
                rebound = {x.id for n in walk_nodes(fwd) if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign))
                           for tgt in (n.targets if isinstance(n, ast.Assign) else [n.target]) for x in walk_nodes(tgt) if isinstance(x, ast.Name)}
                returns = [n for n in walk_nodes(fwd) if isinstance(n, ast.Return)]
                output = bool(returns) and all(isinstance(r.value, ast.Name) and r.value.id in saved for r in returns)
                inputs = frozenset(i for i, p in enumerate(params) if p in saved and p not in rebound)
                out = (output, inputs)
        self._dropped[key] = out
        return out

    def marked_outputs(self, cls: str) -> Optional[ast.Call]:
        """The ``ctx.mark_non_differentiable(...)`` call of a custom ``autograd.Function``'s ``forward`` when it
        marks every output ``forward`` returns (each ``return`` gives names only, all of them marked): autograd
        makes such outputs constants (``requires_grad`` False, no ``grad_fn``) and never calls ``backward`` for
        them, so nothing reaches the inputs through ``apply``. None when some output stays differentiable (the
        usual ``mark_non_differentiable(indices)`` beside differentiable values) or the returns are not plain names."""
        key = ("marked", cls)
        if key in self._dropped:
            return self._dropped[key]
        found = None
        fwd = self.modules.method(cls, "forward")
        if fwd is not None and fwd.args.args:
            ctx = fwd.args.args[0].arg
            marks = [
                n for n in walk_nodes(fwd)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "mark_non_differentiable"
                and isinstance(n.func.value, ast.Name) and n.func.value.id == ctx
            ]
            marked = {a.id for m in marks for a in m.args if isinstance(a, ast.Name)}
            returns = [n for n in walk_nodes(fwd) if isinstance(n, ast.Return)]

            def names(r):
                elts = r.value.elts if isinstance(r.value, ast.Tuple) else [r.value]
                return [e.id if isinstance(e, ast.Name) else None for e in elts]

            if len(marks) == 1 and returns and all(r.value is not None and all(x is not None and x in marked for x in names(r)) for r in returns):
                # (a name bound twice may be marked as one value and returned as another: only names bound once in
                # forward's body, so not forward's own inputs either)
                counts: dict = {}
                for n in walk_nodes(fwd):
                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                        counts[n.id] = counts.get(n.id, 0) + 1
                if all(counts.get(x, 0) == 1 for r in returns for x in names(r)):
                    found = marks[0]
        self._dropped[key] = found
        return found

    def flow_in_context(self, node: ast.AST, call: Optional[ast.Call], binding: dict, mode: GradMode, caller_self: Optional[str] = None, caller: Optional[_Walker] = None) -> Optional[FunctionFlow]:
        """``node`` analyzed with the values its caller passes (``binding``: parameter index or name ->
        Val; ``"self"`` for a method's receiver) and in the caller's grad mode: a training loop written as
        ``def train(model, loader, optimizer)`` sees the caller's model class and optimizer. None when the
        budget of contexts is spent or the call is recursive (the caller falls back to the summary). ``call`` None:
        a framework runs it (a Lightning callback hook given the module it fits); such a flow is not one of
        ``context_flows`` (which are the file's own calls). ``caller``: the walk that makes the call, whose requires_grad
        changes so far hold when the callee starts (a helper building an optimizer from what requires grad)."""
        key = (id(node), tuple(sorted((str(k), v) for k, v in binding.items())), mode.enabled, mode.kind, call is None)
        if key in self._contexts:
            return self._contexts[key]
        if len(self._contexts) >= self.MAX_CONTEXTS or id(node) in self._in_progress or len(self._in_progress) > self.MAX_DEPTH:
            return None
        self._in_progress.add(id(node))
        try:
            w = _Walker(self, node, binding=binding, mode=mode, call=call)
            if caller is not None:
                w.caller_at = (caller, len(caller.fl.events))
            fl = w.run()
        finally:
            self._in_progress.discard(id(node))
        fl.context = call
        if fl.owner is None and "self" not in binding:
            fl.self_cls = caller_self
        self._contexts[key] = fl
        if call is not None:
            self.context_flows.append(fl)
        return fl

    def all_flows(self) -> list[FunctionFlow]:
        out = [self.flow(self.tree)]
        for node in statements_of_type(self.tree, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.append(self.flow(node))
        return out

    def is_autograd_function_method(self, node: ast.AST) -> bool:
        owner = self.owner.get(id(node))
        return bool(owner and self.modules.classes[owner].is_autograd_function)


def _decorator_mode(imports: Imports, fn: ast.AST) -> GradMode:
    for d in getattr(fn, "decorator_list", []):
        target = d.func if isinstance(d, ast.Call) else d
        q = imports.qualname(target) or ""
        if q in GRAD_DISABLING:
            return GradMode(False, "no_grad", d)
        if q in INFERENCE:
            if isinstance(d, ast.Call) and d.args and isinstance(d.args[0], ast.Constant) and d.args[0].value is False:
                continue
            return GradMode(False, "inference", d)
        if q in GRAD_ENABLING or (q in SET_GRAD_ENABLED and isinstance(d, ast.Call) and d.args and isinstance(d.args[0], ast.Constant) and d.args[0].value is True):
            return GradMode(True, "enable_grad", d)  # explicitly on, whatever the caller's mode
    return GradMode()


_ABSENT = object()


def _join_different(vals: list) -> Val:
    """What a name holds after branches that gave it the values ``vals`` (not all equal)."""
    first = vals[0]
    j = join(*vals)
    # keep identity facts that all branches agree on
    if all(v.ident == first.ident for v in vals):
        j = replace(j, ident=first.ident, leaf=all(v.leaf for v in vals), cls=first.cls if all(v.cls == first.cls for v in vals) else None)
    return j


class _Walker:
    def __init__(self, engine: GradientFlow, node: ast.AST, binding: Optional[dict] = None, mode: Optional[GradMode] = None, call: Optional[ast.Call] = None) -> None:
        self.e = engine
        self.im = engine.imports
        self.node = node
        self.call = call  # the caller's call when analyzed with its values (its argument expressions)
        owner = engine.owner.get(id(node))
        self.fl = FunctionFlow(node, owner, self_cls=owner)
        self.env: dict[str, Val] = {}
        self.dead_alts: dict = {}  # name -> (if, branch's first statement, value): bound on one branch with no gradient path
        self.binding = binding
        self.param_receivers: dict = {}  # id(``m.parameters()`` call) -> the value of ``m``: what a filter over it keeps
        self.listed_params: dict = {}  # name -> (its value, the ``m.named_parameters()`` call it was listed from)
        self.view_of: dict = {}  # name -> the name of the tensor it is a view of (``x1 = x[:, :d]``): one version counter
        self.param_calls: dict = {}  # id(a name iterated by a comprehension) -> the parameters call it lists
        self.comprehension_elts: dict = {}  # id(list comprehension / generator) -> its element values, when they carry nothing
        self.mode = _decorator_mode(self.im, node) if not isinstance(node, ast.Module) else GradMode()
        info = engine.modules.classes.get(owner) if owner else None
        if info is not None and info.framework == "lightning" and getattr(node, "name", "") in LIGHTNING_INFERENCE_STEPS and self.mode.enabled:
            # the Trainer runs evaluation steps under torch.inference_mode() (which ``@torch.enable_grad()`` does not
            # leave), or under torch.no_grad() with ``Trainer(inference_mode=False)``
            eval_inference = engine.trainer_inference_mode()
            if eval_inference is False and self.mode.kind != "enable_grad":
                self.mode = GradMode(False, "no_grad", node)
            elif eval_inference is True or (eval_inference is None and self.mode.kind != "enable_grad"):
                self.mode = GradMode(False, "inference", node)
        if info is not None and info.framework == "lightning" and getattr(node, "name", "") == "training_step" and self.mode.enabled and self.mode.kind != "enable_grad":
            # grad mode is global state: a hook the Trainer runs before the training steps (``on_train_epoch_start``)
            # that leaves it off (``torch.set_grad_enabled(False)``, in the hook or a helper it calls) leaves it off for them
            for hook in LIGHTNING_HOOKS_BEFORE_TRAINING_STEP:
                m = engine.modules.method(info.name, hook)
                leak = engine.flow(m).leaves_grad_disabled if m is not None and m is not node else None
                if leak is not None:
                    self.mode = leak
                    break
            else:
                # (the same from a hook of a Callback the Trainer is given)
                leak = engine.callbacks_leave_grad_disabled("lightning")
                if leak is not None:
                    self.mode = leak
        if info is not None and self.mode.enabled and self.mode.kind != "enable_grad" and (
            (info.framework == "hf_model" and getattr(node, "name", "") == "forward")
            or (info.framework == "hf_trainer" and getattr(node, "name", "") in ("compute_loss", "training_step"))
        ):
            # a Hugging Face Trainer runs its training steps after its callbacks' events: grad mode one leaves off
            leak = engine.callbacks_leave_grad_disabled("hf")
            if leak is not None:
                self.mode = leak
        if mode is not None and self.mode.enabled and (self.mode.kind != "enable_grad" or mode.kind == "inference") and not mode.enabled:
            # a function runs in its caller's grad mode (unless it turns grad on itself, which does not leave inference mode)
            self.mode = mode
        self.loops: tuple = ()
        self.stmt: Optional[ast.stmt] = None
        self.returns: list[Val] = []
        self.finally_depth = 0  # inside the body of a ``try`` with a ``finally`` (which runs on return)
        self.rest_dead = False  # the statement just walked always returns (or raises): the rest of its block never runs
        self.stored_leaves: dict = {}  # ``obj.attr`` -> the leaf (or non-leaf copy of one) this function last stored there
        self.data_writes: dict = {}  # ``obj.attr`` -> cuts of what ``obj.attr.data = value`` wrote into it (values, not graph)
        self.attr_state = False  # some ``obj.attr`` path is bound in ``env`` (see ``store_attribute``)
        self.caller_at: Optional[tuple] = None  # a context walk: (the caller's walk, how many events it had at the call)
        self.yields: list[Val] = []  # a generator function: what iterating its result gives
        self.sink_role = self.framework_sink_role()

    def class_info(self):
        return self.e.modules.classes.get(self.fl.owner) if self.fl.owner else None

    def framework_sink_role(self) -> str:
        """Who backpropagates what this method returns: Lightning's automatic optimization calls
        ``backward()`` on what ``training_step`` returns; a Hugging Face ``Trainer`` on what ``compute_loss``
        returns and on the ``loss`` a ``PreTrainedModel.forward`` returns."""
        info = self.class_info()
        name = getattr(self.node, "name", "")
        if info is None or not info.framework:
            return ""
        if info.framework == "lightning" and name == "training_step" and not info.manual_optimization:
            return "Lightning"
        if info.framework == "hf_trainer" and name == "compute_loss":
            return "the Hugging Face Trainer"
        if info.framework == "hf_model" and name == "forward":
            return "the Hugging Face Trainer"
        return ""

    def called_by_the_file(self) -> bool:
        """Is this a walk of the method for a call the file makes to it by name (``loss = self.training_step(batch, i)``
        in ``validation_step``)? Then what it returns goes to that caller: the framework backpropagates it only when the
        framework itself calls the method (a walk for the framework's own call, a ``Trainer(model=...)``, keeps it)."""
        f = getattr(self.call, "func", None)
        name = getattr(self.node, "name", None)
        if name == "forward" and isinstance(self.call, ast.Call):
            # ``model(probe)`` / ``self.model(x)``: the file runs the module itself (an evaluation under no_grad, its own
            # loop); the loss it returns goes to this caller, not to the framework's backward
            return True
        return (isinstance(f, ast.Attribute) and f.attr == name) or (isinstance(f, ast.Name) and f.id == name)

    def implicit_arg(self, name: str, index: int) -> Optional[Val]:
        """``compute_loss(self, model, inputs)``: ``model`` is the model the Trainer trains (its optimizer
        holds every parameter that requires grad)."""
        fname = getattr(self.node, "name", "")
        if fname == "on_train_batch_end" and index == 0 and self.binding is None:
            # Lightning calls ``on_train_batch_end(outputs, batch, batch_idx)`` with what ``training_step`` returned
            info = self.class_info()
            step = self.e.modules.method(info.name, "training_step") if info is not None and info.framework == "lightning" else None
            if step is not None and id(step) not in self.e._in_progress:
                return self.e.flow(step).returns
        if fname == "__init__" and self.binding is None and self.fl.owner:
            # ``Trainer(Accelerator())`` at every in-file construction: the parameter is that framework object
            fw = self.e.constructions.framework_argument(self.fl.owner, name)
            if fw is not None:
                return Val(kind=fw)
        if self.sink_role and (fname in ("training_step", "validation_step", "test_step") or (fname == "compute_loss" and index > 0)):
            return Val(kind="tensor")  # the framework passes a batch of data: it carries no gradient
        if self.sink_role and fname == "compute_loss" and index == 0:
            self.fl.bound_optimizers.append(Val(kind="optimizer", params=frozenset({name})))
            self.fl.created.add(name)
            return Val(frozenset({name}), kind="module", ident=name)
        return None

    def returned_loss(self, v: Val) -> Optional[Val]:
        fields = dict(v.fields or ())
        if "loss" in fields:
            return fields["loss"]
        if self.sink_role == "Lightning":
            return v if v.kind != "none" else None
        if getattr(self.node, "name", "") == "compute_loss":
            return v.items[0] if v.items else v
        return None

    # -- setup ------------------------------------------------------------------------------------
    def run(self) -> FunctionFlow:
        node = self.node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            params = [*a.posonlyargs, *a.args]
            is_method = self.fl.owner is not None and not any(
                isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list
            )
            i = 0
            b = self.binding or {}
            defaults = dict(zip([p.arg for p in params][len(params) - len(a.defaults):], a.defaults)) if a.defaults else {}
            for k, p in enumerate(params):
                if self.binding is not None and p.arg in defaults and i not in b and p.arg not in b and not (k == 0 and is_method):
                    dv = self.ev(defaults[p.arg])  # a context flow: an argument the caller leaves out is its default
                    self.env[p.arg] = dv if (dv.live or dv.cut or dv.kind not in (None,)) else CONST
                    self.fl.args.append(p.arg)
                    i += 1
                    continue
                if k == 0 and is_method:
                    owner_cls = self.fl.owner or ""
                    if any(isinstance(d, ast.Name) and d.id == "classmethod" for d in node.decorator_list):
                        # ``def from_unet(cls, unet)``: ``cls`` is the class (``cls(...)`` builds a new object of it)
                        self.env[p.arg] = Val(kind="class", cls=owner_cls)
                        continue
                    self.env[p.arg] = b.get("self") or Val(frozenset({"self"}), kind="module" if self.e.modules.classes[owner_cls].is_module else "instance", cls=owner_cls, ident="self")
                    for bk, bv in b.items():
                        if isinstance(bk, str) and bk.startswith("self."):  # the receiver's state the caller left (``self.protos``)
                            self.env[p.arg + bk[4:]] = bv
                            self.attr_state = True
                    continue
                self.env[p.arg] = _as_annotated(p, b.get(i) or b.get(p.arg) or self.implicit_arg(p.arg, i) or Val(frozenset({f"arg:{i}"}), kind="tensor", ident=f"arg:{i}"))
                self.fl.args.append(p.arg)
                i += 1
            for bk, bv in b.items():
                # a nested function called where it is defined: the names it reads from the enclosing function hold what
                # they hold at the call (``def rhs(y): return f(torch.from_numpy(y))`` with the model as ``f``)
                if isinstance(bk, str) and bk.startswith("free:") and bk[5:] not in self.env:
                    self.env[bk[5:]] = bv
            if a.vararg is not None and self.binding is not None and a.vararg.arg not in b:
                extra = sorted(k for k in b if isinstance(k, int) and k >= i)
                if extra and extra == list(range(i, i + len(extra))):
                    # ``def _run(self, module, *args)`` called as ``self._run(block, h, temb)``: the tuple of the rest
                    b = {**b, a.vararg.arg: _tuple_val(tuple(b[k] for k in extra))}
            for p in [*a.kwonlyargs, *( [a.vararg] if a.vararg else []), *([a.kwarg] if a.kwarg else [])]:
                self.env[p.arg] = b.get(p.arg) or Val(frozenset({f"arg:{i}"}), kind="tensor", ident=f"arg:{i}")
                if p is not a.vararg and p is not a.kwarg:
                    self.env[p.arg] = _as_annotated(p, self.env[p.arg])
                self.fl.args.append(p.arg)
                i += 1
            for v in self.env.values():
                if v.kind == "optimizer" and v.params:
                    self.fl.bound_optimizers.append(v)
            recv = b.get("self")
            if recv is not None and recv.kind == "instance" and recv.fields:
                # a method of an object whose constructor built an optimizer (``self.optimizer = Adam(model.parameters())``),
                # run on an object this walk made: that optimizer, over the parameters its caller gave the constructor
                self.fl.bound_optimizers.extend(fv for _k, fv in recv.fields if fv.kind == "optimizer" and fv.params)
            if self.sink_role and node.name == "compute_loss" and len(self.fl.args) > 0 and self.binding:
                mv = self.env[self.fl.args[0]]  # the Trainer's optimizer holds the model's parameters
                self.fl.bound_optimizers.append(Val(kind="optimizer", params=frozenset(mv.live) | ({mv.ident} if mv.ident else set())))
            info = self.class_info()
            if self.sink_role and node.name in ("forward", "training_step") and info is not None and self.e.modules.method(info.name, "configure_optimizers") is None:
                # the framework's optimizer holds every parameter of the model (Trainer, or an inherited
                # configure_optimizers this file does not show)
                self.fl.bound_optimizers.append(Val(kind="optimizer", params=frozenset({"self"})))
            body = node.body
        else:
            body = node.body  # type: ignore[attr-defined]
        self.block(body)
        if self.attr_state and self.binding is not None and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and self.fl.owner is not None:
            params = [*node.args.posonlyargs, *node.args.args]
            if params:
                prefix = params[0].arg + "."
                self.fl.attrs_out = {k[len(prefix):]: v for k, v in self.env.items() if k.startswith(prefix)}
        self.fl.returns = join(*self.returns) if self.returns else NONE
        if self.yields and not isinstance(node, ast.Module):
            # calling a generator function gives a generator: iterating it gives what it yields
            got = join(*self.yields)
            self.fl.returns = Val(got.live, got.cut, items=(got,))
        if self.grad_disabled_by_statement():
            self.fl.leaves_grad_disabled = self.mode  # the caller continues with grad mode off
        return self.fl

    def grad_disabled_by_statement(self) -> bool:
        """Grad mode is off here because of a ``torch.set_grad_enabled(False)`` statement of this function."""
        return not self.mode.enabled and isinstance(self.mode.node, ast.Call) and (self.im.qualname(self.mode.node.func) or "") in SET_GRAD_ENABLED

    # -- statements -------------------------------------------------------------------------------
    def block(self, stmts: Iterable[ast.stmt]) -> None:
        for st in stmts:
            self.statement(st)
            if self.rest_dead:
                # ``if self.discretize: ... return out`` decided true: the statements after it in this block never run
                self.rest_dead = False
                break

    def statement(self, st: ast.stmt) -> None:
        prev = self.stmt
        self.stmt = st
        try:
            self._statement(st)
        finally:
            self.stmt = prev

    def _statement(self, st: ast.stmt) -> None:
        if isinstance(st, ast.Assign):
            v = self.ev(st.value)
            for t in st.targets:
                self.assign(t, v, st.value)
            if v.kind == "module" and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Attribute) and st.value.func.attr == "from_pretrained":
                self._frozen_by_default(st)
            elif v.kind == "tensor" and isinstance(st.value, ast.Call) and len(st.value.args) + len(st.value.keywords) > 1:
                self._parameter_built_frozen(st)
        elif isinstance(st, ast.AnnAssign):
            if st.value is not None:
                self.assign(st.target, self.ev(st.value), st.value)
        elif isinstance(st, ast.AugAssign):
            v = self.ev(st.value)  # ``x += f(x)``: f runs (and may save x for backward) before x changes
            target_val = self.ev(st.target)
            name = st.target.id if isinstance(st.target, ast.Name) else None
            self.record("augassign", st, target=target_val, value=v, name=name, extra=type(st.op).__name__)
            if isinstance(st.target, ast.Subscript):
                # ``w[:, j] -= d``: an in-place write into ``w`` itself (a view of it, or ``index_put_``), as ``w[:, j] = ...``
                written = self.ev(st.target.value)
                if written.pytype not in _BUILTIN_CONTAINERS and (written.leaf or written.kind == "tensor" or written.carries):
                    self.record("inplace", st, target=written, value=v, name=st.target.value.id if isinstance(st.target.value, ast.Name) else None, extra="augassign")
            elif target_val.leaf or target_val.kind == "tensor" or target_val.carries:
                self.record("inplace", st, target=target_val, value=v, name=name, extra="augassign")
            newv = combine(target_val, v) if (target_val.kind != "python" or v.live or v.cut) else CONST
            if isinstance(st.op, ast.Add) and target_val.pytype == "list" and v.pytype == "list" and not (v.live or v.cut or target_val.live or target_val.cut):
                # ``keep += ["classifier."]``: the elements of both (literal items when both are literals)
                items = target_val.items + v.items if target_val.items is not None and v.items is not None else None
                newv = Val(kind="python", pytype="list", items=items, leads=_leads([target_val, v]))
            if target_val.saved_output:
                newv = replace(newv, saved_output=None, dirtied=target_val.saved_output if not target_val.saved_output.startswith("in:") else None)
            if isinstance(st.target, ast.Name):
                self.env[st.target.id] = replace(newv, leaf=target_val.leaf and False, ident=target_val.ident if target_val.leaf else None) if target_val.leaf else newv
            elif isinstance(st.target, ast.Subscript) and isinstance(st.target.value, ast.Name) and st.target.value.id in self.env and (v.live or v.cut):
                # ``out[sel] += gate * expert(x[sel])`` into a tensor this function made: ``out`` now carries ``v`` (as ``out[sel] = v``)
                base = self.env[st.target.value.id]
                if base.kind == "tensor" and not base.ident and not base.leaf and v.kind in ("tensor", None):
                    self.env[st.target.value.id] = replace(combine(base, self.op_result(v)), saved_output=base.saved_output, leaf_copy=base.leaf_copy)
                elif base.kind == "numpy" and not (v.live - {UNKNOWN}):
                    # ``out[i:j] += frame`` into a NumPy array: it now holds values of what ``frame`` came from (off the graph)
                    self.env[st.target.value.id] = replace(combine(base, v), kind="numpy", live=base.live)
        elif isinstance(st, ast.Expr):
            self.ev(st.value)
            call = st.value
            if isinstance(call, ast.Call) and call.args and isinstance(call.args[0], ast.Constant) and (self.im.qualname(call.func) or "") in SET_GRAD_ENABLED:
                # torch.set_grad_enabled(False) as a statement switches grad mode for what follows
                self.mode = GradMode(True) if call.args[0].value else GradMode(False, "no_grad", call)
        elif isinstance(st, ast.Return):
            v = self.ev(st.value) if st.value is not None else NONE
            self.returns.append(v)
            if not self.finally_depth and self.grad_disabled_by_statement():
                # an early return after ``torch.set_grad_enabled(False)``, before the call that restores it: the
                # caller continues with grad mode off whenever this path is taken
                self.fl.leaves_grad_disabled = self.mode
                self.fl.leaking_return = st
            if self.sink_role and st.value is not None and not self.called_by_the_file():
                loss = self.returned_loss(v)
                if loss is not None and (loss.live or loss.cut):
                    self.fl.implicit_sites.append(BackwardSite(st.value, loss, st.value, self.mode, self.loops, False, st, implicit=self.sink_role,
                                                               dead_branch=self.dead_alts.get(st.value.id) if isinstance(st.value, ast.Name) and self.dead_alts else None))
        elif isinstance(st, ast.If):
            tv = self.ev(st.test)
            decided = self.decided_by_constructor(st.test)
            if decided is None:
                decided = _decided(tv)  # ``if phase == "train":`` with ``phase`` known to be "val" here
                if decided is not None:
                    self.record("dead_branch", st, value=tv, extra="orelse" if decided else "body")
            if not self.mode.enabled and self.mode.kind != "inference" and _training_test(st.test):
                # ``if self.training: backward()`` in code run under no_grad (an eval step): the author guards
                # the training-only part; do not walk it in this mode
                self.branches([[], st.orelse])
            elif decided is not None:
                # ``if self.threshold is not None:`` with ``threshold=0.5`` at every construction: one branch runs
                self.fl.decided_ifs.add(id(st))
                taken = st.body if decided else st.orelse
                self.branches([taken])
                self.rest_dead = bool(taken) and isinstance(taken[-1], (ast.Return, ast.Raise))
            else:
                self.branches([st.body, st.orelse], st)
        elif isinstance(st, (ast.For, ast.AsyncFor)):
            it = self.ev(st.iter)
            elem = self.iter_elem(it, st.iter)
            elem = self.structured_elem(st.iter, elem, it)
            fill = self._fill_before(st)
            self.loop(st, lambda: self.assign(st.target, elem, st.iter), st.body, st.orelse)
            if fill is not None:
                self._fill_after(st, *fill)
        elif isinstance(st, ast.While):
            self.ev(st.test)
            self.loop(st, None, st.body, st.orelse)
        elif isinstance(st, (ast.With, ast.AsyncWith)):
            saved = self.mode
            for item in st.items:
                self.with_item(item)
            self.block(st.body)
            self.mode = saved
        elif isinstance(st, ast.Try) or (hasattr(ast, "TryStar") and isinstance(st, ast.TryStar)):
            guarded = 1 if st.finalbody else 0
            self.finally_depth += guarded
            self.block(st.body)
            before = dict(self.env)
            envs = [dict(self.env)]
            for h in st.handlers:
                self.env = dict(before)
                if h.name:
                    self.env[h.name] = CONST
                self.block(h.body)
                envs.append(self.env)
            self.env = self.join_envs(envs)
            self.block(st.orelse)
            self.finally_depth -= guarded
            self.block(st.finalbody)
        elif isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.env[st.name] = Val(kind="function", func=st)
        elif isinstance(st, ast.ClassDef):
            self.env[st.name] = Val(kind="class", cls=st.name)
        elif hasattr(ast, "Match") and isinstance(st, ast.Match):
            self.ev(st.subject)
            self.branches([c.body for c in st.cases] + [[]])
        elif isinstance(st, ast.Delete):
            for t in st.targets:
                if isinstance(t, ast.Name):
                    self.env.pop(t.id, None)
        elif isinstance(st, (ast.Raise, ast.Assert)):
            for sub in child_nodes(st):
                if isinstance(sub, ast.expr):
                    self.ev(sub)

    def _frozen_by_default(self, st: ast.Assign) -> None:
        """``self.embedding = nn.Embedding.from_pretrained(vectors)``: built frozen (``freeze=True`` by default), as
        if ``requires_grad_(False)`` were called on what it is bound to; nothing when ``freeze`` is not a constant."""
        call = st.value
        assert isinstance(call, ast.Call)
        spec = FROZEN_BY_DEFAULT.get(self.im.qualname(call.func) or "")
        if spec is None:
            return
        kw, pos = spec
        flag = next((k.value for k in call.keywords if k.arg == kw), None)
        if flag is None and len(call.args) > pos:
            flag = call.args[pos]
        if flag is not None and not (isinstance(flag, ast.Constant) and flag.value is True):
            return  # ``freeze=False`` trains it; a computed flag is not known here
        for t in st.targets:
            if isinstance(t, (ast.Name, ast.Attribute)):
                self.record("requires_grad_call", call, target=self.ev(t), name=_name_of(t), extra="False")

    def _parameter_built_frozen(self, st: ast.Assign) -> None:
        """``self.pos_embed = nn.Parameter(table, requires_grad=False)``: a parameter built frozen (a fixed table kept in
        ``state_dict``), as if ``requires_grad_(False)`` were called on what it is bound to: no backward gives it a
        ``.grad`` and no optimizer changes it. Nothing when the flag is not the constant False."""
        call = st.value
        assert isinstance(call, ast.Call)
        if (self.im.qualname(call.func) or "") not in PARAMETER_CTORS:
            return
        flag = next((k.value for k in call.keywords if k.arg == "requires_grad"), None)
        if flag is None and len(call.args) > 1 and not any(isinstance(a, ast.Starred) for a in call.args):
            flag = call.args[1]
        if not (isinstance(flag, ast.Constant) and flag.value is False):
            return
        for t in st.targets:
            if isinstance(t, (ast.Name, ast.Attribute)):
                self.record("requires_grad_call", call, target=self.ev(t), name=_name_of(t), extra="False")

    def _literal_dtype(self, kwnodes: dict) -> Optional[str]:
        """The floating dtype a factory's ``dtype=`` keyword names (``torch.float16``: "float16"), else None."""
        dt = kwnodes.get("dtype")
        return FLOAT_DTYPES.get(self.im.qualname(dt) or "") if dt is not None else None

    def _cast_target(self, node: ast.Call, name: str, kwnodes: dict) -> Optional[str]:
        """The floating dtype a cast converts to when the call names it (``.float()``, ``.to(torch.float16)``,
        ``.to(dtype=torch.bfloat16)``), else None."""
        if name in CAST_METHOD_DTYPE:
            return CAST_METHOD_DTYPE[name]
        if name not in ("to", "type"):
            return None
        dt = kwnodes.get("dtype") or next((a for a in node.args if (self.im.qualname(a) or "") in FLOAT_DTYPES), None)
        return FLOAT_DTYPES.get(self.im.qualname(dt) or "") if dt is not None else None

    def _keeps_dtype(self, node: ast.Call, name: str, kwnodes: dict, dtype: str) -> bool:
        """Does this cast of a leaf of known ``dtype`` leave it as it is (a cast to its own dtype, no device move)?"""
        if name not in CAST_METHOD_DTYPE and name not in ("to", "type"):
            return False
        if name in ("to", "type") and (kwnodes.keys() - {"dtype"} or any((self.im.qualname(a) or "") not in FLOAT_DTYPES for a in node.args)):
            return False  # (a device, a ``non_blocking``/``copy`` flag or another tensor: as before)
        return self._cast_target(node, name, kwnodes) == dtype

    def _changes_dtype(self, node: ast.Call, name: str, kwnodes: dict, dtype: Optional[str] = None) -> bool:
        """``t.double()`` / ``.half()`` / ``.bfloat16()`` / ``.cuda()`` / ``.to(torch.float64)`` / ``.to(dtype=d)``
        with a dtype other than float32 (or, for a leaf whose factory named its dtype, other than that one, ``.float()``
        of a float16 leaf included): a real copy (a move to an unknown device may be a no-op on CPU)."""
        if dtype is not None:
            target = self._cast_target(node, name, kwnodes)
            if target is not None:
                return target != dtype
        if name in ("double", "half", "bfloat16", "cuda"):
            return True
        if name not in ("to", "type"):
            return False
        dt = kwnodes.get("dtype") or next((a for a in node.args if (self.im.qualname(a) or "").startswith("torch.") and (self.im.qualname(a) or "") not in ("torch.device",)), None)
        if isinstance(dt, ast.Name):
            given = self.argument_expr(dt.id)  # ``dtype`` a parameter: what the caller passed
            if isinstance(given, ast.Name) and self.call is not None:
                # the caller's own name for it: ``weight_dtype = torch.bfloat16 if bf16 else torch.float32``
                caller = self._enclosing_function(self.call)
                bound = single_binding(caller, given.id) if caller is not None else None
                given = bound if bound is not None else given
            dt = given or dt
        if isinstance(dt, ast.IfExp):  # a copy when either choice is one (that configuration makes the non-leaf)
            return any(self._changes_dtype_to(d) for d in (dt.body, dt.orelse))
        if dt is None:
            return False
        q = self.im.qualname(dt) or ""
        if q.startswith("torch.") and q not in ("torch.float32", "torch.float"):
            return True
        if isinstance(dt, ast.Name) and not q:
            return False  # a dtype held by a variable: not known
        return False

    def _changes_dtype_to(self, dt: ast.AST) -> bool:
        q = self.im.qualname(dt) or ""
        return q.startswith("torch.") and q not in ("torch.float32", "torch.float")

    def _enclosing_function(self, node: ast.AST) -> Optional[ast.AST]:
        """The module-level function or method (of a module-level class) whose lines hold ``node``."""
        line = getattr(node, "lineno", None)
        if line is None:
            return None
        for fn in [*self.e.functions.values(), *(m for info in self.e.modules.classes.values() for m in info.methods.values())]:
            if fn.lineno <= line <= (fn.end_lineno or fn.lineno) and isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return fn
        return None

    def values_indices(self, node: ast.Call, name: str, x: Val, rest: list, kwnodes: dict, has_dim: bool) -> Optional[Val]:
        """``x.max(1)`` / ``torch.topk(x, k)`` / ``x.sort()``: a ``(values, indices)`` pair; the values carry what
        ``x`` carries, the indices no gradient (a cut of everything in ``x``). None for the plain-tensor forms
        (``x.max()``, ``torch.max(a, b)``)."""
        if name in WITH_DIM_ONLY:
            if not has_dim:
                return None
            if rest and (rest[0].live or rest[0].kind == "tensor"):
                return None  # an elementwise max/min of two tensors
        values = self.op_result(replace(combine(x), kind="tensor"))
        indices = cut_value(x, "nondiff", node, f".{name}() indices") if x.live else Val(frozenset(), x.cut, kind="tensor")
        out = _tuple_val((values, indices))
        return replace(out, fields=(("values", values), ("indices", indices)))

    def size_one_along(self, expr: ast.AST, dim: Optional[ast.AST]) -> bool:
        """Is ``expr`` known to have size 1 along ``dim`` (a literal)? The values of ``x.topk(k, dim=d)`` with ``k``
        1 (a literal, or ``self.<attr>`` only ever 1 through the constructors), named by the function's one binding
        of the name. A softmax over such a dimension is identically 1 (a log-softmax 0): no gradient reaches its input."""
        want = _literal_int(dim)
        if want is None or not isinstance(expr, ast.Name) or not isinstance(self.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        binds: list = [n for n in walk_nodes(self.node) if isinstance(n, ast.Name) and n.id == expr.id and not isinstance(n.ctx, ast.Load)]
        binds += [a for a in walk_nodes(self.node.args) if isinstance(a, ast.arg) and a.arg == expr.id]
        if len(binds) != 1 or not isinstance(binds[0], ast.Name):
            return False
        for a in walk_nodes(self.node):
            if isinstance(a, ast.Assign) and len(a.targets) == 1 and any(t is binds[0] for t in walk_nodes(a.targets[0])):
                st = a
                break
        else:
            return False
        tgt, value = st.targets[0], st.value
        if isinstance(tgt, ast.Tuple) and tgt.elts and tgt.elts[0] is binds[0]:
            call = value
        elif tgt is binds[0] and isinstance(value, ast.Attribute) and value.attr == "values":
            call = value.value
        elif tgt is binds[0] and isinstance(value, ast.Subscript) and _literal_int(value.slice) == 0:
            call = value.value
        else:
            return False
        if not isinstance(call, ast.Call):
            return False
        kw = {k.arg: k.value for k in call.keywords}
        if isinstance(call.func, ast.Attribute) and call.func.attr == "topk" and (self.im.qualname(call.func) or "") != "torch.topk":
            pos = call.args
        elif (self.im.qualname(call.func) or "") == "torch.topk" and call.args:
            pos = call.args[1:]
        else:
            return False
        k = kw.get("k") or (pos[0] if pos else None)
        d = kw.get("dim") or (pos[1] if len(pos) > 1 else None)
        return self.is_one(k) and (-1 if d is None else _literal_int(d)) == want

    def is_one(self, node: Optional[ast.AST]) -> bool:
        """The literal 1, or ``self.<attr>`` whose every value through the constructors is 1."""
        if node is None:
            return False
        if _literal_int(node) == 1:
            return True
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self" and self.fl.owner:
            vals = self.e.constructions.attr_values(self.fl.owner, node.attr)
            return vals is not None and bool(vals) and all(type(v) is int and v == 1 for v in vals)
        return False

    def is_number(self, node: ast.AST) -> bool:
        """A numeric literal, or ``self.<attr>`` whose every value is one (constants through constructors)."""
        if isinstance(node, ast.Constant):
            return isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self" and self.fl.owner:
            vals = self.e.constructions.attr_values(self.fl.owner, node.attr)
            if vals is not None and bool(vals) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
                return True
            exprs = self.e.modules.assigned_values(self.fl.owner, node.attr)
            return bool(exprs) and all(_numeric_expr(v) for v in exprs)  # ``self.scale = 1.0 / math.sqrt(fan_in)``
        return False

    def configured_optimizers(self, recv: Val) -> Optional[Val]:
        """``self.optimizers()`` in a LightningModule: what its ``configure_optimizers`` returns (one optimizer,
        or a tuple/list of them: ``return opt_g, opt_d``), each with the parameters it was built from, seen
        through ``recv``. None when that is not known."""
        m = self.e.modules.method(recv.cls, "configure_optimizers") if recv.cls else None
        if m is None or not recv.ident:
            return None
        ret = self.e.flow(m).returns
        opts = _configured(ret)
        if not opts or not all(o.kind == "optimizer" and o.params and all(p == "self" or p.startswith("self.") for p in o.params) for o in opts):
            return None
        seen = tuple(_rebase(o, recv.ident) for o in opts)
        return seen[0] if len(seen) == 1 else _tuple_val(seen)

    def argument_expr(self, name: str) -> Optional[ast.AST]:
        """The caller's argument expression for parameter ``name`` (a flow analyzed with its caller's values),
        or None. Constants and qualified names only mean the same here when caller and callee share a file."""
        call, fn = self.call, self.node
        if call is None or not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or name not in self.fl.args:
            return None
        for k in call.keywords:
            if k.arg == name:
                return k.value
        i = self.fl.args.index(name)
        if any(isinstance(a, ast.Starred) for a in call.args[: i + 1]):
            return None
        return call.args[i] if i < len(call.args) else None

    def decided_by_constructor(self, test: ast.AST) -> Optional[bool]:
        """The value of ``self.x is None`` / ``self.x is not None`` / ``self.x`` / ``not self.x`` in a method, when
        every value ``self.x`` can hold is a constant the class's constructions give it (no subclass in the
        file assigns it). None when not decided."""
        cls = self.fl.owner
        if cls is None:
            return None
        if isinstance(test, ast.BoolOp):
            # ``self.gradient_checkpointing and self.training``: decided when its parts are
            parts = [self.training_now() if _is_self_training(v) else self.decided_by_constructor(v) for v in test.values]
            stop = isinstance(test.op, ast.Or)  # (the value that decides an ``or``: True; an ``and``: False)
            if any(p is stop for p in parts):
                return stop
            return (not stop) if all(p is not None for p in parts) else None
        negate = False
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            negate, test = True, test.operand
        check = None
        equal = None
        number = None  # ``self.x > 0``: (the comparison, the number on the right), ``0 < self.x`` read the same way
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.IsNot)) and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None:
            check = "is" if isinstance(test.ops[0], ast.Is) else "is not"
            test = test.left
        elif isinstance(test, ast.Compare) and len(test.ops) == 1 and (
            (isinstance(test.ops[0], (ast.Eq, ast.NotEq)) and isinstance(test.comparators[0], ast.Constant))
            or (isinstance(test.ops[0], (ast.In, ast.NotIn)) and isinstance(test.comparators[0], (ast.Tuple, ast.List, ast.Set)))
        ):
            # ``self.loss_type == "dice+ce"`` / ``self.mode in ("a", "b")``: equality with constants of any type
            pool = _literal_constants(test.comparators[0])
            if pool is None:
                return None
            equal = (pool, isinstance(test.ops[0], (ast.Eq, ast.In)))
            test = test.left
        elif isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _NUMBER_COMPARE:
            left, right, op = test.left, test.comparators[0], type(test.ops[0])
            if _is_number_constant(left) and not _is_number_constant(right):
                left, right, op = right, left, _FLIPPED.get(op, op)
            if not _is_number_constant(right):
                return None
            number = (op, -right.operand.value if isinstance(right, ast.UnaryOp) else right.value)  # type: ignore[attr-defined]
            test = left
        if not (isinstance(test, ast.Attribute) and isinstance(test.value, ast.Name) and test.value.id == "self"):
            return None
        attr = test.attr
        if self.e.subclass_sets(cls, attr):
            return None  # a subclass sets it too
        values = self.e.constructions.attr_values(cls, attr)
        if not values:
            return None
        if equal is not None:
            truths = {any(v == c for c in equal[0]) == equal[1] for v in values}
        elif number is not None:
            if not all(_is_number_value(v) for v in values):
                return None
            truths = {bool(_NUMBER_COMPARE[number[0]](v, number[1])) for v in values}
        elif check is None:
            truths = {bool(v) for v in values}
        else:
            truths = {(v is None) == (check == "is") for v in values}
        if len(truths) != 1:
            return None
        return truths.pop() != negate

    def _module_object(self, a: Val, expr: ast.AST) -> bool:
        """Is ``a`` (the value of ``expr``) a Module object with parameters: an object of an in-file Module class (``self``
        in its ``forward``, ``self.block``), or a torch layer the class builds (``self.linear``)? Not a parameter reached
        through a module's attribute path (``self.fc1.bias``)."""
        if a.kind != "module" or not a.live:
            return False
        if a.cls is not None and a.cls in self.e.modules.classes:
            # (one that provably owns none, passed so that ``backward`` can read its settings, loses nothing)
            return not self.e.modules.owns_no_parameters(a.cls)
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self" and self.fl.owner:
            got = self.e.modules.attr_torch_ctor(self.fl.owner, expr.attr)
            return got is not None and not self.e.modules.parameterless_attr(self.fl.owner, expr.attr)
        return False

    def _module_given_to_apply(self, fn_cls: str, i: int, a: Val, node: ast.Call) -> Val:
        """The module ``a`` passed as argument ``i`` of ``fn_cls.apply``: what ``forward`` reads from it (``layer.kernel``)
        is cut (the parts it reads by name, when they are all known; else the whole module)."""
        detail = (f"`{fn_cls}.apply(..., {ast.unparse(node.args[i])}, ...)` (autograd tracks only the tensors given to `apply`: the parameters "
                  f"`forward` reads from the module are outside the graph)")
        fwd = self.e.modules.method(fn_cls, "forward")
        params = [p.arg for p in fwd.args.args] if isinstance(fwd, (ast.FunctionDef, ast.AsyncFunctionDef)) else []
        name = params[i + 1] if i + 1 < len(params) else None  # (after ``ctx``)
        reads = self.e.attribute_reads(fwd, name) if name is not None and fwd is not None else frozenset()
        heads = {r.split(".")[0] for r in reads}
        roots = [r for r in a.live if r not in (UNKNOWN, NEW)]
        if name is not None and fwd is not None and not heads and _only_kept_on_ctx(fwd, name, params[0] if params else None):
            # ``ctx.module = module`` and nothing else: ``forward`` computes nothing from the module (its ``backward`` reads
            # settings from it), so no parameter of it is used, in the graph or out of it
            return Val(frozenset(), a.cut, kind="python")
        if not heads or len(roots) != len(a.live):
            return cut_value(a, "dropped", node.args[i], detail)
        c = Cut("dropped", node.args[i], detail)
        return Val(frozenset(), frozenset((f"{r}.{h}", c) for r in roots for h in sorted(heads)) | a.cut, kind="tensor")

    def _inherited_trainer_method(self, cls: str, attr: str, node: ast.Attribute) -> bool:
        """Is ``<obj>.<attr>`` something a Hugging Face ``Trainer`` subclass of the file inherits from the library (not
        defined or assigned in the file's classes), other than the model and optimizer it holds: a method
        (``_prepare_inputs``) or a setting, which carries none of the program's parameters?"""
        info = self.e.modules.classes.get(cls)
        if info is None or info.framework != "hf_trainer" or attr in _TRAINER_HELD or attr in info.attrs or self.e.modules.method(cls, attr) is not None:
            return False
        return not any(attr in self.e.modules.classes[b].attrs for b in info.base_names if b in self.e.modules.classes)

    def training_now(self) -> Optional[bool]:
        """``self.training`` in this walk: what the program set on the object (``model.eval()``), else True where it
        computes with grad on (a module is built in training mode); None under no_grad (an evaluation may have called
        ``eval()`` where the file does not show it)."""
        selfv = self.env.get("self")
        for k, fv in (selfv.flags or ()) if selfv is not None else ():
            if k == "training":
                got = _decided(fv)
                return got if isinstance(got, bool) else None
        return True if self.mode.enabled else None

    def branches(self, bodies: list, test: Optional[ast.If] = None) -> None:
        before = dict(self.env)
        envs = []
        for body in bodies:
            self.env = dict(before)
            self.block(body)
            envs.append(self.env)
        self.env = self.join_envs(envs)
        if test is not None and len(envs) == 2 and self.mode.enabled:
            self._note_dead_alternatives(test, bodies, envs, before)

    def _dead_alt(self, loss: ast.AST) -> Optional[tuple]:
        """(if, first statement of the branch (the ``if`` itself for a branch left empty), value) when the loss named
        ``loss`` has no gradient path on one branch of an ``if`` before (``_note_dead_alternatives``)."""
        return self.dead_alts.get(loss.id) if self.dead_alts and isinstance(loss, ast.Name) else None

    def _note_dead_alternatives(self, test: ast.If, bodies: list, envs: list, before: dict) -> None:
        """A name bound on both branches of an ``if`` (or on one, over a value from before), to a tensor with no gradient
        path (every root it came from cut: ``torch.histc``, a ``.detach()``) on one and a value with a path on the other:
        a loss backpropagated after the ``if`` has no gradient path whenever that branch runs."""
        for k in set(envs[0]) | set(envs[1]):
            if "." in k:
                continue
            va, vb = envs[0].get(k, before.get(k)), envs[1].get(k, before.get(k))
            if va is None or vb is None or va is vb:
                continue
            for dead, live, body in ((va, vb, bodies[0]), (vb, va, bodies[1])):
                if not (dead.kind in ("tensor", None) and not dead.live and dead.cut and any(r != UNKNOWN for r in live.live) and not any(r == UNKNOWN for r, _c in dead.cut)):
                    continue
                if body and any(isinstance(n, ast.Name) and n.id == k and isinstance(n.ctx, ast.Store) for st in body for n in ast.walk(st)):
                    self.dead_alts[k] = (test, body[0], dead)
                    break
                if not body and dead is before.get(k):
                    # no ``else``, over a value from before: ``g_loss = mel_l1(...)`` cut, then ``if step >= warmup: g_loss =
                    # g_loss + adv_loss``: whenever the ``if`` does not run, the loss has no gradient path
                    self.dead_alts[k] = (test, test, dead)
                    break
            else:
                self.dead_alts.pop(k, None)

    def loop(self, st: ast.stmt, bind, body, orelse) -> None:
        before = dict(self.env)
        once = self._runs_at_least_once(st)
        self.loops = self.loops + (st,)
        for i in range(2):  # second pass sees values carried from the previous iteration
            if bind:
                bind()
            self.block(body)
            end = self.env
            # (after a loop that runs at least once, ``for _ in range(cfg["inner_steps"])`` with the config giving 1, the
            # values are those of an iteration's end, not also those from before it)
            self.env = end if (once and i == 1) else self.join_envs([before, end])
            if i == 0:
                # a tensor an op of this iteration saved for backward is still saved when the next iteration starts (the
                # graph lives until a backward frees it): ``h.mul_(a)`` at the top of a scan whose ``h * C`` saved ``h``
                for k, v in end.items():
                    if v.saved_output and v.kind == "tensor" and any(r != UNKNOWN and not r.startswith("arg:") for r in v.live):
                        # (a tensor that requires grad itself, the state a recurrence carries: a buffer of data refilled at
                        # the top of each iteration was saved only if the op's other operand required grad)
                        cur = self.env.get(k)
                        if cur is not None and cur.kind == "tensor" and not cur.saved_output:
                            self.env[k] = replace(cur, saved_output=v.saved_output)
        self.loops = self.loops[:-1]
        self.block(orelse)

    def _runs_at_least_once(self, st: ast.stmt) -> bool:
        """``for ... in range(n)`` (or ``range(a, b)``) with every value the bounds may have known to give an iteration, the
        bounds plain names, constants, attributes or subscripts (evaluated without calls)."""
        it = getattr(st, "iter", None) if isinstance(st, (ast.For, ast.AsyncFor)) else None
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" and "range" not in self.env
                and 1 <= len(it.args) <= 2 and not it.keywords):
            return False
        bounds = []
        for a in it.args:
            if any(isinstance(n, (ast.Call, ast.Starred, ast.Lambda, ast.NamedExpr, ast.Await, ast.Yield)) for n in walk_nodes(a)):
                return False
            v = self.ev(a)
            if not v.consts or not all(type(c) is int for c in v.consts):
                return False
            bounds.append(v.consts)
        if len(bounds) == 1:
            return min(bounds[0]) >= 1
        return max(bounds[0]) < min(bounds[1])

    @staticmethod
    def join_envs(envs: list) -> dict:
        out: dict = {}
        keys = set().union(*envs) if envs else set()
        if len(envs) == 2:  # (an ``if``/``else``, a loop's two passes: most values are the same object on both)
            a, b = envs
            for k in keys:
                va = a.get(k, _ABSENT)
                vb = b.get(k, _ABSENT)
                if (va is _ABSENT or vb is _ABSENT) and "." in k:
                    continue  # ``self.x = h`` on one path only: after the join, ``self.x`` is again what it was
                if va is _ABSENT:
                    out[k] = vb
                elif vb is _ABSENT or vb is va or vb == va:
                    out[k] = va
                else:
                    out[k] = _join_different([va, vb])
            return out
        for k in keys:
            vals = [e[k] for e in envs if k in e]
            if len(vals) < len(envs) and "." in k:
                continue
            first = vals[0]
            if len(vals) == 1 or all(v is first or v == first for v in vals):  # (mostly the same object)
                out[k] = first
            else:
                out[k] = _join_different(vals)
        return out

    def with_item(self, item: ast.withitem) -> None:
        ctx = item.context_expr
        func = ctx.func if isinstance(ctx, ast.Call) else ctx
        q = self.im.qualname(func) or ""
        if q in GRAD_DISABLING:
            self.mode = GradMode(False, "no_grad", ctx)
        elif q in INFERENCE:
            if not (isinstance(ctx, ast.Call) and ctx.args and isinstance(ctx.args[0], ast.Constant) and ctx.args[0].value is False):
                self.mode = GradMode(False, "inference", ctx)
        elif q in GRAD_ENABLING:
            if not self.inference_sticks():  # (``enable_grad`` does not leave inference mode: nothing is recorded there)
                self.mode = GradMode(True)
        elif q in SET_GRAD_ENABLED and isinstance(ctx, ast.Call) and ctx.args:
            a = ctx.args[0]
            known = _decided(self.ev(a))  # ``is_training = phase == "training"`` with phase "train" or "val"
            if (isinstance(a, ast.Constant) and a.value is False) or known is False or self.never_true(a):
                self.mode = GradMode(False, "no_grad", ctx)
            elif ((isinstance(a, ast.Constant) and a.value is True) or known is True) and not self.inference_sticks():
                self.mode = GradMode(True)
            # a runtime flag (set_grad_enabled(is_train)): mode unknown, keep the outer one
        else:
            v = self.ev(ctx)
            if item.optional_vars is not None:
                self.assign(item.optional_vars, v if v.kind != "python" else CONST, ctx)
            return
        if item.optional_vars is not None:
            self.assign(item.optional_vars, CONST, ctx)

    def inference_sticks(self) -> bool:
        """Is this code under an inference mode that ``torch.enable_grad()`` does not leave? Certainly under
        ``torch.inference_mode()`` itself; in a Lightning evaluation step only when this file's Trainer keeps its
        default (a Trainer built elsewhere may run the step under ``no_grad``, which ``enable_grad`` does leave)."""
        if self.mode.kind != "inference" or self.mode.enabled:
            return False
        if isinstance(self.mode.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return self.e.trainer_inference_mode() is True
        return True

    def never_true(self, test: ast.AST) -> bool:
        """``phase == "training"`` inside ``for phase in ("train", "val")``: a comparison of a loop variable over a
        literal of constants with a constant none of them equals (``in`` / ``==``): false on every iteration."""
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.In))):
            return False
        left, right = test.left, test.comparators[0]
        if isinstance(right, ast.Name) and isinstance(left, ast.Constant):
            left, right = right, left
        if not isinstance(left, ast.Name):
            return False
        if isinstance(test.ops[0], ast.Eq):
            wanted = [right]
        elif isinstance(right, (ast.Tuple, ast.List, ast.Set)):
            wanted = list(right.elts)
        else:
            return False
        if not all(isinstance(w, ast.Constant) for w in wanted):
            return False
        for loop in reversed(self.loops):
            if isinstance(loop, ast.For) and isinstance(loop.target, ast.Name) and loop.target.id == left.id:
                it = loop.iter
                if not (isinstance(it, (ast.Tuple, ast.List)) and it.elts and all(isinstance(e, ast.Constant) for e in it.elts)):
                    return False
                if any(_assigns_name(st, left.id) for st in loop.body):
                    return False  # rebound inside the loop
                taken = {e.value for e in it.elts if isinstance(e, ast.Constant)}
                return not any(isinstance(w, ast.Constant) and w.value in taken for w in wanted)
        return False

    def frozen_at(self, root: str) -> Optional[ast.AST]:
        """Where ``root``'s parameters were switched off as a whole (the event's node), when this walk (with what its
        callers did before calling it) leaves them off now; None otherwise."""
        last = None
        for ev in [*self.events_before_call(), *self.fl.events]:
            on = _switched(ev)
            if on is None:
                continue
            roots = set(ev.target.live) | ({ev.target.ident} if ev.target.ident else set())
            if any(r == root or root.startswith(r + ".") for r in roots):
                last = None if on else ev.node  # (the whole of it, or something it is part of)
            elif on and any(r.startswith(root + ".") for r in roots):
                last = None  # (a part of it switched back on)
        return last

    def frozen_now(self, within: frozenset) -> frozenset:
        """Parts of ``within`` whose parameters this function has set to ``requires_grad=False`` so far (and
        not back on): an optimizer built from what requires grad leaves them out. In the method a framework
        builds the optimizers in (Lightning's ``configure_optimizers``), what the methods it runs before froze
        (``__init__``, ``setup``) counts first."""
        events: list = []
        fn = self.fl.node
        info = self.e.modules.classes.get(self.fl.owner or "")
        if info is not None and info.framework and getattr(fn, "name", None) == OPTIMIZER_BUILDERS.get(info.framework):
            for name in RUN_BEFORE_OPTIMIZERS.get(info.framework, ()):
                m = self.e.modules.method(info.name, name)
                if m is not None and m is not fn:
                    events.extend(self.e.flow(m).events)
            if info.framework == "lightning":
                events.extend(self.e.callback_events_before_optimizers(info.name))
        events.extend(self.events_before_call())  # (a helper's walk: what its callers froze before calling it)
        events.extend(self.fl.events)
        state: dict = {}
        for ev in events:
            on = _switched(ev)
            if on is None:
                continue
            for r in set(ev.target.live) | ({ev.target.ident} if ev.target.ident else set()):
                state[r] = on
        off = [r for r, on in state.items() if not on]
        # a frozen part inside what the optimizer covers, or the covered parts inside a frozen one (``self.backbone``
        # frozen whole, its in-file class's layers listed one by one)
        return frozenset(r for r in off if any(r == c or r.startswith(c + ".") or (c.startswith(r + ".") and not _back_on(state, c)) for c in within))

    def backward_frees_saved(self) -> None:
        """``loss.backward()`` without ``retain_graph``: the graph and what its ops saved are freed, so an in-place write
        after it into a tensor an op saved before it changes nothing that backward needs (``memory.enqueue(q)`` after the
        step). Only the input marks (``in:<op>``) of this walk go: an op's output keeps its own."""
        for k, v in list(self.env.items()):
            if v.saved_output is not None and v.saved_output.startswith("in:"):
                self.env[k] = replace(v, saved_output=None)

    def outermost_call(self) -> Optional[ast.AST]:
        """A context walk made by another walk: the call in the outermost walk of the chain (where this code runs, in that
        walk's order); else None."""
        w, top = self, None
        while w.caller_at is not None:
            top = w.call
            w = w.caller_at[0]
        return top

    def events_before_call(self) -> list:
        """A context walk: the events of the walks that called it, up to each call, outermost first."""
        out: list = []
        at = self.caller_at
        chain = []
        while at is not None:
            chain.append(at)
            at = at[0].caller_at
        for w, n in reversed(chain):
            out.extend(w.fl.events[:n])
        return out

    def record(self, what: str, node: ast.AST, **kw) -> None:
        self.fl.events.append(Event(what, node, self.stmt, self.loops, self.mode, **kw))

    # -- assignment -------------------------------------------------------------------------------
    def assign(self, target: ast.AST, v: Val, value_node: Optional[ast.AST]) -> None:
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            holder = self.env.get(target.value.id)
            if holder is not None and holder.flags is not None and any(k == target.attr for k, _ in holder.flags):
                # ``model.gradient_checkpointing = False``: the flag is what is assigned now (known if a constant)
                kept = tuple((k, fv) for k, fv in holder.flags if k != target.attr)
                if decided(v) is not None and v.consts is not None and len(v.consts) == 1:
                    kept = tuple(sorted((*kept, (target.attr, v))))
                self.env[target.value.id] = replace(holder, flags=kept or None)
        if isinstance(target, ast.Name):
            if self.dead_alts:
                self.dead_alts.pop(target.id, None)
            if NEW in v.live or v.ident == NEW:
                v = self.rename_new(v, self.fresh_root(target.id))
            inner = value_node.args[0] if isinstance(value_node, ast.Call) and isinstance(value_node.func, ast.Name) and value_node.func.id in ("list", "tuple") \
                and "list" not in self.env and len(value_node.args) == 1 and not value_node.keywords else None
            if inner is not None and id(inner) in self.param_receivers:
                # ``named = list(model.named_parameters())``: a comprehension over ``named`` filters that model's parameters
                self.listed_params[target.id] = (v, inner)
            else:
                self.listed_params.pop(target.id, None)
            if self.attr_state:
                self.forget_attributes(target.id)
            if self.view_of:
                self.view_of.pop(target.id, None)
                for n in [n for n, b in self.view_of.items() if b == target.id]:
                    del self.view_of[n]  # (its base is another tensor now)
            viewed = _view_base(value_node, self.range_counters()) if value_node is not None and v.kind in ("tensor", None) else None
            if viewed is not None and viewed != target.id:
                self.view_of[target.id] = viewed
            self.env[target.id] = v
            self.fl.assigned[id(target)] = v
        elif isinstance(target, (ast.Tuple, ast.List)):
            elts = target.elts
            items = v.items
            if items is not None and len(items) == len(elts) and not any(isinstance(e, ast.Starred) for e in elts):
                for t, iv in zip(elts, items):
                    self.assign(t, iv, None)
            else:
                elem = replace(v, items=None, ident=None, leaf=False) if v.kind != "params" else v
                if NEW in elem.live:
                    elem = self.rename_new(elem, ast.unparse(target) if hasattr(ast, "unparse") else "value")
                for t in elts:
                    self.assign(t.value if isinstance(t, ast.Starred) else t, elem, None)
        elif isinstance(target, ast.Attribute):
            base = self.ev(target.value)
            fresh = NEW in v.live or v.ident == NEW  # an object made here, not one read back (``self.q = self.q.to(dev)``)
            given: Optional[str] = None
            if base.ident and not fresh and v.kind == "module" and v.ident and "." not in v.ident and v.live == {v.ident} and (
                v.ident in self.fl.created
                # (in a context walk: a layer the caller built and passes in, ``model.set_input_embeddings(new)`` with
                # ``self.wte = value`` in the setter)
                or (self.call is not None and v.ident not in (UNKNOWN, NEW) and not v.ident.startswith("arg:") and v.ident != base.ident
                    and (o := self.e.root_origins.get(v.ident)) is not None and o.kind == "module")
            ):
                # a layer built in this function and bound to a local first (``fc1 = nn.Linear(...)``, then
                # ``model.fc1 = fc1``): the same new object, now held by the attribute
                given = v.ident
                v = replace(v, live=frozenset({NEW}), ident=NEW)
                fresh = True
            if base.ident:
                rid = f"{base.ident}.{target.attr}"
                if fresh:
                    v = self.rename_new(v, rid)
                    self.fl.created.discard(rid) if rid.startswith("self.") else None
            self.record("attr_assign", target, target=base, value=v, name=target.attr)
            if target.attr == "data" and base.ident and base.kind == "tensor" and self.mode.enabled and (v.live - {base.ident, UNKNOWN}):
                # ``w.data = f(m)``: ``w`` now holds f's values with none of its graph; what ``f`` reached (``m``) reaches
                # every later use of ``w`` only through this cut
                self.data_writes[base.ident] = self.data_writes.get(base.ident, frozenset()) | frozenset(
                    (r, Cut("data", target, "`.data =`")) for r in v.live - {base.ident, UNKNOWN}
                ) | v.cut
            if base.ident:
                rid = f"{base.ident}.{target.attr}"
                if v.kind == "tensor" and ((v.leaf and v.ident == rid) or v.leaf_copy is not None):
                    # ``self.prompt = emb.requires_grad_(True)``: read back, it is that leaf (or that non-leaf copy of one)
                    self.stored_leaves[rid] = v
                else:
                    self.stored_leaves.pop(rid, None)
            if base.ident and fresh and v.kind == "module" and v.ident == f"{base.ident}.{target.attr}" and v.live:
                # a freshly built module put on an object: ``self.head = nn.Linear(...)``; the caller learns it
                # through ``replaced`` (a method that swaps a layer after the optimizer exists)
                self.record("replace", target, target=base, value=v, name=f"{base.ident}.{target.attr}", given=given)
            elif base.ident and fresh and v.kind == "tensor" and v.leaf and v.ident == f"{base.ident}.{target.attr}" and v.live and (
                    base.kind == "module" or (base.kind in (None, "tensor") and base.ident.startswith("arg:") and isinstance(st_value := getattr(self.stmt, "value", None), ast.Call)
                                              and (self.im.qualname(st_value.func) or "") in PARAMETER_CTORS)):
                # a new leaf put on a module in place of its parameter: ``model.quant.scale = nn.Parameter(...)``
                self.record("replace", target, target=base, value=v, name=v.ident, given=given)
            if target.attr == "requires_grad" and self.indexed_leaf(target.value):
                # ``param[n_old:].requires_grad = True``: the flag of a new tensor (a view), not of the parameter
                self.record("indexed_requires_grad", target, target=base, value=v, extra=str(_decided(v)))
            elif target.attr in ("requires_grad", "require_grad", "requires_grads") and not indexed_parameter(target.value):
                self.record("requires_grad_set", target, target=base, value=v, name=target.attr)
                if (
                    target.attr == "requires_grad" and _decided(v) is True and isinstance(target.value, ast.Name) and target.value.id in self.env
                    and base.kind not in ("module", "instance", "optimizer", "params", "python", "numpy", "class") and not base.live
                ):
                    # ``x.requires_grad = True`` on a tensor that carries no gradient (data, a detached copy): it is now
                    # a leaf that requires grad, as after ``x.requires_grad_(True)`` (backward() then reaches it)
                    self.env[target.value.id] = self.rename_new(Val(frozenset({NEW}), base.cut, kind="tensor", ident=NEW, leaf=True), target.value.id)
            self.store_attribute(target, base, v, fresh)
        elif isinstance(target, ast.Subscript):
            base = self.ev(target.value)
            idx = self.ev(target.slice)
            owner = base.ident if base.kind == "module" else None
            if not base.ident and base.kind in ("module", "tensor", None) and base.pytype not in _BUILTIN_CONTAINERS and base.fields is None and base.items is None \
                    and len(base.live) == 1 and "." in next(iter(base.live)):
                owner = self._module_owner(base)  # (an element of a module's container: ``blk`` of ``for blk in model.blocks``)
            if owner and owner not in (NEW, UNKNOWN) and v.kind == "module" and (v.ident == NEW or NEW in v.live) and not self._building(base):
                # ``self.heads[name] = nn.Linear(...)``: a new layer put in a ModuleDict / ModuleList, registered under
                # that key (``?`` when the key is not a literal); also in an element of a module's container (``for blk
                # in model.blocks: blk[name] = LoRAAdapter(blk[name])``)
                slot = target.slice.value if isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, (str, int)) and base.ident else "?"
                rid = f"{owner}.{slot}"
                v = self.rename_new(v, rid)
                if v.live:
                    self.record("replace", target, target=base, value=v, name=rid)
            if base.pytype not in _BUILTIN_CONTAINERS:  # (``maps[0] = conv(maps[0])`` on a list changes no tensor in place)
                self.record("inplace", target, target=base, value=v, name=target.value.id if isinstance(target.value, ast.Name) else None, extra="setitem")
            if isinstance(target.value, ast.Name) and (base.fields is not None or base.items is not None or base.kind in ("python", None) or base.pytype in _BUILTIN_CONTAINERS) and target.value.id in self.env:
                # ``out["aux"] = head(h)``: the container now also holds what ``v`` carries
                key = target.slice.value if isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str) else None
                self.env[target.value.id] = _store_into(base, v, key)
            elif isinstance(target.value, ast.Name) and target.value.id in self.env and base.kind == "tensor" and not base.ident and not base.leaf and v.kind in ("tensor", None) and (v.live or v.cut or idx.live or idx.cut):
                # ``out[mask] = expert(x[mask])`` into a tensor this function made: index assignment copies ``v`` in,
                # differentiably (``out`` now carries ``v``'s gradient); the index itself carries none
                # (only the data is copied: an inference tensor written into this one leaves a normal tensor that simply
                # has no gradient from it, as if computed under no_grad)
                copied = self.op_result(v)
                if any(c.kind == "inference" for _r, c in copied.cut):
                    copied = replace(copied, cut=frozenset((r, replace(c, kind="no_grad") if c.kind == "inference" else c) for r, c in copied.cut))
                written = combine(base, copied)
                if idx.cut:  # (an index is an integer or bool tensor: what it carries alive is no gradient; see ev_Subscript)
                    written = replace(written, cut=written.cut | frozenset((r, c.through(target)) for r, c in idx.cut))
                self.env[target.value.id] = replace(written, saved_output=base.saved_output, leaf_copy=base.leaf_copy)
            elif isinstance(target.value, ast.Subscript):
                # ``scores[i][j] = v`` (a list of lists, a dict of lists): the outer container holds it too
                root: ast.expr = target.value
                while isinstance(root, ast.Subscript):
                    root = root.value
                outer = self.env.get(root.id) if isinstance(root, ast.Name) else None
                if outer is not None and isinstance(root, ast.Name) and (v.live or v.cut) and (outer.fields is not None or outer.items is not None or outer.kind in ("python", None)) and not outer.cls:
                    self.env[root.id] = _store_into(outer, v)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, v, value_node)

    def store_attribute(self, target: ast.Attribute, base: Val, v: Val, fresh: bool) -> None:
        """``obj.x = v``: a later read of ``obj.x`` in this walk (and in the methods of ``obj`` it calls) is ``v`` when ``v`` is a
        tensor computed here (not an object or argument held as it is) that carries or was cut from this program's values and ``x`` is an attribute of the object's own state
        (not a parameter or submodule it registers, not ``.data`` / ``.grad`` / ``.requires_grad``)."""
        k = _env_key(target)
        if k is None:
            return
        if self.attr_state:
            self.forget_attributes(k)
        a = target.attr
        keep = (
            not fresh and v.kind == "tensor" and v.ident is None and bool(v.live or v.cut) and not v.leaf and v.leaf_copy is None
            and base.kind in ("module", "instance") and a not in ("data", "grad", "requires_grad")
            and not (base.cls and base.cls in self.e.modules.classes and (self.e.modules.parameter_attr(base.cls, a) or any(self.e.modules.attr_class(base.cls, a))))
        )
        if keep and self.reaches_known_part(v):
            self.env[k] = v
            self.attr_state = True
        else:
            self.env.pop(k, None)

    def reaches_known_part(self, v: Val) -> bool:
        """Does ``v`` carry (or was it cut from) a part the model knows is trainable: a layer, submodule or parameter an
        in-file class registers (``self.proto_head``), or a module or leaf built in this function? (The result of a
        call the model cannot see into, ``self.create_NN(...)`` of a base class in another file, may be any object.)"""
        for r in (*v.live, *(r for r, _c in v.cut)):
            if r in (UNKNOWN, NEW) or r.startswith("arg:"):
                continue
            if any(r == c or r.startswith(c + ".") for c in self.fl.created):
                return True
            head, _, rest = r.partition(".")
            a = rest.split(".", 1)[0].split("[", 1)[0]
            owner = self.env.get(head)
            if not a or owner is None or not owner.cls or owner.cls not in self.e.modules.classes:
                continue
            m = self.e.modules
            if m.attr_torch_ctor(owner.cls, a) or any(m.attr_class(owner.cls, a)) or m.parameter_attr(owner.cls, a) or m.attr_seq(owner.cls, a):
                return True
        return False

    def forget_attributes(self, key: str) -> None:
        """``key`` (a name or an attribute path) is bound anew: what was known of its attributes no longer holds."""
        prefix = key + "."
        for k in [k for k in self.env if k.startswith(prefix)]:
            del self.env[k]

    def _building(self, holder: Val) -> bool:
        """Is this walk a constructor filling its own object's containers (``self.blocks.append(...)`` in ``__init__``)?"""
        return getattr(self.node, "name", None) == "__init__" and bool(holder.ident) and str(holder.ident).startswith("self.")

    @staticmethod
    def _module_owner(base: Val) -> Optional[str]:
        """The path of the module ``base`` is: its identity, or, for an element of a module container (``for block in
        model.blocks``; an argument's attribute is not known to be a module), that container's one root."""
        if base.ident:
            return base.ident
        if base.kind in ("module", "tensor", None) and len(base.live) == 1:
            only = next(iter(base.live))
            return only if only not in (UNKNOWN, NEW) else None
        return None

    def set_attribute(self, node: ast.Call, base: Val, attr_node: ast.AST, v: Val) -> None:
        """``setattr(obj, name, value)``: what ``obj.<name> = value`` does, for a freshly built module put on a
        module (adapter injection: ``setattr(block, name, LoRALinear(getattr(block, name)))`` in a loop). The
        attribute is named when ``name`` is a string literal, else ``?`` (some attribute of ``obj``)."""
        owner = self._module_owner(base)
        if not owner or v.kind != "module" or not (v.ident == NEW or NEW in v.live):
            return
        attr = attr_node.value if isinstance(attr_node, ast.Constant) and isinstance(attr_node.value, str) and base.ident else "?"
        rid = f"{owner}.{attr}"
        v = self.rename_new(v, rid)
        if v.live:
            self.record("replace", node, target=base, value=v, name=rid)

    def fresh_root(self, name: str) -> str:
        """The root id for a new object bound to ``name``: the name itself, unless the object ``name`` held until now
        is one an optimizer holds parameters of (``model = copy.deepcopy(best_model)`` while ``optimizer`` keeps the
        old model's): then the two are different objects, and the new one is ``name@<line>``."""
        old = self.env.get(name)
        if old is None or old.ident is None or old.ident.split("@")[0] != name or self.stmt is None:
            return name
        held = old.ident
        if not any(o.kind == "optimizer" and any(p == held or p.startswith(held + ".") or p.startswith(held + "[") for p in o.params) for o in self.env.values()):
            return name
        return f"{name}@{self.stmt.lineno}"

    def rename_new(self, v: Val, name: str) -> Val:
        if v.frozen_copy is not None and v.ident == NEW:
            # the deep copy of a frozen module (or a module a factory switched parts of), now named: its parameters are as
            # they were switched where it was made
            for rel, at, flag, origin in v.frozen_copy:
                root = name + rel
                self.record("requires_grad_call", at, target=Val(frozenset({root}), kind="module", ident=root), name=root, extra=flag, origin=origin)
            v = replace(v, frozen_copy=None)
        live = frozenset(name if r == NEW else r for r in v.live)
        cut = frozenset((name if r == NEW else r, c) for r, c in v.cut)
        self.fl.created.add(name)
        if (NEW in v.live or v.ident == NEW) and self.stmt is not None:
            # where this root's parameters were made, and as what (for "which optimizer holds it")
            old = self.e.root_origins.get(name)
            if old is None or (old.kind not in ("module", "instance") and not old.leaf):  # a context knows more
                self.e.root_origins[name] = RootOrigin(self.stmt, v.kind, v.cls, v.leaf)
        return replace(v, live=live, cut=cut, ident=name if v.ident == NEW else v.ident)

    def structured_elem(self, iter_node: ast.AST, elem: Val, it: Optional[Val] = None) -> Val:
        """Elements of ``enumerate(xs)`` / ``d.items()`` / ``zip(a, b)`` as tuples: the index and the key
        are plain Python values (never a gradient path), each zipped element carries its own sequence."""
        if not isinstance(iter_node, ast.Call):
            if it is not None and it.kind == "params" and it.prefix:
                # ``named = list(wrapper.named_parameters())`` then ``for n, p in named``: the pairs, each name begins with
                # ``module.`` (only the named parameters of a DataParallel / DDP wrapper carry a prefix)
                return _tuple_val((Val(kind="python", prefix=it.prefix), elem))
            return elem
        f = iter_node.func
        if isinstance(f, ast.Name) and f.id == "enumerate" and iter_node.args and f.id not in self.env:
            inner = self.iter_elem(self.ev(iter_node.args[0]), iter_node.args[0])
            return _tuple_val((CONST, self.structured_elem(iter_node.args[0], inner)))
        if isinstance(f, ast.Name) and f.id == "zip" and iter_node.args and f.id not in self.env and not any(isinstance(a, ast.Starred) for a in iter_node.args):
            return _tuple_val(tuple(self.structured_elem(a, self.iter_elem(self.ev(a), a)) for a in iter_node.args))
        if isinstance(f, ast.Attribute) and f.attr == "items" and not iter_node.args:
            value = replace(elem, items=None, ident=None, leaf=False) if elem.kind != "params" else elem
            return _tuple_val((self._dict_keys(f.value), value))
        if isinstance(f, ast.Attribute) and f.attr in ("named_parameters", "named_buffers", "named_modules", "named_children"):
            # (name, parameter/module) pairs: the name is a plain string; a DataParallel / DDP wrapper registers the
            # model as its submodule ``module``, so every name it yields begins with ``module.``
            name = Val(kind="python", prefix=it.prefix) if it is not None and it.prefix else CONST
            return _tuple_val((name, elem))
        return elem

    def _dict_keys(self, node: ast.AST) -> Val:
        """The key of ``for k, v in d.items()``: one of the string keys of ``d`` when the walk knows every entry of it (a dict
        literal of string keys, such as a config's ``{"policy.": 1e-3, "v_head.": 5e-3}``), else a Python value."""
        d = self.ev(node)
        if d.pytype == "dict" and d.fields and d.table is not None and self.e.constructions.table_unwritten(d.table):  # (asked only here: it walks the uses)
            return Val(kind="python", consts=frozenset(k for k, _v in d.fields), loop_keys=True)
        return CONST

    def iter_elem(self, it: Val, node: ast.AST) -> Val:
        if it.elem_cls:  # each element of ``self.blocks``: its parts are roots of their own (``self.blocks[].attn``)
            eid = f"{it.ident}[]" if it.ident else None
            return Val(frozenset({eid}) if (eid and it.live) else it.live, it.cut, kind="module", cls=it.elem_cls, ident=eid)
        if it.kind == "params":
            # iterating parameters(): each element is a leaf parameter of the receiver
            return Val(it.live, it.cut, kind="tensor", leaf=True, ident=None)
        if it.elem is not None:
            return it.elem
        if it.items:
            e = join(*it.items)
            if (e.ident == NEW or NEW in e.live) and it.live and NEW not in it.live:
                # an element of a list the program named (``params = [torch.zeros(3, requires_grad=True), ...]``): one of
                # the objects that name holds, not a new root of the loop variable's
                held = it.live
                e = replace(e, live=(e.live - {NEW}) | held, cut=frozenset((h, c) for r, c in e.cut for h in (held if r == NEW else (r,))),
                            ident=None if e.ident == NEW else e.ident)
            return e
        if it.leads and it.pytype == "list":  # (strings that each begin with one of the list's known texts)
            return Val(kind="python", leads=it.leads)
        return replace(it, ident=None, leaf=False, items=None, kind=it.kind if it.kind in ("python", "tensor", "module") else None)

    # -- expressions ------------------------------------------------------------------------------
    def ev(self, node: Optional[ast.AST]) -> Val:
        if node is None:
            return CONST
        t = type(node)
        m = _EV_METHODS[t] if t in _EV_METHODS else getattr(_Walker, "ev_" + t.__name__, None)
        if m is None:
            vals = [self.ev(c) for c in child_nodes(node) if isinstance(c, ast.expr)]
            return combine(*vals) if any(v.live or v.cut for v in vals) else CONST
        return m(self, node)

    def ev_Constant(self, node: ast.Constant) -> Val:
        return constant(node.value)

    def ev_Yield(self, node: ast.Yield) -> Val:
        self.yields.append(self.ev(node.value) if node.value is not None else NONE)
        return Val(kind=None)  # what the consumer sends in

    def ev_JoinedStr(self, node: ast.AST) -> Val:
        for c in walk_nodes(node):
            if isinstance(c, ast.FormattedValue):
                self.ev(c.value)
        parts = getattr(node, "values", [])
        if parts and isinstance(parts[0], ast.Constant) and isinstance(parts[0].value, str) and parts[0].value:
            return Val(kind="python", prefix=parts[0].value)  # ``f"encoder.layers.{i}."``: begins with ``encoder.layers.``
        return CONST

    def ev_Name(self, node: ast.Name) -> Val:
        v = self.env.get(node.id)
        if v is not None:
            return v
        if node.id in self.e.functions:
            return Val(kind="function", func=self.e.functions[node.id])
        if node.id in self.e.modules.classes:
            return Val(kind="class", cls=node.id)
        if node.id in self.im.aliases:
            return Val(kind="import")
        if not isinstance(self.fl.node, ast.Module):
            known = self.e.module_constant(node.id)
            if known is not None:
                return known
        if hasattr(builtins, node.id):
            return CONST
        return Val(frozenset({UNKNOWN}), kind=None)

    def ev_Attribute(self, node: ast.Attribute) -> Val:
        v = self._attribute(node)
        if self.data_writes and v.ident in self.data_writes and isinstance(node.ctx, ast.Load):
            # ``self.weight.data = f(self.mask_scores)`` earlier: the tensor holds f's values, but not its graph
            return replace(v, cut=v.cut | self.data_writes[v.ident])
        return v

    def _attribute(self, node: ast.Attribute) -> Val:
        q = self.im.qualname(node)
        if q is not None:
            return Val(kind="import")
        if self.attr_state and isinstance(node.ctx, ast.Load):
            k = _env_key(node)
            if k is not None and k in self.env:  # ``self.protos``, stored by this walk (or by the caller before this call)
                return self.env[k]
        base = self.ev(node.value)
        a = node.attr
        if base.fields is not None:
            for k, fv in base.fields:
                if k == a:
                    return fv
        if base.flags is not None and isinstance(node.ctx, ast.Load):
            for k, fv in base.flags:
                if k == a:
                    return fv
        if a in WRAPPED_MODULE_ATTRS and base.kind == "module" and not (base.cls and a in self.e.modules.classes[base.cls].attrs):
            return replace(base, wrapper=None) if base.wrapper else base  # ``ddp.module`` / ``compiled._orig_mod`` is the wrapped model itself
        if base.cls and base.ident and base.kind in ("module", "instance"):
            tv = self.e.training_attribute(base.cls, a)
            if tv is not None:  # ``self.optimizer`` built in ``__init__``: the optimizer value, for every method
                return _rebase(tv, base.ident)
            info = self.e.modules.classes.get(base.cls)
            if isinstance(node.ctx, ast.Load) and info is not None and a in info.attr_values and getattr(self.node, "name", None) != "__init__":
                lit = self.e.constructions.kept_literal(base.cls, a)
                if lit is not None:  # ``self.cfg``, the one config table every construction passes (a literal of constants)
                    return self.ev(lit)
                if self.e.plain_number_attribute(base.cls, a):
                    # ``self.cutoff = cfg["cutoff"]`` (or ``= cutoff``) given a number at every construction, and written
                    # nowhere outside the class: a Python value, never a parameter (which values it takes is not said:
                    # a method may count it up)
                    return Val(kind="python")
            if isinstance(node.ctx, ast.Load) and info is not None and a in info.attr_values:
                lc = self.e.stored_leaf_copy(base.cls, a)
                if lc is not None:  # ``nca.A`` made in the constructor as ``torch.randn(..., requires_grad=True) * scale``
                    return _rebase(lc, base.ident)
            if isinstance(node.ctx, ast.Load) and info is not None and a in info.attr_values:
                hv = self.e.hook_attribute(base.cls, a)
                if hv is not None:  # ``self.latents``, kept by a forward hook from the output of a part of the object
                    return _rebase_all(hv, base.ident)
            if isinstance(node.ctx, ast.Load) and self.mode.kind != "inference":
                iv = self.e.inference_attribute(base.cls, a)
                if iv is not None:  # an inference tensor kept on the object by an evaluation method
                    # (seen through an instance named otherwise: a method run in its caller's context)
                    return _rebase_all(iv, base.ident)
        if a == "data" and not (base.cls and base.kind in ("module", "instance") and base.cls in self.e.modules.classes and "data" in self.e.modules.classes[base.cls].attrs):
            # (``self.data = ...`` on an in-file class is an attribute of its own, not ``Tensor.data``)
            # (what ``.data`` gives shares the storage but not the version counter: writing into it raises nothing at
            # backward, so it is no longer a tensor some op saved)
            if base.live:
                return replace(cut_value(base, "data", node, ".data"), ident=None, saved_output=None)
            return replace(base, saved_output=None) if base.saved_output else base
        if a == "grad":
            self.record("grad_read", node, target=base, name=node.value.id if isinstance(node.value, ast.Name) else None)
            if isinstance(node.ctx, ast.Load) and base.kind == "tensor" and base.cut and not base.live and not base.leaf and base.ident is None:
                # ``h2 = h1.detach()``: a tensor cut from this program's parameters requires no grad, so no backward ever
                # fills its ``.grad``: it is None (``if h2.grad is not None:`` never runs)
                return Val(kind="none", consts=frozenset({None}))
            return Val(kind="tensor")
        if a in META_ATTRS:
            return CONST
        if a in LAYER_HYPERPARAMETERS and base.kind == "module" and not (base.cls and base.cls in self.e.modules.classes and a in self.e.modules.classes[base.cls].attrs):
            # (``m.padding[1]`` of a layer from ``self.conv.modules()``: a number the layer keeps, not one of its parameters;
            # an in-file class that assigns such an attribute itself says what it holds)
            return Val(kind="python")
        if a in ("T", "mT", "H", "mH", "real", "imag"):
            return replace(base, ident=None, leaf=False, items=None)
        if base.kind in ("python", "none", "import", "function"):
            return Val(kind=base.kind)
        if base.ident == NEW:
            return replace(base, ident=None, items=None)
        if base.cls and base.kind in ("module", "instance") and self.e.modules.non_trainable(base.cls, a):
            values = self.e.modules.classes[base.cls].attr_values.get(a, []) if base.cls in self.e.modules.classes else []
            literal = bool(values) and all(isinstance(v, (ast.Constant, ast.List, ast.Dict, ast.Tuple, ast.Set)) for v in values)
            return Val(kind="python" if literal else "tensor")  # a Python value / container, or a buffer
        if base.cls and isinstance(node.ctx, ast.Load) and self._inherited_trainer_method(base.cls, a, node):
            # ``self._prepare_inputs(inputs)`` in a Hugging Face Trainer subclass: a method of the library's Trainer, not a
            # part of the object (calling it gives what its arguments carry)
            return Val(kind=None)
        if base.ident:
            alias = self.e.modules.attr_alias(base.cls, a) if base.cls and base.kind in ("module", "instance") and base.cls in self.e.modules.classes else None
            if alias is not None and isinstance(node.ctx, ast.Load):
                # ``self.token_emb`` assigned ``net.token_emb`` of the ``self.net`` it keeps: the same module, one root
                return self._attribute(_dotted_attribute(node.value, alias))
            rid = f"{base.ident}.{a}"
            stored = self.stored_leaves.get(rid)
            if stored is not None and isinstance(node.ctx, ast.Load):
                return stored
            live = frozenset({rid}) if base.live else frozenset()
            if live and base.cls and base.kind in ("module", "instance") and self.e.modules.parameterless_attr(base.cls, a):
                live = frozenset()  # ``self.act = nn.GELU()``: calling it reaches no parameter
            if base.cls and base.kind in ("module", "instance"):
                acls, elem = self.e.modules.attr_class(base.cls, a)
                if acls or elem:  # a submodule of an in-file class: calling it runs that class's forward
                    # (``model.eval()`` / ``train()`` set ``training`` on every submodule too)
                    mode = _part_mode(base.flags, a)
                    return Val(live, frozenset(base.cut), kind="module", ident=rid, cls=acls, elem_cls=elem, flags=mode)
                if base.kind == "instance" and isinstance(node.ctx, ast.Load):
                    if self.e.plain_numpy_attribute(base.cls, a):  # ``self.proj = rng.standard_normal(...)`` on a plain object:
                        return Val(kind="python")  # a constant here (NumPy values mixed into tensor arithmetic are converted, not cut)
                    if self.e.plain_data_attribute(base.cls, a):  # ``self.alphas_cumprod = torch.cumprod(...)`` in a scheduler's
                        return Val(kind="tensor")  # constructor: a tensor computed from constants, data wherever it is read
                pcls = self.e.modules.attr_plain_class(base.cls, a)
                if pcls:  # ``self.ema = EMAUpdate()``: an object of an in-file plain class (its methods run on it)
                    return Val(frozenset(), frozenset(base.cut), kind="instance", cls=pcls, ident=rid)
                seq = self.e.modules.attr_seq(base.cls, a)
                if seq:  # a Sequential holding in-file Module classes: calling it runs each in turn
                    return Val(live, frozenset(base.cut), kind="module", ident=rid, seq=seq)
                if self.e.modules.parameter_attr(base.cls, a):  # ``self.weight = nn.Parameter(...)``: a leaf
                    return Val(live, frozenset(base.cut), kind="tensor", ident=rid, leaf=bool(live))
            elif base.kind == "module" and isinstance(node.value, ast.Attribute) and isinstance(node.value.value, ast.Name):
                owner = self.env.get(node.value.value.id)
                if owner is not None and owner.cls and owner.kind in ("module", "instance") and self.e.modules.layer_parameter(owner.cls, node.value.attr, a):
                    # ``self.embed.weight`` of ``self.embed = nn.Embedding(...)``: the parameter the layer registers, a leaf
                    return Val(live, frozenset(base.cut), kind="tensor", ident=rid, leaf=bool(live))
            elif base.kind == "module" and base.layer is not None and self.e.modules.layer_parameter(base.layer[0], base.layer[1], a):
                # ``dense.weight`` of ``dense = model.layers[i].output``, an ``nn.Linear`` its class holds: a leaf too
                return Val(live, frozenset(base.cut), kind="tensor", ident=rid, leaf=bool(live))
            if base.cls and base.kind in ("module", "instance"):
                return Val(live, frozenset(base.cut), kind="module", ident=rid, layer=(base.cls, a))
            return Val(live, frozenset(base.cut), kind="module" if base.kind in ("module", "instance") else "tensor", ident=rid)
        return replace(base, ident=None, leaf=False, items=None, saved_output=None)

    def ev_Subscript(self, node: ast.Subscript) -> Val:
        base = self.ev(node.value)
        idx = self.ev(node.slice)
        if base.fields is not None and isinstance(node.slice, ast.Constant):
            for k, fv in base.fields:
                if k == node.slice.value:
                    return fv
        out = replace(base, items=None, leaf=False, saved_output=None)
        if base.multi_view and not _basic_view(node.slice, self.range_counters()):
            out = replace(out, multi_view=None)  # advanced indexing copies; basic indexing is a view of the view
        if base.leaf and base.live and base.kind == "tensor" and base.items is None and self.mode.enabled:
            out = replace(out, leaf_copy=node)  # indexing a leaf that requires grad records an op: a non-leaf view
        if base.items is not None and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
            try:
                return base.items[node.slice.value]
            except IndexError:
                pass
        if base.elem is not None and not isinstance(node.slice, (ast.Slice, ast.Tuple)):
            return base.elem  # (``outs[-1]``, ``outs[i]``: one element; a slice is the list again)
        if idx.cut:
            out = replace(out, cut=out.cut | idx.cut)
        # an index carries no gradient, and what reaches one alive is not a gradient either: an index is an integer or
        # bool tensor (a float one raises), so a "root" it carries is a value the engine could not tell from a
        # parameter (``self.channel_indices``, set from a config), not one this indexing starves
        if base.elem_cls:
            eid = f"{base.ident}[]" if base.ident else None
            return Val(frozenset({eid}) if (eid and base.live) else base.live, base.cut, kind="module", cls=base.elem_cls, ident=eid)
        if base.ident and base.kind in ("module", "instance"):
            out = replace(out, ident=base.ident)
        elif base.saved_output:
            out = replace(out, saved_output=base.saved_output)
        return out

    def ev_BinOp(self, node: ast.BinOp) -> Val:
        a, b = self.ev(node.left), self.ev(node.right)
        if isinstance(node.op, ast.Add) and a.kind == "params" and b.kind == "params":
            joined = _params_union([a, b])  # ``list(a.parameters()) + list(b.parameters())``
            if joined is not None:
                return joined
        if isinstance(node.op, ast.BitOr) and a.ids_of is not None and b.ids_of is not None:
            return Val(kind="python", ids_of=a.ids_of | b.ids_of, pytype="set")  # the union of two id sets
        if a.kind == "python" and b.kind == "python":
            # Python arithmetic on numbers: no gradient, but a number that came out of a cut stays cut
            return Val(frozenset(), a.cut | b.cut, kind="python") if (a.cut or b.cut) else CONST
        if not (a.live or a.cut or b.live or b.cut):
            return Val(kind="tensor")
        op = type(node.op).__name__
        if op == "Add":
            st = _straight_through_detach(node)
            if st is not None:
                # ``z + (q - z).detach()``: the value of ``q``, the gradient of ``z`` (a straight-through estimator)
                self.e.straight_through.add(id(st))
        if op == "Mult":
            for zv, other, src in ((b, a, node.right), (a, b, node.left)):
                if isinstance(src, (ast.Name, ast.Subscript, ast.Attribute)) and zv.consts and not zv.live and all(isinstance(c, (int, float)) and not isinstance(c, bool) and c == 0 for c in zv.consts) \
                        and (other.live or other.cut):
                    # ``kl_weight * kl`` with ``kl_weight = 0.0`` on every path here (a warm-up weight never raised), or a
                    # config entry that is 0 (``CFG["ent_coef"] * entropy``): the term is zero, and so is the gradient it
                    # passes back. (A literal ``0.0 * x`` is written on purpose, to keep ``x`` in the graph for DDP: not this.)
                    shown = src.id if isinstance(src, ast.Name) else ast.unparse(src)
                    return cut_value(other, "zero", node, f"a product with `{shown}`, which is 0 here")
        if op in ("Mult", "MatMult") and self.fl.owner is not None:
            for zero, other in ((node.right, a), (node.left, b)):
                attr = self._frozen_zero_factor(zero)
                if attr is not None and (other.live or other.cut):
                    # ``x @ self.lora_down.t() @ self.lora_up.t()`` with ``lora_up`` frozen at zeros: the product is zero on
                    # every step, and the gradient it passes to the other factor is zero too
                    return cut_value(other, "zero", node, f"a product with `self.{attr}`, a frozen all-zero parameter (a constant zero)")
        if self.mode.enabled and op in ("Mult", "MatMult", "Div", "Pow"):
            # a product saves each factor the other's gradient needs; a power saves its base
            res = combine(a, b)
            if b.live and op != "Pow":
                self.mark_saved([node.left], {"Mult": "mul", "MatMult": "matmul", "Div": "div"}[op], res)
            if (a.live or b.live) and op in ("Div", "MatMult", "Mult") and a.live:
                self.mark_saved([node.right], {"Mult": "mul", "MatMult": "matmul", "Div": "div"}[op], res)
            if op == "Pow" and a.live:
                self.mark_saved([node.left], "pow", res)
        if op in ("Add", "Sub") and self.mode.enabled and (a.live or b.live):
            for dead, other, side in ((a, b, "left"), (b, a, "right")):
                # a term made from the program's tensors only through ops without a gradient, added to a term that trains:
                # a constant as far as autograd is concerned
                if not dead.live and other.live and any(c.kind in DEAD_TERM_CUTS and r != UNKNOWN for r, c in dead.cut):
                    self.record("constant_term", node, value=dead, target=other, extra=side)
        res = self.allocated(self.op_result(combine(a, b)), op)
        if self.mode.enabled:
            # arithmetic on a leaf that requires grad is recorded: the result is a non-leaf (optimizers reject it);
            # on such a copy it stays one, known by the op that left the leaf behind
            copy = next((x.leaf_copy for x in (a, b) if x.leaf_copy is not None), None) or next((node for x in (a, b) if x.leaf and x.live and x.kind == "tensor" and x.items is None), None)
            if copy is not None:
                res = replace(res, leaf_copy=copy)
        return res

    def _frozen_zero_factor(self, e: ast.AST) -> Optional[str]:
        """``self.<attr>`` (or its transpose) when it is a frozen all-zero parameter of the method's class."""
        attr = self_factor(e)
        info = self.e.modules.classes.get(self.fl.owner or "")
        if attr is None or info is None or attr not in info.attr_values or "zeros" not in self.e.text().text:
            return None
        own = self.e.own_text if self.e.own_text is not None else self.e.text().text  # (not what the linker appended)
        return attr if self.e.modules.frozen_zero_parameter(info.name, attr, self.e.tree, own) else None

    def mark_saved(self, exprs: list, op: str, result: Optional[Val] = None, from_arguments: bool = False) -> None:
        """``op`` saved these tensors for backward: an in-place change to them before backward() raises.
        Only when the op's result carries this program's parameters (its backward will run). A parameter of the
        function saved so is noted whatever it carries (``saved_params``: its callers mark what they pass).
        ``from_arguments``: also when the result carries only the function's arguments (a custom Function's ``apply``,
        whose ``forward`` saves them explicitly, inside a module's ``forward`` given its input)."""
        views = []
        for e in exprs:
            while True:
                if isinstance(e, ast.Subscript) and _basic_view(e.slice, self.range_counters()):
                    e = e.value  # ``x[:, :d]`` is a view of ``x``: modifying ``x`` in place changes what was saved
                elif isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and e.func.attr in VIEW_METHODS:
                    e = e.func.value  # ``keys.t()``, ``x.view(...)``: the same storage (and version counter)
                elif isinstance(e, ast.Attribute) and e.attr in ("T", "mT", "H", "mH"):
                    e = e.value
                else:
                    break
            views.append(e)
            if isinstance(e, ast.Name) and e.id in self.fl.args and self.fl.saved_params.get(e.id) is None and e.id not in self.e.rebound_names(self.node):
                self.fl.saved_params[e.id] = "in:" + op
        if result is not None and not any(r != UNKNOWN and (from_arguments or not r.startswith("arg:")) for r in result.live):
            return  # data of unknown origin (an argument, a loader, an unknown call): it may record nothing
        for e in views:
            key = _env_key(e)
            if key is None:
                continue
            if key not in self.env and isinstance(e, ast.Attribute):
                base = self.ev(e.value)
                if base.kind not in ("module", "instance"):
                    continue
                held = self._attribute(e)
                if held.kind != "tensor" or held.leaf or held.ident is not None:
                    continue  # (a number, a parameter, a layer: not an object's tensor state)
                # ``self.memory.feats`` (a buffer of a part): what the op saved is that attribute, from here on in this walk
                self.env[key] = held
                self.attr_state = True
            if key in self.env:
                v = self.env[key]
                if v.kind not in ("python", "numpy", "module", "none", "optimizer") and not v.saved_output:
                    self.env[key] = replace(v, saved_output="in:" + op)
            viewed = self.view_of.get(key) if self.view_of else None
            if viewed is not None:
                # a view shares its base's version counter, and so do the other views of that base (``x1 = x[:, :d]``,
                # ``x2 = x[:, d:]``): an in-place change to ``x1`` after ``x2`` was saved breaks the backward
                for other in (viewed, *(n for n, b in self.view_of.items() if b == viewed and n != key)):
                    ov = self.env.get(other)
                    if ov is not None and ov.kind not in ("python", "numpy", "module", "none", "optimizer") and not ov.saved_output:
                        self.env[other] = replace(ov, saved_output="in:" + op)

    def _index_against_length(self, node: ast.Compare) -> Optional[frozenset]:
        """``i == len(xs)`` where ``i`` counts an enclosing ``for i, x in enumerate(xs)`` / ``for i in range(len(xs))``
        (and is not rebound in it): ``i`` runs from 0 to ``len(xs) - 1``, so the comparison is decided ({False} for
        ``==``, ``>=``, ``>``; {True} for ``!=``, ``<``, ``<=``), e.g. ``set_grad_enabled(train and i == len(steps))``
        meant for the last step never enables anything."""
        left, right, op = node.left, node.comparators[0], node.ops[0]
        flip = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE}
        if isinstance(left, ast.Call) and isinstance(right, ast.Name):
            left, right = right, left
            op = flip.get(type(op), type(op))()
        if not (isinstance(left, ast.Name) and isinstance(right, ast.Call) and isinstance(right.func, ast.Name) and right.func.id == "len"
                and len(right.args) == 1 and not right.keywords and "len" not in self.env):
            return None
        counter = left.id
        for lp in self.loops:
            if not isinstance(lp, ast.For):
                continue
            it = lp.iter
            if not isinstance(it, ast.Call) or not isinstance(it.func, ast.Name):
                continue
            fname = it.func.id
            seq = None
            if fname == "enumerate" and len(it.args) == 1 and not it.keywords and isinstance(lp.target, ast.Tuple) and lp.target.elts \
                    and isinstance(lp.target.elts[0], ast.Name) and lp.target.elts[0].id == counter:
                seq = it.args[0]
            elif fname == "range" and len(it.args) == 1 and isinstance(lp.target, ast.Name) and lp.target.id == counter \
                    and isinstance(it.args[0], ast.Call) and isinstance(it.args[0].func, ast.Name) and it.args[0].func.id == "len" and len(it.args[0].args) == 1:
                seq = it.args[0].args[0]
            if seq is None or fname in self.env or not _same_name_path(seq, right.args[0]):
                continue
            if any(isinstance(n, ast.Name) and n.id == counter and isinstance(n.ctx, ast.Store) for st in lp.body for n in walk_nodes(st)):
                return None  # (the counter is rebound in the loop)
            if isinstance(op, (ast.Eq, ast.GtE, ast.Gt)):
                return frozenset({False})
            if isinstance(op, (ast.NotEq, ast.Lt, ast.LtE)):
                return frozenset({True})
            return None
        return None

    def range_counters(self) -> set:
        """Names that are, here, the counter of an enclosing ``for t in range(...)`` loop (Python ints)."""
        out = set()
        for lp in self.loops:
            if isinstance(lp, ast.For) and isinstance(lp.target, ast.Name) and isinstance(lp.iter, ast.Call) and isinstance(lp.iter.func, ast.Name) and lp.iter.func.id == "range" and "range" not in self.env:
                out.add(lp.target.id)
        return out

    def mark_forward_saves(self, node: ast.Call, cls: str, result: Val) -> None:
        """An in-file module whose forward saves some of its inputs for backward: so does this call."""
        if not self.mode.enabled or not result.live or not self.e.modifies_in_place(self.node):
            return
        saved = self.e.modules.saves_input(cls)
        if saved:
            self.mark_saved([node.args[i] for i in sorted(saved) if i < len(node.args)], f"{cls}.forward", result)

    def ev_UnaryOp(self, node: ast.UnaryOp) -> Val:
        v = self.ev(node.operand)
        if isinstance(node.op, ast.Not):
            return Val(kind="python", consts=frozenset(not c for c in v.consts)) if v.consts else CONST
        if v.kind == "python":
            # ``-x`` of a Python number keeps where it came from (``-row[k]`` of a ``.tolist()``: still cut from the model)
            return Val(kind="python", cut=v.cut) if v.cut else CONST
        return replace(v, ident=None, leaf=False, items=None, saved_output=None)

    def ev_BoolOp(self, node: ast.BoolOp) -> Val:
        vals = [self.ev(v) for v in node.values]
        truths = [_decided(v) for v in vals]
        if isinstance(node.op, ast.And) and (False in truths or all(t is True for t in truths)):
            return constant(False not in truths)  # (``a and b`` used as a test: decided when each operand is)
        if isinstance(node.op, ast.Or) and (True in truths or all(t is False for t in truths)):
            return constant(True in truths)
        return join(*vals)

    def ev_Compare(self, node: ast.Compare) -> Val:
        # ``boxes.max() <= 1.01``: the op's result only feeds a comparison, which records nothing; its graph is
        # dropped at once, so nothing it saved stays saved (an in-place change of ``boxes`` later is harmless)
        if any(isinstance(operand, (ast.Call, ast.BinOp, ast.UnaryOp)) for operand in (node.left, *node.comparators)):
            vals = self.ev_dropped(node, lambda: [self.ev(node.left)] + [self.ev(c) for c in node.comparators])
        else:
            vals = [self.ev(node.left)] + [self.ev(c) for c in node.comparators]
        if len(node.ops) == 1:
            known = _compare_constants(node.ops[0], vals[0], vals[1])
            if known is None:
                known = self._index_against_length(node)
            if known is not None:
                return Val(kind="python", consts=known)
        if all(isinstance(op, (ast.Is, ast.IsNot, ast.In, ast.NotIn)) for op in node.ops):
            return CONST
        if all(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
            # ``text != self.pad_id``: an attribute of the object the walk cannot type, tested for equality, is an id or a
            # setting (a float a loss trains is never compared for equality); not a part of the model
            vals = [Val(kind="python") if isinstance(operand, ast.Attribute) and x.kind == "module" and x.cls is None and x.elem_cls is None
                    and x.seq is None and not x.wrapper else x for operand, x in zip((node.left, *node.comparators), vals)]
        v = combine(*vals)
        if not v.live and not v.cut:
            return CONST if all(x.kind == "python" for x in vals) else Val(kind="tensor")
        return cut_value(v, "compare", node, "comparison")

    def ev_IfExp(self, node: ast.IfExp) -> Val:
        tv = self.ev(node.test)
        unwrapped = self._unwrapped(node)
        if unwrapped is not None:
            self.ev(node.body)
            return self.ev(unwrapped)
        decided = self.decided_by_constructor(node.test)
        if decided is None:
            decided = _decided(tv)
        if decided is not None:  # (``masked(p) if self.use_mask else p`` with ``self.use_mask = True`` set once)
            return self.ev(node.body if decided else node.orelse)
        body, orelse = self.ev(node.body), self.ev(node.orelse)
        for obj, other in ((body, orelse), (orelse, body)):
            if obj.kind in GradientFlow.TRAINING_KINDS and other.kind == "none":
                return obj  # ``StepLR(opt, ...) if use_schedule else None``: the scheduler, where there is one
        return join(body, orelse)

    def _unwrapped(self, node: ast.IfExp) -> Optional[ast.AST]:
        """``model.module if isinstance(model, DataParallel) else model`` (or ``hasattr(model, "module")``): either
        branch is the same model, the one a wrapper shares its parameters with. The plain branch, or None."""
        for wrapped, plain in ((node.body, node.orelse), (node.orelse, node.body)):
            name = _name_of(plain)
            if not (name and isinstance(wrapped, ast.Attribute) and wrapped.attr in WRAPPED_MODULE_ATTRS and _name_of(wrapped.value) == name):
                continue
            t = node.test
            if not (isinstance(t, ast.Call) and isinstance(t.func, ast.Name) and len(t.args) == 2 and _name_of(t.args[0]) == name):
                continue
            if t.func.id == "hasattr" and isinstance(t.args[1], ast.Constant) and t.args[1].value == wrapped.attr:
                return plain
            kinds = t.args[1].elts if isinstance(t.args[1], ast.Tuple) else [t.args[1]]
            if t.func.id == "isinstance" and all((self.im.qualname(k) or "") in MODULE_WRAPPERS for k in kinds):
                return plain
        return None

    def ev_Tuple(self, node) -> Val:
        items = tuple(self.ev(e) for e in node.elts)
        j = combine(*items) if items else CONST
        kind = "tensor" if (j.live or j.cut) else ("module" if items and all(i.kind == "module" for i in items) else "python")
        return Val(j.live, j.cut, kind=kind, items=items, pytype=_PYTYPES.get(node.__class__))

    ev_List = ev_Tuple
    ev_Set = ev_Tuple

    def ev_Dict(self, node: ast.Dict) -> Val:
        for k in node.keys:
            if k is not None:
                self.ev(k)
        vals = [self.ev(v) for v in node.values]
        j = combine(*vals) if vals else CONST
        fields = tuple((k.value, v) for k, v in zip(node.keys, vals) if isinstance(k, ast.Constant) and isinstance(k.value, str))
        table = node if fields and len(fields) == len(node.keys) and all(isinstance(v, ast.Constant) for v in node.values) else None
        return Val(j.live, j.cut, kind="tensor" if (j.live or j.cut) else "python", fields=fields or None, pytype="dict", table=table)

    def ev_Starred(self, node: ast.Starred) -> Val:
        return self.ev(node.value)

    def ev_NamedExpr(self, node) -> Val:
        v = self.ev(node.value)
        self.assign(node.target, v, node.value)
        return v

    def ev_Await(self, node: ast.Await) -> Val:
        return self.ev(node.value)

    def ev_Lambda(self, node: ast.Lambda) -> Val:
        return Val(kind="function")

    def _comprehension(self, node, elts: list) -> Val:
        saved = dict(self.env)
        it0 = node.generators[0].iter
        if isinstance(it0, ast.Name) and it0.id in self.listed_params and saved.get(it0.id) is self.listed_params[it0.id][0]:
            # ``for n, p in named`` with ``named = list(model.named_parameters())``: the pairs that call yields
            self.param_calls[id(it0)] = self.listed_params[it0.id][1]
            self.param_receivers[id(it0)] = self.param_receivers[id(self.param_calls[id(it0)])]
        for gen in node.generators:
            it = self.ev(gen.iter)
            source = self.param_calls.get(id(gen.iter), gen.iter)
            self.assign(gen.target, self.structured_elem(source, self.iter_elem(it, source), it), None)
            for cond in gen.ifs:
                self.ev(cond)
                excluded = self._not_a_tensor(cond)
                if excluded is not None and excluded in self.env:
                    self.env[excluded] = CONST  # ``if not isinstance(x, torch.Tensor)``: what passes is no tensor
        vals = [self.ev(e) for e in elts]
        narrowed: Optional[tuple] = self._narrowed(node) if not isinstance(node, ast.DictComp) and len(node.generators) == 1 and node.generators[0].ifs and id(node.generators[0].iter) in self.param_receivers else None
        ids = self._id_set(node)
        self.env = saved
        j = combine(*vals)
        if ids is not None:
            return Val(kind="python", ids_of=ids, pytype="set" if isinstance(node, ast.SetComp) else None)
        if not (j.live or j.cut):
            if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
                self.comprehension_elts[id(node)] = vals
                lead = _leads(vals)
                if lead:  # ``[f"layers.{i}." for i in ...]``: strings that all begin with ``layers.``
                    return Val(kind="python", pytype="list" if isinstance(node, ast.ListComp) else None, leads=lead)
            return Val(kind="python" if all(v.kind == "python" for v in vals) else None, pytype="list" if isinstance(node, ast.ListComp) else None)
        if all(v.kind == "tensor" and v.leaf for v in vals):
            live, left_out = j.live, frozenset()  # type: frozenset, frozenset
            if narrowed is not None and j.live == self.param_receivers[id(node.generators[0].iter)].live:
                live, left_out = narrowed
            return Val(live, j.cut, kind="params", rg_filter=any(_tests_requires_grad(c) for gen in node.generators for c in gen.ifs), left_out=left_out)
        copies = {v.leaf_copy for v in vals}
        # (a list comprehension makes a Python list: ``hs[k] = cell(...)`` replaces an element, it writes no tensor in place)
        return Val(j.live, j.cut, kind="tensor", leaf_copy=copies.pop() if len(copies) == 1 else None, pytype="list" if isinstance(node, ast.ListComp) else None)

    def _all_parameters_of(self, node: ast.AST) -> Optional[frozenset]:
        """The root of the module whose every parameter ``node`` (``m.parameters()``, just evaluated) yields, when ``m``
        is that root's object and nothing else."""
        recv = self.param_receivers.get(id(node))
        if recv is None or not isinstance(node, ast.Call) or node.func.attr != "parameters" or not recv.ident or recv.ident in (NEW, UNKNOWN) or recv.live != {recv.ident}:  # type: ignore[attr-defined]
            return None
        return frozenset({recv.ident})

    def _id_set(self, node) -> Optional[frozenset]:
        """``{id(p) for p in m.parameters()}``: the roots whose parameters' ids it holds (all of them), else None."""
        if len(node.generators) != 1 or isinstance(node, ast.DictComp):
            return None
        gen = node.generators[0]
        elt = node.elt
        if gen.ifs or not isinstance(gen.target, ast.Name) or not (isinstance(elt, ast.Call) and isinstance(elt.func, ast.Name) and elt.func.id == "id"
                                                                  and len(elt.args) == 1 and isinstance(elt.args[0], ast.Name) and elt.args[0].id == gen.target.id):
            return None
        whole = self._all_parameters_of(gen.iter)
        return frozenset((r, node) for r in whole) if whole is not None else None

    def _narrowed(self, node) -> Optional[tuple]:
        """``(kept, left out)``: the roots a comprehension over a model's parameters keeps when its test is on the parameter's name
        (``[p for n, p in model.named_parameters() if not n.startswith("backbone.")]``) or on its identity (``if id(p)
        not in frozen_ids``, an id set of parts' parameters): the model's parts the test selects, each whole or in part,
        and ``(root, node)`` for each part it leaves out whole, ``node`` the test (or what put the part in the id set); None when the model's parameters cannot be enumerated or nothing is decided."""
        gen = node.generators[0]
        recv = self.param_receivers[id(gen.iter)]
        it = self.param_calls.get(id(gen.iter), gen.iter)
        if recv.kind != "module" or not recv.cls or not recv.ident or recv.ident in (NEW, UNKNOWN) or recv.live != {recv.ident} or recv.cut:
            return None
        tgt = gen.target
        if it.func.attr == "named_parameters":
            if not (isinstance(tgt, ast.Tuple) and len(tgt.elts) == 2 and all(isinstance(e, ast.Name) for e in tgt.elts)):
                return None
            name_var, param_var = tgt.elts[0].id, tgt.elts[1].id  # type: ignore[attr-defined]
        elif isinstance(tgt, ast.Name):
            name_var, param_var = "", tgt.id
        else:
            return None
        if not (isinstance(node.elt, ast.Name) and node.elt.id == param_var):
            return None
        consts = self.e.__dict__.get("_name_constants")
        if consts is None:
            consts = self.e.__dict__["_name_constants"] = module_constants(self.e.tree)
        # the function's own names bound to strings (``no_decay = ["bias", "LayerNorm.weight"]``), as this walk knows them
        local = {}
        for c in gen.ifs:
            for n in walk_nodes(c):
                if isinstance(n, ast.Name) and n.id in self.env and n.id not in (name_var, param_var):
                    held = self.env[n.id]
                    text = _constant_strings(held)
                    if text is not None:
                        local[n.id] = text
                    elif held.loop_keys and held.consts and all(isinstance(c, str) for c in held.consts):
                        # a key of a dict the function loops over (``for prefix, lr in groups.items()``): one per iteration
                        local[n.id] = AnyOf(tuple(sorted(held.consts)))
                elif isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in self.env and n.value.id not in (name_var, param_var):
                    owner = self.env[n.value.id]
                    text = _class_strings(self.e.modules, owner.cls, n.attr) if owner.cls and owner.kind in ("instance", "module") else None
                    if text is not None:  # (``self.no_decay``: a class constant)
                        local[f"{n.value.id}.{n.attr}"] = text
                elif isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id in self.env and isinstance(n.slice, ast.Constant) \
                        and isinstance(n.slice.value, str) and n.value.id not in (name_var, param_var):
                    table = self.env[n.value.id]
                    entry = next((fv for k, fv in table.fields if k == n.slice.value), None) if table.fields is not None and table.pytype == "dict" else None
                    text = _constant_strings(entry) if entry is not None else None
                    if text is not None:  # (``cfg["sparse_key"]``: an entry of a config table of constants the caller passes)
                        local[f"{n.value.id}[{n.slice.value!r}]"] = text
        anyof = tuple(k for k, v in local.items() if isinstance(v, AnyOf))
        if anyof:
            local[ANY_OF_KEY] = anyof
        consts = {**consts, **local} if local else consts
        prefix = "module." if recv.wrapper else ""
        env = self.env
        why: dict = {}  # root -> the node that left it out
        tree = module_tree(self.e.modules, self.im, recv.cls) if any(isinstance(n, ast.Attribute) and n.attr in ("ndim", "dim", "ndimension", "shape", "size") for c in gen.ifs for n in walk_nodes(c)) else None
        ranks = {p: r for p, _o, r in tree.params} if tree is not None else {}
        current: list = [None]

        def keep(path: str, names: Optional[tuple]) -> Optional[bool]:
            root = f"{recv.ident}.{path}"
            decided: list = []

            def oracle(test: ast.AST):
                if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.In, ast.NotIn))):
                    # ``p.ndim >= 2``: the parameter's number of dimensions, when the model's tree tells it
                    return rank_test(test, param_var, ranks.get(current[0]) if isinstance(current[0], str) else None)
                # ``id(p) in ids`` / ``id(p) not in ids``, ``ids`` the id set of some parts' parameters
                left, right = test.left, test.comparators[0]
                if not (isinstance(left, ast.Call) and isinstance(left.func, ast.Name) and left.func.id == "id" and "id" not in env and len(left.args) == 1
                        and isinstance(left.args[0], ast.Name) and left.args[0].id == param_var and isinstance(right, ast.Name)):
                    raise Unknown
                held = env.get(right.id)
                if held is None or held.ids_of is None:
                    raise Unknown
                at = next((n for r, n in held.ids_of if root == r or root.startswith(r + ".")), None)
                if at is None and any(r.startswith(root + ".") for r, _n in held.ids_of):
                    raise Unknown  # (some of this part's parameters)
                decided.append(at)
                return (at is not None) == isinstance(test.ops[0], ast.In)

            items = [f"{prefix}{path}.{n}" if n else f"{prefix}{path}" for n in names] if names is not None else [NamePrefix(f"{prefix}{path}.")]
            got = set()
            for item in items:
                current[0] = item[len(prefix):] if isinstance(item, str) else None
                tests: list = []
                for c in gen.ifs:  # (the first false test leaves the parameter out, whatever the others say)
                    del decided[:]
                    try:
                        tests.append(bool(evaluate_name_test(c, name_var, item, consts, oracle=oracle)))
                    except Unknown:
                        tests.append(None)
                    if tests[-1] is False:
                        # where: what put the part in the id set the test reads, else the test
                        why[root] = decided[0] if len(decided) == 1 and decided[0] is not None else c
                got.add(False if False in tests else None if None in tests else True)
            return got.pop() if len(got) == 1 else None

        dropped: list = []
        kept = narrowed_parts(self.e.modules, self.im, recv.cls, keep, dropped=dropped)
        if kept is None:
            return None
        # (a part this walk saw replaced by a new layer, ``unet.mid = LoRAConv(unet.mid)`` in a helper: its parameter
        # names are not the class's any more, so the test is not decided for it)
        swapped = {e.name[len(recv.ident) + 1:].split(".", 1)[0] for e in self.fl.events if e.what == "replace" and e.name and e.name.startswith(recv.ident + ".")}
        if swapped:
            moved = [p for p in dropped if p.split(".", 1)[0] in swapped]
            kept = [*kept, *moved]
            dropped = [p for p in dropped if p not in moved]
        return frozenset(f"{recv.ident}.{p}" for p in kept), frozenset((f"{recv.ident}.{p}", why.get(f"{recv.ident}.{p}", node)) for p in dropped)

    def _fill_before(self, st: ast.stmt) -> Optional[tuple]:
        """A loop that sorts a model's parameters into lists that are empty before it (see ``core.partition``):
        ``(the loop, the model's value)``, else None."""
        loop = fill_loop(st)
        if loop is None or not isinstance(loop.model, (ast.Name, ast.Attribute)):
            return None
        recv = self.ev(loop.model)
        if recv.kind != "module" or not recv.cls or not recv.ident or recv.ident in (NEW, UNKNOWN) or recv.live != {recv.ident} or recv.cut or recv.wrapper:
            return None
        for name in loop.lists:
            v = self.env.get(name)
            if v is None or v.live or v.cut or v.pytype not in ("list", "set"):
                return None
        return loop, recv

    def _fill_after(self, st: ast.stmt, loop, recv: Val) -> None:
        """The lists a parameter-sorting loop filled hold the parts of the model its tests send to them; a part no
        test sends anywhere is left out of every one, at the last test it failed."""
        consts = self.e.__dict__.get("_name_constants")
        if consts is None:
            consts = self.e.__dict__["_name_constants"] = module_constants(self.e.tree)
        local = {}
        for n in walk_nodes(st):
            if isinstance(n, ast.Name) and n.id in self.env and n.id not in loop.lists:
                text = _constant_strings(self.env[n.id])
                if text is not None:
                    local[n.id] = text
        got = narrowed_lists(loop, recv.cls or "", self.e.modules, self.im, {**consts, **local}, self.node)
        if got is None:
            return
        for name, (kept, dropped) in got.items():
            cur = self.env.get(name)
            if cur is None:
                continue
            self.env[name] = replace(cur, live=frozenset(f"{recv.ident}.{p}" for p in kept),
                                     left_out=frozenset((f"{recv.ident}.{p}", n or st) for p, n in dropped))

    def _isinstance(self, v: Val, types: ast.AST) -> Optional[bool]:
        """``isinstance(x, T)`` when ``x`` is a builtin container on every path (a dict literal or comprehension,
        a list, a tuple): decided for builtin containers and ``torch.Tensor``; None otherwise (subclasses of
        ``dict``, such as a ``ModelOutput``, are never given a ``pytype``)."""
        if v.pytype is None:
            return None
        names = types.elts if isinstance(types, ast.Tuple) else [types]
        got = False
        for t in names:
            q = self.im.qualname(t) or ""
            if isinstance(t, ast.Name) and t.id in _BUILTIN_CONTAINERS and t.id not in self.env and not q:
                got = got or t.id == v.pytype
            elif q == "torch.Tensor":
                continue
            else:
                return None
        return got

    def _not_a_tensor(self, cond: ast.AST) -> Optional[str]:
        """The name ``cond`` proves is not a tensor: ``not isinstance(x, torch.Tensor)``, ``not torch.is_tensor(x)``."""
        if not (isinstance(cond, ast.UnaryOp) and isinstance(cond.op, ast.Not) and isinstance(cond.operand, ast.Call)):
            return None
        call = cond.operand
        if not call.args or not isinstance(call.args[0], ast.Name):
            return None
        if isinstance(call.func, ast.Name) and call.func.id == "isinstance" and len(call.args) == 2:
            q = self.im.qualname(call.args[1]) or ""
            return call.args[0].id if q == "torch.Tensor" else None
        return call.args[0].id if (self.im.qualname(call.func) or "") == "torch.is_tensor" else None

    def ev_ListComp(self, node) -> Val:
        return self._comprehension(node, [node.elt])

    ev_SetComp = ev_ListComp
    ev_GeneratorExp = ev_ListComp

    def ev_DictComp(self, node) -> Val:
        entries = self._entrywise(node)
        v = self._comprehension(node, [node.key, node.value])
        return replace(v, fields=entries, pytype="dict") if entries is not None else replace(v, pytype="dict")

    def _entrywise(self, node: ast.DictComp) -> Optional[tuple]:
        """``{k: f(v) for k, v in d.items()}`` over a dict whose entries are known (``d = {"loss": loss, ...}``):
        the new dict's entries, each ``f`` of its own (``d["loss"]`` of the result is ``f(loss)``); None when
        the keys do not stay known."""
        if len(node.generators) != 1:
            return None
        gen = node.generators[0]
        it = gen.iter
        tgt = gen.target
        if gen.ifs or gen.is_async or not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "items" and not it.args and not it.keywords):
            return None
        if not (isinstance(tgt, ast.Tuple) and len(tgt.elts) == 2 and all(isinstance(e, ast.Name) for e in tgt.elts)):
            return None
        src = self.ev(it.func.value)
        if not src.fields or len(src.fields) > 16:
            return None
        saved = dict(self.env)
        out = []
        try:
            for key, fv in src.fields:
                self.assign(tgt.elts[0], constant(key), None)
                self.assign(tgt.elts[1], fv, None)
                k = self.ev(node.key)
                if not k.consts or len(k.consts) != 1:
                    return None
                [kc] = k.consts
                if not isinstance(kc, str):
                    return None
                out.append((kc, self.ev(node.value)))
        finally:
            self.env = saved
        return tuple(out)

    # -- calls ------------------------------------------------------------------------------------
    def allocated(self, v: Val, op: str) -> Val:
        """The result of op ``op`` computed outside inference mode from inputs that need no gradient: unless ``op``
        may return its input (a view, a no-op conversion: ``ALIASING_OPS``), it is a newly allocated normal tensor, so
        an inference tensor among the inputs no longer raises when the result is saved for backward; the result
        simply has no gradient from it, as if computed under no_grad."""
        if v.live or self.mode.kind == "inference" or op in ALIASING_OPS or not any(c.kind == "inference" for _r, c in v.cut):
            return v
        return replace(v, cut=frozenset((r, replace(c, kind="no_grad") if c.kind == "inference" else c) for r, c in v.cut))

    @staticmethod
    def unseen_callee(vals: list) -> list:
        """The inputs of a call whose code the engine cannot see (``v.forward(x)`` on an object of unknown class, a
        callable of unknown origin): whether its first op saves an inference tensor it is given for backward (a
        layer: raises) or computes a normal tensor from it first (``torch.cat``, arithmetic: does not) is unknown, so
        such an input is no longer claimed to raise; it still has no gradient, as if computed under no_grad."""
        return [replace(v, cut=frozenset((r, replace(c, kind="no_grad") if c.kind == "inference" else c) for r, c in v.cut))
                if not v.live and any(c.kind == "inference" for _r, c in v.cut) else v for v in vals]

    def op_result(self, v: Val) -> Val:
        """Apply the grad mode to a computed value: under no_grad nothing new is recorded. A tensor computed under
        inference mode is an inference tensor even when it carries no gradient (padded or normalized data): it is
        marked as cut from the unknown root ``?`` (saving it for backward raises, whatever it was made from)."""
        if not self.mode.enabled and not v.live and self.mode.kind == "inference" and v.kind == "tensor":
            return replace(v, cut=v.cut | {(UNKNOWN, Cut("inference", self.mode.node or self.stmt or ast.Pass(), "torch.inference_mode()"))})
        if self.mode.enabled or not v.live:
            return v
        live_unknown = frozenset(r for r in v.live if r == UNKNOWN)
        cut = set(v.cut)
        for r in v.live:
            if r != UNKNOWN:
                cut.add((r, Cut(self.mode.kind, self.mode.node or self.stmt or ast.Pass(), f"torch.{self.mode.kind}()")))
        if v.items is not None and v.pytype != "list":
            # a tuple of outputs (``logits, values = policy(obs)``): each keeps what it was computed from
            return Val(live_unknown, frozenset(cut), kind=v.kind, items=tuple(self.op_result(i) for i in v.items))
        return Val(live_unknown, frozenset(cut), kind=v.kind)

    def ev_Call(self, node: ast.Call) -> Val:
        f = node.func
        if (isinstance(f, ast.Attribute) and f.attr in TO_NUMBER_METHODS and not node.args and isinstance(f.value, (ast.Call, ast.BinOp, ast.UnaryOp))) or (
            isinstance(f, ast.Name) and f.id in ("float", "int", "bool") and len(node.args) == 1 and isinstance(node.args[0], (ast.Call, ast.BinOp, ast.UnaryOp)) and f.id not in self.env
        ):
            # ``x.norm().item()``, ``float(x.pow(2).sum())``: the ops' results become a Python number at once; their
            # graph is dropped, so nothing they saved stays saved (an in-place change of ``x`` later is harmless)
            return self.ev_dropped(node, lambda: self._ev_call_and_after(node))
        return self._ev_call_and_after(node)

    def ev_dropped(self, node: ast.AST, evaluate: Callable[[], Any]) -> Any:
        """``evaluate()`` (the value of ``node``, an expression whose result is turned into a Python number or bool at
        once), undoing what its ops marked as saved for backward: that graph is dropped with the result."""
        names = {n.id for n in walk_nodes(node) if type(n) is ast.Name and n.id in self.env}
        before = {name: self.env[name] for name in names}
        params = set(self.fl.saved_params)
        res = evaluate()
        for name, old in before.items():
            cur = self.env.get(name)
            if cur is not None and cur is not old and cur.saved_output and cur.saved_output.startswith("in:") and not old.saved_output:
                self.env[name] = replace(cur, saved_output=None)
        for name in set(self.fl.saved_params) - params:
            del self.fl.saved_params[name]
        return res

    def _ev_call_and_after(self, node: ast.Call) -> Val:
        res = self._ev_call(node)
        f = node.func
        if self.data_writes and (res.live or res.cut):
            # ``self.conv.weight.data = f(m)`` earlier, then ``self.conv(h)``: the layer computes with f's values, none of
            # f's graph (what ``f`` reached gets nothing through this call)
            key = _env_key(f)
            if key is not None:
                written = [c for k, c in self.data_writes.items() if k.startswith(key + ".")]
                if written:
                    res = replace(res, cut=res.cut.union(*written))
        if self.fl.owner and isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self" and self.e.hooks is not None and (res.live or res.cut):
            cut = self.e.hooks.detaching_forward_hooks().get((self.fl.owner, f.attr))
            if cut is not None:
                # a forward hook on this part returns ``output.data`` (or ``output.detach()``): that replaces its output
                kind, at, detail = cut
                return cut_value(res, kind, at, detail)
        return res

    def _ev_call(self, node: ast.Call) -> Val:
        func = node.func
        args = [self.ev(a) for a in node.args]
        kwargs = {k.arg: self.ev(k.value) for k in node.keywords}
        kwnodes = {k.arg: k.value for k in node.keywords}
        q = self.im.qualname(func)
        if q is not None:
            return self.call_qualified(node, q, args, kwargs, kwnodes)
        if isinstance(func, ast.Attribute):
            recv = self.ev(func.value)
            res = self.call_method(node, recv, func.attr, args, kwargs, kwnodes)
            if isinstance(func.value, ast.Name) and recv.cls and recv.kind in ("module", "instance") and self.env.get(func.value.id) is recv:
                self._note_flags(func.value.id, recv, func.attr, node)
            elif func.attr in ("train", "eval") and recv.kind == "module" and isinstance(func.value, ast.Attribute):
                self._note_part_mode(func.value, func.attr, node)
            return res
        if isinstance(func, ast.Name):
            name = func.id
            local = self.env.get(name)
            if local is None:
                if name in self.e.functions:
                    return self.call_function(node, self.e.functions[name], None, args, kwargs)
                if name in self.e.modules.classes:
                    return self.instantiate(node, name, args, kwargs)
                if name in ("any", "all") and len(node.args) == 1 and not node.keywords and id(node.args[0]) in self.comprehension_elts:
                    # ``any(name.startswith(p) for p in keep)`` with every element decided the same way
                    decided = {c for v in self.comprehension_elts[id(node.args[0])] for c in (v.consts if v.consts is not None else {None})}
                    if decided == {False} and name == "any":
                        return constant(False)
                    if decided == {True} and name == "all":
                        return constant(True)
                if name in PYTHON_CASTS:
                    v = combine(*args) if args else CONST
                    if v.live and not all(a.ident and not a.leaf for a in args if a.live):
                        return cut_value(v, "item", node, f"{name}()", result_kind="python")
                    # a number made from a value that already lost its gradient (``float(np.mean(a))`` with ``a``
                    # from ``t.detach().numpy()``) stays cut: a tensor rebuilt from it reaches nothing
                    return Val(frozenset(), v.cut, kind="python") if v.cut else CONST
                if name in ("list", "tuple", "sum", "max", "min", "sorted", "reversed", "iter", "next", "zip", "enumerate", "dict", "set", "map", "filter", "abs", "pow", "getattr"):
                    if name in ("list", "tuple", "iter", "reversed", "sorted") and args and args[0].kind == "params":
                        return args[0]
                    if name == "map" and len(args) == 2 and not kwargs and isinstance(node.args[0], ast.Name) and node.args[0].id == "id" and "id" not in self.env:
                        whole = self._all_parameters_of(node.args[1])
                        if whole is not None:
                            return Val(kind="python", ids_of=frozenset((r, node) for r in whole))  # ``map(id, m.parameters())``
                    if name in ("set", "list", "tuple") and len(args) == 1 and not kwargs and args[0].ids_of is not None:
                        return Val(kind="python", ids_of=args[0].ids_of, pytype=name)
                    if name == "filter" and len(args) == 2 and args[1].kind == "params":
                        comp = _filter_comprehension(node)
                        if comp is not None:
                            # ``filter(lambda p: id(p) not in sparse_ids, model.parameters())`` is ``[p for p in
                            # model.parameters() if id(p) not in sparse_ids]``: the same parameters kept, the same left out
                            return self.ev(comp)
                        # ``filter(lambda p: p.requires_grad, model.parameters())``: those that require grad now
                        return replace(args[1], rg_filter=_tests_requires_grad(node.args[0]))
                    v = combine(*args, *kwargs.values()) if (args or kwargs) else CONST
                    if name in ("list", "tuple") and len(args) == 1 and not kwargs:
                        # ``maps = list(feature_maps)``: a Python container (item assignment into it changes no tensor)
                        return replace(v, kind=v.kind if v.kind in ("tensor", None) else None, pytype=name, items=args[0].items, ident=None, leaf=False, saved_output=None)
                    if name == "getattr" and 2 <= len(node.args) <= 3 and not node.keywords and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str) \
                            and node.args[1].value.isidentifier():
                        # ``getattr(model, "head_params")`` is ``model.head_params`` (or, given one, the default); a property of
                        # an in-file class runs its method
                        obj = args[0]
                        prop = self.e.modules.method(obj.cls, node.args[1].value) if obj.cls and obj.kind in ("module", "instance") else None
                        if prop is not None and any(isinstance(d, ast.Name) and d.id == "property" for d in getattr(prop, "decorator_list", ())):
                            read = self.call_function(node, prop, obj, [], {})
                        else:
                            read = self.ev(_getattr_attribute(node))
                        return join(read, args[2]) if len(args) == 3 else read
                    if name == "getattr" and args and args[0].ident:
                        return Val(frozenset({args[0].ident}), kind=args[0].kind)
                    return v if (v.live or v.cut) else Val(kind="python")
                if name == "setattr" and len(node.args) == 3 and not node.keywords:
                    self.set_attribute(node, args[0], node.args[1], args[2])
                    return NONE
                if name == "isinstance" and len(args) == 2 and not kwargs:
                    known = self._isinstance(args[0], node.args[1])
                    if known is not None:
                        return constant(known)
                if name in ("len", "isinstance", "print", "str", "repr", "range", "type", "hasattr", "id", "format", "callable", "round", "issubclass", "super", "vars", "open", "setattr"):
                    if name == "round" and args and args[0].live:
                        return cut_value(args[0], "python", node, "round()", result_kind="python")
                    if name == "super":
                        selfv = self.env.get("self")
                        return selfv if selfv else CONST
                    if name == "type" and len(args) == 1 and not kwargs and args[0].kind in ("module", "instance") and args[0].cls in self.e.modules.classes:
                        # ``type(model)``: the object's class, so ``type(model)(**cfg)`` builds a new instance of it
                        return Val(kind="class", cls=args[0].cls)
                    return CONST
            callee = local if local is not None else self.ev(func)
            return self.call_value(node, callee, args, kwargs)
        callee = self.ev(func)
        return self.call_value(node, callee, args, kwargs)

    def _note_flags(self, name: str, recv: Val, method: str, node: ast.Call) -> None:
        """After ``name.method(...)`` on an object of an in-file class: the attributes the method sets to constants at its
        top level (``self.gradient_checkpointing = True``), and ``training`` for a module's ``train()`` / ``eval()``,
        are known on the object from here on (for the methods the caller runs on it next)."""
        got: dict = dict(recv.flags or ())
        if recv.kind == "module" and method in ("train", "eval") and self.e.modules.method(recv.cls or "", method) is None:
            got = {k: v for k, v in got.items() if not k.endswith(".training")}  # (every part follows the whole)
            on = method == "train" and not (node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value is False)
            if method == "train" and node.args and not isinstance(node.args[0], ast.Constant):
                got.pop("training", None)
            else:
                got["training"] = constant(on)
        else:
            m = self.e.modules.method(recv.cls or "", method)
            if not isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return
            constants, changed = self.e.constant_self_sets(m)
            got.update(constants)
            for attr in changed:
                got.pop(attr, None)
        flags = tuple(sorted(got.items())) or None
        if flags != recv.flags:
            self.env[name] = replace(recv, flags=flags)

    def _apply_saves(self, cls: str, node: ast.Call, res: Val) -> Val:
        """``Fn.apply(...)`` of a custom Function whose ``forward`` saves some of its inputs (``ctx.save_for_backward(feat,
        flow)``) or its output: those tensors are saved for backward from here on (an in-place change to one raises)."""
        if self.mode.enabled and not any(isinstance(a, ast.Starred) for a in node.args):
            saves_out, saves_in = self.e.function_saves(cls)
            if saves_in:
                self.mark_saved([a for i, a in enumerate(node.args) if i in saves_in], f"{cls}.forward", res, from_arguments=True)
            if saves_out and res.live and any(r != UNKNOWN and not r.startswith("arg:") for r in res.live):
                res = replace(res, saved_output=f"{cls}.forward")
        return res

    def _note_part_mode(self, part: ast.Attribute, method: str, node: ast.Call) -> None:
        """``model.quantize.eval()``: the part's ``training`` is known on the object it belongs to from here on
        (``quantize.training`` among ``model``'s flags), for the methods the caller runs on it next; a computed flag
        (``train(mode)``) forgets it."""
        path = []
        e: ast.AST = part
        while isinstance(e, ast.Attribute):
            path.append(e.attr)
            e = e.value
        if not isinstance(e, ast.Name) or not path:
            return
        owner = self.env.get(e.id)
        if owner is None or owner.kind not in ("module", "instance") or not owner.cls:
            return
        key = ".".join(reversed(path)) + ".training"
        got: dict = dict(owner.flags or ())
        got = {k: v for k, v in got.items() if not k.startswith(key[: -len("training")]) or k == key}  # (its own parts follow it)
        if method == "train" and node.args and not isinstance(node.args[0], ast.Constant):
            got.pop(key, None)
        else:
            got[key] = constant(method == "train" and not (node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value is False))
        flags = tuple(sorted(got.items())) or None
        if flags != owner.flags:
            self.env[e.id] = replace(owner, flags=flags)

    def call_value(self, node: ast.Call, callee: Val, args: list, kwargs: dict) -> Val:
        if callee.kind == "function" and callee.func is not None:
            return self.op_result(self.call_function(node, callee.func, None, args, kwargs))
        if callee.kind == "class" and callee.cls:
            return self.instantiate(node, callee.cls, args, kwargs)
        if callee.seq and not callee.cls and len(args) == 1 and not kwargs:
            return self.run_sequence(node, callee, args[0])
        if callee.elem_cls and not callee.cls:
            fwd = self.e.modules.method(callee.elem_cls, "forward")
            if fwd is not None:  # a Sequential of one in-file class: each element's forward, in turn
                return self.op_result(self.call_function(node, fwd, replace(callee, cls=callee.elem_cls, elem_cls=None), args, kwargs))
        if callee.cls and callee.kind in ("module", "instance"):
            fwd = self.e.modules.method(callee.cls, "forward" if callee.kind == "module" else "__call__")
            if fwd is not None:
                res = self.op_result(self.call_function(node, fwd, callee, args, kwargs))
                if callee.kind == "module":
                    self.mark_forward_saves(node, callee.cls, res)
                    res = _with_wrapped(res, callee)
                return res
        if callee.kind in ("python", "none", "import"):
            return combine(*args, *kwargs.values()) if any(a.live or a.cut for a in [*args, *kwargs.values()]) else Val(kind=None)
        if callee.kind != "module" and not (callee.ident or "").startswith("arg:"):
            # (a callable the function is given, ``head(feats)``, is taken for the layer it usually is)
            args, kwargs = self.unseen_callee(args), dict(zip(kwargs, self.unseen_callee(list(kwargs.values()))))
        # (a layer built from a Python number taken off a parameter, ``nn.Threshold(t.item(), 0.0)``, passes its output on
        # with that cut: the number decides the output, and no gradient goes back to ``t``)
        kept = frozenset(rc for rc in callee.cut if rc[1].kind in ("item", "tolist") or _wrapping(rc[1])) if callee.cut and callee.kind == "module" else frozenset()
        v = combine(replace(callee, cut=kept), *args, *kwargs.values())
        return self.op_result(v)

    def run_pre_hooks(self, node: ast.Call, hooks: tuple, module: Val, args: list) -> list:
        """The layer's positional inputs after its forward pre-hooks ran: a hook (a lambda or a function of the file) is
        called with the module and the tuple of inputs; a tuple it returns is the new input, another value the new
        single input, None leaves them."""
        for fn in hooks:
            params = [a.arg for a in fn.args.args]
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and params and params[0] == "self":
                return args  # (a method: its object is not this walk's)
            if len(params) != 2:
                return args
            given = _tuple_val(tuple(args))
            if isinstance(fn, ast.Lambda):
                saved = dict(self.env)
                self.env[params[0]], self.env[params[1]] = module, given
                try:
                    out = self.ev(fn.body)
                finally:
                    self.env = saved
            else:
                out = self.call_function(node, fn, None, [module, given], {})
            if out.kind == "none":
                continue
            args = list(out.items) if out.items is not None and out.pytype != "list" else [out]
        return args

    def run_sequence(self, node: ast.Call, callee: Val, x: Val) -> Val:
        """Calling a Sequential: each element in turn, on the previous one's output. An element of an in-file
        Module class runs its ``forward`` with ``self`` the element (``model.enc.0``, as torch names it)."""
        for i, cls in enumerate(callee.seq or ()):
            eid = f"{callee.ident}.{i}" if callee.ident else None
            elem = Val(frozenset({eid}) if (eid and callee.live) else callee.live, callee.cut, kind="module", cls=cls, ident=eid)
            fwd = self.e.modules.method(cls, "forward") if cls else None
            if fwd is not None:
                x = self.op_result(self.call_function(node, fwd, elem, [x], {}))
                x = _with_wrapped(x, callee)
            else:
                x = self.op_result(combine(replace(elem, cut=frozenset()), x))
        return x

    def functional_call(self, module: Val, params: Val, rest: list, kwargs: dict) -> Optional[Val]:
        """``torch.func.functional_call(module, params, args)`` runs ``module`` with the tensors of ``params`` in place of its
        own parameters: when ``params`` is built from every parameter of the module (its values come from the module's
        root itself: ``{n: p.detach().clone().requires_grad_() for n, p in module.named_parameters()}``, and what inner
        steps make of it), the output's gradient reaches what ``params`` carries, not the module's parameters directly.
        None when ``params`` is not known to replace them all (a dict of a few named tensors)."""
        roots = module.live - {UNKNOWN}
        if not roots or module.ident is None or module.ident not in roots:
            return None
        carried = params.live | {r for r, _c in params.cut}
        if module.ident not in carried:
            return None  # (a dict of some parts' tensors: the module's other parameters are used as they are)
        return self.op_result(combine(Val(params.live, params.cut), *rest, *kwargs.values()))

    def reentrant_checkpoint(self, node: ast.Call, q: str, args: list, kwargs: dict, kwnodes: dict) -> Optional[Val]:
        """``checkpoint(fn, *inputs, use_reentrant=True)`` (also the default when ``use_reentrant`` is not passed) runs
        ``fn`` under no_grad and reconnects to autograd only through its tensor inputs: when none of them requires grad
        (raw images, token ids), the output has no grad_fn and ``fn``'s parameters get no gradient. None when that is
        not known (non-reentrant, an input that may require grad, a keyword the call does not spell out)."""
        flag = kwnodes.get("use_reentrant")
        if flag is not None and not (isinstance(flag, ast.Constant) and flag.value is True):
            return None
        if any(k.arg is None for k in node.keywords):
            return None
        if any(isinstance(a, ast.Starred) for a in node.args):
            flat: list = []
            for a_node, a_val in zip(node.args, args):
                if isinstance(a_node, ast.Starred):
                    if a_val.items is None:
                        return None  # (what the starred argument holds is not known)
                    flat.extend(a_val.items)
                else:
                    flat.append(a_val)
            args = flat
        n_fn = 2 if q.endswith("checkpoint_sequential") else 1  # (functions, segments, input)
        fn, inputs = args[0], args[n_fn:]
        if n_fn == 1 and (fn.live - {UNKNOWN}):
            made = self._returns_container(fn)
            if made is not None:
                # the Function behind it gives a backward node only to the tensors it returns itself or in a tuple: the
                # tensors inside a dict, a list or an object come back as computed, under no_grad
                detail = f"{q.rsplit('.', 1)[-1]}(..., use_reentrant=True) of a function that returns {made}"
                return cut_value(combine(*args), "reentrant", node, detail)
        if not inputs or not (fn.live - {UNKNOWN}) or any(a.live or a.leaf or a.kind not in ("tensor", "python", "numpy", None) for a in inputs):
            return None
        detail = f"{q.rsplit('.', 1)[-1]}(..., use_reentrant=True) whose inputs do not require grad"
        return cut_value(combine(*args), "reentrant", node, detail)

    def _returns_container(self, fn: Val) -> Optional[str]:
        """What the module's ``forward`` (or the function) ``fn`` stands for returns, when every ``return`` gives a container
        that is not a tuple: "a dict", "a list", or "a `<Class>`" object of a plain class of the file (a dataclass of
        outputs); None otherwise."""
        fdef: Optional[ast.AST] = None
        if fn.kind == "module" and fn.cls in self.e.modules.classes:
            fdef = self.e.modules.method(fn.cls, "forward")
        elif fn.kind == "function" and isinstance(fn.func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            fdef = fn.func
        if fdef is None:
            return None
        kinds = set()
        for r in walk_nodes(fdef):
            if isinstance(r, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and r is not fdef:
                return None  # (a nested function's returns are not told apart here)
            if not isinstance(r, ast.Return):
                continue
            v = r.value
            if isinstance(v, (ast.Dict, ast.DictComp)) or (isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "dict" and v.func.id not in self.e.modules.classes):
                kinds.add("a dict")
            elif isinstance(v, (ast.List, ast.ListComp)):
                kinds.add("a list")
            elif isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and (info := self.e.modules.classes.get(v.func.id)) is not None \
                    and info.is_module is False and not info.is_autograd_function and not info.base_names:
                kinds.add(f"a `{v.func.id}` object")
            else:
                return None
        return kinds.pop() if len(kinds) == 1 else None

    def instantiate(self, node: ast.Call, cls: str, args: list, kwargs: Optional[dict] = None) -> Val:
        info = self.e.modules.classes[cls]
        if info.is_autograd_function:
            return Val(kind="class", cls=cls)
        model = (kwargs or {}).get("model") or (args[0] if args else None)
        if info.framework == "hf_trainer" and model is not None and model.kind == "module":
            for step in ("compute_loss", "training_step"):
                cl = self.e.modules.method(cls, step)
                if cl is not None:  # the Trainer calls compute_loss / training_step with the model it was given
                    # (and a batch from its data loader: data, that requires no grad)
                    self.e.flow_in_context(cl, node, {"self": Val(kind="instance", cls=cls), 0: model, 1: Val(kind=None)}, self.mode)
            self._trainer_optimizer(node, cls, model, kwargs or {})
        if self.e.modules.built_from_keywords(cls):
            v = combine(*args, *(kwargs or {}).values())
            entries = tuple((k, kv) for k, kv in (kwargs or {}).items() if k) or None
            if v.live or v.cut:  # (as any outside constructor: ``ModelOutput(loss=loss, logits=logits)``)
                return replace(v, fields=entries)
            return Val(frozenset(), kind="instance", cls=cls, ident=NEW, fields=entries)
        if info.is_module is False:
            init = info.methods.get("__init__")
            if init is not None and args:
                # a trainer's constructor freezing the model it is given (a Module's constructor that freezes a
                # module it is given wraps it: the frozen object is then a part of the new one, under another path)
                self._requires_grad_changes(node, init, args)
            # a plain class (a trainer, a data record): not a gradient root itself; its methods see their
            # own ``self`` parameters (``self.model``) through the instance's name, and the modules its
            # constructor keeps as given (``self.model = model``) as those modules
            kept = self._kept_modules(cls, args, kwargs or {})
            if kept and init is not None and self.e.calls_optimizer_ctor(init):
                kept = kept + self._constructor_optimizers(node, init, cls, kept, args, kwargs or {})
            return Val(frozenset(), kind="instance", cls=cls, ident=NEW, fields=kept or None)
        if self.e.modules.owns_no_parameters(cls):  # (a loss written as a Module): never a root of gradient
            return Val(frozenset(), kind="module", cls=cls, ident=NEW)
        config = self._registered_config(cls, node)
        wrapped = self._wrapped_arguments(cls, node, args, kwargs or {})
        return Val(frozenset({NEW}), wrapped, kind="module", cls=cls, ident=NEW, flags=(("config", config),) if config is not None else None)

    def _wrapped_arguments(self, cls: str, node: ast.Call, args: list, kwargs: dict) -> frozenset:
        """The cuts a Module's constructor makes of the tensors it is given when it wraps them in ``nn.Parameter``
        (``self.weight = nn.Parameter(weight)`` with ``weight`` generated by a hypernetwork): the new leaf shares their
        values and none of their history, so what the module computes with it sends no gradient back to them."""
        init = self.e.modules.classes[cls].methods.get("__init__")
        if init is None or not (args or kwargs):
            return frozenset()
        cache = self.e.__dict__.setdefault("_parameter_wraps", {})
        wraps = cache.get(cls)
        if wraps is None:  # the ``nn.Parameter(<argument>)`` calls of the constructor
            wraps = cache[cls] = [sub for sub in walk_nodes(init) if isinstance(sub, ast.Call) and sub.args and isinstance(sub.args[0], ast.Name)
                                  and (self.im.qualname(sub.func) or "") in PARAMETER_CTORS]
        if not wraps:
            return frozenset()
        params = [a.arg for a in init.args.args[1:]]
        given: dict = {}
        for i, a in enumerate(args):
            if i < len(node.args) and isinstance(node.args[i], ast.Starred):
                break
            if i < len(params):
                given[params[i]] = a
        given.update({k: v for k, v in kwargs.items() if k in params})
        cut: frozenset = frozenset()
        for sub in wraps:
            v = given.get(sub.args[0].id)
            if v is not None and v.kind in ("tensor", None) and v.live - {UNKNOWN}:
                cut = cut | cut_value(v, "rewrap", sub, "nn.Parameter()").cut
        return cut

    def _registered_config(self, cls: str, node: ast.Call) -> Optional[Val]:
        """``self.config`` of a diffusers-style Module whose ``__init__`` is decorated ``@register_to_config``: the
        constructor's arguments by name, as this call gives them (a constant passed, else the constant default). Only
        the arguments known as constants are entries; None when the class does not register its config."""
        init = self.e.modules.classes[cls].methods.get("__init__")
        if not isinstance(init, ast.FunctionDef) or not any(
            (d.id if isinstance(d, ast.Name) else d.attr if isinstance(d, ast.Attribute) else "") == "register_to_config" for d in init.decorator_list
        ):
            return None
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            return None
        params = init.args.args[1:]
        defaults = dict(zip([a.arg for a in params[len(params) - len(init.args.defaults):]], init.args.defaults))
        given = {**{params[i].arg: a for i, a in enumerate(node.args) if i < len(params)}, **{k.arg: k.value for k in node.keywords if k.arg}}
        entries = []
        for a in params:
            v = given.get(a.arg, defaults.get(a.arg))
            if isinstance(v, ast.Constant) and isinstance(v.value, (bool, int, float, str, type(None))):
                entries.append((a.arg, Val(kind="python", consts=frozenset({v.value}))))
        return Val(kind="python", fields=tuple(entries))

    def _trainer_optimizer(self, node: ast.Call, cls: str, model: Val, kwargs: dict) -> None:
        """A Hugging Face ``Trainer`` subclass built for ``model``: the optimizer it steps. Given one
        (``optimizers=(opt, None)``), that one; else, when the class (or an in-file base) overrides ``create_optimizer``,
        the optimizer that method builds, walked with ``self.model`` the model given (the Trainer calls it once, when
        ``train()`` starts); else its own, from every parameter (value None)."""
        given = kwargs.get("optimizers")
        if given is not None:
            opt = given.items[0] if given.items else None
            self.record("trainer_built", node, target=model, value=opt if opt is not None and opt.kind == "optimizer" and opt.params else None)
            return
        co = self.e.modules.method(cls, "create_optimizer")
        if co is None:
            self.record("trainer_built", node, target=model, value=None)
            return
        fl = self.e.flow_in_context(co, node, {"self": Val(kind="instance", cls=cls, fields=(("model", model),))}, self.mode)
        sites = fl.optimizers if fl is not None else []
        if len(sites) != 1:
            return  # (not known: no trainer_built, so nothing is claimed about the optimizer it steps)
        o = sites[0]
        self.record("trainer_built", node, target=model, value=Val(kind="optimizer", params=o.covered, origin=o.node, held_out=o.held_out, left_out=o.left_out))

    def _constructor_optimizers(self, node: ast.Call, init: ast.AST, cls: str, kept: tuple, args: list, kwargs: dict) -> tuple:
        """``(attr, optimizer)`` for each ``self.<attr> = <optimizer>`` of a plain class's constructor (a trainer built as
        ``Trainer(model)``), walked with the values this call gives it: the optimizer in the caller's terms (the parameters
        of ``model`` it holds, the parts its filters leave out), for the methods that step it (``self.optimizer.step()``)."""
        binding: dict = {"self": Val(kind="instance", cls=cls, fields=kept)}
        binding.update({i: a for i, a in enumerate(args)})
        binding.update({k: v for k, v in kwargs.items() if k})
        fl = self.e.flow_in_context(init, node, binding, self.mode, caller=self)
        if fl is None:
            return ()
        out = []
        names = {a for a, _v in kept}
        built: dict = {}  # attr -> the optimizers this constructor assigns it (one per assignment it walked)
        for ev in fl.events:
            if ev.what == "attr_assign" and ev.name and ev.name not in names and ev.value is not None and ev.target is not None \
                    and ev.target.kind == "instance" and ev.target.cls == cls:
                built.setdefault(ev.name, []).append(ev.value)
        for name, vals in built.items():
            assigned = self.e.modules.classes[cls].attr_values.get(name, ())
            lo: int = getattr(init, "lineno", 0)
            hi: int = getattr(init, "end_lineno", None) or lo
            if not assigned or not all(lo <= getattr(v, "lineno", 0) <= hi for v in assigned) \
                    or not all(v.kind == "optimizer" and v.params for v in vals):
                continue
            # (every assignment is in this constructor: the ones this call runs, e.g. one per branch of an ``if`` choosing the
            # optimizer's class, ``SGD(net.parameters())`` or ``AdamW(net.parameters())``; whichever runs holds what it holds)
            first = vals[0]
            out.append((name, replace(first, ident=None, params=frozenset().union(*(v.params for v in vals)),
                                      held_out=frozenset.intersection(*(v.held_out for v in vals)), left_out=frozenset.intersection(*(v.left_out for v in vals)))))
        return tuple(out)

    def _kept_modules(self, cls: str, args: list, kwargs: dict) -> tuple:
        """``(attr, module)`` for each ``self.<attr> = <parameter>`` of ``cls.__init__`` (the attribute's only
        assignment in the class) whose argument here is a module (or an optimizer over known parameters): the object
        holds that very module (that optimizer)."""
        kept = self.e.modules.kept_parameters(cls)
        if not kept:
            return ()
        init = self.e.modules.classes[cls].methods["__init__"]
        params = [a.arg for a in init.args.args[1:]]
        out = []
        for attr, p in kept.items():
            if p not in params:
                continue  # (a positional-only parameter: not given by keyword)
            i = params.index(p)
            given = kwargs.get(p) or (args[i] if i < len(args) else None)
            if given is not None and given.kind == "module" and given.ident and given.ident not in (NEW, UNKNOWN):
                out.append((attr, given))
            elif given is not None and given.kind == "optimizer" and given.params:
                out.append((attr, given))  # (an optimizer the caller built: ``GANTrainer(G, D, opt_g, opt_d)``)
        return tuple(out)

    def call_function(self, node: ast.Call, fn: ast.AST, selfv: Optional[Val], args: list, kwargs: dict, skip: int = 0) -> Val:
        """``skip``: how many of the call's positional arguments bind ahead of ``args`` (the receiver of a method called
        through its class)."""
        if self.e.is_autograd_function_method(fn):
            return combine(*args)
        result = self._call_function(node, fn, selfv, args, kwargs)
        saved = self.e.flow(fn).saved_params
        if saved and self.mode.enabled:
            # ``contrastive_loss(q, y, self.memory.feats, ...)`` with ``q @ keys.t()`` inside: the caller's tensor is saved
            # (an attribute of an object, a buffer of a part: the object's state, which its methods may write later; a local
            # name the helper saves is followed where the helper is walked with the caller's values)
            names = self.e.flow(fn).args
            for i, a in enumerate(node.args[skip:]):
                if i < len(names) and names[i] in saved and (isinstance(a, ast.Attribute) or (
                        isinstance(a, ast.Name) and i < len(args) and args[i].kind == "tensor" and saved[names[i]][3:][:1].isupper())):
                    # (a local tensor too: ``w = self.att(cum)`` with ``self.conv(cum.unsqueeze(1))`` in the forward saves the
                    # caller's ``cum``, data or not, for the convolution's weight gradient; a layer saved it, not an
                    # arithmetic op the callee may run on a number it is given, ``planes * block.expansion``)
                    self.mark_saved([a], saved[names[i]][3:], result)
        leak = self.e.flow(fn).leaves_grad_disabled
        if leak is not None and self.mode.enabled:
            self.mode = leak  # ``evaluate()`` turned autograd off for good: what follows runs without it
        return result

    def _replacements(self, node: ast.Call, fn: ast.AST, selfv: Optional[Val], args: list) -> None:
        """The submodules a callee replaces on its receiver or arguments, as events of this call."""
        if not self.e.syntax_of(fn)[1] and not (
            # (a method putting a module built a few lines before on its object: ``new = Tower(...)`` ... ``self.tower = new``)
            selfv is not None and selfv.kind == "module" and self.e.lines is not None and self.e.text().search(_SELF_ATTR_FROM_NAME, fn)
        ):
            return
        summary = self.e.flow(fn)
        for ev in summary.events:
            if ev.what != "replace" or not ev.name:
                continue
            head, _, rest = ev.name.partition(".")
            owner: Optional[Val] = None
            if head == "self":
                owner = selfv
            elif head.startswith("arg:") and head[4:].isdigit() and int(head[4:]) < len(args):
                owner = args[int(head[4:])]
            if owner is not None and not owner.ident and owner.kind == "module" and len(owner.live) == 1 and rest and next(iter(owner.live)) not in (UNKNOWN, NEW):
                # (an element of a module's container, ``for layer in pl_module.hidden: rewind(layer)``: a part of it)
                self.record("replace", node, target=owner, value=ev.value, name=f"{next(iter(owner.live))}[].{rest}", extra=str(ev.node.lineno), origin=ev.node)
            elif owner is not None and owner.ident and rest:
                self.record("replace", node, target=owner, value=ev.value, name=f"{owner.ident}.{rest}", extra=str(ev.node.lineno), origin=ev.node)
            elif owner is not None and owner.ident and ev.extra == "assign":  # (``load_state_dict(sd, assign=True)`` on the argument)
                self.record("replace", node, target=owner, value=replace(owner, live=frozenset({owner.ident})), name=owner.ident, extra="assign", origin=ev.node)

    def _context_replacements(self, node: ast.Call, ctx: FunctionFlow) -> None:
        """The submodules a callee analyzed with this caller's values replaced on the caller's objects (those the
        summary cannot name: a setter reached through a method of the argument, ``model.set_input_embeddings(new)``),
        as events of this call."""
        known = {ev.name for ev in self.fl.events if ev.what == "replace" and ev.node is node}
        for ev in ctx.events:
            if ev.what != "replace" or not ev.name or ev.name in known or ev.target is None:
                continue
            head = ev.name.split(".", 1)[0]
            if head in (UNKNOWN, NEW, "self") or head.startswith("arg:") or ("." not in ev.name and ev.extra != "assign"):
                continue
            known.add(ev.name)
            via = ev.node if isinstance(ev.node, ast.Call) else ev.origin  # (the call in the callee that reached the setter)
            self.record("replace", node, target=ev.target, value=ev.value, name=ev.name, extra=ev.extra or str(ev.node.lineno), origin=via, given=ev.given)

    def _requires_grad_changes(self, node: ast.Call, fn: ast.AST, args: list, selfv: Optional[Val] = None) -> None:
        """A helper that sets ``requires_grad`` on what an argument holds (``def set_trainable(module, flag): for p in
        module.parameters(): p.requires_grad = flag``) changes the caller's object where it is called: one
        ``requires_grad_via_call`` event per change whose value is known (a literal in the helper, or a literal the
        caller passes for the helper's parameter), ``extra`` "True" / "False"."""
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return
        touches = self.e.touches_requires_grad.get(id(fn))
        if touches is None:
            touches = bool(self.e.text().search(_REQUIRES_GRAD_WORD, fn)) if self.e.lines is not None else "requires_grad" in ast.unparse(fn)
            if not touches:
                # (or it calls a function of the file that does, at any depth: ``validate`` calls ``set_trainable``)
                callers = self.e.requires_grad_callers()
                touches = callers is not None and bool(self.e.text().search(callers, fn))
            self.e.touches_requires_grad[id(fn)] = touches
        if not touches:
            return
        partial_ids = per_part_branches(fn, self.e.imports)
        seen: set = set()
        for ev in self.e.flow(fn).events:
            nested = ev.what == "requires_grad_via_call" and ev.extra in ("True", "False")
            if ev.target is None or not ((ev.what == "requires_grad_set" and ev.name == "requires_grad") or ev.what == "requires_grad_call" or nested):
                continue
            if id(ev.node) in partial_ids:
                continue  # (a change to some parts only: ``if not isinstance(m, LoRA):`` in a loop over ``modules()``)
            key = (id(ev.node), ev.extra, ev.target.live, ev.target.ident)
            if key in seen:
                continue  # (a loop's body is walked twice)
            seen.add(key)
            if nested:
                # a helper's own helper (``validate`` calls ``set_trainable(model, False)``): its change, already decided
                # in the helper's terms, is the caller's at this call
                expr: Optional[ast.AST] = ast.Constant(ev.extra == "True")
            elif ev.what == "requires_grad_set":
                expr = getattr(ev.stmt, "value", None) if isinstance(ev.stmt, ast.Assign) else None
            else:
                call = ev.node if isinstance(ev.node, ast.Call) else None
                kw = next((k.value for k in call.keywords if k.arg == "requires_grad"), None) if call is not None else None
                expr = kw or (call.args[0] if call is not None and call.args else ast.Constant(True))
            flag = _argument_constant(fn, expr, node) if expr is not None else None
            if not isinstance(flag, bool):
                continue
            roots = set()
            for r in set(ev.target.live) | ({ev.target.ident} if ev.target.ident else set()):
                head, dot, rest = r.partition(".")
                if head == "self" and selfv is not None and selfv.kind == "module" and selfv.ident and selfv.ident not in (UNKNOWN, NEW) \
                        and not selfv.ident.startswith(("self", "arg:")):
                    # a method of the model called from outside (``model.freeze_feature_encoder()``): the change to the
                    # caller's object
                    roots.add(selfv.ident + dot + resolve_getters(self.e, selfv.cls, rest))
                    continue
                if not (head.startswith("arg:") and head[4:].isdigit() and int(head[4:]) < len(args)):
                    continue
                a = args[int(head[4:])]
                if not rest and flag is False and a.kind == "tensor" and a.items is None and a.fields is None and a.pytype is None and not a.leaf and a.ident is None and (a.live - {UNKNOWN}) and self.mode.enabled:
                    # ``freeze(t_logits)`` on a tensor computed with grad: ``requires_grad_(False)`` on a non-leaf raises
                    self.record("requires_grad_nonleaf_call", node, target=a, extra=str(flag), origin=ev.node, name=head[4:])  # (name: which argument)
                    continue
                base = a.ident if a.ident and a.ident not in (UNKNOWN, NEW) else None
                if a.wrapper and (rest == "module" or rest.startswith("module.")):
                    # (``model.module`` of a DataParallel / DDP wrapper is the wrapped model, the caller's ``model``)
                    rest = rest[len("module."):] if rest.startswith("module.") else ""
                    dot = "." if rest else ""
                if base is not None:
                    # (also a part of this function's own argument, ``set_trainable(model.backbone, True)`` in a callback
                    # event given ``model``: the change to what the caller passes)
                    roots.add(base + dot + resolve_getters(self.e, a.cls, rest))
                elif base is None and not rest and a.items and all(it.kind == "module" and it.ident and it.ident not in (UNKNOWN, NEW) for it in a.items):
                    # ``set_requires_grad([self.netD_A, self.netD_B], False)``: a list of modules, each changed whole (the
                    # helper's loop over its elements leaves the element roots as the argument itself)
                    roots.update(it.ident for it in a.items if not it.ident.startswith("arg:"))
            if roots:
                self.record("requires_grad_via_call", node, target=Val(frozenset(roots), kind="module"), extra=str(flag), origin=ev.node)

    def hand_written(self, fn: ast.AST) -> tuple:
        """Roots (``arg:N...``, ``self...``) whose parameters ``fn``, or a function it calls, writes outside
        autograd from values that read no ``.grad``: ``t.data = tau * t.data + (1 - tau) * p.data``, ``t.copy_(p)``,
        ``t.data.mul_(m).add_(p.data, alpha=1 - m)`` (an EMA, Polyak-averaged or copied target network)."""
        got = self.e.hand_writes.get(id(fn))
        if got is None and getattr(fn, "name", None) not in self.e.hand_writers():
            got = self.e.hand_writes[id(fn)] = ()
        if got is None:
            self.e.hand_writes[id(fn)] = ()  # (a recursive call sees none)
            roots: set = set()
            for ev in self.e.flow(fn).events:
                roots |= hand_written_roots(ev, fn)
            got = self.e.hand_writes[id(fn)] = tuple(sorted(roots))
        return got

    def _hand_writes_at(self, node: ast.Call, fn: ast.AST, selfv: Optional[Val], args: list) -> None:
        """The callee's writes by hand, as a ``hand_set_via_call`` event of this call on the caller's roots."""
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return
        written = self.hand_written(fn)
        if not written:
            return
        roots = {c for r in written if (c := _in_caller(r, selfv, args)) is not None}
        if roots:
            self.record("hand_set_via_call", node, target=Val(frozenset(roots), kind="module"))

    def _element_module(self, recv: Val) -> bool:
        """Is ``recv`` a module of no known class in a program whose own Module classes define a ``backward`` method
        (``for flow in self.flows: z, ld = flow.backward(z)``, normalizing flows whose ``backward`` is the inverse)? It may
        be one of them: ``flow.backward(z)`` is then a method of its class, not the backward of a loss (an ``nn.Module``
        has no ``backward`` of its own)."""
        if recv.kind != "module" or recv.wrapper or recv.cls is not None:
            return False
        return any(info.is_module and "backward" in info.methods for info in self.e.modules.classes.values())

    def _tensor_method_on_module(self, recv: Val, name: str) -> bool:
        """``x.detach()`` where the walk holds ``x`` as a module without a class of the file that defines the method
        (an attribute of a module read after a loop that stored tensors in it): ``nn.Module`` has no such method, so
        ``x`` is a tensor."""
        if recv.kind != "module" or name not in ("detach", "detach_") or recv.seq is not None or recv.elem_cls is not None:
            return False
        return recv.cls is None or self.e.modules.method(recv.cls, name) is None

    def _steps_at(self, node: ast.Call, fn: ast.AST, selfv: Optional[Val], args: list) -> None:
        """The optimizer steps the callee makes with grad on (``self.update_critic(...)`` whose body calls
        ``self.critic_optimizer.step()``), as a ``step_via_call`` event of this call whose target is an optimizer over
        the caller's roots: the call updates those parameters in place. Only parameters named from the receiver or the
        arguments."""
        if selfv is None or not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or not self.e.calls_step(fn):
            return  # (methods only: a function's own walk, made here, would come before its callers' context walks)
        params: set = set()
        first = None
        for ev in self.e.flow(fn).events:
            if ev.what != "step" or ev.target is None or ev.target.kind != "optimizer" or not ev.mode.enabled:
                continue
            first = first or ev.node
            params |= {c for r in ev.target.params if (c := _in_caller(r, selfv, args)) is not None}
        if params:
            self.record("step_via_call", node, target=Val(kind="optimizer", params=frozenset(params)), origin=first)

    def _receiver_state(self, node: ast.Call, fn: ast.AST, selfv: Optional[Val]) -> tuple:
        """``(key, state, stores)`` for a call of a method ``fn`` on a receiver named by ``key`` (``self``, ``model``,
        ``self.tracker``): ``state`` the tensors this walk left on the receiver that ``fn`` reads (``{"self.protos":
        v}``), and ``stores`` whether ``fn`` stores attributes this function reads back from the receiver later."""
        if selfv is None or not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None, {}, False
        f = node.func
        key = _env_key(f.value) if isinstance(f, ast.Attribute) and f.attr == fn.name else _env_key(f)
        params = [*fn.args.posonlyargs, *fn.args.args]
        if key is None or not params:
            return None, {}, False
        state: dict = {}
        if self.attr_state:
            prefix = key + "."
            reads = self.e.attribute_reads(fn, params[0].arg)
            for k, v in self.env.items():
                if k.startswith(prefix) and k[len(prefix):].split(".", 1)[0] in reads:
                    state["self." + k[len(prefix):]] = v
        stores = self.e._self_stores(fn)
        later = bool(stores) and self.mode.enabled and any(a in self.e.attribute_reads(self.node, key) for a in stores)
        return key, state, later

    def _call_function(self, node: ast.Call, fn: ast.AST, selfv: Optional[Val], args: list, kwargs: dict) -> Val:
        self._replacements(node, fn, selfv, args)
        self._requires_grad_changes(node, fn, args, selfv)
        self._hand_writes_at(node, fn, selfv, args)
        self._steps_at(node, fn, selfv, args)
        recv_key, state, stores_read = self._receiver_state(node, fn, selfv)
        free = self._closure_values(fn) if selfv is None else {}
        # a callee analyzed with its caller's values: when they carry identity a summary would lose, or when
        # grad mode is off and the callee backpropagates (its losses are built without a graph)
        vals = [*args, *kwargs.values()]
        if (self.e.syntax_of(fn)[2] and self.mode.enabled and any(_carries_program_roots(v) and v.live for v in vals)) or any(_needs_context(v) for v in vals) or (
            # a method of an object that keeps the modules it was built with (``trainer.fit()`` reads ``self.model``)
            selfv is not None and selfv.kind == "instance" and selfv.fields is not None
        ) or (
            # a dict / output object / tuple of outputs: its entries matter when the callee cuts or backpropagates
            any((v.fields is not None or v.items is not None) and v.live for v in vals) and (self.e.flow(fn).returns.cut or self.e.flow(fn).loss_sites)
        ) or (
            self.e.syntax_of(fn)[0] and self.e.flow(fn).loss_sites and (not self.mode.enabled or any(_carries_program_roots(v) for v in vals))
        ) or (
            # a tensor an op saved for backward, given to a helper that writes into its argument in place (``h =
            # F.relu(...); drop_rows(h, p)`` with ``h[mask] = 0.0`` in the helper): the caller's saved tensor changes
            self.mode.enabled and any(v.live and (v.saved_output or v.multi_view) for v in vals) and self.e.writes_into_argument(fn)
        ) or (
            # a helper that writes in place into what an op saved for backward computed from its arguments (``decode(p)``
            # with ``y = p.sigmoid(); y[..., :2] = ...``), given a tensor that carries this program's trainable values
            self.mode.enabled and any(v.live and _carries_program_roots(v) for v in vals) and self.e.writes_into_saved_argument_result(fn)
        ) or (
            # a training function given constants (``run_epoch(model, loader, opt, "train")``): they decide its branches
            self.e.syntax_of(fn)[0] and any(v.consts for v in vals)
        ) or (
            # a helper whose result is cut on some path, given constants that may decide which (``encode(x,
            # synthetic=True)`` with ``if synthetic: feats = feats.detach()``)
            any(v.consts for v in vals) and self.mode.enabled and self.e.flow(fn).returns.cut
        ) or (
            # the same with the constants the call leaves at their defaults (``sample_codes(logits, tau)`` with
            # ``hard=True`` deciding ``if hard: y = F.one_hot(y.argmax(-1), ...)``)
            self.mode.enabled and self.e.flow(fn).returns.cut and _omits_constant_default(fn, len(args), kwargs)
        ) or (
            # a function that backpropagates, handed to a callee that may call it (``opt.step(closure)`` on an optimizer
            # class of this file): it runs in the grad mode the callee calls it in
            any(v.kind == "function" and v.func is not None and self.e.syntax_of(v.func)[0] for v in vals)
        ) or (
            # inputs that carry no gradient, given to a function that checkpoints (reentrant checkpointing then cuts)
            self.mode.enabled and any(not v.live and not v.leaf and v.kind in ("tensor", "python", None) for v in vals) and self.e.checkpoints(fn)
        ) or (
            # a parameter the call leaves at its ``None`` default, which decides a branch that reaches parts of the object
            # (``if s is not None: cond = cond + self.stop_embed(s)``): that branch does not run for this call
            selfv is not None and selfv.kind == "module" and self.mode.enabled and bool(self.e.none_branches(fn)) and bool(self._omitted_none(fn, args, kwargs))
        ) or (
            # a flag the call gives as a constant or leaves at its constant default, which decides a branch that calls other
            # parts of the object (``self.bn_aux(h) if adv else self.bn_main(h)``): only that branch runs for this call
            selfv is not None and selfv.kind == "module" and bool(self.e.flag_branches(fn)) and bool(self._constant_flags(fn, args, kwargs))
        ) or (
            # a method that reads tensors this walk left on its receiver (``self.protos = ...`` then ``self.align()``), or
            # stores tensors there that this function reads back after the call
            bool(state) or stores_read
        ) or (
            # a nested function reading the enclosing function's values (a closure over the model or a tensor)
            bool(free)
        ) or (
            # a module whose mode the caller set (``model.eval()`` kept while training), run where ``self.training``
            # decides something in it or in its parts (``with torch.set_grad_enabled(self.training):``)
            selfv is not None and selfv.kind == "module" and selfv.cls is not None and any(k == "training" or k.endswith(".training") for k, _v in (selfv.flags or ()))
            and self.mode.enabled and self.e.reads_training(selfv.cls)
        ):
            binding: dict = dict(enumerate(args))
            binding.update(kwargs)
            binding.update(state)
            binding.update(free)
            for name in self._omitted_none(fn, args, kwargs):
                binding[name] = Val(kind="none", consts=frozenset({None}))
            if selfv is not None and selfv.kind == "module":
                for name, value in self._constant_flags(fn, args, kwargs, omitted_only=True):
                    binding[name] = Val(kind="python", consts=frozenset({value}))
            if selfv is not None:
                binding["self"] = selfv
            ctx = self.e.flow_in_context(fn, node, binding, self.mode, self.fl.self_cls, caller=self)
            if self.e.syntax_of(fn)[0]:
                self.e.call_contexts.setdefault(id(node), (node, []))[1].append(ctx)
            if recv_key is not None and self.attr_state:
                for a in self.e._self_stores(fn):
                    self.forget_attributes(f"{recv_key}.{a}")
                    self.env.pop(f"{recv_key}.{a}", None)
            if ctx is not None:
                for a, v in ctx.attrs_out.items():  # what the method left on its receiver, for this function's later reads
                    self.env[f"{recv_key}.{a}"] = v
                    self.attr_state = True
                self._context_replacements(node, ctx)
                self._context_param_groups(ctx)
                ret = ctx.returns
                if ret.kind == "module" and ret.ident and (ret.ident == NEW or ret.ident in ctx.created) and ret.live == {ret.ident} and _only_wrapped(ret.cut):
                    # a factory given its caller's values (``restore(state)`` building a new model): a new object, as below
                    # (with the requires_grad switches it made on it)
                    return Val(frozenset({NEW}), _through(Val(frozenset(), ret.cut), node).cut if ret.cut else frozenset(), kind="module", cls=ret.cls,
                               ident=NEW, elem_cls=ret.elem_cls, frozen_copy=_made_switches(ctx, ret.ident, node))
                return _through(ret, node)
        if recv_key is not None and self.attr_state:
            for a in self.e._self_stores(fn):  # (what the method stores there is not known here)
                self.forget_attributes(f"{recv_key}.{a}")
                self.env.pop(f"{recv_key}.{a}", None)
        summary = self.e.flow(fn)
        if self.e.syntax_of(fn)[0]:
            self.e.call_contexts.setdefault(id(node), (node, []))[1].append(None)
        binding = {}
        if selfv is not None:
            binding["self"] = selfv
        names = summary.args
        for i, a in enumerate(args):
            binding[f"arg:{i}"] = a
        for k, v in kwargs.items():
            if k in names:
                binding[f"arg:{names.index(k)}"] = v
        ret = summary.returns
        if selfv is not None and ret.ident == "self" and ret.kind in ("module", "instance") and not ret.cut:
            return selfv  # ``return self`` (a builder, ``.fit()`` that returns the trainer): the receiver itself
        if ret.kind == "module" and ret.ident and (ret.ident == NEW or ret.ident in summary.created) and ret.live == {ret.ident} and _only_wrapped(ret.cut):
            # a factory (``def build_model(): return nn.DataParallel(Net())``): the caller gets a new module object,
            # named where it binds it (with the requires_grad switches the factory made on it, and the cuts of the
            # tensors it wrapped in ``nn.Parameter``, in the caller's terms)
            wrapped = self.instantiate_summary(Val(frozenset(), ret.cut), binding, node, frozenset(summary.created)).cut if ret.cut else frozenset()
            return Val(frozenset({NEW}), wrapped, kind="module", cls=ret.cls, ident=NEW, elem_cls=ret.elem_cls, frozen_copy=_made_switches(summary, ret.ident, node))
        return self.instantiate_summary(ret, binding, node, frozenset(summary.created))

    def _closure_values(self, fn: ast.AST) -> dict:
        """``{"free:<name>": value}`` for a function defined inside the function this walk analyzes (a closure), for each
        name it reads but neither binds nor takes as a parameter that this walk holds a tensor, module, parameter set or
        function for at the call; empty for any other callee."""
        own = self.node
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or not isinstance(own, (ast.FunctionDef, ast.AsyncFunctionDef)) or fn is own:
            return {}
        if not (own.lineno < fn.lineno <= (own.end_lineno or own.lineno)) or self.e.functions.get(fn.name) is fn:
            return {}
        got = self.e._syntax.get(("closure_reads", id(fn)))
        if got is None:
            a = fn.args
            params = {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, *([a.vararg] if a.vararg else []), *([a.kwarg] if a.kwarg else []))}
            loads: set = set()
            stores: set = set()
            for n in walk_nodes(fn):
                if isinstance(n, ast.Name):
                    (loads if isinstance(n.ctx, ast.Load) else stores).add(n.id)
            got = self.e._syntax[("closure_reads", id(fn))] = tuple(sorted(loads - stores - params))
        out = {}
        for name in got:
            v = self.env.get(name)
            if v is not None and (v.live or v.cut or v.kind in ("module", "optimizer", "params", "function")):
                out["free:" + name] = v
        return out

    def _context_param_groups(self, ctx: FunctionFlow) -> None:
        """A helper given an optimizer that adds a parameter group to it (``unfreeze_backbone(model, optimizer, lr)`` calling
        ``optimizer.add_param_group({"params": backbone.parameters()})``): from the call on, the caller's optimizer (each of
        its names bound to the same optimizer) also steps those parameters."""
        added = [e for e in ctx.events if e.what == "param_group_added" and e.target is not None and e.value is not None]
        if not added:
            return
        for name, v in list(self.env.items()):
            if isinstance(name, str) and v.kind == "optimizer" and v.origin is not None:
                more = frozenset().union(*(e.value.live for e in added if e.target.origin is v.origin))
                if more:
                    self.env[name] = replace(v, params=v.params | more)

    def _constant_flags(self, fn: ast.AST, args: list, kwargs: dict, omitted_only: bool = False) -> tuple:
        """``(name, value)`` for each parameter of ``fn`` in ``flag_branches`` the call gives a constant (a literal) or leaves
        at a literal default (``omitted_only``: the latter only, the former being bound already)."""
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return ()
        tested = self.e.flag_branches(fn)
        if not tested:
            return ()
        a = fn.args
        pos = [x.arg for x in a.posonlyargs + a.args]
        if pos and pos[0] == "self":
            pos = pos[1:]
        defaults = dict(zip([x.arg for x in a.posonlyargs + a.args][len(a.posonlyargs + a.args) - len(a.defaults):], a.defaults))
        defaults.update({x.arg: d for x, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None})
        out = []
        for name in tested:
            given = kwargs.get(name)
            if given is None and name in pos and pos.index(name) < len(args):
                given = args[pos.index(name)]
            if given is None:
                d = defaults.get(name)
                if isinstance(d, ast.Constant) and isinstance(d.value, (bool, int, str)):
                    out.append((name, d.value))
            elif not omitted_only and given.consts is not None and len(given.consts) == 1:
                out.append((name, next(iter(given.consts))))
        return tuple(out)

    def _omitted_none(self, fn: ast.AST, args: list, kwargs: dict) -> tuple:
        """The parameters of ``fn`` tested against None in a branch (``none_branches``) that the call leaves at their
        ``None`` default or passes a literal None."""
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return ()
        tested = self.e.none_branches(fn)
        a = fn.args
        pos = [x.arg for x in a.posonlyargs + a.args]
        if pos and pos[0] == "self":
            pos = pos[1:]
        defaults = dict(zip([x.arg for x in a.posonlyargs + a.args][len(a.posonlyargs + a.args) - len(a.defaults):], a.defaults))
        defaults.update({x.arg: d for x, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None})
        out = []
        for name in tested:
            d = defaults.get(name)
            if not (isinstance(d, ast.Constant) and d.value is None):
                continue
            given = kwargs.get(name)
            if given is None and name in pos and pos.index(name) < len(args):
                given = args[pos.index(name)]
            if given is None or given.kind == "none":
                out.append(name)
        return tuple(out)

    def _module_item(self, v: Val, created: frozenset, binding: dict, call: ast.Call) -> Val:
        """A position of a returned tuple: a torch layer the callee built (``l1 = nn.Linear(...)`` ... ``return model, l1``)
        stays that module object for the caller (under the root the callee named it, whose origin is its construction);
        anything else as the summary maps it."""
        got = self.instantiate_summary(v, binding, call)
        # (a torch layer only: an in-file class may hold modules its constructor was given, shared with another object,
        # which its own attributes would then wrongly name as its parts)
        if v.kind == "module" and v.cls is None and v.ident and v.ident in created and v.live == {v.ident} and not v.cut and got.live == {v.ident}:
            return replace(got, kind="module", ident=v.ident, cls=v.cls, elem_cls=v.elem_cls, seq=v.seq)
        return got

    def instantiate_summary(self, ret: Val, binding: dict, call: ast.Call, created: frozenset = frozenset()) -> Val:
        live: set = set()
        cut: set = set()

        def mapped(r: str):
            if r.startswith("arg:"):
                b = binding.get(r.split(".")[0])
                return ("val", b) if b is not None else ("roots", set())
            if r == "self" or r.startswith("self.") or r.startswith("self["):
                b = binding.get("self")
                if b is None:
                    return ("roots", {r})
                if b.ident:
                    return ("roots", {b.ident + r[4:]})
                return ("roots", set(b.live))
            return ("roots", {r})

        for r in ret.live:
            how, x = mapped(r)
            if how == "val":
                live |= set(x.live)
                cut |= set(x.cut)
            else:
                live |= x
        for r, c in ret.cut:
            c2 = c.through(call)
            how, x = mapped(r)
            if how == "val":
                for lr in x.live:
                    cut.add((lr, c2))
                if c.kind == "inference" and not x.live and x.kind in ("tensor", None):
                    cut.add((UNKNOWN, c2))  # (data the caller passes, made an inference tensor by the callee: see op_result)
                cut |= set(x.cut)
            else:
                for rr in x:
                    cut.add((rr, c2))
        if ret.kind == "module" and ret.live == {NEW} and not ret.cut and ret.items is None and ret.fields is None:
            # a factory returning a module it builds from nothing the caller gave it (``return MLPDecoder(d) if mlp else
            # DotDecoder()``): a new module object for the caller, named where the caller binds it
            return Val(frozenset({NEW}), kind="module", ident=NEW, cls=ret.cls, elem_cls=ret.elem_cls, seq=ret.seq)
        kind = ret.kind if ret.kind not in ("module",) else "tensor"
        items = None
        if ret.items is not None:
            # (``return model, l1, l2`` from a builder: each layer it made is a new module for the caller, named where
            # the caller binds it)
            items = tuple(self._module_item(i, created, binding, call) for i in ret.items)
        fields = None
        if ret.fields is not None:
            fields = tuple((k, self.instantiate_summary(fv, binding, call)) for k, fv in ret.fields)
        elem = self.instantiate_summary(ret.elem, binding, call) if ret.elem is not None else None
        pytype = ret.pytype
        if ret.kind == "optimizer":  # a helper that builds the optimizer: keep what it steps
            params: set = set()
            for r in ret.params:
                how, x = mapped(r)
                params |= set(x.live) | ({x.ident} if how == "val" and x.ident else set()) if how == "val" else x
            return Val(kind="optimizer", params=frozenset(params))
        # a non-leaf copy of a leaf the callee made (``return (canvas - mean) / std``) is one for the caller too, unless
        # the call runs under no_grad (nothing recorded: the result is a leaf that does not require grad)
        leaf_copy = ret.leaf_copy if self.mode.enabled else None
        # the output of an op that saved it for backward (``return F.relu(h)`` from a block's forward) is that tensor
        # for the caller too: changing it in place (``h += h_in``) breaks the callee's backward
        saved = ret.saved_output if ret.saved_output and not ret.saved_output.startswith("in:") and self.mode.enabled else None
        # the parts of the receiver a filtered list the callee returns leaves out (``model.trainable_parameters()``)
        selfv = binding.get("self")
        left_out = frozenset((selfv.ident + r[4:], n) for r, n in ret.left_out if r.startswith("self.")) if selfv is not None and selfv.ident and ret.left_out else frozenset()
        # (a discrete distribution the callee returns, ``Categorical(logits=self.net(obs))`` from a policy's forward: its
        # draws have no gradient by nature for the caller too)
        return Val(frozenset(live), frozenset(cut), kind=kind or "tensor", items=items, fields=fields, pytype=pytype, leaf_copy=leaf_copy, saved_output=saved, left_out=left_out, discrete=ret.discrete, elem=elem)

    def call_qualified(self, node: ast.Call, q: str, args: list, kwargs: dict, kwnodes: dict) -> Val:
        short = q.rsplit(".", 1)[-1]
        if self.e.straight_through and len(args) >= 2 and is_loss_function(q) and any(
                c.node is not None and id(c.node) in self.e.straight_through for v in args[:2] for _r, c in v.cut):
            # a loss term on a straight-through output (``mse_loss(z_q, z_e.detach())``): GG201 asks what it trains
            self.record("straight_through_loss", node, value=args[0], target=args[1])
        if q == "itertools.chain" and args and not kwargs:
            joined = _params_union(args)  # ``chain(unet.parameters(), text_encoder.parameters())``: the parameters of both
            if joined is not None:
                return joined
        if q in HF_TRAINER_BASES:
            model = kwargs.get("model") or (args[0] if args else None)
            if model is not None and model.kind == "module" and model.cls:
                # the optimizer the Trainer steps: the one given (``optimizers=(opt, None)``), else its own (value None)
                given = kwargs.get("optimizers")
                opt = given.items[0] if given is not None and given.items else None
                self.record("trainer_built", node, target=model, value=opt if opt is not None and opt.kind == "optimizer" and opt.params else None)
        if q in NONDIFF_COLLECTIVES:
            out_i, in_i = NONDIFF_COLLECTIVES[q]
            buf = node.args[out_i] if len(node.args) > max(out_i, in_i) else None
            if isinstance(buf, ast.Name) and buf.id in self.env:
                # ``dist.all_gather(bufs, feats)``: the buffers now hold ``feats``'s data, without its history
                src = args[in_i]
                held = cut_value(src, "nondiff", node, f"{q.replace('torch.distributed.distributed_c10d.', 'torch.distributed.')}()") if src.live else Val(frozenset(), src.cut, kind="tensor")
                self.env[buf.id] = combine(replace(self.env[buf.id], items=None), held)
            return Val(kind=None)
        if q in FRAMEWORK_OBJECTS:
            return Val(kind=FRAMEWORK_OBJECTS[q])
        if q in DATASET_CONSTRUCTORS:
            # ``TensorDataset(obs, actions, old_logp, adv)``: a dataset of rollout tensors is data; the batches a loader
            # draws from it are inputs of the training step, not a gradient path back to the model that computed them
            # (that is why they are computed under no_grad: what was cut there is no path anyone wants). Tensors stored
            # with their graph still carry it (each batch backpropagates into it: a stale graph)
            held = combine(*args, *kwargs.values()) if (args or kwargs) else CONST
            return Val(held.live, kind=None) if held.live else Val(kind=None)
        if q in FUNCTIONAL_CALLS and len(args) >= 2 and args[0].kind == "module":
            got = self.functional_call(args[0], args[1], args[2:], kwargs)
            if got is not None:
                return got
        if q in MODULE_WRAPPERS:
            if q in FORWARDS_TO_MODULE and args and args[0].kind == "module":
                return replace(args[0], wrapper=short)
            return args[0] if args else Val(kind="module")
        if q in VARIABLE:
            # legacy wrapper: a new tensor sharing the data, with no history (requires_grad=True: a new leaf)
            data = args[0] if args else CONST
            if _truthy(kwnodes.get("requires_grad")):
                cut = cut_value(data, "rewrap", node, "Variable(..., requires_grad=True)").cut if data.live - {UNKNOWN} else data.cut
                return Val(frozenset({NEW}), cut, kind="tensor", ident=NEW, leaf=True)
            return cut_value(data, "detach", node, "Variable()") if data.live - {UNKNOWN} else Val(frozenset(), data.cut, kind="tensor")
        if q in PARAMETER_CTORS:
            data = args[0] if args else CONST
            self.record("parameter_ctor", node, value=data)
            # a new leaf sharing the values of what it wraps and none of its history: what reaches the loss through it
            # gets no gradient (``nn.Parameter(self.hyper(code))``, a generated weight)
            cut = cut_value(data, "rewrap", node, "nn.Parameter()").cut if data.live - {UNKNOWN} else data.cut
            return Val(frozenset({NEW}), cut, kind="tensor", ident=NEW, leaf=True)
        if q in FROZEN_BY_DEFAULT:  # ``nn.Embedding.from_pretrained(vectors)``: a new module around the given table
            return Val(frozenset({NEW}), kind="module", ident=NEW)
        if is_parameterless_ctor(q):  # no parameters: never a root of gradient
            # (a setting computed through a cut, ``nn.Threshold(self.threshold.item(), 0.0)``: what it computes depends on
            # that number, with no gradient back to where it came from)
            made_from = _number_cuts(args, kwargs)
            return Val(frozenset(), made_from, kind="module", ident=NEW)
        if is_module_ctor(q):
            if short == "Sequential" and args and not kwargs and not any(isinstance(a, ast.Starred) for a in node.args):
                seq = tuple(a.cls if a.kind == "module" and a.cls and self.e.modules.method(a.cls, "forward") else None for a in args)
                if any(seq):
                    wrapped = frozenset(rc for a in args if a.kind == "module" for rc in a.cut if _wrapping(rc[1]))
                    return Val(frozenset({NEW}), wrapped, kind="module", ident=NEW, seq=seq)
            # (a setting computed through a cut, ``nn.Threshold(self.threshold.item(), 0.0)``: what the layer computes depends
            # on that number, with no gradient back to where it came from)
            made_from = _number_cuts(args, kwargs)
            return Val(frozenset({NEW}), made_from, kind="module", ident=NEW)
        if is_scheduler_ctor(q):
            return Val(kind="scheduler")
        if q.startswith("torch.distributions.") and short in DISCRETE_DISTRIBUTIONS:
            v = combine(*args, *kwargs.values()) if (args or kwargs) else Val(kind="tensor")
            return replace(v, discrete=True)
        if is_optimizer_ctor(q):
            # the parameters it steps: the first argument (or ``params=``), never ``lr=`` and friends
            given = args[:1] or ([kwargs["params"]] if "params" in kwargs else [])
            covered = frozenset().union(*(a.live | ({a.ident} if a.ident and a.kind in ("module", "params") else frozenset()) for a in given)) if given else frozenset()
            held_out = self.frozen_now(covered) if any(_chooses_by_requires_grad(a) for a in given) else frozenset()
            for a in given:
                for part in (a.items or (a,)):
                    if part.fields is not None:  # a param group: ``{"params": tensors, "lr": ...}``
                        part = next((fv for k, fv in part.fields if k == "params"), part)
                    if part.leaf_copy is not None:
                        self.record("optimizer_leaf_copy", node, value=part)
            # the parts a filtered list left out that no other group holds
            left_out = frozenset((r, n) for a in given for part in (a.items or (a,)) for r, n in _group_params(part).left_out
                                 if not any(r == c or r.startswith(c + ".") for c in covered))
            if not covered and given:
                parts = [_group_params(part) for a in given for part in (a.items or (a,))]
                copies = [p for p in parts if not p.live and any(c.detail == ".state_dict()" for _r, c in p.cut)]
                if copies and len(copies) == len(parts):
                    # ``AdamW(groups)`` with every group's tensors taken from ``model.state_dict()``: detached copies of the
                    # parameters, which no backward reaches (the optimizer holds nothing that gets a gradient)
                    self.record("optimizer_state_dict_copies", node, value=combine(*copies))
            built_by = self.outermost_call()
            self.fl.optimizers.append(OptimizerSite(node, covered, stmt=self.stmt, held_out=held_out, left_out=left_out, built_by=built_by))
            return Val(kind="optimizer", ident=NEW, params=covered, origin=node, held_out=held_out, left_out=left_out, built_by=built_by)
        if q in COPY_FUNCTIONS and args:
            src = args[0]  # ``copy.deepcopy(model)``: a new object of the same class, with its own parameters
            if src.kind == "module" or src.leaf:
                frozen = None
                if src.kind == "module" and short == "deepcopy" and src.ident and src.ident not in (UNKNOWN, NEW) and self.mode.enabled:
                    at = self.frozen_at(src.ident)
                    frozen = (("", node, "False", at),) if at is not None else None
                return Val(frozenset({NEW}), kind=src.kind or "tensor", cls=src.cls, ident=NEW, leaf=src.leaf, frozen_copy=frozen)
            # anything else: a fresh object of its own (not the original), carrying no gradient
            return Val(kind=src.kind if src.kind in ("instance", "optimizer", "python", "numpy") else None, cls=src.cls, ident=NEW)
        if q in ("torch.autograd.grad", "torch.autograd.backward"):
            loss = args[0] if args else kwargs.get("outputs", kwargs.get("tensors", CONST))
            loss_node = node.args[0] if node.args else (kwnodes.get("outputs") or kwnodes.get("tensors") or node)
            retain = _truthy(kwnodes.get("retain_graph")) or _truthy(kwnodes.get("create_graph"))
            inputs = (args[1] if len(args) > 1 else kwargs.get("inputs")) if short == "grad" else kwargs.get("inputs")
            self.fl.backward_sites.append(BackwardSite(node, loss, loss_node, self.mode, self.loops, retain, self.stmt, wrt=_input_roots(inputs)))
            if short == "grad":
                if inputs is not None:  # (what the gradients are asked with respect to: each must require grad)
                    self.record("grad_inputs", node, target=loss, value=inputs)
            if short != "grad" or not (loss.live - {UNKNOWN}):
                return Val(kind="tensor")
            flag = kwargs.get("create_graph")
            if _creates_graph(node, kwnodes) and not (flag is not None and _decided(flag) is False):
                # ``create_graph=True``: the gradients are themselves differentiable, through what the outputs reach
                # (not ``create_graph=not cfg["first_order"]`` with the config known to say first order here)
                return Val(loss.live, loss.cut, kind="tensor")
            # without ``create_graph`` the returned gradients have no ``grad_fn``: a loss term built from them (a
            # gradient penalty) is a constant to the next backward
            return cut_value(loss, "nograph", node, "torch.autograd.grad() without create_graph=True")
        if q in REENTRANT_CHECKPOINTS and args:
            got = self.reentrant_checkpoint(node, q, args, kwargs, kwnodes)
            if got is not None:
                return got
        if q.startswith("torch."):
            rg = kwnodes.get("requires_grad")
            if short in ("softmax", "log_softmax") and args and args[0].live and q in (f"torch.{short}", f"torch.nn.functional.{short}"):
                dim = kwnodes.get("dim") or (node.args[1] if len(node.args) > 1 else None)
                if self.size_one_along(node.args[0], dim):
                    return cut_value(args[0], "zero", node, f"{short}() over a dimension of size 1 (a constant)")
            if short in VALUES_INDICES and args and q.count(".") == 1:
                pair = self.values_indices(node, short, args[0], args[1:], kwnodes, has_dim=len(node.args) > 1 or "dim" in kwnodes)
                if pair is not None:
                    return pair
            if short in FACTORIES or q in CUT_FUNCTIONS:
                data = args[0] if args else CONST
                # ``torch.as_tensor([a, b])``: a new tensor built from the values of a list of tensors, as ``torch.tensor``
                # (``torch.as_tensor(t)`` of one tensor returns that tensor, its history kept)
                listed = short == "as_tensor" and bool(node.args) and (isinstance(node.args[0], (ast.List, ast.Tuple, ast.ListComp)) or data.pytype in ("list", "tuple"))
                if short in ("tensor", "Tensor", "FloatTensor", "LongTensor") or q == "torch.from_numpy" or listed:
                    kind = CUT_FUNCTIONS.get(q, "rewrap")
                    # (a NumPy value keeps its dtype: float64 unless made otherwise, ``torch.tensor(np.log(1 / 0.07))``)
                    kept = data.dtype if data.kind == "numpy" and short in ("tensor", "from_numpy", "as_tensor") and "dtype" not in kwnodes else None
                    out = cut_value(data, kind, node, q.replace("torch.", "torch.", 1) + "()") if data.live else Val(frozenset(), data.cut, kind="tensor", dtype=kept)
                    if _truthy(rg):
                        self.record("leaf_ctor", node, value=data, extra=q)
                        return replace(out, live=frozenset({NEW}), ident=NEW, leaf=True, kind="tensor", dtype=self._literal_dtype(kwnodes) or kept)
                    return out
                if short.endswith("_like") or short == "as_tensor":
                    if short == "as_tensor":
                        return combine(data)
                    if _truthy(rg):
                        return Val(frozenset({NEW}), kind="tensor", ident=NEW, leaf=True, dtype=self._literal_dtype(kwnodes))
                    return Val(kind="tensor")
                if q in CUT_FUNCTIONS:
                    v = combine(*args, *kwargs.values())
                    return cut_value(v, CUT_FUNCTIONS[q], node, q + "()") if v.live else Val(frozenset(), v.cut, kind="tensor")
                if _truthy(rg):
                    self.record("leaf_ctor", node, extra=q)
                    return Val(frozenset({NEW}), kind="tensor", ident=NEW, leaf=True, dtype=self._literal_dtype(kwnodes))
                return Val(kind="tensor")
            if short in GRAD_MODE_FUNCS:
                return CONST
            if q.startswith("torch.nn.init."):
                self.record("inplace", node, target=args[0] if args else CONST, extra="init")
                return args[0] if args else CONST
            if q == f"torch.nn.functional.{short}" and short in INPLACE_FUNCTIONAL and args and _inplace_call(node, INPLACE_FUNCTIONAL[short]):
                # ``F.dropout(w, p, training=self.training, inplace=True)``: modifies its input in place (a dropout told
                # ``training=False`` changes nothing)
                training = kwnodes.get("training") or (node.args[2] if short.endswith("dropout") and len(node.args) > 2 else None)
                if not (isinstance(training, ast.Constant) and training.value is False):
                    self.record("inplace", node, target=args[0], value=CONST, name=_name_of(node.args[0]), extra=f"{short}(inplace=True)", origin=node)
            v = combine(*args, *kwargs.values())
            res = self.allocated(self.op_result(v), short)
            if short in SAVES_OUTPUT and res.live:
                res = replace(res, saved_output=short)
            if short in MULTI_OUTPUT_VIEWS and res.live and self.mode.enabled:
                res = replace(res, multi_view=short)
            if short in SAVES_INPUT and res.live:
                self.mark_saved(list(node.args), short, res)
            return res
        if q.startswith("numpy.") or q == "numpy":
            v = combine(*args, *kwargs.values())
            if v.live:
                self.record("numpy_on_tensor", node, value=v, extra=q)
                return cut_value(v, "numpy", node, q.replace("numpy.", "np.") + "()", result_kind="numpy")
            return Val(frozenset(), v.cut, kind="numpy", dtype=_numpy_float64(q[len("numpy."):], node, args, kwnodes))
        if q.startswith("math."):
            v = combine(*args)
            if v.live and not all(a.ident for a in args if a.live):
                return cut_value(v, "python", node, q + "()", result_kind="python")
            return Val(frozenset(), v.cut, kind="python") if v.cut else CONST  # a cut value stays cut
        # another library: assume it is differentiable in its tensor arguments; an output object built
        # from keywords (``ModelOutput(loss=loss, logits=logits)``) keeps its named entries
        v = combine(*args, *kwargs.values())
        carried = [a for a in (*args, *kwargs.values()) if a.live or a.cut]
        if any(a.kind == "module" and a.cls for a in carried) and not any(a.kind == "tensor" and a.ident is None and any(not r.startswith("arg:") for r in a.live) for a in carried):
            # handed a model (an in-file class; with its parameters, settings) and no tensor computed here: it returns
            # an object holding it (``engine, opt, _, _ = deepspeed.initialize(args=args, model=net, ...)``), not a
            # tensor computed from its parameters
            return Val(v.live, v.cut, kind="module")
        fields = tuple((k, kv) for k, kv in kwargs.items() if k) or None
        return replace(v, fields=fields) if (v.live or v.cut) else Val(kind=None)

    def indexed_leaf(self, expr: ast.AST) -> bool:
        """``layer.weight[ids]``, or ``p[n:]`` with ``p`` a parameter (a loop over ``parameters()``): an indexed part of
        a leaf that may require grad, a new tensor whose ``requires_grad`` is its own."""
        if indexed_parameter(expr):
            return True
        if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name):
            held = self.env.get(expr.value.id)
            if held is not None and held.kind == "tensor" and held.ident and held.ident.rsplit(".", 1)[-1] in ("weight", "bias"):
                return True  # (``table = model.emb.weight`` then ``table[row]``: a layer's parameter through a name, also a caller's)
            return held is not None and held.kind == "tensor" and held.leaf and bool(held.live)
        return False

    def call_method(self, node: ast.Call, recv: Val, name: str, args: list, kwargs: dict, kwnodes: dict) -> Val:
        fw = recv.kind or ""
        if name in PART_GETTERS and not node.args and not node.keywords and recv.live and recv.kind in ("module", "tensor", None) and not recv.cls:
            # ``model.get_input_embeddings()`` on a model whose class is not seen here: one part of it, not the whole
            # (freezing what it returns freezes that part only)
            return Val(frozenset(r if r == UNKNOWN else f"{r}.{name}()" for r in recv.live), recv.cut, kind="module")
        if name == "requires_grad_" and self.indexed_leaf(node.func.value):  # type: ignore[attr-defined]
            # ``emb.weight[ids].requires_grad_(True)``: indexing makes a new tensor (a view or a copy) with a flag of its
            # own; the layer's parameter is not changed (nor frozen, nor unfrozen)
            flag = _requires_grad_flag(node, kwnodes)
            self.record("indexed_requires_grad", node, target=recv, extra=str(flag))
            return Val(recv.live, recv.cut, kind="tensor")
        if name == "register_forward_hook" and node.args:
            # ``layer.register_forward_hook(self._keep)``: the hook runs on every call of ``layer``, with its output
            self.record("forward_hook", node, target=recv)
        if recv.kind == "instance" and recv.fields is not None:
            kept = next((fv for k, fv in recv.fields if k == name), None)
            if kept is not None and kept.kind == "module":
                return self.call_value(node, kept, args, kwargs)  # ``self.model(x)``: the module the constructor kept
        if name in IDENTITY_METHODS.get(fw, ()):
            if len(args) == 1:
                return args[0]
            return _tuple_val(tuple(args)) if args else Val(kind=None)
        if name in BACKWARD_METHODS.get(fw, ()) and node.args:
            self.fl.backward_sites.append(BackwardSite(node, args[0], node.args[0], self.mode, self.loops, _truthy(kwnodes.get("retain_graph")), self.stmt,
                                                       dead_branch=self._dead_alt(node.args[0])))
            return NONE
        if name in STEP_METHODS.get(fw, ()) and node.args:
            self.record("step", node, target=args[0], name=_name_of(node.args[0]))
            return Val(kind=None)
        if name == "backward" and node.args and (args[0].live or args[0].cut) and (recv.kind in ("module", "instance") or (recv.kind is None and not recv.live)) \
                and not (recv.cls and recv.kind in ("instance", "module") and self.e.modules.method(recv.cls, "backward") is not None) \
                and not self._element_module(recv):
            # (an object of an in-file class with a ``backward`` method of its own runs that method: below)
            # ``something.backward(loss)`` on an object that is not a tensor (a trainer's accelerator, a
            # wrapper): the argument is the loss
            self.fl.backward_sites.append(BackwardSite(node, args[0], node.args[0], self.mode, self.loops, _truthy(kwnodes.get("retain_graph")), self.stmt,
                                                       dead_branch=self._dead_alt(node.args[0]), on_object=True))
            return NONE
        # (the attribute of an argument a fresh layer is appended to, ``unet.adapters.append(nn.Conv2d(...))`` in a helper: a
        # ModuleList of the model the caller passes)
        container = recv.kind == "module" or (recv.ident is not None and str(recv.ident).startswith("arg:") and "." in str(recv.ident)
                                              and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Attribute) and name in ("append", "insert"))
        if name in ("append", "insert", "add_module", "register_module") and container and recv.ident and recv.ident not in (NEW, UNKNOWN) and args \
                and not recv.cls and args[-1].kind == "module" and (args[-1].ident == NEW or NEW in args[-1].live) and not node.keywords and not self._building(recv):
            # ``self.blocks.append(nn.Linear(...))`` on a ModuleList, ``model.add_module("head", nn.Linear(...))``: a new layer
            # registered on the module (under its name when given as a literal)
            first = node.args[0] if node.args else None
            slot = first.value if name in ("add_module", "register_module") and isinstance(first, ast.Constant) and isinstance(first.value, str) else "?"
            rid = f"{recv.ident}.{slot}"
            added = self.rename_new(args[-1], rid)
            if added.live:
                self.record("replace", node, target=recv, value=added, name=rid)
        if name in CONTAINER_STORES and isinstance(node.func, ast.Attribute):
            # ``xs.append(v)`` (also ``(a if c else b).append(v)``): the container now carries what v carries
            stored = combine(*args, *kwargs.values()) if (args or kwargs) else CONST
            holders = [node.func.value] if isinstance(node.func.value, ast.Name) else [e for e in (getattr(node.func.value, "body", None), getattr(node.func.value, "orelse", None)) if isinstance(node.func.value, ast.IfExp) and isinstance(e, ast.Name)]
            for h in holders:
                cur = self.env.get(h.id)
                if cur is not None and (stored.live or stored.cut) and (cur.fields is not None or cur.items is not None or cur.kind in ("python", None)) and not cur.cls:
                    if name == "append" and cur.items is not None and cur.pytype == "list" and len(args) == 1 and not self.loops:
                        # ``groups.append({"params": ..., "lr": ...})`` once, outside a loop: the list holds one more known item
                        self.env[h.id] = replace(_store_into(cur, stored), items=(*cur.items, args[0]))
                    else:
                        self.env[h.id] = _store_into(cur, stored, grown=args[0] if name == "append" and len(args) == 1 else None)
        if name in CONTAINER_STORES and args and recv.kind != "optimizer" and (recv.kind != "tensor" or isinstance(getattr(node.func, "value", None), ast.Attribute)):
            # (``obj.history.append(v)``: an attribute of an object the model does not know is a tensor only by default)
            self.record("container_store", node, target=recv, value=args[0], name=_name_of(node.func.value), extra=name)  # type: ignore[attr-defined]
        if name in ("freeze", "unfreeze") and recv.kind == "module" and recv.cls and self.e.modules.classes[recv.cls].framework == "lightning" and not self.e.modules.method(recv.cls, name):
            # ``LightningModule.freeze()``: requires_grad_(False) on every parameter (and eval())
            self.record("requires_grad_call", node, target=recv, name=_name_of(node.func.value), extra=str(name == "unfreeze"))  # type: ignore[attr-defined]
            return NONE
        if name == "optimizers" and recv.kind == "module" and recv.cls and (self.e.modules.classes[recv.cls].framework == "lightning"):
            configured = self.configured_optimizers(recv)
            if configured is not None:
                return configured
            return Val(kind="optimizer", params=frozenset({recv.ident}) if recv.ident else recv.live)
        if recv.cls and recv.kind != "class" and isinstance(node.func, ast.Attribute) and self._inherited_trainer_method(recv.cls, name, node.func):
            # ``self._prepare_inputs(inputs)``: a method of the library's Trainer gives what its arguments carry
            return combine(*args, *kwargs.values()) if (args or kwargs) else Val(kind=None)
        # in-file classes: methods and autograd.Function.apply
        if recv.kind == "class" and recv.cls:
            info = self.e.modules.classes.get(recv.cls)
            if info and info.is_autograd_function and name == "apply":
                self.record("apply", node, target=combine(*args, *kwargs.values()), name=recv.cls)  # (what the Function is given)
                marked = self.e.marked_outputs(recv.cls)
                if marked is not None:
                    return cut_value(combine(*args), "nondiff", marked, f"`{recv.cls}.forward` marking every output it returns non-differentiable")
                numbers = frozenset(i for i, a in enumerate(node.args) if self.is_number(a))
                # a module that provably owns no parameter (handed over so that ``backward`` reads its settings): nothing
                # in it gets a gradient, whatever ``backward`` returns for it
                args = [CONST if a.kind == "module" and a.cls in self.e.modules.classes and self.e.modules.owns_no_parameters(a.cls) else a for a in args]
                declared = self.e.declared_non_tensors(recv.cls)
                dropped = self.e.dropped_gradients(recv.cls, numbers, len(node.args) if not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args) else None)
                if dropped and node.args and not any(isinstance(a, ast.Starred) for a in node.args) and not node.keywords:
                    parts = []
                    for i, a in enumerate(args):
                        if i < len(node.args) and self._module_object(a, node.args[i]):
                            parts.append(self._module_given_to_apply(recv.cls, i, a, node))  # (whatever backward returns for it)
                        elif i in dropped and a.live and i not in declared:  # (not an input ``forward`` declares a non-tensor)
                            at, what = dropped[i]
                            if isinstance(at, ast.Subscript) and isinstance(at.slice, ast.Constant):  # the guard that never holds
                                detail = f"`{recv.cls}.backward` computing the gradient of `{what}` only under `{ast.unparse(at)}` (always False: input {at.slice.value!r} is a Python number)"
                            else:
                                detail = f"`{recv.cls}.backward` returning None as the gradient of `{what}`"
                            parts.append(cut_value(a, "dropped", at, detail))
                        else:
                            parts.append(a)
                    return self._apply_saves(recv.cls, node, self.op_result(combine(*parts)))
                if len(args) == len(node.args) and not any(isinstance(a, ast.Starred) for a in node.args) and any(self._module_object(a, n) for a, n in zip(args, node.args)):
                    # ``Fn.apply(x, self.basis, self)``: autograd tracks only the tensors given to ``apply``; the parameters its
                    # ``forward`` reads from a module it is given are used outside the graph (forward runs under no_grad)
                    args = [self._module_given_to_apply(recv.cls, i, a, node) if self._module_object(a, node.args[i]) else a for i, a in enumerate(args)]
                return self._apply_saves(recv.cls, node, self.op_result(combine(*args)))
            m = self.e.modules.method(recv.cls, name)
            if m is not None:
                if args and isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and not any(isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod") for d in m.decorator_list) \
                        and not any(isinstance(a, ast.Starred) for a in node.args) and len(node.args) == len(args):
                    # ``Criterion.encode(box, ref)``: a method called through its class is a plain function, its first
                    # parameter bound to the first argument (not to an object of the class)
                    return self.call_function(node, m, args[0], args[1:], kwargs, skip=1)
                return self.call_function(node, m, None, args, kwargs)
            return combine(*args)
        if recv.cls and recv.kind in ("module", "instance"):
            m = self.e.modules.method(recv.cls, name)
            # (on a plain object, ``eval()`` / ``train()`` / ``to()`` are its own methods: they have no torch meaning there)
            if m is not None and (recv.kind == "instance" and name not in ("backward",) or name not in ("parameters", "named_parameters", "to", "cuda", "cpu", "train", "eval", "requires_grad_", "zero_grad", "apply")):
                if name == "backward" and recv.kind == "instance":
                    return self.call_function(node, m, recv, args, kwargs)
                if name != "backward":
                    return self.op_result(self.call_function(node, m, recv, args, kwargs))
        if name == "backward":
            retain = _truthy(kwnodes.get("retain_graph")) or _truthy(kwnodes.get("create_graph")) or (len(node.args) >= 2 and _truthy(node.args[1]))
            self.fl.backward_sites.append(BackwardSite(node, recv, node.func.value, self.mode, self.loops, retain, self.stmt, dead_branch=self._dead_alt(node.func.value)))  # type: ignore[attr-defined]
            if not retain:
                self.backward_frees_saved()
            return NONE
        if name in ("manual_backward",) and args:
            self.fl.backward_sites.append(BackwardSite(node, args[0], node.args[0], self.mode, self.loops, False, self.stmt, dead_branch=self._dead_alt(node.args[0])))
            return NONE
        if name in ("step", "zero_grad"):
            self.record(name, node, target=recv, name=_name_of(node.func.value))  # type: ignore[attr-defined]
            return NONE if name == "zero_grad" else Val(kind=None)
        if name == "retain_grad":
            self.record("retain_grad", node, target=recv, name=_name_of(node.func.value))  # type: ignore[attr-defined]
            return NONE
        if name == "load_state_dict" and recv.kind == "module" and recv.ident and recv.live and _truthy(kwnodes.get("assign")):
            # ``model.load_state_dict(sd, assign=True)``: every parameter of ``model`` is replaced by a new Parameter wrapping
            # the checkpoint's tensor (an optimizer built before holds the old ones)
            self.record("replace", node, target=recv, value=Val(frozenset({recv.ident}), kind="module", ident=recv.ident), name=recv.ident, extra="assign")
            return Val(kind="python")
        if recv.kind in ("module", "instance", "tensor", None) and name == "state_dict" and (recv.live or recv.cut) and not any(k.arg == "keep_vars" for k in node.keywords) and not node.args:
            # ``model.state_dict()``: the parameters' values as detached tensors (``keep_vars=False``): what is computed
            # from them reaches no parameter (so for any object's ``state_dict()``: a module the model cannot see made, an
            # optimizer's state; a tensor has none, so a receiver taken for one is some other object)
            return replace(cut_value(recv, "detach", node, ".state_dict()"), kind=None, pytype="dict")
        if recv.kind in ("module", "instance") and name in MODULE_SELF_METHODS:
            if name == "requires_grad_":
                flag = _requires_grad_flag(node, kwnodes)
                self.record("requires_grad_call", node, target=recv, name=_name_of(node.func.value), extra=str(flag))  # type: ignore[attr-defined]
            return recv
        if name in ("parameters", "named_parameters", "modules", "children", "named_modules", "buffers", "values"):
            if recv.kind in ("module", "instance") or recv.ident:
                # (the names of a DataParallel / DDP wrapper's ``named_parameters()`` begin with ``module.``)
                prefix = "module." if recv.kind == "module" and recv.wrapper and name == "named_parameters" else None
                if name in ("parameters", "named_parameters") and not node.args and not node.keywords:
                    self.param_receivers[id(node)] = recv
                return Val(recv.live, recv.cut, kind="params" if name in ("parameters", "named_parameters") else "module", prefix=prefix)
        if name == "startswith" and recv.prefix and node.args and not kwargs and len(node.args) == 1:
            # ``name.startswith("backbone.")`` on a name known to begin with ``module.``: decided when neither text
            # is a prefix of the other
            tests = args[0].items if args[0].items is not None else (args[0],)
            strs = _leads(list(tests))
            if strs:
                if not any(t.startswith(recv.prefix) or recv.prefix.startswith(t) for t in strs):
                    self.record("name_test_never_true", node, value=recv, extra=recv.prefix)
                    return Val(kind="python", consts=frozenset({False}))
        if name == "requires_grad_":
            flag = _requires_grad_flag(node, kwnodes)
            self.record("requires_grad_call", node, target=recv, name=_name_of(node.func.value), extra=str(flag))  # type: ignore[attr-defined]
            if recv.kind in ("module", "instance"):
                return recv
            if flag and not recv.live:
                fresh = Val(frozenset({NEW}), recv.cut, kind="tensor", ident=NEW, leaf=True, dtype=recv.dtype)
                target = node.func.value  # type: ignore[attr-defined]
                if isinstance(target, ast.Name) and target.id in self.env and isinstance(self.stmt, ast.Expr) and self.stmt.value is node:
                    # ``loss.requires_grad_(True)`` as a statement: the tensor itself is now a leaf that requires
                    # grad (backward() then runs, and reaches nothing the loss was computed from)
                    self.env[target.id] = self.rename_new(fresh, target.id)
                return fresh
            if flag and recv.live and all(r == UNKNOWN or r.startswith("arg:") for r in recv.live) and _fresh_copy(node.func.value):  # type: ignore[attr-defined]
                # ``images.clone().requires_grad_()``: a copy of data that, as data does, does not require grad
                # becomes a new leaf (were the argument to require grad, the copy would already be a non-leaf)
                return Val(frozenset({NEW}), recv.cut, kind="tensor", ident=NEW, leaf=True)
            if flag and recv.live and all(r.startswith("arg:") for r in recv.live) and recv.kind in ("tensor", None) and not self.fl.context:
                # ``(t_max * torch.rand(n, 1)).requires_grad_()`` in a helper, from its arguments: the result requires
                # grad whatever they are (the arguments' graph when they require it, else a new leaf)
                return replace(recv, live=recv.live | {NEW}, ident=None, leaf=False)
            return recv
        if recv.kind not in ("module", "instance", "optimizer", "python", "numpy", "params", "class") and isinstance(node.func, ast.Attribute):
            if name in META_METHODS:
                return CONST
            if name in SHAPE_OF_ARG_METHODS and (recv.live or recv.cut or recv.kind == "tensor"):
                return replace(recv, ident=None, leaf=False, items=None, saved_output=None) if (recv.live or recv.cut) else Val(kind="tensor")
            if name in NEW_TENSOR_METHODS:
                rg = kwnodes.get("requires_grad")
                if _truthy(rg):
                    return Val(frozenset({NEW}), kind="tensor", ident=NEW, leaf=True)
                data = args[0] if name == "new_tensor" and args else CONST
                return cut_value(data, "rewrap", node, f".{name}()") if data.live else Val(frozenset(), data.cut, kind="tensor")
        if name == "clone" and self.mode.kind != "inference" and any(c.kind == "inference" for _, c in recv.cut):
            # ``t.clone()`` outside inference mode: a normal tensor (the documented way back from one), with no gradient
            # from what the inference-mode computation read: as if computed under no_grad
            return replace(recv, cut=frozenset((r, replace(c, kind="no_grad") if c.kind == "inference" else c) for r, c in recv.cut), ident=None, leaf=False)
        if name in ("softmax", "log_softmax") and recv.live and recv.kind not in ("module", "instance", "optimizer", "python", "numpy", "params") and isinstance(node.func, ast.Attribute):
            if self.size_one_along(node.func.value, kwnodes.get("dim") or (node.args[0] if node.args else None)):
                return cut_value(recv, "zero", node, f".{name}() over a dimension of size 1 (a constant)")
        if name in VALUES_INDICES and (recv.live or recv.cut) and recv.kind not in ("module", "instance", "optimizer", "python", "numpy", "params"):
            pair = self.values_indices(node, name, recv, args, kwnodes, has_dim=bool(node.args) or "dim" in kwnodes)
            if pair is not None:
                return pair
        if name in ("sample", "sample_n") and recv.discrete:
            # a discrete draw: no gradient to lose, nor did it lose any to what cut its distribution's parameters (a
            # rollout's ``no_grad`` around ``Categorical(logits=...).sample()`` is not why the loss misses the policy)
            return Val(frozenset(), frozenset(), kind="tensor")
        if name == "detach_" and recv.kind == "tensor" and recv.leaf and recv.live and isinstance(node.func, ast.Attribute):
            # ``for p in ema.parameters(): p.detach_()``: a leaf detached in place no longer requires grad (a freeze, as
            # ``requires_grad_(False)``)
            self.record("requires_grad_call", node, target=recv, name=_name_of(node.func.value), extra="False")
        if name == "detach_" and isinstance(node.func, ast.Attribute):
            base = _viewed_expr(node.func.value, self.range_counters())
            if base is not None:
                bv = self.ev(base)
                if bv.kind == "tensor" and bv.items is None and bv.pytype is None and any(r != UNKNOWN and not r.startswith("arg:") for r in bv.live):
                    # (a tensor computed from this program's modules: not only the output of a callable it cannot see, which
                    # may be a tuple)
                    # ``hidden[0].detach_()`` on a stacked state: torch cannot detach a view in place and raises
                    self.record("detach_view", node, target=bv, value=recv)
        if name in CUT_METHODS and (recv.kind not in ("module", "instance", "python", "numpy") or self._tensor_method_on_module(recv, name)):
            kind = CUT_METHODS[name]
            if name in ("round",) and recv.kind is None and not recv.live:
                return recv
            if recv.live:
                if name == "numpy" and self.mode.enabled and any(r != UNKNOWN and not r.startswith("arg:") for r in recv.live):
                    # ``pred.numpy()`` on a tensor computed from trained parameters with grad on: torch raises (GG202 asks
                    # whether those parameters require grad where this runs)
                    self.record("numpy_of_grad_tensor", node, target=recv)
                rk = "python" if kind in ("item", "tolist") else ("numpy" if kind == "numpy" else "tensor")
                out = cut_value(recv, kind, node, f".{name}()", result_kind=rk)
                held = _env_key(node.func.value) if name == "detach_" and isinstance(node.func, ast.Attribute) else None
                if held is not None and held in self.env:
                    # ``h.detach_()`` detaches the tensor itself: from here on the name (or ``self.h``) holds the cut value
                    self.env[held] = out
                return out
            return Val(frozenset(), recv.cut, kind="python" if kind in ("item", "tolist") else "tensor")
        if name in ("to", "type") and recv.kind not in ("module", "instance"):
            dt = kwnodes.get("dtype") or (node.args[0] if node.args else None)
            if dt is not None and (self.im.qualname(dt) or "") in INT_DTYPES and recv.live:
                return cut_value(recv, "cast", node, f".{name}({ast.unparse(dt) if hasattr(ast, 'unparse') else ''})")
        if name in ("to", "cuda", "cpu", "float", "double", "half", "bfloat16", "type"):
            self.record("to_call", node, target=recv, name=_name_of(node.func.value), extra=name)  # type: ignore[attr-defined]
            if recv.kind in ("module", "instance"):
                return recv
            if recv.leaf and recv.dtype is not None and self._keeps_dtype(node, name, kwnodes, recv.dtype):
                return recv  # a cast to the dtype the leaf has returns the leaf itself
            out = replace(recv, ident=None, leaf=False, items=None, saved_output=None, dtype=None)
            if (recv.leaf or recv.kind == "params") and recv.live and self.mode.enabled and self._changes_dtype(node, name, kwnodes, recv.dtype if recv.leaf else None):
                out = replace(out, kind="tensor", leaf_copy=node)  # a differentiable copy: no longer a leaf
            return out
        if name.endswith("_") and not name.startswith("_") and recv.kind not in ("module", "instance", "optimizer", "python"):
            written = combine(*args) if args else CONST
            self.record("inplace", node, target=recv, value=written, name=_name_of(node.func.value), extra=name)  # type: ignore[attr-defined]
            holder = node.func.value  # type: ignore[attr-defined]
            if name in WRITING_INPLACE and (written.live or written.cut) and isinstance(holder, ast.Name) and holder.id in self.env and recv.kind in ("tensor", None) and not recv.ident and not recv.leaf:
                # ``sums.index_add_(0, y, z)`` into a tensor this function made: it now carries what ``z`` carries
                # (the in-place ops that write their arguments' values are differentiable in them)
                self.env[holder.id] = replace(combine(recv, self.op_result(written)), saved_output=recv.saved_output, leaf_copy=recv.leaf_copy)
                return self.env[holder.id]
            if name in WRITING_INPLACE and (written.live or written.cut) and isinstance(holder, ast.Call) and recv.kind in ("tensor", None) and not recv.ident and not recv.leaf:
                # ``torch.zeros_like(h).index_add_(0, col, msg)``: the new tensor the call returns carries what it was written
                return replace(combine(recv, self.op_result(written)), saved_output=recv.saved_output, leaf_copy=recv.leaf_copy)
            return recv
        if name == "add_param_group" and args and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Attribute):
            # ``self.optimizer.add_param_group({"params": ...})``: the object's optimizer steps those too (for the
            # methods that read ``self.optimizer`` later: ``training_attribute``; in ``__init__`` itself the attribute is
            # not known yet)
            key = _env_key(node.func.value)
            if key is not None:
                more = _added_group_roots(args[0])
                if recv.kind == "optimizer":
                    self.env[key] = replace(recv, params=recv.params | more)
                    self.attr_state = True
                self.record("attr_param_group_added", node, target=recv, value=Val(more), name=key)
            return Val(kind=None)
        if recv.kind == "optimizer":
            if name == "add_param_group" and args and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) and node.func.value.id in self.env:
                # ``opt.add_param_group({"params": head.parameters()})``: from here on it also steps those
                more = _added_group_roots(args[0])
                self.env[node.func.value.id] = replace(recv, params=recv.params | more)
                if self.call is not None and recv.origin is not None:
                    # (in a helper walked with its caller's values: the caller's optimizer, extended for the caller too)
                    self.record("param_group_added", node, target=recv, value=Val(more))
            return Val(kind=None)
        if recv.kind in ("python", "none", "import"):
            v = combine(*args, *kwargs.values())
            return v if (v.live or v.cut) else Val(kind=recv.kind if recv.kind != "none" else None)
        if recv.kind == "numpy":
            v = combine(recv, *args)
            return Val(frozenset(), v.cut, kind="numpy")
        if recv.kind == "params":
            return recv
        if recv.kind == "module" and recv.ident and recv.cls and (args or kwargs):
            hooks = self.e.pre_hooks(recv.cls, name)
            if hooks:
                args = self.run_pre_hooks(node, hooks, Val(frozenset({f"{recv.ident}.{name}"}) if recv.live else frozenset(), kind="module", ident=f"{recv.ident}.{name}"), args)
        if recv.kind in ("module", "instance") and recv.ident and recv.cls:
            acls, elem = self.e.modules.attr_class(recv.cls, name)
            sub_cls = acls or elem
            fwd = self.e.modules.method(sub_cls, "forward") if sub_cls else None
            if fwd is not None:  # ``self.scale(h)`` with ``self.scale = RobustScale()``: run its forward
                mode = _part_mode(recv.flags, name)  # (``eval()`` reaches the parts too)
                subv = Val(frozenset({f"{recv.ident}.{name}"}) if recv.live else frozenset(), recv.cut, kind="module", cls=sub_cls, ident=f"{recv.ident}.{name}", flags=mode)
                res = self.op_result(self.call_function(node, fwd, subv, args, kwargs))
                self.mark_forward_saves(node, sub_cls, res)
                return res
            if not sub_cls and self.e.modules.method(recv.cls, name) is None:
                pcls = self.e.modules.attr_plain_class(recv.cls, name)
                call = self.e.modules.method(pcls, "__call__") if pcls else None
                if call is not None:  # ``self.criterion(pred, y)`` with ``self.criterion = PerceptualDistance()``: its ``__call__``
                    subv = Val(frozenset(), recv.cut, kind="instance", cls=pcls, ident=f"{recv.ident}.{name}")
                    return self.op_result(self.call_function(node, call, subv, args, kwargs))
            if not sub_cls and len(args) == 1 and not kwargs:
                seq = self.e.modules.attr_seq(recv.cls, name)
                if seq:  # ``self.enc(x)`` with ``self.enc = nn.Sequential(WSConv2d(...), ...)``: each element in turn
                    sub = f"{recv.ident}.{name}"
                    res = self.run_sequence(node, Val(frozenset({sub}) if recv.live else frozenset(), recv.cut, kind="module", ident=sub, seq=seq), args[0])
                    last = seq[-1] is None and not node.keywords and self.mode.enabled and self.e.modules.attr_output_saver(recv.cls, name, self.e.constructions.init_argument)
                    return replace(res, saved_output=last) if last and res.live else res
        saves_output: Optional[str] = None
        if recv.kind in ("module", "instance") and recv.ident and recv.cls and len(node.args) == 1 and not node.keywords and self.mode.enabled:
            # ``self.act = nn.ReLU()``, ``self.block = nn.Sequential(conv, bn, nn.ReLU())``: autograd saves the output
            # the layer returns, as for ``torch.relu``
            saves_output = self.e.modules.attr_output_saver(recv.cls, name, self.e.constructions.init_argument)
        if recv.kind in ("module", "instance") and recv.ident and recv.cls and node.args:
            ctor = self.e.modules.attr_torch_ctor(recv.cls, name)
            if ctor is not None:
                short = ctor[0].rsplit(".", 1)[-1]
                if short in INPLACE_MODULES and _inplace_flag(ctor[1], INPLACE_MODULES[short]):
                    # ``self.act = nn.ReLU(inplace=True)``: calling it modifies its input in place
                    self.record("inplace", node, target=args[0], value=CONST, name=_name_of(node.args[0]), extra=f"{short}(inplace=True)", origin=ctor[1])
                elif self.e.modules.ctor_saves_input(ctor) and recv.live and self.mode.enabled:
                    self.mark_saved([node.args[0]], short, recv)
        if recv.kind in ("module", "instance") and recv.ident:
            # ``self.encoder(x)``: a submodule (or an unknown method) of a module; gradient of that
            # attribute and of the inputs may flow through it
            alias = self.e.modules.attr_alias(recv.cls, name) if recv.cls and recv.cls in self.e.modules.classes else None
            sub = f"{recv.ident}.{alias or name}"  # (``self.token_emb`` kept as ``net.token_emb``: that root)
            if recv.cls and (self.e.modules.non_trainable(recv.cls, name) or self.e.modules.parameterless_attr(recv.cls, name)):
                # (``self.assignment_fn = self.sinkhorn``; ``self.act = nn.GELU()``: no parameter to reach)
                res = self.op_result(combine(*args, *kwargs.values())) if (args or kwargs) else Val(kind=None)
                return replace(res, saved_output=saves_output) if saves_output and res.live else res
            res = self.op_result(combine(Val(frozenset({sub}) if recv.live else frozenset()), *args, *kwargs.values()))
            return replace(res, saved_output=saves_output) if saves_output and res.live else res
        if name == "forward" and not recv.cls:
            args, kwargs = self.unseen_callee(args), dict(zip(kwargs, self.unseen_callee(list(kwargs.values()))))
        v = combine(recv, *args, *kwargs.values())
        res = self.allocated(self.op_result(v), name)
        if name in VIEW_METHODS and recv.saved_output and recv.kind in ("tensor", None) and res.live and not res.saved_output:
            # ``torch.tanh(h).squeeze(1)``: a view shares the saved tensor's version counter, so writing into the view in
            # place changes what autograd saved
            res = replace(res, saved_output=recv.saved_output)
        if name in SHAPE_METHODS and recv.leaf and recv.live and recv.kind == "tensor" and self.mode.enabled:
            res = replace(res, leaf_copy=node)  # a view of a leaf that requires grad: autograd records it, a non-leaf
        if name in SAVES_OUTPUT and res.live:
            res = replace(res, saved_output=name)
        if name in MULTI_OUTPUT_VIEWS and res.live and self.mode.enabled and recv.live:
            res = replace(res, multi_view=name)
        if name in SAVES_INPUT and res.live and self.mode.enabled and isinstance(node.func, ast.Attribute):
            self.mark_saved([node.func.value, *node.args], name, res)
        return res


def resolve_getters(engine, cls: Optional[str], rest: str) -> str:
    """``get_input_embeddings().weight`` of an object of the in-file class ``cls`` whose method returns
    ``self.embeddings``: ``embeddings.weight`` (the part the accessor names); ``rest`` itself otherwise."""
    head, dot, tail = rest.partition(".")
    if not (cls and head.endswith("()") and head[:-2] in PART_GETTERS):
        return rest
    m = engine.modules.method(cls, head[:-2])
    ret = engine.flow(m).returns if m is not None else None
    if ret is None or not ret.ident or not ret.ident.startswith("self.") or ret.live != {ret.ident}:
        return rest
    return ret.ident[5:] + dot + tail


# methods that return one part of a model (the Hugging Face accessors)
PART_GETTERS = frozenset({"get_input_embeddings", "get_output_embeddings", "get_encoder", "get_decoder", "get_submodule"})


def _node_classes(cls: type) -> list:
    """``cls`` and every class derived from it."""
    out: list = [cls]
    sub: type
    for sub in cls.__subclasses__():
        out.extend(_node_classes(sub))
    return out


# node class -> the ``_Walker`` method evaluating it (None: the generic rule): ``ev`` dispatches on it without
# building a method name per node; read-only after import
_EV_METHODS: dict = {t: getattr(_Walker, "ev_" + t.__name__, None) for t in _node_classes(ast.AST)}


def _assigns_name(stmt: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in walk_nodes(stmt))


def _literal_int(node: Optional[ast.AST]) -> Optional[int]:
    """An int literal (``1``, ``-1``), else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _literal_int(node.operand)
        return -inner if inner is not None else None
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def _viewed_expr(e: ast.AST, ints) -> Optional[ast.AST]:
    """The expression ``e`` is a view of (``self.hidden`` for ``self.hidden[0]``, ``x`` for ``x.view(-1)`` / ``x.t()``,
    chains of those) when that is a name or an attribute chain of one; else None (not a view, or a base computed by a
    call)."""
    seen = False
    while True:
        if isinstance(e, ast.Subscript) and _basic_view(e.slice, ints):
            e = e.value
        elif isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and e.func.attr in VIEW_METHODS:
            e = e.func.value
        elif isinstance(e, ast.Attribute) and e.attr in ("T", "mT", "H", "mH"):
            e = e.value
        else:
            break
        seen = True
    b = e
    while isinstance(b, ast.Attribute):
        b = b.value
    return e if seen and isinstance(b, ast.Name) else None


def _view_base(e: ast.AST, ints) -> Optional[str]:
    """The name whose tensor ``e`` is a view of (``x[:, :d]``, ``x.view(...)``, ``x.t()``, chains of those), else None.
    Also a choice whose one branch is such a view and whose other makes a new tensor (``states[:, t - 1] if t > 0 else
    x.new_zeros(...)``: from the second step of a scan on, the previous state read back from the buffer)."""
    if isinstance(e, ast.IfExp):
        bases = {_view_base(b, ints) for b in (e.body, e.orelse)}
        fresh = [b for b in (e.body, e.orelse) if _view_base(b, ints) is None]
        if len(bases - {None}) == 1 and len(fresh) == 1 and isinstance(fresh[0], ast.Call) and isinstance(fresh[0].func, ast.Attribute) \
                and fresh[0].func.attr in ("new_zeros", "new_ones", "new_full", "new_empty", "zeros_like", "ones_like"):
            return next(b for b in bases if b is not None)
        return None
    seen = False
    while True:
        if isinstance(e, ast.Subscript) and _basic_view(e.slice, ints):
            e = e.value
        elif isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and e.func.attr in VIEW_METHODS:
            e = e.func.value
        elif isinstance(e, ast.Attribute) and e.attr in ("T", "mT", "H", "mH"):
            e = e.value
        else:
            break
        seen = True
    return e.id if seen and isinstance(e, ast.Name) else None


def _basic_view(index: ast.AST, ints: frozenset | set = frozenset()) -> bool:
    """Basic indexing (slices, integers, ``None``, ``...``): the result is a view sharing storage and version
    counter with the indexed tensor. Anything else may be advanced indexing (a copy). ``ints``: names known to
    hold Python ints (``range`` loop counters), alone or in integer arithmetic (``t + 1``)."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    return all(isinstance(p, ast.Slice) or (isinstance(p, ast.Constant) and (p.value is None or p.value is Ellipsis)) or _int_expr(p, ints) for p in parts)


def _int_expr(node: ast.AST, ints) -> bool:
    """An integer-valued expression: int constants, names in ``ints``, and ``+ - * // %`` of those."""
    if isinstance(node, ast.Constant):
        return type(node.value) is int
    if isinstance(node, ast.Name):
        return node.id in ints
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _int_expr(node.operand, ints)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod)):
        return _int_expr(node.left, ints) and _int_expr(node.right, ints)
    return False


def _tests_requires_grad(node: ast.AST) -> bool:
    """A filter predicate (a lambda, a comprehension's ``if``) that reads ``.requires_grad``."""
    return any(isinstance(n, ast.Attribute) and n.attr == "requires_grad" for n in walk_nodes(node))


def _group_params(v: Val) -> Val:
    """What a param group (``{"params": tensors, "lr": ...}``) holds, or the value itself."""
    return next((fv for k, fv in v.fields if k == "params"), v) if v.fields is not None else v


def configured_optimizers(ret: Val) -> Optional[tuple]:
    """The optimizer values a Lightning ``configure_optimizers`` return value gives the Trainer (see ``_configured``)."""
    return _configured(ret)


def _configured(ret: Val) -> Optional[tuple]:
    """The optimizers a ``configure_optimizers`` return value gives Lightning, in order: one optimizer, a list or
    tuple of them, ``[optimizers], [schedulers]``, a dict with an ``"optimizer"`` entry, or a list of such dicts."""
    if ret.kind == "optimizer":
        return (ret,)
    if ret.fields is not None:
        got = [fv for k, fv in ret.fields if k == "optimizer"]
        return (got[0],) if len(got) == 1 and got[0].kind == "optimizer" else None
    if ret.items is None:
        return None
    items = ret.items
    if len(items) == 2 and items[0].items is not None and items[0].kind != "optimizer" and items[1].kind != "optimizer":
        items = items[0].items  # ``return [opt_d, opt_g], [sched_d, sched_g]``
    out = []
    for it in items:
        one = _configured(it) if it.kind != "optimizer" else (it,)
        if one is None or len(one) != 1:
            return None
        out.append(one[0])
    return tuple(out)


def _leads(vals) -> Optional[frozenset]:
    """The texts each of ``vals`` (strings, or lists of strings) is known to begin with one of: a known constant
    itself, a known prefix (``f"layers.{i}."``), or the texts known of a list's elements. None when one is unknown."""
    out: set = set()
    for v in vals:
        if v.consts is not None and len(v.consts) == 1 and isinstance(next(iter(v.consts)), str):
            out.add(next(iter(v.consts)))
        elif v.leads:
            out |= v.leads
        elif v.items is not None and v.pytype in ("list", "tuple") and v.items:
            inner = _leads(list(v.items))
            if inner is None:
                return None
            out |= inner
        elif v.prefix:
            out.add(v.prefix)
        else:
            return None
    return frozenset(out) if out else None


def _class_strings(modules, cls: str, attr: str, depth: int = 0):
    """The string (or tuple of strings) the class body of the in-file class ``cls`` (or an in-file base) binds ``attr`` to,
    when no method assigns ``self.<attr>``: ``no_decay = ("bias", "LayerNorm.weight")``; else None."""
    info = modules.classes.get(cls)
    if info is None or attr in info.attrs or depth > 4:
        return None
    found = [st.value for st in info.node.body if isinstance(st, ast.Assign) and any(isinstance(t, ast.Name) and t.id == attr for t in st.targets)]
    if len(found) == 1:
        v = found[0]
        if isinstance(v, ast.Constant) and isinstance(v.value, str):
            return v.value
        if isinstance(v, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in v.elts):
            return tuple(e.value for e in v.elts)  # type: ignore[attr-defined]
        return None
    if found:
        return None
    for b in info.base_names:
        if b in modules.classes and b != cls:
            return _class_strings(modules, b, attr, depth + 1)
    return None


def _constant_strings(v: Val):
    """The string, or tuple of strings, a value is known to be (``no_decay = ["bias", "norm"]``), else None."""
    if v.consts is not None and len(v.consts) == 1 and isinstance(next(iter(v.consts)), str):
        return next(iter(v.consts))
    if v.items is not None and v.items and v.pytype in ("list", "tuple"):
        texts = [_constant_strings(i) for i in v.items]
        if all(isinstance(t, str) for t in texts):
            return tuple(texts)
    return None


def _chooses_by_requires_grad(v: Val) -> bool:
    """Optimizer parameters (a list of them, param-group dicts) chosen by what requires grad."""
    if v.rg_filter:
        return True
    return any(_chooses_by_requires_grad(x) for x in (v.items or ())) or any(_chooses_by_requires_grad(fv) for _, fv in (v.fields or ()))


def _self_parts_called(nodes: list) -> frozenset:
    """The attributes ``self.<a>`` called (``self.bn_aux(h)``, ``self.blocks[i](h)``) within ``nodes``."""
    out = set()
    for b in nodes:
        for n in walk_nodes(b):
            if isinstance(n, ast.Call):
                f = n.func.value if isinstance(n.func, ast.Subscript) else n.func
                if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self":
                    out.add(f.attr)
    return frozenset(out)


def _needs_context(v: Val) -> bool:
    """A value whose identity a summary in terms of ``arg:i`` would lose: a module (its class decides what
    calling it does), an optimizer (what it steps), a framework object (what its methods do), a dict or
    output object (which entry carries what); an inference tensor (whether the callee's ops keep it one or
    allocate normal tensors from it: ``Flow.allocated``)."""
    return v.kind in ("module", "optimizer", "accelerator", "fabric", "scaler") or (v.kind == "instance" and v.cls is not None) or (v.kind == "params" and bool(v.live)) or (
        not v.live and any(c.kind == "inference" for _r, c in v.cut)
    )


def _stored_arguments_as_self(v: Val, method: ast.AST, args: list) -> Val:
    """``v`` with the method's parameters that it also keeps on ``self`` named as those attributes: an optimizer built
    in ``__init__(self, model, ...)`` from ``model.parameters()``, with ``self.model = model`` there, holds
    ``self.model`` (``arg:0`` -> ``self.model``) for every other method of the object. Parameters the method rebinds
    or keeps under several names stay as they are."""
    if not any(r.startswith("arg:") for r in (*v.params, *v.live)) or not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return v
    stored: dict = {}
    rebound: set = set()
    for st in method.body:
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Attribute) and isinstance(st.targets[0].value, ast.Name) \
                and st.targets[0].value.id == "self" and isinstance(st.value, ast.Name) and st.value.id in args:
            stored.setdefault(st.value.id, []).append(st.targets[0].attr)
    for n in ast.walk(method):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            rebound.add(n.id)
    names = {f"arg:{args.index(p)}": f"self.{attrs[0]}" for p, attrs in stored.items() if len(attrs) == 1 and p not in rebound}
    if not names:
        return v

    def rn(r: str) -> str:
        head, dot, rest = r.partition(".")
        return names[head] + dot + rest if head in names else r
    return replace(v, params=frozenset(rn(r) for r in v.params), live=frozenset(rn(r) for r in v.live))


def _rebase(v: Val, ident: str) -> Val:
    """``v`` (in terms of ``self``) seen through an instance named ``ident``."""
    if ident == "self":
        return v
    def rb(r: str) -> str:
        return ident + r[4:] if r == "self" or r.startswith("self.") else r
    return replace(v, params=frozenset(rb(r) for r in v.params), live=frozenset(rb(r) for r in v.live))


def _rebase_all(v: Val, ident: str) -> Val:
    """``v`` (in terms of ``self``) seen through an instance named ``ident``, its cuts too."""
    if ident == "self":
        return v
    def rb(r: str) -> str:
        return ident + r[4:] if r == "self" or r.startswith("self.") else r
    return replace(_rebase(v, ident), cut=frozenset((rb(r), c) for r, c in v.cut))


def _omits_constant_default(fn: ast.AST, n_args: int, kwargs: dict) -> bool:
    """Does a call with ``n_args`` positional arguments and ``kwargs`` leave a parameter of ``fn`` whose default is a
    literal (``hard=True``) at that default?"""
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    a = fn.args
    pos = [x.arg for x in a.posonlyargs + a.args]
    first = len(pos) - len(a.defaults)
    for k, d in enumerate(a.defaults):
        name = pos[first + k]
        if isinstance(d, ast.Constant) and d.value is not None and name not in kwargs and first + k >= n_args + (1 if pos and pos[0] == "self" else 0):
            return True
    return any(isinstance(d, ast.Constant) and d.value is not None and x.arg not in kwargs for x, d in zip(a.kwonlyargs, a.kw_defaults))


def _is_none(node: Optional[ast.AST]) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value is None)


def _creates_graph(call: ast.Call, kwnodes: dict) -> bool:
    """``torch.autograd.grad(outputs, inputs, grad_outputs, retain_graph, create_graph, ...)`` asks for a graph of
    the gradients (by keyword, or as its fifth positional argument)."""
    flag = kwnodes["create_graph"] if "create_graph" in kwnodes else (call.args[4] if len(call.args) > 4 else None)
    return flag is not None and not (isinstance(flag, ast.Constant) and not flag.value)


def _inplace_call(call: ast.Call, pos: int) -> bool:
    """Does the functional call pass ``inplace=True`` (by keyword, or at position ``pos``)?"""
    flag = next((k.value for k in call.keywords if k.arg == "inplace"), None)
    if flag is None and len(call.args) > pos and not any(isinstance(a, ast.Starred) for a in call.args[: pos + 1]):
        flag = call.args[pos]
    return isinstance(flag, ast.Constant) and flag.value is True


def inplace_flag(call: ast.Call, pos: Optional[int]) -> Optional[ast.AST]:
    """What makes a layer constructor (or functional op) in-place: its ``inplace=True`` keyword, or the positional
    ``True`` at ``pos`` when no such keyword is given; None when it is not in-place."""
    for k in call.keywords:
        if k.arg == "inplace":
            return k if isinstance(k.value, ast.Constant) and k.value.value is True else None
    arg = call.args[pos] if pos is not None and len(call.args) > pos else None
    return arg if isinstance(arg, ast.Constant) and arg.value is True else None


def _inplace_flag(ctor: ast.Call, pos: int) -> bool:
    return inplace_flag(ctor, pos) is not None


def indexed_parameter(expr: ast.AST) -> bool:
    """``layer.weight[ids]`` / ``self.emb.weight[:n]``: an indexed part of a layer's weight or bias (the tensors every
    ``torch.nn`` layer registers as parameters), a new tensor whose ``requires_grad`` is its own."""
    return isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Attribute) and expr.value.attr in ("weight", "bias")


def _only_kept_on_ctx(fwd: ast.AST, name: str, ctx: Optional[str]) -> bool:
    """Is every use of the argument ``name`` in a Function's ``forward`` the value of an assignment to an attribute of its
    ``ctx`` (``ctx.module = module``), kept for ``backward``?"""
    if ctx is None:
        return False
    uses = [n for n in walk_nodes(fwd) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]
    kept = {id(st.value) for st in walk_nodes(fwd) if isinstance(st, ast.Assign) and isinstance(st.value, ast.Name) and st.value.id == name
            and all(isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == ctx for t in st.targets)}
    return bool(uses) and all(id(u) in kept for u in uses)


def _getattr_attribute(call: ast.Call) -> ast.Attribute:
    """``getattr(obj, "name")`` as the attribute read it is, ``obj.name`` (made once per call and kept on it)."""
    def build() -> ast.Attribute:
        name = call.args[1].value  # type: ignore[attr-defined]
        return ast.copy_location(ast.Attribute(value=call.args[0], attr=name, ctx=ast.Load()), call)

    return node_cache(call, "_gg_getattr_attr", build)


def _filter_comprehension(call: ast.Call) -> Optional[ast.ListComp]:
    """``filter(lambda p: test, xs)`` as the comprehension it equals, ``[p for p in xs if test]`` (made once per call
    and kept on it; the iterable is the call's own node, so what the walk learned of it holds); None for another
    predicate (a named function, a lambda of several arguments or with defaults)."""
    fn = call.args[0]
    if not isinstance(fn, ast.Lambda):
        return None
    a = fn.args
    if len(a.args) != 1 or a.posonlyargs or a.kwonlyargs or a.vararg or a.kwarg or a.defaults:
        return None

    def build() -> ast.ListComp:
        name = a.args[0].arg
        elt = ast.copy_location(ast.Name(id=name, ctx=ast.Load()), a.args[0])
        target = ast.copy_location(ast.Name(id=name, ctx=ast.Store()), a.args[0])
        gen = ast.comprehension(target=target, iter=call.args[1], ifs=[fn.body], is_async=0)
        return ast.copy_location(ast.ListComp(elt=elt, generators=[gen]), call)

    return node_cache(call, "_gg_filter_comp", build)


def _store_into(container: Val, v: Val, key: Optional[str] = None, grown: Optional[Val] = None) -> Val:
    """A list/dict/set after ``v`` was stored in it (``append``, ``d[key] = v``): it carries what ``v``
    carries; a constant key keeps the entry addressable. ``grown``: the one value ``append`` added to a list, kept as
    its element when it is structured (a dict, a tuple) and every element before it is known."""
    fields = container.fields
    if key is not None:
        fields = tuple((k, fv) for k, fv in (fields or ()) if k != key) + ((key, v),)
    # (an empty ``[]`` is a Python value; once it holds tensors it is a container of tensors, as a literal of them is)
    kind = "tensor" if container.kind in ("python", None) and (v.live or v.cut) and v.kind in ("tensor", None) else container.kind
    elem = None
    if grown is not None and (grown.fields is not None or grown.items is not None) and container.pytype == "list":
        if container.elem is not None:
            elem = join(container.elem, grown)
        elif container.items is not None:
            elem = join(*container.items, grown) if container.items else grown
    return Val(container.live | v.live, container.cut | v.cut, kind=kind, fields=fields, items=None, pytype=container.pytype, left_out=container.left_out, elem=elem)


_INFERENCE_WORD = re.compile(r"inference_mode")
_FORWARD_HOOK_WORD = re.compile(r"register_forward_hook")
_PRE_HOOK_WORD = re.compile(r"register_forward_pre_hook")
_IS_NONE_TEST = re.compile(r"\bis\s+(?:not\s+)?None\b")
_TRAINER_CALL = re.compile(r"\bTrainer\s*\((?:[^()]|\([^()]*\))*\)")  # ``pl.Trainer(...)`` (one level of nested parentheses)
_NO_INFERENCE_MODE = re.compile(r"\binference_mode\s*=\s*False\b")
LIGHTNING_INFERENCE_STEPS = ("validation_step", "test_step", "predict_step")
# method names a framework calls itself (Lightning hooks, steps, builders): not helpers only the class calls
_FRAMEWORK_HOOK = re.compile(r"^(on_|configure_|setup$|teardown$|forward$|prepare_data$|backward$|optimizer_|lr_scheduler_|transfer_batch|__)|_step(_end)?$|_dataloader$|_epoch_end$")
_SAVING_OPS = tuple(sorted(set(SAVES_INPUT) | set(SAVES_OUTPUT)))  # ops that save an input or their output for backward
_WRITE_SYNTAX = re.compile(r"\.[a-z]\w*[a-z0-9]_\(|[-+*/@%&|^]=|\]\s*=[^=]")  # an in-place call, an augmented or index assignment
_STEP_CALL = re.compile(r"\.step\(")


def _in_caller(root: str, selfv: Optional[Val], args: list) -> Optional[str]:
    """A callee's root (``self.critic``, ``arg:0.head``) named as its caller names it (the receiver's and the arguments'
    identities), or None when the caller has no name for it."""
    head, dot, rest = root.partition(".")
    if head == "self" and selfv is not None and selfv.ident and selfv.ident not in (UNKNOWN, NEW):
        return selfv.ident + dot + rest
    if head.startswith("arg:") and head[4:].isdigit() and int(head[4:]) < len(args):
        a = args[int(head[4:])]
        if a.ident and a.ident not in (UNKNOWN, NEW):
            return a.ident + dot + rest
    return None
_INPLACE_CALL = re.compile(r"\.[a-z]\w*[a-z0-9]_\(|[-+*/]=")
# ``x.attr = f(...)``, ``setattr(x, ...)``, or attributes assigned together (``model.fc1, model.fc2 = fc1, fc2``)
_OPTIMIZER_TEXT = re.compile(r"\boptim\.|Adam|SGD|RMSprop|Adagrad|Lion|LAMB|Lamb")
_SELF_ATTR_FROM_NAME = re.compile(r"\bself\.\w+\s*=\s*\w+[ \t]*$", re.M)
_ATTR_FROM_CALL = re.compile(r"\w(?:\.\w+)?\[[^\]\n]*\]\s*=\s*[\w.]+\(|\w\.\w+\s*=\s*[\w.]+\(|\bsetattr\(|\.(?:append|insert|add_module|register_module)\(|\w\.\w+\s*,\s*[\w.]+\.\w+\s*=[^=]|\bassign\s*=\s*True")
_ATTR_FROM_CALL_DOT = re.compile(r"\]\s*=\s*[\w.]+\(|\.\w+\s*=\s*[\w.]+\(|\.(?:append|insert|add_module|register_module)\(|setattr\(|\.\w+\s*,\s*[\w.]+\.\w+\s*=[^=]|assign\s*=\s*True")  # every match of _ATTR_FROM_CALL holds one


# what a Hugging Face Trainer holds of the program: the model it was given (and its wrapped form), and the optimizer
# and scheduler it builds from it
_TRAINER_HELD = frozenset({"model", "model_wrapped", "optimizer", "lr_scheduler"})


def _switched(ev: Event) -> Optional[bool]:
    """The constant ``requires_grad`` an event sets on its target (``p.requires_grad = False``, ``m.requires_grad_(True)``,
    a helper's switch at its call), or None."""
    if ev.target is None:
        return None
    if ev.what == "requires_grad_set" and ev.name == "requires_grad":
        value = getattr(ev.stmt, "value", None)
        return value.value if isinstance(value, ast.Constant) and isinstance(value.value, bool) else None
    if ev.what in ("requires_grad_call", "requires_grad_via_call") and ev.extra in ("True", "False"):
        return ev.extra == "True"
    return None


def _made_switches(fl: FunctionFlow, ident: str, call: ast.Call) -> Optional[tuple]:
    """The ``requires_grad_call`` switches ``fl`` made on the module it created as ``ident`` (or its parts), in order, as
    ``frozen_copy`` entries relative to it, each at ``call`` (where the caller gets the module) with the callee's
    switch as its origin."""
    out = []
    for ev in fl.events:
        if ev.what != "requires_grad_call" or ev.extra not in ("True", "False") or ev.target is None:
            continue
        roots = set(ev.target.live) | ({ev.target.ident} if ev.target.ident else set())
        for r in sorted(roots):
            if r == ident or r.startswith(ident + "."):
                out.append((r[len(ident):], call, ev.extra, ev.node))
    return tuple(out) or None


def _wrapping(c: Cut) -> bool:
    """Is ``c`` the cut a Module's constructor made wrapping a tensor it was given in ``nn.Parameter``?"""
    return c.kind == "rewrap" and c.detail == "nn.Parameter()"


def _only_wrapped(cut: frozenset) -> bool:
    return all(_wrapping(c) for _r, c in cut)


def _with_wrapped(out: Val, module: Val) -> Val:
    """``out``, computed by ``module``, with the cuts of the tensors its constructor wrapped in ``nn.Parameter``."""
    wrapped = frozenset(rc for rc in module.cut if _wrapping(rc[1]))
    return replace(out, cut=out.cut | wrapped) if wrapped and (out.live or out.cut) else out


def _number_cuts(args: list, kwargs: dict) -> frozenset:
    """The cuts of the Python numbers among a call's arguments (``nn.Threshold(t.item(), 0.0)``: the ``.item()`` of ``t``)."""
    return frozenset().union(*(a.cut for a in args if a.kind == "python"), *(v.cut for v in kwargs.values() if v.kind == "python"))


def _added_group_roots(group: Val) -> frozenset:
    """The roots an ``add_param_group(group)`` adds: its ``"params"`` entry (or the group itself, a parameter list)."""
    given = [fv for k, fv in (group.fields or ()) if k == "params"] or [group]
    return frozenset().union(*(g.live | ({g.ident} if g.ident and g.kind in ("module", "params") else frozenset()) for g in given))


def _straight_through_detach(node: ast.BinOp) -> Optional[ast.Call]:
    """The ``.detach()`` call of a straight-through estimator ``a + (b - a).detach()`` (either order), else None."""
    for det, other in ((node.right, node.left), (node.left, node.right)):
        if isinstance(det, ast.Call) and isinstance(det.func, ast.Attribute) and det.func.attr == "detach" and not det.args \
                and isinstance(det.func.value, ast.BinOp) and isinstance(det.func.value.op, ast.Sub):
            # (the same name or attribute path on both sides; ``ast.dump`` would leave a reference cycle per call)
            key = _env_key(other)
            if key is not None and key == _env_key(det.func.value.right):
                return det
    return None


def _part_mode(flags, attr: str):
    """The ``training`` flags of the part ``attr`` of an object with ``flags``: its own, set through the object
    (``model.quantize.eval()``: ``quantize.training``), else the object's (``model.eval()`` reaches every part); the
    flags of its own parts come along (``quantize.inner.training`` -> ``inner.training``)."""
    own = [(k[len(attr) + 1:], fv) for k, fv in (flags or ()) if k.startswith(attr + ".") and k.endswith(".training")]
    if not any(k == "training" for k, _ in own):
        own += [(k, fv) for k, fv in (flags or ()) if k == "training"]
    return tuple(sorted(own)) or None


def _is_self_training(test: ast.AST) -> bool:
    return isinstance(test, ast.Attribute) and test.attr == "training" and isinstance(test.value, ast.Name) and test.value.id == "self"


def _training_test(test: ast.AST) -> bool:
    """``x.training`` / ``torch.is_grad_enabled()`` (optionally ``and``-ed with more conditions)."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_training_test(v) for v in test.values)
    if isinstance(test, ast.Attribute) and test.attr == "training":
        return True
    return isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) and test.func.attr == "is_grad_enabled"


def _carries_program_roots(v: Val) -> bool:
    """Does ``v`` carry (live or cut) roots of this program? A training step that receives it
    backpropagates through what it carries: ``g_step(fake)`` with ``fake = G(z).detach()``."""
    return any(r != UNKNOWN and not r.startswith("arg:") for r in v.live) or any(r != UNKNOWN and not r.startswith("arg:") for r, _ in v.cut)


def _needs_grad_guarded(bwd: ast.AST, numbers: frozenset) -> dict:
    """ids of the values assigned inside ``if ctx.needs_input_grad[k]:`` (alone or in an ``and``) for a ``k`` of
    ``numbers`` -> that ``ctx.needs_input_grad[k]`` test: code that never runs when input ``k`` is a Python number."""
    out: dict = {}
    for n in walk_nodes(bwd):
        if not isinstance(n, ast.If):
            continue
        tests = n.test.values if isinstance(n.test, ast.BoolOp) and isinstance(n.test.op, ast.And) else [n.test]
        test = next((t for t in tests if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Attribute) and t.value.attr == "needs_input_grad"
                     and isinstance(t.slice, ast.Constant) and t.slice.value in numbers), None)
        if test is not None:
            for st in n.body:
                for a in walk_nodes(st):
                    if isinstance(a, ast.Assign):
                        out[id(a.value)] = test
    return out


def _all_bases(modules, cls: str) -> set:
    """The in-file classes ``cls`` derives from, transitively."""
    out: set = set()
    todo = [cls]
    while todo:
        c = todo.pop()
        info = modules.classes.get(c)
        for b in (info.base_names if info is not None else []):
            if b in modules.classes and b not in out:
                out.add(b)
                todo.append(b)
    return out


def argument_writes(fn: ast.AST) -> frozenset:
    """Ids of the in-place writes ``fn`` makes into one of its own parameters as the caller passed it (not rebound
    before): an index or augmented assignment to it or to a basic index of it (the Subscript target, the AugAssign),
    or an in-place method call on it (the Call; ``requires_grad_()`` and the like change no values)."""
    args = getattr(fn, "args", None)
    if args is None:
        return frozenset()
    names = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)} - {"self", "cls"}
    if not names:
        return frozenset()
    writes: list = []  # (node, parameter name)

    def base(e: ast.AST) -> Optional[str]:
        while isinstance(e, ast.Subscript):
            e = e.value
        return e.id if isinstance(e, ast.Name) and e.id in names else None

    rebound: dict = {}  # parameter name -> positions where it is bound anew
    for n in walk_nodes(fn):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id in names:
            rebound.setdefault(n.id, []).append((n.lineno, n.col_offset))
        elif isinstance(n, ast.Assign):
            writes.extend((t, b) for t in n.targets if isinstance(t, ast.Subscript) for b in [base(t)] if b)
        elif isinstance(n, ast.AugAssign):
            b = base(n.target)
            if b:
                writes.append((n, b))
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
            a = n.func.attr
            b = base(n.func.value) if a.endswith("_") and not a.startswith("_") and a not in _NOT_VALUE_CHANGES else None
            if b:
                writes.append((n, b))
    return frozenset(id(w) for w, b in writes if not any(pos < (w.lineno, w.col_offset) for pos in rebound.get(b, ())))


_NOT_VALUE_CHANGES = frozenset({"requires_grad_", "share_memory_", "retain_grad_", "record_stream_"})


def _within(node: ast.AST, scope: ast.AST) -> bool:
    return getattr(scope, "lineno", 0) <= getattr(node, "lineno", -1) <= (getattr(scope, "end_lineno", 0) or 0)


def _tuple_val(items: tuple) -> Val:
    j = combine(*items) if items else CONST
    return Val(j.live, j.cut, kind="tensor" if (j.live or j.cut) else None, items=items)


CONTAINER_STORES = {"append", "extend", "insert", "add", "update", "setdefault", "appendleft"}

def _fresh_copy(expr: ast.AST) -> bool:
    """``x.clone()`` / ``x.detach()`` / ``x.detach().clone()`` / ``x.clone().detach()``: a new tensor object."""
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in ("clone", "detach") and not expr.args



GRAD_MODE_FUNCS = {"no_grad", "enable_grad", "inference_mode", "set_grad_enabled", "is_grad_enabled", "manual_seed", "device", "dtype", "Size", "is_tensor", "numel"}


def _numeric_expr(v: ast.AST) -> bool:
    """An expression whose value is a Python number whatever its names hold: a numeric literal, ``math.*`` or
    ``int()``/``float()``/``round()``/``len()``, and arithmetic on such values (``1.0 / math.sqrt(fan_in)``)."""
    if isinstance(v, ast.Constant):
        return isinstance(v.value, (int, float)) and not isinstance(v.value, bool)
    if isinstance(v, ast.UnaryOp):
        return _numeric_expr(v.operand)
    if isinstance(v, ast.BinOp):
        return _numeric_expr(v.left) and _numeric_expr(v.right)
    if isinstance(v, ast.Call):
        f = v.func
        return (isinstance(f, ast.Name) and f.id in ("int", "float", "round", "len")) or (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "math")
    return False


_PART_ITERATORS = frozenset({"modules", "named_modules", "children", "named_children", "parameters", "named_parameters"})


def always_true(test: ast.AST, imports) -> bool:
    """Is ``test`` true on every run, whatever the values: a truthy literal, an ``or`` with such an operand, an ``and``
    of such operands, or a ``torch.nn`` class object itself (``isinstance(m, nn.BatchNorm2d) or nn.Conv2d``: a class is
    truthy, so the ``or`` is)."""
    if isinstance(test, ast.Constant):
        return bool(test.value)
    if isinstance(test, ast.BoolOp):
        if isinstance(test.op, ast.Or):
            return any(always_true(v, imports) for v in test.values)
        return all(always_true(v, imports) for v in test.values)
    if isinstance(test, (ast.Attribute, ast.Name)) and imports is not None:
        q = imports.qualname(test)
        return q is not None and is_module_ctor(q)
    return False


def per_part_branches(fn: ast.AST, imports=None) -> frozenset:
    """Ids of the nodes in ``fn`` that run only for some parts of a model: inside an ``if`` (or its ``else``) whose test
    reads the target of an enclosing ``for`` over ``model.modules()`` / ``named_parameters()`` and the like
    (``if not isinstance(m, LoRAAdapter):``, ``if "head" in name:``), unless the test is true whatever the part
    (``always_true``). A change there is a change to those parts only."""
    cached = getattr(fn, "_gg_per_part", None)
    if cached is not None:
        return cached
    out: set = set()
    # (a ``for`` is a statement: the statement walk finds every one ``ast.walk`` would, without visiting expressions)
    for loop in statements_of_type(fn, (ast.For,)):
        if not ( isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Attribute) and loop.iter.func.attr in _PART_ITERATORS):
            continue
        names = {t.id for t in ast.walk(loop.target) if isinstance(t, ast.Name)}
        for branch in walk_nodes(loop):
            if isinstance(branch, ast.If) and any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(branch.test)) and not always_true(branch.test, imports):
                for part in (*branch.body, *branch.orelse):
                    out.update(id(n) for n in ast.walk(part))
    got = frozenset(out)
    try:
        fn._gg_per_part = got  # type: ignore[attr-defined]
    except AttributeError:
        pass
    return got


def configured_branches(fl: FunctionFlow, imports=None) -> frozenset:
    """Ids of the nodes of ``fl``'s function that run only in some configurations: inside an ``if`` (or its ``else``)
    whose test the walk could not decide (``if not train_text_encoder:``, ``if args.freeze:``), other than the
    ``if __name__ == "__main__":`` of a script. A change made there does not show what the program wants in the
    configurations that skip it."""
    out: set = set()
    for branch in statements_of_type(fl.node, (ast.If,)):
        if id(branch) in fl.decided_ifs or _main_guard(branch.test) or always_true(branch.test, imports):
            continue
        for part in (*branch.body, *branch.orelse):
            out.update(id(n) for n in ast.walk(part))
    return frozenset(out)


def _main_guard(test: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "__name__" for n in ast.walk(test))


def _back_on(state: dict, part: str) -> bool:
    """Was ``part`` itself (or a part of it) switched back on after its container was frozen? (the state is in order)"""
    return any(on and (r == part or r.startswith(part + ".")) for r, on in state.items())


def _requires_grad_flag(call: ast.Call, kwnodes: dict) -> bool:
    """The flag ``x.requires_grad_(...)`` sets: True unless ``False`` is passed (by position or ``requires_grad=``)."""
    flag = not (call.args and isinstance(call.args[0], ast.Constant) and call.args[0].value is False)
    if "requires_grad" in kwnodes:
        flag = _truthy(kwnodes["requires_grad"])
    return flag


def _truthy(node: Optional[ast.AST]) -> bool:
    return isinstance(node, ast.Constant) and bool(node.value)


def _numpy_float64(name: str, node: ast.Call, args: list, kwnodes: dict) -> Optional[str]:
    """"float64" when NumPy's ``np.<name>(...)`` call makes a float64 value: its float constructors (``zeros``, ``linspace``,
    ``random.randn``...) without ``dtype=``, its float functions (``log``, ``exp``, ``mean``...) of Python numbers or of
    float64 arrays, and ``array`` / ``asarray`` of a literal list holding a float. None when not known."""
    if "dtype" in kwnodes:
        return None
    if "numpy." + name in NUMPY_FLOAT64_MAKERS:
        return None if name in ("zeros", "ones", "empty", "loadtxt", "genfromtxt") and len(node.args) > 1 else "float64"  # (a dtype by position)
    if name in ("array", "asarray") and node.args and isinstance(node.args[0], (ast.List, ast.Tuple)):
        elts = node.args[0].elts
        if elts and all(isinstance(e, ast.Constant) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool) for e in elts) \
                and any(isinstance(e.value, float) for e in elts if isinstance(e, ast.Constant)):
            return "float64"
        return None
    if (name in NUMPY_FLOAT_FUNCTIONS or name in NUMPY_DTYPE_KEEPING) and args and len(args) == len(node.args):
        numbers = name in NUMPY_FLOAT_FUNCTIONS
        if all((a.kind == "numpy" and a.dtype == "float64") or (numbers and a.kind == "python" and a.items is None and not a.live) for a in args):
            return "float64"
    return None


def _argument_constant(fn: ast.AST, expr: ast.AST, call: ast.Call):
    """The constant ``expr`` (an expression in ``fn``) has at ``call``: a literal, or a parameter of ``fn`` the call
    passes a literal for (or leaves at a literal default); None when unknown. ``and`` / ``or`` / ``not`` of such values
    are decided when their known operands decide them (``flag or (is_bn and train_bn)`` with ``flag=False,
    train_bn=False``: False whatever ``is_bn`` is)."""
    if isinstance(expr, ast.Constant):
        return expr.value
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        v = _argument_constant(fn, expr.operand, call)
        return (not v) if isinstance(v, (bool, int)) else None
    if isinstance(expr, ast.BoolOp):
        vals = [_argument_constant(fn, x, call) for x in expr.values]
        known = [bool(v) for v in vals if isinstance(v, (bool, int))]
        if isinstance(expr.op, ast.Or):
            if any(known):
                return True
            return False if len(known) == len(vals) else None
        if not all(known) and known:
            return False
        return True if len(known) == len(vals) else None
    if not (isinstance(expr, ast.Name) and isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))):
        return None
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    names = [p.arg for p in positional]
    got: Optional[ast.AST] = None
    if expr.id in names:
        i = names.index(expr.id)
        if i < len(call.args) and not any(isinstance(x, ast.Starred) for x in call.args[: i + 1]):
            got = call.args[i]
        else:
            got = next((k.value for k in call.keywords if k.arg == expr.id), None)
            defaults = a.defaults
            j = i - (len(positional) - len(defaults))
            if got is None and 0 <= j < len(defaults) and not any(k.arg is None for k in call.keywords):
                got = defaults[j]
    elif expr.id in [p.arg for p in a.kwonlyargs]:
        i = [p.arg for p in a.kwonlyargs].index(expr.id)
        got = next((k.value for k in call.keywords if k.arg == expr.id), None) or a.kw_defaults[i]
    else:
        return None
    return got.value if isinstance(got, ast.Constant) else None


def _params_union(vals: list) -> Optional[Val]:
    """The parameters of every one of ``vals`` when each is a parameter collection (``m.parameters()``, a list of
    them, a ``requires_grad`` filter of them), as one collection; else None."""
    if not vals or any(v.kind != "params" for v in vals):
        return None
    if any(v.rg_filter for v in vals) and not all(v.rg_filter for v in vals):
        return None  # (part of it filtered by requires_grad, part not: a filter over the whole would say more)
    return Val(
        frozenset().union(*(v.live for v in vals)), frozenset().union(*(v.cut for v in vals)), kind="params",
        rg_filter=vals[0].rg_filter, left_out=frozenset().union(*(v.left_out for v in vals)),
    )


def _path_after(node: ast.Attribute, name: str) -> Optional[str]:
    """The first attribute read from ``name`` in ``node`` (``self.tracker.last`` from ``self.tracker``: ``last``)."""
    k = _env_key(node.value)
    return node.attr if k == name else None


def _env_key(expr: ast.AST) -> Optional[str]:
    """``h`` -> ``"h"``, ``self.tracker.last`` -> ``"self.tracker.last"``: the key of a name or an attribute path of one in
    a walk's environment; None for anything else."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        inner = _env_key(expr.value)
        return None if inner is None else f"{inner}.{expr.attr}"
    return None


def _through(v: Val, call: ast.AST) -> Val:
    """``v``, returned by a callee analyzed at ``call``, with ``call`` on the path of each of its cuts (also of the
    values of its tuple positions and dict entries, which unpacking and indexing give)."""
    if len(v.cut) > 64:  # the call site is only related information: not worth a copy of a large set
        return v
    items = tuple(_through(i, call) for i in v.items) if v.items is not None else None
    fields = tuple((k, _through(fv, call)) for k, fv in v.fields) if v.fields is not None else None
    return replace(v, cut=frozenset((root, c.through(call)) for root, c in v.cut), items=items, fields=fields)


def _literal_val(node: ast.AST, depth: int = 0) -> Optional[Val]:
    """The value of a literal made only of constants (str, int, bool, None, float), and of dicts with constant string
    keys, lists and tuples of such; None for anything else."""
    if depth > 4:
        return None
    if isinstance(node, ast.Constant) and (node.value is None or type(node.value) in (str, int, bool, float)):
        return constant(node.value)
    if isinstance(node, ast.Dict) and len(node.keys) <= 64:
        fields = []
        for k, v in zip(node.keys, node.values):
            if not (isinstance(k, ast.Constant) and isinstance(k.value, str)):
                return None
            fv = _literal_val(v, depth + 1)
            if fv is None:
                return None
            fields.append((k.value, fv))
        table = node if fields and all(isinstance(v, ast.Constant) for v in node.values) else None
        return Val(kind="python", fields=tuple(fields), pytype="dict", table=table)
    if isinstance(node, (ast.List, ast.Tuple)) and len(node.elts) <= 64:
        items = [_literal_val(e, depth + 1) for e in node.elts]
        if any(i is None for i in items):
            return None
        return Val(kind="python", items=tuple(items), pytype="list" if isinstance(node, ast.List) else "tuple")
    return None


def _literal_constants(node: ast.AST) -> Optional[list]:
    """The values of a literal (``"dice"``, ``3``, ``None``) as a one-item list, or of a tuple / list / set of
    literals; None for anything else."""
    if isinstance(node, ast.Constant):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts and all(isinstance(e, ast.Constant) for e in node.elts):
        return [e.value for e in node.elts]  # type: ignore[attr-defined]
    return None


def _same_name_path(a: ast.AST, b: ast.AST) -> bool:
    """Are ``a`` and ``b`` the same name or dotted attribute path (``timesteps``, ``self.steps``)?"""
    while isinstance(a, ast.Attribute) and isinstance(b, ast.Attribute):
        if a.attr != b.attr:
            return False
        a, b = a.value, b.value
    return isinstance(a, ast.Name) and isinstance(b, ast.Name) and a.id == b.id


def _name_of(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _name_of(node.value)
        return f"{base}.{node.attr}" if base else None
    return None
