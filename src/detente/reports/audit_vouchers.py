"""The registry of audit vouch rules: rows the trail vouches for, checked by ``audit verify``.
Add a domain's rules here (its ``vouch.VOUCHERS``)."""

from __future__ import annotations

from detente.acceptances import vouch as acceptances_vouch
from detente.audit.services import Voucher
from detente.decisions import vouch as decisions_vouch

VOUCHERS: tuple[Voucher, ...] = (*acceptances_vouch.VOUCHERS, *decisions_vouch.VOUCHERS)
