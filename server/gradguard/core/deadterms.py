"""Dead loss terms: a term added to (or subtracted from) a backpropagated loss that carries none of the program's
gradient paths, only cuts of them (``nll = torch.tensor(numpy_likelihood(risk.detach().numpy()))``,
``torch.histc(pred)``, ``reg.item()``), while the other term trains. Autograd sees a constant: the term adds
nothing to any gradient, and its objective is never optimized, even where its parameters still train through the
other terms. The flow engine records each such sum (a ``constant_term`` event); this module keeps those that are the
loss itself (the tensor ``backward()`` is called on, bound to it in the function, or what the function called for that
tensor returns) and names the cut of each, so the rule owning the cut's kind reports it."""
from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Optional

from gradguard.core.facts import FileFacts
from gradguard.core.flow import UNKNOWN, Event, FunctionFlow
from gradguard.core.starvation import cut_order

# cuts that come first in a chain and own it (``x.detach().numpy()`` is the detach's)
_FIRST_CUTS = ("detach", "data")


@dataclass(frozen=True)
class DeadTerm:
    event: Event  # the ``a + b`` that adds the dead term
    term: ast.AST  # the dead operand
    site: Any  # the BackwardSite of that sum
    cut: Any  # the Cut that left the term without a gradient (the first in the source)


def dead_terms(facts: FileFacts, kinds: frozenset) -> Iterable[DeadTerm]:
    """Dead terms of the backpropagated losses whose cut is of one of ``kinds``, once per sum. A term whose roots a
    ``.detach()`` / ``.data`` also cuts belongs to that cut (unless ``kinds`` are those)."""
    sites = [(fl, s) for fl in facts.backward_flows for s in fl.backward_sites if s.mode.enabled]
    # and the losses a framework backpropagates (``return loss`` from a Hugging Face ``compute_loss``, a Lightning step)
    sites += [(fl, s) for fl in facts.backward_flows for s in fl.implicit_sites if s.mode.enabled]
    if not sites:
        return
    done: set = set()
    owned_by_first = not (kinds & set(_FIRST_CUTS))
    for cf in [*facts.flow.all_flows(), *facts.flow.context_flows]:
        for ev in cf.events:
            if ev.what != "constant_term" or ev.value is None or id(ev.node) in done:
                continue
            dead_roots = {r for r, c in ev.value.cut if c.kind in kinds and r != UNKNOWN}
            if not dead_roots:
                continue
            if owned_by_first and dead_roots <= {r for r, c in ev.value.cut if c.kind in _FIRST_CUTS}:
                continue  # (a ``.detach()`` / ``.data`` cuts every one of those roots too: that is the cut to report)
            dead = {id(c.node) for r, c in ev.value.cut if c.kind in kinds and r != UNKNOWN}
            got = _backpropagated_as_is(facts, cf, ev.node, dead, sites)
            if got is None:
                continue
            done.add(id(ev.node))
            term = ev.node.left if ev.extra == "left" else ev.node.right
            yield DeadTerm(ev, term, got[0], got[1])


def _backpropagated_as_is(facts: FileFacts, cf: FunctionFlow, binop: ast.AST, dead: set, sites: list) -> Optional[tuple]:
    """(backward site, cut) when the loss backpropagated there is ``binop`` itself and carries one of the ``dead``
    cuts from a trained root: ``loss = a + b; loss.backward()`` in ``cf``, or ``return a + b`` from ``cf``'s
    function, called as ``loss = f(...)`` (the cut left that function straight through that call) and
    ``loss.backward()``."""
    parent = facts.parent(binop)
    returned = isinstance(parent, ast.Return) and parent.value is binop
    for fl, s in sites:
        # (the tensor the site backpropagates: ``loss`` of ``loss.backward()``, ``accelerator.backward(loss)``,
        # ``torch.autograd.grad(loss, ...)``, ``scaler.scale(loss).backward()``)
        recv = loss_name(s.loss_expr) if s.implicit else s.loss_expr
        if recv is None:
            continue
        if isinstance(recv, ast.Name):
            reach = facts.semantic.reaching_defs(fl.node, recv.id, s.node, facts.parent)
            if not reach or any(b.kind not in ("assign", "annassign") or not b.whole or b.value is None for b in reach) or len({id(b.value) for b in reach}) != 1:
                continue
            value = reach[0].value
        else:
            value = recv
        for r, c in sorted(s.loss.cut, key=lambda rc: (cut_order(rc[1]), rc[0])):  # (the first in the source, every run)
            if id(c.node) not in dead or r == UNKNOWN or r.startswith("arg:") or not hasattr(c.node, "lineno"):
                continue
            if value is binop and fl.node is cf.node:
                return s, c
            if returned and isinstance(value, ast.Call) and c.via and c.via[-1] is value:
                inner = c.via[-2] if len(c.via) > 1 else c.node  # where the cut was before it left through the call
                if facts.enclosing(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) is cf.node:
                    return s, c
    return None


def loss_name(expr: ast.AST) -> Optional[ast.AST]:
    """The name a function returns as its loss: ``loss``, also in ``(loss, out) if return_outputs else loss`` (the
    first element of a returned tuple); None when the branches name different things."""
    if isinstance(expr, ast.IfExp):
        a, b = loss_name(expr.body), loss_name(expr.orelse)
        return a if isinstance(a, ast.Name) and isinstance(b, ast.Name) and a.id == b.id else None
    if isinstance(expr, ast.Tuple) and expr.elts:
        return loss_name(expr.elts[0])
    return expr if isinstance(expr, ast.Name) else None
