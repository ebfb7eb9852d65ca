"""The seed program the end-to-end tests open (LSP, robustness, editors): the `.detach()` on line 7 cuts
the only path from `x` to the loss, so GG201 is reported there and its quick fix removes it."""
from pathlib import Path

DETACH_SEED = (Path(__file__).parent / "editors" / "fixtures" / "seed_gg201.py").read_text(encoding="utf-8")
