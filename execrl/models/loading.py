"""Loading a causal LM and its tokenizer: a Hub id, a local directory, or an embedded model name."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from typing import Any

import torch

from execrl.errors import ExecrlError
from execrl.models.embedded import EMBEDDED, embedded_model_dir

DEFAULT_MODEL = "smollm2"
HUB_PROBE_TIMEOUT_S = 5.0
_TRUE = {"1", "true", "yes", "on"}


def _what_to_pass() -> str:
    return f"a local directory holding the model's files (config.json, tokenizer files) or an embedded model ({', '.join(EMBEDDED)})"


def hub_offline_reason() -> str | None:
    """Why the Hugging Face Hub cannot be used now, or None when it can.

    ``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` say so without a request; otherwise one HEAD request to the
    Hub's endpoint (proxy settings honoured), no retry: huggingface_hub retries a failed lookup five times
    with backoff, which costs close to a minute on a machine without network.
    """
    from huggingface_hub import constants

    if constants.is_offline_mode() or any(
        os.environ.get(var, "").strip().lower() in _TRUE for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    ):
        return "HF_HUB_OFFLINE is set"
    request = urllib.request.Request(constants.ENDPOINT, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=HUB_PROBE_TIMEOUT_S):  # nosec B310 - the Hub's endpoint
            return None
    except urllib.error.HTTPError:
        return None  # the host answered: it is reachable
    except (urllib.error.URLError, OSError) as exc:
        return f"{constants.ENDPOINT} cannot be reached: {getattr(exc, 'reason', exc)}"


def resolve_model_path(name_or_path: str) -> str:
    """What ``from_pretrained`` should read for a model or tokenizer name.

    A local path as given; an embedded name (``smollm2``) as its converted directory; a Hub id as given
    when the Hub is reachable, else as its snapshot in the Hugging Face cache. Offline and not cached,
    an ExecrlError at once that says what to pass instead.
    """
    if Path(name_or_path).expanduser().exists():
        return name_or_path
    if name_or_path in EMBEDDED:
        return str(embedded_model_dir(name_or_path))
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(name_or_path)
    except HFValidationError:
        raise ExecrlError(
            f"cannot load {name_or_path!r}: it is not a local directory, an embedded model or a Hub id; "
            f"pass {_what_to_pass()}, "
            "or a Hub id such as HuggingFaceTB/SmolLM2-135M-Instruct"
        ) from None
    offline = hub_offline_reason()
    if offline is None:
        return name_or_path
    try:
        return snapshot_download(name_or_path, local_files_only=True)
    except LocalEntryNotFoundError:
        raise ExecrlError(
            f"cannot load {name_or_path!r}: the Hugging Face Hub cannot be used ({offline}) and it is not in "
            f"the local Hugging Face cache; pass {_what_to_pass()}"
        ) from None


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
