from __future__ import annotations

import pytest

from execrl.errors import ExecrlError
from execrl.models import load_causal_lm, load_tokenizer
from execrl.models.tiny import TinyModelSpec, build_tiny_model, parse_tiny_spec, save_model_dir


def test_parse_spec_defaults_and_overrides() -> None:
    assert parse_tiny_spec("tiny:") == TinyModelSpec()
    spec = parse_tiny_spec("tiny: hidden=32, layers=1,heads=2,kv_heads=1")
    assert (spec.hidden, spec.layers, spec.heads, spec.kv_heads) == (32, 1, 2, 1)
    assert spec.intermediate == TinyModelSpec().intermediate


@pytest.mark.parametrize(
    "text", ["smollm2", "tiny:width=3", "tiny:hidden", "tiny:hidden=-4", "tiny:hidden=30,heads=4", "tiny:heads=4,kv_heads=3"]
)
def test_bad_specs_are_user_errors(text: str) -> None:
    with pytest.raises(ExecrlError):
        parse_tiny_spec(text)


def test_tiny_model_fits_the_tokenizer_and_round_trips(tiny_tokenizer_dir, tmp_path) -> None:
    tokenizer = load_tokenizer(str(tiny_tokenizer_dir))
    model = build_tiny_model(parse_tiny_spec("tiny:hidden=32,layers=1,heads=2,kv_heads=1,intermediate=64"), tokenizer)
    assert model.config.vocab_size == len(tokenizer)
    assert model.get_input_embeddings().weight.data_ptr() == model.get_output_embeddings().weight.data_ptr()
    assert model.config.eos_token_id == tokenizer.eos_token_id

    loaded = load_causal_lm(str(save_model_dir(model, tokenizer, tmp_path / "tiny")))
    for name, tensor in model.state_dict().items():
        assert loaded.state_dict()[name].equal(tensor), name
    assert load_tokenizer(str(tmp_path / "tiny")).get_vocab() == tokenizer.get_vocab()


def test_same_seed_same_weights(tiny_tokenizer_dir) -> None:
    tokenizer = load_tokenizer(str(tiny_tokenizer_dir))
    spec = parse_tiny_spec("tiny:hidden=16,layers=1,heads=2,kv_heads=1,intermediate=32")
    a, b, c = (build_tiny_model(spec, tokenizer, seed=s) for s in (0, 0, 1))
    weight = "model.layers.0.mlp.up_proj.weight"
    assert a.state_dict()[weight].equal(b.state_dict()[weight])
    assert not a.state_dict()[weight].equal(c.state_dict()[weight])
