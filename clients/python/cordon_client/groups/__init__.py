"""Groups, their signed membership log and what this device remembers of it."""
