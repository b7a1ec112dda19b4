"""The radar's actions as work: decision meetings (amber) and facilitated resets (red)."""
