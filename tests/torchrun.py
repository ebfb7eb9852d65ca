"""Run example programs under real CPU torch, fast: one process imports torch once and forks per program.

Each program defines ``main()`` returning ``{name: tensor_or_module}`` (optionally with a second dict of
facts), like the dev corpus. The observation says which gradients are None / zero / ok, the error raised
(first line), warnings, and the facts. Used only by tests: the server never runs user code.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

HARNESS = r'''

def __gg_observe():
    import json as _json, warnings as _warnings
    import torch as _torch
    _err, _watched, _facts = None, {}, {}
    with _warnings.catch_warnings(record=True) as _w:
        _warnings.simplefilter("always")
        try:
            _out = main()
            if isinstance(_out, tuple):
                _watched, _facts = _out
            elif _out is not None:
                _watched = _out
        except Exception as _e:
            _err = (type(_e).__name__ + ": " + str(_e)).splitlines()[0][:300]
    _states = {}
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        for _name, _obj in _watched.items():
            _items = [(_name + "." + _n, _p) for _n, _p in _obj.named_parameters()] if isinstance(_obj, _torch.nn.Module) else [(_name, _obj)]
            for _n, _t in _items:
                _g = getattr(_t, "grad", None)
                _states[_n] = "none" if _g is None else ("ok" if bool(_g.abs().sum() > 0) else "zero")
    return {"grad_none": sorted(k for k, v in _states.items() if v == "none"),
            "grad_zero": sorted(k for k, v in _states.items() if v == "zero"),
            "grad_ok": sorted(k for k, v in _states.items() if v == "ok"),
            "error": _err, "facts": _facts,
            "warnings": sorted({(str(_m.message)).splitlines()[0][:200] for _m in _w})}
'''

# Each program gets at most PROGRAM_CPU_SECONDS of CPU (RLIMIT_CPU in its forked child): a program that hangs or spins is
# stopped by the kernel and reported, and the limit counts the program's own CPU time, so neighbours' load on the
# machine cannot make a correct program fail (a wall-clock timeout over the whole batch did, under load 6-10).
PROGRAM_CPU_SECONDS = 60

RUNNER = r'''
import json, os, resource, sys, runpy
import torch, numpy  # imported once; each program runs in a forked child
limit = int(sys.argv[1])
paths = json.loads(sys.stdin.read())
for path in paths:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.dup2(2, 1)  # what a program prints must not mix with the observations on the parent's stdout
        resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 5))  # SIGXCPU, then SIGKILL
        try:
            torch.manual_seed(0)
            ns = runpy.run_path(path, run_name="gg_example")
            obs = ns["__gg_observe"]()
        except BaseException as e:
            obs = {"error": "harness: " + type(e).__name__ + ": " + str(e)[:300]}
        with os.fdopen(w, "w") as f:
            f.write(json.dumps(obs, default=repr))
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    died = "harness: no output" if not os.WIFSIGNALED(status) else "harness: stopped by signal %d (over %d s of CPU?)" % (os.WTERMSIG(status), limit)
    print(json.dumps({"path": path, "obs": json.loads(data) if data else {"error": died}}), flush=True)
'''


def torch_python() -> str:
    return os.environ.get("GG_TORCH_PYTHON", sys.executable)


def run_programs(sources: list) -> list:
    """Observations for each program source, in order."""
    if not sources:
        return []
    tmp = tempfile.mkdtemp(prefix="gg-run-")
    paths = []
    for i, src in enumerate(sources):
        p = os.path.join(tmp, f"prog_{i}.py")
        with open(p, "w", encoding="utf-8") as f:
            f.write(src + HARNESS)
        paths.append(p)
    proc = subprocess.run([torch_python(), "-c", RUNNER, str(PROGRAM_CPU_SECONDS)], input=json.dumps(paths), capture_output=True, text=True)
    got = {}
    for line in proc.stdout.splitlines():
        d = json.loads(line)
        got[d["path"]] = d["obs"]
    if len(got) != len(paths):
        raise RuntimeError(f"runner failed: {proc.stderr[-2000:]}")
    return [got[p] for p in paths]


def loses_gradient_or_raises(obs: dict, expect: dict) -> list:
    """Problems if ``obs`` does not show what ``expect`` claims (empty list = matches)."""
    problems = []
    err = obs.get("error")
    if expect.get("error"):
        if not err or expect["error"] not in err:
            problems.append(f"expected error containing {expect['error']!r}, got {err!r}")
    elif err:
        problems.append(f"unexpected error {err!r}")
    for key in ("grad_none", "grad_zero", "grad_ok"):
        for name in expect.get(key, []):
            if name not in obs.get(key, []):
                problems.append(f"expected {name} in {key}, observed {obs}")
    for k, v in expect.get("facts", {}).items():
        if obs.get("facts", {}).get(k) != v:
            problems.append(f"fact {k}: expected {v!r}, got {obs.get('facts', {}).get(k)!r}")
    if expect.get("warning") and not any(expect["warning"] in w for w in obs.get("warnings", [])):
        problems.append(f"expected warning containing {expect['warning']!r}")
    return problems


def restored(obs: dict, bad_expect: dict) -> list:
    """Problems if the fixed program still fails the way the bad one did."""
    problems = []
    if obs.get("error"):
        problems.append(f"still raises {obs['error']!r}")
    for name in bad_expect.get("grad_none", []) + bad_expect.get("grad_zero", []):
        if name not in obs.get("grad_ok", []):
            problems.append(f"{name} still has no gradient ({obs})")
    for k, v in bad_expect.get("facts", {}).items():
        if obs.get("facts", {}).get(k) == v:
            problems.append(f"fact {k} still {v!r}")
    return problems
