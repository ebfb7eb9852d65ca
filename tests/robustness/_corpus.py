"""Inputs for the robustness suite: real PyTorch files (the corpus), the rules' examples, mutations."""
from __future__ import annotations

import os
import random
from functools import lru_cache

CORPUS = os.environ.get("GRADGUARD_CORPUS", os.path.expanduser("~/.cache/gradguard-corpus"))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@lru_cache(maxsize=1)
def corpus_files() -> tuple:
    out = []
    if os.path.isdir(CORPUS):
        for root, dirs, files in os.walk(CORPUS):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
            for f in sorted(files):
                if f.endswith(".py"):
                    out.append(os.path.join(root, f))
    return tuple(out)


def read(path: str) -> str:
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def sample_corpus(n: int, seed: int, max_bytes: int = 60_000, need_torch: bool = True) -> list:
    """``n`` corpus texts picked deterministically by ``seed`` (falls back to the repo's own sources)."""
    files = list(corpus_files())
    rng = random.Random(seed)
    rng.shuffle(files)
    out = []
    for p in files:
        if os.path.getsize(p) > max_bytes:
            continue
        t = read(p)
        if need_torch and "torch" not in t:
            continue
        out.append((p, t))
        if len(out) >= n:
            break
    if not out:  # no corpus on this machine: the rules' examples and our own sources
        out = example_texts()[:n]
    return out


def example_texts() -> list:
    from gradguard.rules import ALL_RULES

    out = []
    for rule in ALL_RULES:
        for i, ex in enumerate(rule.examples):
            out.append((f"{rule.code}-example-{i}", ex.code))
    return out


# -- mutations ----------------------------------------------------------------------------------
def truncate(text: str, rng: random.Random) -> str:
    return text[: rng.randrange(len(text) + 1)]


def garbage(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))).decode("latin-1")
    return text[:i] + junk + text[i:]


def nul(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + "\x00" + text[i:]


def delete_span(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + text[i + rng.randrange(1, 200) :]


def duplicate_span(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    j = min(len(text), i + rng.randrange(1, 400))
    return text[:j] + text[i:j] + text[j:]


def swap_lines(text: str, rng: random.Random) -> str:
    lines = text.splitlines(True)
    if len(lines) < 2:
        return text
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


def mixed_line_endings(text: str, rng: random.Random) -> str:
    return "".join(ln.rstrip("\r\n") + rng.choice(["\n", "\r\n", "\r", "\n"]) for ln in text.splitlines(True))


def lone_cr(text: str, rng: random.Random) -> str:
    return text.replace("\n", "\r")


def form_feeds(text: str, rng: random.Random) -> str:
    lines = text.splitlines(True)
    for _ in range(5):
        if lines:
            i = rng.randrange(len(lines))
            lines[i] = "\x0c" + lines[i]
    return "".join(lines)


def bom(text: str, rng: random.Random) -> str:
    return "\ufeff" + text


def unicode_noise(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + rng.choice(["é", "😀", "𝔵", "\u200b", "\u2028", "\x85", "中文", "\ufeff", "\U0010ffff"]) + text[i:]


def dedent_random_line(text: str, rng: random.Random) -> str:
    lines = text.splitlines(True)
    if not lines:
        return text
    i = rng.randrange(len(lines))
    lines[i] = lines[i].lstrip(" \t")
    return "".join(lines)


def tabs(text: str, rng: random.Random) -> str:
    return text.replace("    ", "\t", rng.randrange(1, 50))


MUTATIONS = [truncate, garbage, nul, delete_span, duplicate_span, swap_lines, mixed_line_endings, lone_cr, form_feeds, bom, unicode_noise, dedent_random_line, tabs]


def mutate(text: str, rng: random.Random, rounds: int = 2) -> str:
    for _ in range(rounds):
        text = rng.choice(MUTATIONS)(text, rng)
    return text


def deep_nesting_cases() -> dict:
    """Inputs that blow the parser's or the analysis' recursion."""
    return {
        "parens": "x = " + "(" * 5000 + ")" * 5000,
        "lists": "x = " + "[" * 5000 + "1" + "]" * 5000,
        "dicts": "x = " + "{1:" * 3000 + "1" + "}" * 3000,
        "unary": "x = " + "-" * 100000 + "1",
        "not": "x = " + "not " * 20000 + "1",
        "binop": "import torch\nloss = " + " + ".join(["torch.ones(1)"] * 30000) + "\nloss.backward()\n",
        "attr": "import torch\nx = torch" + ".a" * 30000 + "\n",
        "calls": "import torch\nx = torch.t" + "()" * 20000 + "\n",
        "lambdas": "import torch\nf = " + "lambda: " * 3000 + "1\n",
        "ifs": "import torch\n" + "".join(" " * i + "if x:\n" for i in range(99)) + " " * 99 + "y = torch.ones(1).detach()\n",
        "defs": "import torch\n" + "".join(" " * i + "def f():\n" for i in range(99)) + " " * 99 + "return torch.ones(1)\n",
        "fstring": "x = f'{" * 200 + "1" + "}'" * 200,
        "parens_torch": "import torch\nx = torch.ones(1)\ny = " + "(" * 190 + "x.detach()" + ")" * 190 + "\n(y * 2).sum().backward()\n",
        "subscripts": "import torch\nx = torch.ones(1)" + "[0]" * 20000 + "\n",
        "strings": "x = " + " ".join(["'a'"] * 100000) + "\n",
    }
