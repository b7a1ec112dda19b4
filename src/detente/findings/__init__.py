"""Findings: scanner parsers (pure), import and re-import, identity, lifecycle and deadlines."""
