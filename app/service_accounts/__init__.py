"""Service accounts: non-interactive, scoped credentials for machine-to-machine use."""
