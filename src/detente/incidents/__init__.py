"""Incidents: declaration, executive briefings on a cadence, regulatory clocks, timeline, review."""
