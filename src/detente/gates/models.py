"""Data and invariants of gates."""
