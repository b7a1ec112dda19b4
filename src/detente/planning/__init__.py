"""Patch planning: change windows, blackouts, work items, plans that fit them, and their misses."""
