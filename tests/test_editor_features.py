"""Suppressions, configuration, notebooks and CI output formats through the shared core and the CLI."""
import json
import os
import subprocess
import sys

from gradguard.analyze import analyze
from gradguard.config import config_from_dict, load_pyproject
from gradguard.core.model import Severity
from gradguard.notebook import notebook_to_program, program_to_cell

BUG = """import torch


def main():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    z = (x * 2).detach()
    loss = (z ** 2).sum()
    loss.backward()
"""


def codes(text, cfg=None, path="m.py"):
    return [(f.code, f.start.line) for f in analyze(text, path, cfg).findings]


def test_noqa_and_ignore_comments():
    assert ("GG201", 6) in codes(BUG)
    assert ("GG201", 6) not in codes(BUG.replace(".detach()", ".detach()  # noqa: GG201"))
    assert ("GG201", 6) not in codes(BUG.replace(".detach()", ".detach()  # noqa"))
    assert ("GG201", 6) not in codes(BUG.replace(".detach()", ".detach()  # gradguard: ignore[GG201]"))
    assert ("GG201", 6) in codes(BUG.replace(".detach()", ".detach()  # noqa: GG101"))


def test_file_level_ignore():
    assert not [c for c in codes("# gradguard: ignore-file\n" + BUG) if c[0] == "GG201"]
    assert not [c for c in codes("# gradguard: ignore-file[GG201]\n" + BUG) if c[0] == "GG201"]
    assert [c for c in codes("# gradguard: ignore-file[GG101]\n" + BUG) if c[0] == "GG201"]


def test_unused_suppression_is_reported():
    text = BUG.replace("    loss.backward()", "    loss.backward()  # noqa: GG101")
    res = analyze(text, "m.py")
    unused = [f for f in res.findings if f.code == "GG002"]
    assert len(unused) == 1 and unused[0].start.line == 8 and "GG101" in unused[0].message
    assert unused[0].severity == Severity.HINT


def test_config_select_ignore_severity_per_file():
    cfg = config_from_dict({"select": ["GG1"]})
    assert not [c for c in codes(BUG, cfg) if c[0] == "GG201"]
    cfg = config_from_dict({"ignore": ["GG20"]})
    assert not [c for c in codes(BUG, cfg) if c[0] == "GG201"]
    cfg = config_from_dict({"severity": {"GG201": "hint"}})
    f = [f for f in analyze(BUG, "m.py", cfg).findings if f.code == "GG201"][0]
    assert f.severity == Severity.HINT
    cfg = config_from_dict({"per-file-ignores": {"tests/*": ["GG201"]}})
    assert not [c for c in codes(BUG, cfg, "proj/tests/t.py") if c[0] == "GG201"]
    assert [c for c in codes(BUG, cfg, "proj/src/t.py") if c[0] == "GG201"]


def test_invalid_config_names_the_key_and_keeps_defaults():
    cfg = config_from_dict({"select": "GG1", "severity": {"GG201": "loud"}, "colour": True, "ignore": ["XX9"]})
    text = "\n".join(cfg.problems)
    assert "'select'" in text and "severity.GG201" in text and "'colour'" in text and "XX9" in text
    assert cfg.select is None and cfg.ignore == [] and cfg.severity == {}
    assert [c for c in codes(BUG, cfg) if c[0] == "GG201"]


def test_pyproject_section(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.gradguard]\nignore = ["GG201"]\nexclude = ["skip_*"]\n')
    cfg = load_pyproject(str(tmp_path / "pyproject.toml"))
    assert cfg.ignore == ["GG201"] and not cfg.problems
    (tmp_path / "a.py").write_text(BUG)
    (tmp_path / "skip_b.py").write_text(BUG)
    r = subprocess.run([sys.executable, "-m", "gradguard", "check", "--no-cache", "--output-format", "json", "."], cwd=tmp_path, capture_output=True, text=True)
    data = json.loads(r.stdout)
    assert not [d for d in data if d["code"] == "GG201"]
    assert not [d for d in data if "skip_b" in d["filename"]]


def test_broken_pyproject_is_a_clear_warning(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.gradguard\nselect = 3\n")
    (tmp_path / "a.py").write_text(BUG)
    r = subprocess.run([sys.executable, "-m", "gradguard", "check", "--no-cache", "a.py"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 1 and "pyproject.toml" in r.stderr and "GG201" in r.stdout


def _notebook(cells):
    return json.dumps({"cells": [{"cell_type": t, "source": s, "metadata": {}} for t, s in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def test_notebook_cells_are_one_program(tmp_path):
    nb = _notebook([
        ("code", "%matplotlib inline\nimport torch\n"),
        ("markdown", "# train"),
        ("code", "x = torch.tensor([1.0, 2.0], requires_grad=True)\nz = (x * 2).detach()\n"),
        ("code", ["loss = (z ** 2).sum()\n", "loss.backward()\n"]),
    ])
    text, cmap = notebook_to_program(nb)
    res = analyze(text, "nb.ipynb")
    f = [f for f in res.findings if f.code == "GG201"][0]
    assert program_to_cell(cmap, f.start.line) == (3, 2)
    p = tmp_path / "nb.ipynb"
    p.write_bytes(nb)
    r = subprocess.run([sys.executable, "-m", "gradguard", "check", "--no-cache", "--output-format", "json", str(p)], capture_output=True, text=True)
    data = json.loads(r.stdout)
    assert [(d["code"], d["location"]["cell"], d["location"]["row"]) for d in data] == [("GG201", 3, 2)]
    r = subprocess.run([sys.executable, "-m", "gradguard", "check", "--no-cache", str(p)], capture_output=True, text=True)
    assert f"{p}:cell 3:2:" in r.stdout


def test_sarif_and_github_formats(tmp_path):
    p = tmp_path / "a.py"
    p.write_text(BUG)
    r = subprocess.run([sys.executable, "-m", "gradguard", "check", "--no-cache", "--output-format", "sarif", str(p)], capture_output=True, text=True)
    sarif = json.loads(r.stdout)
    assert r.returncode == 1 and sarif["version"] == "2.1.0"
    res = sarif["runs"][0]["results"]
    assert res[0]["ruleId"] == "GG201" and res[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 6
    assert any(rule["id"] == "GG201" for rule in sarif["runs"][0]["tool"]["driver"]["rules"])
    r = subprocess.run([sys.executable, "-m", "gradguard", "check", "--no-cache", "--output-format", "github", str(p)], capture_output=True, text=True)
    assert r.stdout.startswith(f"::error title=gradguard (GG201),file={p},line=6,")


def test_pre_commit_hook_definition():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    text = open(os.path.join(root, ".pre-commit-hooks.yaml")).read()
    assert "id: gradguard" in text and "entry: gradguard check" in text


def test_set_grad_enabled_statement_switches_grad_mode():
    text = """import torch
import torch.nn as nn


def main():
    model = nn.Linear(3, 1)
    torch.set_grad_enabled(False)
    loss = model(torch.randn(4, 3)).sum()
    torch.set_grad_enabled(True)
    loss.backward()
"""
    assert ("GG501", 7) in codes(text)
    fixed = text.replace("torch.set_grad_enabled(False)\n", "")
    assert not [c for c in codes(fixed) if c[0] == "GG501"]
