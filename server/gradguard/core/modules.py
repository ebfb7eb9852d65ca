"""ModuleModel: the classes of a file, which are ``nn.Module``s or ``autograd.Function``s, and what
``__init__`` registers on them."""
from __future__ import annotations

import ast
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Optional

from gradguard.core.astindex import child_nodes, index_of, statements_of_type, walk_nodes
from gradguard.core.imports import Imports
from gradguard.core.torchapi import (
    CONFIG_MIXIN_BASES,
    FACTORIES,
    FRAMEWORK_PLAIN_ATTRS,
    FRAMEWORK_PLAIN_BASES,
    HF_MODEL_BASES,
    HF_TRAINER_BASES,
    INT_RESULT_METHODS,
    LAYER_PARAMETERS,
    LEGACY_TENSOR_CTORS,
    LIGHTNING_BASES,
    MODULE_BASE,
    MODULE_CONTAINERS,
    MODULE_SAVED_OP,
    PARAMETER_CTORS,
    PARAMETER_SLOTS,
    SAVES_INPUT,
    SAVES_INPUT_MODULES,
    TENSOR_MOVE_METHODS,
    is_framework_module_base,
    is_module_ctor,
    is_parameterless_ctor,
)


@dataclass
class ClassInfo:
    node: ast.ClassDef
    name: str
    base_names: list[str]  # qualified where resolvable, else the source text
    methods: dict[str, ast.FunctionDef] = field(default_factory=dict)
    is_module: Optional[bool] = None  # None: bases not resolvable in this file
    is_autograd_function: bool = False
    local_bases: list[str] = field(default_factory=list)
    buffers: set = field(default_factory=set)  # register_buffer("name", ...)
    constants: set = field(default_factory=set)  # self.x = <plain tensor / number / string> in __init__ only
    framework: Optional[str] = None  # lightning | hf_model | hf_trainer: how the framework trains it
    attrs: set = field(default_factory=set)  # every ``self.<name>`` assigned in the class
    manual_optimization: bool = False  # Lightning: ``self.automatic_optimization = False``
    attr_values: dict = field(default_factory=dict)  # attr -> every expression assigned to ``self.<attr>``


_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def _dataclass_decorator(d: ast.AST) -> bool:
    """``@dataclass``, ``@dataclasses.dataclass`` and either called with options."""
    f = d.func if isinstance(d, ast.Call) else d
    return (isinstance(f, ast.Name) and f.id == "dataclass") or (isinstance(f, ast.Attribute) and f.attr == "dataclass")


def _walk_lines(node: ast.AST, lines: list) -> list:
    """``walk_nodes(node)`` (the same order) without the nested statements whose lines hold none of the sorted line
    numbers ``lines``, nor their nodes. A statement's nodes lie within its lines (those of a function or class from its
    first decorator on), so every node whose text is on one of ``lines`` is kept."""
    out = [node]
    append = out.append
    stmt = ast.stmt
    n_lines = len(lines)
    i = 0
    while i < len(out):
        n = out[i]
        i += 1
        for c in child_nodes(n):
            if isinstance(c, stmt):
                first = c.lineno
                decorators = getattr(c, "decorator_list", None)
                if decorators:
                    first = min(first, *(d.lineno for d in decorators))
                j = bisect_left(lines, first)
                if j == n_lines or lines[j] > (c.end_lineno or c.lineno):
                    continue
            append(c)
    return out


_SETS_ATTRS = (ast.Expr, ast.Assign, ast.AnnAssign)  # the statements ``_collect_attrs`` reads
_BODY_FIELDS: dict = {}  # node class -> the fields of _BODIES it has, in _BODIES order


def _statements(node: ast.AST) -> list:
    """Every statement nested in ``node``'s bodies (``self.x = ...`` and ``self.register_buffer(...)``
    are statements, so expressions need not be walked). Order: each node's blocks as they come, then the
    last node of them first (a stack); only the fields of ``_BODIES`` a node's class has are read."""
    out: list = []
    stack = [node]
    pop, push = stack.pop, stack.append
    stmt = ast.stmt
    fields = _BODY_FIELDS
    while stack:
        n = pop()
        cls = n.__class__
        names = fields.get(cls)
        if names is None:
            names = fields[cls] = tuple(name for name in _BODIES if name in cls._fields)
        for name in names:
            block = getattr(n, name, None)
            if block:
                for st in block:
                    if isinstance(st, stmt):
                        out.append(st)
                    push(st)
    return out


# calls that turn a layer's ``weight`` into a tensor computed from other parameters (no longer a leaf)
_REPLACES_WEIGHT = ("weight_norm", "spectral_norm", "parametriz")

_REGISTERS_BY_NAME = frozenset({"register_parameter", "add_module", "register_module", "__setattr__", "setattr"})


# Builtins and ``math`` functions that turn numbers into numbers (``int(math.log(size, 2))``, ``len(channels)``).
_NUMERIC_CALLS = frozenset({"int", "float", "round", "abs", "min", "max", "len", "bool"})


def _is_plain(v: ast.AST, plain_attrs: frozenset = frozenset()) -> bool:
    """A value built from names and numbers by arithmetic alone (and the object's own such attributes,
    ``plain_attrs``: ``self.n_latent = self.log_size * 2 - 2``): a hyperparameter, never a module or a parameter
    (those come from other calls)."""
    if isinstance(v, (ast.Constant, ast.Name)):
        return True
    if isinstance(v, ast.Attribute):
        # (``math.pi``: a number of the standard library)
        return isinstance(v.value, ast.Name) and ((v.value.id == "self" and v.attr in plain_attrs) or v.value.id == "math")
    if isinstance(v, ast.BinOp):
        return _is_plain(v.left, plain_attrs) and _is_plain(v.right, plain_attrs)
    if isinstance(v, ast.UnaryOp):
        return _is_plain(v.operand, plain_attrs)
    if isinstance(v, (ast.Tuple, ast.List)):
        return all(_is_plain(e, plain_attrs) for e in v.elts)
    if isinstance(v, ast.IfExp):  # (``dist.get_rank(pg) if pg is not None else 0``: a number either way)
        return _is_plain(v.body, plain_attrs) and _is_plain(v.orelse, plain_attrs)
    if isinstance(v, ast.Call) and ((isinstance(v.func, ast.Attribute) and v.func.attr in INT_RESULT_METHODS) or (
            isinstance(v.func, ast.Name) and v.func.id in INT_RESULT_METHODS and v.func.id.startswith("get_"))):
        return True  # (``dist.get_rank(self.pg)``, ``get_world_size()``, ``pg.size()``, ``x.numel()``: a Python int whatever it is given)
    if isinstance(v, ast.Call) and not v.keywords:
        f = v.func
        numeric = (isinstance(f, ast.Name) and f.id in _NUMERIC_CALLS) or (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "math")
        return numeric and all(_is_plain(a, plain_attrs) for a in v.args)
    return False


def _bound_to_computed(cls: ast.ClassDef, name: ast.Name) -> bool:
    """Is ``name`` (read in a method of ``cls``) bound in that method by an assignment of a value that is not plain
    (a call, a tensor expression)?"""
    line = name.lineno
    for fn in cls.body:
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.lineno <= line <= (fn.end_lineno or fn.lineno):
            return any(
                isinstance(st, ast.Assign) and st.lineno < line and any(isinstance(t, ast.Name) and t.id == name.id for t in st.targets) and not _is_plain(st.value)
                for st in walk_nodes(fn)
            )
    return False


def _binds(st: ast.stmt, name: str) -> bool:
    """Does statement ``st`` itself bind the local ``name`` (an assignment, a loop or ``with`` target)?"""
    if isinstance(st, ast.Assign):
        targets = st.targets
    elif isinstance(st, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
        targets = [st.target]
    elif isinstance(st, (ast.With, ast.AsyncWith)):
        targets = [i.optional_vars for i in st.items if i.optional_vars is not None]
    else:
        return False
    return any(isinstance(n, ast.Name) and n.id == name for t in targets for n in walk_nodes(t))


def _method_parameters(info) -> set:
    """The parameter names of the class's methods (``self`` aside): values handed in from outside."""
    return {a.arg for m in info.methods.values() for a in (*m.args.posonlyargs, *m.args.args, *m.args.kwonlyargs)} - {"self"}


def _loaded(v: ast.AST, imports) -> bool:
    """A tensor read from disk: ``torch.load(path)``, or an item of it (``torch.load(path)["queue"]``)."""
    while isinstance(v, ast.Subscript):
        v = v.value
    return isinstance(v, ast.Call) and (imports.qualname(v.func) or "") == "torch.load"


_WRAP_HINT = re.compile(r"^\s*[A-Za-z_][\w.]*\.(\w+)\s*=\s*[A-Z]\w*\(.*\.\1\b")  # ``m.q = Wrap(m.q)``
# what a line ``_WRAP_HINT`` matches holds (``.q = Wrap(... .q``), searched in the whole text first (one search
# instead of one per line; ``.`` stops at a line break, and whitespace within a line is not one)
_SETATTR_WRAP = re.compile(r"\bsetattr\(")
_WRAP_TEXT = re.compile(r"\.(\w+)[^\S\n]*=[^\S\n]*[A-Z]\w*\(.*\.\1\b")


def _requires_grad_default(call: ast.Call) -> bool:
    """``nn.Parameter(t)`` (requires grad), not ``nn.Parameter(t, requires_grad=False)`` nor a flag computed at run time."""
    flag = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "requires_grad"), None)
    return flag is None or (isinstance(flag, ast.Constant) and flag.value is True)


_FILL_METHODS = ("append", "extend", "insert", "update", "setdefault", "add")
# (``self.x[k].append(v)`` too: a dict of lists, one list per key)
_FILLS = re.compile(r"self\.(\w+)\s*(?:(?:\[[^\]\n]*\]\s*)?\.\s*(?:" + "|".join(_FILL_METHODS) + r")\s*\(|\[[^\]\n]*\]\s*=[^=]|\+=)")

def _exclusive_branches(fn: ast.AST, a: int, b: int) -> bool:
    """Are lines ``a`` and ``b`` of ``fn`` on different branches of one ``if`` (one in its body, the other in its
    ``else`` / ``elif`` chain)? One run of ``fn`` executes at most one of them."""
    def within(stmts: list, line: int) -> bool:
        return bool(stmts) and stmts[0].lineno <= line <= (stmts[-1].end_lineno or stmts[-1].lineno)

    for n in walk_nodes(fn):
        if isinstance(n, ast.If) and n.orelse and ((within(n.body, a) and within(n.orelse, b)) or (within(n.orelse, a) and within(n.body, b))):
            return True
    return False


