#!/usr/bin/env python3
"""Run the multi-file workspace projects under real torch and check each against its case.json.

usage: python tests/workspace/run_projects.py [--split dev|blind] [--jobs N] [--python PATH] [--isolated] [ids...]

Each project is a directory ``projects/wNN_<slug>/`` of 2-5 Python files; its entry file (``case.json``
``entry``, usually ``train.py``) ends with the ground-truth harness and prints one JSON line (grad_none /
grad_zero / grad_ok / error / warnings / facts / main_seconds / project_modules). The entry runs in its
own process with cwd = the project directory and PYTHONPATH = the project directory (and its ``src/`` when
there is one), exactly as ``cd <project> && PYTHONPATH=.:src python train.py`` would.

Checks (see tests/workspace/README.md):

* ``expect`` against the observation, with the corpus semantics (tests/corpus/run_cases.py ``check``):
  error substring or null, grad_none / grad_zero / grad_ok names, exact facts, warning / no_warning.
* the label against what torch did, independently of ``expect``: a project is *harmed* when it raises,
  when a name in ``should_train`` has no non-zero gradient, or when a fact in ``must_hold`` is not true.
  A bug project must be harmed, a clean one must not (and must show non-zero gradients on everything in
  ``should_train``). A wrong label therefore fails.
* the run imported at least one other file of the project (``project_modules``), and main() < 2 s.
* static: every ``diagnostics`` / ``related`` / ``lookalikes`` entry names a file of the project and a
  line that contains its ``needle`` (and, in the entry file, lies before the harness).

Exit status is non-zero when any project has a problem. Nothing here runs gradguard.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
PROJECTS = HERE / "projects"
SPLITS = ("dev", "blind")
HARNESS_MARK = "# ---- ground-truth harness"
MAX_MAIN_SECONDS = 5.0
MIN_FILES, MAX_FILES = 2, 5
REQUIRED_FIELDS = ("id", "label", "entry", "family", "family_name", "description", "fix", "source_url",
                   "layout", "diagnostics", "related", "lookalikes", "should_train", "must_hold", "fix_patch",
                   "expect", "observed_with")

sys.path.insert(0, str(HERE.parent / "corpus"))
import run_cases  # noqa: E402  (the corpus checker: one definition of the expect semantics)


def default_python():
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def split_of(project_dir):
    """Odd wNN -> dev, even wNN -> blind."""
    return "dev" if int(project_dir.name[1:3]) % 2 else "blind"


def project_dirs(splits=SPLITS, ids=()):
    out = sorted(p for p in PROJECTS.iterdir() if p.is_dir() and p.name[:1] == "w" and p.name[1:3].isdigit())
    out = [p for p in out if split_of(p) in splits]
    if ids:
        out = [p for p in out if any(p.name == i or p.name.startswith(i) for i in ids)]
    return out


def python_files(project_dir):
    return sorted(str(p.relative_to(project_dir)) for p in project_dir.rglob("*.py") if "__pycache__" not in p.parts)


def search_path(project_dir):
    paths = [str(project_dir)]
    if (project_dir / "src").is_dir():
        paths.append(str(project_dir / "src"))
    return paths


def load_sidecar(project_dir):
    return json.loads((project_dir / "case.json").read_text())


def check_sidecar(project_dir, side):
    """Static validity of case.json against the project's files."""
    problems = [f"case.json: missing field {f!r}" for f in REQUIRED_FIELDS if f not in side]
    if problems:
        return problems
    if side["id"] != project_dir.name:
        problems.append(f"case.json: id {side['id']!r} != directory {project_dir.name!r}")
    if side["label"] not in ("bug", "clean"):
        problems.append(f"case.json: label {side['label']!r}")
    files = python_files(project_dir)
    if not MIN_FILES <= len(files) <= MAX_FILES:
        problems.append(f"project has {len(files)} Python files, want {MIN_FILES}-{MAX_FILES}")
    entry = project_dir / side["entry"]
    if not entry.is_file():
        return problems + [f"case.json: entry {side['entry']!r} does not exist"]
    entry_lines = entry.read_text().split("\n")
    hs = next((i + 1 for i, s in enumerate(entry_lines) if s.startswith(HARNESS_MARK)), None)
    if hs is None:
        problems.append("entry file has no ground-truth harness")
        hs = len(entry_lines) + 1
    for key in ("diagnostics", "related", "lookalikes"):
        for d in side[key]:
            f, n, needle = d.get("file"), d.get("line"), d.get("needle")
            if f not in files:
                problems.append(f"case.json: {key} file {f!r} is not a Python file of the project")
                continue
            lines = (project_dir / f).read_text().split("\n")
            limit = hs if f == side["entry"] else len(lines) + 1
            if not (isinstance(n, int) and 1 <= n < limit):
                problems.append(f"case.json: {key} {f}:{n} is out of range")
            elif not needle or needle not in lines[n - 1]:
                problems.append(f"case.json: {key} {f}:{n} does not contain {needle!r}: {lines[n - 1].strip()!r}")
    if side["label"] == "bug" and not side["diagnostics"]:
        problems.append("case.json: bug project without diagnostics")
    if side["label"] == "clean" and (side["diagnostics"] or not side["lookalikes"]):
        problems.append("case.json: a clean project has no diagnostics and names its look-alike lines")
    if not side["related"]:
        problems.append("case.json: related is empty (name the line(s) proving harm / training)")
    if not str(side["source_url"]).startswith("http"):
        problems.append("case.json: source_url must be a URL")
    if not side["should_train"]:
        problems.append("case.json: should_train is empty")
    problems += check_fix_patch(project_dir, side, files)
    return problems


