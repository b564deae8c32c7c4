"""Fetching a benchmark file that the data directory lacks, into the cache.

MBPP comes from the Hugging Face Hub through the ``datasets`` library (when it is installed).
MBPP+ comes from EvalPlus's own release asset, as the ``evalplus`` package fetches it: the Hub's
``evalplus/mbppplus`` has a different schema (test code as text, no ``base_input``/``plus_input``/``atol``),
so it cannot reproduce EvalPlus's inputs. Every fetcher returns ``None`` on success or why it failed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import urllib.request
from collections.abc import Callable
from pathlib import Path

MBPPPLUS_URL = "https://github.com/evalplus/mbppplus_release/releases/download/v0.2.0/MbppPlus.jsonl.gz"
MBPPPLUS_SHA256 = "b54e762755248ca411b523c917fa9f93c07b5ff2966bf60b3917b853926a3dad"
MBPP_HUB_ID = "google-research-datasets/mbpp"


def _hub_records(config: str) -> list[dict]:
    import datasets  # optional dependency: only this download path needs it

    loaded = datasets.load_dataset(MBPP_HUB_ID, config)
    records = [dict(row) for split in loaded.values() for row in split]
    return sorted(records, key=lambda r: int(r["task_id"]))


def _write_atomically(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.write_bytes(data)
    partial.replace(dest)


def _fetch_from_hub(config: str, dest: Path, serialise: Callable[[list[dict]], str]) -> str | None:
    try:
        records = _hub_records(config)
    except ImportError:
        return "the `datasets` library is not installed"
    except Exception as exc:  # noqa: BLE001 - the Hub client raises many types (network, auth, schema)
        return f"{MBPP_HUB_ID} ({config}) could not be loaded from the Hub ({type(exc).__name__}: {exc})"
    _write_atomically(dest, serialise(records).encode())
    return None


def fetch_mbpp(dest: Path) -> str | None:
    return _fetch_from_hub("full", dest, lambda records: "".join(json.dumps(r) + "\n" for r in records))


def fetch_sanitized_mbpp(dest: Path) -> str | None:
    return _fetch_from_hub("sanitized", dest, json.dumps)


def fetch_mbppplus(dest: Path) -> str | None:
    try:
        with urllib.request.urlopen(MBPPPLUS_URL, timeout=30) as response:  # nosec B310: fixed https URL
            data = gzip.decompress(response.read())
    except (OSError, EOFError) as exc:
        return f"{MBPPPLUS_URL} could not be downloaded ({type(exc).__name__}: {exc})"
    digest = hashlib.sha256(data).hexdigest()
    if digest != MBPPPLUS_SHA256:
        return f"{MBPPPLUS_URL} has sha256 {digest}, not the expected {MBPPPLUS_SHA256}"
    _write_atomically(dest, data)
    return None


FETCHERS: dict[str, Callable[[Path], str | None]] = {
    "mbpp/mbpp.jsonl": fetch_mbpp,
    "mbpp/sanitized-mbpp.json": fetch_sanitized_mbpp,
    "mbppplus/MbppPlus-v0.2.0.jsonl": fetch_mbppplus,
}
