"""The browser client (`clients/web`), built into `dist/` and served by this server at `/`."""
