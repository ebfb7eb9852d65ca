"""Waiting for server notifications without hanging: a notification can arrive before a waiter is
registered (pytest-lsp then never resolves the wait), so every wait is bounded and the tests assert on the
state the client recorded."""
from __future__ import annotations

import asyncio

from lsprotocol import types as lsp


# Generous bounds: `until` returns as soon as its condition holds, so a passing test never waits them out;
# they only keep a loaded machine (analyses several times slower) from failing a test that would pass.
async def notified(client, method: str = lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, timeout: float = 30.0):
    try:
        return await asyncio.wait_for(client.wait_for_notification(method), timeout)
    except asyncio.TimeoutError:
        return None  # it may have come already; callers check the recorded state


async def until(predicate, timeout: float = 120.0, step: float = 0.05) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if predicate():
            return True
        await asyncio.sleep(step)
    return predicate()
