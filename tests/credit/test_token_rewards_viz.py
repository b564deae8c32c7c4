from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

from execrl.viz.token_rewards import (
    EMPTY_TOKEN,
    TokenRewardRecord,
    render_html,
    render_terminal,
    reward_colours,
    token_pieces,
)


class TokenSpans(HTMLParser):
    """Collects each token span's text, data-reward and title, checking that tags are balanced."""

    VOID = frozenset({"meta"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tokens: list[dict[str, str]] = []
        self.current: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        self.stack.append(tag)
        attributes = dict(attrs)
        if tag == "span" and "tok" in (attributes.get("class") or "").split():
            self.current = {"text": "", "reward": attributes["data-reward"], "title": attributes["title"]}
            self.tokens.append(self.current)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack.pop() == tag
        self.current = None

    def handle_data(self, data):
        if self.current is not None:
            self.current["text"] += data


def test_html_has_one_span_per_token_and_escapes(tmp_path: Path) -> None:
    records = [
        TokenRewardRecord(
            "if a < b & c", ("if", " a <", " b", " &amp; c", "\n", ""), (0.0, -1.0, 0.5, 2.0, 0, -3)
        ),
        TokenRewardRecord("second <response>", ("x",), (1.0,)),
    ]
    path = render_html(records, tmp_path / "rewards.html")
    page = path.read_text(encoding="utf-8")

    parser = TokenSpans()
    parser.feed(page)
    parser.close()
    assert parser.stack == []
    assert [t["text"] for t in parser.tokens] == ["if", " a <", " b", " &amp; c", "\n", EMPTY_TOKEN, "x"]
    assert [float(t["reward"]) for t in parser.tokens] == [0.0, -1.0, 0.5, 2.0, 0.0, -3.0, 1.0]
    assert parser.tokens[1]["title"] == "token 1: -1"

    assert " a &lt;" in page and " &amp;amp; c" in page and "if a &lt; b &amp; c" in page
    assert "<response>" not in page
    # Well-formed as XML too (no undeclared entities, every element closed).
    root = ET.fromstring(page.split("\n", 1)[1])
    assert len(root.findall(".//section")) == 2
    assert "http" not in page.split("<body>")[1]  # self-contained: nothing to fetch


def test_html_colours_follow_sign(tmp_path: Path) -> None:
    page = render_html(
        [TokenRewardRecord("t", ("a", "b", "c"), (-1.0, 0.0, 1.0))], tmp_path / "x.html"
    ).read_text()
    styles = re.findall(r'<span class="tok"[^>]*?(?: style="([^"]*)")?>', page)
    negative, zero, positive = styles
    assert "rgb(200, 20, 20)" in negative and zero == "" and "rgb(20, 150, 40)" in positive


def test_colours_deepen_with_magnitude() -> None:
    weak, _ = reward_colours(-0.1, 1.0)
    strong, _ = reward_colours(-1.0, 1.0)
    assert strong[1] < weak[1]  # less green and blue: a deeper red
    assert reward_colours(0.0, 1.0) is None
    (red, green, _), _ = reward_colours(0.7, 1.0)
    assert green > red


def test_terminal_renders_tokens_legend_and_colours() -> None:
    console = Console(record=True, force_terminal=True, color_system="truecolor", width=100)
    render_terminal(
        console, ["def", " f", "():", "\n\treturn", " 1", ""], [0.0, -0.5, -1.0, 0.2, 0.4, 1.0], "sample"
    )
    text = console.export_text(clear=False)
    assert "sample" in text
    assert "def f():" in text and "return 1" + EMPTY_TOKEN in text
    assert "6 tokens" in text and "sum +0.1" in text
    assert "-1" in text and "+1" in text  # the legend's scale ends
    styled = console.export_text(styles=True)
    assert "48;2;200;20;20" in styled  # the -1.0 token on the deepest red
    assert "48;2;20;150;40" in styled  # the +1.0 token on the deepest green


def test_terminal_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="2 tokens but 1 rewards"):
        render_terminal(Console(record=True), ["a", "b"], [1.0], "bad")


@pytest.mark.parametrize(
    ("text", "offsets", "pieces"),
    [
        ("naïve", [(0, 1), (1, 3), (2, 5), (5, 5)], ["n", "aï", "ve", ""]),
        ("a  b", [(0, 1), (2, 4)], ["a", "  b"]),  # a gap goes to the next token
        ("ab\n", [(0, 1), (1, 2)], ["a", "b\n"]),  # trailing text goes to the last token
        ("", [], []),
    ],
)
def test_token_pieces_partition_the_text(text, offsets, pieces) -> None:
    assert token_pieces(text, offsets) == pieces
    assert "".join(pieces) == text
