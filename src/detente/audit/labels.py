"""What people read for an audit event's verb: "Deferral approved", not "acceptance.approved".

Verbs stay the stored contract (the CLI, the API and the chain use them); pages show these
labels. A verb with no entry is read from its parts ("planning.window_added" -> "Planning:
window added"), so a new verb never shows as a raw key.
"""

from __future__ import annotations

EVENT_LABELS: dict[str, str] = {
    "access.sso_linked": "Single sign-on linked to a person",
    "api.pentest_report_read": "API pen test report read",
    "meeting.proposed": "Decision meeting proposed",
    "meeting.rescheduled": "Decision meeting rescheduled",
    "meeting.minuted": "Decision meeting minutes recorded",
    "meeting.action_done": "Meeting action done",
    "person.deactivated": "Person deactivated",
    "person.role_changed": "Role changed",
    "reset.started": "Facilitated reset proposed",
    "reset.granted": "Facilitated reset granted",
    "reset.facilitator_read": "Facilitator read the shared evidence",
    "reset.session_proposed": "Reset joint session proposed",
    "reset.charter_added": "Reset charter agreement added",
    "reset.checkin": "Reset check-in",
    "reset.end_signed": "Reset end signed",
    "acceptance.requested": "Deferral requested",
    "acceptance.approved": "Deferral approved",
    "acceptance.rejected": "Deferral rejected",
    "acceptance.expired": "Deferral expired",
    "acceptance.revoked": "Deferral revoked",
    "acceptance.superseded": "Deferral superseded by its renewal",
    "acceptance.signed.approve": "Deferral signed: approve",
    "acceptance.signed.reject": "Deferral signed: reject",
    "acceptance.covered_new": "New finding covered by a deferral",
    "acceptance.finding_fixed": "Deferred finding fixed",
    "access.signin_failed": "Sign-in failed",
    "access.signin_locked": "Sign-in locked after failures",
    "account.password_set": "Password set",
    "asset.exposure_set": "Asset exposure set",
    "decision.created": "Decision record opened",
    "decision.decided": "Decision recorded",
    "findings.reevaluated": "Deadlines re-evaluated",
    "gate.run": "Release gate run",
    "gate.overridden": "Release gate overridden",
    "gate.override.confirmed": "Gate override co-signed",
    "gate.override.rejected": "Gate override rejected",
    "gate.override.escalated": "Gate override escalated (no second signature in time)",
    "incident.declared": "Incident declared",
    "incident.status": "Incident status changed",
    "incident.facts": "Incident facts recorded",
    "incident.briefed": "Briefing issued",
    "incident.briefing_acknowledged": "Briefing acknowledged",
    "incident.briefing_answered": "Briefing ask answered by the CIO",
    "incident.clock_met": "Regulatory filing recorded",
    "incident.timeline": "Timeline entry added",
    "incident.reviewed": "Post-incident review written",
    "incidents.regimes_configured": "Regulatory regimes configured",
    "intel.loaded": "Threat intelligence loaded",
    "notification.queued": "Notification queued",
    "notification.delivered": "Notification delivered",
    "person.created": "Person added",
    "planning.plan_made": "Patch plan made",
    "planning.window_added": "Change window added",
    "planning.window_changed": "Change window changed",
    "planning.blackout_added": "Blackout added",
    "planning.blackout_changed": "Blackout changed",
    "planning.emergency_called": "Emergency change called",
    "planning.miss_deferred": "Missed deadline sent to a deferral",
    "planning.effort_set": "Effort estimate set",
    "policy.activated": "Policy activated",
    "scan.imported": "Scan imported",
    "service.created": "Service added",
    "service.updated": "Service changed",
    "tension.profile_taken": "Leader profile taken",
    "tension.pulse_answered": "Pulse answered",
    "tension.radar_computed": "Radar computed",
    "token.issued": "API token issued",
    "token.revoked": "API token revoked",
    "totp.enabled": "Two-factor sign-in enabled",
    "totp.enrolment_started": "Two-factor enrolment started",
    "vex.applied": "VEX statements applied",
    "vex.reviewed": "VEX statement reviewed",
    "initiative.created": "Initiative created",
    "initiative.guardrails_signed": "Initiative guardrails signed",
    "initiative.comms_done": "Initiative communication sent",
    "initiative.acceptance_linked": "Initiative phase covered by a deferral",
    "initiative.metric_token_issued": "Initiative metrics token issued",
    "initiative.metric_unavailable": "Initiative metric unavailable",
    "initiative.metrics_recorded": "Initiative metrics recorded",
    "initiative.risk_observed": "Initiative risk observed",
    "initiative.threshold_changed": "Initiative guardrail threshold changed",
    "initiative.phase_running": "Initiative phase started",
    "initiative.phase_paused": "Initiative phase paused",
    "initiative.phase_resumed": "Initiative phase resumed",
    "initiative.phase_rolled_back": "Initiative phase rolled back",
    "initiative.phase_done": "Initiative phase done",
    "api.registered": "API registered",
    "api.version_added": "API version added",
    "api.pentest_recorded": "API pen test recorded",
    "api.pentest_findings_imported": "API pen test findings imported",
    "api.pentest_report_attached": "API pen test report attached",
    "api.audited": "API audited",
}


def event_label(verb: str) -> str:
    """The label of ``verb``; an unknown verb read from its parts."""
    if verb in EVENT_LABELS:
        return EVENT_LABELS[verb]
    head, _, rest = verb.partition(".")
    if not rest:
        return verb.replace("_", " ").capitalize()
    words = rest.replace(".", " ").replace("_", " ")
    return f"{head.replace('_', ' ').capitalize()}: {words}"


def subject_label(subject_type: str, subject_id: object) -> str:
    """ "acceptance 12" -> "RA-12"; other subjects as "gate override 3"."""
    prefixes = {"acceptance": "RA-", "incident": "INC-", "decision": "DR-", "initiative": "IN-"}
    if subject_type in prefixes and subject_id not in (None, ""):
        return f"{prefixes[subject_type]}{subject_id}"
    text = subject_type.replace("_", " ")
    return f"{text} {subject_id}" if subject_id not in (None, "") else text
