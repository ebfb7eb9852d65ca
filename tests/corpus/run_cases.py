#!/usr/bin/env python3
"""Run the ground-truth corpus cases under real torch and check each against its sidecar.

usage: python tests/corpus/run_cases.py [--dir dev|blind] [--jobs N] [--python PATH] [--isolated] [ids...]

Each case ``<id>.py`` prints one JSON line (grad_none / grad_zero / grad_ok / error / warnings /
facts / main_seconds) from its ground-truth harness; ``<id>.json`` says what must be observed. The
check has the same semantics as the shared corpus oracle (reimplemented here so CI does not need
/work/shared):

  error       null -> must finish without exception; "substring" -> exception text must contain it
  grad_none   names whose .grad must be None
  grad_zero   names whose .grad must be all zeros
  grad_ok     names whose .grad must be present and non-zero
  facts       {key: value} pairs the program must report exactly
  warning / no_warning   substring that must / must not occur in a recorded warning

Sidecar sanity: a bug case must expect a failure signal (error, grad_none, grad_zero or facts); a
clean case must expect no error and some grad_ok or facts. main() must take < 2 s.
Exit status is non-zero when any case has a problem.
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
SHIMS = HERE / "shims"
SPLITS = ("dev", "blind")
MAX_MAIN_SECONDS = 2.0
HARNESS_MARK = "# ---- ground-truth harness"
REQUIRED_FIELDS = ("id", "family", "family_name", "label", "diagnostic_lines", "related_lines",
                   "lookalike_lines", "explanation", "fix", "source_url", "extra_source_urls",
                   "difficulty", "tags", "expect", "harness_start_line", "observed_with")


def default_python():
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


# A blind half held out until it is scored, once, at the end of the session that adds it: tests that run
# gradguard on the blind cases skip these ids until then (empty when every blind half has been scored).
# The c13 blind half (c1302, c1304, ..., c1340) was scored once at the end of the fourteenth session (7/13 found,
# 0/7 false alarms). The c14 and c15 blind halves were scored once at the end of the 2026-12-04 session that developed
# against the c14 and c15 dev halves (c14: 7/13 found, 0/7 false alarms; c15: 5/13, 0/7; the session-start engine gave
# the same). The c16 and c17 blind halves were scored once at the end of the 2026-12-04 session that developed against
# the c16 and c17 dev halves (c16: 4/13 found, 0/7 false alarms; c17: 3/13, 1/7; the session-start engine gave the same).
# The c18 blind half (c1802, c1804, ..., c1840) was scored once at the end of the 2026-12-04 session (third of the day)
# that developed against the c18 dev half: 7/13 found, 0/7 false alarms (the session-start engine gave the same); it
# was scored before that session's last engine changes, and its final engine finds 8/13, 0/7 (c1802 too, by the
# constructor-set numeric branch fact developed for c1801).
# The c19 blind half (c1902, c1904, ..., c1940) was held out until it was scored once, at the end of the fourth
# 2026-12-04 session, which developed against the c19 dev half: 8/13 found, 0/7 false alarms (the session-start engine
# the same). The c20 blind half (c2002, c2004, ..., c2040) was held out until it was scored once, at the end of the fifth
# 2026-12-04 session, which developed against the c20 dev half (and the c21 dev half): 8/13 found, 0/7 false alarms
# (the session-start engine 7/13, 0/7). The c21 blind half (c2102, c2104, ..., c2140) and the c22 blind half (c2202,
# c2204, ..., c2240) were held out until they were scored once, at the end of the sixth 2026-12-04 session, which
# developed against the c22 dev half (the fifth had developed against c21 dev and left its blind half unseen):
# c21 blind 9/13 found, 0/7 false alarms; c22 blind 8/13, 1/7 (the session-start engine the same on both). Ids of a
# held-out half are written whole with their trailing underscore: a prefix such as "c19" would also match any c1 case
# numbered c190..c199 (and "c20" any c2 case numbered c200..c209, "c21" any numbered c210..c219, "c22" any numbered
# c220..c229). The c23 blind half (c2302, c2304, ..., c2320; c2314..c2320 added by the first 2026-12-05 session, which
# completed the half) was held out until it was scored once, at the end of that session, which developed against the
# c23 dev half: 4/7 found, 0/3 false alarms (the session-start engine the same) ("c23" would also match c230..c239).
# The c24 blind half (c2402, c2404, ..., c2440) was held out the same way and scored once, at the end of the second
# 2026-12-05 session (the first developed against the c24 dev half, the second against older blind misses and the c25
# dev half): 7/13 found, 0/7 false alarms (the session-start engine the same). The c25 blind half (c2502, c2504, ...,
# c2540) was held out the same way and scored once, at the end of the third 2026-12-05 session (which developed against
# the c25 and c26 dev halves and older blind misses): 6/13 found, 0/7 false alarms (the session-start engine the same)
# ("c25" would also match c250..c259). The c26 blind half (c2602, c2604, ..., c2640) was held out the same way and
# scored once, at the start of the fourth 2026-12-05 session, with the engine the third 2026-12-05 session (which
# developed against the c26 dev half) ended with: 6/13 found, 0/7 false alarms ("c26" would also match c260..c269).
# The c27 blind half (c2702, c2704, ..., c2740) was held out the same way and scored once, at the end of the fourth
# 2026-12-05 session, which developed against the c27 dev half: 6/13 found, 0/7 false alarms (the session-start engine
# the same) ("c27" would also match c270..c279).
# The c28 blind half (c2802, c2804, ..., c2840) was held out the same way until it was scored once, at the end of the
# fifth 2026-12-05 session, which developed against the c28 dev half: 7/13 found, 0/7 false alarms (the session-start
# engine the same) ("c28" would also match c280..c289).
# The c29 blind half (c2902, c2904, ..., c2940) was held out the same way until it was scored once, at the end of the
# sixth 2026-12-05 session, which developed against the c29 dev half: 6/13 found, 0/7 false alarms (the session-start
# engine the same; 8/13 after two misses were studied) ("c29" would also match c290..c299, so the ids were written whole).
# The c30 blind half (c3002, c3004, ..., c3040) was held out the same way until it was scored once, at the end of the
# seventh 2026-12-05 session, which developed against the c30 dev half: 10/13 found, 1/7 false alarms (the
# session-start engine the same) ("c30" would also match c300..c309, so the ids were written whole).
# The c31 blind half (c3102, c3104, ..., c3140) and the c32 blind half (c3202, c3204, ..., c3240) were held out the
# same way until they were scored once, at the end of the first 2026-12-06 session, which developed against both dev
# halves: c31 blind 11/13 found, 0/7 false alarms; c32 blind 7/13, 0/7 (the session-start engine the same on both; c32
# blind 9/13 after two misses were studied) ("c31" / "c32" would also match c310..c319 / c320..c329, so the ids were
# written whole).
# The c33 blind half (c3302, c3304, ..., c3340) was held out the same way until it was scored once, at the end of the
# second 2026-12-06 session, which developed against the c33 dev half: 10/13 found, 0/7 false alarms (the session-start
# engine the same) ("c33" would also match c330..c339, so the ids were written whole).
# The c34 blind half (c3402, c3404, ..., c3432) and the c35 blind half (c3502, c3504, ..., c3540) were held out the same
# way until they were scored once, at the end of the third 2026-12-06 session, which developed against both dev halves:
# c34 9/11 found, 0/5 false alarms; c35 10/13 found, 1/7 false alarms (the session-start engine: 9/11, 0/5 and 10/13,
# 0/7) ("c34" / "c35" would also match c340..c349 / c350..c359, so the ids were written whole).
# The c36 blind half (c3602, c3604, ..., c3640) and the c37 blind half (c3702, c3704, ..., c3740) were held out the same
# way until they were scored once, at the end of the fourth 2026-12-06 session, which developed against both dev halves:
# c36 6/13 found, 0/7 false alarms; c37 7/13 found, 1/7 false alarms (the session-start engine the same on both)
# ("c36" / "c37" would also match c360..c369 / c370..c379, so the ids were written whole).
# The c38 blind half (c3802, c3804, ..., c3840) was held out the same way until it was scored once, at the end of the
# fifth 2026-12-06 session, which developed against the c38 dev half: 7/13 found, 0/7 false alarms (the session-start
# engine the same) ("c38" would also match c380..c389, so the ids were written whole).
# The c39 blind half (c3902, c3904, ..., c3940) is held out the same way until it is scored once, at the end of the
# session that develops against the c39 dev half ("c39" would also match c390..c399, so the ids are written whole).
# The c40 blind half (c4002, c4004, ..., c4040) is held out the same way until it is scored once, at the end of the
# session that develops against the c40 dev half ("c40" would also match c400..c409, so the ids are written whole).
# The c41 and c42 blind halves (c4102, c4104, ..., c4140 and c4202, c4204, ..., c4240) were held out the same way until
# they were scored once, at the end of the seventh 2026-12-06 session, which developed against their dev halves: c41
# 11/13 found, 0/7 false alarms (the session-start engine 10/13, 0/7); c42 11/13, 0/7 (the session-start engine the same)
# ("c41" / "c42" would also match c410..c419 / c420..c429, so the ids were written whole).
# The c43 and c44 blind halves (c4302, c4304, ..., c4340 and c4402, c4404, ..., c4440) were held out the same way until
# they were scored once, at the end of the first 2026-12-07 session, which developed against their dev halves: c43
# 9/13 found, 0/7 false alarms (the session-start engine the same); c44 8/13, 1/7 (the session-start engine the same)
# ("c43" / "c44" would also match c430..c439 / c440..c449, so the ids were written whole).
# The c45 and c46 blind halves (c4502, c4504, ..., c4540 and c4602, c4604, ..., c4640) were held out the same way until
# they were scored once, at the end of the second 2026-12-07 session, which developed against their dev halves: c45
# 8/13 found, 0/7 false alarms (the session-start engine the same); c46 6/13, 0/7 (the session-start engine the same)
# ("c45" / "c46" would also match c450..c459 / c460..c469, so the ids were written whole).
# The c47 and c48 blind halves (c4702, c4704, ..., c4740 and c4802, c4804, ..., c4840) were held out the same way until
# they were scored once, at the end of the third 2026-12-07 session, which developed against their dev halves: c47 7/13
# found, 0/7 false alarms; c48 8/13, 0/7 (the session-start engine's scores are in the corpus README) ("c47" / "c48"
# would also match c470..c479 / c480..c489, so the ids were written whole).
# The c49 blind half (c4902, c4904, ..., c4940) is held out the same way until it is scored once, at the end of the
# session that develops against the c49 dev half ("c49" would also match c490..c499, so the ids are written whole).
# The c50 blind half (c5002, c5004, ..., c5040) was held out the same way until it was scored once, at the end of the
# first 2026-12-07 afternoon session, which developed against the c50 dev half and real-repository false alarms: 11/13
# found, 0/7 false alarms (the session-start engine the same) ("c50" would also match c500..c509, so the ids were written whole).
# The c51 blind half (c5102, c5104, ..., c5140) was held out the same way until it was scored once, at the end of the
# 2026-12-07 21:43-00:43 session, which developed against the c51 dev half and real-repository false alarms: 12/13
# found, 1/7 false alarms (the session-start engine the same) ("c51" would also match c510..c519, so the ids were written whole).
UNSCORED_BLIND: tuple = ()


def scored_blind(paths):
    """``paths`` without the blind cases still held out (UNSCORED_BLIND)."""
    return [p for p in paths if not pathlib.Path(p).name.startswith(UNSCORED_BLIND)]


def case_files(dirs=SPLITS, ids=()):
    out = []
    for d in dirs:
        out.extend(sorted((HERE / d).glob("*.py")))
    if ids:
        out = [c for c in out if any(c.stem == i or c.stem.startswith(i) for i in ids)]
    return out


def check_sidecar(side, source_text):
    """Static validity of a sidecar against its program text."""
    problems = []
    for f in REQUIRED_FIELDS:
        if f not in side:
            problems.append(f"sidecar: missing field {f!r}")
    if problems:
        return problems
    lines = source_text.split("\n")
    hs = side["harness_start_line"]
    if not (isinstance(hs, int) and 1 <= hs <= len(lines) and lines[hs - 1].startswith(HARNESS_MARK)):
        problems.append(f"sidecar: harness_start_line {hs} does not point at the harness comment")
        hs = len(lines) + 1
    for key in ("diagnostic_lines", "related_lines", "lookalike_lines"):
        for n in side[key]:
            if not (isinstance(n, int) and 1 <= n < hs and lines[n - 1].strip()):
                problems.append(f"sidecar: {key} {n} is not a non-blank line before the harness")
    if side["label"] not in ("bug", "clean"):
        problems.append(f"sidecar: label {side['label']!r}")
    if side["label"] == "bug" and not side["diagnostic_lines"]:
        problems.append("sidecar: bug case without diagnostic_lines")
    if side["label"] == "clean" and side["diagnostic_lines"]:
        problems.append("sidecar: clean case with diagnostic_lines")
    if not str(side["source_url"]).startswith("http"):
        problems.append("sidecar: source_url must be a URL")
    if any(not str(u).startswith("http") for u in side["extra_source_urls"]):
        problems.append("sidecar: extra_source_urls must be URLs")
    return problems


def check(side, obs):
    """Observed behaviour (parsed JSON line, or None) against the sidecar's expectation."""
    exp, label, problems = side["expect"], side["label"], []
    fails = bool(exp.get("error")) or bool(exp.get("grad_none")) or bool(exp.get("grad_zero")) \
        or bool(exp.get("facts"))
    if label == "bug" and not fails:
        problems.append("sidecar: bug case expects no failure signal")
    if label == "clean" and (exp.get("error") is not None or not (exp.get("grad_ok") or exp.get("facts"))):
        problems.append("sidecar: clean case must expect no error and some grad_ok/facts")
    if obs is None:
        return problems + ["no JSON output"]
    e = exp.get("error")
    if e is None and obs.get("error") is not None:
        problems.append(f"unexpected error: {obs['error'][:120]}")
    if e is not None and (obs.get("error") is None or e not in obs["error"]):
        problems.append(f"expected error containing {e!r}, got {obs.get('error')!r}")
    for key in ("grad_none", "grad_zero", "grad_ok"):
        missing = [n for n in exp.get(key, []) if n not in obs.get(key, [])]
        if missing:
            problems.append(f"{key} missing {missing}")
    facts = obs.get("facts") or {}
    for k, v in exp.get("facts", {}).items():
        if facts.get(k, "<absent>") != v:
            problems.append(f"fact {k}: expected {v!r}, got {facts.get(k, '<absent>')!r}")
    w = exp.get("warning")
    if w and not any(w in x for x in obs.get("warnings", [])):
        problems.append(f"expected a warning containing {w!r}")
    nw = exp.get("no_warning")
    if nw and any(nw in x for x in obs.get("warnings", [])):
        problems.append(f"expected no warning containing {nw!r}")
    # The budget keeps cases quick. Forked by the fork server, a case is held to its own CPU time (the whole forked
    # run, main() included), which other jobs on the machine do not inflate; run alone, to main()'s wall time.
    if "case_cpu_seconds" in obs:
        if obs["case_cpu_seconds"] > MAX_MAIN_SECONDS:
            problems.append(f"the case took {obs['case_cpu_seconds']}s of CPU > {MAX_MAIN_SECONDS}s")
    elif obs.get("main_seconds", 0) > MAX_MAIN_SECONDS:
        problems.append(f"main() took {obs['main_seconds']}s > {MAX_MAIN_SECONDS}s")
    return problems


