"""Module hooks: which layers of the program a ``register_*_hook`` call hooks, what the hook function is, and
what happens to a layer's input and output around its call.

torch runs a module's hooks at every call of it: forward pre-hooks before ``forward`` (their result replaces the
input), forward hooks right after it (with the input and the output; their result replaces the output), and a
*full* backward hook (``register_full_backward_hook`` / ``register_full_backward_pre_hook``) wraps the tensors the
module takes and returns in a ``BackwardHookFunction`` view, which autograd forbids to modify in place. The rules ask
this model three things: the layers a registration hooks (``Hooks.registrations``), the function it runs
(``Registration.hook``), and the in-place writes into a layer's input or output (``Hooks.inplace_writes``).

A *layer* is a torch (or in-file) module constructor call in the source: ``nn.BatchNorm2d(c)`` assigned to
``self.bn``, or an element of an ``nn.Sequential(...)`` literal (also one a module-level builder function returns).
Nothing here imports or runs the analyzed code.
"""
from __future__ import annotations

import ast
import weakref
from dataclasses import dataclass
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.flow import inplace_flag
from gradguard.core.torchapi import INPLACE_FUNCTIONAL, INPLACE_MODULES, SAVES_WEIGHT_ALWAYS, SAVES_WEIGHT_WITH_INPUT_GRAD, is_module_ctor

HOOK_KINDS = {
    "register_forward_pre_hook": "forward_pre",
    "register_forward_hook": "forward",
    "register_full_backward_hook": "full_backward",
    "register_full_backward_pre_hook": "full_backward_pre",
    "register_backward_hook": "backward",
}
_SEQUENTIAL = ("torch.nn.Sequential", "torch.nn.modules.container.Sequential")
_ALL_MODULES = ("modules", "named_modules", "children", "named_children")
# in-place tensor methods that change no values (or no tensor)
_NOT_WRITES = frozenset({"requires_grad_", "share_memory_", "retain_grad_", "register_hook_", "detach_", "record_stream_"})


@dataclass(frozen=True)
class Layer:
    ctor: ast.Call  # the constructor call that builds it
    kind: str  # the torch class's short name (``BatchNorm2d``), or the in-file class's name
    seq: Optional[ast.Call] = None  # the ``nn.Sequential(...)`` literal it is an element of
    index: int = -1  # its position there


@dataclass(frozen=True)
class Registration:
    kind: str  # forward_pre | forward | full_backward | full_backward_pre | backward
    call: ast.Call  # ``<module>.register_..._hook(h)``
    hook: Optional[ast.AST]  # the function it registers (FunctionDef, Lambda) when it is seen
    layers: tuple  # the Layers it hooks (every one it may hook)
    scope: Optional[ast.AST]  # the function the registration is in


