"""The README's Emacs `gradguard-flow` command, verbatim, in real `emacs --batch` with eglot: it asks the
server for the flow map (`workspace/executeCommand gradguard.showFlow`) and shows it in a buffer."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from editor_support import HERE

pytestmark = pytest.mark.editor
ROOT = HERE.parent.parent

PROBE = """
(find-file (getenv "GG_FILE"))
(python-mode)
(apply #'eglot (eglot--guess-contact))
(let ((deadline (+ (float-time) 60)))
  (while (and (not (and (eglot-current-server) eglot--managed-mode)) (< (float-time) deadline))
    (accept-process-output nil 0.2)))
(gradguard-flow)
(with-current-buffer "*gradguard flow*"
  (write-region (point-min) (point-max) (getenv "GG_OUT")))
(kill-emacs 0)
"""


def test_emacs_gradguard_flow_from_readme(tmp_path):
    subprocess.run(["bash", str(HERE / "setup_emacs.sh")], capture_output=True, text=True, timeout=900)
    emacs = shutil.which("emacs")
    if not emacs:
        pytest.skip("Emacs could not be installed here")
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    base = re.search(r"### Emacs \(eglot\)\n```elisp\n(.*?)```", text, re.S)
    flow = re.search(r"\(`M-x gradguard-flow`.*?```elisp\n(.*?)```", text, re.S)
    assert base and flow, "README: Emacs snippets not found"
    init, seed, out = tmp_path / "init.el", tmp_path / "train.py", tmp_path / "out.txt"
    seed.write_text((ROOT / "examples" / "train_with_bugs.py").read_text())
    init.write_text(base.group(1) + flow.group(1) + PROBE)
    env = dict(os.environ, GG_FILE=str(seed), GG_OUT=str(out), PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}")
    env.pop("PYTHONPATH", None)
    p = subprocess.run([emacs, "--batch", "-l", str(init)], env=env, cwd=tmp_path, timeout=120, capture_output=True, text=True)
    got = out.read_text() if out.exists() else ""
    assert "# Gradient flow of `train.py`" in got, (got, p.stderr[-2000:])
    assert "trains head · not reached: encoder (cut at line 8)" in got and "```mermaid" in got, got