class ModuleModel:
    def __init__(self, tree: ast.Module, imports: Imports, lines: Optional[list] = None) -> None:
        self.imports = imports
        self._lines = lines
        self._passed: dict = {}
        self._called: dict = {}
        self._no_params: dict = {}  # class -> owns_no_parameters
        self._inst: Optional[dict] = None
        self._wrapped: Optional[dict] = None
        self._has_inplace = lines is not None and any("inplace=True" in ln for ln in lines)
        self.classes: dict[str, ClassInfo] = {}
        self._tree = tree
        for node in statements_of_type(tree, ast.ClassDef):
            if isinstance(node, ast.ClassDef):
                bases = []
                local = []
                for b in node.bases:
                    q = imports.qualname(b)
                    if q is None:
                        q = ast.unparse(b) if hasattr(ast, "unparse") else ""
                        if isinstance(b, ast.Name):
                            local.append(b.id)
                    bases.append(q)
                info = ClassInfo(node, node.name, bases, local_bases=local)
                for st in node.body:
                    if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        info.methods[st.name] = st  # type: ignore[assignment]
                self.classes.setdefault(node.name, info)
        for info in self.classes.values():
            self._collect_attrs(info)
        for info in self.classes.values():
            info.is_module = self._is_module(info, set())
            info.is_autograd_function = self._is_function(info, set())
            info.framework = self._framework(info, set())
        if any(info.is_module and info.framework is None for info in self.classes.values()):
            self._trained_by_hf_trainer(tree)

    def _trained_by_hf_trainer(self, tree: ast.Module) -> None:
        """A plain Module class whose instance is given to a Hugging Face ``Trainer`` (``Trainer(model=vae, ...)``, the
        first positional argument, or a Trainer subclass of the file) is driven the way a ``PreTrainedModel`` is: the
        Trainer runs its ``forward`` and backpropagates the loss it returns (``framework`` "hf_model"). Only when every
        assignment of that name in the file builds the same class."""
        lines = self._lines
        if lines is not None and not any("Trainer(" in ln for ln in lines):
            return
        trainer_classes = {n for n, i in self.classes.items() if i.framework == "hf_trainer"}
        made: dict = {}  # name -> set of in-file classes assigned to it anywhere in the file
        given: list = []
        for node in walk_nodes(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                v = node.value
                made.setdefault(node.targets[0].id, set()).add(v.func.id if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) else None)
            elif isinstance(node, ast.Call):
                q = self.imports.qualname(node.func) or ""
                if q in HF_TRAINER_BASES or (isinstance(node.func, ast.Name) and node.func.id in trainer_classes):
                    arg = next((k.value for k in node.keywords if k.arg == "model"), node.args[0] if node.args else None)
                    if isinstance(arg, ast.Name):
                        given.append(arg.id)
        for name in given:
            kinds = made.get(name, set())
            if len(kinds) == 1:
                cls = next(iter(kinds))
                info = self.classes.get(cls) if cls else None
                if info is not None and info.is_module and info.framework is None:
                    info.framework = "hf_model"

    @property
    def _index(self):
        return index_of(self._tree)  # built on first use (only some rules need expression-level walks)

    def _collect_attrs(self, info: ClassInfo) -> None:
        """Attributes that never carry trainable gradient: buffers, and attributes only ever assigned
        plain constants or non-grad tensor factories (``torch.zeros(...)`` without requires_grad)."""
        assigned: dict = {}
        for node in _statements(info.node):
            if not isinstance(node, _SETS_ATTRS):
                continue  # (nothing below reads any other statement)
            call = node.value if isinstance(node, (ast.Expr, ast.Assign)) else None
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "register_buffer":
                if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
                    info.buffers.add(call.args[0].value)
            targets: list = []
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, (ast.Tuple, ast.List)) and isinstance(node.value, (ast.Tuple, ast.List)) and len(t.elts) == len(node.value.elts):
                        targets.extend(zip(t.elts, node.value.elts))  # ``self.a, self.b = a, b``
                    else:
                        targets.append((t, node.value))
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets = [(node.target, node.value)]
            for t, v in targets:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                    assigned.setdefault(t.attr, []).append(v)
                    if t.attr == "automatic_optimization" and isinstance(v, ast.Constant) and v.value is False:
                        info.manual_optimization = True
                elif isinstance(t, ast.Name) and t.id == "automatic_optimization" and isinstance(v, ast.Constant) and v.value is False and node in info.node.body:
                    info.manual_optimization = True
        info.attrs = set(assigned)
        info.attr_values = assigned
        plain: list = []
        while True:  # (a fixpoint: ``self.n_latent = self.log_size * 2 - 2`` once ``self.log_size`` is plain)
            known = frozenset(plain)
            plain = [name for name, values in assigned.items() if not all(self._is_constant(v) for v in values) and all(_is_plain(v, known) for v in values)]
            if len(plain) == len(known):
                break
        if plain:
            # a name the method binds to a computed value (``angles = pos * self.log_freq.exp()``, then ``self._table =
            # angles``) is that value, not a hyperparameter
            plain = [name for name in plain if not any(isinstance(v, ast.Name) and _bound_to_computed(info.node, v) for v in assigned[name])]
        methods = {st.name for st in info.node.body if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef))}
        filled = None
        for name, values in assigned.items():
            if len(values) == 1 and self._turned_on_in_init(info.name, name, values[0]):
                continue  # (``self.log_alpha = torch.tensor(...)`` made to require grad: a trained leaf, not a constant)
            # (``self.assignment_fn = self.sinkhorn``: a bound method of the object, not a tensor)
            if all(self._is_constant(v) or (isinstance(v, ast.Attribute) and isinstance(v.value, ast.Name) and v.value.id == "self" and v.attr in methods) for v in values):
                if any(isinstance(v, (ast.List, ast.Dict, ast.Set)) for v in values):
                    # ``self.log_probs = []`` filled by ``self.log_probs.append(dist.log_prob(a))``: a container holds
                    # what the program puts in it, not the literal it started as
                    if filled is None:
                        filled = self._filled_attrs(info)
                    if name in filled:
                        continue
                info.constants.add(name)
        if plain:
            called = self._called_attrs(info)
            # a hyperparameter (``self.n_heads = n_heads``, ``dim // heads``) unless it is called like a module
            info.constants.update(name for name in plain if name not in called)

    def _called_attrs(self, info: ClassInfo) -> set:
        """Attributes used as modules in the class: ``self.x(...)`` or ``self.x.parameters()`` (cached)."""
        got = self._called.get(info.name)
        if got is None:
            got = self._called[info.name] = self._scan_called_attrs(info)
        return got

    def _scan_called_attrs(self, info: ClassInfo) -> set:
        text = "".join(self._lines[info.node.lineno - 1 : info.node.end_lineno]) if self._lines else None
        if text is not None:
            return set(re.findall(r"self\.(\w+)\s*(?:\(|\.\w+\s*\()", text))
        out = set()
        for node in walk_nodes(info.node):
            f = node.func if isinstance(node, ast.Call) else None
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self":
                out.add(f.attr)
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Attribute) and isinstance(f.value.value, ast.Name) and f.value.value.id == "self":
                out.add(f.value.attr)
        return out

    def _filled_attrs(self, info: ClassInfo) -> set:
        """Attributes whose contents the class changes: ``self.x.append(v)`` (``extend``, ``insert``, ``update``,
        ``setdefault``, ``add``), ``self.x[k].append(v)``, ``self.x[k] = v``, ``self.x += [...]``."""
        text = "".join(self._lines[info.node.lineno - 1 : info.node.end_lineno]) if self._lines else None
        if text is not None:
            return set(_FILLS.findall(text))
        out = set()
        for node in walk_nodes(info.node):
            tgt = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _FILL_METHODS:
                tgt = node.func.value
                if isinstance(tgt, ast.Subscript):
                    tgt = tgt.value  # ``self.x[k].append(v)``
            elif isinstance(node, ast.Assign):
                tgt = next((t.value for t in node.targets if isinstance(t, ast.Subscript)), None)
            elif isinstance(node, ast.AugAssign):
                tgt = node.target
            if isinstance(tgt, ast.Attribute) and isinstance(tgt.value, ast.Name) and tgt.value.id == "self":
                out.add(tgt.attr)
        return out

    def _is_constant(self, v: ast.AST) -> bool:
        if isinstance(v, ast.Constant):
            return True
        if isinstance(v, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Constant) for e in v.elts):
            return True
        if isinstance(v, ast.Call):
            q = self.imports.qualname(v.func) or ""
            short = q.rsplit(".", 1)[-1]
            if q.startswith("torch.") and short in ("zeros", "ones", "full", "arange", "linspace", "eye", "empty", "tensor", "zeros_like", "ones_like", "randn", "rand"):
                return not any(k.arg == "requires_grad" for k in v.keywords)
        return False

    def _is_module(self, info: ClassInfo, seen: set) -> Optional[bool]:
        if info.name in seen:
            return None
        seen.add(info.name)
        verdict: Optional[bool] = False
        for q in info.base_names:
            if q in MODULE_BASE or is_module_ctor(q) or is_framework_module_base(q):
                return True
            if q in self.classes and q != info.name:
                v = self._is_module(self.classes[q], seen)
                if v:
                    return True
                if v is None:
                    verdict = None
            elif q not in ("object", "ABC", "abc.ABC", "typing.Generic") and not q.startswith("typing.") and q not in FRAMEWORK_PLAIN_BASES:
                # imported from elsewhere (or unresolvable): may be a Module; only jedi could tell
                if not q.startswith("torch."):
                    verdict = None
        return verdict

    def _framework(self, info: ClassInfo, seen: set) -> Optional[str]:
        """Which training framework drives this class (through any in-file base)."""
        if info.name in seen:
            return None
        seen.add(info.name)
        for q in info.base_names:
            if q in LIGHTNING_BASES:
                return "lightning"
            if q in HF_TRAINER_BASES:
                return "hf_trainer"
            if q in HF_MODEL_BASES or (q.startswith("transformers.") and is_framework_module_base(q)):
                return "hf_model"
            if q in self.classes and q != info.name:
                fw = self._framework(self.classes[q], seen)
                if fw:
                    return fw
        return None

    def _derives_from(self, cls: str, bases: frozenset, seen: set) -> bool:
        """Does the in-file class ``cls`` derive (through in-file bases) from one of ``bases`` (qualified names)?"""
        info = self.classes.get(cls)
        if info is None or cls in seen:
            return False
        seen.add(cls)
        return any(q in bases or (q in self.classes and q != cls and self._derives_from(q, bases, seen)) for q in info.base_names)

    def _is_function(self, info: ClassInfo, seen: set) -> bool:
        if info.name in seen:
            return False
        seen.add(info.name)
        for q in info.base_names:
            if q in ("torch.autograd.Function", "torch.autograd.function.Function"):
                return True
            if q in self.classes and self._is_function(self.classes[q], seen):
                return True
        return False


    def attr_class(self, cls: str, attr: str) -> tuple:
        """``(class, element class)`` of ``self.<attr>`` on ``cls`` (or an in-file base) when every
        assignment builds an in-file Module class (``self.scale = RobustScale()``) or a Sequential /
        ModuleList / ModuleDict of one in-file class (``nn.ModuleList([Block() for _ in range(n)])``):
        calling it runs that class's ``forward``. ``(None, None)`` when unknown. (Cached: what it reads does not
        change once the model is built.)"""
        key = ("attr_class", cls, attr)
        got = self._passed.get(key)
        if got is None:
            got = self._passed[key] = self._attr_class(cls, attr)
        return got

    def _attr_class(self, cls: str, attr: str) -> tuple:
        seen = set()
        c: Optional[str] = cls
        while c in self.classes and c not in seen:
            seen.add(c)
            info = self.classes[c]
            values = info.attr_values.get(attr)
            if values:
                wrapper = self._wrapped_outside().get(attr)
                if wrapper is not None and wrapper != c and [k for k, i in self.classes.items() if attr in i.attr_values and k != wrapper] == [c]:
                    return (wrapper, None)  # ``model.q = LoRALinear(model.q)`` somewhere: calling it runs the wrapper
                if len(values) == 1 and isinstance(values[0], ast.Name) and len(self.classes) > 1 and attr in self._called_attrs(info):
                    passed = self._class_passed_in(c, values[0].id)  # ``self.func = func``, ``Block(ODEFunc(dim))``
                    if passed is not None:
                        return (passed, None)
                kinds = {self._value_class(v) for v in values}
                return kinds.pop() if len(kinds) == 1 else (None, None)
            nxt = [b for b in info.base_names if b in self.classes]
            c = nxt[0] if nxt else None
        return (None, None)

    def attr_alias(self, cls: str, attr: str) -> Optional[str]:
        """The path, from the object, of what ``self.<attr>`` is another name for: ``token_emb`` assigned once, in
        ``__init__``, ``net.token_emb`` of an ``__init__`` parameter the object also keeps whole (``self.net = net``), or
        ``self.net.token_emb``: ``"net.token_emb"``. Both names hold the same module (one set of parameters). None otherwise."""
        values = self.assigned_values(cls, attr)
        if len(values) != 1 or not isinstance(values[0], ast.Attribute):
            return None
        parts = []
        cur: ast.AST = values[0]
        while isinstance(cur, ast.Attribute):
            parts.append(cur.attr)
            cur = cur.value
        if not isinstance(cur, ast.Name):
            return None
        parts.reverse()
        if cur.id == "self":
            head = parts[0]
            rest = parts[1:]
        else:
            info = self.classes.get(cls)
            init = info.methods.get("__init__") if info is not None else None
            if init is None or cur.id not in [a.arg for a in init.args.args[1:]]:
                return None
            kept = [a for a, vs in (info.attr_values if info is not None else {}).items() if len(vs) == 1 and isinstance(vs[0], ast.Name) and vs[0].id == cur.id]
            if len(kept) != 1:
                return None
            head, rest = kept[0], parts
        if not rest or head == attr:
            return None
        return ".".join([head, *rest])

    def assigned_values(self, cls: str, attr: str) -> list:
        """What ``self.<attr>`` is assigned on ``cls``, or on the first in-file base (following the first in-file base
        at each step) that assigns it; empty when none does."""
        seen = set()
        c: Optional[str] = cls
        while c in self.classes and c not in seen:
            seen.add(c)
            values = self.classes[c].attr_values.get(attr)
            if values:
                return values
            nxt = [b for b in self.classes[c].base_names if b in self.classes]
            c = nxt[0] if nxt else None
        return []

    def attr_plain_class(self, cls: str, attr: str) -> Optional[str]:
        """The in-file plain class (not a Module, not an autograd Function) every assignment of ``self.<attr>`` on
        ``cls`` (or an in-file base) constructs (``self.ema = EMAUpdate(0.99)``): its methods run on that object."""
        values = self.assigned_values(cls, attr)
        if len(values) == 1 and isinstance(values[0], ast.Name) and cls in self.classes:
            # ``self.logger = logger`` with ``ProbeCallback(GradientLogger(), ...)`` at every construction
            return self._plain_class_passed_in(cls, values[0].id)
        names = {v.func.id if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) else None for v in values}
        name = names.pop() if len(names) == 1 else None
        target = self.classes.get(name) if name else None
        if target is not None and target.is_module is False and not target.is_autograd_function:
            return name
        return None

    def parameterless_attr(self, cls: str, attr: str) -> bool:
        """Is every value assigned to ``self.<attr>`` on ``cls`` (or the in-file base that assigns it) built by a
        constructor of an object without parameters (``self.act = nn.GELU()``, ``self.crop = T.RandomResizedCrop(224)``)?
        Calling it reaches no parameter, so it is never a root of gradient."""
        values = self.assigned_values(cls, attr)
        return bool(values) and all(isinstance(v, ast.Call) and is_parameterless_ctor(self.imports.qualname(v.func) or "") for v in values)

    def owns_no_parameters(self, cls: str) -> bool:
        """Does an instance of the Module class ``cls`` provably own no parameter? Its bases are ``nn.Module`` or
        in-file classes that own none either, every ``self.<attr>`` it assigns is a hyperparameter or a
        parameterless module (``self.temperature = temperature``, ``self.act = nn.ReLU()``), and
        it registers nothing by name (``register_parameter``, ``add_module``, ``setattr``). A loss written as a
        Module (``SupConLoss(temperature=0.1)``) is one: calling it reaches no parameter, so it is never a root."""
        got = self._no_params.get(cls)
        if got is None:
            got = self._no_params[cls] = self._owns_no_parameters(cls, set())
        return got

    def _owns_no_parameters(self, cls: str, seen: set) -> bool:
        info = self.classes.get(cls)
        if info is None or cls in seen or not info.is_module or info.is_autograd_function:
            return False
        seen.add(cls)
        for q in info.base_names:
            if q not in MODULE_BASE and not (q in self.classes and self._owns_no_parameters(q, seen)):
                return False
        if info.buffers:  # (a tensor it keeps: maybe meant as a parameter, see GG301)
            return False
        for attr, values in info.attr_values.items():
            for v in values:
                if attr in info.constants and _is_plain(v):
                    continue  # a hyperparameter, never a tensor it makes
                if not (isinstance(v, ast.Call) and is_parameterless_ctor(self.imports.qualname(v.func) or "")):
                    return False
        for n in walk_nodes(info.node):
            if isinstance(n, ast.Call):
                f = n.func
                if (isinstance(f, ast.Attribute) and f.attr in _REGISTERS_BY_NAME) or (isinstance(f, ast.Name) and f.id == "setattr"):
                    return False
        return True

    def plain_attr_is_data(self, cls: str, attr: str) -> bool:
        """On a plain class (not a Module), does ``self.<attr>`` only ever hold values the object computes itself
        (``self.examples = [torch.rand(...) for _ in range(n)]``, tensors its methods build)? Such an attribute is
        data, never a parameter: none of its assignments is a value passed in (a parameter of a method), a
        parameter or module constructor, an in-file Module class, or asks for ``requires_grad``."""
        info = self.classes.get(cls)
        if info is None or (info.is_module is not False and info.framework != "hf_trainer"):  # (a Trainer is no Module)
            return False
        values = info.attr_values.get(attr)
        if not values:
            return False
        passed = _method_parameters(info)
        for v in values:
            # a value handed in, as itself or as an element (``self.model = model``, ``self.pair = [a, b]``); a
            # name inside a call (a shape, a size) is not
            held = [v, *(v.elts if isinstance(v, (ast.List, ast.Tuple, ast.Set)) else ())]
            if any(isinstance(h, ast.Name) and h.id in passed for h in held):
                return False
            if self._builds_parameter(v):
                return False
            for n in walk_nodes(v):
                if isinstance(n, ast.Name) and n.id in self.classes:
                    return False
                if isinstance(n, ast.Attribute) and n.attr in ("requires_grad_", "requires_grad"):
                    return False
        return True

    def _builds_parameter(self, expr: ast.AST) -> bool:
        """Does ``expr`` ask for ``requires_grad=`` or call a module or parameter constructor anywhere in it?"""
        for n in walk_nodes(expr):
            if isinstance(n, ast.keyword) and n.arg == "requires_grad":
                return True
            if isinstance(n, ast.Call):
                q = self.imports.qualname(n.func) or ""
                if is_module_ctor(q) or q.endswith(("Parameter", "ParameterList", "ParameterDict")):
                    return True
        return False

    def never_parameter(self, cls: str, attr: str) -> bool:
        """On a Module class, is ``self.<attr>`` a plain data tensor, never one of the module's parameters? Module's
        ``__setattr__`` registers only a Parameter (or a Module); ``module.parameters()`` yields nothing else. Said
        when the class makes it a fresh non-grad tensor somewhere (``torch.zeros(...)``: a queue, a running state) and
        every other value it stores there is ``None`` or a constant, that same tensor moved or copied
        (``self.q.to(device)``, ``.clone()``), a tensor loaded from disk (``torch.load(path)["q"]``), or a local bound
        from a call the attribute itself is handed to (``loss, q = self.criterion(x, queue=self.q); self.q = q``: the
        state passed through a helper and stored back). Not when a value is passed in (a method's parameter), asks
        for ``requires_grad``, or builds a parameter or a module."""
        info = self.classes.get(cls)
        if info is None or not info.is_module:
            return False
        values = info.attr_values.get(attr)
        if not values or not any(self._fresh_tensor(v) for v in values):
            return False
        passed = _method_parameters(info)
        for v in values:
            if self._is_constant(v) or self._fresh_tensor(v) or self._same_attr_moved(v, attr) or _loaded(v, self.imports):
                continue
            if isinstance(v, ast.Name) and v.id not in passed and self._stored_back(info, v.id, attr):
                continue
            return False
        return True

    def _fresh_tensor(self, v: ast.AST) -> bool:
        """Is ``v`` a new tensor that needs no gradient, made from data (``torch.zeros(n)``, ``torch.Tensor([...])``) and
        maybe computed on with ops (``torch.ones(n) / n``, ``F.normalize(torch.Tensor(freqs), dim=0)``)? What an op
        returns is never a Parameter, so a module's ``parameters()`` never yields it. Not when the expression reads the
        object's state (``self.base * 2`` may carry a parameter's gradient), asks for ``requires_grad``, makes a
        Parameter or a module, changes a tensor in place or calls a function of the program (which may return a
        Parameter it was given)."""
        if not isinstance(v, (ast.Call, ast.BinOp, ast.UnaryOp)):
            return False
        made = False
        todo: list[ast.AST] = [v]
        while todo:
            n = todo.pop()
            if isinstance(n, ast.Call):
                if any(k.arg == "requires_grad" for k in n.keywords):
                    return False
                q = self.imports.qualname(n.func) or ""
                if q.startswith("torch.") and (q.rsplit(".", 1)[-1] in FACTORIES or q in LEGACY_TENSOR_CTORS):
                    made = True  # (whatever data it is given: a new tensor)
                    continue
                if isinstance(n.func, ast.Attribute) and not q.startswith("torch."):
                    # a tensor method (``.float()``, ``.view(...)``): out of place only; its receiver is checked too
                    if n.func.attr.endswith("_") or n.func.attr in ("requires_grad_", "register_parameter"):
                        return False
                    todo.append(n.func.value)
                elif not q.startswith("torch.") or q in PARAMETER_CTORS or is_module_ctor(q) or q.endswith("_"):
                    return False
                todo.extend(n.args)
                todo.extend(k.value for k in n.keywords)
            elif isinstance(n, ast.BinOp):
                todo += [n.left, n.right]
            elif isinstance(n, ast.UnaryOp):
                todo.append(n.operand)
            elif isinstance(n, ast.Attribute):
                if isinstance(n.value, ast.Name) and n.value.id == "self":
                    return False
                todo.append(n.value)
            elif not isinstance(n, (ast.Constant, ast.Name)):
                return False
        return made

    @staticmethod
    def _same_attr_moved(v: ast.AST, attr: str) -> bool:
        """``self.<attr>`` itself, moved or copied by tensor methods (``self.q.to(self.device)``, ``.clone()``)."""
        while isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr in TENSOR_MOVE_METHODS:
            v = v.func.value
        return isinstance(v, ast.Attribute) and v.attr == attr and isinstance(v.value, ast.Name) and v.value.id == "self"

    def _stored_back(self, info: ClassInfo, name: str, attr: str) -> bool:
        """Is every binding of the local ``name``, in the methods that store it into ``self.<attr>``, the result (or an
        unpacked element of the result) of a call handed ``self.<attr>`` itself, with nothing that builds a parameter?"""
        found = False
        for m in info.methods.values():
            stores = [st for st in _statements(m) if isinstance(st, ast.Assign) and isinstance(st.value, ast.Name) and st.value.id == name
                      and any(isinstance(t, ast.Attribute) and t.attr == attr and isinstance(t.value, ast.Name) and t.value.id == "self" for t in st.targets)]
            if not stores:
                continue
            for st in _statements(m):
                if not _binds(st, name):
                    continue
                call = st.value if isinstance(st, ast.Assign) else None
                if not isinstance(call, ast.Call) or not any(self._same_attr_moved(a, attr) for a in (*call.args, *(k.value for k in call.keywords))):
                    return False
                if self._builds_parameter(call):
                    return False
                found = True
        return found

    def attr_seq(self, cls: str, attr: str) -> Optional[tuple]:
        """For ``self.<attr>`` a Sequential built from in-file Module classes mixed with torch layers
        (``nn.Sequential(WSConv2d(...), nn.GroupNorm(...))``, also returned by a module-level helper): each
        element's in-file class (None for a torch layer), in order; None when unknown or when no element is an
        in-file class."""
        cache = self.__dict__.setdefault("_seq_cache", {})
        key = (cls, attr)
        if key in cache:
            return cache[key]
        got: Optional[tuple] = None
        owner, values = self._assigned_through_bases(cls, attr)
        if values:
            seqs = {self._seq_of(v, 0) for v in values}
            got = seqs.pop() if len(seqs) == 1 else None
        cache[key] = got
        return got

    def _assigned_through_bases(self, cls: str, attr: str) -> tuple:
        """``(class, values)``: the values assigned to ``self.<attr>`` by ``cls``, or else by the nearest in-file base
        (first bases first) that assigns it; ``(None, [])`` when none does."""
        seen = set()
        c: Optional[str] = cls
        while c in self.classes and c not in seen:
            seen.add(c)
            values = self.classes[c].attr_values.get(attr)
            if values:
                return c, values
            nxt = [b for b in self.classes[c].base_names if b in self.classes]
            c = nxt[0] if nxt else None
        return None, []

    def _seq_of(self, v: ast.AST, depth: int) -> Optional[tuple]:
        if not isinstance(v, ast.Call):
            return None
        q = self.imports.qualname(v.func) or ""
        if q in ("torch.nn.Sequential", "torch.nn.modules.container.Sequential"):
            if v.keywords or not v.args or any(isinstance(a, ast.Starred) for a in v.args):
                return None
            elems = tuple(
                a.func.id if isinstance(a, ast.Call) and isinstance(a.func, ast.Name) and a.func.id in self.classes and self.classes[a.func.id].is_module else None
                for a in v.args
            )
            return elems if any(elems) else None
        if depth == 0 and isinstance(v.func, ast.Name) and v.func.id not in self.classes:
            fn = self._module_functions().get(v.func.id)
            if fn is not None:  # a helper that builds the block: what every ``return`` gives
                rets = [r.value for r in walk_nodes(fn) if isinstance(r, ast.Return)]
                seqs = {self._seq_of(r, 1) for r in rets if r is not None}
                return seqs.pop() if len(seqs) == 1 and len(rets) >= 1 else None
        return None

    def attr_output_saver(self, cls: str, attr: str, argument=None) -> Optional[str]:
        """The op whose output autograd saves when ``self.<attr>(x)`` runs, when that is what the layer returns:
        ``self.act = nn.ReLU()`` (also ``inplace=True``: ``relu_`` saves its result), a ``nn.Sequential(...)`` whose
        last layer is one (``nn.Sequential(conv, bn, nn.ReLU())``), or such a block returned by a module-level helper
        (every ``return``, a ``nn.Sequential(*layers)`` of a list built in straight-line code; a layer chosen by
        ``nn.Mish() if act == "mish" else nn.ReLU()`` is decided when ``argument(cls, name)``, the constants an
        ``__init__`` parameter receives at every construction, decides the helper's parameter). None otherwise."""
        cache = self.__dict__.setdefault("_saver_cache", {})
        key = (cls, attr, argument is not None)
        if key not in cache:
            got: Optional[str] = None
            owner, values = self._assigned_through_bases(cls, attr)
            if values:
                ops = {self._saver_of(v, (owner, argument, None, None)) for v in values}
                got = ops.pop() if len(ops) == 1 else None
            cache[key] = got
        return cache[key]

    def _saver_of(self, v: Optional[ast.AST], ctx: tuple) -> Optional[str]:
        """``ctx``: (the class, ``argument``, the helper being read or None, the call of it)."""
        cls, argument, helper, call = ctx
        if isinstance(v, ast.IfExp):
            truth = self._decide(v.test, ctx) if helper is not None else None
            if truth is not None:
                return self._saver_of(v.body if truth else v.orelse, ctx)
            a, b = self._saver_of(v.body, ctx), self._saver_of(v.orelse, ctx)
            return a if a == b else None
        if not isinstance(v, ast.Call):
            return None
        q = self.imports.qualname(v.func) or ""
        if q.startswith("torch.nn."):
            short = q.rsplit(".", 1)[-1]
            if short in MODULE_SAVED_OP:
                return MODULE_SAVED_OP[short]
            if q not in ("torch.nn.Sequential", "torch.nn.modules.container.Sequential") or v.keywords or not v.args:
                return None
            if len(v.args) == 1 and isinstance(v.args[0], ast.Starred):
                last = self._last_listed(helper, v.args[0].value, v) if helper is not None else None
                return self._saver_of(last, ctx)
            if isinstance(v.args[-1], ast.Starred):
                return None
            return self._saver_of(v.args[-1], ctx)
        if helper is None and isinstance(v.func, ast.Name) and v.func.id not in self.classes:
            fn = self._module_functions().get(v.func.id)
            if fn is not None:  # a helper that builds the block: what every ``return`` gives
                rets = [r.value for r in walk_nodes(fn) if isinstance(r, ast.Return)]
                ops = {self._saver_of(r, (cls, argument, fn, v)) for r in rets}
                return ops.pop() if len(ops) == 1 and rets else None
        return None

    def _decide(self, test: ast.AST, ctx: tuple) -> Optional[bool]:
        """``p == "mish"`` / ``p != ...`` / ``p in (...)`` on a parameter ``p`` of the helper, never rebound in it, from the
        constants the call passes (a literal, an ``__init__`` parameter of the class whose constructions decide it, or
        the helper's default)."""
        cls, argument, helper, call = ctx
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name) and isinstance(test.ops[0], (ast.Eq, ast.NotEq, ast.In, ast.NotIn))):
            return None
        right = test.comparators[0]
        pool = [right.value] if isinstance(right, ast.Constant) else [e.value for e in right.elts] if isinstance(right, (ast.Tuple, ast.List, ast.Set)) and all(isinstance(e, ast.Constant) for e in right.elts) else None  # type: ignore[attr-defined]
        name = test.left.id
        params = [a.arg for a in helper.args.args]
        if pool is None or name not in params or helper.args.vararg is not None or any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in walk_nodes(helper)):
            return None
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            return None
        index = params.index(name)
        arg = next((k.value for k in call.keywords if k.arg == name), None)
        if arg is None and index < len(call.args):
            arg = call.args[index]
        if arg is None:
            defaults = helper.args.defaults
            first = len(params) - len(defaults)
            arg = defaults[index - first] if index >= first else None
        values: Optional[list] = None
        if isinstance(arg, ast.Constant):
            values = [arg.value]
        elif isinstance(arg, ast.Name) and argument is not None and cls is not None:
            init = self.method(cls, "__init__")
            if init is not None and init.lineno <= call.lineno <= (init.end_lineno or init.lineno) and arg.id in [a.arg for a in init.args.args]:
                values = argument(cls, arg.id)
        if not values:
            return None
        equal = isinstance(test.ops[0], (ast.Eq, ast.In))
        truths = {(x in pool) == equal for x in values}
        return truths.pop() if len(truths) == 1 else None

    @staticmethod
    def _last_listed(fn: ast.AST, name: ast.AST, use: ast.AST) -> Optional[ast.AST]:
        """The last element of list ``name`` at ``use`` in ``fn``: bound once to a list literal in ``fn``'s own body, then
        only ``name.append(x)`` statements of that body before ``use`` (the last one's ``x``). None otherwise."""
        if not isinstance(name, ast.Name) or not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        last: Optional[ast.AST] = None
        bound = False
        for st in fn.body:
            if st.lineno >= getattr(use, "lineno", 0):
                break
            if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name) and st.targets[0].id == name.id:
                if bound or not isinstance(st.value, ast.List) or not st.value.elts or any(isinstance(e, ast.Starred) for e in st.value.elts):
                    return None
                bound, last = True, st.value.elts[-1]
            elif (isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Attribute) and st.value.func.attr == "append"
                  and isinstance(st.value.func.value, ast.Name) and st.value.func.value.id == name.id and len(st.value.args) == 1 and bound):
                last = st.value.args[0]
            elif any(isinstance(n, ast.Name) and n.id == name.id for n in walk_nodes(st)):
                return None  # (changed some other way: extended in a loop, rebound, passed on)
        return last if bound else None

    def _returned_class(self, fn: ast.AST, call: ast.Call, depth: int) -> tuple:
        """``(class, None)`` of what the helper ``fn`` returns at ``call`` when every ``return`` gives the same in-file
        Module class: a parameter it returns after changing it (``return vit``, given ``TinyViT()``), a module it builds
        (``return Net(cfg)``), or a local name bound once to one of those."""
        if not isinstance(fn, ast.FunctionDef) or any(isinstance(a, ast.Starred) for a in call.args):
            return (None, None)
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        rets = [n.value for n in walk_nodes(fn) if isinstance(n, ast.Return)]
        if not rets or any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and n is not fn for n in walk_nodes(fn)):
            return (None, None)
        found: set = set()
        for r in rets:
            got: tuple = (None, None)
            if isinstance(r, ast.Name):
                stores = [n for n in walk_nodes(fn) if isinstance(n, ast.Name) and n.id == r.id and isinstance(n.ctx, ast.Store)]
                if not stores and r.id in params:
                    i = params.index(r.id)
                    arg = call.args[i] if i < len(call.args) else next((k.value for k in call.keywords if k.arg == r.id), None)
                    got = self._value_class(arg, depth) if arg is not None else (None, None)
                elif len(stores) == 1 and r.id not in params:
                    st = next((n for n in walk_nodes(fn) if isinstance(n, ast.Assign) and len(n.targets) == 1 and n.targets[0] is stores[0]), None)
                    got = self._value_class(st.value, depth) if st is not None else (None, None)
            elif isinstance(r, ast.Call):
                got = self._value_class(r, depth)
            if got[0] is None:
                return (None, None)
            found.add(got)
        return found.pop() if len(found) == 1 else (None, None)

    def _module_functions(self) -> dict:
        got = getattr(self, "_mod_fns", None)
        if got is None:
            got = {st.name: st for st in self._tree.body if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef))}
            self._mod_fns = got
        return got

    def swaps_layers(self) -> bool:
        """Does code outside a class swap a layer of its instances for a wrapper of it (``blk.proj = LoRALinear(blk.proj)``)?"""
        return bool(self._wrapped_outside())

    def made_after_build(self, root: str) -> bool:
        """Does the parameter path ``root`` (``model.blocks[].proj.lora_A.weight``) pass through a layer that code outside
        its class swaps in after the model is built, wrapping the old one (``blk.proj = LoRALinear(blk.proj)``), into a
        part the wrapper makes itself (not the old layer it keeps, ``self.base = base``)? Such parts are new: whether a
        freeze of the model covers them depends on whether it ran before the swap."""
        wrapped = self._wrapped_outside()
        if not wrapped:
            return False
        parts = root.replace("[]", "").split(".")
        for i, seg in enumerate(parts[1:], 1):
            cls = wrapped.get(seg)
            if cls is None:
                continue
            nxt = parts[i + 1] if i + 1 < len(parts) else None
            init = self.classes[cls].methods.get("__init__")
            params = {a.arg for a in init.args.args[1:]} if isinstance(init, ast.FunctionDef) else set()
            kept = nxt is not None and any(isinstance(v, ast.Name) and v.id in params for v in self.classes[cls].attr_values.get(nxt, ()))
            if not kept:
                return True
        return False

    def _wrapped_outside(self) -> dict:
        """attr -> in-file Module class that replaces it from outside its class, wrapping the old value:
        ``model.q = LoRALinear(model.q)`` (adapters, quantization wrappers). Ambiguous attrs are left out."""
        if self._wrapped is not None:
            return self._wrapped
        found: dict = {}
        if self._lines is None or (_WRAP_TEXT.search("".join(self._lines)) and any(_WRAP_HINT.search(ln) for ln in self._lines)):
            for st in statements_of_type(self._tree, ast.Assign):
                if not (isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Attribute)):
                    continue
                target, value = st.targets[0], st.value
                if isinstance(target.value, ast.Name) and target.value.id == "self":
                    continue
                if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in self.classes and self.classes[value.func.id].is_module):
                    continue
                old = ast.unparse(target)
                if any(ast.unparse(a) == old for a in [*value.args, *(k.value for k in value.keywords)]):
                    found.setdefault(target.attr, set()).add(value.func.id)
        if self._lines is None or _SETATTR_WRAP.search("".join(self._lines)):
            # ``setattr(blk, "proj", LoRALinear(blk.proj))`` / ``LoRALinear(getattr(blk, "proj"))``: the same with a constant name
            for st in statements_of_type(self._tree, ast.Expr):
                call = st.value if isinstance(st, ast.Expr) else None
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "setattr" and len(call.args) == 3):
                    continue
                obj, name, value = call.args
                if not (isinstance(name, ast.Constant) and isinstance(name.value, str) and isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                        and value.func.id in self.classes and self.classes[value.func.id].is_module):
                    continue
                holder = ast.unparse(obj)
                olds = {f"{holder}.{name.value}", f"getattr({holder}, {name.value!r})", f'getattr({holder}, "{name.value}")'}
                if any(ast.unparse(a) in olds for a in [*value.args, *(k.value for k in value.keywords)]):
                    found.setdefault(name.value, set()).add(value.func.id)
        self._wrapped = {a: next(iter(cs)) for a, cs in found.items() if len(cs) == 1}
        return self._wrapped

    def frozen_zero_parameter(self, cls: str, attr: str, tree: ast.AST, text: str) -> bool:
        """Is ``self.<attr>`` of ``cls`` an all-zero parameter made frozen (``nn.Parameter(torch.zeros(...),
        requires_grad=False)``, its one assignment) that nothing in the file can change? Every other mention of the
        attribute name only reads it into a product (``x @ self.lora_up.t()``, ``w * self.gate``), and the file turns
        no flag back on (``requires_grad_(True)``, ``requires_grad = True``) and loads no checkpoint (cached)."""
        key = (cls, attr)
        cache = self.__dict__.setdefault("_frozen_zero", {})
        if key in cache:
            return cache[key]
        cache[key] = False
        info = self.classes.get(cls)
        values = info.attr_values.get(attr) if info is not None else None
        if not values or len(values) != 1 or not isinstance(values[0], ast.Call) or _UNFREEZES_OR_LOADS.search(text):
            return False
        call = values[0]
        if (self.imports.qualname(call.func) or "") not in ("torch.nn.Parameter", "torch.nn.parameter.Parameter") or not call.args:
            return False
        flag = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "requires_grad"), None)
        data = call.args[0]
        if not (isinstance(flag, ast.Constant) and flag.value is False and isinstance(data, ast.Call)
                and (self.imports.qualname(data.func) or "") in ("torch.zeros", "torch.zeros_like")):
            return False
        for parent in ast.walk(tree):
            for child in ast.iter_child_nodes(parent):
                if not (isinstance(child, ast.Attribute) and child.attr == attr):
                    continue
                if isinstance(child.ctx, ast.Store):
                    if child is not _store_target(call, parent):
                        return False
                    continue
                if _may_write(parent, child):
                    return False
        cache[key] = True
        return True

    def attr_torch_ctor(self, cls: str, attr: str) -> Optional[tuple]:
        """``(qualname, call)`` when ``self.<attr>`` is assigned exactly one ``torch.nn`` constructor call."""
        seen = set()
        c: Optional[str] = cls
        while c in self.classes and c not in seen:
            seen.add(c)
            values = self.classes[c].attr_values.get(attr)
            if values:
                if len(values) == 1 and isinstance(values[0], ast.Call):
                    q = self.imports.qualname(values[0].func) or ""
                    if is_module_ctor(q):
                        return (q, values[0])
                    if isinstance(values[0].func, ast.Name) and not q:
                        # a module-level factory whose one return is a ``torch.nn`` constructor call (``def subnet(c_in,
                        # c_out): return nn.Sequential(nn.Linear(c_in, 24), ...)``): that constructor
                        made = self._factory_ctor(values[0].func.id)
                        if made is not None:
                            return made
                # a module passed in and called (``self.act(x)``); resolved only in files that build in-place
                # modules, the one case where which module it is changes a finding (and the walk is not free)
                if len(values) == 1 and isinstance(values[0], ast.Name) and self._has_inplace and attr in self._called_attrs(self.classes[c]):
                    return self._ctor_passed_in(c, values[0].id)  # a module passed in and called: ``self.act(x)``
                return None
            nxt = [b for b in self.classes[c].base_names if b in self.classes]
            c = nxt[0] if nxt else None
        return None

    def _factory_ctor(self, name: str) -> Optional[tuple]:
        """``(qualname, call)`` of the ``torch.nn`` constructor a top-level function ``name`` returns, when its only
        ``return`` returns one; None otherwise."""
        cache = self.__dict__.setdefault("_factories", {})
        if name in cache:
            return cache[name]
        got = None
        fn = next((n for n in self._tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name), None)
        if fn is not None:
            rets = [n for n in walk_nodes(fn) if isinstance(n, ast.Return)]
            if len(rets) == 1 and isinstance(rets[0].value, ast.Call):
                q = self.imports.qualname(rets[0].value.func) or ""
                if is_module_ctor(q):
                    got = (q, rets[0].value)
        cache[name] = got
        return got

    def _instantiations(self) -> dict:
        """In-file class name -> [(enclosing function, call)] for every ``Cls(...)`` call (one walk, on demand)."""
        if self._inst is None:
            self._inst = {}
            lines = self._mention_lines(self.classes) if self._lines is not None else None
            for scope in statements_of_type(self._tree, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if lines is not None:  # a function whose text names no class cannot instantiate one: not walked
                    i = bisect_left(lines, scope.lineno)
                    if i == len(lines) or lines[i] > (scope.end_lineno or scope.lineno):
                        continue
                for n in walk_nodes(scope) if lines is None else _walk_lines(scope, lines):
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in self.classes:
                        self._inst.setdefault(n.func.id, []).append((scope, n))
        return self._inst

    def _mention_lines(self, names) -> list:
        """Sorted line numbers on which one of ``names`` occurs as text (a superset of where they are called)."""
        lines = self._lines or []
        text = "".join(lines)
        starts: list = []
        pos = 0
        for ln in lines:
            starts.append(pos)
            pos += len(ln)
        found: set = set()
        for name in names:
            i = text.find(name)
            while i != -1:
                found.add(bisect_right(starts, i))
                i = text.find(name, i + len(name))
        return sorted(found)

    def _ctor_passed_in(self, cls: str, param: str) -> Optional[tuple]:
        """``self.act = act`` with ``act`` a parameter of ``__init__``: the one ``torch.nn`` constructor every
        instantiation of ``cls`` in this file passes for it (``AttentionPooling(dim, act)`` where
        ``act = nn.ReLU(inplace=True)``), else None."""
        key = (cls, param)
        if key in self._passed:
            return self._passed[key]
        self._passed[key] = None
        init = self.classes[cls].methods.get("__init__")
        if init is None:
            return None
        names = [a.arg for a in [*init.args.posonlyargs, *init.args.args]][1:]
        index = names.index(param) if param in names else None
        found = []
        for scope, call in self._instantiations().get(cls, []):
            if True:
                arg = call.args[index] if index is not None and index < len(call.args) else next((k.value for k in call.keywords if k.arg == param), None)
                if isinstance(arg, ast.Name):  # a local bound once, to a call, in the same function
                    binds = [st.value for st in walk_nodes(scope) if isinstance(st, ast.Assign) and any(isinstance(t, ast.Name) and t.id == arg.id for t in st.targets)]
                    arg = binds[0] if len(binds) == 1 else None
                q = (self.imports.qualname(arg.func) or "") if isinstance(arg, ast.Call) else ""
                found.append((q, arg) if is_module_ctor(q) else None)
        first = found[0] if found else None
        result = first if first is not None and all(f is not None and f[0] == first[0] for f in found) else None
        self._passed[key] = result
        return result

    def _class_passed_in(self, cls: str, param: str) -> Optional[str]:
        """``self.func = func`` with ``func`` a parameter of ``__init__``: the in-file Module class every
        instantiation of ``cls`` in this file passes for it (``EulerBlock(ODEFunc(dim))``, or a local bound once to such a
        construction in the same scope), else None."""
        key = ("class_passed_in", cls, param)
        if key in self._passed:
            return self._passed[key]
        self._passed[key] = None
        init = self.classes[cls].methods.get("__init__")
        if init is None:
            return None
        names = [a.arg for a in [*init.args.posonlyargs, *init.args.args]][1:]
        if param not in names:
            return None
        index = names.index(param)
        found = set()
        sites = self._instantiations().get(cls, [])
        for scope, call in sites:
            arg = call.args[index] if index < len(call.args) else next((k.value for k in call.keywords if k.arg == param), None)
            if isinstance(arg, ast.Name):  # (``encoder = PixelEncoder()`` ... ``Critic(encoder)``: a local bound once)
                binds = [st.value for st in walk_nodes(scope) if isinstance(st, ast.Assign) and any(isinstance(t, ast.Name) and t.id == arg.id for t in st.targets)]
                arg = binds[0] if len(binds) == 1 else None
            if not (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id in self.classes and self.classes[arg.func.id].is_module):
                return None
            found.add(arg.func.id)
        result = found.pop() if sites and len(found) == 1 else None
        self._passed[key] = result
        return result

    def kept_parameters(self, cls: str) -> dict:
        """``{attr: param}`` for each ``self.<attr> = <param>`` in ``cls.__init__`` that is the attribute's only assignment
        in the class, ``param`` a parameter of ``__init__`` (after ``self``): the object keeps what its constructor was
        given (``self.encoder = encoder``). Empty without an ``__init__``, or with ``*args``."""
        key = ("kept_parameters", cls)
        got = self._passed.get(key)
        if got is None:
            got = self._passed[key] = {}
            info = self.classes.get(cls)
            init = info.methods.get("__init__") if info is not None else None
            if isinstance(init, (ast.FunctionDef, ast.AsyncFunctionDef)) and init.args.vararg is None:
                params = {a.arg for a in [*init.args.posonlyargs, *init.args.args][1:]}
                for attr, values in info.attr_values.items():  # type: ignore[union-attr]
                    v = values[0] if len(values) == 1 else None
                    if isinstance(v, ast.Name) and v.id in params and init.lineno <= v.lineno <= (init.end_lineno or init.lineno):
                        got[attr] = v.id
        return got

    def _plain_class_passed_in(self, cls: str, param: str) -> Optional[str]:
        """``self.logger = logger`` with ``logger`` a parameter of ``__init__``: the in-file plain class (not a Module, not
        an autograd Function) every construction of ``cls`` in this file passes for it, directly or as a local bound
        once to its construction in the same function; else None."""
        key = ("plain_class_passed_in", cls, param)
        if key in self._passed:
            return self._passed[key]
        self._passed[key] = None
        init = self.classes[cls].methods.get("__init__")
        if init is None:
            return None
        names = [a.arg for a in [*init.args.posonlyargs, *init.args.args]][1:]
        if param not in names or any(isinstance(n, ast.Name) and n.id == param and isinstance(n.ctx, ast.Store) for n in walk_nodes(init)):
            return None
        index = names.index(param)
        found = set()
        sites = self._instantiations().get(cls, [])
        for scope, call in sites:
            if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
                return None
            arg = call.args[index] if index < len(call.args) else next((k.value for k in call.keywords if k.arg == param), None)
            if isinstance(arg, ast.Name):
                binds = [st.value for st in walk_nodes(scope) if isinstance(st, ast.Assign) and any(isinstance(t, ast.Name) and t.id == arg.id for t in st.targets)]
                arg = binds[0] if len(binds) == 1 else None
            target = self.classes.get(arg.func.id) if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) else None
            if target is None or target.is_module is not False or target.is_autograd_function:
                return None
            found.add(target.name)
        result = found.pop() if sites and len(found) == 1 else None
        self._passed[key] = result
        return result

    def _value_class(self, v: ast.AST, depth: int = 0) -> tuple:
        if not isinstance(v, ast.Call):
            return (None, None)
        if isinstance(v.func, ast.Name) and v.func.id in self.classes and self.classes[v.func.id].is_module:
            return (v.func.id, None)
        if isinstance(v.func, ast.Name) and depth < 3:
            fn = self._module_functions().get(v.func.id)
            if fn is not None:  # a helper of the file: the class of what it returns (``inject_lora(TinyViT())``)
                return self._returned_class(fn, v, depth + 1)
        q = self.imports.qualname(v.func) or ""
        if q in MODULE_CONTAINERS:
            elems: set = set()
            for a in v.args:
                inner = a.elt if isinstance(a, (ast.ListComp, ast.GeneratorExp)) else a
                if isinstance(a, ast.Starred):
                    inner = a.value.elt if isinstance(a.value, (ast.ListComp, ast.GeneratorExp)) else a.value
                listed = self._listed_elements(inner, v) if isinstance(inner, ast.Name) else None
                for e in (listed if listed is not None else inner.elts if isinstance(inner, (ast.List, ast.Tuple)) else [inner]):
                    if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id in self.classes and self.classes[e.func.id].is_module:
                        elems.add(e.func.id)
                    else:
                        elems.add(None)
            if len(elems) == 1 and None not in elems:
                return (None, elems.pop())
        return (None, None)

    def _listed_elements(self, name: ast.Name, use: ast.AST) -> Optional[list]:
        """The elements a local list holds where a container is built from it (``nn.Sequential(*layers)``): its one
        binding to a list literal or comprehension in the function that holds ``use``, extended before ``use`` by
        ``+=`` of such lists, ``.append(x)`` or ``.extend(...)`` of them (the element of a comprehension stands for all
        it makes). None when the list is bound or changed any other way, or after ``use``."""
        fn = next((m for info in self.classes.values() for m in info.methods.values()
                   if m.lineno <= getattr(use, "lineno", 0) <= (m.end_lineno or m.lineno)), None)
        if fn is None:
            return None

        def parts(x: ast.AST) -> list:
            if isinstance(x, (ast.List, ast.Tuple)) and not any(isinstance(e, ast.Starred) for e in x.elts):
                return list(x.elts)
            if isinstance(x, (ast.ListComp, ast.GeneratorExp)):
                return [x.elt]
            return []

        parents = index_of(self._tree).parents
        out: list = []
        bound = False
        for n in walk_nodes(fn):
            if not (isinstance(n, ast.Name) and n.id == name.id) or n is name:
                continue
            if n.lineno > getattr(use, "lineno", 0):
                return None  # (changed or read after the container is built: not followed)
            par = parents.get(id(n))
            if isinstance(par, ast.Assign) and n in par.targets and len(par.targets) == 1 and not bound and parts(par.value):
                bound = True
                out += parts(par.value)
            elif isinstance(par, ast.AugAssign) and par.target is n and isinstance(par.op, ast.Add) and parts(par.value):
                out += parts(par.value)
            elif isinstance(par, ast.Attribute) and par.value is n and par.attr in ("append", "extend"):
                call = parents.get(id(par))
                if not (isinstance(call, ast.Call) and call.func is par and len(call.args) == 1 and not call.keywords):
                    return None
                got = [call.args[0]] if par.attr == "append" else parts(call.args[0])
                if not got:
                    return None
                out += got
            else:
                return None
        return out if bound and out else None

    def built_from_keywords(self, cls: str) -> bool:
        """Is ``cls`` a record whose constructor the program does not hold: a dataclass, or a class built on a
        base from outside (``SequenceClassifierOutput``, a library's output record linked as its header)? Neither
        it nor an in-file base defines ``__init__`` / ``__new__`` or ``forward``, and it is not a Module: what it
        is built from stays in it, each keyword under its name, as for any outside constructor."""
        info = self.classes.get(cls)
        if info is None or info.is_module or info.is_autograd_function:
            return False
        if any(self.method(cls, m) is not None for m in ("__init__", "__new__", "forward")):
            return False
        seen: set = set()
        todo = [cls]
        outside = False
        while todo:
            c = todo.pop()
            if c in seen:
                continue
            seen.add(c)
            here = self.classes.get(c)
            if here is None:
                outside = outside or c not in ("object", "builtins.object")  # a base whose constructor is unknown
                continue
            if any(_dataclass_decorator(d) for d in here.node.decorator_list):
                return True
            todo.extend(here.base_names)
        # (a class on an outside base that may be a Module, ``class Net(SomeLibModel): pass``, stays a module)
        return outside and info.is_module is False

    def derives_from(self, cls: str, bases, _seen: Optional[set] = None) -> bool:
        """Does in-file class ``cls`` derive from one of ``bases`` (qualified names), directly or through in-file bases?"""
        seen = _seen if _seen is not None else set()
        info = self.classes.get(cls)
        if info is None or cls in seen:
            return False
        seen.add(cls)
        return any(b in bases or (b in self.classes and self.derives_from(b, bases, seen)) for b in info.base_names)

    def method(self, cls: str, name: str) -> Optional[ast.FunctionDef]:
        """Look a method up through in-file base classes."""
        seen = set()
        while cls in self.classes and cls not in seen:
            seen.add(cls)
            info = self.classes[cls]
            if name in info.methods:
                return info.methods[name]
            nxt = [b for b in info.base_names if b in self.classes]
            if not nxt:
                return None
            cls = nxt[0]
        return None

    @staticmethod
    def returns_attr(fn: Optional[ast.AST], attr: str, through_locals: bool = False) -> bool:
        """Does a ``return`` of the method ``fn`` give ``self.<attr>`` (an expression mentioning it), or with
        ``through_locals`` a value computed from it through locals bound from it (``h = self.state * 2; return h``)?"""
        if fn is None:
            return False

        def own(n: ast.AST) -> bool:
            return isinstance(n, ast.Attribute) and n.attr == attr and isinstance(n.value, ast.Name) and n.value.id == "self" and isinstance(n.ctx, ast.Load)

        names: set = set()
        if through_locals:
            for st in walk_nodes(fn):
                if isinstance(st, ast.Assign) and any(own(n) or (isinstance(n, ast.Name) and n.id in names) for n in walk_nodes(st.value)):
                    names.update(n.id for tgt in st.targets for n in walk_nodes(tgt) if isinstance(n, ast.Name))
        return any(isinstance(r, ast.Return) and r.value is not None and any(own(n) or (isinstance(n, ast.Name) and n.id in names) for n in walk_nodes(r.value))
                   for r in walk_nodes(fn))

    def saves_input(self, cls: str, _seen: Optional[set] = None) -> frozenset:
        """Positions (after ``self``) of ``forward``'s inputs that it hands, unchanged, to an op that saves its input
        for backward (``self.net(h)`` with ``self.net = nn.Sequential(nn.Linear(...), ...)``, ``F.linear(x, w)``, an
        in-file module doing the same): an in-place change of that input after the call breaks the backward."""
        key = ("saves_input", cls)
        if key in self._passed:
            return self._passed[key]
        seen = _seen if _seen is not None else set()
        if cls in seen:
            return frozenset()
        seen.add(cls)
        self._passed[key] = frozenset()  # recursion guard
        fwd = self.method(cls, "forward")
        out: set = set()
        if fwd is not None:
            params = [a.arg for a in [*fwd.args.posonlyargs, *fwd.args.args]][1:]
            rebound = {n.id for n in walk_nodes(fwd) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            for call in walk_nodes(fwd):
                if not isinstance(call, ast.Call) or not call.args or not isinstance(call.args[0], ast.Name):
                    continue
                name = call.args[0].id
                if name not in params or name in rebound:
                    continue
                if self._call_saves_first(cls, call, seen):
                    out.add(params.index(name))
        result = frozenset(out)
        self._passed[key] = result
        return result

    def _call_saves_first(self, cls: str, call: ast.Call, seen: set) -> bool:
        f = call.func
        q = self.imports.qualname(f) or ""
        if q.startswith("torch.") and q.rsplit(".", 1)[-1] in SAVES_INPUT:
            return True
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self":
            ctor = self.attr_torch_ctor(cls, f.attr)
            if ctor is not None:
                return self.ctor_saves_input(ctor)
            sub, _ = self.attr_class(cls, f.attr)
            if sub is not None:
                return 0 in self.saves_input(sub, seen)
        return False

    def ctor_saves_input(self, ctor: tuple) -> bool:
        """Does the ``torch.nn`` module built by ``(qualname, call)`` save its input for backward (``nn.Linear``, or
        an ``nn.Sequential`` whose first layer does)?"""
        short = ctor[0].rsplit(".", 1)[-1]
        if short in SAVES_INPUT_MODULES:
            return True
        if short == "Sequential" and ctor[1].args and isinstance(ctor[1].args[0], ast.Call):
            return (self.imports.qualname(ctor[1].args[0].func) or "").rsplit(".", 1)[-1] in SAVES_INPUT_MODULES
        return False

    def parameter_attr(self, cls: str, attr: str) -> bool:
        """Is ``self.<attr>`` on class ``cls`` (or the in-file base that sets it) only ever assigned an
        ``nn.Parameter(...)``? Then it is a leaf that requires grad."""
        seen = set()
        c: Optional[str] = cls
        while c in self.classes and c not in seen:
            seen.add(c)
            values = self.classes[c].attr_values.get(attr)
            if values:
                if all(isinstance(v, ast.Call) and (self.imports.qualname(v.func) or "") in PARAMETER_CTORS and _requires_grad_default(v) for v in values):
                    return True
                # ``self.log_alpha = torch.tensor(np.log(a))`` then ``self.log_alpha.requires_grad = True`` in ``__init__``: a
                # leaf tensor made to require grad (SAC's temperature), trained as a parameter is
                return len(values) == 1 and self._turned_on_in_init(c, attr, values[0])
            if any(is_module_ctor(b) and attr in LAYER_PARAMETERS.get(b.rsplit(".", 1)[-1], ()) for b in self.classes[c].base_names):
                return True  # inherited from the torch layer the class extends (``self.weight`` of an ``nn.Linear``)
            nxt = [b for b in self.classes[c].base_names if b in self.classes]
            c = nxt[0] if nxt else None
        return False

    def _turned_on_in_init(self, cls: str, attr: str, value: ast.AST) -> bool:
        """Is ``value`` (``self.<attr>``'s one assignment) a tensor factory call in ``__init__`` (``torch.tensor(...)``,
        ``torch.zeros(...)``) after which ``__init__`` sets ``self.<attr>.requires_grad = True`` (or calls
        ``self.<attr>.requires_grad_()``)?"""
        init = self.classes[cls].methods.get("__init__")
        q = self.imports.qualname(value.func) if isinstance(value, ast.Call) else None
        if init is None or not q or not q.startswith("torch.") or q.rsplit(".", 1)[-1] not in (*FACTORIES, "from_numpy"):
            return False
        for n in walk_nodes(init):
            target = None
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Attribute) and n.targets[0].attr == "requires_grad" \
                    and isinstance(n.value, ast.Constant) and n.value.value is True:
                target = n.targets[0].value
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "requires_grad_" and not n.keywords \
                    and (not n.args or (isinstance(n.args[0], ast.Constant) and n.args[0].value is True)):
                target = n.func.value
            if isinstance(target, ast.Attribute) and target.attr == attr and isinstance(target.value, ast.Name) and target.value.id == "self" \
                    and getattr(n, "lineno", 0) > getattr(value, "lineno", 0):
                return True
        return False

    def registered_parameter(self, cls: str, attr: str, before: Optional[int] = None) -> Optional[tuple]:
        """The registered parameter slot ``attr`` of in-file Module class ``cls``: ``(node, owner description)`` when its
        ``__init__`` (or an in-file base's) registers it (``self.<attr> = nn.Parameter(...)``,
        ``self.register_parameter("<attr>", nn.Parameter(...))``), or the ``torch.nn`` layer it extends has that slot
        (``self.weight`` of an ``nn.Linear`` subclass; the node is then the class). ``before``: a line in that
        ``__init__`` the registration must come before (an assignment there may precede it)."""
        seen: set = set()
        c: Optional[str] = cls
        while c in self.classes and c not in seen:
            seen.add(c)
            info = self.classes[c]
            if not info.is_module:
                return None
            init = info.methods.get("__init__")
            if init is not None:
                inside = before is not None and init.lineno <= before <= (init.end_lineno or init.lineno)
                for reg in self._parameter_registrations(c).get(attr, ()):
                    if inside and before is not None and (reg.lineno >= before or _exclusive_branches(init, reg.lineno, before)):
                        continue  # (registered later, or on another branch of an ``if`` than the line: never both run)
                    return reg, f"`{info.name}`"
            for b in info.base_names:
                if is_module_ctor(b) and attr in PARAMETER_SLOTS.get(b.rsplit(".", 1)[-1], ()):
                    return info.node, f"`{info.name}` (an `nn.{b.rsplit('.', 1)[-1]}`)"
            nxt = [b for b in info.base_names if b in self.classes]
            c = nxt[0] if nxt else None
        return None

    def _parameter_registrations(self, cls: str) -> dict:
        """attr -> the ``nn.Parameter(...)`` assignments / ``register_parameter`` calls of ``cls.__init__``'s own body
        (not nested functions), in source order. Computed once per class."""
        key = ("registrations", cls)
        got = self._passed.get(key)
        if got is not None:
            return got
        out: dict = {}
        init = self.classes[cls].methods.get("__init__")
        todo = list(init.body) if init is not None else []
        found = []
        while todo:
            n = todo.pop()
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Attribute) and isinstance(n.targets[0].value, ast.Name) \
                    and n.targets[0].value.id == "self" and self._parameter_ctor(n.value):
                found.append((n.targets[0].attr, n.value))
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "register_parameter" and len(n.args) == 2 \
                    and isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str) and self._parameter_ctor(n.args[1]):
                found.append((n.args[0].value, n))
            todo.extend(child_nodes(n))
        for a, node in sorted(found, key=lambda f: (f[1].lineno, f[1].col_offset)):
            out.setdefault(a, []).append(node)
        self._passed[key] = out
        return out

    def _parameter_ctor(self, v: ast.AST) -> bool:
        return isinstance(v, ast.Call) and (self.imports.qualname(v.func) or "") in PARAMETER_CTORS

    def layer_slot(self, call: Optional[ast.AST], attr: str) -> Optional[tuple]:
        """``(node, description)`` when ``call`` builds a module with a registered parameter slot ``attr``: a ``torch.nn``
        layer (``nn.Linear(...)`` has ``weight`` and ``bias``), or an in-file Module class that registers it."""
        if not isinstance(call, ast.Call) or any(k.arg is None for k in call.keywords):
            return None
        q = self.imports.qualname(call.func) or ""
        if is_module_ctor(q):
            short = q.rsplit(".", 1)[-1]
            return (call, f"the `nn.{short}` built here") if attr in PARAMETER_SLOTS.get(short, ()) else None
        if isinstance(call.func, ast.Name) and call.func.id in self.classes:
            return self.registered_parameter(call.func.id, attr)
        return None

    def part_ctor(self, cls: str, part: str) -> Optional[ast.AST]:
        """The one constructor call ``self.<part>`` is assigned on in-file class ``cls`` (or an in-file base)."""
        seen: set = set()
        c: Optional[str] = cls
        while c in self.classes and c not in seen:
            seen.add(c)
            values = self.classes[c].attr_values.get(part)
            if values:
                return values[0] if len(values) == 1 and isinstance(values[0], ast.Call) else None
            nxt = [b for b in self.classes[c].base_names if b in self.classes]
            c = nxt[0] if nxt else None
        return None

    def layer_parameter(self, cls: str, attr: str, param: str) -> bool:
        """Is ``self.<attr>.<param>`` on class ``cls`` a parameter the ``torch.nn`` layer in ``self.<attr>`` registers
        whatever its arguments (``self.embed = nn.Embedding(...)``, then ``self.embed.weight``)? ``self.<attr>`` must be
        assigned that one constructor call only, not told to freeze its table (``_freeze=True``): then it is a leaf
        that requires grad."""
        ctor = self.attr_torch_ctor(cls, attr)
        if ctor is None or not isinstance(ctor[1], ast.Call):
            return False
        replaced = self._passed.get("replaces_weight")
        if replaced is None:
            replaced = self._passed["replaces_weight"] = self._lines is not None and any(w in ln for ln in self._lines for w in _REPLACES_WEIGHT)
        if replaced:
            return False  # ``weight_norm(self.conv)``, a parametrization: ``.weight`` becomes a tensor computed at each access
        if any(k.arg is None or (k.arg == "_freeze" and not (isinstance(k.value, ast.Constant) and k.value.value is False)) for k in ctor[1].keywords):
            return False
        return param in LAYER_PARAMETERS.get(ctor[0].rsplit(".", 1)[-1], ())

    def children_in_order(self, cls: str) -> Optional[list]:
        """The attribute names of the submodules ``Module.children()`` yields for an instance of ``cls``, in order:
        ``nn.Module`` registers a submodule when ``self.<name> = <module>`` first runs, and ``children()`` follows
        that order (a later assignment to the same name keeps its place). Known only for a class extending
        ``nn.Module`` directly whose ``__init__`` is straight-line code assigning each attribute once, every value
        recognisably a module (a ``torch.nn`` layer, an in-file Module class, an in-file function returning one)
        or a constant (a literal, or a constructor argument with a literal default); no other method assigns a
        ``self`` attribute and nothing outside the class sets one. None otherwise."""
        key = ("children_in_order", cls)
        if key in self._passed:
            return self._passed[key]
        self._passed[key] = got = self._children_in_order(cls)
        return got

    def _children_in_order(self, cls: str) -> Optional[list]:
        info = self.classes.get(cls)
        if info is None or not info.is_module or info.base_names not in (["torch.nn.Module"], ["torch.nn.modules.module.Module"]):
            return None
        init = info.methods.get("__init__")
        if init is None or any(m is not init and any(isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name) and n.value.id == "self" for n in walk_nodes(m)) for m in info.methods.values()):
            return None
        a = init.args
        literal_args = {p.arg for p, d in zip(a.args[len(a.args) - len(a.defaults) :], a.defaults) if isinstance(d, ast.Constant)}
        literal_args |= {p.arg for p, d in zip(a.kwonlyargs, a.kw_defaults) if isinstance(d, ast.Constant)}
        functions = {st.name: st for st in self._tree.body if isinstance(st, ast.FunctionDef)}
        order: list = []
        for st in init.body:
            if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call):
                f = st.value.func
                if isinstance(f, ast.Attribute) and f.attr == "__init__" and isinstance(f.value, ast.Call) and isinstance(f.value.func, ast.Name) and f.value.func.id == "super":
                    continue
                return None
            if isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant):
                continue  # a docstring
            if not (isinstance(st, ast.Assign) and len(st.targets) == 1):
                return None
            t, v = st.targets[0], st.value
            if not (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self") or t.attr in order:
                return None
            if isinstance(v, ast.Constant) or (isinstance(v, ast.Name) and v.id in literal_args):
                continue
            if not (isinstance(v, ast.Call) and self._builds_module(v, functions)):
                return None
            order.append(t.attr)
        # ``model.extra = nn.Linear(...)`` elsewhere would register one more child (at the end): not known here
        for n in walk_nodes(self._tree):
            if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store) and not (isinstance(n.value, ast.Name) and n.value.id == "self") and n.attr != "requires_grad":
                return None
        return order

    def _builds_module(self, call: ast.Call, functions: dict, depth: int = 0) -> bool:
        """Does ``call`` build an ``nn.Module``: a ``torch.nn`` layer, an in-file Module class, or an in-file function
        whose every return builds one?"""
        q = self.imports.qualname(call.func) or ""
        if is_module_ctor(q):
            return True
        if isinstance(call.func, ast.Name) and call.func.id in self.classes:
            return bool(self.classes[call.func.id].is_module)
        if isinstance(call.func, ast.Name) and call.func.id in functions and depth < 3:
            rets = [n for n in walk_nodes(functions[call.func.id]) if isinstance(n, ast.Return)]
            return bool(rets) and all(isinstance(r.value, ast.Call) and self._builds_module(r.value, functions, depth + 1) for r in rets)
        return False

    def extends_layer(self, cls: str) -> bool:
        """Does ``cls`` (through its in-file bases) extend a ``torch.nn`` layer that registers parameters of its own
        (``class NonNegLinear(nn.Linear)``)? Its methods then hold leaves the class never assigns."""
        seen = set()
        c: Optional[str] = cls
        while c in self.classes and c not in seen:
            seen.add(c)
            if any(is_module_ctor(b) and b.rsplit(".", 1)[-1] in LAYER_PARAMETERS for b in self.classes[c].base_names):
                return True
            nxt = [b for b in self.classes[c].base_names if b in self.classes]
            c = nxt[0] if nxt else None
        return False

    def non_trainable(self, cls: str, attr: str) -> bool:
        """Is ``self.<attr>`` a buffer or a constant on class ``cls`` (or an in-file base), or configuration
        its framework base class sets (``self.config`` of a ``PreTrainedModel``)?"""
        info0 = self.classes.get(cls)
        if info0 is not None and info0.framework and attr in FRAMEWORK_PLAIN_ATTRS.get(info0.framework, ()) and attr not in info0.attrs:
            return True
        if attr == "config" and info0 is not None and attr not in info0.attrs and self._derives_from(cls, CONFIG_MIXIN_BASES, set()):
            return True  # (diffusers' ``ModelMixin``/``ConfigMixin`` keep the registered constructor arguments there)
        seen = set()
        while cls in self.classes and cls not in seen:
            seen.add(cls)
            info = self.classes[cls]
            if attr in info.buffers or attr in info.constants:
                return True
            nxt = [b for b in info.base_names if b in self.classes]
            if not nxt:
                return False
            cls = nxt[0]
        return False

    def registers_later(self, info: ClassInfo, attr: str) -> bool:
        """Is ``self.<attr>`` (a plain list/dict) registered somewhere, e.g. ``nn.ModuleList(self.attr)``,
        ``add_module``/``register_module``/``setattr`` loops, or re-assigned to a Module container? A registering call
        counts only where what it registers may be one of the container's elements: ``self.<attr>`` itself or a part of
        it, a name the class also puts into the container (``self.layers.append(layer)`` beside
        ``self.add_module(f"layer{i}", layer)``), a loop variable over the container, or ``setattr`` with the
        container's own name (or a name not known). ``register_buffer("offsets", torch.linspace(...))`` or
        ``self.add_module("head", nn.Linear(...))`` registers something else, and leaves the container's layers out."""
        fills: Optional[set] = None
        for node in self._index.walk(info.node):
            if isinstance(node, ast.Call):
                q = self.imports.qualname(node.func) or ""
                fname = node.func.attr if isinstance(node.func, ast.Attribute) else (node.func.id if isinstance(node.func, ast.Name) else "")
                if fname in _REGISTERING_CALLS:
                    if fills is None:
                        fills = self._container_names(info, attr)
                    if _may_register(node, fname, attr, fills):
                        return True
                    continue
                if is_module_ctor(q) or q.endswith(("ParameterList", "ParameterDict")):
                    for a in node.args:
                        for sub in self._index.walk(a):
                            if isinstance(sub, ast.Attribute) and sub.attr == attr and isinstance(sub.value, ast.Name) and sub.value.id == "self":
                                return True
        return False

    def _container_names(self, info: ClassInfo, attr: str) -> set:
        """Names whose values the class puts into ``self.<attr>`` (``append``/``insert``/``extend`` arguments, values stored
        at an index) or binds while iterating over it (``for layer in self.layers``)."""
        out: set = set()
        for node in self._index.walk(info.node):
            given: list = []
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("append", "insert", "extend", "update", "setdefault") and _is_self_attr(node.func.value, attr):
                given = list(node.args) + [k.value for k in node.keywords]
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Subscript) and _is_self_attr(t.value, attr) for t in node.targets):
                given = [node.value]
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and any(_is_self_attr(n, attr) for n in self._index.walk(node.iter)):
                given = [node.target]
            for g in given:
                out.update(_held_names(g))
        return out


