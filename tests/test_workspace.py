"""The workspace: the index (files, imports resolved across files), the linker (one program of a file and the
definitions it imports), the CLI on multi-file projects (findings where the bug is, evidence as related
information, a cache that serves nothing stale, fixes applied across files and proven under torch) and bad
input (cycles, files that do not parse, environments and node_modules, symlink loops, bounds, deletions)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from gradguard.analyze import analyze, analyzed_inputs, program_inputs
from gradguard.config import Config
from gradguard.core.workspace import WorkspaceIndex

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MODEL = '''\
import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 16)

    def forward(self, x):
        return torch.relu(self.fc(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        h = self.encoder(x).detach()
        return self.head(h)
'''

TRAIN = '''\
import torch
from torch import nn

from model import Net


def train(model, loader, optimizer):
    crit = nn.CrossEntropyLoss()
    for x, y in loader:
        optimizer.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = [(torch.randn(4, 8), torch.randint(0, 2, (4,)))]
    train(model, loader, opt)
    return model


if __name__ == "__main__":
    m = main()
    print("GRADS", m.encoder.fc.weight.grad is not None and bool(m.encoder.fc.weight.grad.abs().sum() > 0), m.head.weight.grad is not None)
'''


def write(root, files: dict) -> None:
    for rel, text in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(textwrap.dedent(text) if text.startswith("\n") else text)


def check(root, *args, cwd=None):
    p = subprocess.run([sys.executable, "-m", "gradguard", "check", "--output-format", "json", *args, "."], capture_output=True, text=True, cwd=cwd or root, timeout=300)
    assert p.returncode in (0, 1), p.stderr
    return [(os.path.normpath(f["filename"]), f["location"]["row"], f["code"], f) for f in json.loads(p.stdout)]


def places(found):
    return sorted((os.path.basename(name), row, code) for name, row, code, _ in found)


# -- the linker -------------------------------------------------------------------------------------------
def test_detach_in_imported_forward_is_reported_in_model_file(tmp_path):
    write(tmp_path, {"model.py": MODEL, "train.py": TRAIN})
    ws = WorkspaceIndex([str(tmp_path)])
    train = str(tmp_path / "train.py")
    a = analyze(TRAIN, train, workspace=ws)
    assert a.findings == []
    [(path, [f])] = list(a.foreign.items())
    assert path == str(tmp_path / "model.py") and (f.code, f.start.line) == ("GG201", 21)
    assert "train.py:12" in f.message  # a line of another file is named with its file
    assert {(r.path, r.start.line) for r in f.related} >= {(train, 12)}
    assert a.depends_on.keys() == {str(tmp_path / "model.py")}
    # alone, neither file shows it: the evidence spans both
    assert [x.code for x in analyze(TRAIN, train).findings] == []
    assert [x.code for x in analyze(MODEL, str(tmp_path / "model.py")).findings] == []


def test_summary_does_not_depend_on_whether_the_file_was_analyzed_first(tmp_path):
    # a worker that analyzed model.py before linking train.py must build the same program as one that did not: the
    # index keeps one summary of a file, whoever asks first (findings came and went between parallel runs)
    import ast

    text = (
        'import torch\n\n\ndef first(x):\n    return x\n\n# ---\n"""\nA section note at column 0.\n'
        'import os\nclass NotAClass: pass\n"""\n\n\nclass Net(torch.nn.Module):\n\n    def forward(self, x):\n        return x\n'
    )
    write(tmp_path, {"model.py": text})
    path = str(tmp_path / "model.py")
    seen = WorkspaceIndex([str(tmp_path)])
    seen.trust_disk_texts = True
    seen.note(path, text, ast.parse(text))
    cold = WorkspaceIndex([str(tmp_path)])
    a, b = seen.summary(path), cold.summary(path)
    assert a is not None and b is not None
    assert {k: (d.start, d.end, d.bases) for k, d in a.defs.items()} == {k: (d.start, d.end, d.bases) for k, d in b.defs.items()}
    assert [(i.local, i.module) for i in a.imports] == [(i.local, i.module) for i in b.imports] == [("torch", "torch")]
    # (the lines of a string at column 0 are no statements: no class there, no import; the string itself stays in the span
    # of the definition before it, a harmless expression statement when that definition is copied)
    assert "NotAClass" not in b.defs and b.defs["Net"].start == 15


