"""Downloading the benchmark data from its upstream sources: what ``execrl data fetch`` runs.

Every file of the data directory comes from a pinned upstream location (a git commit or a release asset,
as listed in shared/data/README.md) and is checked against the sha256 of the file the loaders read, so a
fetched directory holds the same bytes as the shared copy CI uses. A few files need a deterministic step
between download and disk (line ends, a gunzip, RoboEval's task files parsed into JSON); the hash is taken
after it.

The network is tried once: the first download that cannot connect stops the fetch (the rest would fail the
same way) with a list of the files and where to put them by hand. A hash mismatch is a per-file error:
the file is not written and the others still are.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from execrl.data_dir import SOURCES as DATA_SOURCES
from execrl.errors import ExecrlError
from execrl.tasks import roboeval_source
from execrl.tasks.mbpp import MBPP_SPLITS

DEFAULT_TIMEOUT_S = 20.0
MIRROR_ENV_VAR = "EXECRL_DATA_MIRROR"  # a base URL holding copies of the upstream files as <host>/<path>
GOOGLE_RESEARCH = "https://raw.githubusercontent.com/google-research/google-research/30adf0ec5f35f9609c2f1d896005e184195d9146"
MBPPPLUS_RELEASE = "https://github.com/evalplus/mbppplus_release/releases/download"
ROBO_INSTRUCT = "https://raw.githubusercontent.com/ut-amrl/robo-instruct/113b793f8d0c8961b32942bfc4d62cb768f0c33c"
CODEBOTLER = f"https://raw.githubusercontent.com/{roboeval_source.REPOSITORY}/{roboeval_source.COMMIT}"


@dataclass(frozen=True)
class Download:
    """One upstream file; ``sha256`` is checked before the bytes are used (None: the output's hash is the check)."""

    url: str
    sha256: str | None = None


@dataclass(frozen=True)
class DataSource:
    """Files of the data directory made from some downloads: ``files`` maps each relative path to its sha256."""

    files: dict[str, str]
    downloads: tuple[Download, ...]
    build: Callable[[list[bytes]], dict[str, bytes]]


class OfflineError(ExecrlError):
    """The network could not be reached: nothing more is tried."""


def _lf_lines(data: bytes) -> bytes:
    """LF line ends and a final newline (vendored copies of mbpp.jsonl differ only in these)."""
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    return b"\n".join(line for line in lines if line) + b"\n"


def _single(
    relative: str, transform: Callable[[bytes], bytes] | None = None
) -> Callable[[list[bytes]], dict[str, bytes]]:
    return lambda datas: {relative: transform(datas[0]) if transform else datas[0]}


def _splits(_: list[bytes]) -> dict[str, bytes]:
    record = {
        "source": "google-research/google-research mbpp/README.md",
        **{name: list(bounds) for name, bounds in MBPP_SPLITS.items()},
        "note": "inclusive task_id ranges; sanitized-mbpp.json inherits the same ranges "
        "(7 prompt / 257 test / 43 validation / 120 train = 427)",
        "few_shot_in_paper": [2, 3, 4],
    }
    return {"mbpp/splits.json": json.dumps(record, indent=1).encode()}


def _roboeval(datas: list[bytes]) -> dict[str, bytes]:
    names = list(roboeval_source.TASK_FILES)
    return roboeval_source.build_files(
        [roboeval_source.TaskSource(name, data) for name, data in zip(names, datas, strict=True)]
    )


def _mbppplus(version: str, sha256: str) -> DataSource:
    relative = f"mbppplus/MbppPlus-{version}.jsonl"
    return DataSource(
        files={relative: sha256},
        downloads=(Download(f"{MBPPPLUS_RELEASE}/{version}/MbppPlus.jsonl.gz"),),
        build=_single(relative, gzip.decompress),
    )


SOURCES: tuple[DataSource, ...] = (
    DataSource(
        files={"mbpp/mbpp.jsonl": "ccf64ceae9c5403bf50a044cb6d505bfd2a2963ee58338ba268fd65beab92a9f"},
        downloads=(Download(f"{GOOGLE_RESEARCH}/mbpp/mbpp.jsonl"),),
        build=_single("mbpp/mbpp.jsonl", _lf_lines),
    ),
    DataSource(
        files={"mbpp/sanitized-mbpp.json": "ca95deaa9a01ef0a6f439f88bcf0dd3db3563d22f22aad6cae04ebb9a8d8c8e9"},
        downloads=(Download(f"{GOOGLE_RESEARCH}/mbpp/sanitized-mbpp.json"),),
        # json.dumps with its defaults: the upstream file's own serialisation, whatever a copy's indentation
        build=_single("mbpp/sanitized-mbpp.json", lambda data: json.dumps(json.loads(data)).encode()),
    ),
    DataSource(
        files={"mbpp/splits.json": "4df3823d281b3d5ea6193a404443713e90b41b0431a4acaacfb09a640f0f01ec"},
        downloads=(),
        build=_splits,
    ),
    _mbppplus("v0.2.0", "b54e762755248ca411b523c917fa9f93c07b5ff2966bf60b3917b853926a3dad"),
    # Only the EvalPlus cross-check tests read v0.1.0. Its hash is that of the copy in shared/data, which
    # reproduces the official v0.2.0 file under upstream's v0.1.0 -> v0.2.0 edits.
    _mbppplus("v0.1.0", "a855b9de667baea8e2f8aa61f898767a7336872208a85222b35622545e819fe9"),
    DataSource(
        files={
            "roboeval/roboeval_tasks.json": "b6e37510b9b9ac4acf8571fb9097ac64c070bf1d7e71538c0ecaa3da71a61db9",
            "roboeval/roboeval_prompts.jsonl": "ccc2b0fbbc84da78a11490fe4236b1f82f9e3a4509bd9292b86a8dbd79d56f2b",
        },
        downloads=tuple(
            Download(f"{CODEBOTLER}/benchmark/tasks/{name}.py", sha256)
            for name, sha256 in roboeval_source.TASK_FILES.items()
        ),
        build=_roboeval,
    ),
    DataSource(
        files={
            "roboeval/robo-instruct_roboeval_data.csv": (
                "f2c1df8c6b6d21429c5f47398db448871bc965e2f58d4a3ceb6cc25fd0e1c87f"
            )
        },
        downloads=(Download(f"{ROBO_INSTRUCT}/robo_instruct/generate_data/roboeval_data.csv"),),
        build=_single("roboeval/robo-instruct_roboeval_data.csv"),
    ),
    DataSource(
        files={
            "roboeval/robo-instruct_seed_instructions.csv": (
                "74a7ac08f7355f7ca6e3e8f4def988557c6db2e927aad0c6d6ad69f84bfc6423"
            )
        },
        downloads=(Download(f"{ROBO_INSTRUCT}/robo_instruct/generate_data/seed_instructions.csv"),),
        build=_single("roboeval/robo-instruct_seed_instructions.csv"),
    ),
)


def source_of(relative: str) -> DataSource | None:
    return next((source for source in SOURCES if relative in source.files), None)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _mirrored(url: str, mirror: str | None) -> str:
    """``url`` under ``mirror`` (``MIRROR/<host>/<path>``), for machines that reach upstream through a copy."""
    if not mirror:
        return url
    return mirror.rstrip("/") + "/" + url.split("://", 1)[1]


def _get(url: str, timeout_s: float) -> bytes:
    """The bytes at ``url``: one attempt, no retries. OfflineError when the host cannot be reached."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # nosec B310 - pinned https URLs
            return response.read()
    except urllib.error.HTTPError as exc:  # the host answered: not an offline machine
        raise ExecrlError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OfflineError(f"{url} could not be reached ({reason})") from None


def _write_atomically(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.write_bytes(data)
    partial.replace(dest)  # a reader never sees half a file, an interrupted fetch leaves none


def _verified(source: DataSource, datas: list[bytes]) -> dict[str, bytes]:
    for download, data in zip(source.downloads, datas, strict=True):
        if download.sha256 is not None and _sha256(data) != download.sha256:
            raise ExecrlError(f"{download.url} has sha256 {_sha256(data)}, not the expected {download.sha256}")
    try:
        built = source.build(datas)
    except (ValueError, EOFError, OSError) as exc:  # bad gzip, bad JSON, unexpected upstream layout
        raise ExecrlError(f"the download for {', '.join(source.files)} is not usable: {exc}") from None
    for relative, expected in source.files.items():
        got = _sha256(built[relative])
        if got != expected:
            raise ExecrlError(f"{relative} as downloaded has sha256 {got}, not the expected {expected}")
    return built


def fetch_source(
    source: DataSource, root: Path, timeout_s: float = DEFAULT_TIMEOUT_S, mirror: str | None = None
) -> None:
    """Download, check and write one source's files under ``root``."""
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_ENV_VAR)
    datas = [_get(_mirrored(download.url, mirror), timeout_s) for download in source.downloads]
    for relative, data in _verified(source, datas).items():
        _write_atomically(root / relative, data)


