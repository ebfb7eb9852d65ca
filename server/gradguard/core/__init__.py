"""The pure analysis core: text in, findings and fix edits out. No LSP, no I/O."""
