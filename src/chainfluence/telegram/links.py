"""Links and buttons that open the Mini App in a context (a deal, an offer, a channel...).

Two kinds of button, because Telegram allows `web_app` buttons in private chats only:
* private chats (the /start reply, pushes): a `web_app` button on `telegram.web_app_url`, with
  the context as `tgWebAppStartParam` — the query parameter Telegram itself adds when a direct
  link with `startapp` opens the app; without a configured web_app_url, a `url` button instead;
* channels (ad posts): a `url` button on the direct link `<mini_app_url>?startapp=<param>`.

The buttons are aiogram's types, imported where they are built: the bot and the pushes (the
worker) build them; the API only reads the links, and must not load aiogram.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

from chainfluence.config import TelegramSettings

if TYPE_CHECKING:
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

# Telegram's rule for start parameters: up to 64 of A-Z, a-z, 0-9, _ and -.
START_PARAM = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Contexts the Mini App opens; anything else opens its home screen.
KNOWN_CONTEXT = re.compile(r"^(deal|offer|campaign|channel|review)_-?\d{1,20}$|^channel_add$")


def clean_start_param(payload: str | None) -> str | None:
    """The payload if it is a context we know, else None."""
    if payload is None:
        return None
    payload = payload.strip()
    if not START_PARAM.match(payload) or not KNOWN_CONTEXT.match(payload):
        return None
    return payload


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def mini_app_link(settings: TelegramSettings, start_param: str | None) -> str:
    """The direct link (`https://t.me/<bot>/<app>?startapp=...`), usable anywhere."""
    if not start_param:
        return settings.mini_app_url
    return _with_query(settings.mini_app_url, startapp=start_param)


def open_app_button(
    settings: TelegramSettings, text: str, start_param: str | None
) -> InlineKeyboardButton:
    """A button for a private chat that opens the Mini App in context."""
    from aiogram.types import InlineKeyboardButton, WebAppInfo

    if settings.web_app_url:
        url = settings.web_app_url
        if start_param:
            url = _with_query(url, tgWebAppStartParam=start_param)
        return InlineKeyboardButton(text=text, web_app=WebAppInfo(url=url))
    return InlineKeyboardButton(text=text, url=mini_app_link(settings, start_param))


def pay_page_url(public_url: str, deal_id: int) -> str:
    """The page that pays a deal's escrow (`chainfluence.pages`), served by the API."""
    return f"{public_url.rstrip('/')}/app/pay/{deal_id}"


def page_button(text: str, url: str) -> InlineKeyboardButton:
    """A button opening one of the API's pages: inside Telegram (a `web_app` button, which gives
    the page initData to log in with) when the page is on https, as Telegram requires; else a
    link that opens the browser, where the page offers the bot's link to log in."""
    from aiogram.types import InlineKeyboardButton, WebAppInfo

    if url.startswith("https://"):
        return InlineKeyboardButton(text=text, web_app=WebAppInfo(url=url))
    return InlineKeyboardButton(text=text, url=url)


def open_app_keyboard(
    settings: TelegramSettings, text: str, start_param: str | None, *, pay_url: str | None = None
) -> InlineKeyboardMarkup:
    from aiogram.types import InlineKeyboardMarkup

    rows = [[open_app_button(settings, text, start_param)]]
    if pay_url is not None:
        rows.append([page_button("Pay", pay_url)])
    return InlineKeyboardMarkup(inline_keyboard=rows)