_REGISTERING_CALLS = ("add_module", "register_module", "setattr", "register_parameter", "register_buffer")


def _is_self_attr(node: ast.AST, attr: str) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == attr and isinstance(node.value, ast.Name) and node.value.id == "self"


def _may_register(call: ast.Call, fname: str, attr: str, fills: set) -> bool:
    """May this ``add_module``/``register_module``/``setattr``/``register_parameter``/``register_buffer`` call register
    an element of ``self.<attr>`` (see ``Modules.registers_later``)?"""
    at = 2 if fname == "setattr" else 1
    name = call.args[at - 1] if len(call.args) >= at else None
    value = call.args[at] if len(call.args) > at else None
    for k in call.keywords:
        if k.arg is None:
            return True  # (``**kwargs``: not known)
        if k.arg in ("name",):
            name = k.value
        elif k.arg in ("module", "param", "tensor", "value"):
            value = k.value
    if any(isinstance(a, ast.Starred) for a in call.args):
        return True
    if fname == "setattr":
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            if name.value == attr:
                return True  # (the container itself replaced)
        else:
            return True  # (an attribute named at run time: it may be the container's)
    if value is None:
        return True
    if any(isinstance(n, ast.Attribute) and n.attr == attr for n in ast.walk(value)):
        return True
    return bool(_held_names(value) & fills)


