"""`chainfluence demo` as a person runs it: a separate process, its story, its exit code."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

CHAINFLUENCE = str(Path(sys.executable).with_name("chainfluence"))


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHAINFLUENCE, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def _demo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Configuration a developer may have exported must not reach the throwaway sandbox.
    env = {
        **os.environ,
        "CHAINFLUENCE_MODE": "production",
        "CHAINFLUENCE_DATABASE__URL": "postgresql+asyncpg://nobody@127.0.0.1:9/none",
    }
    return subprocess.run(
        [CHAINFLUENCE, "demo", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_plays_a_whole_deal_to_the_payout(tmp_path: Path) -> None:
    result = _demo(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    story = result.stdout
    steps = re.findall(r"^ ?(\d+)\. ", story, flags=re.MULTILINE)
    assert steps == [str(n) for n in range(1, len(steps) + 1)]
    assert len(steps) == 12
    assert "deal #1 is in_escrow" in story
    assert re.search(r"escrow EQ[\w-]{46}", story)
    assert re.search(r"message id \d+, live", story)
    assert "9.5 TON to Alice, 0.5 TON platform fee; payout tx " in story
    timeline = story.split("Timeline of deal #1:")[1]
    for event in ("deal_created", "deposit_confirmed", "creative_approved", "publish"):
        assert event in timeline
    assert re.search(r"release_confirmed\s+verified → released", timeline)
    assert "Alice  (publisher)  0 TON → 9.5 TON" in story
    assert "Demo finished in" in story
    assert list(tmp_path.iterdir()) == []  # its database and chain lived in a temporary directory

    # Its evidence pack, kept outside the sandbox, checked by the CLI as a party would.
    kept = re.search(r"The signed evidence pack of deal #1 is in (\S+)", story)
    assert kept is not None
    pack = Path(kept.group(1))
    try:
        command = re.search(r"chainfluence evidence verify (\S+) --key ([0-9a-f]{64})", story)
        assert command is not None
        assert command.group(1) == str(pack)
        verified = _cli(tmp_path, "evidence", "verify", str(pack), "--key", command.group(2))
        tampered = json.loads(pack.read_text())
        tampered["chainTransactions"][1]["to"][0]["amountNano"] = str(100 * 10**9)
        (tmp_path / "tampered.json").write_text(json.dumps(tampered))
        refused = _cli(tmp_path, "evidence", "verify", "tampered.json", "--key", command.group(2))
    finally:
        pack.unlink()

    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "VERIFIED: the pack is as the platform signed it." in verified.stdout
    assert "signature: valid (Ed25519, key ed25519:" in verified.stdout
    assert refused.returncode == 1
    assert "MISMATCH  signature: the signature does not match the content" in refused.stdout


def test_demo_exits_non_zero_when_a_step_fails(tmp_path: Path) -> None:
    # A price above what the advertiser's sandbox wallet holds: the payment step is refused.
    result = _demo(tmp_path, "--price", "150")

    assert result.returncode == 1
    assert "✗ step 7 failed" in result.stdout
    assert "sandbox_wallet_insufficient_funds" in result.stdout
    assert "Demo finished" not in result.stdout


def test_demo_refuses_a_price_that_is_not_an_amount(tmp_path: Path) -> None:
    result = _demo(tmp_path, "--price", "1.0000000001")

    assert result.returncode == 2
    assert "9 decimal places" in result.stderr
