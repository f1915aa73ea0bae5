"""The `cordon` command line: one module per command group; `main.app` is all of it, and
`entry.run` the executable's entry point."""
