"""Import shapes the workspace links (core/workspace.py): aliased names (``from m import Net as Model``), module
aliases and dotted module use (``import models.net as mn`` / ``from models import net`` / ``import models.net``,
and a base class written ``mb.Base``), star imports (``__all__`` honored, else the public names), and name clashes
that must not be linked (two imports of one name, a local definition shadowing an import) or must link the last
binding (two star imports: the second's definition, clean here).

Each project is written to tmp_path and run under CPU torch first (one interpreter, each project forked from it
with its own cwd and sys.path): a bug project really loses the gradient, a clean look-alike really trains. Then
gradguard must report the bug in the file and on the line where the code has to change, through
``analyze(..., workspace=...)`` and through ``gradguard check DIR``, and stay quiet (no error or warning) on the
look-alikes and clashes. Alone (``--no-workspace``) none of the bugs is visible: the evidence spans files.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gradguard.analyze import analyze
from gradguard.core.workspace import WorkspaceIndex

NET = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 16)
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        h = torch.relu(self.encoder(x)).detach()
        return self.head(h)
"""
NET_CLEAN = NET.replace(".detach()", "")

LAYERS = """\
import math

import torch
import torch.nn as nn
{all}

class CustomLinear(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.weight = torch.randn(d_out, d_in) / math.sqrt(d_in)
        self.bias = nn.Parameter(torch.zeros(d_out))

    def forward(self, x):
        return x @ self.weight.t() + self.bias


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = CustomLinear(8, 2)

    def forward(self, x):
        return self.fc(x)


def _private_helper():
    return 0
"""
LAYERS_CLEAN = LAYERS.replace("self.weight = torch.randn(d_out, d_in) / math.sqrt(d_in)", "self.weight = nn.Parameter(torch.randn(d_out, d_in) / math.sqrt(d_in))")

BASE = """\
import torch.nn as nn


class Base(nn.Module):
    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.out(x)
"""
MB_NET = """\
import torch.nn as nn

import models.base as mb


class Net(mb.Base):
    def __init__(self):
        super().__init__()
        self.layers = [nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2)]
        self.out = nn.Linear(2, 2)
"""
MB_NET_CLEAN = MB_NET.replace("self.layers = [nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2)]", "self.layers = nn.ModuleList([nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2)])")

# raw tensor weight reached through an alias inside the copied code (model.py imports the layer as ``Dense``)
ALIAS_MODEL = """\
import torch
import torch.nn as nn

from layers import CustomLinear as Dense


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 8)
        self.head = Dense(8, 2)

    def forward(self, x):
        return self.head(torch.relu(self.encoder(x)))
"""

TRAIN = """\
import torch
import torch.nn as nn
{imports}


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


def train(imports: str, ctor: str, watched: str) -> str:
    """A training script; it prints whether ``watched`` (an expression on ``model``) got a gradient and changed."""
    return TRAIN.format(imports=imports, ctor=ctor, watched=watched)


ENC = "model.encoder.weight"
LOCAL_NET = """

class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 16)
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        return self.head(torch.relu(self.encoder(x)))
"""
SUBCLASS = """

class Net(mn.Net):
    def forward(self, x):
        return self.head(torch.relu(self.encoder(x)))
