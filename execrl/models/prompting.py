"""Turning task prompts into model input ids: the chat template when there is one, with left truncation."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any


def format_prompt(tokenizer: Any, prompt: str, system: str | None = None) -> str:
    """The text the model sees: its chat template with a generation prompt, else ``prompt`` and a newline."""
    if getattr(tokenizer, "chat_template", None):
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": prompt}
        ]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    warnings.warn(
        f"tokenizer {tokenizer.name_or_path!r} has no chat template; using the plain prompt format "
        "'<system>\\n\\n<prompt>\\n'",
        stacklevel=2,
    )
    return (f"{system}\n\n" if system else "") + prompt + "\n"


def encode_prompts(tokenizer: Any, texts: Sequence[str], max_tokens: int) -> list[list[int]]:
    """Token ids of each formatted prompt, keeping the last ``max_tokens`` (the end holds the generation cue)."""
    encoded, cut = [], []
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(ids) > max_tokens:
            cut.append(len(ids))
            ids = ids[-max_tokens:]
        encoded.append(list(ids))
    if cut:
        warnings.warn(
            f"{len(cut)} prompt(s) of up to {max(cut)} tokens are longer than max_prompt_tokens={max_tokens}; "
            "keeping their last tokens",
            stacklevel=2,
        )
    return encoded
