"""The rule catalog. Each rule lives in its own module ``ggNNN_<name>.py`` with its docs and examples;
modules are discovered by name, so adding a rule is adding one file."""
from __future__ import annotations

import importlib
import pkgutil
import re

ALL_RULES = []
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not re.match(r"gg\d{3}_", _info.name):
        continue
    _mod = importlib.import_module(f"{__name__}.{_info.name}")
    for _obj in vars(_mod).values():
        if isinstance(_obj, type) and getattr(_obj, "code", None) and _obj.__module__ == _mod.__name__:
            ALL_RULES.append(_obj())
ALL_RULES.sort(key=lambda r: r.code)
RULES_BY_CODE = {r.code: r for r in ALL_RULES}
assert len(RULES_BY_CODE) == len(ALL_RULES), "two rules share a code"

META_CODES = {"GG001": "syntax-error", "GG002": "unused-suppression", "GG003": "analysis-skipped"}
ALL_CODES = sorted([*RULES_BY_CODE, *META_CODES])
