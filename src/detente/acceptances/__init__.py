"""Acceptances: risk deferrals with a business case, signed by the roles policy names."""
