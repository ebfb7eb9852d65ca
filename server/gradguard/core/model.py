"""What the core hands out: findings, their related places, and fixes made of text edits."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Callable, Optional

from gradguard.core.source import Pos


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"
    HINT = "hint"

    @classmethod
    def parse(cls, value: str) -> Severity:
        value = value.strip().lower()
        aliases = {"info": "information", "warn": "warning"}
        return cls(aliases.get(value, value))


class Applicability(str, enum.Enum):
    SAFE = "safe"  # keeps meaning except for the bug; applied by --fix
    UNSAFE = "unsafe"  # may change behaviour the user relied on; applied with --unsafe-fixes


@dataclass(frozen=True)
class Edit:
    start: Pos
    end: Pos
    content: str


@dataclass(frozen=True)
class Fix:
    message: str
    edits: tuple[Edit, ...]
    applicability: Applicability = Applicability.SAFE
    preferred: bool = True


@dataclass(frozen=True)
class Related:
    start: Pos
    end: Pos
    message: str
    path: Optional[str] = None  # another file of the workspace; None: the finding's own file


@dataclass
class Finding:
    code: str
    message: str
    start: Pos
    end: Pos
    severity: Severity
    related: list[Related] = field(default_factory=list)
    # Fixes are built on demand (libcst is too slow for every keystroke); ``fixes`` computes once.
    fix_builders: list[Callable[[], Optional[Fix]]] = field(default_factory=list, repr=False, compare=False)
    explanation: str = ""  # run-time consequence, shown in hovers
    _fixes: Optional[list[Fix]] = field(default=None, repr=False, compare=False)

    @property
    def fixes(self) -> list[Fix]:
        if self._fixes is None:
            out: list[Fix] = []
            for build in self.fix_builders:
                try:
                    fix = build()
                except Exception:  # a fix that cannot be built is simply not offered
                    fix = None
                if fix is not None:
                    out.append(fix)
            self._fixes = out
        return self._fixes

    @property
    def fix(self) -> Optional[Fix]:
        """The preferred fix (the first one), if any."""
        fixes = self.fixes
        return fixes[0] if fixes else None

    def sort_key(self) -> tuple:
        return (self.start.line, self.start.col, self.code)