def test_own_lines_unchanged_and_copied_lines_mapped(tmp_path):
    write(tmp_path, {"model.py": MODEL, "train.py": TRAIN})
    ws = WorkspaceIndex([str(tmp_path)])
    linked = ws.link(str(tmp_path / "train.py"), TRAIN)
    own = TRAIN.splitlines()
    prog = linked.text.splitlines()
    assert linked.own_lines == len(own)
    assert prog[3] == "pass" and all(a == b for i, (a, b) in enumerate(zip(own, prog)) if i != 3)
    assert linked.locate(len(own) + 1) == (str(tmp_path / "model.py"), 1)  # `import torch`, used by the classes
    assert linked.changed_lines == frozenset({4})


def test_training_words_in_docstrings_and_comments_do_not_make_a_file_train(tmp_path):
    # a file that trains gets every imported definition; one that only mentions training in a docstring or a
    # comment (never run) gets what any other file gets: the bases of its classes and small definitions
    big = "def helper(x):\n" + "".join(f"    x = x + {i}\n" for i in range(60)) + "    return x\n"
    write(tmp_path, {"model.py": MODEL + "\n\n" + big})
    ws = WorkspaceIndex([str(tmp_path)])
    user = 'from model import Net, helper\n\n\ndef build():\n    """Use: `trainer.fit(model)`, then `loss.backward()`."""\n    # opt = torch.optim.SGD(params)\n    s = f"{1}#"  # p.grad\n    return helper(Net())\n'
    linked = ws.link(str(tmp_path / "user.py"), user)
    assert linked is None or "def helper" not in linked.copied
    trains = user.replace("    return helper(Net())", "    helper(Net()).backward()\n    return None")
    linked = ws.link(str(tmp_path / "user2.py"), trains)
    assert linked is not None and "def helper" in linked.copied and "class Net" in linked.copied


@pytest.mark.parametrize(
    "layout,entry",
    [
        # relative imports inside a package, and an __init__ that re-exports
        ({"pkg/__init__.py": "from .model import Net\n", "pkg/model.py": MODEL, "pkg/train.py": TRAIN.replace("from model import Net", "from . import model as _m\nfrom pkg import Net")}, "pkg/train.py"),
        # src/ layout with an absolute import
        ({"src/proj/__init__.py": "", "src/proj/model.py": MODEL, "scripts/train.py": TRAIN.replace("from model import", "from proj.model import")}, "scripts/train.py"),
        # a namespace package (no __init__.py)
        ({"nets/model.py": MODEL, "train.py": TRAIN.replace("from model import", "from nets.model import")}, "train.py"),
        # a relative import two levels up
        ({"a/__init__.py": "", "a/model.py": MODEL, "a/b/__init__.py": "", "a/b/train.py": TRAIN.replace("from model import", "from ..model import")}, "a/b/train.py"),
    ],
)
def test_import_shapes_resolve(tmp_path, layout, entry):
    write(tmp_path, layout)
    ws = WorkspaceIndex([str(tmp_path)])
    text = (tmp_path / entry).read_text()
    a = analyze(text, str(tmp_path / entry), workspace=ws)
    found = [(os.path.basename(p), f.code, f.start.line) for p, fs in a.foreign.items() for f in fs]
    assert found == [("model.py", "GG201", 21)], found


