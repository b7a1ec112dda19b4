"""Initiatives: customer-facing security rollouts in phases with guardrails both leaders watch."""
