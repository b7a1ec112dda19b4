"""Data and invariants of org."""
