"""``gradguard check`` on hostile files written to disk: no traceback, exit code 0/1 (2 only for usage
errors), valid JSON out, a per-file time bound, and ``--fix`` never turns parsable code unparsable."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time

import pytest

from ._checks import parses
from ._corpus import deep_nesting_cases, mutate, sample_corpus
from ._rpc import ROOT
from .conftest import scale


def _gg(args, cwd, timeout=300, env=None):
    e = dict(os.environ)
    e["PYTHONPATH"] = os.path.join(ROOT, "server")
    if env:
        e.update(env)
    return subprocess.run([sys.executable, "-m", "gradguard", *args], cwd=str(cwd), env=e, capture_output=True, timeout=timeout)


def _byte_cases(rng: random.Random) -> dict:
    base = "import torch\nx = torch.ones(2, requires_grad=True)\ny = x.detach()\n(y * 2).sum().backward()\n"
    return {
        "latin1.py": ("# é\n" + base).encode("latin-1"),
        "garbage.py": bytes(rng.randrange(256) for _ in range(2000)),
        "nul.py": base.encode()[:20] + b"\x00" + base.encode()[20:],
        "bom.py": b"\xef\xbb\xbf" + base.encode(),
        "bom_latin1_cookie.py": b"\xef\xbb\xbf# -*- coding: latin-1 -*-\n" + base.encode(),
        "bogus_cookie.py": b"# -*- coding: no-such-codec -*-\n" + base.encode(),
        "utf16_cookie.py": b"# coding: utf-16\n" + base.encode(),
        "utf16_bom.py": "\ufeff".encode("utf-16-le") + base.encode("utf-16-le"),
        "cr_only.py": base.replace("\n", "\r").encode(),
        "mixed_eol.py": b"import torch\r\nx = 1\ry = 2\n",
        "formfeed.py": b"\x0c" + base.encode().replace(b"\n", b"\n\x0c"),
        "lone_surrogate_bytes.py": base.encode() + b"s = '\xed\xa0\x80'\n",
        "empty.py": b"",
        "only_newlines.py": b"\n" * 1000,
        "huge_line.py": b"import torch\nx = [" + b"1," * 200_000 + b"]\n",
        "deep.py": deep_nesting_cases()["parens"].encode(),
        "deep_binop.py": deep_nesting_cases()["binop"].encode(),
        "nb_truncated.ipynb": b'{"cells": [{"cell_type": "code", "source": ["import torch\\n"',
        "nb_cells_int.ipynb": b'{"cells": 5}',
        "nb_cells_str.ipynb": b'{"cells": "abc"}',
        "nb_source_int.ipynb": b'{"cells": [{"cell_type": "code", "source": 5}, {"cell_type": "code"}, 3, null]}',
        "nb_deep.ipynb": b"[" * 100_000 + b"]" * 100_000,
        "nb_list.ipynb": b"[1, 2]",
        "nb_garbage.ipynb": bytes(rng.randrange(256) for _ in range(500)),
        "nb_ok.ipynb": json.dumps({"cells": [{"cell_type": "code", "source": base.splitlines(True)}, {"cell_type": "markdown", "source": "# x"}]}).encode(),
    }


def _check_output(r, expect_files=None):
    err = r.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err[-3000:]
    assert r.returncode in (0, 1, 2), r.returncode
    out = json.loads(r.stdout.decode("utf-8"))
    return out, err


def test_hostile_bytes(tmp_path):
    rng = random.Random(1)
    for name, data in _byte_cases(rng).items():
        (tmp_path / name).write_bytes(data)
    t = time.monotonic()
    r = _gg(["check", "--no-cache", "--output-format", "json", "--exit-zero", "."], tmp_path)
    out, err = _check_output(r)
    # unreadable notebooks are reported, not crashed on; everything else is analyzed
    assert r.returncode in (0, 2)
    for line in err.splitlines():
        assert line.startswith("gradguard: error:") and ".ipynb" in line, line
    files = {f["filename"] for f in out}
    assert any("latin1.py" in f for f in files) and any("bom.py" in f for f in files)
    assert time.monotonic() - t < 240


def test_hostile_bytes_each_file_alone_and_fix(tmp_path):
    rng = random.Random(2)
    for name, data in _byte_cases(rng).items():
        if name.endswith(".ipynb") or name in ("huge_line.py", "deep_binop.py"):
            continue
        d = tmp_path / name.replace(".", "_")
        d.mkdir()
        (d / name).write_bytes(data)
        r = _gg(["check", "--no-cache", "--output-format", "json", name], d)
        _check_output(r)
        assert r.returncode in (0, 1), (name, r.stderr)
        before = (d / name).read_bytes()
        r = _gg(["check", "--no-cache", "--fix", "--output-format", "json", name], d)
        _check_output(r)
        after = (d / name).read_bytes()
        if after != before:
            assert parses(after.decode("utf-8")), name


def test_usage_errors_exit_2(tmp_path):
    assert _gg(["check", "--no-such-option"], tmp_path).returncode == 2
    assert _gg(["check", "no/such/path.py"], tmp_path).returncode == 2
    assert _gg(["frobnicate"], tmp_path).returncode == 2
    r = _gg(["check", "--select", "NOPE,GG", "--output-format", "json", "."], tmp_path)
    assert r.returncode == 2 and b"NOPE" in r.stderr and b"Traceback" not in r.stderr  # unknown codes are usage errors


def test_time_bound_in_cli(tmp_path):
    text = "import torch\n" + "".join(f"x{i} = torch.ones({i % 7}, requires_grad=True).detach() * 2\n" for i in range(30_000))
    (tmp_path / "big.py").write_text(text)
    t = time.monotonic()
    r = _gg(["check", "--no-cache", "--output-format", "json", "big.py"], tmp_path, env={"GRADGUARD_TIME_BUDGET": "0.5"})
    out, _ = _check_output(r)
    assert [f["code"] for f in out] == ["GG003"] and "analysis skipped" in out[0]["message"]
    assert time.monotonic() - t < 60


def test_mutated_corpus_through_cli(tmp_path, request):
    rng = random.Random(3)
    files = sample_corpus(scale(request, 10, 300), seed=77, max_bytes=30_000)
    for i, (path, text) in enumerate(files):
        for j in range(3):
            m = mutate(text, rng, rounds=rng.randrange(1, 4))
            data = m.encode("utf-8", "surrogatepass") if rng.random() < 0.8 else m.encode("latin-1", "replace")
            (tmp_path / f"f{i}_{j}.py").write_bytes(data)
    r = _gg(["check", "--no-cache", "--output-format", "json", "-j", "2", "."], tmp_path, timeout=900)
    out, err = _check_output(r)
    assert r.returncode in (0, 1), err[-2000:]
    assert not [f for f in out if f["code"] == "GG003" and "internal error" in f["message"]]


def test_special_files_do_not_hang(tmp_path):
    """A FIFO (or a broken symlink) named *.py in a checked directory: skipped, not read (a FIFO read blocks)."""
    os.mkfifo(tmp_path / "pipe.py")
    os.symlink(tmp_path / "nowhere.py", tmp_path / "broken.py")
    (tmp_path / "ok.py").write_text("import torch\n")
    (tmp_path / "dir.py").mkdir()
    (tmp_path / "dir.py" / "inner.py").write_text("x = (\n")
    r = _gg(["check", "--no-cache", "--output-format", "json", "."], tmp_path, timeout=60)
    out, err = _check_output(r)
    assert r.returncode == 1 and [f["code"] for f in out] == ["GG001"], err
