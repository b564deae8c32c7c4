"""The hf rollout engine against transformers' generate, and each of its speed-ups doing what it claims."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from fixtures.tiny_model import make_tiny_model

from execrl.engines import EngineContext, build_engine
from execrl.engines.kv_cache import GrowingLayer, decoding_cache
from execrl.engines.weights import merged_weights
from execrl.models import GenerationSettings, LoraSettings, add_lora, encode_prompts, format_prompt, load_causal_lm, load_tokenizer
from execrl.models.precision import resolve_precision

CPU = torch.device("cpu")
TEXTS = ["def add(a, b):", "Write a function to reverse a list.", "x"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("engine_model"), init_std=0.1)


@pytest.fixture(scope="module")
def tokenizer(model_dir: Path):
    return load_tokenizer(str(model_dir))


@pytest.fixture
def policy(model_dir: Path):
    torch.manual_seed(1)
    model = add_lora(load_causal_lm(str(model_dir)), LoraSettings(rank=4))
    perturb(model, 0.05)
    return model


def perturb(model, std: float) -> None:
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(std=std)


def prompts(tokenizer) -> list[list[int]]:
    return encode_prompts(tokenizer, [format_prompt(tokenizer, t, "Answer with code.") for t in TEXTS], 64)


def engine(name: str, tokenizer, policy, precision: str = "fp32", **settings):
    built = build_engine(name, EngineContext(tokenizer, CPU, resolve_precision(precision, CPU)), GenerationSettings(**settings))
    built.sync(policy)
    return built


def responses(generated) -> list[list[int]]:
    return [generated.response(i) for i in range(len(generated.lengths))]


@pytest.mark.parametrize("stops", [(), ("\n",), ("):", "e")])
def test_greedy_responses_match_transformers_generate(tokenizer, policy, stops) -> None:
    settings = GenerationSettings(max_new_tokens=24, stop_strings=stops)
    ours = engine("hf", tokenizer, policy).generate(prompts(tokenizer), 2, settings, greedy=True)
    theirs = engine("hf_generate", tokenizer, policy).generate(prompts(tokenizer), 2, settings, greedy=True)
    assert responses(ours) == responses(theirs)
    assert torch.equal(ours.prompt_ids, theirs.prompt_ids) and torch.equal(ours.prompt_mask, theirs.prompt_mask)
    assert ours.lengths == theirs.lengths
    if stops:  # a stop string ends a response on the token that completes it
        assert any(n < 24 for n in ours.lengths)


def test_eos_ends_a_response_and_generation_stops_when_every_row_has(tokenizer, policy) -> None:
    settings = GenerationSettings(max_new_tokens=30)
    free = engine("hf", tokenizer, policy).generate(prompts(tokenizer), 1, settings, greedy=True)
    ends = {free.response(0)[2]}
    for model in (policy.get_base_model(),):
        model.generation_config.eos_token_id = sorted(ends)
    hf = engine("hf", tokenizer, policy)
    calls: list[int] = []
    hf.copy.model.register_forward_pre_hook(lambda module, args, kwargs: calls.append(1), with_kwargs=True)
    ended = hf.generate(prompts(tokenizer)[:1], 1, settings, greedy=True)
    assert ended.response(0) == free.response(0)[:3]
    assert len(calls) == 3  # one prefill and two decoding steps: no forward pass after the last row ended


def test_each_prompt_is_prefilled_once_for_all_its_samples(tokenizer, policy) -> None:
    batch_sizes: dict[bool, list[int]] = {}
    outputs = {}
    for share in (True, False):
        hf = engine("hf", tokenizer, policy, share_prefix=share)
        sizes: list[int] = []
        hf.copy.model.register_forward_pre_hook(
            lambda module, args, kwargs, sizes=sizes: sizes.append(kwargs["input_ids"].shape[0]), with_kwargs=True
        )
        outputs[share] = hf.generate(prompts(tokenizer), 4, GenerationSettings(max_new_tokens=6), greedy=True)
        batch_sizes[share] = sizes
    assert batch_sizes[True][0] == 3 and batch_sizes[False][0] == 12
    assert responses(outputs[True]) == responses(outputs[False])
    assert [r for r in responses(outputs[True])[::4]] == [r for r in responses(outputs[True])[1::4]]  # greedy: samples agree


def test_stop_strings_decode_only_rows_whose_new_token_can_end_one(tokenizer, policy, monkeypatch) -> None:
    hf = engine("hf", tokenizer, policy)
    settings = GenerationSettings(max_new_tokens=20, stop_strings=("@@",))  # '@' is rare in the tiny vocabulary
    decoded: list[int] = []
    original = tokenizer.decode
    monkeypatch.setattr(tokenizer, "decode", lambda *args, **kw: decoded.append(1) or original(*args, **kw))
    generated = hf.generate(prompts(tokenizer), 4, settings, greedy=False)
    steps = max(generated.lengths)
    assert len(decoded) < len(generated.lengths) * steps / 4


def test_sync_brings_the_updated_weights(tokenizer, policy) -> None:
    settings = GenerationSettings(max_new_tokens=12)
    hf = engine("hf", tokenizer, policy)
    before = responses(hf.generate(prompts(tokenizer), 1, settings, greedy=True))
    perturb(policy, 0.5)
    assert responses(hf.generate(prompts(tokenizer), 1, settings, greedy=True)) == before  # not synced yet
    hf.sync(policy)
    after = responses(hf.generate(prompts(tokenizer), 1, settings, greedy=True))
    expected = responses(engine("hf_generate", tokenizer, policy).generate(prompts(tokenizer), 1, settings, greedy=True))
    assert after == expected and after != before


def test_merged_weights_are_those_of_merge_and_unload(policy) -> None:
    merged = dict(copy.deepcopy(policy).merge_and_unload().named_parameters())
    pushed = dict(merged_weights(policy))
    assert pushed and all(".lora_" not in name for name in pushed)
    for name, value in pushed.items():
        assert torch.allclose(value, merged[name].float(), atol=1e-6), name


def chi_square(counts: torch.Tensor, probs: torch.Tensor, bins: int = 10) -> float:
    """Pearson's statistic over the ``bins`` likeliest tokens and one bin for the rest."""
    top = torch.argsort(probs, descending=True)[:bins]
    rest = torch.ones_like(probs, dtype=torch.bool)
    rest[top] = False
    observed = torch.cat([counts[top], counts[rest].sum().unsqueeze(0)])
    expected = torch.cat([probs[top], probs[rest].sum().unsqueeze(0)]) * counts.sum()
    return float(((observed - expected) ** 2 / expected).sum())


