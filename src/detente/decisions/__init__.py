"""Decisions: records whose fields are the five principles; acceptances link to them."""