"""

# name -> (files, where the bug is as (file, needle, code) or None for a clean project)
PROJECTS = {
    # 1. aliased names
    "alias_detach": ({"models/__init__.py": "", "models/net.py": NET, "train.py": train("from models.net import Net as Model", "Model()", ENC)}, ("models/net.py", ".detach()", "GG201")),
    "alias_raw_tensor_in_copied_alias": (
        {"layers.py": LAYERS.format(all=""), "model.py": ALIAS_MODEL, "train.py": train("from model import Net as Classifier", "Classifier()", "model.head.weight")},
        ("layers.py", "self.weight = torch.randn(", "GG301"),
    ),
    "alias_clean": ({"models/__init__.py": "", "models/net.py": NET_CLEAN, "train.py": train("from models.net import Net as Model", "Model()", ENC)}, None),
    # 2. module aliases and dotted module use
    "module_alias_detach": ({"models/__init__.py": "", "models/net.py": NET, "train.py": train("import models.net as mn", "mn.Net()", ENC)}, ("models/net.py", ".detach()", "GG201")),
    "from_package_import_module_detach": ({"models/__init__.py": "", "models/net.py": NET, "train.py": train("from models import net", "net.Net()", ENC)}, ("models/net.py", ".detach()", "GG201")),
    "dotted_module_namespace_package_detach": ({"models/net.py": NET, "train.py": train("import models.net", "models.net.Net()", ENC)}, ("models/net.py", ".detach()", "GG201")),
    "module_alias_base_class_plain_list": (
        {"models/__init__.py": "", "models/base.py": BASE, "models/net.py": MB_NET, "train.py": train("from models.net import Net", "Net()", "model.layers[0].weight")},
        ("models/net.py", "self.layers = [", "GG302"),
    ),
    "module_alias_beside_own_class_of_that_name_detach": (  # train.py's own Net is another class: mn.Net keeps its dotted name
        {"models/__init__.py": "", "models/net.py": NET, "train.py": train("import models.net as mn", "mn.Net()", ENC).replace("\n\ndef main", LOCAL_NET.replace("class Model(", "class Net(") + "\n\ndef main", 1)},
        ("models/net.py", ".detach()", "GG201"),
    ),
    "module_alias_clean": ({"models/__init__.py": "", "models/net.py": NET_CLEAN, "train.py": train("import models.net as mn", "mn.Net()", ENC)}, None),
    "module_alias_base_class_modulelist_clean": (
        {"models/__init__.py": "", "models/base.py": BASE, "models/net.py": MB_NET_CLEAN, "train.py": train("from models import net", "net.Net()", "model.layers[0].weight")},
        None,
    ),
    # 3. star imports
    "star_with_all_raw_tensor": (
        {"models/__init__.py": "", "models/layers.py": LAYERS.format(all='\n__all__ = ["CustomLinear", "Head"]\n'), "train.py": train("from models.layers import *", "Head()", "model.fc.weight")},
        ("models/layers.py", "self.weight = torch.randn(", "GG301"),
    ),
    "star_public_names_raw_tensor": (
        {"models/__init__.py": "", "models/layers.py": LAYERS.format(all=""), "train.py": train("from models.layers import *", "Head()", "model.fc.weight")},
        ("models/layers.py", "self.weight = torch.randn(", "GG301"),
    ),
    "star_clean": ({"models/__init__.py": "", "models/layers.py": LAYERS_CLEAN.format(all=""), "train.py": train("from models.layers import *", "Head()", "model.fc.weight")}, None),
    # 4. clashes: linking would be wrong (Python uses another definition than the first import's)
    "clash_same_name_imported_twice": (
        {"models/__init__.py": "", "models/bad.py": NET, "models/good.py": NET_CLEAN, "train.py": train("from models.bad import Net\nfrom models.good import Net", "Net()", ENC)},
        None,
    ),
    "clash_local_class_shadows_alias": ({"models/__init__.py": "", "models/net.py": NET, "train.py": train("from models.net import Net as Model", "Model()", ENC) .replace("\n\ndef main", LOCAL_NET + "\n\ndef main", 1)}, None),
    "clash_explicit_import_after_star": (
        {"models/__init__.py": "", "models/layers.py": LAYERS.format(all=""), "models/clean.py": LAYERS_CLEAN.format(all=""), "train.py": train("from models.layers import *\nfrom models.clean import Head", "Head()", "model.fc.weight")},
        None,
    ),
    "clash_two_star_imports": (  # the last star import's Net (good) is the one bound
        {"models/__init__.py": "", "models/bad.py": NET, "models/good.py": NET_CLEAN, "train.py": train("from models.bad import *\nfrom models.good import *", "Net()", ENC)},
        None,
    ),
    "clash_local_subclass_of_module_alias": (
        {"models/__init__.py": "", "models/net.py": NET, "train.py": train("import models.net as mn", "Net()", ENC).replace("\n\ndef main", SUBCLASS + "\n\ndef main", 1)},
        None,
    ),
}

RUNNER = r"""
import json, os, runpy, sys
import torch  # once; every project is forked from here
out = {}
for d in sys.argv[1:]:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.chdir(d)
        sys.path.insert(0, d)
        fd = os.dup(1)
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


def write(root, files: dict) -> None:
    for rel, text in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)


def line_of(root, rel: str, needle: str) -> int:
    lines = open(os.path.join(root, rel)).read().splitlines()
    [n] = [i + 1 for i, ln in enumerate(lines) if needle in ln]
    return n


