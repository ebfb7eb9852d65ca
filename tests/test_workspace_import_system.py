"""Facts of Python's import system the workspace linker (core/workspace.py) follows, each with a multi-file project:
a legacy autograd Function called as an instance in another file than its class (the finding on the call, the line
torch raises on and every fix changes); a copied definition's ``import x`` / ``import a.b`` whose name the
analyzed file binds to something else (the module gets another program name instead of refusing the link); ``from
. import b`` inside a namespace package (its portions on every search root); a compiled extension next to the
``.py`` of the same name (the extension is what ``import`` loads); two star imports in an ``__init__`` binding one
name (the last wins, ``__all__`` honored).

Each project is written to tmp_path and run under CPU torch first (one interpreter, each project forked from it with
its own cwd and ``sys.path``: the project directory, then ``src/``): a bug project really loses the watched weight's
gradient (or raises), a clean look-alike really trains it. Then ``gradguard check`` (the CLI, JSON output) must
report the bug in the file and on the line where the code has to change, and nothing (no error or warning) on the
look-alikes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gradguard.core.workspace import WorkspaceIndex
from test_workspace_imports import line_of, write  # the same fixture helpers
from test_workspace_namespace import train  # the same training script

ENC = "model.encoder.weight"

# -- 1. an autograd Function called as an instance, in another file than its class --------------------------------
GRL_LEGACY = """\
from torch.autograd import Function


class GradReverse(Function):
    def __init__(self, lambd=1.0):
        super().__init__()
        self.lambd = lambd

    def forward(self, x):
        return x.view_as(x)

    def backward(self, grad_output):
        return grad_output.neg() * self.lambd
"""
GRL_STATIC = """\
from torch.autograd import Function


class GradReverse(Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg()
"""
DANN = """\
import torch.nn as nn

from utils.grl import GradReverse


class DANN(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 16)
        self.head = nn.Linear(16, 2)
        self.domain = nn.Linear(16, 2)

    def forward(self, x):
        f = self.encoder(x)
        return self.head(f) + self.domain({call})
"""
CALL_LEGACY = "GradReverse(0.5)(f)"
CALL_INSTANCE = "GradReverse()(f)"
CALL_APPLY = "GradReverse.apply(f)"

# -- 2. a copied definition's module import, under a name the analyzed file binds to something else --------------
CONFIG_MODEL = """\
import numpy as np
import torch
import torch.nn as nn

import config
import utils.init


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, config.HIDDEN)
        self.head = nn.Linear(config.HIDDEN, 2)

    def forward(self, x):
        h = torch.relu(self.encoder(x)).detach()
        return self.head(utils.init.scale(h))
"""
DETACH = "h = torch.relu(self.encoder(x)).detach()"
CONFIG_MODEL_CLEAN = CONFIG_MODEL.replace(DETACH, "h = torch.relu(self.encoder(x))")
# the same Net, its features through NumPy (``np`` of model.py is numpy; train.py's ``np`` is a process count)
NUMPY_MODEL = CONFIG_MODEL.replace(DETACH, "h = torch.from_numpy(np.tanh(self.encoder(x).detach().numpy()))")
NUMPY_CUT = "np.tanh(self.encoder(x).detach().numpy())"
CONFIG_FILES = {"config.py": "HIDDEN = 16\n", "utils/__init__.py": "", "utils/init.py": "def scale(x):\n    return x * 1.0\n"}
OWN_NAMES = """
config = {"lr": 0.1}  # train.py's own config, not the module
utils = None
np = 4  # processes
"""

# -- 3. ``from . import b`` in a namespace package: every portion of the package ------------------------------------
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
NS_MODEL = """\
import torch.nn as nn

{imports}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = {ctor}

    def forward(self, x):
        return self.fc(x)
"""
FC_W = "model.fc.weight"

# -- 4. a compiled extension next to the ``.py`` of the same name: ``import`` loads the extension --------------------
# built by ``build_extension`` (a C module that runs this source when imported): the layer done right, while
# layers.py beside it (never imported) keeps a raw tensor weight
EXTENSION_SOURCE = LAYER_CLEAN

# -- 5. two star imports binding one name: the last wins (``__all__`` honored) ---------------------------------------
HEAD_LAYERS = LAYER + """

