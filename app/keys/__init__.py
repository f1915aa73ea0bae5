"""The key directory (signed prekeys) and the signed, hash-chained membership log.

The server stores and serves public keys and signatures only; it checks structure, chaining and
signatures so garbage never enters the log, but trust comes from each client's own
verification from its pinned root (docs/PROTOCOL.md §3–4).
"""
