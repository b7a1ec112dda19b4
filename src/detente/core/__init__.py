"""Shared kernel: the clock, the domain errors and small typing helpers every app uses."""
