"""Cross-domain building blocks: settings, database, errors, security, logging."""
