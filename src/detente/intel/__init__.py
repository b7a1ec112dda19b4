"""Intel: CISA KEV, FIRST EPSS, CVSS and SSVC facts, loaded from files with source and date."""