def _patch_spans(project_dir, side):
    """{file: [(first_line, last_line), ...]} covered by each edit's `old` text (which must occur exactly once)."""
    spans, problems = {}, []
    for e in side["fix_patch"]:
        path = project_dir / e.get("file", "")
        if not path.is_file():
            problems.append(f"case.json: fix_patch file {e.get('file')!r} does not exist")
            continue
        text = path.read_text()
        n = text.count(e["old"]) if e.get("old") else 0
        if n != 1:
            problems.append(f"case.json: fix_patch text must occur exactly once in {e['file']} (found {n}): {e.get('old', '')[:60]!r}")
            continue
        first = text[:text.index(e["old"])].count("\n") + 1
        spans.setdefault(e["file"], []).append((first, first + e["old"].rstrip("\n").count("\n")))
    return spans, problems


def check_fix_patch(project_dir, side, files):
    """A bug project carries the fix as exact edits, and every diagnostic line is one the fix changes."""
    if side["label"] == "clean":
        return ["case.json: a clean project has no fix_patch"] if side["fix_patch"] else []
    if not side["fix_patch"]:
        return ["case.json: a bug project needs a fix_patch (the edit that makes it train)"]
    spans, problems = _patch_spans(project_dir, side)
    for d in side["diagnostics"]:
        if not any(a <= d.get("line", 0) <= b for a, b in spans.get(d.get("file"), [])):
            problems.append(f"case.json: diagnostic {d.get('file')}:{d.get('line')} is not changed by the fix_patch")
    return problems


def apply_fix(project_dir, dest_root):
    """Copy the project to dest_root/<id> and apply its fix_patch; returns the copy's directory."""
    import shutil
    side = load_sidecar(project_dir)
    dest = pathlib.Path(dest_root) / project_dir.name
    shutil.copytree(project_dir, dest, ignore=shutil.ignore_patterns("__pycache__"))
    for e in side["fix_patch"]:
        path = dest / e["file"]
        text = path.read_text()
        assert text.count(e["old"]) == 1, (project_dir.name, e["file"], e["old"][:60])
        path.write_text(text.replace(e["old"], e["new"]))
    return dest


def check_fixed(side, obs):
    """The fixed copy of a bug project must train: no error, should_train all non-zero, must_hold all true."""
    if obs is None:
        return ["fixed copy: no JSON output"]
    reasons = harm(side, obs)
    return ["fixed copy still harmed: " + "; ".join(reasons)] if reasons else []


