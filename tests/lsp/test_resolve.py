"""The jedi resolver's time limit (hover on an imported class): a slow answer is not cached as "no
answer", and a late answer is kept for the next hover. The LSP tests themselves run with
GRADGUARD_RESOLVE_TIMEOUT=0 (tests/conftest.py) so that they wait for jedi instead of racing the limit."""
from __future__ import annotations

import threading

from gradguard.resolve import ClassAnswer, Resolver, default_timeout


def test_default_timeout_from_the_environment(monkeypatch):
    monkeypatch.setenv("GRADGUARD_RESOLVE_TIMEOUT", "0")
    assert default_timeout() is None and Resolver().timeout is None
    monkeypatch.setenv("GRADGUARD_RESOLVE_TIMEOUT", "7.5")
    assert Resolver().timeout == 7.5
    monkeypatch.setenv("GRADGUARD_RESOLVE_TIMEOUT", "soon")
    assert Resolver().timeout == 3.0
    monkeypatch.delenv("GRADGUARD_RESOLVE_TIMEOUT")
    assert Resolver().timeout == 3.0
    assert Resolver(timeout=1.0).timeout == 1.0 and Resolver(timeout=None).timeout is None


def test_slow_answer_is_not_cached_as_none_and_a_late_one_is_kept():
    r = Resolver(timeout=0.05)
    release = threading.Event()
    done = threading.Event()
    calls = []
    answer = ClassAnswer("pkg.Encoder", "/x/pkg.py", True, ("pkg.Encoder", "torch.nn.Module"))

    def slow(text, path, line, col, depth, chain):
        calls.append(line)
        release.wait(30)
        done.set()
        return answer

    r._class_at = slow  # type: ignore[method-assign]
    assert r.class_at("x = 1\n", "/x/main.py", 1, 0) is None  # the limit: no answer this time
    release.set()
    assert done.wait(30)
    for _ in range(200):  # the worker stores its late answer right after returning it
        if r._cache:
            break
        threading.Event().wait(0.01)
    assert r.class_at("x = 1\n", "/x/main.py", 1, 0) == answer  # served from the cache, no second query
    assert calls == [1]


def test_without_limit_the_answer_is_awaited():
    r = Resolver(timeout=None)
    answer = ClassAnswer("a.B", None, None, ("a.B",))

    def slow(text, path, line, col, depth, chain):
        threading.Event().wait(0.3)
        return answer

    r._class_at = slow  # type: ignore[method-assign]
    assert r.class_at("x = 1\n", None, 1, 0) == answer
