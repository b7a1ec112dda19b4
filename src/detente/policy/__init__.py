"""Policy: the versioned policy document (YAML) and the deadline rules it sets."""
