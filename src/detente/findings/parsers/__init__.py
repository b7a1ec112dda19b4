"""Pure scanner parsers: a byte stream in, frozen ``ParsedFinding`` records out; no ORM."""

from detente.findings.parsers.base import ParsedFinding, ParseError, Severity
from detente.findings.parsers.registry import FORMATS, detect_format, parse_stream

__all__ = ["FORMATS", "ParseError", "ParsedFinding", "Severity", "detect_format", "parse_stream"]
