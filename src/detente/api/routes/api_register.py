"""/api routes of api_register."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["api_register"])
