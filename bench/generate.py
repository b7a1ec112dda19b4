"""Synthetic but realistic Trivy reports, KEV and EPSS files for the import benchmarks.

Each vulnerability is about 2 KB, as in real Trivy output (long descriptions, many references,
CVSS from two sources). CVE ids come from a pool that includes every CVE of the real KEV
snapshot, so enrichment finds matches; the EPSS file has ~300,000 rows like the real daily file.

    python bench/generate.py large N OUT.json [--variant]   one report of N findings
    python bench/generate.py distinct N OUT.json            N findings, 90% with their own texts
    python bench/generate.py many COUNT N OUTDIR             COUNT reports of N findings
    python bench/generate.py intel OUTDIR                    KEV (copied from samples) + EPSS
"""

from __future__ import annotations

import functools
import json
import random
import sys
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
POOL = 50_000
TARGETS = 4
SEVERITIES = ("CRITICAL", "HIGH", "HIGH", "MEDIUM", "MEDIUM", "MEDIUM", "LOW", "LOW", "UNKNOWN")
WORDS = [
    "buffer",
    "overflow",
    "in",
    "the",
    "parser",
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
    "when",
    "the",
    "server",
    "processes",
    "untrusted",
    "input",
    "from",
    "the",
    "network",
    "and",
    "memory",
    "corruption",
    "may",
    "lead",
    "to",
    "denial",
    "of",
    "service",
    "or",
    "information",
    "disclosure",
    "in",
    "affected",
    "versions",
]
VECTORS = [
    f"CVSS:3.1/AV:{av}/AC:{ac}/PR:{pr}/UI:{ui}/S:{s}/C:{c}/I:{i}/A:{a}"
    for av in "NL"
    for ac in "LH"
    for pr in "NL"
    for ui in "NR"
    for s in "UC"
    for c in "HL"
    for i in "HN"
    for a in "H"
]


def kev_cves() -> list[str]:
    data = json.loads(
        (SAMPLES / "intel/known_exploited_vulnerabilities_2026-08-07.json").read_text()
    )
    return [v["cveID"] for v in data["vulnerabilities"]]


@functools.cache
def cve_pool() -> list[str]:
    kev = kev_cves()
    synthetic = [f"CVE-{2015 + n % 11}-{100000 + n}" for n in range(POOL - len(kev))]
    pool = kev + synthetic
    random.Random(7).shuffle(pool)
    return pool


def _fragment(rng: random.Random, cve: str) -> str:
    """The per-CVE part of a Trivy vulnerability (~1.8 KB), the same wherever the CVE appears."""
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(95, 120)))
    refs = [
        f"https://security.example.org/advisories/{cve.lower()}/{k}-{rng.randint(1000, 99999)}"
        for k in range(rng.randint(8, 12))
    ]
    nvd, vendor = rng.choice(VECTORS), rng.choice(VECTORS)
    body = {
        "SeveritySource": "nvd",
        "PrimaryURL": f"https://avd.aquasec.com/nvd/{cve.lower()}",
        "Title": f"library: {words[:80]}",
        "Description": words.capitalize() + ".",
        "CweIDs": [f"CWE-{rng.randint(20, 900)}"],
        "CVSS": {
            "nvd": {"V3Vector": nvd, "V3Score": 7.5},
            "redhat": {"V3Vector": vendor, "V3Score": 6.1},
        },
        "References": refs,
        "PublishedDate": "2023-05-04T12:15:00Z",
        "LastModifiedDate": "2024-01-10T08:00:00Z",
    }
    return json.dumps(body)[1:-1]


