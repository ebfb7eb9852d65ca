"""Printers for ``gradguard check``: text, json, github annotations, SARIF."""
from __future__ import annotations

import json

from gradguard import __version__


def render(findings: list, fmt: str, fixed: int = 0, files: int = 0) -> str:
    if fmt == "json":
        return json.dumps(findings, indent=2) + "\n"
    if fmt == "github":
        out = []
        for f in findings:
            level = {"error": "error", "warning": "warning"}.get(f["severity"], "notice")
            msg = f["message"].replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            out.append(
                f"::{level} title=gradguard ({f['code']}),file={f['filename']},line={f['location']['row']},col={f['location']['column']},"
                f"endLine={f['end_location']['row']},endColumn={f['end_location']['column']}::{f['code']} {msg}"
            )
        return "\n".join(out) + ("\n" if out else "")
    if fmt == "sarif":
        return json.dumps(_sarif(findings), indent=2) + "\n"
    lines = []
    for f in findings:
        loc = f["location"]
        cell = f"cell {loc['cell']}:" if "cell" in loc else ""
        fixable = " [*]" if f.get("fix") and f["fix"]["applicability"] == "safe" else ""
        lines.append(f"{f['filename']}:{cell}{loc['row']}:{loc['column']}: {f['code']} [{f['severity']}]{fixable} {f['message']}")
    n = len(findings)
    if n:
        safe = sum(1 for f in findings if f.get("fix") and f["fix"]["applicability"] == "safe")
        unsafe = sum(1 for f in findings if f.get("fix") and f["fix"]["applicability"] == "unsafe")
        summary = f"Found {n} problem{'s' if n != 1 else ''} in {files} file{'s' if files != 1 else ''}."
        if fixed:
            summary += f" Fixed {fixed}."
        if safe:
            summary += f"\n[*] {safe} fixable with `gradguard check --fix`."
        if unsafe:
            summary += f"\n{unsafe} more fixable with `--fix --unsafe-fixes`."
        lines.append(summary)
    else:
        lines.append(f"All checks passed ({files} file{'s' if files != 1 else ''})." + (f" Fixed {fixed}." if fixed else ""))
    return "\n".join(lines) + "\n"


def _sarif(findings: list) -> dict:
    from gradguard.rules import ALL_RULES

    rules = [
        {
            "id": r.code,
            "name": r.name,
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": r.docs.strip()[:2000]},
            "helpUri": r.url,
            "defaultConfiguration": {"level": {"error": "error", "warning": "warning"}.get(r.severity.value, "note")},
        }
        for r in ALL_RULES
    ]
    results = []
    for f in findings:
        results.append(
            {
                "ruleId": f["code"],
                "level": {"error": "error", "warning": "warning"}.get(f["severity"], "note"),
                "message": {"text": f["message"]},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": f["filename"].replace("\\", "/").lstrip("./") or f["filename"]},
                            "region": {
                                "startLine": f["location"]["row"],
                                "startColumn": f["location"]["column"],
                                "endLine": f["end_location"]["row"],
                                "endColumn": f["end_location"]["column"],
                            },
                        }
                    }
                ],
                "relatedLocations": [
                    {
                        "message": {"text": r["message"]},
                        "physicalLocation": {
                            "artifactLocation": {"uri": f["filename"]},
                            "region": {"startLine": r["location"]["row"], "startColumn": r["location"]["column"]},
                        },
                    }
                    for r in f.get("related", [])
                ],
            }
        )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "gradguard", "version": __version__, "informationUri": "https://github.com/gradguard/gradguard", "rules": rules}}, "results": results}],
    }
