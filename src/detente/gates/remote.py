"""Remote mode: ``detente gate`` against a running server (``DETENTE_URL`` + ``DETENTE_TOKEN``).

The reports are uploaded to ``POST /api/gate/runs``; the server decides with its database and
policy and returns the decision and the outputs, which are written here as in local mode. A
read-only token decides (``record`` is then false); recording the run needs a write token.
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from detente.core.errors import DetenteError, InputError, PermissionDenied
from detente.findings.services import scan_paths

TIMEOUT_SECONDS = 120


def _multipart(fields: dict[str, str], files: list[Path]) -> tuple[bytes, str]:
    boundary = "detente-" + secrets.token_hex(12)
    parts: list[bytes] = []
    for key, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read file ({exc.strerror})", file=str(path)) from None
        name = path.name.replace('"', "_")
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def remote_gate(  # noqa: C901, PLR0912, PLR0913 - split pending (gate branch edits this)
    *,
    paths: list[Path],
    service: str,
    version: str,
    asset: str | None,
    asset_kind: str,
    scan_format: str | None,
    commit: str,
    ref: str,
    baseline: str | None,
    record: bool,
    override: bool,
    reason: str,
    sarif: Path | None,
    junit: Path | None,
    markdown: Path | None,
    as_json: bool,
) -> int:
    """Run the gate on the server; returns the exit code (0 pass, 1 blocked)."""
    url = os.environ.get("DETENTE_URL", "").rstrip("/")
    token = os.environ.get("DETENTE_TOKEN", "")
    if not token:
        raise InputError("remote mode needs DETENTE_TOKEN as well as DETENTE_URL", field="token")
    files = scan_paths(paths)
    if not files:
        raise InputError("no scan report found in the given paths", field="FILE")
    wanted = [n for n, p in (("sarif", sarif), ("junit", junit), ("markdown", markdown)) if p]
    fields = {
        "service": service, "version": version, "asset_kind": asset_kind, "commit": commit,
        "ref": ref, "record": "true" if record else "false",
        "override": "true" if override else "false", "reason": reason,
        "outputs": ",".join(wanted),
    }  # fmt: skip
    if asset:
        fields["asset"] = asset
    if scan_format:
        fields["scan_format"] = scan_format
    if baseline:
        fields["baseline"] = baseline
    body, content_type = _multipart(fields, files)
    request = urllib.request.Request(  # noqa: S310 - the operator's configured server URL
        f"{url}/api/gate/runs",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    if not request.full_url.startswith(("http://", "https://")):
        raise InputError("DETENTE_URL must be an http(s) URL", field="DETENTE_URL")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            data: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read())["error"]["message"]
        except (ValueError, KeyError, TypeError):
            detail = exc.reason
        if exc.code in (401, 403):
            raise PermissionDenied(f"server refused ({exc.code}): {detail}") from None
        if exc.code in (400, 404, 422):
            raise InputError(f"server: {detail}") from None
        raise DetenteError(f"server error {exc.code}: {detail}") from None
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        reason_text = getattr(exc, "reason", exc)
        raise InputError(f"cannot reach {url} ({reason_text})", field="DETENTE_URL") from None
    outputs = data.get("outputs") or {}
    for key, target in (("sarif", sarif), ("junit", junit), ("markdown", markdown)):
        if target is not None:
            value = outputs.get(key)
            text = json.dumps(value) if key == "sarif" else str(value)
            try:
                target.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise InputError(f"cannot write ({exc.strerror})", file=str(target)) from None
    if as_json:
        data.pop("outputs", None)
        print(json.dumps(data, indent=2))
    else:
        print(outputs.get("summary", ""))
        if data.get("run"):
            print(f"  recorded as gate run #{data['run']} on {url}")
    return 1 if data.get("decision") == "blocked" and not data.get("override") else 0