def write_report(
    path: Path, n: int, *, seed: int = 1, variant: bool = False, name: str = ""
) -> None:
    """N findings over TARGETS targets. ``variant``: 5% gone, 5% changed, 5% new."""
    rng = random.Random(seed)
    pool = cve_pool()
    fragments: dict[int, str] = {}
    per_target: list[list[str]] = [[] for _ in range(TARGETS)]
    total = n + (n // 20 if variant else 0)
    for i in range(total):
        if variant and i < n and i % 20 == 0:
            continue  # gone
        cve_index = i % POOL
        cve = pool[cve_index]
        pkg = f"pkg-{i // POOL:04d}-{cve_index % 997}"
        fragment = fragments.get(cve_index)
        if fragment is None:
            # seeded by the CVE, not drawn in order: the variant (which skips 5% of the entries)
            # must give every CVE the same texts and vectors, or it changes far more than 5%
            fragment = fragments[cve_index] = _fragment(random.Random(cve_index * 7919 + 11), cve)
        fixed = f"{i % 7}.{i % 13}.{(i % 5) + 1}"
        if variant and i % 20 == 1:
            fixed = fixed + "-r1"  # changed: a new fixed-in version
        severity = SEVERITIES[(cve_index * 7) % len(SEVERITIES)]
        per_target[i % TARGETS].append(
            f'{{"VulnerabilityID":"{cve}","PkgID":"{pkg}@1.{i % 9}.0","PkgName":"{pkg}",'
            f'"InstalledVersion":"1.{i % 9}.0","FixedVersion":"{fixed}","Status":"fixed",'
            f'"Layer":{{"DiffID":"sha256:{rng.getrandbits(128):032x}"}},'
            f'"Severity":"{severity}",{fragment}}}'
        )
    artifact = name or f"registry.example.com/bench/app-{seed}:1.0"
    with path.open("w") as out:
        out.write(
            f'{{"SchemaVersion":2,"ArtifactName":"{artifact}","ArtifactType":"container_image",'
            '"Metadata":{"OS":{"Family":"debian","Name":"12.5"}},"Results":['
        )
        for t, vulns in enumerate(per_target):
            if t:
                out.write(",")
            out.write(
                f'{{"Target":"{artifact} (layer {t})","Class":"lang-pkgs","Type":"jar",'
                '"Vulnerabilities":['
            )
            for start in range(0, len(vulns), 10_000):
                if start:
                    out.write(",")
                out.write(",".join(vulns[start : start + 10_000]))
            out.write("]}")
        out.write("]}")


def _distinct_fragment(text: str, rng: random.Random, n: int) -> str:
    """A finding's own title and ~2 KB description, as a SAST tool's message: a slice of a long
    text at a random place, numbered, so no two are alike."""
    start = rng.randrange(len(text) - 2100)
    words = text[start : start + rng.randint(1900, 2100)]
    body = {
        "Title": f"rule {n % 400}: {words[:60]} (line {n})",
        "Description": f"Finding {n}: {words}",
        "References": [f"https://rules.example.org/sast/{n % 400}"],
        "CweIDs": [f"CWE-{(n % 400) + 20}"],
        "CVSS": {"nvd": {"V3Vector": VECTORS[n % len(VECTORS)], "V3Score": 6.5}},
    }
    return json.dumps(body)[1:-1]


def write_distinct(path: Path, n: int, *, seed: int = 5) -> None:
    """N findings over TARGETS targets, as large as the standard report, where 90% carry their
    own vulnerability id, title and ~2 KB description (the shape of a SAST report: hundreds of
    thousands of distinct texts) and the rest repeat pool CVEs as the standard report does."""
    rng = random.Random(seed)
    pool = cve_pool()
    text = " ".join(rng.choice(WORDS) for _ in range(200_000))
    fragments: dict[int, str] = {}
    artifact = "bench/distinct:1.0"
    per_target: list[list[str]] = [[] for _ in range(TARGETS)]
    for i in range(n):
        pkg = f"src/module_{i % 5000:04d}/file_{i % 97}.py"
        if i % 10 == 0:
            cve_index = i % POOL
            vuln_id = pool[cve_index]
            fragment = fragments.get(cve_index)
            if fragment is None:
                seeded = random.Random(cve_index * 7919 + 11)
                fragment = fragments[cve_index] = _fragment(seeded, vuln_id)
        else:
            vuln_id = f"SAST-{i:08d}"
            fragment = _distinct_fragment(text, rng, i)
        severity = SEVERITIES[(i * 7) % len(SEVERITIES)]
        per_target[i % TARGETS].append(
            f'{{"VulnerabilityID":"{vuln_id}","PkgID":"{pkg}@1.0","PkgName":"{pkg}",'
            f'"InstalledVersion":"1.{i % 9}.0","Status":"affected",'
            f'"Severity":"{severity}",{fragment}}}'
        )
    _write_trivy(path, artifact, per_target)


def _write_trivy(path: Path, artifact: str, per_target: list[list[str]]) -> None:
    with path.open("w") as out:
        out.write(
            f'{{"SchemaVersion":2,"ArtifactName":"{artifact}","ArtifactType":"container_image",'
            '"Metadata":{"OS":{"Family":"debian","Name":"12.5"}},"Results":['
        )
        for t, vulns in enumerate(per_target):
            if t:
                out.write(",")
            out.write(
                f'{{"Target":"{artifact} (layer {t})","Class":"lang-pkgs","Type":"jar",'
                '"Vulnerabilities":['
            )
            for start in range(0, len(vulns), 10_000):
                if start:
                    out.write(",")
                out.write(",".join(vulns[start : start + 10_000]))
            out.write("]}")
        out.write("]}")


def write_intel(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    kev = SAMPLES / "intel/known_exploited_vulnerabilities_2026-08-07.json"
    (folder / "kev.json").write_bytes(kev.read_bytes())
    rng = random.Random(3)
    pool = cve_pool()
    extra = [f"CVE-{2000 + n % 26}-{500000 + n}" for n in range(300_000 - len(pool))]
    rows = sorted(pool + extra)
    with (folder / "epss.csv").open("w") as out:
        out.write("#model_version:v2026.06.15,score_date:2026-11-26T12:00:00Z\n")
        out.write("cve,epss,percentile\n")
        for cve in rows:
            out.write(f"{cve},{rng.random() ** 6:.5f},{rng.random():.5f}\n")


def main(argv: list[str]) -> None:
    kind = argv[0]
    if kind == "large":
        write_report(
            Path(argv[2]), int(argv[1]), variant="--variant" in argv, name="bench/large:1.0"
        )
    elif kind == "distinct":
        write_distinct(Path(argv[2]), int(argv[1]))
    elif kind == "many":
        folder = Path(argv[3])
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(int(argv[1])):
            write_report(folder / f"report-{k:05d}.json", int(argv[2]), seed=1000 + k)
    elif kind == "intel":
        write_intel(Path(argv[1]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
