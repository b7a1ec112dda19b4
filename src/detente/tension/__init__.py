"""Tension: leader profiles, the monthly pulse, signals, the index, its zones and actions."""
