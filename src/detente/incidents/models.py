"""Incidents, the organisation's regulatory profile, briefings, clock filings, timeline, review."""

from __future__ import annotations

from django.db import models


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    CONTAINED = "contained", "Contained"
    ERADICATED = "eradicated", "Eradicated"
    RECOVERED = "recovered", "Recovered"
    CLOSED = "closed", "Closed"


S = IncidentStatus

# The only legal moves. A test walks every pair of states against this table. An incident may fall
# back to investigating (re-infection, a new foothold found); "investigating → closed" is the false
# alarm; once closed, an incident stays closed (a recurrence is a new incident).
ALLOWED: dict[str, frozenset[str]] = {
    S.INVESTIGATING: frozenset({S.CONTAINED, S.CLOSED}),
    S.CONTAINED: frozenset({S.ERADICATED, S.INVESTIGATING}),
    S.ERADICATED: frozenset({S.RECOVERED, S.INVESTIGATING}),
    S.RECOVERED: frozenset({S.CLOSED, S.INVESTIGATING}),
    S.CLOSED: frozenset(),
}

# States in which the incident is still being handled (briefings keep their cadence).
HANDLING = frozenset({S.INVESTIGATING, S.CONTAINED, S.ERADICATED})


class Severity(models.TextChoices):
    SEV1 = "sev1", "SEV1"
    SEV2 = "sev2", "SEV2"
    SEV3 = "sev3", "SEV3"
    SEV4 = "sev4", "SEV4"


class IncidentType(models.TextChoices):
    RANSOMWARE = "ransomware", "Ransomware"
    DATA_BREACH = "data_breach", "Data breach"
    ACCOUNT_COMPROMISE = "account_compromise", "Account compromise"
    DENIAL_OF_SERVICE = "denial_of_service", "Denial of service"
    MALWARE = "malware", "Malware"
    EXPLOITED_VULNERABILITY = "exploited_vulnerability", "Exploited vulnerability"
    THIRD_PARTY = "third_party", "Third-party / supply chain"
    INSIDER = "insider", "Insider"
    OTHER = "other", "Other"


