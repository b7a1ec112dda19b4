"""Collect the commands the docs show, and decide how each is checked.

The convention (also in docs/reference/executable-docs.md):

- Commands are the lines of fenced code blocks (no language, ``bash``, ``sh``, ``shell`` or
  ``console``) in README.md and docs/**/*.md (generated pages under docs/reference/ excepted) that
  start with ``./dev`` or ``detente``, optionally after ``VAR=value`` assignments. A trailing
  ``\\`` continues a line. ``export VAR=value`` lines set the variable for the rest of the file.
- A line with synopsis grammar (``[optional]``, ``a|b``, ``…``) is *checked*, not run: its
  command and each ``--option`` it names must exist.
- Any other line is *run*, in document order, one fresh copy of the demo database per file. It
  must exit 0, or the code its comment promises: ``# exit 1``.
- Placeholders (``42``, ``EMAIL``, file names such as ``decision.yaml``) map to demo values and
  real files in ``PLACEHOLDERS`` and ``FILES`` in test_docs_commands.py; commands that cannot run
  offline or would not end are listed with the reason in ``SKIP`` there.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

SHELL_LANGUAGES = {"", "bash", "sh", "shell", "console"}
_EXIT = re.compile(r"#.*\bexit\s+(\d+)\b")
_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")
_SYNOPSIS_MARKS = ("[", "]", "|", "…", "...")


@dataclass(frozen=True)
class DocCommand:
    file: str  # relative to the repository root
    line: int  # 1-based line of the command's first line
    text: str  # the command as written (continuations joined), comment included
    argv: tuple[str, ...]  # starts with "./dev" or "detente"
    env: tuple[tuple[str, str], ...] = ()  # exports in force and VAR=value prefixes
    expect: int = 0
    synopsis: bool = False

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}: {self.text}"

    @property
    def words(self) -> tuple[str, ...]:
        """The detente arguments (``./dev`` and ``detente`` alike)."""
        return self.argv[1:]


def doc_files(root: Path) -> list[Path]:
    files = [root / "README.md"]
    files += sorted(
        p for p in (root / "docs").rglob("*.md") if "reference" not in p.relative_to(root).parts
    )
    return [f for f in files if f.exists()]


def _split_comment(line: str) -> tuple[str, str]:
    """The command and its trailing comment (an unquoted ``#`` after whitespace)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip(), line[index:]
    return line.rstrip(), ""


def _logical_lines(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in lines:
        if pending is not None:
            text = pending[1] + " " + raw.strip()
            start = pending[0]
        else:
            text, start = raw.strip(), number
        if text.endswith("\\"):
            pending = (start, text[:-1].rstrip())
            continue
        pending = None
        out.append((start, text))
    if pending is not None:
        out.append(pending)
    return out


def _blocks(text: str) -> list[list[tuple[int, str]]]:
    """Shell code blocks as (line number, line) lists."""
    blocks: list[list[tuple[int, str]]] = []
    inside = False
    current: list[tuple[int, str]] | None = None  # None inside a block of another language
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not inside:
            if stripped.startswith("```"):
                inside = True
                current = [] if stripped[3:].strip().lower() in SHELL_LANGUAGES else None
            continue
        if stripped.startswith("```"):
            if current is not None:
                blocks.append(current)
            inside, current = False, None
            continue
        if current is not None:
            current.append((number, line))
    return blocks


def collect(root: Path) -> list[DocCommand]:
    """Every command of every doc file, in order."""
    commands: list[DocCommand] = []
    for path in doc_files(root):
        commands += collect_file(root, path)
    return commands


def collect_file(root: Path, path: Path) -> list[DocCommand]:
    relative = str(path.relative_to(root))
    exported: dict[str, str] = {}
    commands: list[DocCommand] = []
    for block in _blocks(path.read_text(encoding="utf-8")):
        for number, logical in _logical_lines(block):
            command, comment = _split_comment(logical)
            if not command:
                continue
            if command.startswith("export "):
                for token in shlex.split(command)[1:]:
                    name, _, value = token.partition("=")
                    exported[name] = value
                continue
            try:
                tokens = shlex.split(command)
            except ValueError:
                tokens = command.split()
            prefix: dict[str, str] = {}
            while tokens and _ASSIGNMENT.match(tokens[0]):
                name, _, value = tokens.pop(0).partition("=")
                prefix[name] = value
            if not tokens or tokens[0] not in ("./dev", "detente"):
                continue
            expect = _EXIT.search(comment)
            synopsis = any(mark in token for token in tokens for mark in _SYNOPSIS_MARKS)
            commands.append(
                DocCommand(
                    file=relative,
                    line=number,
                    text=logical,
                    argv=tuple(tokens),
                    env=tuple({**exported, **prefix}.items()),
                    expect=int(expect.group(1)) if expect else 0,
                    synopsis=synopsis,
                )
            )
    return commands
