"""Loading a causal LM and its tokenizer: a Hub id, a local directory, or an embedded model name."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch

from execrl.errors import ExecrlError
from execrl.models.embedded import EMBEDDED, embedded_model_dir

DEFAULT_MODEL = "smollm2"


def resolve_model_path(name_or_path: str) -> str:
    """What ``from_pretrained`` should read: an embedded model's converted directory, or the name as given."""
    if name_or_path in EMBEDDED and not Path(name_or_path).exists():
        return str(embedded_model_dir(name_or_path))
    return name_or_path


def prepare_tokenizer(tokenizer: Any) -> Any:
    """Left padding (generation appends on the right) and a pad token: eos when the model has none."""
    if tokenizer.pad_token_id is None:
        if tokenizer.eos_token_id is None:
            raise ExecrlError(
                f"tokenizer {tokenizer.name_or_path!r} has neither a pad nor an eos token; "
                "add one (tokenizer.add_special_tokens) before training"
            )
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


def load_tokenizer(name_or_path: str = DEFAULT_MODEL) -> Any:
    from transformers import AutoTokenizer

    path = resolve_model_path(name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)  # nosec B615 - the user names the model (and revision)
    except (OSError, ValueError) as exc:
        raise ExecrlError(f"cannot load the tokenizer of {name_or_path!r}: {exc}") from exc
    if not getattr(tokenizer, "is_fast", False):
        raise ExecrlError(
            f"the tokenizer of {name_or_path!r} is a slow tokenizer; token-level credit needs character "
            "offsets, which only fast tokenizers give (install `tokenizers` or convert it)"
        )
    return prepare_tokenizer(tokenizer)


def load_causal_lm(name_or_path: str = DEFAULT_MODEL, dtype: torch.dtype = torch.float32) -> Any:
    """The model in eval mode (dropout off) on the CPU; the caller moves it to its device."""
    from transformers import AutoModelForCausalLM

    path = resolve_model_path(name_or_path)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*generation flags.*")
            model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)  # nosec B615 - the user's choice
    except (OSError, ValueError) as exc:
        raise ExecrlError(
            f"cannot load model {name_or_path!r}: {exc}\n"
            f"(a Hub id, a local directory with config.json, or one of: {', '.join(EMBEDDED)})"
        ) from exc
    return model.eval()
