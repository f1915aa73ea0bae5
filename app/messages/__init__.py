"""Messages: each group's durable, ordered stream of opaque envelopes, sync and receipts."""
