"""Forms of the API register pages: add an API, upload a spec version, record a pen test, attach
a pen test's report. They check the shape of the input; the services decide the rest (who may,
what a spec may contain, which operations exist) and their errors come back onto the form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings

from detente.api_register.models import Api, TesterKind
from detente.api_register.services import NAME
from detente.api_register.spec import MAX_BYTES
from detente.inventory.models import BusinessService
from detente.people.models import Person, Role


class _SpecFile(forms.FileField):
    """A spec file, refused over the loader's limit before it is read."""

    def clean(self, data: Any, initial: Any = None) -> Any:
        file = super().clean(data, initial)
        if file is not None and file.size is not None and file.size > MAX_BYTES:
            raise forms.ValidationError(
                f"{file.name}: spec is {file.size} bytes, over the {MAX_BYTES} byte limit"
            )
        return file


class _ReportFile(forms.FileField):
    def clean(self, data: Any, initial: Any = None) -> Any:
        file = super().clean(data, initial)
        limit = int(settings.DETENTE_MAX_REPORT_BYTES)
        if file is not None and file.size is not None and file.size > limit:
            raise forms.ValidationError(
                f"{file.name}: report is over the {limit} byte limit (DETENTE_MAX_REPORT_BYTES)"
            )
        return file


class ApiAddForm(forms.Form):
    name = forms.RegexField(
        regex=NAME,
        max_length=120,
        help_text="Letters, digits, '.', '_' or '-'.",
        error_messages={"invalid": "use letters, digits, '.', '_' or '-' (at most 120)"},
    )
    service = forms.ModelChoiceField(
        queryset=BusinessService.objects.order_by("name"), to_field_name="slug"
    )
    spec = _SpecFile(label="OpenAPI spec (2.0, 3.0 or 3.1; YAML or JSON)")
    owners = forms.ModelMultipleChoiceField(
        queryset=Person.objects.filter(active=True).order_by("name"),
        to_field_name="email",
        required=False,
        label="Owners (CIO side)",
    )
    security_contact = forms.ModelChoiceField(
        queryset=Person.objects.holding(Role.CISO, Role.SECURITY_LEAD)
        .filter(active=True)
        .order_by("name"),
        to_field_name="email",
        required=False,
        label="Security contact (CISO side)",
    )


class VersionForm(forms.Form):
    spec = _SpecFile(label="New spec version")


class PenTestForm(forms.Form):
    version = forms.TypedChoiceField(coerce=int, label="Spec version tested")
    started_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    ended_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    tester = forms.CharField(max_length=200, label="Tester or firm")
    tester_kind = forms.ChoiceField(choices=TesterKind.choices, initial=TesterKind.FIRM)
    method = forms.CharField(max_length=200, required=False, help_text="e.g. grey-box")
    scope = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=100_000,
        help_text="Operations tested, one a line (GET /users/{id}); empty = all.",
    )
    report = _ReportFile(required=False, label="Report file")
    findings = forms.FileField(
        required=False,
        label="Findings file",
        help_text="The test's findings in any format the import reads (detected by its content).",
    )

    def __init__(self, *args: Any, api: Api, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        versions = list(api.versions.order_by("-number").values_list("number", flat=True))
        field = self.fields["version"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(n, f"v{n}") for n in versions]
        field.initial = versions[0] if versions else None

    def clean_scope(self) -> list[str]:
        text: str = self.cleaned_data.get("scope") or ""
        return [" ".join(line.split()) for line in text.splitlines() if line.strip()]

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        started: dt.date | None = data.get("started_on")
        ended: dt.date | None = data.get("ended_on")
        if started and ended and ended < started:
            self.add_error("ended_on", "ends before it starts")
        return data


class ReportForm(forms.Form):
    report = _ReportFile(label="Report file")
