"""Sentences the deal's parties are told, shared by the lifecycle, the edits and the deal views."""

from __future__ import annotations


def edit_notice(window_hours: float | None) -> str:
    """What the publisher is told before editing the live post."""
    window = f"{window_hours:g} h" if window_hours is not None else "the edit window"
    return (
        "Keep the ad post unchanged until the hold ends. An edit pauses the deal until the "
        f"advertiser accepts it; if they refuse it or do not accept it within {window}, the "
        "advertiser is refunded. A deleted post refunds the advertiser."
    )
