"""Sending, receiving and live delivery of envelopes, with history grants and key recovery."""
