"""Real VS Code: code-server in headless Chromium, with the packaged .vsix installed.

setup_code_server.sh installs (once, cached under ~/.cache/gradguard-editors) Node 24 and
code-server; this test installs the packaged gradguard .vsix plus a small test-only extension
(vscode_probe/) into a fresh code-server profile, points gradguard at the bare system Python
(so the server runs from the extension's bundled libs), and checks two levels:

1. inside the extension host, the probe uses the VS Code API (getDiagnostics,
   executeHoverProvider, gradguard.restart, executeCodeActionProvider, applyEdit, save);
2. in the page, vscode_drive.mjs (playwright-core) sees the squiggle, the hover, the lightbulb,
   picks the quick fix from the Ctrl+. menu and saves with Ctrl+S.

Both edited files are then checked on disk. A second, separate code-server session runs only
the probe's notebook part (open and show a .ipynb, GG201 on its cell, the cell's quick fixes):
showing the notebook leaves its editor open, which the DOM driving must not inherit.
Screenshots go to tests/editors/artifacts/vscode/ and artifacts/vscode-notebook/.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from editor_support import HERE, REPO, SEED, SEED_LINE, bare_system_python

pytestmark = pytest.mark.editor


def _setup() -> dict[str, str]:
    proc = subprocess.run(["bash", str(HERE / "setup_code_server.sh")], capture_output=True, text=True, timeout=1800)
    paths = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    if proc.returncode != 0 or "CODE_SERVER" not in paths:
        reason = f"code-server could not be installed: {proc.stderr.strip()[-800:]}"
        if os.environ.get("GRADGUARD_REQUIRE_EDITORS"):
            pytest.fail(reason)
        pytest.skip(reason)
    return paths


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _package_probe(dest: Path) -> Path:
    src = dest / "probe-src"
    shutil.copytree(HERE / "vscode_probe", src)
    out = dest / "gradguard-probe.vsix"
    subprocess.run(
        [str(REPO / "node_modules" / ".bin" / "vsce"), "package", "--no-dependencies", "--skip-license",
         "--allow-missing-repository", "--out", str(out)],
        cwd=src, check=True, capture_output=True, text=True, timeout=300,
    )
    return out


def _logs(user_data: Path) -> str:
    chunks = []
    for log in sorted(user_data.glob("logs/**/*.log")):
        if "gradguard" in log.name or log.name in ("exthost.log", "remoteexthost.log"):
            chunks.append(f"--- {log.relative_to(user_data)}\n{log.read_text(errors='replace')[-4000:]}")
    return "\n".join(chunks)


class Run:
    """What one code-server session produced."""

    def __init__(self, probe: dict, dom: dict, ws: Path, diagnostics: str, drive_rc: int):
        self.probe, self.dom, self.ws = probe, dom, ws
        self.diagnostics, self.drive_rc = diagnostics, drive_rc
        self.seed, self.probe_target = ws / "seed_gg201.py", ws / "probe_target.py"


@contextlib.contextmanager
def _code_server_session(vsix_path: Path, tmp_path: Path, shots: Path, probe: str, drive_file: str):
    """One fresh code-server (own profile, port and workspace) with gradguard and the probe
    installed; vscode_drive.mjs loads the workbench, waits for the probe's report, then drives
    `drive_file` in the page ("-": only a screenshot). probe is "file" (GG_PROBE_FILE) or
    "notebook" (GG_PROBE_NOTEBOOK): each probe runs in a session of its own, because the notebook
    probe leaves a notebook editor open and the DOM driving expects a bare workbench."""
    paths = _setup()
    node24 = Path(paths["NODE24"])
    code_server = paths["CODE_SERVER"]

    user_data, ext_dir, ws = tmp_path / "user-data", tmp_path / "extensions", tmp_path / "ws"
    for d in (user_data / "User", ext_dir, ws):
        d.mkdir(parents=True)
    seed = ws / "seed_gg201.py"
    probe_target = ws / "probe_target.py"
    shutil.copyfile(SEED, seed)
    shutil.copyfile(SEED, probe_target)
    notebook = ws / "seed_gg201.ipynb"
    shutil.copyfile(HERE / "fixtures" / "seed_gg201.ipynb", notebook)
    python = bare_system_python()
    (user_data / "User" / "settings.json").write_text(json.dumps({
        "gradguard.interpreter": [python],
        "gradguard.logLevel": "debug",
        "gradguard.trace.server": "messages",
        "security.workspace.trust.enabled": False,
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": False,
        "workbench.enableExperiments": False,
        "extensions.autoCheckUpdates": False,
        "extensions.autoUpdate": False,
        "extensions.ignoreRecommendations": True,
        "telemetry.telemetryLevel": "off",
        "editor.lightbulb.enabled": "on",
        "editor.hover.delay": 200,
        "files.autoSave": "off",
        "chat.disableAIFeatures": True,
        "workbench.secondarySideBar.defaultVisibility": "hidden",
    }, indent=2))
    config = tmp_path / "config.yaml"
    port = _free_port()
    config.write_text(f"bind-addr: 127.0.0.1:{port}\nauth: none\ncert: false\n")

    probe_report = tmp_path / "probe-report.json"
    dom_report = tmp_path / "dom-report.json"
    env = {
        **os.environ,
        "PATH": f"{node24.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "GG_PROBE_REPORT": str(probe_report),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
    }
    for var in ("VSCODE_IPC_HOOK_CLI", "GG_PROBE_FILE", "GG_PROBE_NOTEBOOK"):
        env.pop(var, None)
    if probe == "file":
        env["GG_PROBE_FILE"] = str(probe_target)
    elif probe == "notebook":
        env["GG_PROBE_NOTEBOOK"] = str(notebook)
    else:
        raise ValueError(probe)
    common = ["--config", str(config), "--user-data-dir", str(user_data), "--extensions-dir", str(ext_dir)]

    probe_vsix = _package_probe(tmp_path)
    inst = subprocess.run(
        [code_server, *common, "--install-extension", str(vsix_path), "--install-extension", str(probe_vsix)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert inst.returncode == 0, inst.stdout + inst.stderr
    installed = sorted(p.name for p in ext_dir.iterdir() if p.is_dir())
    assert any(n.startswith("gradguard.gradguard-") for n in installed), installed

    server_log = tmp_path / "code-server.log"
    with open(server_log, "w") as log_fh:
        server = subprocess.Popen(
            [code_server, *common, "--auth", "none", "--bind-addr", f"127.0.0.1:{port}", "--disable-telemetry",
             "--disable-update-check", "--disable-workspace-trust", "--disable-getting-started-override", str(ws)],
            env=env, stdout=log_fh, stderr=subprocess.STDOUT, start_new_session=True,
        )
    shutil.rmtree(shots, ignore_errors=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                assert server.poll() is None, server_log.read_text()[-3000:]
                assert time.monotonic() < deadline, "code-server did not come up:\n" + server_log.read_text()[-3000:]
                time.sleep(0.5)

        drive = subprocess.run(
            ["node", str(HERE / "vscode_drive.mjs"), f"http://127.0.0.1:{port}/?folder={ws}", drive_file,
             str(shots), str(dom_report), str(probe_report)],
            cwd=REPO, capture_output=True, text=True, timeout=600,
        )
        diagnostics = (
            f"\n--- driver stdout/stderr\n{drive.stdout[-2000:]}\n{drive.stderr[-3000:]}"
            f"\n--- code-server log\n{server_log.read_text(errors='replace')[-3000:]}\n{_logs(user_data)}"
        )
        probe_out = json.loads(probe_report.read_text()) if probe_report.exists() else {"error": "the probe extension wrote no report"}
        dom = json.loads(dom_report.read_text()) if dom_report.exists() else {"error": "the DOM driver wrote no report"}
        yield Run(probe_out, dom, ws, diagnostics, drive.returncode)
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            server.wait()


@pytest.fixture(scope="module")
def code_server_run(vsix_path: Path, tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path):
    """The text-document session: the file probe, then the DOM driving of seed_gg201.py."""
    with _code_server_session(vsix_path, tmp_path_factory.mktemp("code-server"), artifacts_dir / "vscode",
                              probe="file", drive_file="seed_gg201.py") as run:
        yield run


@pytest.fixture(scope="module")
def code_server_notebook_run(vsix_path: Path, tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path):
    """The notebook session: only the notebook probe; the page is loaded and screenshotted, not driven."""
    with _code_server_session(vsix_path, tmp_path_factory.mktemp("code-server-notebook"),
                              artifacts_dir / "vscode-notebook", probe="notebook", drive_file="-") as run:
        yield run


def test_vscode_extension_host_api(code_server_run: Run) -> None:
    """Level 1: the VS Code API inside the real extension host."""
    probe, diagnostics = code_server_run.probe, code_server_run.diagnostics
    assert "error" not in probe, probe["error"] + diagnostics
    assert probe["steps"][:7] == ["opened", "diagnostic", "hover", "restarted", "codeActions", "applied", "cleared"]
    assert probe["pythonExtensionInstalled"] is False  # gradguard works without it
    assert probe["gradguardActive"] is True
    assert probe["languageId"] == "python"
    d = probe["diagnostic"]
    assert (d["code"], d["source"], d["line"]) == ("GG201", "gradguard", SEED_LINE), d
    assert "GG201" in probe["hover"]
    assert "gradguard.restart" in probe["commands"] and "gradguard.showFlow" in probe["commands"] and "gradguard.revealLine" in probe["commands"]
    assert any(a["kind"] == "quickfix" and "detach" in a["title"] for a in probe["actions"]), probe["actions"]
    original = SEED.read_text()
    assert code_server_run.probe_target.read_text() == original.replace("z = y.detach()", "z = y")


def test_vscode_dom(code_server_run: Run) -> None:
    """Level 2: what a person sees and does in the page."""
    dom, diagnostics = code_server_run.dom, code_server_run.diagnostics
    assert "error" not in dom, dom["error"] + diagnostics
    assert dom["steps"] == ["workbench", "probe-finished", "opened", "squiggle", "hover", "quickfix", "cleared", "saved", "lens", "flow-view", "flow-reveal"]
    assert "GG201" in dom["hoverText"]
    assert dom["lightbulb"] is True
    assert any("detach" in q for q in dom["quickFixes"]), dom["quickFixes"]
    assert "gradguard" in dom["statusbar"]
    assert "trains x" in dom["lensText"], dom["lensText"]  # the lens above loss.backward() once the fix restored the path
    assert any("loss.backward()" in t for t in dom["flowNodes"]) and any(t.strip() == "x" for t in dom["flowNodes"]), dom["flowNodes"]
    assert dom["clickedLine"] in (5, 10), dom["clickedLine"]
    assert dom["lineBeforeReveal"] not in (None, dom["clickedLine"]), dom  # the click moved the cursor there
    original = SEED.read_text()
    assert code_server_run.seed.read_text() == original.replace("z = y.detach()", "z = y")
    assert code_server_run.drive_rc == 0, diagnostics


def test_vscode_notebook(code_server_notebook_run: Run) -> None:
    """A .ipynb through the built-in jupyter-notebook serializer: cells reach the server via
    notebook document sync; GG201 lands on the cell that detaches; the cell's quick fixes come
    from the server once the notebook is shown. Its own code-server session (see
    _code_server_session)."""
    run = code_server_notebook_run
    probe, diagnostics = run.probe, run.diagnostics
    assert "error" not in probe, probe["error"] + diagnostics
    assert "notebookError" not in probe, probe["notebookError"] + diagnostics
    assert probe["steps"] == ["notebook"], probe["steps"]
    nb = probe["notebook"]
    assert probe["notebookType"] == "jupyter-notebook"
    assert (nb["cellIndex"], nb["cellScheme"], nb["line"], nb["source"]) == (2, "vscode-notebook-cell", 0, "gradguard"), nb
    assert nb["otherCellsWithDiagnostics"] == [], nb
    assert any("detach" in t for t in nb["actions"]), nb
    assert "error" not in run.dom, run.dom["error"] + diagnostics
    assert run.dom["steps"] == ["workbench", "probe-finished", "done"], run.dom
    assert run.drive_rc == 0, diagnostics
