"""The install lines of the README work: a wheel built from this checkout installs into a fresh virtual
environment (runtime dependencies from the package index) and runs; the pre-commit hook installs from the
repository itself. Slow (creates environments, downloads dependencies once into pip's cache)."""
import os
import shutil
import subprocess
import sys
import venv
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.slow


def sh(*cmd, cwd=None, env=None, timeout=900):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)
    return r


def _source_copy(tmp_path):
    """The project as a clean checkout has it (no .venv, caches, node_modules): what `pip wheel .` sees."""
    dst = tmp_path / "src"
    ignore = shutil.ignore_patterns(".git", ".venv", "node_modules", "__pycache__", "*.egg-info", ".gradguard_cache", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "build", "dist", "bundled", "corpus", "*.vsix", "benchmarks", "tests")
    shutil.copytree(ROOT, dst, ignore=ignore)
    return dst


def test_wheel_installs_into_a_fresh_venv_and_runs(tmp_path):
    src = _source_copy(tmp_path)
    wheels = tmp_path / "wheels"
    r = sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", wheels, ".", cwd=src)
    assert r.returncode == 0, r.stderr
    (wheel,) = wheels.glob("gradguard-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"gradguard/py.typed", "gradguard/rules/__init__.py", "gradguard/core/__init__.py", "gradguard/lsp/server.py"} <= set(names)
    assert any(n.endswith("entry_points.txt") for n in names)

    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    py = env_dir / "bin" / "python"
    r = sh(py, "-m", "pip", "install", "--disable-pip-version-check", "-q", wheel)
    assert r.returncode == 0, r.stderr
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    r = sh(env_dir / "bin" / "gradguard", "check", "--no-cache", "examples/", cwd=src, env=clean)
    assert r.returncode == 1, (r.stdout, r.stderr)  # findings: the example has bugs
    assert "examples/train_with_bugs.py:" in r.stdout and "Traceback" not in r.stderr
    r = sh(py, "-c", "import gradguard, os; print(gradguard.__file__)", env=clean, cwd=tmp_path)
    assert str(env_dir) in r.stdout, "the wheel, not the checkout, was imported"


def test_pre_commit_hook_installs_from_the_repository(tmp_path):
    """The README's pre-commit snippet: pre-commit pip-installs this repository (not a package-index name)."""
    env_dir = tmp_path / "pc"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    r = sh(env_dir / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", "-q", "pre-commit")
    if r.returncode != 0:
        pytest.skip(f"pre-commit cannot be installed here: {r.stderr[-300:]}")
    # a git repository holding the project (pre-commit clones `repo` at `rev`)
    src = _source_copy(tmp_path)
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false"]
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "snapshot"]):
        assert sh(*git, *cmd, cwd=src).returncode == 0
    rev = sh("git", "rev-parse", "HEAD", cwd=src).stdout.strip()
    proj = tmp_path / "proj"
    proj.mkdir()
    shutil.copy(os.path.join(ROOT, "examples", "train_with_bugs.py"), proj / "train.py")
    (proj / "ok.py").write_text("import torch\n")
    (proj / ".pre-commit-config.yaml").write_text(f"repos:\n  - repo: {src}\n    rev: {rev}\n    hooks:\n      - id: gradguard\n")
    for cmd in (["init", "-q"], ["add", "."]):
        assert sh(*git, *cmd, cwd=proj).returncode == 0
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pc-home")
    r = sh(env_dir / "bin" / "pre-commit", "run", "--all-files", cwd=proj, env=env)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out  # the hook ran and found the example's bugs
    assert "train.py:" in out and "GG" in out, out
