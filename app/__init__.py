"""Cordon server: routes, stores and pushes ciphertext for closed user groups."""
