"""Where each token of a response lies in the response text, as character spans ``[start, end)``.

Judges locate findings as character spans of the response text; credit strategies need to know
which tokens those characters belong to. Two entry points:

* ``token_offsets(tokenizer, text)`` tokenizes a text and reads the fast tokenizer's offset mapping;
* ``offsets_for_token_ids(tokenizer, ids)`` starts from generated ids (what the trainer has: the
  response *is* the ids) and returns the decoded text with the span of every id in it.

Spans are always inside ``[0, len(text)]``, never negative and never reversed. A token that holds
only part of a multi-byte character (byte-level BPE) gets the span of every character it touches,
so several tokens may share one character. Special tokens (EOS, padding) do not appear in the text
and get an empty span at the position where they occur: a trailing EOS gets ``(len(text), len(text))``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Span = tuple[int, int]

_REPLACEMENT = "\ufffd"  # what decoding yields for bytes of a character that is not complete yet


class SlowTokenizerError(TypeError):
    """Raised when a tokenizer cannot give character offsets (only fast tokenizers can)."""


def token_offsets(tokenizer: Any, text: str) -> list[Span]:
    """Character spans of the tokens of ``text`` tokenized on its own, without special tokens."""
    if not getattr(tokenizer, "is_fast", False):
        raise SlowTokenizerError(
            f"{type(tokenizer).__name__} is a slow (Python) tokenizer and cannot give character offsets; "
            "load a fast one: AutoTokenizer.from_pretrained(name, use_fast=True)"
        )
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    limit = len(text)
    spans: list[Span] = []
    for start, end in encoding["offset_mapping"]:
        # Some tokenizers report offsets past the text (e.g. after normalisation); keep them in range.
        start = min(max(int(start), 0), limit)
        spans.append((start, min(max(int(end), start), limit)))
    return spans


def offsets_for_token_ids(tokenizer: Any, token_ids: Sequence[int]) -> tuple[str, list[Span]]:
    """Decode generated ids into the response text and give the span of each id in that text.

    The text is ``tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)``.
    Each id is first decoded on its own: when that piece is exactly the text at the current position,
    it is the token's span (the common case, linear time). Otherwise (a partial character, or a
    decoder whose output depends on context, such as SentencePiece's leading space) the prefix of ids
    up to this one is decoded and matched against the text, which is exact whatever the decoder.
    """
    ids = [int(token_id) for token_id in token_ids]
    text = _decode(tokenizer, ids)
    special = _special_ids(tokenizer)
    spans: list[Span] = []
    position = 0  # characters of ``text`` fully produced by the ids so far
    pending = False  # the last id ended inside a character, which starts at ``position``
    for index, token_id in enumerate(ids):
        if token_id in special:
            spans.append((position, position))
            continue
        piece = _decode(tokenizer, [token_id])
        if not pending and piece and _REPLACEMENT not in piece and text.startswith(piece, position):
            spans.append((position, position + len(piece)))
            position += len(piece)
            continue
        prefix = _decode(tokenizer, ids[: index + 1])
        produced = max(position, _matched_length(prefix, text, position))
        pending = len(prefix) > produced
        end = min(produced + 1, len(text)) if pending else produced
        spans.append((position, end))
        position = produced
    return text, spans


def _decode(tokenizer: Any, ids: list[int]) -> str:
    return tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)


def _special_ids(tokenizer: Any) -> frozenset[int]:
    """Ids that ``skip_special_tokens`` drops: the named special tokens and added tokens marked special."""
    ids = set(getattr(tokenizer, "all_special_ids", ()))
    for token_id, token in getattr(tokenizer, "added_tokens_decoder", {}).items():
        if getattr(token, "special", False):
            ids.add(int(token_id))
    return frozenset(ids)


def _matched_length(prefix: str, text: str, known: int) -> int:
    """Length of the common start of ``prefix`` and ``text``, given that the first ``known`` chars agree."""
    limit = min(len(prefix), len(text))
    length = min(known, limit)
    while length < limit and prefix[length] == text[length]:
        length += 1
    return length
