"""Member administrations (customs and other enforcement agencies)."""
