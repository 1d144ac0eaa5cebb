"""Dates here are days: no test runs across midnight UTC (see tests.conftest)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _clear_of_midnight(clear_of_midnight: None) -> None:
    return None
