"""Import facts the workspace linker (core/workspace.py) follows as CPython does: namespace packages (PEP 420) and
which of a package, a module and a namespace portion of one name an import finds; ``__all__`` built by ``+=``,
``.extend``, ``+`` and other modules' ``__all__`` (and, when it cannot be read, no name guessed); and a copied
definition that uses a name the analyzed file defines differently (the copied one is renamed in the program's
tree, never in its text).

Each project is written to tmp_path and run under CPU torch first (one interpreter, each project forked from it
with its own cwd and ``sys.path``: the project directory, then ``src/``, the order gradguard searches them): a bug
project really loses the watched weight's gradient, a clean look-alike really trains it. Then ``gradguard check``
(the CLI, JSON output) must report the bug in the file and on the line where the code has to change, and nothing
(no error or warning) on the look-alikes; alone (``--no-workspace``) no file shows a bug: the evidence spans files.
The CLI runs of all projects are started at once (each is its own process).
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import pytest

from gradguard.analyze import analyze
from gradguard.core.workspace import WorkspaceIndex
from test_workspace_imports import line_of, write  # the same fixture helpers

LAYER = """\
import torch
import torch.nn as nn


class CustomLinear(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.weight = torch.randn(d_out, d_in) / d_in**0.5
        self.bias = nn.Parameter(torch.zeros(d_out))

    def forward(self, x):
        return x @ self.weight.t() + self.bias
"""
RAW = "self.weight = torch.randn(d_out, d_in) / d_in**0.5"
LAYER_CLEAN = LAYER.replace(RAW, "self.weight = nn.Parameter(torch.randn(d_out, d_in) / d_in**0.5)")

# a layer file with a Head; ``{all}`` is where its ``__all__`` is built
LAYERS = """\
import torch
import torch.nn as nn
{all}

class CustomLinear(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.weight = torch.randn(d_out, d_in) / d_in**0.5
        self.bias = nn.Parameter(torch.zeros(d_out))

    def forward(self, x):
        return x @ self.weight.t() + self.bias


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = CustomLinear(8, 2)

    def forward(self, x):
        return self.fc(x)
"""
LAYERS_CLEAN = LAYERS.replace(RAW, "self.weight = nn.Parameter(torch.randn(d_out, d_in) / d_in**0.5)")

# model.py: ``Net`` uses model.py's own ``Block`` (and ``HIDDEN``)
MODEL = """\
import torch
import torch.nn as nn

HIDDEN = 8


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.randn(HIDDEN, HIDDEN) / HIDDEN**0.5

    def forward(self, x):
        return torch.relu(x @ self.weight)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(HIDDEN, 2)

    def forward(self, x):
        return self.head(self.block(x))
"""
BLOCK_RAW = "self.weight = torch.randn(HIDDEN, HIDDEN) / HIDDEN**0.5"
MODEL_CLEAN = MODEL.replace(BLOCK_RAW, "self.weight = nn.Parameter(torch.randn(HIDDEN, HIDDEN) / HIDDEN**0.5)")
# the same Net, its Block imported from layers.py
BLOCK_LAYERS = "import torch\nimport torch.nn as nn\n\nHIDDEN = 8\n\n" + MODEL[MODEL.index("class Block") : MODEL.index("class Net")].rstrip() + "\n"
MODEL_IMPORTING_BLOCK = "import torch.nn as nn\n\nfrom layers import HIDDEN, Block\n\n\n" + MODEL[MODEL.index("class Net") :]

# train.py's own, unrelated ``Block`` and ``HIDDEN`` (a batch of rows; a data size)
OWN_BLOCK = """
HIDDEN = 32


class Block:
    \"\"\"A block of training rows.\"\"\"

    def __init__(self, n):
        self.x = torch.randn(n, 8)
        self.y = torch.randint(0, 2, (n,))
"""

TRAIN = """\
import torch
import torch.nn as nn
{imports}
{own}

def main():
    torch.manual_seed(0)
    model = {ctor}
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(4, 8), torch.randint(0, 2, (4,))
    before = {watched}.detach().clone()
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print("LEARNS", {watched}.grad is not None and bool({watched}.grad.abs().sum() > 0) and not torch.equal(before, {watched}.detach()))
    return model


if __name__ == "__main__":
    main()
"""


def train(imports: str, ctor: str, watched: str, own: str = "") -> str:
    """A training script; it prints whether ``watched`` (an expression on ``model``) got a gradient and changed."""
    return TRAIN.format(imports=imports, ctor=ctor, watched=watched, own=own)


W = "model.weight"
HEAD_W = "model.fc.weight"
BLOCK_W = "model.block.weight"

# name -> (files, where the bug is as (file, needle, code) or None for a clean project)
PROJECTS = {
    # 1. namespace packages (no __init__.py): ``from pkg import sub``, ``import pkg.sub as s``, dotted chains
    "ns_from_package_import_module": ({"pkg/layers.py": LAYER, "train.py": train("from pkg import layers", "layers.CustomLinear(8, 2)", W)}, ("pkg/layers.py", RAW, "GG301")),
    "ns_import_module_as": ({"pkg/layers.py": LAYER, "train.py": train("import pkg.layers as s", "s.CustomLinear(8, 2)", W)}, ("pkg/layers.py", RAW, "GG301")),
    "ns_nested_dotted_chain": ({"pkg/nn2/layers.py": LAYER, "train.py": train("import pkg.nn2.layers", "pkg.nn2.layers.CustomLinear(8, 2)", W)}, ("pkg/nn2/layers.py", RAW, "GG301")),
    "ns_portions_on_two_roots": (  # pkg/ at the root and src/pkg/ are one package: pkg.model imports pkg.layers from src/
        {
            "pkg/model.py": "import torch.nn as nn\n\nfrom pkg.layers import CustomLinear\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = CustomLinear(8, 2)\n\n    def forward(self, x):\n        return self.fc(x)\n",
            "src/pkg/layers.py": LAYER,
            "train.py": train("from pkg.model import Net", "Net()", HEAD_W),
        },
        ("src/pkg/layers.py", RAW, "GG301"),
    ),
    "ns_regular_package_wins_over_portion": (  # src/pkg is a regular package: CPython imports its layers, not pkg/'s
        {"pkg/layers.py": LAYER_CLEAN, "src/pkg/__init__.py": "", "src/pkg/layers.py": LAYER, "train.py": train("from pkg import layers", "layers.CustomLinear(8, 2)", W)},
        ("src/pkg/layers.py", RAW, "GG301"),
    ),
    "ns_clean": ({"pkg/layers.py": LAYER_CLEAN, "train.py": train("from pkg import layers", "layers.CustomLinear(8, 2)", W)}, None),
    "ns_clean_regular_package_wins_over_stale_portion": (  # the raw-tensor copy in pkg/ is never imported
        {"pkg/layers.py": LAYER, "src/pkg/__init__.py": "", "src/pkg/layers.py": LAYER_CLEAN, "train.py": train("from pkg import layers", "layers.CustomLinear(8, 2)", W)},
        None,
    ),
    "ns_clean_module_wins_over_directory": (  # pkg.py is the module ``pkg``; pkg/ (no __init__.py) is not searched
        {"pkg.py": "import cleanlayers as layers  # noqa: F401\n", "cleanlayers.py": LAYER_CLEAN, "pkg/layers.py": LAYER, "train.py": train("from pkg import layers", "layers.CustomLinear(8, 2)", W)},
        None,
    ),
    "ns_clean_package_wins_over_module": ({"layers.py": LAYER, "layers/__init__.py": LAYER_CLEAN, "train.py": train("from layers import CustomLinear", "CustomLinear(8, 2)", W)}, None),
    # 2. ``__all__`` built by statements
    "all_plus_equals": ({"layers.py": LAYERS.format(all='\n__all__ = ["CustomLinear"]\n__all__ += ["Head"]\n'), "train.py": train("from layers import *", "Head()", HEAD_W)}, ("layers.py", RAW, "GG301")),
    "all_extend": ({"layers.py": LAYERS.format(all='\n__all__ = []\n__all__.extend(["CustomLinear", "Head"])\n'), "train.py": train("from layers import *", "Head()", HEAD_W)}, ("layers.py", RAW, "GG301")),
    "all_concatenated": ({"layers.py": LAYERS.format(all='\n__all__ = ["CustomLinear"] + ["Head"]\n'), "train.py": train("from layers import *", "Head()", HEAD_W)}, ("layers.py", RAW, "GG301")),
    "all_from_submodule_all_in_init": (  # ``layers`` is bound in the package by importing the submodule
        {
            "models/__init__.py": 'from .layers import *\n\n__all__ = ["VERSION"] + layers.__all__\nVERSION = "1"\n',
            "models/layers.py": LAYERS.format(all='\n__all__ = ["CustomLinear"]\n__all__ += ["Head"]\n'),
            "train.py": train("from models import *", "Head()", HEAD_W),
        },
        ("models/layers.py", RAW, "GG301"),
    ),
    "all_clean": ({"layers.py": LAYERS_CLEAN.format(all='\n__all__ = ["CustomLinear"]\n__all__ += ["Head"]\n'), "train.py": train("from layers import *", "Head()", HEAD_W)}, None),
    "all_clean_computed_all_not_guessed": (  # legacy's computed __all__ leaves its Head out: Head is layers'
        {
            "models/__init__.py": "from .legacy import *\nfrom .layers import *\n",
            "models/legacy.py": LAYERS.format(all="") + '\n\n__all__ = [k for k in list(globals()) if k.startswith("Custom")]\n',
            "models/layers.py": LAYERS_CLEAN.format(all=""),
            "train.py": train("from models import *", "Head()", HEAD_W),
        },
        None,
    ),
    # 3. a copied definition uses a name train.py defines differently: renamed in the program
    "clash_own_class_and_constant": ({"model.py": MODEL, "train.py": train("from model import Net", "Net()", BLOCK_W, OWN_BLOCK)}, ("model.py", BLOCK_RAW, "GG301")),
    "clash_through_copied_import": (
        {"layers.py": BLOCK_LAYERS, "model.py": MODEL_IMPORTING_BLOCK, "train.py": train("from model import Net", "Net()", BLOCK_W, OWN_BLOCK)},
        ("layers.py", BLOCK_RAW, "GG301"),
    ),
    "clash_with_name_train_imports": (  # train.py's Block is utils.py's; Net's is model.py's
        {"utils.py": OWN_BLOCK.replace("torch.", "__import__('torch')."), "model.py": MODEL, "train.py": train("from model import Net\nfrom utils import Block", "Net()", BLOCK_W)},
        ("model.py", BLOCK_RAW, "GG301"),
    ),
    "clash_clean": ({"model.py": MODEL_CLEAN, "train.py": train("from model import Net", "Net()", BLOCK_W, OWN_BLOCK)}, None),
}

RUNNER = r"""
import json, os, runpy, sys
import torch  # once; every project is forked from here
torch.set_num_threads(1)
_m = torch.nn.Linear(2, 2)  # lazy imports and first-use setup done once, not in every fork
_o = torch.optim.SGD(_m.parameters(), lr=0.1)
torch.nn.functional.cross_entropy(_m(torch.randn(2, 2)), torch.tensor([0, 1])).backward()
_o.step()
out = {}
for d in sys.argv[1:]:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.chdir(d)
        sys.path[:0] = [d, os.path.join(d, "src")]
        os.dup2(w, 1)
        try:
            runpy.run_path(os.path.join(d, "train.py"), run_name="__main__")
            sys.stdout.flush()
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        text = f.read()
    os.waitpid(pid, 0)
    out[os.path.basename(d)] = text.strip().splitlines()[-1] if text.strip() else "NO OUTPUT"
print(json.dumps(out))
"""




def findings(stdout: str) -> set:
    return {(os.path.normpath(f["filename"]), f["location"]["row"], f["code"]) for f in json.loads(stdout) if f["severity"] in ("error", "warning")}


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    root = tmp_path_factory.mktemp("namespace")
    for name, (files, _) in PROJECTS.items():
        write(root / name, files)
    return root


@pytest.fixture(scope="module")
def results(projects):
    """(what each project does under torch, {project: (workspace findings, --no-workspace findings)} through the
    CLI): every process started at once."""
    pytest.importorskip("torch")
    truth = subprocess.Popen([sys.executable, "-c", RUNNER, *(str(projects / n) for n in PROJECTS)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs = {}
    for name, (_, bug) in PROJECTS.items():
        for extra in ((), ("--no-workspace",)) if bug else ((),):
            cmd = [sys.executable, "-m", "gradguard", "check", "--no-cache", "--output-format", "json", *extra, "."]
            runs[(name, extra)] = subprocess.Popen(cmd, cwd=projects / name, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out: dict = {}
    for (name, extra), p in runs.items():
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode in (0, 1), stderr
        out.setdefault(name, {})[bool(extra)] = findings(stdout)
    stdout, stderr = truth.communicate(timeout=600)
    assert truth.returncode == 0, stderr
    return json.loads(stdout.strip().splitlines()[-1]), {name: (got[False], got.get(True)) for name, got in out.items()}


@pytest.mark.parametrize("name", list(PROJECTS))
def test_project(name, projects, results):
    under_torch, checked = results
    root = projects / name
    _, bug = PROJECTS[name]
    # ground truth: the bug project loses the gradient of the watched weight, the look-alike trains it
    assert under_torch[name] == ("LEARNS False" if bug else "LEARNS True"), under_torch[name]
    want = set() if bug is None else {(os.path.normpath(bug[0]), line_of(root, bug[0], bug[1]), bug[2])}
    workspace, alone = checked[name]
    assert workspace == want
    if bug is not None:
        assert alone == set()  # alone, no file shows it: the evidence spans files


# -- module resolution ---------------------------------------------------------------------------------------
def test_module_file_follows_cpython_precedence(tmp_path):
    files = {
        "ns/a.py": "",  # namespace package ns: portions at the root and in src/
        "src/ns/b.py": "",
        "reg/a.py": "",  # reg/ at the root is a portion, but src/reg is a regular package: it is reg
        "src/reg/__init__.py": "",
        "mod.py": "",  # a module beats a directory of the same name (then mod.x is nothing)
        "mod/x.py": "",
        "both.py": "",  # a package beats a module of the same name in one directory
        "both/__init__.py": "",
        "legacy/__init__.py": "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n",  # pre-PEP 420
        "src/legacy/c.py": "",
        "ns/inner/deep.py": "",
        "ns/rel.py": "",
    }
    write(tmp_path, files)
    ws = WorkspaceIndex([str(tmp_path)])

    def at(module, from_path=None, level=0):
        got = ws.module_file(module, str(tmp_path / from_path) if from_path else None, level)
        return os.path.relpath(got, tmp_path) if got else None

    assert at("ns") is None  # a namespace package has no file
    assert at("ns.a") == os.path.join("ns", "a.py") and at("ns.b") == os.path.join("src", "ns", "b.py")
    assert at("ns.inner.deep") == os.path.join("ns", "inner", "deep.py")
    assert at("reg") == os.path.join("src", "reg", "__init__.py") and at("reg.a") is None
    assert at("mod") == "mod.py" and at("mod.x") is None
    assert at("both") == os.path.join("both", "__init__.py")
    assert at("legacy.c") == os.path.join("src", "legacy", "c.py")
    assert at("inner.deep", "ns/rel.py", 1) == os.path.join("ns", "inner", "deep.py")  # relative, in a namespace package
    assert at("", "ns/rel.py", 1) is None  # ``from . import x`` in a namespace package: no __init__ to read
    # ``from ns import a`` / ``import ns.a as m`` bind the submodule
    from gradguard.core.workspace import ImportBinding

    b = ImportBinding("a", "ns", "a", 0, 1, 1, 0, "ns.a")
    assert ws.module_of(b, str(tmp_path / "train.py")) == ("ns.a", 0)
    assert ws.module_of(ImportBinding("m", "ns.b", None, 0, 1, 1, 0, "ns.b"), str(tmp_path / "train.py")) == ("ns.b", 0)


# -- __all__ -------------------------------------------------------------------------------------------------
ALL_FORMS = {
    # module text -> (the names ``from m import *`` surely binds (None: its public names), nothing else)
    '__all__ = ["A"]\n__all__ += ["B"]\n': ({"A", "B"}, True),
    '__all__ = []\n__all__.extend(["A", "B"])\n__all__.append("C")\n__all__.insert(0, "D")\n': ({"A", "B", "C", "D"}, True),
    '__all__ = ["A"] + ["B"] + list(("C",))\n': ({"A", "B", "C"}, True),
    '__all__: list = ["A"]\n__all__ = (*__all__, "B")\n': ({"A", "B"}, True),
    '__all__ = ["A", "B"]\n__all__.remove("B")\n__all__.sort()\n': ({"A"}, True),
    'def names():\n    return __all__\n\n\n__all__ = ["A"]\n': ({"A"}, True),  # a body runs when called
    "x = 1\n": (None, True),
    # what cannot be read is not guessed: sure names stay sure only while nothing can remove them
    '__all__ = [n for n in dir() if n.isupper()]\n': (set(), False),
    '__all__ = ["A"]\n__all__ += _more()\n': ({"A"}, False),
    '__all__ = ["A"]\nif X:\n    __all__ += ["B"]\n': ({"A"}, False),
    '__all__ = ["A", "B"]\nif X:\n    __all__.remove("B")\n': (set(), False),
    '__all__ = ["A"]\n__all__.pop()\n': (set(), False),
    '__all__ += ["B"]\n': (set(), False),
    '__all__, x = ["A"], 1\n': (set(), False),
}


@pytest.mark.parametrize("text", list(ALL_FORMS))
def test_all_forms(tmp_path, text):
    write(tmp_path, {"m.py": text})
    ws = WorkspaceIndex([str(tmp_path)])
    sure, exact = ALL_FORMS[text]
    got = ws.exports(str(tmp_path / "m.py"))
    assert (set(got) if got is not None else None, ws.exports_exact(str(tmp_path / "m.py"))) == (sure, exact)


def test_all_of_other_modules(tmp_path):
    write(
        tmp_path,
        {
            "a.py": '__all__ = ["A"]\n__all__ += ["B"]\n',
            "b.py": '__all__ = ["C"] + _extra()\n',
            "uses_alias.py": 'from a import __all__ as _a\n\n__all__ = ["Z"] + _a\n',
            "uses_module.py": 'import a\nimport b\n\n__all__ = a.__all__ + b.__all__\n',
            "imports_all.py": 'from a import __all__\n\n__all__ += ["Z"]\n',
            "cycle.py": 'import cycle2\n\n__all__ = ["P"] + cycle2.__all__\n',
            "cycle2.py": 'import cycle\n\n__all__ = ["Q"] + cycle.__all__\n',
            "pkg/__init__.py": "from .layers import *\nfrom .model import *\n\n__all__ = layers.__all__ + model.__all__\n",
            "pkg/layers.py": '__all__ = ["L"]\n',
            "pkg/model.py": '__all__ = ("M",)\n',
        },
    )
    ws = WorkspaceIndex([str(tmp_path)])

    def of(rel):
        p = str(tmp_path / rel)
        return set(ws.exports(p) or ()), ws.exports_exact(p)

    assert of("uses_alias.py") == ({"A", "B", "Z"}, True)
    assert of("uses_module.py") == ({"A", "B", "C"}, False)
    assert of("imports_all.py") == ({"A", "B", "Z"}, True)
    assert of("pkg/__init__.py") == ({"L", "M"}, True)
    assert of("cycle.py")[1] is False and "P" in of("cycle.py")[0]  # a cycle is read as far as it goes, never more


# -- renamed clashes -----------------------------------------------------------------------------------------
def test_clash_renames_the_copied_name_in_the_tree_only(projects):
    root = projects / "clash_own_class_and_constant"
    ws = WorkspaceIndex([str(root)])
    text = (root / "train.py").read_text()
    linked = ws.link(str(root / "train.py"), text)
    assert linked is not None
    # model.py's Block and HIDDEN are train.py's names for something else: qualified by their module in the program
    assert linked.renames == {str(root / "model.py"): {"Block": "model.Block", "HIDDEN": "model.HIDDEN"}}
    own = text.splitlines()
    prog = linked.text.splitlines()
    assert [i for i, (a, b) in enumerate(zip(own, prog)) if a != b] == [2]  # only the import line (now ``pass``)
    model_lines = (root / "model.py").read_text().splitlines()
    assert all(prog[linked.own_lines + i] == model_lines[ln - 1] for i, (_, ln) in enumerate(linked.origin))  # copied as is
    tree = linked.program_tree(ast.parse(text))
    classes = {st.name: st for st in tree.body if isinstance(st, ast.ClassDef)}
    assert {"Block", "model.Block", "Net"} <= set(classes)
    used = {n.id for n in ast.walk(classes["Net"]) if isinstance(n, ast.Name)}
    assert {"model.Block", "model.HIDDEN"} <= used and not {"Block", "HIDDEN"} & used
    main = next(st for st in tree.body if isinstance(st, ast.FunctionDef) and st.name == "main")
    assert "model.Block" not in {n.id for n in ast.walk(main) if isinstance(n, ast.Name)}
    # the finding lands in model.py, on the line of Block's raw tensor
    a = analyze(text, str(root / "train.py"), workspace=ws)
    got = {(os.path.relpath(p, root), f.start.line, f.code) for p, fs in a.foreign.items() for f in fs if f.severity.name.lower() in ("error", "warning")}
    assert got == {("model.py", line_of(root, "model.py", BLOCK_RAW), "GG301")}


def test_clash_through_an_import_renames_in_both_files(projects):
    root = projects / "clash_through_copied_import"
    ws = WorkspaceIndex([str(root)])
    linked = ws.link(str(root / "train.py"), (root / "train.py").read_text())
    assert linked.renames == {str(root / "model.py"): {"Block": "layers.Block", "HIDDEN": "layers.HIDDEN"}, str(root / "layers.py"): {"Block": "layers.Block", "HIDDEN": "layers.HIDDEN"}}
