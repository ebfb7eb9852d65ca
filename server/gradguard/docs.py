"""Rule pages and the README rule table, generated from the rules' own metadata."""
from __future__ import annotations

import os
import re
from typing import Optional

from gradguard.rules import ALL_RULES, META_CODES
from gradguard.rules.base import doc_sections

BEGIN, END = "<!-- rules-table:begin -->", "<!-- rules-table:end -->"


def rules_table() -> str:
    rows = ["| Code | Name | Severity | Fix | What it finds |", "| --- | --- | --- | --- | --- |"]
    for r in ALL_RULES:
        fix = "-" if r.fix_applicability is None else r.fix_applicability.value
        rows.append(f"| [{r.code}](docs/rules/{r.code}.md) | {r.name} | {r.severity.value} | {fix} | {r.summary} |")
    for code, name in META_CODES.items():
        rows.append(f"| {code} | {name} | - | - | reported by the analysis itself |")
    return "\n".join(rows)


def render_readme(text: str) -> str:
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    return pattern.sub(BEGIN + "\n" + rules_table() + "\n" + END, text)


def rule_pages() -> dict:
    return {f"{r.code}.md": doc_sections(r) for r in ALL_RULES}


def write(root: str) -> list:
    """Regenerate docs; returns the files that changed."""
    changed = []
    readme = os.path.join(root, "README.md")
    with open(readme, encoding="utf-8") as f:
        old = f.read()
    new = render_readme(old)
    if new != old:
        with open(readme, "w", encoding="utf-8") as f:
            f.write(new)
        changed.append(readme)
    d = os.path.join(root, "docs", "rules")
    os.makedirs(d, exist_ok=True)
    pages = rule_pages()
    for name in os.listdir(d):
        if name.endswith(".md") and name not in pages:
            os.remove(os.path.join(d, name))
            changed.append(name)
    for name, body in pages.items():
        p = os.path.join(d, name)
        current: Optional[str] = open(p, encoding="utf-8").read() if os.path.exists(p) else None
        if current != body:
            with open(p, "w", encoding="utf-8") as f:
                f.write(body)
            changed.append(p)
    return changed


if __name__ == "__main__":
    import sys

    here = sys.argv[1] if len(sys.argv) > 1 else "."
    for c in write(here):
        print("updated", c)