class Hooks:
    def __init__(self, facts) -> None:
        # (a weak reference: the facts keep this model, and the CLI frees a file's objects by reference counting)
        self.f = weakref.proxy(facts)
        self._layers: Optional[list] = None
        self._detaching: Optional[dict] = None
        self._regs: Optional[list] = None

    # the layers ----------------------------------------------------------------------------------------------
    def layers(self) -> list:
        """Every module constructor call of the file that builds a torch layer or an in-file Module, with the
        ``nn.Sequential`` literal it is an element of."""
        if self._layers is None:
            out: list = []
            seen: set = set()
            for node in self.f.walk(ast.Call):
                q = self.f.imports.qualname(node.func) or ""
                if q in _SEQUENTIAL and not node.keywords:
                    for i, a in enumerate(node.args):
                        kind = self._ctor_kind(a)
                        if kind is not None and id(a) not in seen:
                            seen.add(id(a))
                            out.append(Layer(a, kind, node, i))
            for node in self.f.walk(ast.Call):
                if id(node) not in seen:
                    kind = self._ctor_kind(node)
                    if kind is not None:
                        seen.add(id(node))
                        out.append(Layer(node, kind))
            self._layers = out
        return self._layers

    def _ctor_kind(self, node: ast.AST) -> Optional[str]:
        if not isinstance(node, ast.Call):
            return None
        q = self.f.imports.qualname(node.func) or ""
        if q.startswith("torch.nn.") and is_module_ctor(q):
            return q.rsplit(".", 1)[-1]
        if isinstance(node.func, ast.Name) and node.func.id in self.f.modules.classes and self.f.modules.classes[node.func.id].is_module:
            return node.func.id
        return None

    def layer_of(self, ctor: ast.AST) -> Optional[Layer]:
        return next((la for la in self.layers() if la.ctor is ctor), None)

    @staticmethod
    def inplace_layer(layer: Layer) -> bool:
        """``nn.ReLU(inplace=True)``, ``nn.Dropout(p, True)``: the layer writes its input in place."""
        pos = INPLACE_MODULES.get(layer.kind)
        return pos is not None and inplace_flag(layer.ctor, pos) is not None

    # where each layer is called ----------------------------------------------------------------------------
    def _holders(self, layer: Layer) -> list:
        """``(class, attribute)`` for each ``self.<attribute> = <layer or its Sequential>`` of a Module class."""
        built = layer.seq if layer.seq is not None else layer.ctor
        out = []
        for info in self.f.modules.classes.values():
            for attr, values in info.attr_values.items():
                if any(v is built for v in values):
                    out.append((info.name, attr))
        return out

    def _builder_of(self, node: ast.AST) -> Optional[ast.FunctionDef]:
        """The module-level function whose ``return`` gives ``node`` (``def conv_bn_relu(...): return nn.Sequential(...)``)."""
        fn = self.f.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        if fn is None or not isinstance(self.f.parent(fn), ast.Module):
            return None
        parent = self.f.parent(node)
        return fn if isinstance(parent, ast.Return) else None

    def output_uses(self, layer: Layer, depth: int = 0) -> list:
        """The expressions that hold the layer's output right after it returns: each call of it in the methods of
        the class that holds it (``self.bn(x)``), and, for the last element of a Sequential, its Sequential's."""
        if depth > 4:
            return []
        out: list = []
        if layer.seq is not None:
            if layer.index == len(layer.seq.args) - 1:
                seq_layer = Layer(layer.seq, "Sequential")
                out += self.output_uses(seq_layer, depth + 1)
            return out
        holders = self._holders(layer)
        builder = self._builder_of(layer.ctor)
        if builder is not None:
            for info in self.f.modules.classes.values():
                for attr, values in info.attr_values.items():
                    if any(isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == builder.name for v in values):
                        holders.append((info.name, attr))
        for cls, attr in holders:
            for node in walk_nodes(self.f.modules.classes[cls].node):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == attr and isinstance(node.func.value, ast.Name) and node.func.value.id == "self":
                    out.append(node)
        return out

    # in-place writes --------------------------------------------------------------------------------------
    def inplace_writes(self, layer: Layer) -> list:
        """``(node, what)`` for each in-place write into the layer's input (an in-place layer itself) or output
        (the next element of its Sequential is an in-place layer; its output is bound to a name that is then
        modified in place, or passed straight to an in-place op). ``node`` is where the write is spelled: the
        in-place layer's constructor, the augmented assignment, the in-place call."""
        out: list = []
        if self.inplace_layer(layer):
            out.append((layer.ctor, f"`{layer.kind}(inplace=True)` modifies its own input in place"))
        if layer.seq is not None and layer.index + 1 < len(layer.seq.args):
            nxt = self.layer_of(layer.seq.args[layer.index + 1])
            if nxt is not None and self.inplace_layer(nxt):
                out.append((nxt.ctor, f"the next layer, `{nxt.kind}(inplace=True)`, modifies its output in place"))
        for use in self.output_uses(layer):
            out += self._writes_into(use)
        return out

    def _writes_into(self, expr: ast.AST) -> list:
        """In-place writes into the value of ``expr`` (a call): the op it is passed to, or, when it is bound to a
        name, the in-place ops on that name that this binding reaches."""
        out = []
        w = self._consumer_write(expr)
        if w is not None:
            out.append(w)
        parent = self.f.parent(expr)
        if isinstance(parent, ast.Assign) and parent.value is expr and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
            name = parent.targets[0].id
            fn = self.f.enclosing(parent, (ast.FunctionDef, ast.AsyncFunctionDef))
            if fn is None:
                return out
            for node in walk_nodes(fn):
                target: Optional[ast.AST] = None
                hit: tuple
                if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
                    target = node.target
                    hit = (node, f"`{name} {_OPS.get(type(node.op).__name__, '?')}= ...` modifies it in place")
                elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == name for t in node.targets):
                    target = next(t.value for t in node.targets if isinstance(t, ast.Subscript))
                    hit = (node, f"the index assignment into `{name}` modifies it in place")
                elif isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
                    w = self._consumer_write(node)
                    if w is None:
                        continue
                    target, hit = node, w
                else:
                    continue
                defs = self.f.semantic.reaching_defs(fn, name, target, self.f.parents)
                if any(d.node is parent for d in defs):
                    out.append(hit)
        return out

    def _consumer_write(self, expr: ast.AST) -> Optional[tuple]:
        """The in-place op ``expr`` is handed to: ``expr.relu_()``, ``F.relu(expr, inplace=True)``,
        ``torch.relu_(expr)``, ``self.act(expr)`` with ``self.act = nn.ReLU(inplace=True)``."""
        parent = self.f.parent(expr)
        if isinstance(parent, ast.Attribute) and parent.value is expr and parent.attr.endswith("_") and not parent.attr.startswith("_") and parent.attr not in _NOT_WRITES:
            call = self.f.parent(parent)
            if isinstance(call, ast.Call) and call.func is parent:
                return (call, f"`.{parent.attr}()` modifies it in place")
        if not isinstance(parent, ast.Call) or not parent.args or parent.args[0] is not expr:
            return None
        q = self.f.imports.qualname(parent.func) or ""
        short = q.rsplit(".", 1)[-1]
        if q.startswith("torch.nn.functional.") and short in INPLACE_FUNCTIONAL:
            if inplace_flag(parent, INPLACE_FUNCTIONAL[short]) is not None:
                return (parent, f"`{short}(..., inplace=True)` modifies it in place")
            return None
        if q.startswith("torch.") and short.endswith("_") and not short.startswith("_") and short not in _NOT_WRITES and q.count(".") == 1:
            return (parent, f"`torch.{short}` modifies it in place")
        f = parent.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self":
            cls = self._class_of(parent)
            if cls is not None:
                ctor = self.f.modules.attr_torch_ctor(cls, f.attr)
                if ctor is not None:
                    la = self.layer_of(ctor[1])
                    if la is not None and self.inplace_layer(la):
                        return (la.ctor, f"`self.{f.attr}`, a `{la.kind}(inplace=True)`, modifies it in place")
        return None

    def _class_of(self, node: ast.AST) -> Optional[str]:
        c = self.f.enclosing(node, (ast.ClassDef,))
        return c.name if c is not None and c.name in self.f.modules.classes else None

    # what a layer saves ------------------------------------------------------------------------------------
    def saves_weight(self, layer: Layer) -> bool:
        """Does the layer's op keep its own ``weight`` for backward? A convolution or normalization always does; a
        ``nn.Linear`` when its input requires grad, which is known when it follows another layer of its Sequential or
        is called on something other than its method's own argument as given."""
        if layer.kind in SAVES_WEIGHT_ALWAYS:
            return True
        if layer.kind not in SAVES_WEIGHT_WITH_INPUT_GRAD:
            return False
        if layer.seq is not None:
            return layer.index > 0
        for use in self.output_uses(layer):
            if not isinstance(use, ast.Call) or not use.args:
                continue
            a = use.args[0]
            fn = self.f.enclosing(use, (ast.FunctionDef, ast.AsyncFunctionDef))
            if fn is None:
                continue
            if isinstance(a, ast.Name):
                defs = self.f.semantic.reaching_defs(fn, a.id, a, self.f.parents)
                if not defs or any(d.kind == "param" for d in defs):
                    continue
            elif isinstance(a, (ast.Constant, ast.Attribute, ast.Subscript)):
                continue
            return True
        return False

    def parameter_writes(self, reg: Registration) -> list:
        """``(node, parameter)`` for each in-place write a forward hook makes into a parameter of the module it is
        given (``module.weight.clamp_(...)``, ``module.weight *= m``, ``module.weight[...] = 0``, ``copy_``), not
        through ``.data`` or ``.detach()`` (which bypass autograd's version check)."""
        fn = reg.hook
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return []
        params = [a.arg for a in fn.args.args]
        if params and params[0] == "self":
            params = params[1:]
        if not params:
            return []
        mod = params[0]
        out = []
        for node in walk_nodes(fn):
            target: Optional[ast.AST] = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr.endswith("_") and not node.func.attr.startswith("_") and node.func.attr not in _NOT_WRITES:
                target = node.func.value
            elif isinstance(node, ast.AugAssign):
                target = node.target
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript):
                target = node.targets[0].value
            while isinstance(target, ast.Subscript):
                target = target.value
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == mod:
                out.append((node, target.attr))
        return out

    # registrations ----------------------------------------------------------------------------------------
    def registrations(self) -> list:
        if self._regs is None:
            out = []
            for node in self.f.walk(ast.Call):
                if isinstance(node.func, ast.Attribute) and node.func.attr in HOOK_KINDS and node.args:
                    scope = self.f.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                    layers = self._targets(node.func.value, scope)
                    out.append(Registration(HOOK_KINDS[node.func.attr], node, self._hook_function(node.args[0], scope), tuple(layers), scope))
            self._regs = out
        return self._regs

    def _targets(self, recv: ast.AST, scope: Optional[ast.AST]) -> list:
        """The layers ``recv`` (the receiver of the registration) may be."""
        if isinstance(recv, ast.Name) and scope is not None:
            loop = self._loop_binding(recv, scope)
            if loop is not None:
                return self._loop_layers(recv, loop, scope)
        return self._expr_layers(recv, scope, 0)

    def _loop_binding(self, name: ast.Name, scope: ast.AST) -> Optional[ast.For]:
        node = self.f.parent(name)
        while node is not None and node is not scope:
            if isinstance(node, ast.For) and any(isinstance(t, ast.Name) and t.id == name.id for t in walk_nodes(node.target)):
                return node
            node = self.f.parent(node)
        return None

    def _loop_layers(self, name: ast.Name, loop: ast.For, scope: ast.AST) -> list:
        it = loop.iter
        if isinstance(it, (ast.Tuple, ast.List)) and isinstance(loop.target, ast.Name):
            out = []
            for e in it.elts:
                out += self._expr_layers(e, scope, 0)
            return out
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in _ALL_MODULES:
            types = self._isinstance_guard(name, loop)
            pool = self._reachable_layers(it.func.value, scope)
            if types is None:
                return pool
            return [la for la in pool if la.kind in types]
        return []

    def _isinstance_guard(self, name: ast.Name, loop: ast.For) -> Optional[frozenset]:
        """The class names an ``if isinstance(<name>, T)`` around ``name`` (inside ``loop``) allows; None when none."""
        node = self.f.parent(name)
        types: Optional[frozenset] = None
        while node is not None and node is not loop:
            if isinstance(node, ast.If):
                t = node.test
                if isinstance(t, ast.Call) and isinstance(t.func, ast.Name) and t.func.id == "isinstance" and len(t.args) == 2 and isinstance(t.args[0], ast.Name) and t.args[0].id == name.id:
                    names = t.args[1].elts if isinstance(t.args[1], ast.Tuple) else [t.args[1]]
                    got = frozenset(n.attr if isinstance(n, ast.Attribute) else n.id for n in names if isinstance(n, (ast.Attribute, ast.Name)))
                    types = got if types is None else types & got
            node = self.f.parent(node)
        return types

    def _reachable_layers(self, root: ast.AST, scope: Optional[ast.AST]) -> list:
        """The layers built by what ``root`` is: the class of ``self`` or of the instance a name is built as, and
        every class and builder function that class names (transitively); every layer of the file when unknown."""
        start = self._class_expr(root, scope)
        if start is None:
            return list(self.layers())
        names = self.f.modules.classes
        funcs = {fn.name: fn for fn in self.f.tree.body if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))}
        todo: list = [start]
        seen: set = set()
        nodes = []
        while todo:
            n = todo.pop()
            if isinstance(n, ast.AST):  # an ``nn.Sequential(...)`` literal
                node = n
            else:
                if n in seen:
                    continue
                seen.add(n)
                node = names[n].node if n in names else funcs[n]
            nodes.append(node)
            for sub in walk_nodes(node):
                if isinstance(sub, ast.Name) and (sub.id in names or sub.id in funcs) and sub.id not in seen:
                    todo.append(sub.id)
            if isinstance(n, str) and n in names:
                todo += [b for b in names[n].base_names if b in names]
        spans = [(getattr(nd, "lineno", 0), getattr(nd, "end_lineno", None) or getattr(nd, "lineno", 0)) for nd in nodes]
        return [la for la in self.layers() if any(a <= la.ctor.lineno <= b for a, b in spans)]

    def _class_expr(self, root: ast.AST, scope: Optional[ast.AST]):
        """An in-file class name, or an ``nn.Sequential(...)`` literal, ``root`` is known to be; None when unknown."""
        if isinstance(root, ast.Name) and root.id == "self":
            return self._class_of(root)
        if isinstance(root, ast.Name) and scope is not None:
            vals = self.f.semantic.assigned_values(scope, root.id)
            if vals and len(vals) == 1 and isinstance(vals[0], ast.Call):
                v = vals[0]
                if isinstance(v.func, ast.Name) and v.func.id in self.f.modules.classes:
                    return v.func.id
                if (self.f.imports.qualname(v.func) or "") in _SEQUENTIAL:
                    return v
        return None

    def _expr_layers(self, expr: ast.AST, scope: Optional[ast.AST], depth: int) -> list:
        """``self.bn``, ``self.block[2]``, ``model.head`` -> the layer(s) built there."""
        if depth > 4:
            return []
        if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant) and isinstance(expr.slice.value, int):
            out = []
            for la in self._expr_layers(expr.value, scope, depth + 1):
                if la.kind == "Sequential" or (self.f.imports.qualname(la.ctor.func) or "") in _SEQUENTIAL:
                    i = expr.slice.value
                    if -len(la.ctor.args) <= i < len(la.ctor.args):
                        el = self.layer_of(la.ctor.args[i])
                        if el is not None:
                            out.append(el)
            return out
        if isinstance(expr, ast.Name):
            built = self._class_expr(expr, scope)
            return [Layer(built, "Sequential")] if isinstance(built, ast.Call) else []
        if isinstance(expr, ast.Attribute):
            owner = self._class_expr(expr.value, scope)
            if owner is None and isinstance(expr.value, ast.Attribute):
                outer = self._expr_layers(expr.value, scope, depth + 1)
                owner = next((la.kind for la in outer if la.kind in self.f.modules.classes), None)
            if isinstance(owner, str):
                out = []
                for v in self.f.modules._assigned_through_bases(owner, expr.attr)[1]:
                    la = self.layer_of(v) or (Layer(v, "Sequential") if isinstance(v, ast.Call) and (self.f.imports.qualname(v.func) or "") in _SEQUENTIAL else None)
                    if la is not None:
                        out.append(la)
                return out
        return []

    def detaching_forward_hooks(self) -> dict:
        """``{(class, attribute): (cut kind, node, detail)}`` for each part ``self.<attribute>`` of an in-file Module class
        that a ``register_forward_hook`` of the file hooks with a function whose every ``return`` gives ``None`` or a
        value made from ``output.data`` / ``output.detach()`` (and none from ``output`` itself): what it returns replaces
        the part's output, off the graph. The part is found through ``self.<attr>``, ``model.<attr>`` of a model built
        in the same function, or ``getattr(net, name)`` in a helper whose every call passes a part holder and a constant
        name (a literal, or a constructor default never passed)."""
        if self._detaching is None:
            out: dict = {}
            text = self.f.source.text
            if "register_forward_hook" in text and (".data" in text or "detach(" in text):
                for node in self.f.walk(ast.Call):
                    if not (isinstance(node.func, ast.Attribute) and node.func.attr == "register_forward_hook" and node.args):
                        continue
                    scope = self.f.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                    fn, offset = self._hook_callable(node.args[0], scope)
                    cut = _detaching_return(fn, offset) if fn is not None else None
                    if cut is None:
                        continue
                    for part in self._hooked_parts(node.func.value, scope):
                        out.setdefault(part, cut)
            self._detaching = out
        return self._detaching

    def _hook_callable(self, expr: ast.AST, scope: Optional[ast.AST]) -> tuple:
        """(function, index of its ``output`` parameter) of a hook: a function, lambda or method (``_hook_function``), or an
        object of an in-file class with ``__call__`` built in the same function (``gate = ChannelDropout(p)``)."""
        got = self._hook_function(expr, scope)
        if got is not None:
            params = got.args.args if isinstance(got, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) else []
            return got, 3 if params and params[0].arg == "self" else 2
        value: Optional[ast.AST] = expr
        if isinstance(expr, ast.Name) and scope is not None:
            vals = self.f.semantic.assigned_values(scope, expr.id)
            value = vals[0] if vals and len(vals) == 1 else None
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in self.f.modules.classes:
            call = self.f.modules.method(value.func.id, "__call__")
            if call is not None:
                return call, 3
        return None, 0

    def _hooked_parts(self, recv: ast.AST, scope: Optional[ast.AST]) -> list:
        """``(class, attribute)`` of the parts a registration's receiver is."""
        if isinstance(recv, ast.Attribute) and isinstance(recv.value, ast.Name):
            owner = self._class_expr(recv.value, scope)
            return [(owner, recv.attr)] if isinstance(owner, str) else []
        if isinstance(recv, ast.Call) and isinstance(recv.func, ast.Name) and recv.func.id == "getattr" and len(recv.args) == 2 \
                and isinstance(recv.args[0], ast.Name) and isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            holder, name = recv.args
            params = [a.arg for a in scope.args.args]
            if holder.id not in params:  # type: ignore[attr-defined]
                return []
            out = []
            for call in self.f.walk(ast.Call):
                if not (isinstance(call.func, ast.Name) and call.func.id == scope.name) or any(isinstance(a, ast.Starred) for a in call.args):
                    continue
                i = params.index(holder.id)  # type: ignore[attr-defined]
                given = call.args[i] if i < len(call.args) else None
                caller = self.f.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef))
                cls = self._holder_class(given, caller)
                attr = self._constant_name(name, scope, call, caller)
                if cls is None or attr is None:
                    return []
                out.append((cls, attr))
            return out
        return []

    def _holder_class(self, given: Optional[ast.AST], caller: Optional[ast.AST]) -> Optional[str]:
        """The in-file Module class of ``self.net`` (a part the caller's class holds) or of a local built as ``Cls()``."""
        mm = self.f.modules
        if isinstance(given, ast.Attribute) and isinstance(given.value, ast.Name) and given.value.id == "self" and caller is not None:
            owner = self._class_of(given.value)
            return mm.attr_class(owner, given.attr)[0] if owner else None
        got = self._class_expr(given, caller) if given is not None else None
        return got if isinstance(got, str) else None

    def _constant_name(self, name: ast.AST, fn: ast.AST, call: ast.Call, caller: Optional[ast.AST]) -> Optional[str]:
        """The string ``name`` (a parameter of ``fn``) is at ``call``: a literal passed, or the caller's own parameter with a
        literal default that no construction of the caller's class (or call of the caller) passes."""
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            return name.value
        if not isinstance(name, ast.Name):
            return None
        params = [a.arg for a in fn.args.args]  # type: ignore[attr-defined]
        if name.id not in params:
            return None
        i = params.index(name.id)
        given = call.args[i] if i < len(call.args) else next((k.value for k in call.keywords if k.arg == name.id), None)
        if isinstance(given, ast.Constant) and isinstance(given.value, str):
            return given.value
        if not (isinstance(given, ast.Name) and isinstance(caller, (ast.FunctionDef, ast.AsyncFunctionDef))):
            return None
        cargs = [a.arg for a in caller.args.args]
        if given.id not in cargs:
            return None
        j = cargs.index(given.id)
        first_default = len(cargs) - len(caller.args.defaults)
        if j < first_default:
            return None
        default = caller.args.defaults[j - first_default]
        if not (isinstance(default, ast.Constant) and isinstance(default.value, str)):
            return None
        # (no call passes it: the constructor of the caller's class for ``__init__``, the caller itself otherwise)
        target = self._class_of(caller.args.args[0]) if caller.name == "__init__" and cargs and cargs[0] == "self" else caller.name
        offset = 1 if cargs and cargs[0] == "self" else 0
        for c in self.f.walk(ast.Call):
            f = c.func
            if (isinstance(f, ast.Name) and f.id == target) or (isinstance(f, ast.Attribute) and f.attr == target):
                if len(c.args) > j - offset or any(k.arg in (given.id, None) for k in c.keywords) or any(isinstance(a, ast.Starred) for a in c.args):
                    return None
        return default.value

    def _hook_function(self, expr: ast.AST, scope: Optional[ast.AST]) -> Optional[ast.AST]:
        """The function a registration passes: a lambda, ``self.<method>``, a function of the file, or the nested
        function a factory (``self._make_hook(name)``) returns."""
        if isinstance(expr, ast.Lambda):
            return expr
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
            cls = self._class_of(expr)
            return self.f.modules.method(cls, expr.attr) if cls else None
        if isinstance(expr, ast.Name):
            if scope is not None:
                local = next((n for n in walk_nodes(scope) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == expr.id and n is not scope), None)
                if local is not None:
                    return local
            return next((fn for fn in self.f.tree.body if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name == expr.id), None)
        if isinstance(expr, ast.Call):
            factory = self._hook_function(expr.func, scope)
            if isinstance(factory, (ast.FunctionDef, ast.AsyncFunctionDef)):
                rets = [r.value for r in walk_nodes(factory) if isinstance(r, ast.Return) and r.value is not None]
                if len(rets) == 1:
                    return self._hook_function(rets[0], factory)
        return None


