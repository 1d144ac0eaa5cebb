"""Who a person is according to Telegram: the user part of a Mini App's signed initData
(checked by `chainfluence.auth.init_data`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TelegramIdentity:
    id: int
    first_name: str
    last_name: str | None
    username: str | None
    photo_url: str | None
    language_code: str | None
    is_premium: bool
    auth_date: dt.datetime
    start_param: str | None
