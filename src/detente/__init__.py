"""Détente: the shared, fact-driven system where CIO and CISO organisations settle trade-offs."""

__version__ = "0.1.0"
