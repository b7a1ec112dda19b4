"""Data and invariants of initiatives."""