def _held_names(e: ast.AST) -> set:
    """The names whose objects ``e`` may be: ``layer``, each of ``(a, b)`` or ``[*blocks]``, the root of ``blocks[i]`` or
    ``stages.conv``; none for a call (a new object: ``Block(cfg["d"])``), a constant or arithmetic."""
    if isinstance(e, ast.Name):
        return {e.id}
    if isinstance(e, (ast.Tuple, ast.List, ast.Set)):
        return set().union(*(_held_names(x) for x in e.elts)) if e.elts else set()
    if isinstance(e, ast.Starred):
        return _held_names(e.value)
    if isinstance(e, (ast.Subscript, ast.Attribute)):
        return _held_names(e.value)
    if isinstance(e, ast.IfExp):
        return _held_names(e.body) | _held_names(e.orelse)
    return set()


# what may turn a frozen parameter back on or overwrite it from outside its class's code
_UNFREEZES_OR_LOADS = re.compile(r"requires_grad_\(\s*(?:True\b|\))|\.requires_grad\s*=(?!=)\s*(?!False\b)|load_state_dict|from_pretrained|torch\.load|setattr|unfreeze")


def _may_write(parent: ast.AST, child: ast.AST) -> bool:
    """May this mention of a tensor change its values or flag: an in-place method (``w.normal_()``), ``w.data``,
    ``w.requires_grad``, an in-place function given it (``nn.init.normal_(w)``), an augmented assignment or an
    indexed store into it?"""
    if isinstance(parent, ast.Attribute) and parent.value is child:
        return (parent.attr.endswith("_") and not parent.attr.endswith("__")) or parent.attr in ("data", "requires_grad", "set_")
    if isinstance(parent, ast.Call) and child in parent.args:
        f = parent.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
        return name.endswith("_") or name in ("setattr", "copy", "load_state_dict")
    if isinstance(parent, ast.AugAssign) and parent.target is child:
        return True
    return isinstance(parent, ast.Subscript) and parent.value is child and isinstance(parent.ctx, ast.Store)


def self_factor(e: ast.AST) -> Optional[str]:
    """``self.<attr>`` of a product's operand, through a transpose (``self.lora_up.t()``, ``.T``, ``.mT``), or None."""
    if isinstance(e, ast.Call) and not e.args and isinstance(e.func, ast.Attribute) and e.func.attr == "t":
        e = e.func.value
    elif isinstance(e, ast.Attribute) and e.attr in ("T", "mT"):
        e = e.value
    if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id == "self":
        return e.attr
    return None


def _store_target(call: ast.Call, stmt: ast.AST):
    """The attribute ``stmt`` (``self.x = <call>``) binds, when ``stmt`` assigns ``call``."""
    if isinstance(stmt, ast.Assign) and stmt.value is call and len(stmt.targets) == 1:
        return stmt.targets[0]
    return None