class Incident(models.Model):
    title = models.CharField(max_length=200)
    type = models.CharField(max_length=32, choices=IncidentType.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    status = models.CharField(
        max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.INVESTIGATING
    )
    summary = models.TextField(blank=True)
    detected_at = models.DateTimeField()
    declared_at = models.DateTimeField()
    aware_at = models.DateTimeField(help_text="Awareness: starts GDPR, NIS2 and DORA clocks")
    classified_major_at = models.DateTimeField(null=True, blank=True)  # DORA
    material_determined_at = models.DateTimeField(null=True, blank=True)  # SEC 8-K Item 1.05
    sec_details_available_at = models.DateTimeField(null=True, blank=True)  # SEC 8-K/A
    nis2_significant = models.BooleanField(default=False)
    services = models.ManyToManyField(
        "inventory.BusinessService", blank=True, related_name="incidents"
    )
    personal_data = models.BooleanField(default=False)
    data_categories = models.JSONField(default=list, blank=True)
    high_risk_to_subjects = models.BooleanField(default=False)  # GDPR Art. 34
    lead = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    ciso = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cio = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    liaison = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    scribe = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    declared_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    status_changed_at = models.DateTimeField()
    handled_at = models.DateTimeField(null=True, blank=True)  # first reached "recovered"
    closed_at = models.DateTimeField(null=True, blank=True)
    cio_informed_at = models.DateTimeField(null=True, blank=True)  # first acknowledged briefing
    reminders_sent = models.JSONField(default=list, blank=True)  # "kind:due-iso" already sent

    class Meta:
        ordering = ("-declared_at", "-id")
        indexes = (models.Index(fields=("status", "severity")),)

    def __str__(self) -> str:
        return f"INC-{self.pk}: {self.title}"


class GdprRole(models.TextChoices):
    NONE = "none", "Not subject"
    CONTROLLER = "controller", "Controller"
    PROCESSOR = "processor", "Processor"


class Nis2Entity(models.TextChoices):
    NONE = "none", "Not in scope"
    ESSENTIAL = "essential", "Essential entity"
    IMPORTANT = "important", "Important entity"


class DoraEntityType(models.TextChoices):
    NONE = "none", "Not a financial entity"
    CREDIT_INSTITUTION = "credit_institution", "Credit institution"
    CCP = "ccp", "Central counterparty"
    TRADING_VENUE = "trading_venue", "Trading venue"
    PAYMENT_INSTITUTION = "payment_institution", "Payment or e-money institution"
    INVESTMENT_FIRM = "investment_firm", "Investment firm"
    INSURANCE = "insurance", "Insurance or reinsurance undertaking"
    OTHER = "other", "Other financial entity"


class RegimeProfile(models.Model):
    """The organisation's regulatory regimes, configured once (a singleton: ``id`` is always 1)."""

    sec_registrant = models.BooleanField(default=False)
    gdpr_role = models.CharField(max_length=16, choices=GdprRole.choices, default=GdprRole.NONE)
    nis2_entity = models.CharField(max_length=16, choices=Nis2Entity.choices, default="none")
    dora_entity_type = models.CharField(
        max_length=32, choices=DoraEntityType.choices, default=DoraEntityType.NONE
    )
    eu_timezone = models.CharField(max_length=64, default="Europe/Paris")
    eu_calendar = models.CharField(
        max_length=16, default="FR", help_text="ISO country code of the authority, or TARGET"
    )
    us_timezone = models.CharField(max_length=64, default="America/New_York")
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (models.CheckConstraint(condition=models.Q(id=1), name="one_regime_profile"),)

    def __str__(self) -> str:
        return "regime profile"


class BriefingForm(models.TextChoices):
    EXECUTIVE = "executive", "Executive"
    TACTICAL = "tactical", "Tactical"


class Confidence(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Briefing(models.Model):
    """One situation report. Executive: status, overview, asks, next steps. Tactical: conditions
    (status, knowns, unknowns), actions, needs (asks)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="briefings")
    number = models.PositiveIntegerField()
    form = models.CharField(max_length=16, choices=BriefingForm.choices)
    status_summary = models.TextField()
    overview = models.TextField(blank=True)
    knowns = models.JSONField(default=list, blank=True)
    unknowns = models.JSONField(default=list, blank=True)  # [{"text": …, "confidence": …}]
    actions = models.JSONField(default=list, blank=True)
    asks = models.JSONField(default=list, blank=True)
    # The CIO's answers to the asks: [{"ask": 1-based index, "text", "by", "at"}]
    answers = models.JSONField(default=list, blank=True)
    next_steps = models.JSONField(default=list, blank=True)
    next_update_due = models.DateTimeField(null=True, blank=True)
    author = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField()
    incident_status = models.CharField(max_length=16, choices=IncidentStatus.choices)
    acknowledged_by = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("issued_at", "id")
        constraints = (
            models.UniqueConstraint(fields=("incident", "number"), name="briefing_number"),
        )

    def __str__(self) -> str:
        return f"INC-{self.incident_id} briefing {self.number} ({self.form})"


class ClockFiling(models.Model):
    """A filing made against a regulatory clock (``clocks.CLOCKS`` names the keys)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="filings")
    clock = models.CharField(max_length=32)
    filed_at = models.DateTimeField()
    reference = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ("filed_at", "id")

    def __str__(self) -> str:
        return f"INC-{self.incident_id} {self.clock} filed {self.filed_at:%Y-%m-%d %H:%M}"


class EntryKind(models.TextChoices):
    NOTE = "note", "Note"
    DECLARED = "declared", "Declared"
    STATUS = "status", "Status changed"
    FACTS = "facts", "Facts changed"
    BRIEFING = "briefing", "Briefing"
    ACK = "ack", "Acknowledged"
    CLOCK = "clock", "Regulatory filing"
    DECISION = "decision", "Decision"
    ACTION = "action", "Action"
    REVIEW = "review", "Review"


class TimelineEntry(models.Model):
    """Append-only: services create entries; nothing updates or deletes them."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField()
    author = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    text = models.TextField()
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"INC-{self.incident_id} {self.at:%Y-%m-%d %H:%M} {self.kind}"


class Review(models.Model):
    """Post-incident review: what happened, what went well, what did not, and the actions."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="review")
    what_happened = models.TextField()
    went_well = models.TextField(blank=True)
    went_badly = models.TextField(blank=True)
    decisions = models.ManyToManyField(
        "decisions.DecisionRecord", blank=True, related_name="incident_reviews"
    )
    author = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"review of INC-{self.incident_id}"


class ReviewAction(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="actions")
    text = models.TextField()
    owner = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    due = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("due", "id")

    def __str__(self) -> str:
        return f"{self.text[:40]} ({self.owner_id}, {self.due})"