@dataclass
class FetchReport:
    """What a fetch did, file by file."""

    written: list[str]
    present: list[str]  # already there with the right hash: not downloaded again
    failed: dict[str, str]  # relative path -> why


def _state(path: Path, expected: str) -> str:
    if not path.exists():
        return "missing"
    return "present" if path.is_file() and _sha256(path.read_bytes()) == expected else "different"


def manual_instructions(root: Path, relatives: Sequence[str]) -> str:
    """Where each file comes from and where it goes, for a machine that cannot download."""
    lines = []
    for relative in relatives:
        source = source_of(relative)
        how = DATA_SOURCES.get(relative, "see docs/data.md")
        if source is not None and len(source.downloads) == 1:
            how += f": {source.downloads[0].url}"
        elif source is not None and source.downloads:
            how += f": {len(source.downloads)} files under {source.downloads[0].url.rsplit('/', 1)[0]}/"
        lines.append(f"  {root / relative}  <-  {how}")
    return "\n".join(lines)


def fetch_all(
    root: Path,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    mirror: str | None = None,
    force: bool = False,
    progress: Callable[[str], None] = lambda message: None,
) -> FetchReport:
    """Every data file under ``root``. Raises OfflineError (listing what is missing) if the network is down."""
    report = FetchReport(written=[], present=[], failed={})
    # Files that need no download last: offline, the fetch stops at its first download having written
    # nothing, so no half-filled data directory makes the data tests fail instead of skip.
    for source in sorted(SOURCES, key=lambda s: not s.downloads):
        states = {relative: _state(root / relative, sha) for relative, sha in source.files.items()}
        if all(state == "present" for state in states.values()):
            report.present.extend(states)
            continue
        different = [relative for relative, state in states.items() if state == "different"]
        if different and not force:
            for relative in different:
                report.failed[relative] = "exists with other contents; remove it or pass --force to replace it"
            continue
        progress(f"fetching {', '.join(source.files)}")
        try:
            fetch_source(source, root, timeout_s, mirror)
        except OfflineError as exc:
            missing = [
                relative
                for s in SOURCES
                for relative, sha in s.files.items()
                if _state(root / relative, sha) != "present"
            ]
            raise OfflineError(
                f"{exc}; no network (one attempt, {timeout_s:g} s timeout), so nothing more was tried.\n"
                f"Put these files in place by hand (sha256 and details: docs/data.md), or copy the upstream "
                f"files into a folder as FOLDER/<host>/<path> and run `execrl data fetch --mirror file:///FOLDER`:\n"
                + manual_instructions(root, missing)
            ) from None
        except ExecrlError as exc:
            for relative in source.files:
                report.failed[relative] = str(exc)
            continue
        report.written.extend(source.files)
    return report


def fetch_into_cache(relative: str, cache_root: Path, timeout_s: float = DEFAULT_TIMEOUT_S) -> str | None:
    """One file (and those built with it) into ``cache_root``, for a loader whose data directory lacks it.

    Returns None on success or why it failed.
    """
    source = source_of(relative)
    if source is None:
        return f"execrl cannot download {relative}"
    try:
        fetch_source(source, cache_root, timeout_s)
    except ExecrlError as exc:
        return str(exc)
    return None

