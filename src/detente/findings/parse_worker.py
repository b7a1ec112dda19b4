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
import queue
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO

import msgspec

from detente.core.errors import InputError
from detente.findings.parsers import ParsedFinding, detect_format, parse_stream
from detente.findings.parsers.base import ParseError

# Files at least this big are parsed in a child process (if the platform can fork).
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
# Findings per message: big enough that framing is free, small enough to start writing at once.
BATCH = 5_000

_FINDINGS, _ERROR, _FAILED, _DONE, _START = b"F", b"E", b"X", b"D", b"S"
# How much of a file format detection looks at.
HEAD_BYTES = 64 * 1024
# Messages (batches) received ahead of the caller: the child keeps parsing while the caller is
# busy elsewhere (reading a million existing findings, committing a file) instead of blocking on
# a full 64 KB pipe. About 1.5 MB each.
READ_AHEAD = 64

# What the caller may have the child compute for each batch, from the findings and the file's
# name: the findings' fingerprints (the importer's ``Identifier``), so that a million hashes are
# taken on the child's core instead of the writer's.
Identify = Callable[[Sequence[ParsedFinding], str], list[str]]
# A batch as it arrives: the findings, and their fingerprints when the child computed them.
Batch = tuple[list[ParsedFinding], list[str] | None]


class _Reader:
    """Receives a child's messages on a thread, up to ``READ_AHEAD`` ahead of the caller."""

    def __init__(self, receiver: Connection, depth: int = READ_AHEAD) -> None:
        self.receiver = receiver
        self.queue: queue.Queue[bytes | None] = queue.Queue(depth)
        self.closed = False
        self.thread = threading.Thread(target=self._run, name="detente-parse-reader", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.closed:
            try:
                message: bytes | None = self.receiver.recv_bytes()
            except (EOFError, OSError):
                message = None  # the child is gone (done, failed or killed)
            while not self.closed:
                try:
                    self.queue.put(message, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if message is None:
                return

    def recv_bytes(self) -> bytes:
        message = self.queue.get()
        if message is None:
            self.queue.put(None)  # every later call sees the end too
            raise EOFError
        return message

    def close(self, child: multiprocessing.process.BaseProcess) -> None:
        """Stop the child (if it still runs), then the thread, then the pipe."""
        self.closed = True
        if child.is_alive():
            child.kill()
        child.join()
        self.thread.join()
        self.receiver.close()


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
    identify: Identify | None = None,
) -> Iterator[Batch]:
    """Batches of what ``parse_stream(stream, name, fmt=fmt)`` yields, parsed in a child process;
    a finding whose vulnerability id came earlier with a description arrives without its texts
    (description, references), which the importer keeps once per id.

    With ``digest``, the child also hashes the stream after parsing it (hashing 2 GB takes
    seconds; the child has them to spare while the caller writes the last batches). The stream is
    inherited by the child; the caller must not read it while this runs. Closing the iterator
    early (an error in the caller) kills the child. With ``identify``, each batch comes with what
    it returns for the batch (the findings' fingerprints), computed in the child.
    """
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=_child,
        args=(sender, stream, name, fmt, batch, digest is not None, identify),
        name="detente-parse",
        daemon=True,
    )
    child.start()
    sender.close()
    reader = _Reader(receiver)
    try:
        yield from _receive(reader, name, digest)
    finally:
        reader.close(child)


_DECODE = msgspec.msgpack.Decoder(tuple[list[ParsedFinding], list[str] | None]).decode


def _message(receiver: _Reader, name: str) -> tuple[bytes, memoryview]:
    """The next message from a child: its tag and body. A child's refusal is raised here."""
    try:
        message = receiver.recv_bytes()
    except EOFError:
        raise ParseError(
            "the parser process ended unexpectedly", file=name, record="document"
        ) from None
    tag, body = message[:1], memoryview(message)[1:]
    if tag == _ERROR:
        cls, text, file, record, field = pickle.loads(body)  # noqa: S301 - our own child
        raise cls(text, file=file, record=record, field=field)
    if tag == _FAILED:
        raise RuntimeError(f"the parser process failed: {bytes(body).decode()}")
    return tag, body


