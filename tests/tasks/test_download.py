"""``execrl data fetch``: downloads checked by sha256, the layout the loaders read, one attempt when offline.

Upstream cannot be reached from the test machine, so the downloads come from a local HTTP server laid out
as a mirror (``--mirror URL`` reads ``URL/<host>/<path>``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from execrl.cli import main
from execrl.tasks import download
from execrl.tasks.download import DataSource, Download


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Mirror:
    """A directory served over HTTP on loopback; ``requests`` records every path asked for."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        mirror = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                mirror.requests.append(self.path)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def put(self, url: str, data: bytes) -> None:
        """Serve ``data`` where the mirror has ``url``'s file."""
        path = self.root / url.split("://", 1)[1]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@pytest.fixture()
def mirror(tmp_path: Path) -> Iterator[Mirror]:
    served = Mirror(tmp_path / "mirror")
    served.root.mkdir()
    served.thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


ONE = b"one\n"
PLUS = b'{"task_id": "Mbpp/2"}\n'
PART_A, PART_B = b"first half ", b"second half\n"


@pytest.fixture()
def sources(monkeypatch: pytest.MonkeyPatch) -> tuple[DataSource, ...]:
    """A small manifest of the four kinds of entry: verbatim, gunzipped, built from several downloads
    (each checked), and written without a download."""
    fake = (
        DataSource({"a/one.txt": _sha(ONE)}, (Download("https://example.org/up/one.txt"),), download._single("a/one.txt")),
        DataSource(
            {"b/plus.jsonl": _sha(PLUS)},
            (Download("https://example.org/rel/plus.jsonl.gz"),),
            download._single("b/plus.jsonl", gzip.decompress),
        ),
        DataSource(
            {"c/joined.txt": _sha(PART_A + PART_B)},
            (Download("https://example.com/x/a.py", _sha(PART_A)), Download("https://example.com/x/b.py", _sha(PART_B))),
            lambda datas: {"c/joined.txt": b"".join(datas)},
        ),
        DataSource({"d/local.json": _sha(b"{}")}, (), lambda _: {"d/local.json": b"{}"}),
    )
    monkeypatch.setattr(download, "SOURCES", fake)
    monkeypatch.delenv(download.MIRROR_ENV_VAR, raising=False)
    return fake


def _serve_all(mirror: Mirror) -> None:
    mirror.put("https://example.org/up/one.txt", ONE)
    mirror.put("https://example.org/rel/plus.jsonl.gz", gzip.compress(PLUS))
    mirror.put("https://example.com/x/a.py", PART_A)
    mirror.put("https://example.com/x/b.py", PART_B)


def test_fetch_writes_every_file_checked_then_keeps_what_is_there(sources, mirror, tmp_path, capsys) -> None:
    _serve_all(mirror)
    target = tmp_path / "data"
    assert main(["data", "fetch", "--data-dir", str(target), "--mirror", mirror.url]) == 0
    assert (target / "a/one.txt").read_bytes() == ONE
    assert (target / "b/plus.jsonl").read_bytes() == PLUS  # gunzipped
    assert (target / "c/joined.txt").read_bytes() == PART_A + PART_B
    assert (target / "d/local.json").read_bytes() == b"{}"
    assert sorted(mirror.requests) == ["/example.com/x/a.py", "/example.com/x/b.py",
                                       "/example.org/rel/plus.jsonl.gz", "/example.org/up/one.txt"]
    assert not list(target.rglob("*.partial"))
    assert "4 files written" in capsys.readouterr().err

    mirror.requests.clear()
    assert main(["data", "fetch", "--data-dir", str(target), "--mirror", mirror.url]) == 0
    assert mirror.requests == []  # every file already had its hash: nothing downloaded again
    assert "0 files written, 4 already present" in capsys.readouterr().err


def test_a_file_url_mirror_works_as_an_http_one(sources, mirror, tmp_path) -> None:
    _serve_all(mirror)  # the same folder, read without the server
    target = tmp_path / "data"
    assert main(["data", "fetch", "--data-dir", str(target), "--mirror", mirror.root.as_uri()]) == 0
    assert (target / "c/joined.txt").read_bytes() == PART_A + PART_B
    assert mirror.requests == []


def test_a_hash_mismatch_is_not_written_and_the_other_files_are(sources, mirror, tmp_path, capsys) -> None:
    _serve_all(mirror)
    mirror.put("https://example.org/up/one.txt", b"tampered\n")
    mirror.put("https://example.com/x/b.py", b"other second half\n")
    target = tmp_path / "data"
    assert main(["data", "fetch", "--data-dir", str(target), "--mirror", mirror.url]) == 1
    err = capsys.readouterr().err
    assert not (target / "a/one.txt").exists()
    assert not (target / "c/joined.txt").exists()
    assert f"has sha256 {_sha(b'tampered' + bytes([10]))}, not the expected {_sha(ONE)}" in err
    assert f"b.py has sha256 {_sha(b'other second half' + bytes([10]))}, not the expected {_sha(PART_B)}" in err
    assert (target / "b/plus.jsonl").read_bytes() == PLUS
    assert "2 files written" in err and "2 failed" in err


def test_a_file_with_other_contents_is_kept_unless_forced(sources, mirror, tmp_path, capsys) -> None:
    _serve_all(mirror)
    target = tmp_path / "data"
    (target / "a").mkdir(parents=True)
    (target / "a/one.txt").write_bytes(b"my own edit\n")
    assert main(["data", "fetch", "--data-dir", str(target), "--mirror", mirror.url]) == 1
    assert (target / "a/one.txt").read_bytes() == b"my own edit\n"
    assert "--force" in capsys.readouterr().err
    assert main(["data", "fetch", "--data-dir", str(target), "--mirror", mirror.url, "--force"]) == 0
    assert (target / "a/one.txt").read_bytes() == ONE