def cli(root, *args) -> set:
    p = subprocess.run([sys.executable, "-m", "gradguard", "check", "--no-cache", "--output-format", "json", *args, "."], capture_output=True, text=True, cwd=root, timeout=300)
    assert p.returncode in (0, 1), p.stderr
    return {(os.path.normpath(f["filename"]), f["location"]["row"], f["code"]) for f in json.loads(p.stdout) if f["severity"] in ("error", "warning")}


def in_process(root) -> set:
    """Every file of the project analyzed with one workspace (as the CLI does): errors and warnings, own and foreign."""
    ws = WorkspaceIndex([str(root)])
    out = set()
    for path in ws.files():
        text = open(path).read()
        a = analyze(text, path, workspace=ws)
        for p, fs in [(path, a.findings), *a.foreign.items()]:
            for f in fs:
                if f.severity.name.lower() in ("error", "warning"):
                    out.add((os.path.relpath(p, root), f.start.line, f.code))
    return out


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    root = tmp_path_factory.mktemp("imports")
    for name, (files, _) in PROJECTS.items():
        write(root / name, files)
    return root


@pytest.fixture(scope="module")
def under_torch(projects):
    pytest.importorskip("torch")
    p = subprocess.run([sys.executable, "-c", RUNNER, *(str(projects / n) for n in PROJECTS)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", list(PROJECTS))
def test_project(name, projects, under_torch):
    root = projects / name
    _, bug = PROJECTS[name]
    # ground truth: the bug project loses the gradient of the watched weight, the look-alike trains it
    assert under_torch[name] == ("LEARNS False" if bug else "LEARNS True"), under_torch[name]
    want = set() if bug is None else {(bug[0], line_of(root, bug[0], bug[1]), bug[2])}
    assert in_process(root) == want
    assert cli(root) == want
    if bug is not None:
        assert cli(root, "--no-workspace") == set()  # alone, no file shows it: the evidence spans files


# -- the linker: what the program is made of ----------------------------------------------------------------
def test_alias_copies_the_definition_under_the_name_the_file_binds(projects):
    root = projects / "alias_raw_tensor_in_copied_alias"
    ws = WorkspaceIndex([str(root)])
    text = (root / "train.py").read_text()
    linked = ws.link(str(root / "train.py"), text)
    # train.py's `Classifier` is model.py's Net (copied under the name train.py binds); model.py's `Dense` is
    # layers.py's CustomLinear (an alias inside copied code: linked, when it fits, under the definition's own name)
    assert linked.renames == {str(root / "model.py"): {"Net": "Classifier", "Dense": "CustomLinear"}}
    own = text.splitlines()
    prog = linked.text.splitlines()
    assert linked.own_lines == len(own) and [i for i, (a, b) in enumerate(zip(own, prog)) if a != b] == [2]  # only the import line
    tree = linked.program_tree(__import__("ast").parse(text))
    names = {getattr(st, "name", None) for st in tree.body}
    assert {"Classifier", "CustomLinear", "main"} <= names and not {"Net", "Dense"} & names


def test_module_alias_keeps_the_import_and_rewrites_only_the_tree(projects):
    import ast

    root = projects / "module_alias_detach"
    ws = WorkspaceIndex([str(root)])
    text = (root / "train.py").read_text()
    linked = ws.link(str(root / "train.py"), text)
    assert linked.chains == {"mn.Net": "Net"} and linked.changed_lines == frozenset()
    assert linked.text.splitlines()[: linked.own_lines] == text.splitlines()  # not one own line changes
    tree = linked.program_tree(ast.parse(text))
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "Net")
    line = line_of(root, "train.py", "mn.Net()")
    col = text.splitlines()[line - 1].index("mn.Net")
    assert (call.func.lineno, call.func.col_offset, call.func.end_col_offset) == (line, col, col + len("mn.Net"))  # the chain's place


def test_module_alias_under_its_dotted_name_when_the_file_has_its_own(projects):
    root = projects / "clash_local_subclass_of_module_alias"
    ws = WorkspaceIndex([str(root)])
    linked = ws.link(str(root / "train.py"), (root / "train.py").read_text())
    assert linked.chains == {"mn.Net": "mn.Net"} and linked.renames == {str(root / "models" / "net.py"): {"Net": "mn.Net"}}


def test_module_name_rebound_in_a_function_is_not_rewritten(tmp_path):
    write(tmp_path, {"models/__init__.py": "", "models/net.py": NET, "train.py": train("import models.net as mn", "mn.Net()", ENC) + "\n\ndef other(mn):\n    return mn.Net()\n"})
    ws = WorkspaceIndex([str(tmp_path)])
    assert ws.link(str(tmp_path / "train.py"), (tmp_path / "train.py").read_text()) is None


def test_star_import_honors_all(tmp_path):
    layers = LAYERS.format(all='\n__all__ = ["CustomLinear"]\n')  # Head is not exported
    write(tmp_path, {"layers.py": layers, "train.py": train("from layers import *", "Head()", "model.fc.weight")})
    ws = WorkspaceIndex([str(tmp_path)])
    assert ws.exports(str(tmp_path / "layers.py")) == frozenset({"CustomLinear"})
    assert ws.link(str(tmp_path / "train.py"), (tmp_path / "train.py").read_text()) is None  # Head() is not layers.Head
    assert not ws.exports_name(str(tmp_path / "layers.py"), "Head")
    write(tmp_path, {"layers.py": LAYERS.format(all="")})
    ws.invalidate()
    assert ws.exports_name(str(tmp_path / "layers.py"), "Head") and not ws.exports_name(str(tmp_path / "layers.py"), "_private_helper")


def test_star_import_brings_the_modules_outside_imports(tmp_path):
    """``nn`` through ``from layers import *`` (layers.py's ``import torch.nn as nn``): its line is copied, so
    ``nn.Linear`` is a torch layer in the program."""
    user = "import torch\nfrom layers import *\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.blocks = [nn.Linear(4, 4), nn.Linear(4, 4)]\n\n    def forward(self, x):\n        for b in self.blocks:\n            x = b(x)\n        return x\n\n\nnet = Net()\nopt = torch.optim.SGD(net.parameters(), lr=0.1)\n"
    write(tmp_path, {"layers.py": LAYERS.format(all=""), "train.py": user})
    ws = WorkspaceIndex([str(tmp_path)])
    a = analyze(user, str(tmp_path / "train.py"), workspace=ws)
    assert [(f.code, f.start.line) for f in a.findings if f.severity.name.lower() in ("error", "warning")] == [("GG302", 8)]
    assert [f.code for f in analyze(user, str(tmp_path / "train.py")).findings if f.severity.name.lower() in ("error", "warning")] == []


def test_module_alias_inside_copied_code_is_linked(projects):
    """train.py imports Net; Net's base is written ``mb.Base`` in models/net.py: the base class comes along, so
    Net is a Module in train.py's program too."""
    root = projects / "module_alias_base_class_plain_list"
    ws = WorkspaceIndex([str(root)])
    linked = ws.link(str(root / "train.py"), (root / "train.py").read_text())
    assert linked.renames == {str(root / "models" / "net.py"): {"mb.Base": "Base"}}
    assert {os.path.relpath(p, root) for p, _ in linked.origin} == {os.path.join("models", "net.py"), os.path.join("models", "base.py")}


def test_same_definition_imported_twice_is_linked(tmp_path):
    """``try: from models.net import Net`` / ``except ImportError: from .models.net import Net``-like pairs, and one
    import per function, bind one definition: linked. Two different definitions under one name are not (above)."""
    user = train("try:\n    from models.net import Net\nexcept ImportError:\n    from models import Net", "Net()", ENC)
    write(tmp_path, {"models/__init__.py": "from .net import Net\n", "models/net.py": NET, "train.py": user})
    ws = WorkspaceIndex([str(tmp_path)])
    a = analyze(user, str(tmp_path / "train.py"), workspace=ws)
    assert [(os.path.relpath(p, tmp_path), f.code, f.start.line) for p, fs in a.foreign.items() for f in fs] == [(os.path.join("models", "net.py"), "GG201", 12)]


def test_name_the_file_defines_itself_is_not_linked(tmp_path):
    """``from models.net import Net`` and a ``class Net`` of the file's own: which one a use means depends on
    the order at run time, so the import is not linked (the file's definition stays the only ``Net``)."""
    own = "\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 4)\n\n    def forward(self, x):\n        return self.fc(x)\n"
    user = train("from models.net import Net", "Net()", ENC) + own
    write(tmp_path, {"models/__init__.py": "", "models/net.py": NET, "train.py": user})
    ws = WorkspaceIndex([str(tmp_path)])
    assert ws.link(str(tmp_path / "train.py"), user) is None