def harm(side, obs):
    """Why torch says this program is broken ([] = it trains as its author intended)."""
    reasons = []
    if obs.get("error"):
        reasons.append("raised " + obs["error"][:80])
    ok = set(obs.get("grad_ok", []))
    starved = [n for n in side["should_train"] if n not in ok]
    if starved:
        reasons.append(f"no non-zero gradient on {starved}")
    facts = obs.get("facts") or {}
    broken = [k for k in side["must_hold"] if facts.get(k) is not True]
    if broken:
        reasons.append(f"must_hold facts not true: {broken}")
    return reasons


def check_label(side, obs):
    """The label must agree with torch: bug <=> harmed."""
    if obs is None:
        return ["no observation"]
    reasons = harm(side, obs)
    if side["label"] == "bug" and not reasons:
        return ["labelled bug but torch shows no harm (no error, should_train all get gradients, must_hold all true)"]
    if side["label"] == "clean" and reasons:
        return ["labelled clean but torch shows harm: " + "; ".join(reasons)]
    return []


def check(project_dir, side, obs):
    timed = dict(obs, main_seconds=0) if obs is not None else None  # the time limit is ours (below), not the corpus's
    problems = run_cases.check({"label": side["label"], "expect": side["expect"]}, timed)
    if obs is None:
        return problems
    if obs.get("main_seconds", 0) > MAX_MAIN_SECONDS:
        problems.append(f"main() took {obs['main_seconds']}s > {MAX_MAIN_SECONDS}s")
    problems += check_label(side, obs)
    if not obs.get("project_modules"):
        problems.append("the entry imported no other file of the project")
    return problems


# --- running -------------------------------------------------------------------------------------------

