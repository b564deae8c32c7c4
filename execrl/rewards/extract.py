"""Code extraction from chat-style responses, keeping every code character's place in the response.

Judges see the extracted code and report positions in it (line/column); ``ExtractedCode`` maps those
back to character spans of the response, which is what the credit mapping needs. Extraction never
raises: odd input (empty, prose only, lone surrogates, oversized) gives defined code plus ``notes``.

Rules, in order:
- the response is cut at ``max_chars`` (a ``response-too-long`` note covers the cut-off tail);
- fenced blocks (```` ``` ```` or ``~~~``, CommonMark-style, an unterminated fence runs to the end)
  tagged ``python``/``py``/``python3``/``py3`` or untagged are the code, joined by newlines; blocks
  tagged another language (``bash``, ``text``, ...) are never Python;
- without any fence the whole response is the code, minus leading and trailing prose lines when the
  whole does not compile;
- lone surrogates (which cannot be encoded, so no tool could read the code) become U+FFFD, one
  character for one, so offsets stay valid.
"""

from __future__ import annotations

import bisect
import keyword
import re
from dataclasses import dataclass
from functools import cached_property

from execrl.records import Finding

DEFAULT_MAX_CHARS = 20_000
PYTHON_TAGS = frozenset({"", "python", "py", "python3", "py3"})

LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what Python's tokenizer and Ruff both count as a new line
_FENCE = re.compile(r"[ \t]{0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# A prose line: optional list marker, then two words, the first not a Python keyword (checked apart).
_PROSE = re.compile(r"(?:\d+[.)]\s+|[-*]\s+)?([A-Za-z][\w'’-]*)[,.!?:;]?\s+[A-Za-z`]")
_KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | {"print", "exec"}


@dataclass(frozen=True)
class Segment:
    """``length`` characters of code starting at ``code_start`` copied from ``response_start``."""

    code_start: int
    response_start: int
    length: int


@dataclass(frozen=True)
class ExtractedCode:
    """The code found in a response and its offset map back into the response.

    Lines are 1-based; columns are 0-based character offsets. A code offset that falls on the newline
    joining two blocks maps to the last character of the block before it.
    """

    code: str
    segments: tuple[Segment, ...]
    response_length: int
    notes: tuple[Finding, ...] = ()  # what extraction itself found: no code, cut-off, bad characters
    truncated: bool = False

    @property
    def has_code(self) -> bool:
        return bool(self.code.strip())

    @cached_property
    def _code_starts(self) -> list[int]:
        return [s.code_start for s in self.segments]

    @cached_property
    def _lines(self) -> list[tuple[int, int]]:
        """Each line's first offset and the offset of its line break (or of the code's end)."""
        lines, start = [], 0
        for brk in LINE_BREAK.finditer(self.code):
            lines.append((start, brk.start()))
            start = brk.end()
        lines.append((start, len(self.code)))
        return lines

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def response_offset(self, code_offset: int) -> int:
        """The response offset of the code character at ``code_offset`` (clamped to the code)."""
        if not self.segments:
            return 0
        code_offset = min(max(code_offset, 0), len(self.code) - 1)
        seg = self.segments[max(bisect.bisect_right(self._code_starts, code_offset) - 1, 0)]
        return seg.response_start + min(code_offset - seg.code_start, seg.length - 1)

    def span(self, code_start: int, code_end: int) -> tuple[int, int]:
        """The response span of code ``[code_start, code_end)``; at least one character unless no code."""
        if not self.code:
            return 0, 0
        first = min(max(code_start, 0), len(self.code) - 1)
        end = min(max(code_end, first + 1), len(self.code))
        return self.response_offset(first), self.response_offset(end - 1) + 1

    def offset(self, line: int, column: int = 0) -> int:
        """The code offset of (1-based ``line``, 0-based character ``column``), clamped to that line."""
        start, end = self._lines[min(max(line, 1), self.line_count) - 1]
        return min(start + max(column, 0), end)

    def line_text(self, line: int) -> str:
        start, end = self._lines[min(max(line, 1), self.line_count) - 1]
        return self.code[start:end]

    def lines_span(self, first: int, last: int | None = None) -> tuple[int, int]:
        """The response span of code lines ``first..last`` (inclusive), leading indentation left out."""
        start = self.offset(first)
        text = self.line_text(first)
        indent = len(text) - len(text.lstrip(" \t"))
        if indent < len(text):
            start += indent
        end = self.offset(first if last is None else max(last, first), 1 << 30)
        return self.span(start, end)

    def position_span(
        self, line: int, column: int, end_line: int | None = None, end_column: int | None = None
    ) -> tuple[int, int]:
        """The response span from (line, column) to (end_line, end_column); a missing end -> one character."""
        start = self.offset(line, column)
        end = start + 1
        if end_line is not None and end_column is not None and end_column >= 0:
            end = self.offset(end_line, end_column)
        return self.span(start, end)

    def char_column(self, line: int, byte_column: int) -> int:
        """The character column of a 0-based UTF-8 byte column (Bandit's and ``ast``'s unit)."""
        encoded = self.line_text(line).encode("utf-8", errors="replace")
        return len(encoded[: max(byte_column, 0)].decode("utf-8", errors="ignore"))

    def code_span(self) -> tuple[int, int]:
        """The response span covering all the code (the whole response when there is none)."""
        if not self.has_code:
            return 0, self.response_length
        return self.span(0, len(self.code))


def extract_code(response: str | bytes, max_chars: int = DEFAULT_MAX_CHARS) -> ExtractedCode:
    """The Python code in ``response`` (see the module docstring for the rules).

    ``bytes`` are decoded as UTF-8 with U+FFFD for undecodable bytes; spans then index that text.
    """
    full = response.decode("utf-8", errors="replace") if isinstance(response, bytes) else response
    text = full[:max_chars]
    notes: list[Finding] = []
    if len(full) > max_chars:
        notes.append(
            Finding(
                max_chars,
                len(full),
                1.0,
                "response-too-long",
                f"response has {len(full)} characters; only the first {max_chars} were judged",
            )
        )
    bounds = _fenced_blocks(text)
    if bounds is None:
        bounds = [_plain_code_bounds(text)]
    segments: list[Segment] = []
    parts: list[str] = []
    cursor = 0
    for start, end in bounds:
        if end <= start:
            continue
        if parts and not parts[-1].endswith(("\n", "\r")):
            parts.append("\n")
            cursor += 1
        segments.append(Segment(cursor, start, end - start))
        parts.append(text[start:end])
        cursor += end - start
    code = "".join(parts)
    for bad in _SURROGATE.finditer(text):
        notes.append(
            Finding(
                bad.start(),
                bad.end(),
                1.0,
                "invalid-unicode",
                "lone surrogate (not encodable as UTF-8) read as U+FFFD",
            )
        )
    code = replace_surrogates(code)
    if not code.strip():
        notes.append(Finding(0, len(full), 1.0, "no-code", "no Python code found in the response"))
    return ExtractedCode(code, tuple(segments), len(full), tuple(notes), truncated=len(full) > max_chars)


def replace_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD: same length, so offsets are unchanged."""
    return _SURROGATE.sub("\ufffd", text)


def _fenced_blocks(text: str) -> list[tuple[int, int]] | None:
    """Spans of the Python fenced blocks' contents; ``None`` when the text has no fence at all."""
    blocks: list[tuple[int, int]] = []
    seen_fence = False
    opening: tuple[str, str, int] | None = None  # marker, tag, content start
    pos = 0
    for line in text.splitlines(keepends=True):
        line_start, pos = pos, pos + len(line)
        match = _FENCE.match(line)
        if opening is None:
            if match:
                seen_fence = True
                opening = (match.group(1), match.group(2).lower(), pos)
            continue
        marker, tag, content_start = opening
        if (
            match
            and match.group(1)[0] == marker[0]
            and len(match.group(1)) >= len(marker)
            and not match.group(2)
            and not line[match.end() :].strip()
        ):
            if tag in PYTHON_TAGS:
                blocks.append((content_start, line_start))
            opening = None
    if opening is not None and opening[1] in PYTHON_TAGS:
        blocks.append((opening[2], len(text)))
    return blocks if seen_fence else None


def _plain_code_bounds(text: str) -> tuple[int, int]:
    """The whole text, minus leading/trailing prose and blank lines when the whole does not compile."""
    if compiles(text):
        return 0, len(text)
    lines, pos = [], 0
    for line in text.splitlines(keepends=True):
        lines.append((pos, pos + len(line), line))
        pos += len(line)
    first, last = 0, len(lines) - 1
    while first <= last and _is_prose_or_blank(lines[first][2]):
        first += 1
    while last >= first and _is_prose_or_blank(lines[last][2]):
        last -= 1
    if first > last:
        return 0, 0
    return lines[first][0], lines[last][1]


def _is_prose_or_blank(line: str) -> bool:
    if not line.strip():
        return True
    if line[0] in " \t":
        return False
    match = _PROSE.match(line)
    return bool(match) and match.group(1) not in _KEYWORDS and not compiles(line)


def compiles(source: str) -> bool:
    """Whether CPython compiles ``source``; never raises (deep nesting, null bytes: False)."""
    try:
        compile(source, "<response>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, UnicodeError, RecursionError, MemoryError):
        return False
    return True
