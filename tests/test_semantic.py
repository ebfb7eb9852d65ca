"""The semantic model: scopes and bindings (core/semantic.py)."""
import ast

from gradguard.core.facts import FileFacts
from gradguard.core.source import SourceText

SRC = '''
import torch

def train(model, loader, lr=0.1):
    import torch.nn as tnn
    enc, head = tnn.Linear(4, 8), tnn.Linear(8, 1)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    total = 0.0
    for x, y in loader:
        total += 1
        with torch.no_grad() as ctx:
            pass
        picked = [w for w in model.parameters()]
        if (n := len(picked)) > 2:
            pass
    model, opt = wrap(model, opt)
    return enc, head, total, n, ctx

def wrap(m, o):
    return m, o
'''


def facts():
    return FileFacts(SourceText(SRC), ast.parse(SRC))


def fn(f, name):
    return next(n for n in ast.walk(f.tree) if isinstance(n, ast.FunctionDef) and n.name == name)


def test_kinds_of_bindings():
    f = facts()
    t = fn(f, "train")
    sm = f.semantic
    kinds = lambda name: [b.kind for b in sm.bindings(t, name)]  # noqa: E731
    assert kinds("model") == ["param", "unpack"]
    assert kinds("enc") == ["assign"] and kinds("head") == ["assign"]
    assert kinds("total") == ["assign", "augassign"]
    assert kinds("x") == ["for"] and kinds("ctx") == ["with"]
    assert kinds("n") == ["walrus"]
    assert kinds("w") == []  # a comprehension target binds in the comprehension, not in the function
    assert kinds("tnn") == ["import"]


def test_values_element_by_element_and_plain_assignments():
    f = facts()
    t = fn(f, "train")
    sm = f.semantic
    (enc,) = sm.assigned_values(t, "enc")
    assert ast.unparse(enc) == "tnn.Linear(4, 8)"
    assert sm.plain_assignments(t, "enc") is None  # one target of a tuple assignment
    assert [ast.unparse(s) for s in sm.plain_assignments(t, "opt") or []] == [] or sm.plain_assignments(t, "opt") is None
    assert sm.assigned_values(t, "total") is None  # also an augmented assignment
    assert sm.is_parameter(t, "lr") and not sm.is_parameter(t, "enc")


def test_scoped_imports_resolve():
    f = facts()
    t = fn(f, "train")
    call = next(n for n in ast.walk(t) if isinstance(n, ast.Call) and ast.unparse(n.func) == "tnn.Linear")
    assert f.semantic.qualname(t, call.func) == "torch.nn.Linear"
    assert f.semantic.qualname(fn(f, "wrap"), call.func) is None  # not imported in that scope


def test_reaching_bindings():
    f = facts()
    t = fn(f, "train")
    use = next(n for n in ast.walk(t) if isinstance(n, ast.Name) and n.id == "model" and n.lineno == 7)
    reach = f.semantic.reaching(t, "model", use, f.parents)
    assert [b.kind for b in reach] == ["param"]  # ``model, opt = wrap(...)`` comes later, outside any loop
