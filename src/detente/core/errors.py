"""Domain errors. Each maps once, centrally, to a CLI exit code and an HTTP status.

Shells catch ``DetenteError`` and print ``str(error)``: one line, never a stack trace.
"""

from __future__ import annotations


class DetenteError(Exception):
    """Base of every error a user may see."""

    exit_code = 1
    http_status = 400
    code = "error"


class InputError(DetenteError):
    """Bad input: names the file, the record and the field where it can."""

    exit_code = 2
    http_status = 422
    code = "bad_input"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        record: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.record = record
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.record:
            where.append(f"record {self.record}")
        if self.field:
            where.append(f"field {self.field!r}")
        prefix = ": ".join([", ".join(where)]) if where else ""
        return f"{prefix}: {self.message}" if prefix else self.message

    def with_file(self, file: str) -> InputError:
        return type(self)(self.message, file=file, record=self.record, field=self.field)


class NotFound(DetenteError):
    exit_code = 2
    http_status = 404
    code = "not_found"


class RuleViolation(DetenteError):
    """Refused by a rule: a forbidden transition, a policy limit, separation of duties."""

    exit_code = 1
    http_status = 409
    code = "refused"


class PermissionDenied(RuleViolation):
    http_status = 403
    code = "forbidden"
