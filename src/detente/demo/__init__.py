"""Demo: a small organisation built through the real services, from the real sample files."""
