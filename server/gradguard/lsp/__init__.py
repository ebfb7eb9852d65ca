"""LSP wiring over the analysis core."""
