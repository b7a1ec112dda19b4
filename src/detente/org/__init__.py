"""Organisation: people, services and assets applied from one file, Backstage or a CMDB export."""
