"""Client installations of a user and the public keys they submit."""
