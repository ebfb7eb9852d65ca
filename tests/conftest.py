import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared"))

# Servers started by the tests (pytest-lsp, the robustness RPC client, real editors) inherit this: a hover
# that resolves an imported class through jedi waits for jedi's answer instead of racing the 3 s limit meant
# for interactive use, which a loaded machine can miss. The limit itself is tested in tests/lsp/test_resolve.py.
os.environ.setdefault("GRADGUARD_RESOLVE_TIMEOUT", "0")


def pytest_addoption(parser):
    parser.addoption("--long-fuzz", action="store_true", help="run the long fuzz campaigns")
