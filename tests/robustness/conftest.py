import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    """In this folder, ``@pytest.mark.slow`` campaigns only run with ``--long-fuzz``."""
    if config.getoption("--long-fuzz"):
        return
    skip = pytest.mark.skip(reason="long campaign: run with --long-fuzz")
    for item in items:
        if "slow" in item.keywords and str(item.fspath).startswith(HERE):
            item.add_marker(skip)


def scale(request, default: int, long: int) -> int:
    """How many cases: env GRADGUARD_FUZZ_N overrides; --long-fuzz uses ``long``."""
    env = os.environ.get("GRADGUARD_FUZZ_N")
    if env:
        return int(env)
    return long if request.config.getoption("--long-fuzz") else default
