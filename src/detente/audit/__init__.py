"""Audit: the append-only, hash-chained log of every state change."""
