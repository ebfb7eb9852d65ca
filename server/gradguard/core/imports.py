"""Name resolution through imports: ``tnn.Linear`` -> ``torch.nn.Linear``, ``F.relu`` -> ``torch.nn.functional.relu``."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.astindex import statements_of_type


class Imports:
    """Maps local names bound by import statements (anywhere in the file) to qualified names."""

    def __init__(self, tree: ast.AST) -> None:
        self.aliases: dict[str, str] = {}
        for node in statements_of_type(tree, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.aliases[a.asname] = a.name
                    else:
                        top = a.name.split(".")[0]
                        self.aliases.setdefault(top, top)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for a in node.names:
                    if a.name != "*":
                        self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        self.uses_torch = any(q == "torch" or q.startswith("torch.") for q in self.aliases.values())

    def qualname(self, expr: ast.AST) -> Optional[str]:
        """Qualified dotted name of a Name/Attribute chain rooted at an import, else None."""
        root = expr
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name):
            return None
        base = self.aliases.get(root.id)
        if base is None:
            return None  # (most chains: ``self.x``, a local; their parts are not collected)
        parts: list[str] = []
        while isinstance(expr, ast.Attribute):
            parts.append(expr.attr)
            expr = expr.value
        return ".".join([base, *reversed(parts)])

    def is_torch(self, expr: ast.AST) -> bool:
        q = self.qualname(expr)
        return q is not None and (q == "torch" or q.startswith("torch."))
