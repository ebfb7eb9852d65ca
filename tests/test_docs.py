"""The README's rule table and docs/rules/*.md are generated from the rules; they must be current."""
import os

from gradguard import docs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_readme_rule_table_is_current():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    assert docs.BEGIN in text
    assert docs.render_readme(text) == text, "run: .venv/bin/python -m gradguard.docs"


def test_rule_pages_are_current():
    for name, body in docs.rule_pages().items():
        path = os.path.join(ROOT, "docs", "rules", name)
        assert os.path.exists(path) and open(path, encoding="utf-8").read() == body, f"{name} is stale: run .venv/bin/python -m gradguard.docs"
