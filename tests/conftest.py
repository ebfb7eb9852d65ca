import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared"))


def pytest_addoption(parser):
    parser.addoption("--long-fuzz", action="store_true", help="run the long fuzz campaigns")
