"""A reset's scope and end need both leaders: one person holding the CIO and the CISO roles signs
each once, never both seats."""

from __future__ import annotations

import pytest

from detente.core.errors import RuleViolation
from detente.meetings.models import ResetStatus
from detente.meetings.services import reset_end, reset_grant, reset_start
from detente.meetings.tests.conftest import Org
from detente.people.services import person_roles_write
from detente.tension.models import TensionSnapshot


def test_a_leader_holding_both_roles_signs_the_scope_and_the_end_once(
    org: Org, amber: TensionSnapshot
) -> None:
    person_roles_write(person=org.cio, roles=["cio", "ciso"])

    reset = reset_start(
        actor=org.cio, facilitator=org.facilitator, scope=["radar"], goals="Decision rights",
        access_days=30,
    )  # fmt: skip
    assert reset.cio_signed_at is not None
    assert reset.ciso_signed_at is None  # one seat only, although they hold both roles

    with pytest.raises(RuleViolation, match="separation of duties"):
        reset_grant(actor=org.cio, reset=reset)
    reset.refresh_from_db()
    assert (reset.status, reset.ciso_signed_at) == (ResetStatus.PROPOSED, None)

    reset = reset_grant(actor=org.ciso, reset=reset)
    assert reset.status == ResetStatus.ACTIVE

    reset = reset_end(actor=org.cio, reset=reset)
    with pytest.raises(RuleViolation, match="separation of duties"):
        reset_end(actor=org.cio, reset=reset)
    reset.refresh_from_db()
    assert reset.status == ResetStatus.ACTIVE
    assert reset_end(actor=org.ciso, reset=reset).status == ResetStatus.ENDED


def test_the_other_leader_holding_both_roles_ends_a_reset_too(
    org: Org, amber: TensionSnapshot
) -> None:
    person_roles_write(person=org.ciso, roles=["ciso", "cio"])
    reset = reset_start(
        actor=org.cio, facilitator=org.facilitator, scope=["radar"], goals="Decision rights",
        access_days=30,
    )  # fmt: skip
    reset = reset_grant(actor=org.ciso, reset=reset)

    reset = reset_end(actor=org.ciso, reset=reset)
    reset = reset_end(actor=org.cio, reset=reset)

    assert reset.status == ResetStatus.ENDED
