"""Decision meetings with their agenda, minutes and actions; facilitated resets with their scope,
signatures, the facilitator's access window, joint sessions and 30/60/90-day check-ins."""

from __future__ import annotations

from django.db import models


class MeetingStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    SCHEDULED = "scheduled", "Scheduled"
    HELD = "held", "Held"


class MeetingKind(models.TextChoices):
    DECISION = "decision", "Structured decision meeting"
    RESET_SESSION = "reset_session", "Joint reset session"


class Meeting(models.Model):
    """A structured decision meeting (or a reset's joint session), proposed from the radar."""

    kind = models.CharField(
        max_length=16, choices=MeetingKind.choices, default=MeetingKind.DECISION
    )
    title = models.CharField(max_length=200)
    period = models.CharField(max_length=7, blank=True)  # the radar month it answers (YYYY-MM)
    zone = models.CharField(max_length=8, blank=True)  # the zone when proposed
    reason = models.CharField(max_length=16)  # radar | asked
    reset = models.ForeignKey(
        "meetings.ResetEngagement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sessions",
    )
    status = models.CharField(
        max_length=16, choices=MeetingStatus.choices, default=MeetingStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField()
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    location = models.CharField(max_length=200, blank=True)
    sequence = models.PositiveIntegerField(default=0)  # ICS SEQUENCE: +1 per reschedule
    reschedules = models.JSONField(default=list)  # [{"from", "to", "reason", "by", "at"}]
    minutes = models.TextField(blank=True)
    held_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-proposed_at", "-id")

    def __str__(self) -> str:
        return f"M-{self.pk}: {self.title}"

    @property
    def uid(self) -> str:
        return f"meeting-{self.pk}@detente"


class Attendee(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendees")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    delegate = models.BooleanField(default=False)  # named by a leader, not a leader
    attended = models.BooleanField(null=True, blank=True)  # None until the minutes

    class Meta:
        ordering = ("delegate", "id")
        constraints = (
            models.UniqueConstraint(fields=("meeting", "person"), name="one_attendee_per_person"),
        )

    def __str__(self) -> str:
        return f"M-{self.meeting_id}: person {self.person_id}"


class ItemOutcome(models.TextChoices):
    OPEN = "open", "Open"
    DECIDED = "decided", "Decided"
    DEFERRED = "deferred", "Deferred"


class AgendaItem(models.Model):
    """One decision to take, framed on the five principles, with the evidence behind it."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=300)
    signal = models.CharField(max_length=64, blank=True)  # the radar signal it answers
    evidence = models.JSONField(default=dict)  # kind -> ids
    framing = models.JSONField(default=dict)  # the five principles' prompts and facts
    decide_by = models.DateField()  # not decided (or deferred) by then: a tension signal
    outcome = models.CharField(max_length=16, choices=ItemOutcome.choices, default=ItemOutcome.OPEN)
    decision = models.ForeignKey(
        "decisions.DecisionRecord",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    deferred_to = models.DateField(null=True, blank=True)
    deferred_reason = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # A deferred item of an earlier meeting, carried onto this agenda (its history in framing)
    carried_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="carried_to"
    )

    class Meta:
        ordering = ("meeting", "position")
        constraints = (
            models.UniqueConstraint(fields=("meeting", "position"), name="one_item_per_position"),
        )

    def __str__(self) -> str:
        return f"M-{self.meeting_id} item {self.position}: {self.title}"


class Action(models.Model):
    """Follow-through: an owner, a due date, done or not."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="actions")
    item = models.ForeignKey(
        AgendaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    title = models.CharField(max_length=300)
    owner = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    due = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("due", "id")

    def __str__(self) -> str:
        return f"action {self.pk}: {self.title} (due {self.due})"


class ResetStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed (scope awaiting both signatures)"
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"


class ResetEngagement(models.Model):
    """A reset facilitated by an independent third party, on a scope both leaders signed."""

    facilitator = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    scope = models.JSONField(default=list)  # the kinds of evidence the pair shares
    goals = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=ResetStatus.choices, default=ResetStatus.PROPOSED
    )
    started_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    cio_signed_at = models.DateTimeField(null=True, blank=True)
    ciso_signed_at = models.DateTimeField(null=True, blank=True)
    access_days = models.PositiveSmallIntegerField(default=90)  # the window both leaders grant
    access_from = models.DateTimeField(null=True, blank=True)
    access_until = models.DateTimeField(null=True, blank=True)  # ends by itself
    baseline = models.JSONField(default=dict)  # the radar and pulse when it started
    charter = models.ManyToManyField("decisions.DecisionRecord", blank=True, related_name="+")
    cio_end_signed_at = models.DateTimeField(null=True, blank=True)
    ciso_end_signed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-started_at", "-id")

    def __str__(self) -> str:
        return f"RS-{self.pk} ({self.status})"


class Checkin(models.Model):
    """The 30/60/90-day check-ins: the pulse retaken, the radar compared with the baseline."""

    reset = models.ForeignKey(ResetEngagement, on_delete=models.CASCADE, related_name="checkins")
    day = models.PositiveSmallIntegerField()  # 30, 60, 90
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    comparison = models.JSONField(default=dict)  # before / after: index, zone, pulse

    class Meta:
        ordering = ("reset", "day")
        constraints = (
            models.UniqueConstraint(fields=("reset", "day"), name="one_checkin_per_day"),
        )

    def __str__(self) -> str:
        return f"RS-{self.reset_id} day {self.day}"
