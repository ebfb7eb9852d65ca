"""The CLI as users and CI call it: output formats, exit codes, --fix, syntax errors, rule docs."""
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = open(os.path.join(ROOT, "examples", "train_with_bugs.py"), encoding="utf-8").read()


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gradguard", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_text_output_and_exit_code(tmp_path):
    p = tmp_path / "t.py"
    p.write_text(SEED)
    r = run("check", "--no-cache", str(p))
    assert r.returncode == 1, r.stderr
    assert f"{p}:8:" in r.stdout and "GG201" in r.stdout
    assert "Found 3 problems in 1 file." in r.stdout


def test_text_output_shows_severity_and_safe_fix_marker(tmp_path):
    p = tmp_path / "t.py"
    p.write_text(SEED)
    lines = run("check", "--no-cache", str(p)).stdout.splitlines()
    by_code = {ln.split(": ", 1)[1].split(" ", 1)[0]: ln for ln in lines if ln.startswith(f"{p}:")}
    assert by_code["GG201"].startswith(f"{p}:8:49: GG201 [warning] [*] `.detach()`"), by_code
    assert " GG101 [error] [*] " in by_code["GG101"]
    assert " GG202 [warning] " in by_code["GG202"] and "[*]" not in by_code["GG202"]  # unsafe fix: no marker


def test_json_schema(tmp_path):
    p = tmp_path / "t.py"
    p.write_text(SEED)
    r = run("check", "--no-cache", "--output-format", "json", str(p))
    data = json.loads(r.stdout)
    f = [d for d in data if d["code"] == "GG201"][0]
    assert f["location"] == {"row": 8, "column": 49}
    assert f["end_location"]["row"] == 8
    assert f["severity"] == "warning" and f["url"].endswith("GG201.md") and f["filename"] == str(p)
    assert f["fix"]["applicability"] == "safe" and f["fix"]["edits"][0]["content"] == ""


def test_clean_file_exits_zero(tmp_path):
    p = tmp_path / "ok.py"
    p.write_text("import torch\nx = torch.ones(2, requires_grad=True)\n(x * 2).sum().backward()\n")
    r = run("check", "--no-cache", str(p))
    assert r.returncode == 0 and "All checks passed" in r.stdout


def test_fix_in_place_then_clean_of_safe(tmp_path):
    p = tmp_path / "t.py"
    p.write_text(SEED)
    r = run("check", "--no-cache", "--fix", str(p))
    fixed = p.read_text()
    assert ".detach()  # GG201" not in fixed and "loss.backward()  # GG101" in fixed
    assert "loss = loss.backward()" not in fixed
    compile(fixed, "t.py", "exec")
    assert r.returncode == 1  # the unsafe GG202 finding remains
    r = run("check", "--no-cache", "--fix", "--unsafe-fixes", str(p))
    assert r.returncode == 0, r.stdout
    assert "torch.tanh(self.mid(h))" in p.read_text()


def test_diff_does_not_write(tmp_path):
    p = tmp_path / "t.py"
    p.write_text(SEED)
    r = run("check", "--no-cache", "--diff", str(p))
    assert r.returncode == 1 and "-    return ((h - h.mean(0))" in r.stdout
    assert p.read_text() == SEED


def test_syntax_error_is_a_finding(tmp_path):
    p = tmp_path / "bad.py"
    p.write_text("import torch\ndef f(:\n    pass\n")
    r = run("check", "--no-cache", "--output-format", "json", str(p))
    data = json.loads(r.stdout)
    assert r.returncode == 1 and [d["code"] for d in data] == ["GG001"]
    assert data[0]["location"]["row"] == 2
    assert "Traceback" not in r.stderr


def test_usage_errors_exit_2(tmp_path):
    assert run("check", str(tmp_path / "missing.py")).returncode == 2
    assert run("check", "--output-format", "xml", ".").returncode == 2
    assert run("rule", "GG999").returncode == 2


def test_rule_docs():
    r = run("rule", "GG201")
    assert r.returncode == 0 and "## Why is this bad?" in r.stdout and "## Fix safety" in r.stdout
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("gradguard ")


def test_directory_recursion_and_cache(tmp_path):
    d = tmp_path / "proj" / "pkg"
    d.mkdir(parents=True)
    (d / "a.py").write_text(SEED)
    (d / "b.py").write_text("import torch\n")
    (tmp_path / "proj" / ".venv").mkdir()
    (tmp_path / "proj" / ".venv" / "c.py").write_text(SEED)
    r1 = run("check", "--output-format", "json", "proj", cwd=tmp_path)
    r2 = run("check", "--output-format", "json", "proj", cwd=tmp_path)
    assert r1.stdout == r2.stdout and len(json.loads(r1.stdout)) == 3
    assert (tmp_path / ".gradguard_cache").is_dir()


def test_unknown_select_or_ignore_code_is_a_usage_error(tmp_path):
    p = tmp_path / "t.py"
    p.write_text(SEED)
    for flag, value, bad in [("--select", "GG201,GG999", "GG999"), ("--ignore", "gg2,XY1", "XY1"), ("--select", "GG8000", "GG8000"), ("--ignore", ",", "")]:
        r = run("check", "--no-cache", flag, value, str(p))
        assert r.returncode == 2, (flag, value, r.stdout, r.stderr)
        assert flag in r.stderr and bad in r.stderr, r.stderr
        assert r.stdout == ""  # nothing was checked
    # known codes and prefixes (any case, ALL) still work
    r = run("check", "--no-cache", "--output-format", "json", "--select", "gg2", "--ignore", "GG202", str(p))
    assert r.returncode == 1 and {d["code"] for d in json.loads(r.stdout)} == {"GG201"}, r.stderr
    assert run("check", "--no-cache", "--select", "ALL", str(p)).returncode == 1


