"""/api routes of initiatives."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["initiatives"])
