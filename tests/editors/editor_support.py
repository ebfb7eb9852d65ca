"""Helpers shared by the editor-level tests (imported by name; not a conftest)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

SEED = HERE / "fixtures" / "seed_gg201.py"
# 0-based LSP line of `z = y.detach()` in the seed file (line 7 in an editor).
SEED_LINE = 6


def bare_system_python() -> str:
    """A Python that is not the project venv: Debian's, else the one the venv was made from."""
    for cand in ("/usr/bin/python3", os.path.join(sys.base_prefix, "bin", "python3")):
        if os.path.exists(cand) and os.access(cand, os.X_OK):
            return cand
    found = shutil.which("python3")
    assert found, "no python3 on this machine"
    return found


def other_pythons() -> dict:
    """Further CPython interpreters on this machine ("3.9" -> path), e.g. pyenv's, for checking the
    bundle on several versions. Only the versions actually installed are returned."""
    import glob
    import subprocess

    found = {}
    roots = [os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))]
    for minor in range(9, 15):
        v = f"3.{minor}"
        cands = [f"/usr/bin/python{v}", f"/usr/local/bin/python{v}"]
        for root in roots:
            cands += sorted(glob.glob(os.path.join(root, "versions", f"{v}.*", "bin", f"python{v}")))
        for c in cands:
            if os.access(c, os.X_OK):
                try:
                    out = subprocess.run([c, "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                         capture_output=True, text=True, timeout=20).stdout.strip()
                except (OSError, subprocess.TimeoutExpired):
                    continue
                if out == v:
                    found[v] = c
                    break
    return found
