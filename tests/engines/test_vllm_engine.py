"""The vllm rollout engine against the hf engine on a tiny model in fp32, where both must agree token
for token. Runs in the vLLM environment (`make test-vllm`); skipped where vLLM is not installed.

One pair of engines serves the whole module: a vLLM engine takes seconds to start.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest
import torch
from fixtures.tokenizer import make_tiny_tokenizer
from fixtures.vllm_pair import Pair, assert_same, perturb, tiny_policy

from execrl.engines import EngineContext, build_engine
from execrl.errors import ExecrlError
from execrl.models import GenerationSettings
from execrl.models.loading import prepare_tokenizer
from execrl.models.precision import resolve_precision

pytestmark = pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vLLM is not installed")

MAX_NEW = 24
SETTINGS = GenerationSettings(max_new_tokens=MAX_NEW, max_prompt_tokens=256, temperature=1.0)
TEXTS = [
    "def add(a, b):\n    return",
    "import os\nimport sys\n\n\nclass Counter:\n    def __init__(self, start=0):\n        self.value = start\n",
    "Write a function to find the shared elements from the given two lists.",
    "print(reverse_words(",
    "The robot goes to the kitchen, picks up the apple and asks the person in the office. Then",
    'try:\n    with open(path, "r", encoding="utf-8") as handle:\n        data = handle.read()\nexcept',
    "x",
    "# 中文注释: café naïve “quoted” — 😀",
]
TEXTS.append("\n\n".join(TEXTS[:6] * 2))  # longer than a KV block of vLLM-CPU (128 tokens)


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory):
    return prepare_tokenizer(make_tiny_tokenizer(tmp_path_factory.mktemp("tok")))


@pytest.fixture(scope="module")
def prompts(tokenizer) -> list[list[int]]:
    ids = [tokenizer.encode(text) for text in TEXTS]
    assert 128 < max(len(p) for p in ids) <= 256  # one fills a whole KV block: the prefix cache is used
    return ids


@pytest.fixture(scope="module")
def extra_eos(tokenizer, prompts) -> int:
    """A token the tiny model writes early in some greedy responses but not in others: declared an eos
    token of the policy, it ends some responses by eos while the others run to the length limit."""
    context = EngineContext(tokenizer, torch.device("cpu"), resolve_precision("fp32", torch.device("cpu")))
    hf = build_engine("hf", context, SETTINGS)
    hf.sync(tiny_policy(tokenizer))
    out = hf.generate(prompts, 1, SETTINGS, greedy=True)
    rows = [out.response(i) for i in range(len(prompts))]
    for token in sorted({t for row in rows for t in row[2:8]}):
        if 2 <= sum(token in row for row in rows) <= len(rows) - 2:
            return token
    pytest.fail("no token of the tiny model's greedy responses appears in some of them but not all")


@pytest.fixture(scope="module")
def pair(tokenizer, extra_eos) -> Iterator[Pair]:
    policy = tiny_policy(tokenizer)
    policy.generation_config.eos_token_id = [tokenizer.eos_token_id, extra_eos]
    engines = Pair(tokenizer, policy, SETTINGS)
    yield engines
    engines.close()


def test_greedy_responses_match_the_hf_engine(pair: Pair, prompts) -> None:
    ours, reference = pair.both(prompts, samples=2)
    assert_same(ours, reference)
    assert ours.response_ids.shape[0] == 2 * len(prompts)
    assert ours.response(0) == ours.response(1)  # rows grouped by prompt; greedy samples are alike


def test_eos_ends_responses_as_in_the_hf_engine(pair: Pair, prompts, extra_eos: int) -> None:
    ours, reference = pair.both(prompts)
    assert_same(ours, reference)
    eos = set(pair.policy.generation_config.eos_token_id)
    ended = [row for row in range(len(prompts)) if ours.lengths[row] < MAX_NEW]
    assert 2 <= len(ended) <= len(prompts) - 2
    for row in range(len(prompts)):
        response = ours.response(row)
        assert not eos & set(response[:-1])  # a response ends at its first eos ...
        assert (response[-1] in eos) == (row in ended)  # ... which it keeps, inside the mask
    assert sum(ours.response(row)[-1] == extra_eos for row in ended) >= 2  # the policy's eos ids count


def test_stop_strings_end_responses_as_in_the_hf_engine(pair: Pair, prompts, tokenizer) -> None:
    full, _ = pair.both(prompts)
    # A stop string from the middle of each long response: two tokens' text less its last character,
    # so that the token completing it carries text past the stop string.
    stops = []
    for row in range(len(prompts)):
        response = full.response(row)
        if len(response) >= 12:
            text = tokenizer.decode(response[6:8])
            if len(text.strip()) >= 3 and "\ufffd" not in text:
                stops.append(text[:-1])
    assert len(stops) >= 2
    settings = SETTINGS.model_copy(update={"stop_strings": tuple(stops)})
    ours, reference = pair.both(prompts, settings=settings)
    assert_same(ours, reference)
    stopped = 0
    for row in range(len(prompts)):
        response = ours.response(row)
        text, before = tokenizer.decode(response), tokenizer.decode(response[:-1])
        if any(stop in text for stop in stops):  # ended by the token that completed a stop string
            assert not any(stop in before for stop in stops)
            stopped += 1
        else:
            assert len(response) == MAX_NEW or response[-1] in pair.policy.generation_config.eos_token_id
    assert stopped >= 2


def test_sync_pushes_the_updated_weights(pair: Pair, prompts) -> None:
    before, _ = pair.both(prompts)
    # q_proj's and gate_proj's adapters change; vLLM fuses those layers with k/v and up, which have no
    # adapter, so the push must carry them too for the fused layers to be rebuilt right.
    for part, seed in (("q_proj.lora_B", 2), ("gate_proj.lora_B", 3)):
        perturb(pair.policy, part, scale=2.0, seed=seed)
    pair.sync()
    after, reference = pair.both(prompts)
    assert_same(after, reference)
    assert sum(after.response(i) != before.response(i) for i in range(len(prompts))) >= len(prompts) // 2


def _first_tokens(pair: Pair, prompt: list[int], n: int, settings: GenerationSettings, seed: int) -> list[int]:
    torch.manual_seed(seed)
    out = pair.vllm.generate([prompt], n, settings.model_copy(update={"max_new_tokens": 1}))
    return out.response_ids[:, 0].tolist()


def test_sampling_is_seeded_by_the_run_generator(pair: Pair, prompts) -> None:
    a = _first_tokens(pair, prompts[0], 32, SETTINGS, seed=5)
    b = _first_tokens(pair, prompts[0], 32, SETTINGS, seed=5)
    c = _first_tokens(pair, prompts[0], 32, SETTINGS, seed=6)
    assert a == b  # the same step of the same run samples the same responses
    assert a != c
    assert len(set(a)) > 8  # each sample of a prompt has a seed of its own


def test_a_rows_samples_do_not_depend_on_the_rest_of_the_batch(pair: Pair, prompts) -> None:
    """Each row has its own seed: what prompt 0's samples are does not depend on the prompts sampled
    with it (nor on how vLLM schedules them), only on the run's generator."""
    settings = SETTINGS.model_copy(update={"max_new_tokens": 8})
    torch.manual_seed(11)
    alone = pair.vllm.generate(prompts[:1], 3, settings)
    torch.manual_seed(11)
    together = pair.vllm.generate(prompts, 3, settings)
    assert [alone.response(j) for j in range(3)] == [together.response(j) for j in range(3)]