def _detaching_return(fn: ast.AST, index: int) -> Optional[tuple]:
    """(cut kind, node, detail) when every ``return`` of the hook ``fn`` (its ``output`` the parameter at ``index``) gives
    None or a value made from ``output.data`` / ``output.detach()`` and none from ``output`` itself, with at least one
    such value; else None."""
    params = fn.args.args if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) else []
    if len(params) <= index:
        return None
    out = params[index].arg
    values = [fn.body] if isinstance(fn, ast.Lambda) else [r.value for r in walk_nodes(fn) if isinstance(r, ast.Return)]
    found = None
    for v in values:
        if v is None or (isinstance(v, ast.Constant) and v.value is None):
            continue
        cut_nodes = [n for n in walk_nodes(v) if (isinstance(n, ast.Attribute) and n.attr == "data" and isinstance(n.value, ast.Name) and n.value.id == out)
                     or (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "detach" and isinstance(n.func.value, ast.Name) and n.func.value.id == out)]
        uses = [n for n in walk_nodes(v) if isinstance(n, ast.Name) and n.id == out]
        if not cut_nodes or len(uses) != len(cut_nodes):
            return None  # (``output`` itself in the value: gradient flows through it)
        if found is None:
            c = cut_nodes[0]
            kind = "data" if isinstance(c, ast.Attribute) else "detach"
            found = (kind, c, f"the forward hook's `{ast.unparse(c)}` (its return value replaces the hooked module's output)")
    return found


_OPS = {"Add": "+", "Sub": "-", "Mult": "*", "Div": "/", "Pow": "**", "MatMult": "@", "BitAnd": "&", "BitOr": "|"}