def test_alias_is_linked_and_name_clash_is_renamed(tmp_path):
    aliased = TRAIN.replace("from model import Net", "from model import Net as Model").replace("Net()", "Model()")
    write(tmp_path, {"model.py": MODEL, "train.py": aliased})
    ws = WorkspaceIndex([str(tmp_path)])
    linked = ws.link(str(tmp_path / "train.py"), aliased)
    assert linked is not None and linked.renames == {str(tmp_path / "model.py"): {"Net": "Model"}}  # copied as ``Model``
    a = analyze(aliased, str(tmp_path / "train.py"), workspace=ws)
    assert [(os.path.basename(p), f.code, f.start.line) for p, fs in a.foreign.items() for f in fs] == [("model.py", "GG201", 21)]
    # the file defines its own Encoder: model.py's is ``model.Encoder`` in the program (the tree only), so the
    # name keeps its meaning here and Net is still linked
    clash = TRAIN.replace("def train(", "class Encoder:\n    pass\n\n\ndef train(")
    write(tmp_path, {"train.py": clash})
    linked = ws.link(str(tmp_path / "train.py"), clash)
    assert linked is not None and linked.renames == {str(tmp_path / "model.py"): {"Encoder": "model.Encoder"}}
    a = analyze(clash, str(tmp_path / "train.py"), workspace=ws)
    assert [(os.path.basename(p), f.code, f.start.line) for p, fs in a.foreign.items() for f in fs] == [("model.py", "GG201", 21)]


def test_base_class_in_another_file_makes_a_module(tmp_path):
    write(
        tmp_path,
        {
            "base.py": "import torch.nn as nn\n\n\nclass Base(nn.Module):\n    pass\n",
            "model.py": "import torch.nn as nn\nfrom base import Base\n\n\nclass MLP(Base):\n    def __init__(self):\n        super().__init__()\n        self.layers = [nn.Linear(4, 4) for _ in range(3)]\n\n    def forward(self, x):\n        for m in self.layers:\n            x = m(x)\n        return x\n",
        },
    )
    ws = WorkspaceIndex([str(tmp_path)])
    text = (tmp_path / "model.py").read_text()
    assert [(f.code, f.start.line) for f in analyze(text, str(tmp_path / "model.py"), workspace=ws).findings] == [("GG302", 8)]
    assert [f.code for f in analyze(text, str(tmp_path / "model.py")).findings] == []  # alone: Base may be anything


# -- bad input ------------------------------------------------------------------------------------------------
def test_import_cycle_and_unparsable_files(tmp_path):
    write(
        tmp_path,
        {
            "a.py": "import torch\nfrom b import g\n\n\ndef f(x):\n    return g(x)\n",
            "b.py": "import torch\nfrom a import f\n\n\ndef g(x):\n    return f(x).detach()\n",
            "broken.py": "def oops(:\n",
            "c.py": "import torch\nfrom broken import oops\nfrom a import f\n\nx = torch.ones(2, requires_grad=True)\nf(x).sum().backward()\n",
        },
    )
    ws = WorkspaceIndex([str(tmp_path)])
    for name in ("a.py", "b.py", "c.py", "broken.py"):
        text = (tmp_path / name).read_text()
        analyze(text, str(tmp_path / name), workspace=ws)  # terminates, never raises
    # c.py's program would copy `oops`, which does not parse: c.py is analyzed alone, as before the workspace
    c = analyze((tmp_path / "c.py").read_text(), str(tmp_path / "c.py"), workspace=ws)
    assert c.linked is None and c.facts is not None
    assert analyze("def oops(:\n", str(tmp_path / "broken.py"), workspace=ws).syntax_error is not None


def test_dependents_reach_the_training_loop_through_imports(tmp_path):
    """A file's dependents: its importers, then the files that train among their importers (transitively, and
    through import cycles); a file two imports away that does not train cannot place findings in it."""
    write(
        tmp_path,
        {
            "layers.py": "import torch.nn as nn\n\n\nclass Enc(nn.Module):\n    pass\n",
            "model.py": "from layers import Enc\nfrom cyc import other\n",
            "cyc.py": "import model\n\n\ndef other():\n    pass\n",
            "viz.py": "from model import Enc\n\n\ndef show(m):\n    print(m)\n",
            "train.py": "import torch\nfrom model import Enc\n\nloss = Enc()(torch.ones(1)).sum()\nloss.backward()\n",
            "unrelated.py": "import torch\ntorch.ones(1, requires_grad=True).sum().backward()\n",
        },
    )
    ws = WorkspaceIndex([str(tmp_path)])
    names = [os.path.basename(f) for f in ws.dependents(str(tmp_path / "layers.py"))]
    assert names == ["model.py", "train.py"]
    assert [os.path.basename(f) for f in ws.dependents(str(tmp_path / "model.py"))] == ["cyc.py", "train.py", "viz.py"]
    assert len(ws.dependents(str(tmp_path / "layers.py"), limit=1)) == 1