def test_sampled_rows_are_grouped_by_prompt(pair: Pair, prompts) -> None:
    """Row i * samples + j answers prompt i: at a low temperature each sample starts as its prompt's
    greedy response does, and the prompts' greedy starts differ."""
    heads = [r[:4] for r in (pair.both(prompts)[0].response(i) for i in range(len(prompts)))]
    assert len({tuple(h) for h in heads}) >= len(prompts) - 1
    torch.manual_seed(9)
    cold = pair.vllm.generate(prompts, 3, SETTINGS.model_copy(update={"temperature": 0.01, "max_new_tokens": 4}))
    rows = range(3 * len(prompts))
    assert sum(cold.response(r) == heads[r // 3][: len(cold.response(r))] for r in rows) >= 0.8 * len(rows)


def test_a_batch_beyond_one_scheduler_step_samples_whole(pair: Pair, tokenizer) -> None:
    """More distinct prompt tokens than vLLM-CPU prefills in one step (4096): with chunked prefill a
    prompt would be split, and vLLM-CPU cannot rewind a seeded request's generator after a split."""
    distinct = [tokenizer.encode(f"# variant {i}\n" + "x = 1\n" * 40)[:200] for i in range(32)]
    assert sum(map(len, distinct)) > 4096
    torch.manual_seed(12)
    out = pair.vllm.generate(distinct, 1, SETTINGS.model_copy(update={"max_new_tokens": 3}))
    assert len(out.lengths) == 32 and min(out.lengths) >= 1


def _reference_probs(pair: Pair, prompt: list[int], temperature: float) -> torch.Tensor:
    with torch.no_grad():
        logits = pair.hf.copy.model(input_ids=torch.tensor([prompt])).logits[0, -1].float()
    return torch.softmax(logits / temperature, -1)


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_samples_follow_the_tempered_distribution(pair: Pair, prompts, temperature: float) -> None:
    """Draws of the first token at temperature T fit softmax(logits / T) better than softmax(logits):
    the mean log-ratio is +KL(tempered || plain) for draws from the tempered distribution and
    -KL(plain || tempered) for draws from the plain one."""
    settings = SETTINGS.model_copy(update={"temperature": temperature})
    tokens = torch.tensor(_first_tokens(pair, prompts[1], 256, settings, seed=7))
    tempered, plain = _reference_probs(pair, prompts[1], temperature), _reference_probs(pair, prompts[1], 1.0)
    log_ratio = float((tempered[tokens].log() - plain[tokens].log()).mean())
    kl = float((tempered * (tempered / plain).log()).sum())
    assert kl > 0.05 and log_ratio > kl / 2


def test_top_p_keeps_samples_in_the_nucleus(pair: Pair, prompts) -> None:
    settings = SETTINGS.model_copy(update={"top_p": 0.3})
    tokens = set(_first_tokens(pair, prompts[1], 128, settings, seed=8))
    ordered, order = _reference_probs(pair, prompts[1], 1.0).sort(descending=True)
    inside = int((ordered.cumsum(0) - ordered < 0.3 + 1e-4).sum())  # the smallest prefix reaching top_p
    assert 2 <= inside < len(ordered) // 4  # the nucleus is a real restriction here
    assert tokens <= set(order[:inside].tolist()) and len(tokens) >= 2


def test_a_prompt_too_long_for_the_engine_is_a_clear_error(pair: Pair) -> None:
    with pytest.raises(ExecrlError, match="max_model_len"):
        pair.vllm.generate([[5] * 250], 1, SETTINGS.model_copy(update={"max_new_tokens": 40}))


def test_kv_cache_size_follows_the_model(tokenizer) -> None:
    from execrl.engines.vllm import kv_cache_bytes

    config = tiny_policy(tokenizer, lora=False).config
    # K and V, 2 layers, 1 KV head of 32 values, 2 bytes each in bf16, per token
    assert kv_cache_bytes(config, 10, torch.bfloat16) == 2 * 2 * 1 * 32 * 2 * 10
    assert kv_cache_bytes(config, 10, torch.float32) == 2 * kv_cache_bytes(config, 10, torch.bfloat16)
