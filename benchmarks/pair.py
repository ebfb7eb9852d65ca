"""Before/after CPU of ``check_file`` (with the workspace) on a corpus sample, robust to the neighbours' load.

``python benchmarks/pair.py <before server dir> <after server dir> [step] [reps]`` (a server dir is what goes on
PYTHONPATH, e.g. a ``git archive main server`` snapshot's ``server``). Two worker processes, one per engine, are sent
every ``step``-th corpus file in turn (which goes first alternates), so a burst of load hits both alike; each file's
minimum CPU over ``reps`` runs is summed. Prints the sums and their ratio. Measures; not a test."""
import os
import subprocess
import sys

CORPUS = os.environ.get("GRADGUARD_CORPUS") or os.path.expanduser("~/.cache/gradguard-corpus")
WORKER = r"""
import os, sys, time
sys.setrecursionlimit(10000)
from gradguard import runner
from gradguard.config import Config
root = sys.argv[1]
cfg = Config()
spec = (tuple([os.path.abspath(root)]), tuple(runner.library_paths()))
ws = runner.workspace_for(spec)
ws.files()
runner._worker_init()
print("ready", flush=True)
for line in sys.stdin:
    ws._links.clear()  # link every file afresh, as the CLI does once per file
    t = time.process_time()
    runner.check_file((line.rstrip("\n"), cfg, None, spec))
    print(f"{time.process_time() - t:.6f}", flush=True)
"""


def main() -> None:
    before, after = sys.argv[1], sys.argv[2]
    step = int(sys.argv[3]) if len(sys.argv) > 3 else 6
    reps = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    sys.path.insert(0, after)
    from gradguard import runner
    from gradguard.config import Config

    files = sorted(runner.discover([CORPUS], Config()))[::step]

    def spawn(server: str) -> subprocess.Popen:
        env = dict(os.environ, PYTHONPATH=server)
        p = subprocess.Popen([sys.executable, "-c", WORKER, CORPUS], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        return p

    engines = {"before": spawn(before), "after": spawn(after)}
    best: dict = {"before": {}, "after": {}}
    for rep in range(reps):
        for i, f in enumerate(files):
            order = ["before", "after"] if (i + rep) % 2 == 0 else ["after", "before"]
            for k in order:
                p = engines[k]
                p.stdin.write(f + "\n")  # type: ignore[union-attr]
                p.stdin.flush()  # type: ignore[union-attr]
                d = float(p.stdout.readline())  # type: ignore[union-attr]
                if f not in best[k] or d < best[k][f]:
                    best[k][f] = d
        b, a = sum(best["before"].values()), sum(best["after"].values())
        print(f"rep {rep}: before {b:.2f} s, after {a:.2f} s CPU over {len(files)} files: after/before {a / b:.3f}", flush=True)
    for p in engines.values():
        p.stdin.close()  # type: ignore[union-attr]
        p.wait()


if __name__ == "__main__":
    main()