def test_program_inputs_change_exactly_when_the_program_does(tmp_path):
    """The server re-analyzes a closed importer after a save only when the digest of what its analysis reads
    changed. An edit outside what train.py copies from model.py keeps the digest and the findings; an edit
    inside, a line inserted above the copied definitions (their findings move), a setting or train.py's own
    text changes it."""
    write(tmp_path, {"model.py": MODEL, "train.py": TRAIN})
    model, train = str(tmp_path / "model.py"), str(tmp_path / "train.py")
    ws = WorkspaceIndex([str(tmp_path)])

    def state():
        a = analyze(TRAIN, train, workspace=ws)
        digest = program_inputs(TRAIN, train, None, ws)
        assert analyzed_inputs(a, train, None) == digest  # the server's first analysis records the same digest
        return digest, {p: [(f.code, f.start.line, f.message) for f in fs] for p, fs in a.foreign.items()}

    base, found = state()
    assert found == {model: [("GG201", 21, found[model][0][2])]}
    write(tmp_path, {"model.py": MODEL + "\n\ndef unused_helper(x):\n    return x.detach()\n"})
    assert state() == (base, found)
    write(tmp_path, {"model.py": MODEL.replace("self.encoder(x).detach()", "self.encoder(x)")})
    changed, gone = state()
    assert changed != base and gone == {}
    write(tmp_path, {"model.py": "# the model\n" + MODEL})
    moved, found_moved = state()
    assert moved != base and [(c, line) for c, line, _ in found_moved[model]] == [("GG201", 22)]
    write(tmp_path, {"model.py": MODEL})
    assert state()[0] == base
    assert program_inputs(TRAIN, train, Config(ignore=["GG201"]), ws) != base
    assert program_inputs(TRAIN + "\n", train, None, ws) != base
    assert program_inputs("def broken(:\n", train, None, ws) is None  # analyze it to report that


def test_environments_node_modules_and_symlink_loops_are_skipped(tmp_path):
    write(tmp_path, {"train.py": TRAIN, "model.py": MODEL, ".venv/lib/x.py": "", "myenv/pyvenv.cfg": "", "myenv/lib/y.py": "", "node_modules/z/z.py": "", "sub/w.py": ""})
    os.symlink(str(tmp_path), str(tmp_path / "sub" / "loop"))
    ws = WorkspaceIndex([str(tmp_path)])
    names = sorted(os.path.relpath(f, tmp_path) for f in ws.files())
    assert names == ["model.py", os.path.join("sub", "w.py"), "train.py"]


def test_bounded_file_count_says_so(tmp_path):
    write(tmp_path, {f"m{i}.py": "" for i in range(30)})
    ws = WorkspaceIndex([str(tmp_path)], max_files=10)
    assert len(ws.files()) == 10 and ws.truncated
    assert "more than 10 Python files" in ws.messages[0]
    p = subprocess.run([sys.executable, "-m", "gradguard", "check", "--no-cache", str(tmp_path)], capture_output=True, text=True, env={**os.environ, "GRADGUARD_MAX_WORKSPACE_FILES": "10"}, timeout=120)
    assert p.returncode == 0 and "more than 10 Python files" in p.stderr


def test_file_deleted_mid_index(tmp_path):
    write(tmp_path, {"model.py": MODEL, "train.py": TRAIN})
    ws = WorkspaceIndex([str(tmp_path)])
    ws.files()
    os.remove(tmp_path / "model.py")
    assert ws.summary(str(tmp_path / "model.py")) is None
    a = analyze(TRAIN, str(tmp_path / "train.py"), workspace=ws)
    assert a.foreign == {} and a.findings == []


