"""The minutes form of a decision meeting: who attended, what was said, how each open agenda item
ended (a decision on the five principles, or deferred to a date) and the actions with owners and
due dates. It checks the shape only and builds the ``outcomes`` and ``actions`` that
``meetings.services.meeting_minutes`` takes (as the CLI and the API give them); the service
decides, and its refusal comes back onto the field it names."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from detente.core.errors import DetenteError
from detente.meetings.models import AgendaItem, ItemOutcome, Meeting
from detente.people.selectors import people_by_name

ACTION_ROWS = 3
_FOLLOWED = (("", "Not said"), ("yes", "Yes"), ("no", "No"))
_RECORD = re.compile(r"^(outcomes|actions)\[(\d+)\]")
# a service's field name -> the form's field suffix
_ITEM_FIELDS = {
    "decision": "decision",
    "defer_to": "defer_to",
    "reason": "reason",
    "chosen_option": "chosen",
    "title": "option",
    "business_benefit": "benefit",
    "options": "option",
}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _names(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n]", text) if part.strip()]


class MinutesForm(forms.Form):
    minutes = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), label="Minutes")

    def __init__(self, *args: Any, meeting: Meeting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.meeting = meeting
        self.attendees = list(meeting.attendees.select_related("person"))
        self.open_items: list[AgendaItem] = list(
            meeting.items.filter(outcome=ItemOutcome.OPEN).select_related("decision")
        )
        for a in self.attendees:
            self.fields[f"attended_{a.person_id}"] = forms.BooleanField(
                required=False, label=f"{a.person.name} attended"
            )
        for item in self.open_items:
            self._item_fields(item)
        people = people_by_name()
        owners = [("", "—")] + [(p.email, f"{p.name} ({p.email})") for p in people]
        positions = [("", "—")] + [(str(i.position), f"Item {i.position}") for i in self.items]
        for n in range(1, ACTION_ROWS + 1):
            self.fields[f"action_{n}_title"] = forms.CharField(
                required=False, max_length=300, label=f"Action {n}: what is done"
            )
            self.fields[f"action_{n}_owner"] = forms.ChoiceField(
                required=False, choices=owners, label=f"Action {n}: owner"
            )
            self.fields[f"action_{n}_due"] = forms.DateField(
                required=False,
                label=f"Action {n}: due",
                widget=forms.DateInput(attrs={"type": "date"}),
            )
            self.fields[f"action_{n}_item"] = forms.ChoiceField(
                required=False, choices=positions, label=f"Action {n}: agenda item"
            )

    @property
    def items(self) -> list[AgendaItem]:
        return list(self.meeting.items.all())

    def _item_fields(self, item: AgendaItem) -> None:
        p = f"item_{item.position}_"
        n = f"Item {item.position}"
        f = self.fields
        f[p + "outcome"] = forms.ChoiceField(
            choices=(
                ("", "—"),
                (ItemOutcome.DECIDED.value, "Decided"),
                (ItemOutcome.DEFERRED.value, "Deferred to a date"),
            ),
            label=f"{n}: outcome",
        )
        f[p + "decision"] = forms.CharField(
            required=False, widget=forms.Textarea(attrs={"rows": 2}), label=f"{n}: the decision"
        )
        record = item.decision
        if record is not None:
            choices = [("", "—")] + [
                (str(i), str(o.get("title") or f"Option {i + 1}"))
                for i, o in enumerate(record.options or [])
            ]
            f[p + "chosen"] = forms.ChoiceField(
                required=False, choices=choices, label=f"{n}: option chosen"
            )
        else:
            framing = item.framing or {}
            f[p + "option"] = forms.CharField(
                required=False, max_length=200, label=f"{n}: option chosen (title)"
            )
            f[p + "benefit"] = forms.CharField(required=False, label=f"{n}: its business benefit")
            f[p + "facts"] = forms.CharField(
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                initial="\n".join(framing.get("facts") or []),
                label=f"{n}: facts (one a line)",
            )
            f[p + "company_first"] = forms.CharField(
                required=False, label=f"{n}: why it serves the company first"
            )
            f[p + "informed"] = forms.CharField(
                required=False,
                initial=", ".join(framing.get("informed") or []),
                label=f"{n}: who is informed (comma-separated)",
            )
            f[p + "win_win"] = forms.CharField(
                required=False, label=f"{n}: the win-win option considered"
            )
        f[p + "followed"] = forms.ChoiceField(
            required=False, choices=_FOLLOWED, label=f"{n}: the CISO's recommendation followed"
        )
        f[p + "why_blank"] = forms.CharField(
            required=False, label=f"{n}: why a principle stays blank (if one does)"
        )
        f[p + "defer_to"] = forms.DateField(
            required=False,
            label=f"{n}: deferred to",
            widget=forms.DateInput(attrs={"type": "date"}),
        )
        f[p + "reason"] = forms.CharField(required=False, label=f"{n}: why it is deferred")

    def item_rows(self) -> list[tuple[AgendaItem, list[forms.BoundField]]]:
        return [
            (i, [self[name] for name in self.fields if name.startswith(f"item_{i.position}_")])
            for i in self.open_items
        ]

    def attendance(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("attended_")]

    def action_rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[name] for name in self.fields if name.startswith(f"action_{n}_")]
            for n in range(1, ACTION_ROWS + 1)
        ]

    # ------------------------------------------------------------------ clean

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.attended = [
            a.person.email for a in self.attendees if data.get(f"attended_{a.person_id}")
        ]
        if not self.attended:
            self.add_error(None, "tick who attended")
        self.outcomes = [self._outcome(item, data) for item in self.open_items]
        self.actions = []
        self.action_numbers: list[int] = []
        for n in range(1, ACTION_ROWS + 1):
            p = f"action_{n}_"
            title = (data.get(p + "title") or "").strip()
            owner, due, item = data.get(p + "owner"), data.get(p + "due"), data.get(p + "item")
            if not (title or owner or due or item):
                continue
            if not title:
                self.add_error(p + "title", "say what is done")
            if not owner:
                self.add_error(p + "owner", "choose the owner")
            if due is None:
                self.add_error(p + "due", "give the due date")
            row: dict[str, Any] = {
                "title": title,
                "owner": owner,
                "due": due.isoformat() if due else "",
            }
            if item:
                row["item"] = int(item)
            self.actions.append(row)
            self.action_numbers.append(n)
        return data

    def _outcome(self, item: AgendaItem, data: dict[str, Any]) -> dict[str, Any]:
        p = f"item_{item.position}_"
        outcome = data.get(p + "outcome")
        if outcome == ItemOutcome.DEFERRED:
            to, why = data.get(p + "defer_to"), (data.get(p + "reason") or "").strip()
            if to is None:
                self.add_error(p + "defer_to", "give the date it is deferred to")
            if not why:
                self.add_error(p + "reason", "say why it is deferred")
            return {
                "item": item.position,
                "defer_to": to.isoformat() if to else "",
                "reason": why,
            }
        row: dict[str, Any] = {
            "item": item.position,
            "decision": (data.get(p + "decision") or "").strip(),
            "why_blank": (data.get(p + "why_blank") or "").strip(),
        }
        if outcome == ItemOutcome.DECIDED and not row["decision"]:
            self.add_error(p + "decision", "state the decision")
        followed = data.get(p + "followed")
        if followed:
            row["ciso_recommendation_followed"] = followed == "yes"
        if item.decision is not None:
            if data.get(p + "chosen"):
                row["chosen_option"] = int(data[p + "chosen"])
            return row
        title = (data.get(p + "option") or "").strip()
        if title or outcome == ItemOutcome.DECIDED:
            row["options"] = [
                {
                    "title": title,
                    "business_benefit": (data.get(p + "benefit") or "").strip(),
                    "facts": _lines(data.get(p + "facts") or ""),
                }
            ]
            row["chosen_option"] = 0
        row["company_first"] = (data.get(p + "company_first") or "").strip()
        row["informed"] = _names(data.get(p + "informed") or "")
        row["win_win"] = (data.get(p + "win_win") or "").strip()
        return row

    def refused(self, exc: DetenteError) -> None:
        """Put the service's refusal on the field of the record it names, else on the form."""
        record = getattr(exc, "record", None) or ""
        field = getattr(exc, "field", None) or ""
        found = _RECORD.match(record)
        target: str | None = None
        if found and found.group(1) == "outcomes":
            index = int(found.group(2))
            if index < len(self.open_items):
                name = f"item_{self.open_items[index].position}_{_ITEM_FIELDS.get(field, '')}"
                target = name if name in self.fields else None
        elif found:
            index = int(found.group(2))
            if index < len(self.action_numbers):
                name = f"action_{self.action_numbers[index]}_{field}"
                target = name if name in self.fields else None
        elif field == "minutes":
            target = "minutes"
        self.add_error(target, str(exc))
