"""Every pytest-lsp client here answers `client/registerCapability` as real editors do (the server registers a
watcher for Python files after `initialized` when the client says it supports dynamic registration)."""
from __future__ import annotations

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

_original_init = LanguageClient.__init__


def _init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    self.registrations = []

    @self.feature(lsp.CLIENT_REGISTER_CAPABILITY)
    def _register(params: lsp.RegistrationParams):
        self.registrations.extend(r.method for r in params.registrations)


LanguageClient.__init__ = _init  # type: ignore[method-assign]
