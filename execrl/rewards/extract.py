"""Code extraction from chat-style responses, keeping every code character's place in the response.

Judges see the extracted code and report positions in it (line/column); ``ExtractedCode`` maps those
back to character spans of the response, which is what the credit mapping needs. Extraction never
raises: odd input (empty, prose only, lone surrogates, oversized) gives defined code plus ``notes``.

Rules, in order:
- the response is cut at ``max_chars`` (a ``response-too-long`` note covers the cut-off tail);
- fenced blocks found by CommonMark's fence rules (below) tagged ``python``/``py``/``python3``/``py3``
  or untagged are the code, joined by newlines; blocks tagged another language (``bash``, ``text``,
  ...) are never Python;
- without any fence the whole response is the code, minus leading and trailing prose lines when the
  whole does not compile;
- lone surrogates (which cannot be encoded, so no tool could read the code) become U+FFFD, one
  character for one, so offsets stay valid.

Fences, as CommonMark has them: lines end at ``\n``, ``\r\n`` or ``\r`` only; an opening fence is
at most three spaces of indentation, then three or more backticks or tildes, then an info string
whose first word is the language (a backtick fence's info string holds no backtick); the closing
fence is at most three spaces, then at least as many of the same character, then only spaces or
tabs; a block left open runs to the end; up to the opening fence's indentation in spaces is removed
from each content line. So ``print("```")`` or a line ```` ```bash ```` never ends a block, and a
```` ```` ```` block holds ```` ``` ```` lines.

One departure, so that honest code is not punished: a line of only backticks inside a triple-quoted
string is a valid closing fence to CommonMark, which would cut the program there. A Python block
therefore ends at the first closing fence whose block compiles, trying CommonMark's closing fence
first, then up to ``_LATER_CLOSERS`` later ones, then the end of the response; when none compiles,
at CommonMark's. (Only when the block before CommonMark's closing fence holds a triple quote or a
backslash-newline: otherwise no string goes on past a line, and CommonMark's fence is the answer.) The compiles are capped per response (``_COMPILE_BUDGET`` characters per character
of response), after which the plain CommonMark rule applies.
"""

from __future__ import annotations

import bisect
import itertools
import keyword
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from execrl.records import Finding

DEFAULT_MAX_CHARS = 20_000
PYTHON_TAGS = frozenset({"", "python", "py", "python3", "py3"})

LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what Python's tokenizer and Ruff both count as a new line
_OPENING = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)")
_CLOSING = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")
_LATER_CLOSERS = 8
_STRING_GOES_ON = re.compile(r"\"\"\"|'''|\\(?:\r\n|\r|\n)")  # a triple quote, or a backslash-newline
Span = tuple[int, int]
_COMPILE_BUDGET = 4  # characters compiled to place closing fences, per character of the response
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
    blocks = _fenced_blocks(text)
    if blocks is None:
        blocks = [[_plain_code_bounds(text)]]
    segments: list[Segment] = []
    parts: list[str] = []
    cursor = 0
    for block in blocks:
        pieces = [(start, end) for start, end in block if end > start]
        if not pieces:
            continue
        if parts and not parts[-1].endswith(("\n", "\r")):
            parts.append("\n")
            cursor += 1
        for start, end in pieces:
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


@dataclass(frozen=True)
class _Line:
    start: int  # response offset of its first character
    end: int  # response offset after its line break
    text: str  # without the line break


@dataclass(frozen=True)
class _Fence:
    indent: int
    marker: str  # the opening run of backticks or tildes
    language: str  # the info string's first word, lowercased


def _lines(text: str) -> list[_Line]:
    lines, start = [], 0
    for brk in LINE_BREAK.finditer(text):
        lines.append(_Line(start, brk.end(), text[start : brk.start()]))
        start = brk.end()
    if start < len(text):
        lines.append(_Line(start, len(text), text[start:]))
    return lines


def _opening(line: str) -> _Fence | None:
    match = _OPENING.fullmatch(line)
    if match is None or (match.group(2)[0] == "`" and "`" in match.group(3)):
        return None
    words = match.group(3).split()
    return _Fence(len(match.group(1)), match.group(2), words[0].lower() if words else "")


def _closes(line: str, fence: _Fence) -> bool:
    match = _CLOSING.fullmatch(line)
    return (
        match is not None
        and match.group(1)[0] == fence.marker[0]
        and len(match.group(1)) >= len(fence.marker)
    )


def _content(lines: list[_Line], first: int, stop: int, indent: int) -> list[Span]:
    """Response spans of lines ``first`` up to ``stop`` (excluded), each without up to ``indent`` spaces."""
    spans: list[Span] = []
    for line in lines[first:stop]:
        cut = min(indent, len(line.text) - len(line.text.lstrip(" ")))
        start = line.start + cut
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], line.end)
        else:
            spans.append((start, line.end))
    return spans


def _fenced_blocks(text: str) -> list[list[Span]] | None:
    """Each Python fenced block's content as response spans; ``None`` when the text has no fence at all."""
    lines = _lines(text)
    blocks: list[list[Span]] = []
    budget = _COMPILE_BUDGET * len(text)
    seen_fence = False
    i = 0
    while i < len(lines):
        fence = _opening(lines[i].text)
        if fence is None:
            i += 1
            continue
        seen_fence = True
        closers = (j for j in range(i + 1, len(lines)) if _closes(lines[j].text, fence))
        end = next(closers, None)  # CommonMark's closing line; None: the block runs to the end
        if fence.language in PYTHON_TAGS:
            end, budget = _python_end(text, lines, i, fence, end, closers, budget)
            blocks.append(_content(lines, i + 1, len(lines) if end is None else end, fence.indent))
        i = len(lines) if end is None else end + 1
    return blocks if seen_fence else None


def _python_end(
    text: str,
    lines: list[_Line],
    opening: int,
    fence: _Fence,
    first: int | None,
    later: Iterator[int],
    budget: int,
) -> tuple[int | None, int]:
    """The closing line of a Python block (module docstring): the first candidate whose block
    compiles, or CommonMark's ``first``; and what is left of the compile budget."""
    if first is None:
        return None, budget
    head = text[lines[opening].end : lines[first].start]
    if not _STRING_GOES_ON.search(head):
        # A fence line is valid Python only inside a string that goes on past a line break; with none
        # open before CommonMark's closing fence, no later one can give code that compiles.
        return first, budget
    for end in [first, *itertools.islice(later, _LATER_CLOSERS), None]:
        spans = _content(lines, opening + 1, len(lines) if end is None else end, fence.indent)
        size = sum(stop - start for start, stop in spans)
        if size > budget:
            break
        budget -= size
        if compiles("".join(text[start:stop] for start, stop in spans)):
            return end, budget
    return first, budget


def _plain_code_bounds(text: str) -> tuple[int, int]:
    """The whole text, minus leading/trailing prose and blank lines when the whole does not compile."""
    if compiles(text):
        return 0, len(text)
    lines = _lines(text)
    first, last = 0, len(lines) - 1
    while first <= last and _is_prose_or_blank(lines[first].text):
        first += 1
    while last >= first and _is_prose_or_blank(lines[last].text):
        last -= 1
    if first > last:
        return 0, 0
    return lines[first].start, lines[last].end


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
