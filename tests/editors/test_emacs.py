"""Emacs + eglot, `emacs --batch`, against `python -m gradguard serve`.

setup_emacs.sh installs Debian's emacs-nox (28.2 on bookworm) and elpa-eglot (1.9) when missing.
emacs_drive.el configures eglot the way a user's init.el would
(`(add-to-list 'eglot-server-programs '(python-mode . ("<python>" "-m" "gradguard" "serve")))`),
visits a copy of the seed file, starts eglot, waits for GG201 in flymake's diagnostics, hovers on
`.detach`, runs the real interactive `eglot-code-actions` (answering with the preferred action),
waits for the server to republish without GG201, and saves; this test checks the report and
the file on disk.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from editor_support import HERE, SEED, SEED_LINE

pytestmark = pytest.mark.editor


@pytest.fixture(scope="session")
def emacs() -> str:
    """Path of an emacs whose `--batch` loads eglot, after setup_emacs.sh (idempotent)."""
    proc = subprocess.run(["bash", str(HERE / "setup_emacs.sh")], capture_output=True, text=True, timeout=900)
    for line in proc.stdout.splitlines():
        if line.startswith("EMACS="):
            return line.split("=", 1)[1]
    reason = f"Emacs + eglot could not be installed (apt emacs-nox elpa-eglot): {proc.stderr.strip()[-800:]}"
    if os.environ.get("GRADGUARD_REQUIRE_EDITORS"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.mark.parametrize("folder", ["plain", "with space"])
def test_emacs_eglot_diagnostic_hover_fix_write(folder: str, emacs: str, venv_python: str, tmp_path: Path) -> None:
    (tmp_path / folder).mkdir()
    seed_file = tmp_path / folder / "seed_gg201.py"
    shutil.copyfile(SEED, seed_file)
    report_path = tmp_path / "report.json"
    events_path = tmp_path / "eglot-events.log"
    home = tmp_path / "home"  # no user init, no ~/.emacs.d writes outside tmp
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "GG_SERVER_CMD": json.dumps([venv_python, "-m", "gradguard", "serve"]),
        "GG_FILE": str(seed_file),
        "GG_REPORT": str(report_path),
        "GG_EVENTS": str(events_path),
        "GG_TIMEOUT_MS": "20000",
    }
    proc = subprocess.run(
        [emacs, "--batch", "-l", str(HERE / "emacs_drive.el")],
        env=env, cwd=tmp_path, stdin=subprocess.DEVNULL,  # a stray prompt fails instead of hanging
        capture_output=True, text=True, timeout=180,
    )
    assert report_path.exists(), f"no report; emacs exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    report = json.loads(report_path.read_text())
    events = events_path.read_text()[-4000:] if events_path.exists() else ""
    assert "error" not in report, f"{report['error']}\n{proc.stderr[-2000:]}\n--- eglot events (tail) ---\n{events}"
    assert proc.returncode == 0, proc.stderr
    assert report["steps"] == ["attached", "diagnostic", "hover", "code_action", "cleared", "written", "shutdown"]

    diag = report["diagnostic"]
    assert diag["code"] == "GG201"
    assert diag["source"] == "gradguard"
    assert diag["lnum"] == SEED_LINE
    assert diag["type"] == "eglot-error"
    assert "GG201" in report["hover"]

    action = report["code_action"]
    assert action["picked"].startswith("Remove `.detach()`"), action
    # The action picked is the one eglot offers as default, i.e. the server's isPreferred one.
    assert action["default"] == action["picked"], action

    # After the edit the server published again for the new text, without GG201.
    assert "GG201" not in report["cleared"]["published"]
    assert report["cleared"]["flymake"] == []

    on_disk = seed_file.read_text()
    assert ".detach()" not in on_disk
    assert "    z = y\n" in on_disk
    # Everything else is untouched.
    assert on_disk == SEED.read_text().replace("z = y.detach()", "z = y")
