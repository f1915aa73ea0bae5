"""Document library: end-to-end encrypted, streamed, versioned documents (PROTOCOL.md §8)."""