# -- the CLI ------------------------------------------------------------------------------------------------
def test_cli_reports_where_the_bug_is_with_related_file(tmp_path):
    write(tmp_path, {"model.py": MODEL, "train.py": TRAIN})
    found = check(tmp_path, "--no-cache")
    assert places(found) == [("model.py", 21, "GG201")]
    f = found[0][3]
    assert {(r.get("filename"), r["location"]["row"]) for r in f["related"]} >= {("train.py", 12)}
    # --no-workspace: each file alone
    p = subprocess.run([sys.executable, "-m", "gradguard", "check", "--no-cache", "--no-workspace", "."], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr


def test_cache_follows_the_files_a_result_depends_on(tmp_path):
    write(tmp_path, {"model.py": MODEL, "train.py": TRAIN})
    assert places(check(tmp_path)) == [("model.py", 21, "GG201")]
    assert places(check(tmp_path)) == [("model.py", 21, "GG201")]  # from the cache
    # the optimizer now trains the head only: the detached encoder is a frozen feature extractor
    write(tmp_path, {"train.py": TRAIN.replace("model.parameters()", "model.head.parameters()")})
    assert places(check(tmp_path)) == []
    write(tmp_path, {"train.py": TRAIN})
    assert places(check(tmp_path)) == [("model.py", 21, "GG201")]
    # a change in model.py alone (train.py's cache key unchanged) is seen too
    write(tmp_path, {"model.py": MODEL.replace(".detach()", "")})
    assert places(check(tmp_path)) == []


def _grads(root) -> str:
    p = subprocess.run([sys.executable, "train.py"], capture_output=True, text=True, cwd=root, timeout=300)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_cross_file_fix_restores_the_gradient_under_torch(tmp_path):
    pytest.importorskip("torch")
    write(tmp_path, {"model.py": MODEL, "train.py": TRAIN})
    assert _grads(tmp_path) == "GRADS False True"  # the bug is real: the encoder gets no gradient
    p = subprocess.run([sys.executable, "-m", "gradguard", "check", "--no-cache", "--fix", "."], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert p.returncode == 0 and "Fixed 1" in p.stdout, p.stdout + p.stderr
    assert ".detach()" not in (tmp_path / "model.py").read_text()
    assert _grads(tmp_path) == "GRADS True True"
    assert places(check(tmp_path, "--no-cache")) == []


def test_clean_split_projects_stay_quiet_and_train(tmp_path):
    """A frozen encoder done right across files, and a target network updated from another module."""
    pytest.importorskip("torch")
    head_only = TRAIN.replace("model.parameters()", "model.head.parameters()").replace("and bool(m.encoder.fc.weight.grad.abs().sum() > 0)", "")
    write(tmp_path / "frozen", {"model.py": MODEL, "train.py": head_only})
    assert places(check(tmp_path / "frozen", "--no-cache")) == []
    assert _grads(tmp_path / "frozen") == "GRADS False True"  # frozen by design; the head trains
    write(
        tmp_path / "target",
        {
            "nets.py": MODEL.replace("h = self.encoder(x).detach()", "h = self.encoder(x)"),
            "rl.py": """\
import copy

import torch


def make_target(net):
    target = copy.deepcopy(net)
    for p in target.parameters():
        p.requires_grad_(False)
    return target


@torch.no_grad()
def soft_update(target, net, tau=0.1):
    for t, p in zip(target.parameters(), net.parameters()):
        t.mul_(1 - tau).add_(tau * p.detach())
""",
            "train.py": """\
import torch

from nets import Net
from rl import make_target, soft_update


def main():
    torch.manual_seed(0)
    net = Net()
    target = make_target(net)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(4, 8)
    for _ in range(2):
        with torch.no_grad():
            y = target(x).max(1).values
        loss = (net(x).max(1).values - y).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        soft_update(target, net)
    return net


if __name__ == "__main__":
    m = main()
    print("GRADS", bool(m.encoder.fc.weight.grad.abs().sum() > 0), m.head.weight.grad is not None)
""",
        },
    )
    assert places(check(tmp_path / "target", "--no-cache")) == []
    assert _grads(tmp_path / "target") == "GRADS True True"


def test_installed_package_classes_are_read_not_reported(tmp_path):
    """``from timmish.layers import Mlp`` resolves through the libraries searched (site-packages): the class's
    base chain makes it a Module here; nothing is ever reported inside the package."""
    lib = tmp_path / "site"
    write(
        lib,
        {
            "timmish/__init__.py": "",
            "timmish/layers/__init__.py": "from .mlp import Mlp\n",
            "timmish/layers/mlp.py": "import torch\nfrom torch import nn\n\n\nclass Mlp(nn.Module):\n    def __init__(self, d=4):\n        super().__init__()\n        self.fc = nn.Linear(d, d)\n        self.scale = torch.randn(d, requires_grad=True)\n\n    def forward(self, x):\n        return self.fc(x).detach() * self.scale\n",
        },
    )
    proj = tmp_path / "proj"
    block = "import torch.nn as nn\nfrom timmish.layers import Mlp\n\n\nclass Block(Mlp):\n    def __init__(self):\n        super().__init__()\n        self.extra = [nn.Linear(4, 4), nn.Linear(4, 4)]\n"
    train = "import torch\nfrom timmish.layers import Mlp\n\nm = Mlp()\nm.requires_grad = False\nopt = torch.optim.SGD(m.parameters(), lr=0.1)\nloss = m(torch.randn(2, 4)).sum()\nloss.backward()\nopt.step()\n"
    write(proj, {"block.py": block, "train.py": train})
    ws = WorkspaceIndex([str(proj)], [str(lib)])
    assert [(f.code, f.start.line) for f in analyze(block, str(proj / "block.py"), workspace=ws).findings] == [("GG302", 8)]
    a = analyze(train, str(proj / "train.py"), workspace=ws)
    assert [(f.code, f.start.line) for f in a.findings] == [("GG601", 5)]
    assert a.foreign == {}  # the package's own (bad) forward is never reported on
    alone = WorkspaceIndex([str(proj)])
    assert [f.code for f in analyze(block, str(proj / "block.py"), workspace=alone).findings] == []


HOOK_LAYERS = '''\
import torch.nn as nn


def conv_bn_act(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )
'''

HOOK_MODEL = '''\
import torch.nn as nn

from layers import conv_bn_act


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(conv_bn_act(3, 8), conv_bn_act(8, 8))
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.body(x).mean((2, 3)))
'''

HOOK_TRAIN = '''\
import torch
import torch.nn as nn
import torch.nn.functional as F

from model import Net


def main():
    torch.manual_seed(0)
    model = Net()
    norms = []
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.register_full_backward_hook(lambda mod, gin, gout: norms.append(gout[0].norm().item()))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = F.cross_entropy(model(torch.randn(4, 3, 8, 8)), torch.tensor([0, 1, 2, 0]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return model


if __name__ == "__main__":
    try:
        main()
        print("TRAINS")
    except RuntimeError as e:
        print("RAISES", "BackwardHookFunction" in str(e))
'''


def test_hook_registered_in_train_file_reported_on_the_layer_file_and_fixed(tmp_path):
    """A full backward hook registered in train.py on the BatchNorm layers a builder in layers.py follows with an
    in-place ReLU: the finding is on the ReLU in layers.py, with the registration as related information, and the fix
    applied there makes the program train under torch."""
    pytest.importorskip("torch")
    write(tmp_path, {"layers.py": HOOK_LAYERS, "model.py": HOOK_MODEL, "train.py": HOOK_TRAIN})
    assert _grads(tmp_path) == "RAISES True"  # the bug is real
    found = check(tmp_path, "--no-cache")
    assert places(found) == [("layers.py", 8, "GG703")]
    assert {(r.get("filename"), r["location"]["row"]) for r in found[0][3]["related"]} >= {("train.py", 14)}
    p = subprocess.run([sys.executable, "-m", "gradguard", "check", "--no-cache", "--fix", "."], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert p.returncode == 0 and "Fixed 1" in p.stdout, p.stdout + p.stderr
    assert "inplace=False" in (tmp_path / "layers.py").read_text()
    assert _grads(tmp_path) == "TRAINS"
    assert places(check(tmp_path, "--no-cache")) == []
