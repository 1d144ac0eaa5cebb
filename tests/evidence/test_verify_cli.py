"""`chainfluence evidence verify` on files that are not packs, or packs broken in odd places:
always a sentence and an exit code, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from chainfluence.cli import app as cli
from chainfluence.evidence.service import FORMAT
from chainfluence.evidence.signing import Signer

SIGNER = Signer(bytes(range(32)))
KEY = SIGNER.public_key.hex()


def _run(tmp_path: Path, content: str, *args: str) -> tuple[int, str, BaseException | None]:
    path = tmp_path / "pack.json"
    path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(cli, ["evidence", "verify", str(path), *args])
    return result.exit_code, result.output, result.exception


def _signed(**members: Any) -> str:
    return json.dumps(SIGNER.sign({"format": FORMAT, **members}))


@pytest.mark.parametrize(
    ("members", "named"),
    [
        ({"escrow": {"code": "AAAA", "terms": {}}}, "escrow: the terms or code cannot be read"),
        (
            {"escrow": {"code": "x", "terms": {"platform": "not an address"}}},
            "escrow: the terms or code cannot be read",
        ),
        ({"escrow": "a string"}, "escrow: the terms or code cannot be read"),
        ({"creatives": [{"version": 1}]}, "creative: a version cannot be read"),
        ({"creatives": ["text"], "timeline": 5}, "creative: a version cannot be read"),
        (
            {"deal": {"creativeVersion": 3, "contentHash": "0x00"}, "creatives": []},
            "deal: the approved creative v3's hash is 0x00, which no creative version",
        ),
    ],
)
def test_broken_packs_are_refused_with_what_is_wrong(
    tmp_path: Path, members: dict[str, Any], named: str
) -> None:
    code, output, exception = _run(tmp_path, _signed(**members), "--key", KEY)

    assert code == 1, output
    assert isinstance(exception, SystemExit)
    assert f"MISMATCH  {named}" in output
    assert "signature: valid" in output  # signed as it is: only the content is wrong


def test_unreadable_files_and_keys_exit_2_with_a_sentence(tmp_path: Path) -> None:
    not_json = _run(tmp_path, "{nope", "--key", KEY)
    no_key = _run(tmp_path, _signed())
    bad_key = _run(tmp_path, _signed(), "--key", "abc")
    both = _run(tmp_path, _signed(), "--key", KEY, "--key-url", "http://127.0.0.1:9/k")
    unreachable = _run(tmp_path, _signed(), "--key-url", "http://127.0.0.1:9/k")
    other_format = _run(tmp_path, json.dumps({"format": "x"}), "--key", KEY)

    assert not_json[0] == 2
    assert "Cannot read" in not_json[1]
    assert no_key[0] == both[0] == 2
    assert "Give the platform's public key: --key KEY or --key-url URL." in no_key[1]
    assert bad_key[0] == 2
    assert "--key: an Ed25519 key must be 32 bytes" in bad_key[1]
    assert unreachable[0] == 2
    assert "cannot read the published keys at http://127.0.0.1:9/k" in unreachable[1]
    assert other_format[0] == 1
    assert "format is 'x', not 'chainfluence.evidence/1'" in other_format[1]
