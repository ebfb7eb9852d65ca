"""Ground truth of the multi-file workspace corpus (tests/workspace/projects, issue 11): every project, run under
real torch with its directory as cwd and on sys.path, behaves as its case.json says. Bug projects really lose
the gradient or raise (an error, no non-zero gradient on a name in `should_train`, or a `must_hold` fact that
is false); clean look-alikes really train (every `should_train` name gets a non-zero gradient, every
`must_hold` fact is true). Every diagnostic / related / look-alike line exists and contains its needle, and
every bug project's `fix_patch` (exact edits covering its diagnostic lines), applied to a temporary copy, makes
it train: the diagnostics point at the code that really has to change.

The analyzer is not involved: this checks the projects, not gradguard. All projects run once per session
(tests/workspace/run_projects.py forks each from an interpreter that has already imported torch), and the
assertions are parametrized per project. A mismatch fails; nothing is xfailed.
"""
import collections
import copy
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "workspace"))
import run_projects  # noqa: E402

DIRS = run_projects.project_dirs()
IDS = [d.name for d in DIRS]
HARNESS_MARK = run_projects.HARNESS_MARK


def _side(d):
    return run_projects.load_sidecar(d)


def _harness(d):
    text = (d / _side(d)["entry"]).read_text()
    i = text.find(HARNESS_MARK)
    return text[i:] if i >= 0 else None


@pytest.fixture(scope="module")
def results():
    """Run every project once; {id: result}."""
    jobs = max(2, min(4, os.cpu_count() or 2))
    out = run_projects.run_all(DIRS, jobs=jobs, python=run_projects.default_python())
    return {r["id"]: r for r in out}


def test_projects_present():
    assert len(DIRS) >= 30, f"expected about 30 projects, found {len(DIRS)}"
    for d in DIRS:
        assert (d / "case.json").exists(), f"{d.name} has no case.json"


def test_ids_unique_and_split_balanced():
    nums = collections.Counter(d.name[:3] for d in DIRS)
    assert not [k for k, v in nums.items() if v > 1], nums.most_common(3)
    per = collections.Counter((run_projects.split_of(d), _side(d)["label"]) for d in DIRS)
    for split in run_projects.SPLITS:
        assert per[(split, "bug")] and per[(split, "clean")], f"{split} needs bug and clean projects: {per}"
    assert set(run_projects.project_dirs(("dev",))) == {d for d in DIRS if int(d.name[1:3]) % 2}


def test_layouts_covered():
    """The corpus exercises the shapes the cross-file analysis must resolve."""
    for split in run_projects.SPLITS:
        layouts = collections.Counter(x for d in run_projects.project_dirs((split,)) for x in _side(d)["layout"])
        for shape in ("package", "init-reexport", "relative-import", "src-layout", "namespace-package", "base-class",
                      "subclass-other-file", "utils-package", "helper-in-other-file"):
            assert layouts[shape], f"no {split} project with layout {shape!r}"
    assert any(not (d / "src").exists() and "namespace-package" in _side(d)["layout"]
               and any(p.is_dir() and not (p / "__init__.py").exists() and list(p.glob("*.py")) for p in d.iterdir())
               for d in DIRS)


@pytest.mark.parametrize("project", DIRS, ids=IDS)
def test_sidecar_is_valid(project):
    side = _side(project)
    assert not run_projects.check_sidecar(project, side), run_projects.check_sidecar(project, side)
    assert side["files"] == run_projects.python_files(project)
    if side["label"] == "bug":
        # the evidence spans files: the line to change and the proof of harm are not all in one file
        files = {x["file"] for x in side["diagnostics"] + side["related"]}
        assert len(files) >= 2 or any(x["file"] != side["entry"] for x in side["diagnostics"]), files


def test_harness_is_verbatim():
    """Every project ends with the same ground-truth harness block."""
    blocks = {d.name: _harness(d) for d in DIRS}
    assert all(blocks.values()), [k for k, v in blocks.items() if not v]
    common, _ = collections.Counter(blocks.values()).most_common(1)[0]
    odd = sorted(k for k, v in blocks.items() if v != common)
    assert not odd, f"harness differs from the common one in: {odd}"


@pytest.fixture(scope="module")
def fixed_results():
    """Every bug project with its fix_patch applied, run once; {id: result}."""
    jobs = max(2, min(4, os.cpu_count() or 2))
    out = run_projects.run_fixed_all(DIRS, jobs=jobs, python=run_projects.default_python())
    return {r["id"]: r for r in out}


BUGS = [d for d in DIRS if _side(d)["label"] == "bug"]


@pytest.mark.parametrize("project", BUGS, ids=[d.name for d in BUGS])
def test_fix_makes_bug_project_train(fixed_results, project):
    r = fixed_results[project.name]
    assert r["observed"] is not None, r["problems"]
    assert not r["problems"], "\n".join(r["problems"])
    assert set(_side(project)["should_train"]) <= set(r["observed"]["grad_ok"])


@pytest.mark.parametrize("project", DIRS, ids=IDS)
def test_observed_behavior_matches_sidecar(results, project):
    r = results[project.name]
    assert r["observed"] is not None, r["problems"]
    assert not r["problems"], "\n".join(r["problems"])


@pytest.mark.parametrize("project", DIRS, ids=IDS)
def test_label_agrees_with_torch(results, project):
    """bug <=> harmed under torch; clean projects get non-zero gradients on everything in should_train."""
    side, obs = _side(project), results[project.name]["observed"]
    assert obs is not None
    reasons = run_projects.harm(side, obs)
    if side["label"] == "bug":
        assert reasons, "labelled bug, but torch trains it"
    else:
        assert not reasons, reasons
        assert set(side["should_train"]) <= set(obs["grad_ok"])
    assert obs["project_modules"], "the entry imported no other file of the project"


@pytest.mark.parametrize("project", DIRS, ids=IDS)
def test_wrong_label_would_fail(results, project):
    """The checker is not vacuous: the same observation with the opposite label is rejected."""
    side, obs = copy.deepcopy(_side(project)), results[project.name]["observed"]
    side["label"] = "clean" if side["label"] == "bug" else "bug"
    assert run_projects.check_label(side, obs), f"{project.name} would pass with label {side['label']!r}"


def test_moved_line_would_fail():
    """The checker is not vacuous: a diagnostic line pointing one line off is rejected."""
    d = next(d for d in DIRS if _side(d)["label"] == "bug")
    side = copy.deepcopy(_side(d))
    side["diagnostics"][0]["line"] += 1
    assert run_projects.check_sidecar(d, side)


def test_sidecars_are_json_dicts():
    for d in DIRS:
        side = json.loads((d / "case.json").read_text())
        assert isinstance(side, dict) and side["id"] == d.name