def _env(project_dir=None):
    env = dict(os.environ)
    env["PYTHONWARNINGS"] = "ignore"
    extra = search_path(project_dir) if project_dir is not None else []
    env["PYTHONPATH"] = os.pathsep.join(extra + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def run_project(project_dir, entry, python=None, timeout=120):
    """Run one entry in a fresh interpreter; returns (observed-or-None, stderr tail, wall seconds)."""
    t0 = time.time()
    try:
        p = subprocess.run([python or default_python(), entry], cwd=project_dir, capture_output=True, text=True,
                           timeout=timeout, env=_env(project_dir))
    except subprocess.TimeoutExpired:
        return None, "timeout", round(time.time() - t0, 1)
    return run_cases._parse(p.stdout), p.stderr[-600:], round(time.time() - t0, 1)


class ForkServer:
    """The corpus fork server (tests/corpus/run_cases.py: torch imported once, a fresh child per run), running a
    project's entry from the project directory with the project (and its src/) importable."""

    def __init__(self, python=None):
        self.server = run_cases.ForkServer(python)

    def run(self, project_dir, entry, timeout=120):
        return self.server.run(pathlib.Path(project_dir) / entry, timeout, extra_path=search_path(pathlib.Path(project_dir)))

    def close(self):
        self.server.close()


def evaluate(project_dir, python=None, runner=None, observe_only=False):
    """Run and check one project: dict with id, label, problems, observed, wall."""
    base = {"id": project_dir.name, "label": "?", "family": "?", "observed": None, "wall": 0.0}
    if observe_only:  # a patched copy: run it, report only whether it produced an observation
        entry = load_sidecar(project_dir).get("entry", "train.py")
        obs, err, wall = runner.run(project_dir, entry) if runner is not None else run_project(project_dir, entry, python)
        problems = [] if obs is not None else ["stderr: " + ((err or "").strip().splitlines() or [""])[-1][:200]]
        return {**base, "problems": problems, "observed": obs, "wall": wall}
    if not (project_dir / "case.json").exists():
        return {**base, "problems": ["no case.json"]}
    try:
        side = load_sidecar(project_dir)
    except json.JSONDecodeError as e:
        return {**base, "problems": [f"case.json is not JSON: {e}"]}
    problems = check_sidecar(project_dir, side)
    entry = side.get("entry", "train.py")
    if runner is not None:
        obs, err, wall = runner.run(project_dir, entry)
    else:
        obs, err, wall = run_project(project_dir, entry, python)
    if "expect" in side and "should_train" in side and "must_hold" in side:
        problems += check(project_dir, side, obs)
    if obs is None and err:
        problems.append("stderr: " + (err.strip().splitlines() or [""])[-1][:200])
    return {"id": project_dir.name, "label": side.get("label"), "family": side.get("family"), "problems": problems,
            "observed": obs, "wall": wall}


def run_all(dirs, jobs=2, python=None, isolated=False, observe_only=False):
    jobs = max(1, jobs)
    if isolated or not hasattr(os, "fork"):
        with ThreadPoolExecutor(jobs) as ex:
            return list(ex.map(lambda d: evaluate(d, python, observe_only=observe_only), dirs))
    import queue
    servers = queue.Queue()
    pool = [ForkServer(python) for _ in range(min(jobs, len(dirs)))]
    for s in pool:
        servers.put(s)

    def one(d):
        s = servers.get()
        try:
            return evaluate(d, python, s, observe_only)
        finally:
            servers.put(s)
    try:
        with ThreadPoolExecutor(len(pool)) as ex:
            return list(ex.map(one, dirs))
    finally:
        for s in pool:
            s.close()


def run_fixed_all(dirs, jobs=2, python=None):
    """Apply each bug project's fix_patch to a temporary copy and run it; list of {id, problems, observed}."""
    import tempfile
    bugs = [d for d in dirs if load_sidecar(d)["label"] == "bug"]
    out = []
    with tempfile.TemporaryDirectory(prefix="gg-workspace-fixed-") as root:
        copies = {apply_fix(d, root): d for d in bugs}
        runs = run_all(list(copies), jobs, python, observe_only=True)
        for r in runs:
            side = load_sidecar(PROJECTS / r["id"])
            out.append({"id": r["id"], "problems": check_fixed(side, r["observed"]) + r["problems"], "observed": r["observed"]})
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=SPLITS, default=None, help="only this split (default: both)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--python", default=None, help="interpreter with torch (default: the repo's .venv)")
    ap.add_argument("--isolated", action="store_true", help="a fresh interpreter per project instead of forking")
    ap.add_argument("--json", action="store_true", help="print the observations as JSON (one line per project)")
    ap.add_argument("--fixed", action="store_true", help="run each bug project with its fix_patch applied (must train)")
    ap.add_argument("ids", nargs="*")
    a = ap.parse_args(argv)
    dirs = project_dirs((a.split,) if a.split else SPLITS, a.ids)
    if not dirs:
        print("no projects found")
        return 1
    t0 = time.time()
    if a.fixed:
        fixed = run_fixed_all(dirs, a.jobs, a.python)
        for r in fixed:
            print(f"{r['id']:<50} {'PASS' if not r['problems'] else 'FAIL'}  {run_cases._signal(r['observed'])}")
            for p in r["problems"]:
                print(f"    !! {p}")
        bad = sum(bool(r["problems"]) for r in fixed)
        print(f"{len(fixed) - bad}/{len(fixed)} fixed bug projects train in {round(time.time() - t0, 1)}s")
        return 1 if bad else 0
    results = run_all(dirs, a.jobs, a.python, a.isolated)
    if a.json:
        for r in results:
            print(json.dumps({"id": r["id"], "observed": r["observed"]}, sort_keys=True))
        return 0
    w = max(len(r["id"]) for r in results)
    bad = 0
    for r in results:
        status = "PASS" if not r["problems"] else "FAIL"
        bad += bool(r["problems"])
        ms = r["observed"]["main_seconds"] if r["observed"] else "-"
        print(f"{r['id']:<{w}}  {r['label']!s:<5}  {status}  {r['wall']:>5}s main={ms!s:<6} {run_cases._signal(r['observed'])}")
        for p in r["problems"]:
            print(f"{'':<{w}}    !! {p}")
    nb = sum(r["label"] == "bug" for r in results)
    print(f"{len(results) - bad}/{len(results)} pass ({nb} bug, {len(results) - nb} clean) in {round(time.time() - t0, 1)}s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
