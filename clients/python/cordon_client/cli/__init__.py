"""The `cordon` command line: one module per command group; `main.app` is the entry point."""
