"""Notebooks through the CLI: magics, per-cell syntax errors and positions, --fix / --diff inside the JSON."""
import json

from test_cli import SEED, run

MAIN = SEED.index("def main")
DEFS, MAIN_CELL = SEED[:MAIN], SEED[MAIN:]


def code(src, outputs=None, count=None):
    lines = src.splitlines(True)
    return {"cell_type": "code", "execution_count": count, "metadata": {}, "outputs": outputs or [], "source": lines}


def markdown(src):
    return {"cell_type": "markdown", "metadata": {}, "source": src.splitlines(True)}


def write_nb(path, cells):
    nb = {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    # the layout Jupyter writes: indent 1, sorted keys, raw UTF-8, a final newline
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path.read_bytes()


def check_json(*args):
    r = run("check", "--no-cache", "--output-format", "json", *args)
    return r, json.loads(r.stdout)


def test_magic_alone_in_an_indented_block_is_not_a_syntax_error(tmp_path):
    p = tmp_path / "magics.ipynb"
    write_nb(
        p,
        [
            code("%matplotlib inline\nimport torch\nfor i in range(2):\n    %time x = torch.ones(2)\n"),
            code("if True:\n    !pip install einops\nelse:\n    %pip list\ndef f():\n    %%time is not a line magic here\n".replace("    %%time is not a line magic here\n", "    ?torch.ones\n")),
            code("%%capture out\nimport torch\nw = torch.ones(2, requires_grad=True)\nwith open('x') as fh:\n    !cat x\n"),
            code("%%bash\nfor f in *; do\n  echo $f\ndone\n"),
            code("torch.ones?\nx = (1 +\n     2)\n"),
        ],
    )
    r, data = check_json(str(p))
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert data == []


def test_magic_continued_with_a_backslash_is_one_magic(tmp_path):
    # IPython joins ``!pip install a \`` with its indented continuation lines: they are not Python
    p = tmp_path / "pip.ipynb"
    write_nb(p, [code("!pip install -q -U \\\n    transformers \\\n    peft\nimport torch\n"), code("if True:\n    %pip install \\\n        einops\nx = 1\n")])
    r, data = check_json(str(p))
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert data == []


def test_assigned_shell_and_magic_output_is_not_a_syntax_error(tmp_path):
    # IPython's ``name = !cmd`` and ``name = %magic`` assign the command's output; ``a % b`` stays arithmetic
    p = tmp_path / "assign.ipynb"
    write_nb(p, [code("VERSION = !curl -s https://example.invalid/v\nimport torch\nt = %timeit -o torch.ones(2)\nr = 7 % 3\nx, y = !ls\n")])
    r, data = check_json(str(p))
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert data == []


def test_cells_of_another_language_and_wildcard_search_are_not_python(tmp_path):
    # VS Code keeps each cell's language in ``metadata.vscode.languageId``: a shell or plain-text cell of a Python
    # notebook is never run as Python; ``torch.*Tensor?`` is IPython's wildcard search (``%psearch``)
    p = tmp_path / "langs.ipynb"
    shell = code("python -u run.py \\\n  --epochs 3\n")
    shell["metadata"] = {"vscode": {"languageId": "shellscript"}}
    log = code("        iters: 100, epoch: 1 | loss: 0.47\n")
    log["metadata"] = {"vscode": {"languageId": "plaintext"}}
    bad = code("x = (1 +\n")
    bad["metadata"] = {"vscode": {"languageId": "python"}}
    write_nb(p, [shell, code("import torch\ntorch.*Tensor?\n"), log, bad])
    r, data = check_json(str(p))
    assert [(d["code"], d["location"]["cell"]) for d in data] == [("GG001", 4)], data


def test_magic_lines_keep_later_findings_in_place(tmp_path):
    # a magic line before the bug in the same cell: the bug is still found, on the cell's own line
    p = tmp_path / "nb.ipynb"
    write_nb(p, [markdown("# Training\n"), code("!nvidia-smi\n%load_ext autoreload\n" + DEFS), code(MAIN_CELL)])
    r, data = check_json(str(p))
    assert r.returncode == 1, r.stderr
    gg201 = [d for d in data if d["code"] == "GG201"]
    assert len(gg201) == 1
    line = 2 + DEFS.splitlines().index(next(ln for ln in DEFS.splitlines() if ".detach()" in ln)) + 1
    assert gg201[0]["location"]["cell"] == 2 and gg201[0]["location"]["row"] == line


def test_syntax_error_points_at_its_cell_with_the_cells_own_line(tmp_path):
    p = tmp_path / "broken.ipynb"
    write_nb(
        p,
        [
            markdown("# A notebook\n"),
            code(DEFS),
            code("for i in range(3):\n    %time y = i\nprint(\n"),  # cell 3: its own line 3 never closes
            code(MAIN_CELL),
        ],
    )
    r, data = check_json(str(p))
    assert "Traceback" not in r.stderr
    errors = [d for d in data if d["code"] == "GG001"]
    assert len(errors) == 1, data
    assert errors[0]["location"]["cell"] == 3 and errors[0]["location"]["row"] == 3 and errors[0]["location"]["column"] == 6
    assert errors[0]["severity"] == "error"
    # the cells that parse are still analyzed (Jupyter runs cells one by one)
    assert {d["code"] for d in data} >= {"GG001", "GG201", "GG101"}
    text = run("check", "--no-cache", str(p)).stdout
    assert f"{p}:cell 3:3:6: GG001 [error] syntax error" in text


def test_cells_are_numbered_counting_every_cell_and_messages_name_cells(tmp_path):
    p = tmp_path / "numbers.ipynb"
    write_nb(p, [markdown("intro\n"), code(DEFS), markdown("now train\n"), {"cell_type": "raw", "metadata": {}, "source": ["raw\n"]}, code(MAIN_CELL)])
    r, data = check_json(str(p))
    gg101 = [d for d in data if d["code"] == "GG101"]
    assert len(gg101) == 1
    backward_line = MAIN_CELL.splitlines().index(next(ln for ln in MAIN_CELL.splitlines() if "loss.backward()" in ln)) + 1
    assert gg101[0]["location"] == {"row": backward_line, "column": gg101[0]["location"]["column"], "cell": 5}
    assert gg101[0]["end_location"]["cell"] == 5
    gg201 = [d for d in data if d["code"] == "GG201"][0]
    assert gg201["location"]["cell"] == 2
    # "the loss backpropagated at line N" names the notebook's cell and that cell's line, not the joined program's
    assert f"cell 5, line {backward_line}" in gg201["message"], gg201["message"]


def test_fix_edits_cell_sources_and_keeps_every_other_byte(tmp_path):
    p = tmp_path / "fix.ipynb"
    outputs = [{"name": "stdout", "output_type": "stream", "text": ["loss 0.5 — ü\n"]}]
    before = write_nb(p, [markdown("# ü\n"), code("%matplotlib inline\n" + DEFS, outputs=outputs, count=7), code(MAIN_CELL)])
    r = run("check", "--no-cache", "--fix", str(p))
    assert r.returncode == 1, r.stderr  # the unsafe GG202 fix is not applied by --fix
    after = p.read_bytes()
    nb = json.loads(after)
    assert nb["cells"][1]["outputs"] == outputs and nb["cells"][1]["execution_count"] == 7
    src1, src2 = "".join(nb["cells"][1]["source"]), "".join(nb["cells"][2]["source"])
    assert ".detach()  # GG201" not in src1 and src1.startswith("%matplotlib inline\n")
    assert "loss = loss.backward()" not in src2 and "loss.backward()  # GG101" in src2
    assert ".numpy()" in src1  # GG202's fix is unsafe
    # exactly the two fixed source lines differ; the file is otherwise byte for byte the same
    old_lines, new_lines = before.decode().splitlines(), after.decode().splitlines()
    assert len(old_lines) == len(new_lines)
    changed = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
    assert len(changed) == 2 and ".detach()" in changed[0][0] and "loss = loss.backward()" in changed[1][0]
    r = run("check", "--no-cache", "--fix", "--unsafe-fixes", str(p))
    assert r.returncode == 0, r.stdout
    assert ".numpy()" not in "".join(json.loads(p.read_bytes())["cells"][1]["source"])


def test_diff_shows_cell_changes_and_does_not_write(tmp_path):
    p = tmp_path / "diff.ipynb"
    before = write_nb(p, [code(DEFS), code(MAIN_CELL)])
    r = run("check", "--no-cache", "--diff", str(p))
    assert r.returncode == 1, r.stderr
    assert f"--- {p}:cell 1" in r.stdout and f"+++ {p}:cell 2" in r.stdout
    assert "-    return ((h - h.mean(0))" in r.stdout and "+        loss.backward()" in r.stdout
    assert "outputs" not in r.stdout  # a diff of the cells' code, not of the JSON
    assert p.read_bytes() == before


def test_fix_keeps_a_notebook_with_string_sources_and_two_space_indent(tmp_path):
    p = tmp_path / "style.ipynb"
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": SEED}], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}
    p.write_text(json.dumps(nb, indent=2), encoding="utf-8")  # no final newline, source as one string
    before = p.read_text(encoding="utf-8")
    run("check", "--no-cache", "--fix", str(p))
    after = p.read_text(encoding="utf-8")
    fixed = json.loads(after)["cells"][0]["source"]
    assert isinstance(fixed, str) and ".detach()  # GG201" not in fixed
    assert after.replace(json.dumps(fixed), json.dumps(SEED)) == before


def test_cell_indented_as_a_whole_runs_as_ipython_dedents_it(tmp_path):
    # IPython's leading-indent cleanup: a cell whose first line is indented has that indent removed from every line
    # that starts with it (a cell pasted with one leading space runs). Findings keep the cell's own columns, and a fix
    # within a line is written back with the indent kept.
    p = tmp_path / "indented.ipynb"
    write_nb(p, [code("import torch\n"), code("\n  t = torch.zeros(3, dtype=torch.long, requires_grad=True)\n  print(t)\n")])
    flat = tmp_path / "flat.ipynb"
    write_nb(flat, [code("import torch\n"), code("\nt = torch.zeros(3, dtype=torch.long, requires_grad=True)\nprint(t)\n")])
    _, data = check_json(str(p))
    _, flat_data = check_json(str(flat))
    assert [d["code"] for d in data] == ["GG404"], data
    loc, flat_loc = data[0]["location"], flat_data[0]["location"]
    assert (loc["cell"], loc["row"]) == (flat_loc["cell"], flat_loc["row"]) == (2, 2)
    assert loc["column"] == flat_loc["column"] + 2 and data[0]["end_location"]["column"] == flat_data[0]["end_location"]["column"] + 2
    r = run("check", "--no-cache", "--fix", str(p))
    assert r.returncode == 0, r.stdout + r.stderr
    src = "".join(json.loads(p.read_text())["cells"][1]["source"])
    assert src == "\n  t = torch.zeros(3, dtype=torch.float32, requires_grad=True)\n  print(t)\n", src
    # a later line indented alone is still an error (the first line decides what IPython strips)
    bad = tmp_path / "bad.ipynb"
    write_nb(bad, [code("import torch\n  x = 1\n")])
    _, bad_data = check_json(str(bad))
    assert [(d["code"], d["location"]["cell"], d["location"]["row"]) for d in bad_data] == [("GG001", 1, 2)], bad_data
