"""kit.pagination.json_page writes aware UTC datetimes exactly as the response models do."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from chainfluence.kit.pagination import json_page
from chainfluence.kit.schemas import iso_utc
from chainfluence.kit.time import UTC


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 12, 7, 5, 34, 46, 123_456, tzinfo=UTC),
        dt.datetime(2026, 12, 7, 5, 34, 46, tzinfo=UTC),  # no fraction
        dt.datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        dt.datetime(2026, 1, 1, 0, 0, 0, 100_000, tzinfo=UTC),
        dt.datetime(999, 3, 4, 5, 6, 7, tzinfo=UTC),
        dt.datetime.max.replace(tzinfo=UTC),
        dt.datetime.min.replace(tzinfo=UTC),
    ],
)
def test_a_utc_datetime_is_written_as_iso_utc_writes_it(value: dt.datetime) -> None:
    response = json_page([{"at": value, "text": iso_utc(value)}], 1)

    assert response.body == orjson.dumps([{"at": iso_utc(value), "text": iso_utc(value)}])
    assert response.headers["X-Total-Count"] == "1"
