"""The pages, one module per area; what they share is in ``web/shortcuts.py``."""
