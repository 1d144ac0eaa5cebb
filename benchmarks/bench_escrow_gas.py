"""Escrow gas per op, version 1 (FunC) against version 2 (Tolk), in the TVM, mainnet config.

Each row is one transaction on a fresh 10 TON escrow (0.5 TON fee) played the same way on both
versions: gas used by the compute phase and every fee of the transaction (the validators' share
plus the forwarding fees of what it sent), in nanotons. Deterministic: same figures every run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell

from benchmarks.harness import header
from chainfluence.ton.escrow import (
    EscrowTerms,
    EscrowVersion,
    deposit_comment_body,
    escrow_address,
    escrow_state_init,
    refund_body,
    release_body,
    split_body,
)
from chainfluence_sandbox.tvm import (
    EMPTY_CELL,
    AccountState,
    AccountStatus,
    Emulator,
    InternalMessage,
    TransactionResult,
    emulator_version,
)

TON = 1_000_000_000
NOW = 1_760_000_000
DAY = 86_400
OP_VALUE = 50_000_000


def _party(name: str) -> Address:
    return Address((0, hashlib.sha256(name.encode()).digest()))


PLATFORM, ADVERTISER, PUBLISHER, FEES, STRANGER = (
    _party(n) for n in ("platform", "advertiser", "publisher", "fee recipient", "stranger")
)
TERMS = EscrowTerms(
    deal_id=42,
    platform=PLATFORM,
    advertiser=ADVERTISER,
    publisher=PUBLISHER,
    fee_recipient=FEES,
    price_nano=10 * TON,
    fee_nano=TON // 2,
    refund_after=NOW + 7 * DAY,
)


@dataclass
class _Escrow:
    emulator: Emulator
    version: EscrowVersion
    now: int = NOW

    def __post_init__(self) -> None:
        self.address = escrow_address(TERMS, self.version)
        self.account = AccountState.nonexistent(self.address)

    def send(
        self, sender: Address, value: int, body: Cell = EMPTY_CELL, *, bounce: bool = True
    ) -> TransactionResult:
        self.now += 60
        deployed = self.account.status is AccountStatus.ACTIVE
        message = InternalMessage(
            src=sender,
            dest=self.address,
            value_nano=value,
            body=body,
            bounce=bounce,
            state_init=None if deployed else escrow_state_init(TERMS, self.version),
            created_at=self.now,
        )
        result = self.emulator.execute(self.account, message, now=self.now)
        self.account = result.account
        return result


def _funded(escrow: _Escrow) -> None:
    escrow.send(ADVERTISER, TERMS.price_nano, bounce=False)


def _fresh(escrow: _Escrow) -> None:
    del escrow


def _closed(escrow: _Escrow) -> None:
    _funded(escrow)
    escrow.send(PLATFORM, OP_VALUE, release_body(1))


COMMENT = deposit_comment_body("d")
Step = Callable[[_Escrow], TransactionResult]
ROWS: list[tuple[str, Callable[[_Escrow], None], Step]] = [
    ("first deposit (deploys)", _fresh, lambda e: e.send(ADVERTISER, 10 * TON, bounce=False)),
    ("later deposit, comment", _funded, lambda e: e.send(ADVERTISER, TON, COMMENT)),
    ("release (3 messages)", _funded, lambda e: e.send(PLATFORM, OP_VALUE, release_body(1))),
    ("split 50% (3 messages)", _funded, lambda e: e.send(PLATFORM, OP_VALUE, split_body(1, 5000))),
    ("refund (1 message)", _funded, lambda e: e.send(PUBLISHER, OP_VALUE, refund_body(1))),
    ("deposit after close", _closed, lambda e: e.send(STRANGER, TON, bounce=False)),
    ("release by a stranger", _funded, lambda e: e.send(STRANGER, OP_VALUE, release_body(1))),
    ("release after close", _closed, lambda e: e.send(PLATFORM, OP_VALUE, release_body(2))),
]  # fmt: skip


def _figures(result: TransactionResult) -> tuple[int, int]:
    fees = result.total_fees_nano + sum(m.fwd_fee_nano for m in result.out_messages)
    return result.compute.gas_used, fees


def table() -> list[str]:
    emulator = Emulator()
    lines = [
        f"{'transaction':<26}{'v1 gas':>9}{'v2 gas':>9}{'Δ gas':>8}"
        f"{'v1 fees':>12}{'v2 fees':>12}  exit v1/v2",
    ]
    for name, prepare, step in ROWS:
        figures = []
        for version in (EscrowVersion.V1, EscrowVersion.V2):
            escrow = _Escrow(emulator, version)
            prepare(escrow)
            result = step(escrow)
            figures.append((*_figures(result), result.exit_code))
        (gas1, fees1, exit1), (gas2, fees2, exit2) = figures
        lines.append(
            f"{name:<26}{gas1:>9,}{gas2:>9,}{gas2 - gas1:>+8,}{fees1:>12,}{fees2:>12,}"
            f"  {exit1}/{exit2}"
        )
    return lines


def code_sizes() -> str:
    sizes = []
    for version in EscrowVersion:
        code = escrow_state_init(TERMS, version).code
        assert code is not None
        boc: bytes = code.to_boc()  # type: ignore[no-untyped-call]
        sizes.append(f"v{int(version)} {len(boc)} bytes")
    return "code BOC: " + ", ".join(sizes)


async def run(*, duration: float, concurrency: int) -> None:
    del duration, concurrency  # deterministic: one transaction per row
    version = emulator_version()
    header(
        f"escrow gas, v1 (FunC) vs v2 (Tolk): TVM of @ton/sandbox {version['sandbox']} "
        f"(TON {version['commit_hash'][:8]}, {version['commit_date'][:10]}), mainnet config"
    )
    for line in table():
        print(line)
    print(code_sizes())
    print("fees = total fees + forwarding fees of the messages sent, nanotons")
