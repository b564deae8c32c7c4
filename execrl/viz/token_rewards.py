"""Show which tokens of a response earned or lost reward: coloured in the terminal, or as HTML.

Negative rewards are red, positive ones green, and the colour deepens with the magnitude relative to
the largest magnitude in that response (the legend gives the scale). Tokens with an empty text
(EOS and other special tokens, which hold no characters) are drawn as ``∅`` so that a reward placed
on them stays visible.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.style import Style
from rich.text import Text

EMPTY_TOKEN = "∅"

_LIGHT = {-1: (255, 224, 224), 1: (222, 245, 222)}
_STRONG = {-1: (200, 20, 20), 1: (20, 150, 40)}
_LEGEND_STEPS = (-1.0, -0.5, -0.1, 0.0, 0.1, 0.5, 1.0)


@dataclass(frozen=True)
class TokenRewardRecord:
    """One response to show: its token texts and the reward of each token."""

    title: str
    tokens: tuple[str, ...]
    rewards: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.rewards):
            raise ValueError(f"{len(self.tokens)} tokens but {len(self.rewards)} rewards in {self.title!r}")
        if not all(math.isfinite(r) for r in self.rewards):
            raise ValueError(f"non-finite token reward in {self.title!r}")


def token_pieces(text: str, offsets: Sequence[tuple[int, int]]) -> list[str]:
    """Split ``text`` into one display piece per token, so that the pieces join back into ``text``.

    Offsets may overlap (tokens sharing a multi-byte character) or leave gaps; each character is
    shown once, with the first token that reaches it, and trailing characters go to the last token.
    """
    pieces: list[str] = []
    cursor = 0
    for _, end in offsets:
        end = max(cursor, min(end, len(text)))
        pieces.append(text[cursor:end])
        cursor = end
    if pieces:
        pieces[-1] += text[cursor:]
    return pieces


def reward_colours(reward: float, scale: float) -> tuple[tuple[int, int, int], str] | None:
    """A token's background RGB and text colour: red/green by sign, deeper with ``|reward| / scale``.

    ``None`` (no colouring) for a zero reward; the text turns white on the deeper half of the scale.
    """
    if reward == 0 or scale <= 0:
        return None
    sign = 1 if reward > 0 else -1
    t = min(abs(reward) / scale, 1.0)
    light, strong = _LIGHT[sign], _STRONG[sign]
    red, green, blue = (round(lo + (hi - lo) * t) for lo, hi in zip(light, strong))
    return (red, green, blue), "white" if t > 0.5 else "black"


def render_terminal(console: Console, tokens: list[str], rewards: list[float], title: str) -> None:
    """Print the response with each token's background coloured by its reward, then a legend."""
    record = TokenRewardRecord(title, tuple(tokens), tuple(rewards))
    scale = _scale(record.rewards)
    console.rule(title)
    body = Text()
    for token, reward in zip(record.tokens, record.rewards):
        body.append(token or EMPTY_TOKEN, style=_terminal_style(reward, scale))
    console.print(body)
    legend = Text("reward scale  ")
    for step in _LEGEND_STEPS:
        swatch = _terminal_style(step * scale, scale) or Style(dim=True)
        legend.append(f" {step * scale:+.3g} ", style=swatch)
        legend.append(" ")
    console.print(legend)
    console.print(Text(_summary(record), style="dim"))


def render_html(records: Sequence[TokenRewardRecord], path: str | os.PathLike[str]) -> Path:
    """Write a self-contained HTML page with every record; hovering a token shows its reward."""
    sections = "\n".join(_html_section(record) for record in records)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<title>execrl token rewards</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
pre.tokens {{ font-family: monospace; white-space: pre-wrap; border: 1px solid #ccc; padding: 0.5em; }}
span.tok:hover {{ outline: 1px solid #000; }}
span.empty {{ color: #888; }}
span.swatch {{ font-family: monospace; padding: 0 0.4em; margin-right: 0.2em; }}
p.summary {{ color: #555; }}
</style>
</head>
<body>
{sections}
</body>
</html>
"""
    target = Path(path)
    target.write_text(page, encoding="utf-8")
    return target


def _html_section(record: TokenRewardRecord) -> str:
    scale = _scale(record.rewards)
    spans = []
    for index, (token, reward) in enumerate(zip(record.tokens, record.rewards)):
        classes = "tok" if token else "tok empty"
        value = f"{reward:.6g}"
        spans.append(
            f'<span class="{classes}" title="token {index}: {value}" data-index="{index}" '
            f'data-reward="{value}"{_html_style(reward, scale)}>{html.escape(token or EMPTY_TOKEN)}</span>'
        )
    legend = "".join(
        f'<span class="swatch"{_html_style(step * scale, scale)}>{step * scale:+.3g}</span>'
        for step in _LEGEND_STEPS
    )
    return (
        f'<section class="response">\n<h2>{html.escape(record.title)}</h2>\n'
        f'<p class="summary">{html.escape(_summary(record))}</p>\n'
        f'<div class="legend">{legend}</div>\n'
        f'<pre class="tokens">{"".join(spans)}</pre>\n</section>'
    )


def _scale(rewards: Sequence[float]) -> float:
    return max((abs(r) for r in rewards), default=0.0)


def _summary(record: TokenRewardRecord) -> str:
    if not record.rewards:
        return "0 tokens"
    return (
        f"{len(record.rewards)} tokens, sum {sum(record.rewards):+.4g}, "
        f"min {min(record.rewards):+.4g}, max {max(record.rewards):+.4g}"
    )


def _terminal_style(reward: float, scale: float) -> Style | None:
    colours = reward_colours(reward, scale)
    if colours is None:
        return None
    (red, green, blue), text = colours
    return Style(bgcolor=f"rgb({red},{green},{blue})", color=text)


def _html_style(reward: float, scale: float) -> str:
    colours = reward_colours(reward, scale)
    if colours is None:
        return ""
    (red, green, blue), text = colours
    return f' style="background-color: rgb({red}, {green}, {blue}); color: {text}"'
