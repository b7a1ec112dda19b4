"""A real Prometheus (Debian's ``prometheus`` package) on a loopback port, its history backfilled
with ``promtool tsdb create-blocks-from openmetrics``. Used by the tests and the bench."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

MISSING = (
    "Debian's prometheus package is not installed (no prometheus/promtool on PATH); "
    "apt-get install prometheus (.ci/run does)"
)


def available() -> bool:
    return shutil.which("prometheus") is not None and shutil.which("promtool") is not None


def openmetrics(
    series: Sequence[tuple[str, dict[str, str], Sequence[tuple[dt.datetime, float]]]],
) -> str:
    """OpenMetrics text of gauges: (name, labels, [(time, value)])."""
    lines: list[str] = []
    for name in dict.fromkeys(s[0] for s in series):
        lines.append(f"# TYPE {name} gauge")
        for metric, labels, points in series:
            if metric != name:
                continue
            label = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
            for at, value in points:
                lines.append(f"{name}{{{label}}} {value} {at.timestamp():.0f}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def running_prometheus(folder: Path, history: str) -> Iterator[str]:
    """Backfill ``history`` (OpenMetrics text) into a fresh TSDB under ``folder``, serve it on a
    loopback port, yield its base URL, stop it."""
    data = folder / "tsdb"
    data.mkdir(parents=True)
    source = folder / "history.om"
    source.write_text(history)
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    config = folder / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (folder / "prometheus.log").open("wb")
    process = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={data}",
         f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y",
         "--web.enable-lifecycle"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"prometheus did not start: {(folder / 'prometheus.log').read_text()[-2000:]}"
                )
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