class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = CustomLinear(8, 2)

    def forward(self, x):
        return self.fc(x)
{all}"""
HEAD_LAYERS_CLEAN = HEAD_LAYERS.replace(RAW, "self.weight = nn.Parameter(torch.randn(d_out, d_in) / d_in**0.5)")
STARS = {"models/bad.py": HEAD_LAYERS.format(all=""), "models/good.py": HEAD_LAYERS_CLEAN.format(all="")}


def stars(init: str, train_imports: str = "from models import Head", good_all: str = "") -> dict:
    return {
        **STARS,
        "models/good.py": HEAD_LAYERS_CLEAN.format(all=good_all),
        "models/__init__.py": init,
        "train.py": train(train_imports, "Head()", FC_W),
    }


# name -> (files, where the bug is as (file, needle, code) or None for a clean project, what torch does)
PROJECTS = {
    "function_legacy_instance_called_in_other_file": (
        {"utils/__init__.py": "", "utils/grl.py": GRL_LEGACY, "model.py": DANN.format(call=CALL_LEGACY), "train.py": train("from model import DANN", "DANN()", ENC)},
        ("model.py", CALL_LEGACY, "GG913"),
        "RAISES RuntimeError: Legacy autograd function with non-static forward method is deprecated",
    ),
    "function_static_but_instance_called_in_other_file": (
        {"utils/__init__.py": "", "utils/grl.py": GRL_STATIC, "model.py": DANN.format(call=CALL_INSTANCE), "train.py": train("from model import DANN", "DANN()", ENC)},
        ("model.py", CALL_INSTANCE, "GG913"),
        "RAISES RuntimeError: Legacy autograd function with non-static forward method is deprecated",
    ),
    "function_static_applied_clean": (
        {"utils/__init__.py": "", "utils/grl.py": GRL_STATIC, "model.py": DANN.format(call=CALL_APPLY), "train.py": train("from model import DANN", "DANN()", ENC)},
        None,
        "LEARNS True",
    ),
    "module_import_clashes_with_own_names": (
        {**CONFIG_FILES, "model.py": CONFIG_MODEL, "train.py": train("from model import Net", "Net()", ENC, OWN_NAMES)},
        ("model.py", DETACH, "GG201"),
        "LEARNS False",
    ),
    "outside_import_clashes_with_own_name": (
        {**CONFIG_FILES, "model.py": NUMPY_MODEL, "train.py": train("from model import Net", "Net()", ENC, OWN_NAMES)},
        ("model.py", NUMPY_CUT, "GG202"),
        "LEARNS False",
    ),
    "module_import_clashes_with_own_names_clean": (
        {**CONFIG_FILES, "model.py": CONFIG_MODEL_CLEAN, "train.py": train("from model import Net", "Net()", ENC, OWN_NAMES)},
        None,
        "LEARNS True",
    ),
    "ns_relative_import_finds_portion_in_src": (  # ns/ at the root and src/ns/ are one package ns
        {"ns/model.py": NS_MODEL.format(imports="from . import layers", ctor="layers.CustomLinear(8, 2)"), "src/ns/layers.py": LAYER, "train.py": train("from ns.model import Net", "Net()", FC_W)},
        ("src/ns/layers.py", RAW, "GG301"),
        "LEARNS False",
    ),
    "ns_relative_from_module_in_other_portion": (  # the other way round: src/ns/model.py, ns/layers.py at the root
        {"src/ns/model.py": NS_MODEL.format(imports="from .layers import CustomLinear", ctor="CustomLinear(8, 2)"), "ns/layers.py": LAYER, "train.py": train("from ns.model import Net", "Net()", FC_W)},
        ("ns/layers.py", RAW, "GG301"),
        "LEARNS False",
    ),
    "ns_nested_relative_parent_portion": (  # ``from .. import layers`` in ns/sub/model.py: layers is src/ns/layers.py
        {"ns/sub/model.py": NS_MODEL.format(imports="from .. import layers", ctor="layers.CustomLinear(8, 2)"), "src/ns/layers.py": LAYER, "train.py": train("from ns.sub.model import Net", "Net()", FC_W)},
        ("src/ns/layers.py", RAW, "GG301"),
        "LEARNS False",
    ),
    "ns_relative_import_clean": (
        {"ns/model.py": NS_MODEL.format(imports="from . import layers", ctor="layers.CustomLinear(8, 2)"), "src/ns/layers.py": LAYER_CLEAN, "train.py": train("from ns.model import Net", "Net()", FC_W)},
        None,
        "LEARNS True",
    ),
    "extension_shadows_py_clean": (  # layers.cpython-*.so (built in the fixture) is what ``from layers import`` loads
        {"layers.py": LAYER, "model.py": NS_MODEL.format(imports="from layers import CustomLinear", ctor="CustomLinear(8, 2)"), "train.py": train("from model import Net", "Net()", FC_W)},
        None,
        "LEARNS True",
    ),
    "extension_of_another_name_does_not_shadow": (  # fastops.so is not layers: layers.py is imported
        {"layers.py": LAYER, "model.py": NS_MODEL.format(imports="from layers import CustomLinear", ctor="CustomLinear(8, 2)"), "train.py": train("from model import Net", "Net()", FC_W)},
        ("layers.py", RAW, "GG301"),
        "LEARNS False",
    ),
    "init_two_stars_last_wins": (stars("from .good import *\nfrom .bad import *\n"), ("models/bad.py", RAW, "GG301"), "LEARNS False"),
    "init_two_stars_last_wins_clean": (stars("from .bad import *\nfrom .good import *\n"), None, "LEARNS True"),
    "init_last_star_all_leaves_name_out": (  # good's __all__ has no Head: bad's Head stands
        stars("from .bad import *\nfrom .good import *\n", good_all='\n__all__ = ["CustomLinear"]\n'),
        ("models/bad.py", RAW, "GG301"),
        "LEARNS False",
    ),
    "init_star_after_explicit_import_clean": (stars("from .bad import Head\nfrom .good import *\n"), None, "LEARNS True"),
    "init_definition_after_star_clean": (  # the __init__'s own Head, after the star import, is the one bound
        stars("from .bad import *\n\n\n" + HEAD_LAYERS_CLEAN.format(all="")),
        None,
        "LEARNS True",
    ),
    "train_two_stars_last_wins": (stars("", "from models.good import *\nfrom models.bad import *"), ("models/bad.py", RAW, "GG301"), "LEARNS False"),
    "train_star_after_explicit_import_clean": (stars("", "from models.bad import Head\nfrom models.good import *"), None, "LEARNS True"),
}
# project -> (module name, Python source) of the extension built into it
EXTENSIONS = {"extension_shadows_py_clean": ("layers", EXTENSION_SOURCE), "extension_of_another_name_does_not_shadow": ("fastops", "VERSION = 1\n")}

C_MODULE = """\
#define PY_SSIZE_T_CLEAN
#include <Python.h>
static const char *SOURCE = %s;
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "%s", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_%s(void) {
    PyObject *m = PyModule_Create(&def);
    if (m == NULL) return NULL;
    PyObject *d = PyModule_GetDict(m);
    PyDict_SetItemString(d, "__builtins__", PyEval_GetBuiltins());
    PyObject *r = PyRun_String(SOURCE, Py_file_input, d, d);
    if (r == NULL) { Py_DECREF(m); return NULL; }
    Py_DECREF(r);
    return m;
}
"""


def build_extension(directory, name: str, source: str):
    """A compiled extension module ``name`` in ``directory`` (this interpreter's suffix) that runs ``source`` when
    imported; its path, or None without a C compiler."""
    import shutil
    import sysconfig

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    c = os.path.join(str(directory), f"_{name}_ext.c")
    with open(c, "w") as f:
        f.write(C_MODULE % (json.dumps(source), name, name))
    out = os.path.join(str(directory), name + sysconfig.get_config_var("EXT_SUFFIX"))
    p = subprocess.run([cc, "-shared", "-fPIC", "-O0", "-I", sysconfig.get_paths()["include"], "-o", out, c], capture_output=True, text=True)
    os.remove(c)
    return out if p.returncode == 0 else None

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
        except Exception as e:
            print("RAISES", type(e).__name__ + ": " + str(e).split(". ")[0].splitlines()[0])
        finally:
            sys.stdout.flush()
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
    root = tmp_path_factory.mktemp("importsystem")
    for name, (files, _, _) in PROJECTS.items():
        write(root / name, files)
        if name in EXTENSIONS and build_extension(root / name, *EXTENSIONS[name]) is None:
            (root / name / "NO_COMPILER").write_text("")
    return root


@pytest.fixture(scope="module")
def results(projects):
    """(what each project does under torch, {project: CLI findings}): every process started at once."""
    pytest.importorskip("torch")
    truth = subprocess.Popen([sys.executable, "-c", RUNNER, *(str(projects / n) for n in PROJECTS)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs = {}
    for name in PROJECTS:
        cmd = [sys.executable, "-m", "gradguard", "check", "--no-cache", "--output-format", "json", "."]
        runs[name] = subprocess.Popen(cmd, cwd=projects / name, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out: dict = {}
    for name, p in runs.items():
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode in (0, 1), stderr
        out[name] = findings(stdout)
    stdout, stderr = truth.communicate(timeout=600)
    assert truth.returncode == 0, stderr
    return json.loads(stdout.strip().splitlines()[-1]), out


@pytest.mark.parametrize("name", list(PROJECTS))
def test_project(name, projects, results):
    under_torch, checked = results
    root = projects / name
    if (root / "NO_COMPILER").exists():
        pytest.skip("no C compiler to build the extension module")
    _, bug, truth = PROJECTS[name]
    assert under_torch[name] == truth  # ground truth: the bug project raises or loses the gradient, the look-alike trains
    want = set() if bug is None else {(os.path.normpath(bug[0]), line_of(root, bug[0], bug[1]), bug[2])}
    assert checked[name] == want


def test_function_instance_call_names_the_methods_as_related(projects):
    """The call in model.py is the finding; the non-static methods in utils/grl.py are its related information."""
    from gradguard.analyze import analyze

    root = projects / "function_legacy_instance_called_in_other_file"
    ws = WorkspaceIndex([str(root)])
    a = analyze((root / "train.py").read_text(), str(root / "train.py"), workspace=ws)
    [f] = [f for f in a.foreign.get(str(root / "model.py"), []) if f.code == "GG913"]
    assert f.start.line == line_of(root, "model.py", CALL_LEGACY)
    grl = str(root / "utils" / "grl.py")
    assert {(r.path, r.start.line) for r in f.related} == {(grl, line_of(root, "utils/grl.py", "def forward")), (grl, line_of(root, "utils/grl.py", "def backward"))}


def test_module_import_clash_binds_another_name_in_the_tree_only(projects):
    """model.py's ``import config`` / ``import utils.init`` / ``import numpy as np`` while train.py has a ``config``,
    ``utils`` and ``np`` of its own: the link happens, the copied import lines bind ``model.config``,
    ``model.utils`` (the package ``import utils.init`` binds) and ``model.np``, and model.py's uses follow; train.py's
    names keep their meaning. No line's text changes."""
    import ast

    root = projects / "outside_import_clashes_with_own_name"
    ws = WorkspaceIndex([str(root)])
    text = (root / "train.py").read_text()
    linked = ws.link(str(root / "train.py"), text)
    assert linked is not None
    model = str(root / "model.py")
    assert linked.rebound == {model: frozenset({"config", "utils", "np"})}
    assert {k: v for k, v in linked.renames[model].items() if k in ("config", "utils", "np")} == {"config": "model.config", "utils": "model.utils", "np": "model.np"}
    prog = linked.text.splitlines()
    assert all(prog[linked.own_lines + i] == open(p).read().splitlines()[ln - 1] for i, (p, ln) in enumerate(linked.origin))  # copied as is
    tree = linked.program_tree(ast.parse(text))
    bound = {(a.name, a.asname) for st in tree.body if isinstance(st, ast.Import) for a in st.names}
    assert {("config", "model.config"), ("utils", "model.utils"), ("numpy", "model.np")} <= bound
    net = next(st for st in tree.body if isinstance(st, ast.ClassDef) and st.name == "Net")
    assert "model.np" in {n.id for n in ast.walk(net) if isinstance(n, ast.Name)}
    main = next(st for st in tree.body if isinstance(st, ast.FunctionDef) and st.name == "main")
    assert "model.config" not in {n.id for n in ast.walk(main) if isinstance(n, ast.Name)}


def test_relative_import_in_namespace_package_sees_every_portion(tmp_path):
    write(tmp_path, {"ns/a.py": "", "src/ns/b.py": "", "ns/sub/c.py": "", "reg/__init__.py": "", "reg/x.py": "", "src/reg/y.py": "", "ns/own.py": "", "src/ns/own.py": ""})
    ws = WorkspaceIndex([str(tmp_path)])

    def at(module, from_path, level=1):
        got = ws.module_file(module, str(tmp_path / from_path), level)
        return os.path.relpath(got, tmp_path) if got else None

    assert at("b", "ns/a.py") == os.path.join("src", "ns", "b.py")  # from . import b
    assert at("a", "src/ns/b.py") == os.path.join("ns", "a.py")
    assert at("b", "ns/sub/c.py", 2) == os.path.join("src", "ns", "b.py")  # from .. import b
    assert at("own", "src/ns/b.py") == os.path.join("ns", "own.py")  # the first portion on the path wins, as for ``import ns.own``
    assert at("y", "reg/x.py") is None  # a regular package's __path__ is its own directory


def test_compiled_extension_shadows_source_as_importlib_orders_suffixes(tmp_path):
    files = {
        "a.py": "", "a.cpython-312-x86_64-linux-gnu.so": "",  # extension suffixes before .py (any interpreter's tag)
        "b.py": "", "b.so": "",
        "c.py": "", "c.abi3.so": "",
        "d.py": "", "d.cp312-win_amd64.pyd": "",
        "e.py": "", "e.pyd": "",
        "f.py": "", "libf.so.1": "", "f_helpers.so": "",  # other names: f is f.py
        "g/__init__.py": "", "g.so": "",  # a package before a module of the same name, extension or not
        "h/x.py": "", "h.so": "",  # a module (here an extension) before a namespace portion
        "k/__init__.cpython-312-x86_64-linux-gnu.so": "", "k/__init__.py": "", "k/sub.py": "",  # a compiled package
        "ns/m.py": "", "ns/m.so": "", "ns/own.py": "",
    }
    write(tmp_path, files)
    ws = WorkspaceIndex([str(tmp_path)])

    def at(module, from_path=None, level=0):
        got = ws.module_file(module, str(tmp_path / from_path) if from_path else None, level)
        return os.path.relpath(got, tmp_path) if got else None

    for m in "abcde":
        assert at(m) is None, m  # the extension: opaque, nothing read
    assert ws._spec(("a",))[0] == str(tmp_path / "a.cpython-312-x86_64-linux-gnu.so")
    assert at("f") == "f.py"
    assert at("g") == os.path.join("g", "__init__.py")
    assert at("h") is None and at("h.x") is None
    assert at("k") is None and at("k.sub") == os.path.join("k", "sub.py")
    assert at("ns.m") is None and at("m", "ns/own.py", 1) is None and at("own", "ns/m.py", 1) == os.path.join("ns", "own.py")
    # an extension built later is seen once the index is told (the server watches *.so / *.pyd)
    write(tmp_path, {"f.so": ""})
    ws.invalidate(str(tmp_path / "f.so"))
    assert at("f") is None


def test_last_binding_of_a_name_wins(tmp_path):
    write(
        tmp_path,
        {
            "a.py": "class X:\n    pass\n\n\nclass Y:\n    pass\n",
            "b.py": '__all__ = ["Y"]\n\n\nclass X:\n    pass\n\n\nclass Y:\n    pass\n',
            "c.py": "import torch as X\n",
            "two.py": "from a import *\nfrom b import *\n",  # b exports Y only: X is a's, Y is b's
            "def_then_star.py": "class X:\n    pass\n\n\nfrom a import *\n",
            "star_then_def.py": "from a import *\n\n\nclass X:\n    pass\n",
            "star_outside.py": "from a import *\nfrom c import *\n",  # c binds X to torch: not a's X any more
            "explicit_then_star.py": "from b import X\nfrom a import *\n",
        },
    )
    ws = WorkspaceIndex([str(tmp_path)])

    def where(mod, name):
        got = ws.find(str(tmp_path / mod), name)
        return (os.path.basename(got[0]), got[1].start) if got else None

    assert where("two.py", "X") == ("a.py", 1) and where("two.py", "Y") == ("b.py", 8)
    assert where("def_then_star.py", "X") == ("a.py", 1)
    assert where("star_then_def.py", "X") == ("star_then_def.py", 4)
    assert where("star_outside.py", "X") is None and where("star_outside.py", "Y") == ("a.py", 5)
    assert where("explicit_then_star.py", "X") == ("a.py", 1)