@pytest.mark.parametrize(("temperature", "other"), [(0.5, 1.0), (1.0, 0.5)])
def test_samples_follow_the_temperature_scaled_distribution(tokenizer, policy, temperature: float, other: float) -> None:
    torch.manual_seed(0)
    prompt = prompts(tokenizer)[:1]
    settings = GenerationSettings(max_new_tokens=1, temperature=temperature)
    first = torch.tensor([r[0] for r in responses(engine("hf", tokenizer, policy).generate(prompt, 4000, settings))])
    with torch.no_grad():
        logits = policy(input_ids=torch.tensor(prompt)).logits[0, -1]
    counts = torch.bincount(first, minlength=len(logits)).float()
    # 10 degrees of freedom: 29.6 is the 0.1% critical value; the other temperature must be far off.
    assert chi_square(counts, torch.softmax(logits / temperature, -1)) < 29.6
    assert chi_square(counts, torch.softmax(logits / other, -1)) > 100


def test_top_p_never_samples_outside_the_nucleus(tokenizer, policy) -> None:
    torch.manual_seed(0)
    prompt = prompts(tokenizer)[:1]
    settings = GenerationSettings(max_new_tokens=1, temperature=1.0, top_p=0.5)
    first = {r[0] for r in responses(engine("hf", tokenizer, policy).generate(prompt, 500, settings))}
    with torch.no_grad():
        probs = torch.softmax(policy(input_ids=torch.tensor(prompt)).logits[0, -1], -1)
    ordered = torch.argsort(probs, descending=True)
    mass = probs[ordered].cumsum(0)
    nucleus = set(ordered[: int((mass < 0.5).sum()) + 1].tolist())
    assert first <= nucleus and len(first) > 1


def test_bf16_rollouts_sample_from_a_bf16_copy_of_the_merged_weights(tokenizer, policy) -> None:
    hf = engine("hf", tokenizer, policy, precision="bf16")
    assert {p.dtype for p in hf.copy.model.parameters()} == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for n, p in policy.named_parameters() if "lora_" in n)
    generated = hf.generate(prompts(tokenizer), 2, GenerationSettings(max_new_tokens=8), greedy=True)
    assert all(n > 0 for n in generated.lengths)


def test_a_growing_cache_layer_holds_what_the_stock_one_holds() -> None:
    from transformers.cache_utils import DynamicLayer

    torch.manual_seed(0)
    stock, growing = DynamicLayer(), GrowingLayer()
    steps = [torch.randn(3, 2, n, 4) for n in (5, 1, 1, 70, 1)]
    for i, states in enumerate(steps):
        a, b = stock.update(states, -states), growing.update(states, -states)
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
        if i == 1:
            stock.batch_repeat_interleave(2), growing.batch_repeat_interleave(2)
            steps[2:] = [s.repeat_interleave(2, 0) for s in steps[2:]]
        if i == 3:
            keep = torch.tensor([0, 3, 5])
            stock.batch_select_indices(keep), growing.batch_select_indices(keep)
            steps[4] = steps[4][keep]
    assert growing.get_seq_length() == stock.get_seq_length() == 78


def test_the_decoding_cache_uses_growing_layers_only_for_plain_attention(model_dir: Path) -> None:
    from transformers import AutoConfig

    cache = decoding_cache(AutoConfig.from_pretrained(model_dir))
    assert cache.layers and all(isinstance(layer, GrowingLayer) for layer in cache.layers)
    sliding = AutoConfig.from_pretrained(model_dir)
    sliding.layer_types = ["sliding_attention", "full_attention"]
    sliding.sliding_window = 8
    mixed = decoding_cache(sliding)
    assert not any(isinstance(layer, GrowingLayer) for layer in mixed.layers)


class LargestOutput(TorchDispatchMode):
    """The largest tensor any aten op produced while active (numel)."""

    def __init__(self) -> None:
        super().__init__()
        self.numel = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor):
                self.numel = max(self.numel, t.numel())
        return out


def test_the_prefill_never_copies_the_head_weight_per_row(tokenizer, policy) -> None:
    """Projecting the prefill's last position from a strided view made matmul expand the
    [vocabulary, hidden] head to one copy per row: 3.6 GB and half the time of a 64-row SmolLM2 rollout."""
    hf = engine("hf", tokenizer, policy)
    head = hf.copy.model.get_output_embeddings().weight
    rows = prompts(tokenizer) * 4
    with LargestOutput() as largest:
        hf.generate(rows, 1, GenerationSettings(max_new_tokens=2), greedy=True)
    assert largest.numel < len(rows) * head.numel() / 4  # activations of 12 rows, not 12 heads
