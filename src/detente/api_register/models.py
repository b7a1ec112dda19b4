"""Data and invariants of api_register."""