def _receive(receiver: _Reader, name: str, digest: Digest | None) -> Generator[Batch, None, None]:
    """One file's batches, up to its end-of-file message (which carries the digest)."""
    while True:
        tag, body = _message(receiver, name)
        if tag == _FINDINGS:
            yield _DECODE(body)
        elif tag == _DONE:
            if digest is not None:
                digest.hexdigest = bytes(body).decode()
            return
        else:
            raise RuntimeError(f"the parser process sent {bytes(tag)!r} inside {name}")


def _child(
    sender: Connection,
    stream: IO[bytes],
    name: str,
    fmt: str | None,
    batch: int,
    digest: bool,
    identify: Identify | None,
) -> None:
    """Runs in the forked process: parse one stream and send it."""
    _run_child(
        sender,
        lambda encoder: _send_file(sender, encoder, stream, name, fmt, batch, digest, identify),
    )


def _run_child(sender: Connection, work: Callable[[msgspec.msgpack.Encoder], None]) -> None:
    """The body of a parse child: do ``work``, report a refusal or a failure to the parent, and
    leave without running the parent's cleanup."""
    encoder = msgspec.msgpack.Encoder()
    try:
        work(encoder)
    except InputError as exc:
        _send_error(sender, exc)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        sender.send_bytes(_FAILED + f"{type(exc).__name__}: {exc}".encode())
    finally:
        sender.close()
        # Never return into multiprocessing's exit path with the parent's database connection
        # and open files: os._exit skips every finaliser, so nothing the parent owns is closed.
        os._exit(0)


def _send_error(sender: Connection, exc: InputError) -> None:
    details = (type(exc), exc.message, exc.file, exc.record, exc.field)
    sender.send_bytes(_ERROR + pickle.dumps(details))


def _send_file(
    sender: Connection,
    encoder: msgspec.msgpack.Encoder,
    stream: IO[bytes],
    name: str,
    fmt: str | None,
    batch: int,
    digest: bool,
    identify: Identify | None = None,
    described: set[str] | None = None,
) -> None:
    """Parse one stream and send its batches, then the end-of-file message (with the digest).

    ``described``: the vulnerability ids whose texts were sent already (by earlier files of a
    feed: the importer stores texts once per run, and a run stops at its first failed file)."""
    replace = msgspec.structs.replace
    described = set() if described is None else described
    pending: list[ParsedFinding] = []
    hasher = _FileDigest(stream) if digest else None
    for finding in parse_stream(stream, name, fmt=fmt, trailer=True):
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
            _send(sender, encoder, pending, identify and identify(pending, name))
            pending = []
    if pending:
        _send(sender, encoder, pending, identify and identify(pending, name))
    if hasher is not None:
        sender.send_bytes(_DONE + hasher.hexdigest(stream).encode())
    else:
        sender.send_bytes(_DONE)


class _FileDigest:
    """The SHA-256 of the whole stream, taken on a thread of the child while it parses.

    Hashing 2 GB takes ~1.5 s; after parsing, the importer would wait for it. On a thread it runs
    meanwhile (``hashlib`` releases the GIL on large blocks; early on the importer's core is idle,
    waiting for the first batch). It reads through its own file descriptor with ``pread``, so the
    parser's position is untouched. A stream that is not a file is hashed after parsing."""

    CHUNK = 8 * 1024 * 1024

    def __init__(self, stream: IO[bytes]) -> None:
        self.result: str | None = None
        self.thread: threading.Thread | None = None
        try:
            fd = os.dup(stream.fileno())
        except (AttributeError, OSError, ValueError):  # BytesIO, an upload, a pipe
            return
        self.thread = threading.Thread(target=self._run, args=(fd,), name="detente-digest")
        self.thread.start()

    def _run(self, fd: int) -> None:
        digest = hashlib.sha256()
        buffer = bytearray(self.CHUNK)
        view = memoryview(buffer)
        offset = 0
        try:
            while read := os.preadv(fd, [buffer], offset):
                digest.update(view[:read])
                offset += read
            self.result = digest.hexdigest()
        except OSError:
            self.result = None  # hashed again after parsing, where an error is reported
        finally:
            os.close(fd)

    def hexdigest(self, stream: IO[bytes]) -> str:
        if self.thread is not None:
            self.thread.join()
        if self.result is None:
            stream.seek(0)
            self.result = stream_sha256(stream)
        return self.result