def _env():
    env = dict(os.environ)
    env["PYTHONWARNINGS"] = "ignore"
    env["PYTHONPATH"] = os.pathsep.join([str(SHIMS)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _parse(stdout):
    lines = stdout.strip().splitlines()
    if lines:
        try:
            return json.loads(lines[-1])
        except json.JSONDecodeError:
            return None
    return None


def run_case(path, python=None, timeout=120):
    """Run one case in a fresh interpreter; returns (observed-or-None, stderr tail, wall seconds)."""
    t0 = time.time()
    try:
        p = subprocess.run([python or default_python(), path.name], cwd=path.parent, capture_output=True,
                           text=True, timeout=timeout, env=_env())
    except subprocess.TimeoutExpired:
        return None, "timeout", round(time.time() - t0, 1)
    return _parse(p.stdout), p.stderr[-600:], round(time.time() - t0, 1)


# --- fork server: one interpreter imports torch once, then forks a fresh child per case ------------
# Importing torch dominates a case's wall time (~2-3 s); a child forked from a process that has only
# imported torch runs the case exactly as `python <case>.py` would (own process, own globals, its
# own grad mode), but starts in milliseconds.

def _serve():  # runs inside the torch interpreter: `python run_cases.py --serve`
    import runpy
    import tempfile
    import traceback

    import torch  # noqa: F401  (preload)
    import torch.distributions  # noqa: F401
    import torch.nn  # noqa: F401
    import torch.optim  # noqa: F401
    import torch.utils.data  # noqa: F401
    # Building an optimizer imports torch._dynamo (~2-4 s); do it once here, as the harness does
    # outside its timed region.
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    # torch.compile's first call imports a few hundred modules (functorch, networkx, ...): import
    # them here too, so main()'s time measures the case, not the import system.
    for name in ("functorch.compile", "torch._functorch.aot_autograd", "torch._dynamo.convert_frame",
                 "torch._dynamo.symbolic_convert", "torch._dynamo.output_graph", "numpy"):
        try:
            __import__(name)
        except Exception:  # pragma: no cover - optional
            pass
    out = sys.stdout
    for line in sys.stdin:
        req = json.loads(line)
        path, timeout = pathlib.Path(req["path"]), req["timeout"]
        extra = [str(x) for x in req.get("extra_path", [])]  # also importable (a project's dir and its src/)
        with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
            out.flush()
            pid = os.fork()
            if pid == 0:  # child: behave like `cd <dir> && python <case>.py`
                code = 0
                try:
                    os.dup2(fo.fileno(), 1)
                    os.dup2(fe.fileno(), 2)
                    os.chdir(path.parent)
                    sys.argv = [path.name]
                    sys.path[0:1] = [str(path.parent)] + [x for x in extra if x != str(path.parent)]
                    if extra:  # subprocesses the program starts see the same path
                        os.environ["PYTHONPATH"] = os.pathsep.join(extra + [x for x in os.environ.get("PYTHONPATH", "").split(os.pathsep) if x])
                    runpy.run_path(path.name, run_name="__main__")
                except SystemExit as e:
                    code = e.code if isinstance(e.code, int) else 1
                except BaseException:
                    traceback.print_exc()
                    code = 1
                finally:
                    try:
                        sys.stdout.flush()
                        sys.stderr.flush()
                    finally:
                        os._exit(code)
            deadline = time.time() + timeout
            rc = None
            cpu = None
            while rc is None:
                done, status, usage = os.wait4(pid, os.WNOHANG)
                if done:
                    rc = os.waitstatus_to_exitcode(status)
                    cpu = round(usage.ru_utime + usage.ru_stime, 3)  # the case's own CPU: not its neighbours' load
                elif time.time() > deadline:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    rc = "timeout"
                else:
                    time.sleep(0.01)
            fo.seek(0)
            fe.seek(0)
            out.write(json.dumps({"stdout": fo.read(), "stderr": fe.read()[-600:], "rc": rc, "cpu": cpu}) + "\n")
            out.flush()


class ForkServer:
    def __init__(self, python=None):
        self.proc = subprocess.Popen([python or default_python(), str(HERE / "run_cases.py"), "--serve"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=_env(),
                                     cwd=str(HERE))

    def run(self, path, timeout=120, extra_path=()):
        """Run ``path`` as `cd <its dir> && python <file>`, with ``extra_path`` directories importable too."""
        t0 = time.time()
        self.proc.stdin.write(json.dumps({"path": str(path), "timeout": timeout, "extra_path": [str(x) for x in extra_path]}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            return None, "fork server died", round(time.time() - t0, 1)
        res = json.loads(line)
        err = "timeout" if res["rc"] == "timeout" else res["stderr"]
        observed = _parse(res["stdout"])
        if observed is not None and res.get("cpu") is not None:
            observed["case_cpu_seconds"] = res["cpu"]
        return observed, err, round(time.time() - t0, 1)

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()


def evaluate(path, python=None, runner=None):
    """Run and check one case: dict with id, label, problems, observed, wall."""
    sidecar = path.with_suffix(".json")
    if not sidecar.exists():
        return {"id": path.stem, "label": "?", "family": "?", "problems": ["no sidecar " + sidecar.name],
                "observed": None, "wall": 0.0}
    try:
        side = json.loads(sidecar.read_text())
    except json.JSONDecodeError as e:
        return {"id": path.stem, "label": "?", "family": "?", "problems": [f"sidecar is not JSON: {e}"],
                "observed": None, "wall": 0.0}
    problems = check_sidecar(side, path.read_text())
    if side.get("id") != path.stem:
        problems.append(f"sidecar: id {side.get('id')!r} != file name {path.stem!r}")
    obs, err, wall = runner.run(path) if runner is not None else run_case(path, python)
    problems += check(side, obs)
    if obs is None and err:
        problems.append("stderr: " + (err.strip().splitlines() or [""])[-1][:200])
    return {"id": path.stem, "label": side.get("label"), "family": side.get("family"), "problems": problems,
            "observed": obs, "wall": wall}


def run_all(paths, jobs=2, python=None, isolated=False):
    """Check every case; `isolated` starts a fresh interpreter per case instead of forking."""
    jobs = max(1, jobs)
    if isolated or not hasattr(os, "fork"):
        with ThreadPoolExecutor(jobs) as ex:
            return list(ex.map(lambda p: evaluate(p, python), paths))
    import queue
    servers = queue.Queue()
    pool = [ForkServer(python) for _ in range(min(jobs, len(paths)))]
    for s in pool:
        servers.put(s)

    def one(p):
        s = servers.get()
        try:
            return evaluate(p, python, s)
        finally:
            servers.put(s)
    try:
        with ThreadPoolExecutor(len(pool)) as ex:
            return list(ex.map(one, paths))
    finally:
        for s in pool:
            s.close()


def _signal(obs):
    if obs is None:
        return "-"
    if obs.get("error"):
        return "error: " + obs["error"][:60]
    bits = [f"{k.split('_')[1]}={len(obs[k])}" for k in ("grad_none", "grad_zero", "grad_ok") if obs.get(k)]
    if obs.get("facts"):
        bits.append("facts=" + ",".join(f"{k}={v}" for k, v in obs["facts"].items())[:60])
    return " ".join(bits)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", choices=SPLITS, default=None, help="only this split (default: both)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--python", default=None, help="interpreter with torch (default: the repo's .venv)")
    ap.add_argument("--isolated", action="store_true",
                    help="start a fresh interpreter per case instead of forking a torch-preloaded one")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("ids", nargs="*")
    a = ap.parse_args(argv)
    if a.serve:
        _serve()
        return 0
    paths = case_files((a.dir,) if a.dir else SPLITS, a.ids)
    if not paths:
        print("no cases found")
        return 1
    t0 = time.time()
    results = run_all(paths, a.jobs, a.python, a.isolated)
    w = max(len(r["id"]) for r in results)
    bad = 0
    for r in results:
        status = "PASS" if not r["problems"] else "FAIL"
        bad += bool(r["problems"])
        ms = r["observed"]["main_seconds"] if r["observed"] else "-"
        cpu = r["observed"].get("case_cpu_seconds", "-") if r["observed"] else "-"
        print(f"{r['id']:<{w}}  {r['label']:<5}  {status}  {r['wall']:>5}s main={ms!s:<6} cpu={cpu!s:<6} {_signal(r['observed'])}")
        for p in r["problems"]:
            print(f"{'':<{w}}    !! {p}")
    nb = sum(r["label"] == "bug" for r in results)
    print(f"{len(results) - bad}/{len(results)} pass ({nb} bug, {len(results) - nb} clean) "
          f"in {round(time.time() - t0, 1)}s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
