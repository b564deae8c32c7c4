"""Models: loading (Hub id, local directory, the embedded GGUF default), LoRA, generation, logprobs."""

from execrl.models.embedded import EMBEDDED, cache_root, embedded_model_dir
from execrl.models.export import save_adapter, save_merged
from execrl.models.generation import Generated, GenerationSettings, eos_ids, generate, left_pad
from execrl.models.loading import (
    DEFAULT_MODEL,
    load_causal_lm,
    load_tokenizer,
    prepare_tokenizer,
    resolve_model_path,
)
from execrl.models.logprobs import entropy, token_logprobs
from execrl.models.lora import LoraSettings, add_lora
from execrl.models.policy import ActorCritic, TokenScores, ValueMode, position_ids_for
from execrl.models.prompting import encode_prompts, format_prompt

__all__ = [
    "DEFAULT_MODEL",
    "EMBEDDED",
    "ActorCritic",
    "Generated",
    "GenerationSettings",
    "LoraSettings",
    "TokenScores",
    "ValueMode",
    "add_lora",
    "cache_root",
    "embedded_model_dir",
    "encode_prompts",
    "eos_ids",
    "entropy",
    "format_prompt",
    "generate",
    "left_pad",
    "load_causal_lm",
    "load_tokenizer",
    "position_ids_for",
    "prepare_tokenizer",
    "resolve_model_path",
    "save_adapter",
    "save_merged",
    "token_logprobs",
]
