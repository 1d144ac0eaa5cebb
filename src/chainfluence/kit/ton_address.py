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
