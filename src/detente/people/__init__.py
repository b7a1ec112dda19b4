"""People: persons, their roles and sign authority, and archetype assessments."""
