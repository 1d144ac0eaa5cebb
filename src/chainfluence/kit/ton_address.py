"""TON address forms: stored raw (`0:<hex>`), shown user-friendly."""

from __future__ import annotations

from pytoniq_core.boc.address import Address


def friendly(raw: str, *, bounceable: bool = False, testnet: bool = False) -> str:
    """User-friendly form; wallets are shown non-bounceable (`UQ…`) as TON Connect does."""
    return str(
        Address(raw).to_str(  # type: ignore[no-untyped-call]
            is_user_friendly=True, is_url_safe=True, is_bounceable=bounceable, is_test_only=testnet
        )
    )


def to_raw(address: str) -> str:
    """Canonical raw form of any address form; `ValueError` if it is not a TON address."""
    try:
        return str(Address(address).to_str(is_user_friendly=False))  # type: ignore[no-untyped-call]
    except Exception as exc:
        raise ValueError(f"not a TON address: {address!r}") from exc


def friendly_or_none(raw: str | None, *, bounceable: bool, testnet: bool) -> str | None:
    """`friendly` of a stored address that may be absent.

    TON's rule: wallets are shown non-bounceable (`UQ…`), contracts such as an escrow bounceable
    (`EQ…`), so value sent to a contract that does not exist comes back.
    """
    return friendly(raw, bounceable=bounceable, testnet=testnet) if raw else None