class ParsedFile:
    """One file of a ``FileFeed``: its format and its batches, as the child parsed them."""

    def __init__(self, fmt: str, batches: Generator[Batch, None, None], digest: Digest) -> None:
        self.fmt = fmt
        self.batches = batches
        self.digest = digest


class FileFeed:
    """Parse a run of files, in order, in one forked child while the caller writes the one before.

    A folder of 2,000 small reports spends a third of its time parsing; with this the parsing of
    file k+1 overlaps the writing of file k on the other core. The child detects each file's
    format (unless ``fmt`` forces one), parses it, sends its batches, then its SHA-256. The pipe
    is the only buffer: the child runs at most about one file ahead. A refusal (a bad file, a file
    over ``max_bytes``) arrives when the caller takes that file, as the same error the in-process
    path raises; the child stops there. ``close()`` (or leaving the ``with`` block) ends the child.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        fmt: str | None,
        max_bytes: int,
        batch: int = BATCH,
        identify: Identify | None = None,
    ) -> None:
        self.paths = list(paths)
        self.taken = 0
        ctx = multiprocessing.get_context("fork")
        self.receiver, sender = ctx.Pipe(duplex=False)
        self.child = ctx.Process(
            target=_feed_child,
            args=(sender, self.paths, fmt, max_bytes, batch, identify),
            name="detente-parse-feed",
            daemon=True,
        )
        self.child.start()
        sender.close()
        self.reader = _Reader(self.receiver)

    def take(self, path: Path) -> ParsedFile:
        """The next file, which must be ``path``: files are taken in the order given."""
        if self.taken >= len(self.paths) or self.paths[self.taken] != path:
            raise RuntimeError(f"{path} is not the next file of the feed")
        self.taken += 1
        name = str(path)
        tag, body = _message(self.reader, name)
        if tag != _START:
            raise RuntimeError(f"the parser process sent {bytes(tag)!r} before {name}")
        digest = Digest()
        return ParsedFile(bytes(body).decode(), _receive(self.reader, name, digest), digest)

    def close(self) -> None:
        self.reader.close(self.child)

    def __enter__(self) -> FileFeed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _feed_child(
    sender: Connection,
    paths: list[Path],
    fmt: str | None,
    max_bytes: int,
    batch: int,
    identify: Identify | None,
) -> None:
    """Runs in the forked process: each file in turn, its format first, then its batches."""

    def work(encoder: msgspec.msgpack.Encoder) -> None:
        described: set[str] = set()  # across the files: 2,000 reports repeat the same CVEs
        for path in paths:
            name = str(path)
            try:
                size = path.stat().st_size
                if size > max_bytes:
                    raise InputError(
                        f"file is {size} bytes, over the {max_bytes} byte import limit", file=name
                    )
                with path.open("rb") as stream:
                    found = fmt or detect_format(stream.read(HEAD_BYTES), name)
                    stream.seek(0)
                    sender.send_bytes(_START + found.encode())
                    _send_file(
                        sender, encoder, stream, name, found, batch, True, identify, described
                    )
            except OSError as exc:
                raise InputError(f"cannot read file ({exc.strerror})", file=name) from None

    _run_child(sender, work)


def _send(
    sender: Connection,
    encoder: msgspec.msgpack.Encoder,
    batch: list[ParsedFinding],
    fingerprints: list[str] | None,
) -> None:
    buffer = bytearray(_FINDINGS)
    encoder.encode_into((batch, fingerprints), buffer, 1)
    sender.send_bytes(buffer)
