"""What one gate run writes: the one-screen summary, JSON, SARIF 2.1.0, JUnit XML and Markdown.

All are built from the same ``Result``; none reads the database.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from detente.gates.evaluate import ACCEPTED, BASELINE, BLOCK, NOT_AFFECTED, WARN, Item, Result

SUMMARY_ROWS = 15
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {BLOCK: "error", WARN: "warning", ACCEPTED: "error", NOT_AFFECTED: "note",
          BASELINE: "note"}  # fmt: skip


def _where(item: Item) -> str:
    place = item.component or item.file_path or item.asset
    if item.component and item.component_version:
        place = f"{item.component} {item.component_version}"
    return place


def summary(result: Result, *, override: dict[str, Any] | None = None) -> str:
    """One screen: the decision, the counts, and each blocking finding with what unblocks it."""
    c = result.counts
    head = "PASS" if result.decision == "pass" else "BLOCKED"
    if override is not None:
        head = f"PASS BY OVERRIDE (GO-{override['id']}, decision DR-{override['decision']})"
    lines = [
        f"gate: {head} — {result.service} {result.version} (policy v{result.policy_version}, "
        f"{len(result.files)} report(s), {result.duration_ms} ms)",
        f"  {c['findings']} findings: {c['blocking']} blocking, {c['warn']} warn, "
        f"{c['accepted']} accepted, {c['baseline']} baseline, {c['false_positive']} false "
        f"positive, {c['passed']} passing"
        + (f", {c['not_affected']} not affected (VEX)" if c.get("not_affected") else ""),
    ]
    if result.rules_hit:
        lines.append(
            "  rules hit: "
            + ", ".join(f"{k} ({v['level']}) ×{v['count']}" for k, v in result.rules_hit.items())
        )
    blocking = result.blocking
    for item in blocking[:SUMMARY_ROWS]:
        lapsed = ""
        if item.lapsed:
            lapsed = f" [RA-{item.lapsed['id']} lapsed {str(item.lapsed['expires_at'])[:10]}]"
        lines.append(
            f"  ✗ {item.severity:<8} {item.vuln_id} in {_where(item)} "
            f"[{', '.join(item.rules)}]{lapsed}"
        )
        lines.append(f"      → {item.unblock}")
    if len(blocking) > SUMMARY_ROWS:
        lines.append(f"  … and {len(blocking) - SUMMARY_ROWS} more blocking (see --format json)")
    accepted = [i for i in result.items if i.state == ACCEPTED]
    if accepted:
        by_ra: dict[int, int] = {}
        for item in accepted:
            assert item.acceptance is not None
            by_ra[item.acceptance["id"]] = by_ra.get(item.acceptance["id"], 0) + 1
        lines.append("  accepted: " + ", ".join(f"RA-{k} ×{v}" for k, v in sorted(by_ra.items())))
    if result.decision == "blocked" and override is None:
        lines.append(
            "  to ship anyway: detente gate … --override --as EMAIL --reason TEXT "
            "(a role the policy allows; a second signature follows)"
        )
    return "\n".join(lines)


def as_json(result: Result, *, run_id: int | None, override: dict[str, Any] | None) -> str:
    data = result.as_dict()
    data["run"] = run_id
    data["override"] = override
    return msgspec.json.format(msgspec.json.encode(data), indent=2).decode()


def sarif_text(result: Result) -> str:
    """Compact: code scanning reads it; 10,000 results indented cost a third more to write."""
    return msgspec.json.encode(sarif(result)).decode()


def _rule_id(item: Item) -> str:
    return item.vuln_id


def sarif(result: Result) -> dict[str, Any]:
    """SARIF 2.1.0: one result per finding the policy flagged; accepted risks carry an accepted
    external suppression naming the acceptance and its expiry; lapsed ones are not suppressed."""
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    for item in result.items:
        if item.state not in _LEVEL:
            continue
        rid = _rule_id(item)
        if rid not in rules:
            rules[rid] = {
                "id": rid,
                "shortDescription": {"text": item.title or rid},
                "properties": {"tags": [item.kind, item.severity]},
            }
        uri = item.file_path or item.file
        location: dict[str, Any] = {"artifactLocation": {"uri": uri.lstrip("/") or item.file}}
        if item.line and item.line > 0:
            location["region"] = {"startLine": item.line}
        text = f"{item.vuln_id} ({item.severity}) in {_where(item)}"
        if item.rules:
            text += f": blocked by {', '.join(item.rules)}"
        elif item.warns:
            text += f": warned by {', '.join(item.warns)}"
        if item.unblock:
            text += f". To unblock: {item.unblock}"
        entry: dict[str, Any] = {
            "ruleId": rid,
            "level": _LEVEL[item.state],
            "message": {"text": text},
            "locations": [{"physicalLocation": location}],
            "partialFingerprints": {"detente/v1": item.key},
            "properties": {
                "gate_state": item.state,
                "asset": item.asset,
                "kev": item.kev,
                "epss": item.epss,
                "fixed_in": item.fixed_in,
                "finding_id": item.finding_id,
                "rules": item.rules,
                "warns": item.warns,
            },
        }
        if item.state == ACCEPTED and item.acceptance:
            entry["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": f"risk acceptance RA-{item.acceptance['id']} "
                    f"({item.acceptance['title']}) until {item.acceptance['expires_at']}",
                    "properties": {
                        "acceptance_id": item.acceptance["id"],
                        "expires_at": item.acceptance["expires_at"],
                    },
                }
            ]
        elif item.state == NOT_AFFECTED and item.vex:
            entry["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": f"VEX-{item.vex['id']} not_affected "
                    f"({item.vex['justification'] or 'impact statement'}) by {item.vex['author']}",
                    "properties": {"vex_statement": item.vex["id"]},
                }
            ]
        elif item.lapsed:
            entry["properties"]["lapsed_acceptance"] = item.lapsed
        results.append(entry)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "detente-gate",
                        "informationUri": "https://example.org/detente/docs/gate",
                        "rules": list(rules.values()),
                    }
                },
                "automationDetails": {"id": f"detente-gate/{result.service}/"},
                "results": results,
                "properties": {
                    "decision": result.decision,
                    "version": result.version,
                    "policy_version": result.policy_version,
                },
            }
        ],
    }


# Characters XML 1.0 cannot carry (C0 controls but tab, newline and carriage return; lone
# surrogates; U+FFFE/U+FFFF): a scanner's title may hold an ANSI colour code.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _x(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


_ATTR = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;",
                       "\r": "&#13;", "\t": "&#09;"})  # fmt: skip
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def _a(text: str) -> str:
    """An attribute value: XML-safe characters, escaped for double quotes."""
    return _x(text).translate(_ATTR)


def _t(text: str) -> str:
    return _x(text).translate(_TEXT)


def junit(result: Result) -> str:
    """JUnit XML: blocking = failure, accepted = skipped with the reason, warn = passed with
    output; every flagged finding is one test case.

    Valid against the schema Jenkins' xUnit plugin accepts (``junit-10.xsd``; tests validate
    with xmlschema): ``<testsuites>`` carries no ``skipped`` count (the suite does). Written as
    text in one pass (an element tree of 15,000 cases costs several times as much)."""
    flagged = [
        i for i in result.items if i.state in (BLOCK, WARN, ACCEPTED, NOT_AFFECTED, BASELINE)
    ]
    failures = sum(i.state == BLOCK for i in flagged)
    skipped = sum(i.state in (ACCEPTED, NOT_AFFECTED, BASELINE) for i in flagged)
    seconds = f"{result.duration_ms / 1000:.3f}"
    stamp = result.started_at.strftime("%Y-%m-%dT%H:%M:%S")
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>\n",
        f'<testsuites name="detente gate" tests="{len(flagged)}" failures="{failures}" '
        f'errors="0" time="{seconds}">',
        f'<testsuite name="{_a(f"gate {result.service} {result.version}")}" '
        f'tests="{len(flagged)}" failures="{failures}" errors="0" skipped="{skipped}" '
        f'time="{seconds}" timestamp="{stamp}">',
    ]
    for item in flagged:
        out.append(
            f'<testcase classname="{_a(f"gate.{item.asset}")}" '
            f'name="{_a(f"{item.vuln_id} in {_where(item)}")}" time="0">'
        )
        if item.state == BLOCK:
            message = "blocked by " + ", ".join(item.rules)
            text = f"{item.title}\nTo unblock: {item.unblock}"
            out.append(f'<failure type="blocked" message="{_a(message)}">{_t(text)}</failure>')
        elif item.state == ACCEPTED and item.acceptance:
            reason = (
                f"accepted risk RA-{item.acceptance['id']} until {item.acceptance['expires_at']}"
            )
            out.append(f'<skipped message="{_a(reason)}" />')
        elif item.state == NOT_AFFECTED and item.vex:
            reason = f"not affected: VEX-{item.vex['id']} by {item.vex['author']}"
            out.append(f'<skipped message="{_a(reason)}" />')
        elif item.state == BASELINE:
            out.append('<skipped message="already present in the baseline" />')
        else:
            text = f"warning ({', '.join(item.warns)}): {item.title}"
            out.append(f"<system-out>{_t(text)}</system-out>")
        out.append("</testcase>")
    out.append("</testsuite></testsuites>")
    return "".join(out)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(result: Result, *, override: dict[str, Any] | None = None) -> str:
    c = result.counts
    icon = "✅ pass" if result.decision == "pass" else "⛔ blocked"
    if override is not None:
        icon = f"⚠️ passed by override GO-{override['id']} (DR-{override['decision']})"
    lines = [
        f"### Release gate: {icon}",
        "",
        f"**{result.service} {result.version}** · policy v{result.policy_version} · "
        f"{c['blocking']} blocking · {c['warn']} warn · {c['accepted']} accepted · "
        f"{c['baseline']} baseline",
        "",
    ]
    blocking = result.blocking
    if blocking:
        lines += ["| severity | finding | where | rules | to unblock |", "|---|---|---|---|---|"]
        for item in blocking[:50]:
            lines.append(
                f"| {item.severity} | {_md(item.vuln_id)} | {_md(_where(item))} | "
                f"{', '.join(item.rules)} | {_md(item.unblock)} |"
            )
        if len(blocking) > 50:
            lines.append(f"\n… and {len(blocking) - 50} more.")
    accepted = [i for i in result.items if i.state == ACCEPTED]
    if accepted:
        lines += ["", f"<details><summary>{len(accepted)} accepted risk(s)</summary>", ""]
        for item in accepted[:50]:
            assert item.acceptance is not None
            lines.append(
                f"- {_md(item.vuln_id)} in {_md(_where(item))}: RA-{item.acceptance['id']} "
                f"until {item.acceptance['expires_at'][:10]}"
            )
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
