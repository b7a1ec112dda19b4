"""Reports: read-only figures for the dashboards and the board report, from one source."""
