from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from execrl.credit import SlowTokenizerError, offsets_for_token_ids, token_offsets

TRICKY = [
    "",
    "def f(x):\n    return x\n",
    "naïve café résumé",
    "# 中文注释\nprint('你好, 世界')",
    "emoji 😀👍🏽 and a family 👨‍👩‍👧 joined by ZWJ",
    "crlf line\r\nnext\r\n\tindented with a tab\t\tand more",
    "x = 1" + " " * 300 + "# very long line " + "a" * 2000,
    "\n\n\n\n",
    "<|endoftext|> typed as text",
    "ü",  # not in the tiny vocabulary as a whole: split into byte tokens
]

# Text the tokenizers must handle: printable and control characters, CJK, emoji, combining marks.
texts = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("abc xyz_():=\n\r\t#'\"")),
        st.characters(min_codepoint=0x80, max_codepoint=0x2FFF),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x4E40),
        st.characters(min_codepoint=0x1F600, max_codepoint=0x1F64F),
    ),
    max_size=80,
)
fixture_ok = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def assert_well_formed(spans: list[tuple[int, int]], length: int) -> None:
    for start, end in spans:
        assert 0 <= start <= end <= length
    for (start_a, end_a), (start_b, end_b) in itertools.pairwise(spans):
        assert start_a <= start_b and end_a <= end_b


def assert_covers(spans: list[tuple[int, int]], length: int) -> None:
    covered = set()
    for start, end in spans:
        covered.update(range(start, end))
    assert covered == set(range(length))


@pytest.mark.parametrize("text", TRICKY)
def test_token_offsets_on_tricky_text(tiny_tokenizer, text: str) -> None:
    spans = token_offsets(tiny_tokenizer, text)
    assert len(spans) == len(tiny_tokenizer(text, add_special_tokens=False)["input_ids"])
    assert_well_formed(spans, len(text))
    assert_covers(spans, len(text))


@pytest.mark.parametrize("text", TRICKY)
def test_ids_round_trip_with_eos_at_the_end(tiny_tokenizer, text: str) -> None:
    ids = tiny_tokenizer(text, add_special_tokens=False)["input_ids"] + [tiny_tokenizer.eos_token_id]
    decoded, spans = offsets_for_token_ids(tiny_tokenizer, ids)
    assert decoded == text.replace("<|endoftext|>", "")
    assert len(spans) == len(ids)
    assert spans[-1] == (len(decoded), len(decoded))
    assert_well_formed(spans, len(decoded))
    assert_covers(spans, len(decoded))


@fixture_ok
@given(text=texts)
def test_ids_offsets_agree_with_the_tokenizers_offsets(tiny_tokenizer, text: str) -> None:
    ids = tiny_tokenizer(text, add_special_tokens=False)["input_ids"]
    decoded, spans = offsets_for_token_ids(tiny_tokenizer, ids)
    assert decoded == text
    assert spans == token_offsets(tiny_tokenizer, text)
    assert_well_formed(spans, len(text))


def test_partial_character_tokens_get_the_characters_they_touch(tiny_tokenizer) -> None:
    text = "naïve"
    ids = tiny_tokenizer(text, add_special_tokens=False)["input_ids"]
    pieces = [tiny_tokenizer.decode([i]) for i in ids]
    assert any("\ufffd" in piece for piece in pieces), "the fixture should split ï across tokens"
    _, spans = offsets_for_token_ids(tiny_tokenizer, ids)
    holders = [span for span, piece in zip(spans, pieces) if "\ufffd" in piece]
    for start, end in holders:
        assert start <= 2 < end  # every token holding a byte of ï covers character 2


def test_special_token_in_the_middle_has_an_empty_span(tiny_tokenizer) -> None:
    left = tiny_tokenizer("ab", add_special_tokens=False)["input_ids"]
    right = tiny_tokenizer(" cd", add_special_tokens=False)["input_ids"]
    text, spans = offsets_for_token_ids(tiny_tokenizer, left + [tiny_tokenizer.pad_token_id] + right)
    assert text == "ab cd"
    assert spans[len(left)] == (2, 2)


def test_only_special_tokens_give_empty_text(tiny_tokenizer) -> None:
    assert offsets_for_token_ids(tiny_tokenizer, [tiny_tokenizer.eos_token_id]) == ("", [(0, 0)])
    assert offsets_for_token_ids(tiny_tokenizer, []) == ("", [])


def test_slow_tokenizer_is_refused() -> None:
    class SlowTokenizer:
        is_fast = False

    with pytest.raises(SlowTokenizerError, match="fast"):
        token_offsets(SlowTokenizer(), "x")


def sentencepiece_style_tokenizer() -> PreTrainedTokenizerFast:
    """A Llama-2-like tokenizer: '▁' for spaces, byte fallback for unknown characters, no merges."""
    chars = sorted(set("abcdefghijklmnopqrstuvwxyz():=▁\n"))
    vocab = {"<unk>": 0, "</s>": 1}
    for byte in range(256):
        vocab[f"<0x{byte:02X}>"] = len(vocab)
    for char in chars:
        vocab[char] = len(vocab)
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>", byte_fallback=True))
    tokenizer.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tokenizer.pre_tokenizer = pre_tokenizers.Split("▁", behavior="merged_with_next")
    tokenizer.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="</s>", unk_token="<unk>")


@pytest.mark.parametrize("text", ["def f(x):\n  return x", "a 中文 b", "x 😀", "é"])
def test_ids_offsets_with_a_sentencepiece_style_decoder(text: str) -> None:
    tokenizer = sentencepiece_style_tokenizer()
    ids = tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    decoded, spans = offsets_for_token_ids(tokenizer, ids)
    assert decoded == text
    assert spans[-1] == (len(text), len(text))
    assert_well_formed(spans, len(text))
    assert_covers(spans, len(text))
