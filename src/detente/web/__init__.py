"""Web shell: server-rendered pages for both leaders and their teams (thin views over services)."""
