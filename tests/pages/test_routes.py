"""The pages under /app as HTTP serves them: each page's document and settings, the committed
bundle, TON Connect's manifest, and nothing else under /app/static."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

import chainfluence.pages

BUNDLE = Path(chainfluence.pages.__file__).parent / "static" / "pages.js"


def _config(response: httpx.Response) -> dict[str, object]:
    match = re.search(
        r'<script type="application/json" id="chainfluence-config">(.*?)</script>', response.text
    )
    assert match is not None, response.text
    config: dict[str, object] = json.loads(match.group(1))
    return config


async def test_pay_page_names_its_deal_and_how_to_log_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/app/pay/42")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Pay deal #42 · Chainfluence</title>" in response.text
    assert '<script src="/app/static/pages.js"></script>' in response.text
    assert _config(response) == {
        "page": "pay",
        "dealId": 42,
        "manifestUrl": "http://testserver/app/tonconnect-manifest.json",
        "network": "sandbox",
        "acceptedChains": ["-239", "-3"],
        "botLink": "https://t.me/chainfluence_bot/app?startapp=deal_42",
        "walletsListSource": "/v1/sandbox/wallet-app/wallets-v2.json",
    }


async def test_wallet_page_settings(client: httpx.AsyncClient) -> None:
    response = await client.get("/app/wallet")

    assert response.status_code == 200
    config = _config(response)
    assert config["page"] == "wallet"
    assert "dealId" not in config
    assert config["botLink"] == "https://t.me/chainfluence_bot/app?startapp=wallet"


async def test_pay_page_refuses_a_deal_id_that_is_not_a_number(client: httpx.AsyncClient) -> None:
    response = await client.get("/app/pay/abc")

    assert response.status_code == 422


async def test_the_bundle_served_is_the_committed_one(client: httpx.AsyncClient) -> None:
    response = await client.get("/app/static/pages.js")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.content == BUNDLE.read_bytes()


async def test_only_the_pages_assets_are_served(client: httpx.AsyncClient) -> None:
    for path in ("/app/static/router.py", "/app/static/..%2Frouter.py", "/app/static/x.js"):
        response = await client.get(path)
        assert response.status_code == 404, path


async def test_tonconnect_manifest_names_the_app_at_its_url(client: httpx.AsyncClient) -> None:
    response = await client.get("/app/tonconnect-manifest.json")

    assert response.status_code == 200
    assert response.json() == {
        "url": "http://testserver",
        "name": "Chainfluence",
        "iconUrl": "http://testserver/app/static/icon.svg",
    }
    icon = await client.get("/app/static/icon.svg")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
