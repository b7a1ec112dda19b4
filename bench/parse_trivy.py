"""Micro-benchmark: parse a synthetic Trivy SchemaVersion 2 report of N findings (parsing only).

Each finding is ~2 KB like real Trivy output: CVE ids drawn from a pool of ~50k, packages, 3-8
Results targets, a ~1.2 KB Description, 10-20 References and a CVSS block from several sources.

    .venv/bin/python bench/parse_trivy.py --findings 200000

Prints the file size, findings/s and peak RSS (resource.getrusage: the whole process, so it
includes the generator's own memory, measured before parsing too).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import msgspec

from detente.findings.parsers.trivy import parse

_WORDS = [
    "buffer",
    "overflow",
    "heap",
    "use-after-free",
    "allows",
    "remote",
    "attackers",
    "to",
    "execute",
    "arbitrary",
    "code",
    "via",
    "a",
    "crafted",
    "request",
    "in",
    "the",
    "parser",
    "component",
    "when",
    "handling",
    "malformed",
    "input",
    "which",
    "leads",
    "to",
    "denial",
    "of",
    "service",
    "memory",
    "corruption",
    "information",
    "disclosure",
    "privilege",
    "escalation",
]
_SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")
_STATUSES = ("fixed", "affected", "will_not_fix", "fix_deferred", "not_affected")


def _text(rng: random.Random, size: int) -> str:
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(_WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def _vuln(rng: random.Random, cve_pool: int, packages: list[tuple[str, str]]) -> dict[str, object]:
    number = rng.randrange(cve_pool)
    cve = f"CVE-{2015 + number % 10}-{10000 + number}"
    name, version = rng.choice(packages)
    refs = [f"https://security.example.org/{cve}/{k}" for k in range(rng.randint(10, 20))]
    return {
        "VulnerabilityID": cve,
        "PkgID": f"{name}@{version}",
        "PkgName": name,
        "PkgIdentifier": {"PURL": f"pkg:deb/debian/{name}@{version}?arch=amd64", "UID": "4f1e2d"},
        "InstalledVersion": version,
        "FixedVersion": f"{version}+deb12u1, {version}+deb11u9",
        "Status": rng.choice(_STATUSES),
        "Layer": {"DiffID": "sha256:" + "ab" * 32},
        "SeveritySource": "debian",
        "PrimaryURL": f"https://avd.aquasec.com/nvd/{cve.lower()}",
        "DataSource": {"ID": "debian", "Name": "Debian Security Tracker", "URL": "https://x"},
        "Title": f"{name}: {_text(rng, 60)}",
        "Description": _text(rng, 1200),
        "Severity": rng.choice(_SEVERITIES),
        "CweIDs": [f"CWE-{rng.randint(20, 900)}"],
        "VendorSeverity": {"debian": 1, "nvd": 3, "redhat": 2},
        "CVSS": {
            "nvd": {
                "V2Vector": "AV:N/AC:L/Au:N/C:P/I:P/A:P",
                "V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "V2Score": 7.5,
                "V3Score": 9.8,
            },
            "redhat": {"V3Vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", "V3Score": 8.1},
        },
        "References": refs,
        "PublishedDate": "2021-06-29T11:15:00Z",
        "LastModifiedDate": "2023-12-08T20:34:00Z",
    }


def synthesise(path: Path, findings: int, seed: int = 7) -> None:
    """Write the report in chunks so the generator does not hold it all."""
    rng = random.Random(seed)
    cve_pool = 50_000
    packages = [
        (f"lib{_text(rng, 6).split()[0]}{i}", f"{i % 9}.{i % 13}.{i % 7}-{i % 5}")
        for i in range(3000)
    ]
    targets = rng.randint(3, 8)
    per_target = [findings // targets] * targets
    per_target[-1] += findings - sum(per_target)
    encoder = msgspec.json.Encoder()
    with path.open("wb") as out:
        out.write(
            b'{"SchemaVersion":2,"CreatedAt":"2026-01-01T00:00:00Z","ArtifactName":"bench/app:1.0",'
            b'"ArtifactType":"container_image","Metadata":{"OS":{"Family":"debian","Name":"12"}},'
            b'"Results":['
        )
        for t, count in enumerate(per_target):
            if t:
                out.write(b",")
            head = {
                "Target": f"bench/app:1.0 (debian 12.{t})",
                "Class": "os-pkgs",
                "Type": "debian",
            }
            out.write(encoder.encode(head)[:-1] + b',"Vulnerabilities":[')
            for i in range(count):
                if i:
                    out.write(b",")
                out.write(encoder.encode(_vuln(rng, cve_pool, packages)))
            out.write(b"]}")
        out.write(b"]}")


def _peak_rss_mb() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / (1024 * 1024) if sys.platform == "darwin" else usage / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", "-n", type=int, default=200_000)
    parser.add_argument("--keep", help="write the report here and keep it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep) if args.keep else Path(tmp) / "trivy-bench.json"
        started = time.perf_counter()
        synthesise(path, args.findings)
        size = path.stat().st_size
        print(
            f"synthesised {args.findings:,} findings, {size / 1e6:,.0f} MB "
            f"({size / args.findings:,.0f} B/finding) in {time.perf_counter() - started:.1f} s"
        )
        rss_before = _peak_rss_mb()

        started = time.perf_counter()
        count = 0
        with path.open("rb") as stream:
            for _finding in parse(stream, path.name):
                count += 1
        elapsed = time.perf_counter() - started
        assert count == args.findings, (count, args.findings)
        print(f"parsed {count:,} findings in {elapsed:.2f} s = {count / elapsed:,.0f} findings/s")
        print(
            f"peak RSS {_peak_rss_mb():,.0f} MB (before parsing {rss_before:,.0f} MB; "
            f"file {size / 2**20:,.0f} MiB)"
        )
        if not args.keep:
            os.unlink(path)


if __name__ == "__main__":
    main()
