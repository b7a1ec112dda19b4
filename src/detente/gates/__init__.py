"""Gates: release-gate evaluations, overrides and DevSecOps coverage per service."""
