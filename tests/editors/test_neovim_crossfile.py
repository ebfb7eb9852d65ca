"""Neovim (0.11, vim.lsp.start) on a two-file project: only train.py is opened, the finding arrives for
model.py (where the `.detach()` starves the encoder train.py trains), and the quick fix, taken through the real
code action UI after opening model.py, lands in model.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from editor_support import HERE

pytestmark = pytest.mark.editor


def test_neovim_cross_file_fix_lands_in_other_file(nvims: dict, venv_python: str, tmp_path: Path) -> None:
    if "binwheels-0.11" not in nvims:
        pytest.skip(f"Neovim 0.11 could not be installed: {nvims['_log']}")
    proj = tmp_path / "proj"
    shutil.copytree(HERE / "fixtures" / "crossfile", proj)
    report_path = tmp_path / "report.json"
    env = {
        **os.environ,
        "GG_SERVER_CMD": json.dumps([venv_python, "-m", "gradguard", "serve"]),
        "GG_REPORT": str(report_path),
        "GG_TIMEOUT_MS": "30000",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    proc = subprocess.run(
        [nvims["binwheels-0.11"], "--headless", "--clean", "-n", "-u", "NONE", "-i", "NONE", "-c", f"luafile {HERE / 'nvim_crossfile.lua'}", str(proj / "train.py")],
        env=env, cwd=proj, capture_output=True, text=True, timeout=180,
    )
    assert report_path.exists(), f"no report; nvim exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    report = json.loads(report_path.read_text())
    assert "error" not in report, report["error"]
    assert report["steps"] == ["attached", "diagnostic_in_closed_file", "opened", "code_action", "cleared", "written"]
    assert report["diagnostic_in_closed_file"]["lnum"] == 20  # 0-based: model.py line 21
    assert report["diagnostic_in_closed_file"]["train_diagnostics"] == 0
    assert "train.py:12" in report["diagnostic_in_closed_file"]["message"]
    original = (HERE / "fixtures" / "crossfile" / "model.py").read_text()
    assert (proj / "model.py").read_text() == original.replace("self.encoder(x).detach()", "self.encoder(x)")
    assert (proj / "train.py").read_text() == (HERE / "fixtures" / "crossfile" / "train.py").read_text()
