"""Parse a large scanner file in a forked child process while the caller enriches and writes.

An import of a million findings spends about as long parsing as it does writing; on two cores the
two halves can overlap. The child runs the ordinary parser (``parse_stream``) and sends the
``ParsedFinding`` batches over a pipe as MessagePack (``ParsedFinding`` is a msgspec Struct, so
both ends are C code). Nothing else crosses: the child never touches the database, and the caller
keeps its one transaction. A failure in the child arrives as the same ``ParseError`` (file, record,
field) the serial path raises, at the point in the stream where it happened, so the caller's
transaction rolls back exactly as it would have.

Forking costs a few milliseconds, so small files are parsed in-process (see ``PARALLEL_MIN_BYTES``).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import IO

import msgspec

from detente.core.errors import InputError
from detente.findings.parsers import ParsedFinding, parse_stream
from detente.findings.parsers.base import ParseError

# Files at least this big are parsed in a child process (if the platform can fork).
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
# Findings per message: big enough that framing is free, small enough to start writing at once.
BATCH = 5_000

_FINDINGS, _ERROR, _FAILED, _DONE = b"F", b"E", b"X", b"D"


def stream_sha256(stream: IO[bytes]) -> str:
    """SHA-256 of the rest of ``stream``."""
    digest = hashlib.sha256()
    while chunk := stream.read(8 * 1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class Digest:
    """The SHA-256 of the stream, filled in by ``parse_batches`` when the child has read it all."""

    hexdigest: str | None = None


def parse_batches(
    stream: IO[bytes],
    name: str,
    *,
    fmt: str | None,
    digest: Digest | None = None,
    batch: int = BATCH,
) -> Iterator[list[ParsedFinding]]:
    """Batches of what ``parse_stream(stream, name, fmt=fmt)`` yields, parsed in a child process;
    a finding whose vulnerability id came earlier with a description arrives without its texts
    (description, references), which the importer keeps once per id.

    With ``digest``, the child also hashes the stream after parsing it (hashing 2 GB takes
    seconds; the child has them to spare while the caller writes the last batches). The stream is
    inherited by the child; the caller must not read it while this runs. Closing the iterator
    early (an error in the caller) kills the child.
    """
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=_child,
        args=(sender, stream, name, fmt, batch, digest is not None),
        name="detente-parse",
        daemon=True,
    )
    child.start()
    sender.close()
    decode = msgspec.msgpack.Decoder(list[ParsedFinding]).decode
    try:
        while True:
            try:
                message = receiver.recv_bytes()
            except EOFError:
                raise ParseError(
                    "the parser process ended unexpectedly", file=name, record="document"
                ) from None
            tag, body = message[:1], memoryview(message)[1:]
            if tag == _FINDINGS:
                yield decode(body)
            elif tag == _ERROR:
                cls, text, file, record, field = pickle.loads(body)  # noqa: S301 - our own child
                raise cls(text, file=file, record=record, field=field)
            elif tag == _FAILED:
                raise RuntimeError(f"the parser process failed: {bytes(body).decode()}")
            else:
                if digest is not None:
                    digest.hexdigest = bytes(body).decode()
                return
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()


def _child(
    sender: Connection, stream: IO[bytes], name: str, fmt: str | None, batch: int, digest: bool
) -> None:
    """Runs in the forked process: parse, send, and leave without running the parent's cleanup."""
    encoder = msgspec.msgpack.Encoder()
    replace = msgspec.structs.replace
    described: set[str] = set()
    try:
        pending: list[ParsedFinding] = []
        for finding in parse_stream(stream, name, fmt=fmt):
            # A vulnerability's texts go with its first described finding only: the importer
            # stores them once per id (the first it meets), and the rest of a 2 GB report is
            # mostly repeated descriptions that would cross the pipe and be decoded for nothing.
            if finding.description:
                if finding.vuln_id in described:
                    finding = replace(finding, description=None, references=())  # noqa: PLW2901
                else:
                    described.add(finding.vuln_id)
            pending.append(finding)
            if len(pending) >= batch:
                _send(sender, encoder, pending)
                pending = []
        if pending:
            _send(sender, encoder, pending)
        if digest:
            stream.seek(0)
            sender.send_bytes(_DONE + stream_sha256(stream).encode())
        else:
            sender.send_bytes(_DONE)
    except InputError as exc:
        details = (type(exc), exc.message, exc.file, exc.record, exc.field)
        sender.send_bytes(_ERROR + pickle.dumps(details))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        sender.send_bytes(_FAILED + f"{type(exc).__name__}: {exc}".encode())
    finally:
        sender.close()
        # Never return into multiprocessing's exit path with the parent's database connection
        # and open files: os._exit skips every finaliser, so nothing the parent owns is closed.
        os._exit(0)


def _send(sender: Connection, encoder: msgspec.msgpack.Encoder, batch: list[ParsedFinding]) -> None:
    buffer = bytearray(_FINDINGS)
    encoder.encode_into(batch, buffer, 1)
    sender.send_bytes(buffer)
