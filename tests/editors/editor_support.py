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
