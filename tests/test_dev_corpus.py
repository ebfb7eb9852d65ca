"""The shared dev corpus (35 bugs, 15 clean look-alikes): every bug found on its diagnostic/related lines,
no error/warning on clean cases. Static only (fast); ../shared/tools/evaluate.py also runs the fixes."""
import glob
import json
import os

import pytest

from gradguard.analyze import analyze
from gradguard.core.model import Severity

SHARED = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared"))

CORPUS = os.path.join(SHARED, "corpus", "dev")
CASES = sorted(glob.glob(os.path.join(CORPUS, "*.json")))
CASES = [c for c in CASES if os.path.exists(c[:-5] + ".py")]

# Bugs gradguard does not find yet, each with the reason. Strict: such a case still runs its assertion, and
# the test fails when a known miss starts passing (then remove it from this list).
KNOWN_MISSES: dict = {}


def _case_id(sidecar: str) -> str:
    with open(sidecar, encoding="utf-8") as fh:
        return json.load(fh)["id"]


def _params():
    out = []
    for c in CASES:
        cid = _case_id(c)
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[cid])] if cid in KNOWN_MISSES else []
        out.append(pytest.param(c, marks=marks, id=os.path.basename(c)[:-5]))
    return out


@pytest.mark.skipif(not CASES, reason="../shared/corpus/dev is not available")
@pytest.mark.parametrize("sidecar", _params())
def test_dev_case(sidecar):
    side = json.load(open(sidecar))
    src = open(sidecar[:-5] + ".py", encoding="utf-8").read()
    res = analyze(src, sidecar[:-5] + ".py")
    mine = [f for f in res.findings if f.start.line < side.get("harness_start_line", 10**9)]
    if side["label"] == "bug":
        want = set(side["diagnostic_lines"]) | set(side.get("related_lines", []))
        assert any(f.start.line in want for f in mine), f"{side['id']}: nothing on {sorted(want)}; got {[(f.code, f.start.line) for f in mine]}"
    else:
        loud = [(f.code, f.start.line, f.message) for f in mine if f.severity in (Severity.ERROR, Severity.WARNING)]
        assert not loud, f"false alarm on clean case {side['id']}: {loud}"
