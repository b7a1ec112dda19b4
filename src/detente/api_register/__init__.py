"""API register: API specs and their versions, static audit, pen tests and the promotion gate."""
