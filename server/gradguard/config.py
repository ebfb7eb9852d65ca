"""Configuration: ``[tool.gradguard]`` in pyproject.toml and editor settings, validated into one object."""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from typing import Any, Optional

from gradguard.core.model import Severity


@dataclass
class Config:
    select: Optional[list] = None  # code prefixes; None = all rules
    ignore: list = field(default_factory=list)
    severity: dict = field(default_factory=dict)  # code -> Severity
    per_file_ignores: dict = field(default_factory=dict)  # glob -> [codes]
    exclude: list = field(default_factory=list)  # globs
    enable: bool = True
    problems: list = field(default_factory=list)  # human-readable messages about invalid keys/values

    def enabled(self, code: str, path: Optional[str] = None) -> bool:
        if self.select is None and not self.ignore and not self.per_file_ignores:
            return True  # the default configuration (asked once per rule and file)
        if self.select is not None and not any(code.startswith(p) for p in self.select):
            return False
        if any(code.startswith(p) for p in self.ignore):
            return False
        if path:
            for pat, codes in self.per_file_ignores.items():
                if _match(path, pat) and any(code.startswith(c) for c in codes):
                    return False
        return True

    def severity_for(self, code: str, default: Severity) -> Severity:
        best = None
        for prefix, sev in self.severity.items():
            if code.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, sev)
        return best[1] if best else default

    def is_excluded(self, path: str) -> bool:
        return any(_match(path, pat) for pat in self.exclude)


def _match(path: str, pattern: str) -> bool:
    p = path.replace(os.sep, "/")
    return fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(os.path.basename(p), pattern) or fnmatch.fnmatch(p, "*/" + pattern.lstrip("/"))


_KEYS = {"select", "ignore", "extend-select", "severity", "per-file-ignores", "exclude", "enable", "logLevel", "log-level", "interpreter", "importStrategy", "trace", "perFileIgnores", "codeLens", "crossFile"}


def config_from_dict(data: Any, origin: str = "configuration") -> Config:
    """Build a Config from ``[tool.gradguard]`` or the ``gradguard`` editor settings; bad values are
    reported in ``problems`` (naming the key) and replaced by defaults."""
    cfg = Config()
    if data is None:
        return cfg
    if not isinstance(data, dict):
        cfg.problems.append(f"{origin}: expected a table of settings, got {type(data).__name__}; using defaults")
        return cfg
    from gradguard.rules import ALL_CODES

    def codes(key: str, value: Any) -> Optional[list]:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            cfg.problems.append(f"{origin}: '{key}' must be a list of rule codes, got {value!r}; ignored")
            return None
        out = []
        for v in value:
            v = v.strip().upper()
            if v == "ALL":
                v = "GG"
            if not any(c.startswith(v) for c in ALL_CODES):
                cfg.problems.append(f"{origin}: '{key}' names unknown rule code {v!r}; ignored")
                continue
            out.append(v)
        return out

    for key in data:
        if key not in _KEYS:
            cfg.problems.append(f"{origin}: unknown key '{key}'; ignored")
    if "enable" in data:
        if isinstance(data["enable"], bool):
            cfg.enable = data["enable"]
        else:
            cfg.problems.append(f"{origin}: 'enable' must be true or false; using true")
    if "select" in data and data["select"] is not None:
        sel = codes("select", data["select"])
        if sel is not None and (sel or not data["select"]):
            cfg.select = sel if sel else None
    if "extend-select" in data:
        codes("extend-select", data["extend-select"])
    if "ignore" in data:
        ig = codes("ignore", data["ignore"])
        if ig is not None:
            cfg.ignore = ig
    if "severity" in data:
        sev = data["severity"]
        if not isinstance(sev, dict):
            cfg.problems.append(f"{origin}: 'severity' must map rule codes to error/warning/information/hint; ignored")
        else:
            for code, level in sev.items():
                try:
                    if not isinstance(level, str):
                        raise ValueError
                    s = Severity.parse(level)
                except ValueError:
                    cfg.problems.append(f"{origin}: 'severity.{code}' must be error, warning, information or hint, got {level!r}; ignored")
                    continue
                if not any(c.startswith(str(code).upper()) for c in ALL_CODES):
                    cfg.problems.append(f"{origin}: 'severity' names unknown rule code {code!r}; ignored")
                    continue
                cfg.severity[str(code).upper()] = s
    pfi = data.get("per-file-ignores", data.get("perFileIgnores"))
    if pfi is not None:
        if not isinstance(pfi, dict):
            cfg.problems.append(f"{origin}: 'per-file-ignores' must map globs to lists of codes; ignored")
        else:
            for pat, cs in pfi.items():
                got = codes(f"per-file-ignores.{pat}", cs)
                if got:
                    cfg.per_file_ignores[str(pat)] = got
    if "exclude" in data:
        ex = data["exclude"]
        if isinstance(ex, list) and all(isinstance(x, str) for x in ex):
            cfg.exclude = list(ex)
        else:
            cfg.problems.append(f"{origin}: 'exclude' must be a list of globs; ignored")
    return cfg


def find_pyproject(start: str) -> Optional[str]:
    d = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(start) or ".")
    while True:
        cand = os.path.join(d, "pyproject.toml")
        if os.path.isfile(cand):
            return cand
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def load_pyproject(path: str) -> Config:
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # Python < 3.11
        try:
            import tomli as tomllib  # type: ignore[no-redef,import-not-found,unused-ignore]
        except ImportError:
            return Config(problems=[f"{path}: cannot read TOML on this Python (install tomli); using defaults"])
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, ValueError) as exc:
        return Config(problems=[f"{path}: cannot be read ({exc}); using defaults"])
    section = data.get("tool", {}).get("gradguard")
    if section is None:
        return Config()
    return config_from_dict(section, origin=f"{path} [tool.gradguard]")