def test_unknown_code_in_pyproject_is_reported_and_defaults_keep_working(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.gradguard]\nselect = ["GG999"]\nignore = ["GG202"]\nbogus = 1\n')
    p = tmp_path / "t.py"
    p.write_text(SEED)
    r = run("check", "--no-cache", "--output-format", "json", str(p), cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "'select' names unknown rule code 'GG999'" in r.stderr and "unknown key 'bogus'" in r.stderr
    assert {d["code"] for d in json.loads(r.stdout)} == {"GG101", "GG201"}  # select fell back to all; ignore applied


def _example_dir(tmp_path):
    """One file per fixable bad example of every rule."""
    from gradguard.rules import ALL_RULES

    d = tmp_path / "examples"
    d.mkdir()
    for rule in ALL_RULES:
        for i, ex in enumerate(rule.examples):
            if ex.bad and rule.fix_applicability is not None and ex.fixable:
                (d / f"{rule.code}_{i}.py").write_text(ex.code, encoding="utf-8")
    return d


def _by_file(stdout):
    out = {}
    for f in json.loads(stdout):
        out.setdefault(os.path.basename(f["filename"]), []).append(f)
    return out


def test_fix_applies_exactly_the_safe_fixes_and_unsafe_fixes_the_rest(tmp_path):
    d = _example_dir(tmp_path)
    texts = {p.name: p.read_text(encoding="utf-8") for p in d.iterdir()}
    before = _by_file(run("check", "--no-cache", "--output-format", "json", str(d)).stdout)
    kinds = {name: {f["fix"]["applicability"] for f in fs if f["fix"]} for name, fs in before.items()}
    assert any(k == {"safe"} for k in kinds.values()) and any(k == {"unsafe"} for k in kinds.values())

    r = run("check", "--no-cache", "--output-format", "json", "--fix", str(d))
    after = _by_file(r.stdout)
    for name, text in texts.items():
        now = (d / name).read_text(encoding="utf-8")
        if "safe" in kinds.get(name, set()):
            assert now != text, f"{name}: its safe fix was not applied"
        else:
            assert now == text, f"{name}: --fix applied an unsafe fix"
    left = [(n, f["code"]) for n, fs in after.items() for f in fs if f["fix"] and f["fix"]["applicability"] == "safe"]
    assert not left, f"safe fixes left unapplied by --fix: {left}"
    for name, fs in before.items():  # every finding whose fix is unsafe is still reported
        for code in {f["code"] for f in fs if f["fix"] and f["fix"]["applicability"] == "unsafe"}:
            assert code in {f["code"] for f in after.get(name, [])}, f"{name}: {code} disappeared under --fix"

    unsafe_only = [n for n, k in kinds.items() if k == {"unsafe"}]
    run("check", "--no-cache", "--fix", "--unsafe-fixes", str(d))
    for name in unsafe_only:
        assert (d / name).read_text(encoding="utf-8") != texts[name], f"{name}: --unsafe-fixes did not apply its fix"


def test_readme_fix_column_matches_the_fixes_rules_offer(tmp_path):
    """The README's Fix column (safe/unsafe/-) is the rule's declared applicability, which its bad examples
    really offer; a rule documented without a fix offers none. (A finding's own fix may be of the other kind
    in some cases, e.g. GG701 on a parameter read elsewhere: `[*]` / `fix.applicability` say which.)"""
    from gradguard.analyze import analyze
    from gradguard.rules import ALL_RULES

    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    for rule in ALL_RULES:
        column = "-" if rule.fix_applicability is None else rule.fix_applicability.value
        assert f"| [{rule.code}](docs/rules/{rule.code}.md) | {rule.name} | {rule.severity.value} | {column} |" in readme
        seen = {fx.applicability for ex in rule.examples if ex.bad for f in analyze(ex.code, "example.py").findings if f.code == rule.code for fx in f.fixes}
        if rule.fix_applicability is None:
            assert not seen, f"{rule.code} is documented without a fix but offers {seen}"
        elif any(ex.bad and ex.fixable for ex in rule.examples):
            assert rule.fix_applicability in seen, f"{rule.code}: README says {column}, its examples offer {sorted(a.value for a in seen)}"


def test_newer_python_syntax_and_template_sources(tmp_path):
    # PEP 695 (Python 3.12) is valid code: on an older interpreter gradguard says it cannot parse it (information),
    # not that the code is broken; cookiecutter template sources are rendered before they run, and not walked
    p = tmp_path / "pkg" / "types_312.py"
    p.parent.mkdir()
    p.write_text("import torch\n\ntype Batch = dict[str, torch.Tensor]\n\n\nclass Box[T]:\n    pass\n")
    tpl = tmp_path / "pkg" / "{{cookiecutter.name}}"
    tpl.mkdir()
    (tpl / "model_{{cookiecutter.slug}}.py").write_text("import torch\n{% if cookiecutter.gpu %}x = 1{% endif %}\n")
    r = run("check", "--no-cache", "--output-format", "json", str(tmp_path))
    data = json.loads(r.stdout)
    if sys.version_info < (3, 12):
        assert [(d["code"], d["location"]["row"], d["severity"]) for d in data] == [("GG001", 3, "information")], data
        assert "Python 3.12" in data[0]["message"]
    else:
        assert data == [], data
    # a template file named explicitly is still checked (and does not parse)
    named = run("check", "--no-cache", "--output-format", "json", str(tpl / "model_{{cookiecutter.slug}}.py"))
    assert [(d["code"], d["severity"]) for d in json.loads(named.stdout)] == [("GG001", "error")]