def _count_urlopen(monkeypatch: pytest.MonkeyPatch, fail: bool) -> list[str]:
    calls: list[str] = []
    real = urllib.request.urlopen

    def counting(url, *args, **kwargs):
        calls.append(url if isinstance(url, str) else url.full_url)
        if fail:
            raise urllib.error.URLError("[Errno -2] Name or service not known")
        return real(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", counting)
    return calls


def test_offline_stops_after_one_attempt_and_lists_the_files_to_place(sources, tmp_path, monkeypatch, capsys) -> None:
    calls = _count_urlopen(monkeypatch, fail=True)
    target = tmp_path / "data"
    assert main(["data", "fetch", "--data-dir", str(target)]) == 2
    err = capsys.readouterr().err
    assert calls == ["https://example.org/up/one.txt"]  # one attempt, no retry, no other host tried
    assert "nothing more was tried" in err
    for relative in ("a/one.txt", "b/plus.jsonl", "c/joined.txt", "d/local.json"):
        assert str(target / relative) in err
    # Nothing written, not even the file that needs no download: a half-filled data directory would make
    # the data tests fail (missing files) instead of skip.
    assert not target.exists()


def test_a_refused_connection_on_loopback_is_one_attempt_too(sources, tmp_path, monkeypatch, capsys) -> None:
    # A real socket this time: a port nothing listens on.
    with ThreadingHTTPServer(("127.0.0.1", 0), SimpleHTTPRequestHandler) as closed:
        port = closed.server_address[1]
    calls = _count_urlopen(monkeypatch, fail=False)
    assert main(["data", "fetch", "--data-dir", str(tmp_path / "d"), "--mirror", f"http://127.0.0.1:{port}"]) == 2
    assert len(calls) == 1
    assert "could not be reached" in capsys.readouterr().err


def test_fetch_needs_a_target_directory(monkeypatch, capsys) -> None:
    monkeypatch.delenv("EXECRL_DATA_DIR", raising=False)
    assert main(["data", "fetch"]) == 2
    assert "--data-dir" in capsys.readouterr().err


def _real_mirror(mirror: Mirror, data_dir: Path) -> None:
    """The pinned upstream files, rebuilt from the shared copy, in the forms upstream or its copies have."""
    by_relative = {relative: source for source in download.SOURCES for relative in source.files}
    mbpp = (data_dir / "mbpp/mbpp.jsonl").read_bytes()
    # a CRLF copy without a final newline (as some vendored copies are) must come out identical
    mirror.put(by_relative["mbpp/mbpp.jsonl"].downloads[0].url, mbpp.replace(b"\n", b"\r\n").rstrip())
    sanitized = json.loads((data_dir / "mbpp/sanitized-mbpp.json").read_bytes())
    mirror.put(by_relative["mbpp/sanitized-mbpp.json"].downloads[0].url, json.dumps(sanitized, indent=2).encode())
    for relative in ("mbppplus/MbppPlus-v0.2.0.jsonl", "mbppplus/MbppPlus-v0.1.0.jsonl"):
        mirror.put(by_relative[relative].downloads[0].url, gzip.compress((data_dir / relative).read_bytes()))
    for relative in ("roboeval/robo-instruct_roboeval_data.csv", "roboeval/robo-instruct_seed_instructions.csv"):
        mirror.put(by_relative[relative].downloads[0].url, (data_dir / relative).read_bytes())


def test_the_real_manifest_rebuilds_the_shared_data_byte_for_byte(data_dir, mirror, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(download.MIRROR_ENV_VAR, raising=False)
    _real_mirror(mirror, data_dir)
    target = tmp_path / "data"
    # CodeBotler's task files are not available here (tests/tasks/test_roboeval_source.py covers their
    # parsing): the two files built from them are put in place, so the fetch keeps them.
    (target / "roboeval").mkdir(parents=True)
    for name in ("roboeval_tasks.json", "roboeval_prompts.jsonl"):
        shutil.copy(data_dir / "roboeval" / name, target / "roboeval" / name)
    assert main(["data", "fetch", "--data-dir", str(target), "--mirror", mirror.url]) == 0
    written = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert written == sorted(r for source in download.SOURCES for r in source.files)
    for relative in written:
        assert (target / relative).read_bytes() == (data_dir / relative).read_bytes(), relative


def test_a_loader_downloads_a_missing_file_into_the_cache(data_dir, mirror, tmp_path, monkeypatch) -> None:
    from execrl.tasks import load_mbppplus

    _real_mirror(mirror, data_dir)
    monkeypatch.setenv(download.MIRROR_ENV_VAR, mirror.url)
    monkeypatch.setenv("EXECRL_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "empty").mkdir()
    dataset = load_mbppplus(tmp_path / "empty", download=True)
    assert len(dataset.tasks) == 378
    assert (tmp_path / "cache/data/mbppplus/MbppPlus-v0.2.0.jsonl").is_file()
    assert mirror.requests == ["/github.com/evalplus/mbppplus_release/releases/download/v0.2.0/MbppPlus.jsonl.gz"]


def test_the_pinned_hashes_are_those_of_the_data_the_tests_read(data_dir) -> None:
    # The data directory CI reads (shared/data) and a fetched one must hold the same bytes.
    for source in download.SOURCES:
        for relative, sha in source.files.items():
            assert _sha((data_dir / relative).read_bytes()) == sha, relative
