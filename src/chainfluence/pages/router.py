"""/app/wallet and /app/pay/{dealId}: the pages that link a wallet and pay a deal's escrow.

Each page is a small HTML document carrying its settings as JSON and the bundle built from
`clients/pages/` with TON Connect's own UI library (`make pages`; committed, as the escrow's BOC
is, and rebuilt and compared by `make pages-check`). The pages talk to the API like any client:
they log in with Telegram's initData, link the wallet through the ton_proof challenge, ask
`POST /v1/deals/{dealId}/payment` for the TON Connect request and follow the deal over
`GET /v1/events`. Nothing here reads or writes the database.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from chainfluence.config import TonNetwork
from chainfluence.dependencies import SettingsDep
from chainfluence.kit.schemas import IntId
from chainfluence.telegram.links import mini_app_link
from chainfluence.ton.ton_proof import TonChain

router = APIRouter(prefix="/app", include_in_schema=False)

PAGES_PATH = "/app"
MANIFEST_PATH = "/app/tonconnect-manifest.json"
SANDBOX_WALLETS_LIST = "/v1/sandbox/wallet-app/wallets-v2.json"
_STATIC = resources.files("chainfluence.pages") / "static"
# What the pages load, with their content types; nothing else under /app/static is served.
_ASSETS = {
    "pages.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}

_DOCUMENT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Chainfluence</title>
<link rel="icon" href="/app/static/icon.svg">
<style>
body {{ font-family: system-ui, sans-serif; margin: 0 auto; max-width: 44rem; padding: 1rem;
  color: #111; background: #fff; }}
h1 {{ font-size: 1.4rem; }}
#status {{ padding: .8rem 1rem; border-radius: .5rem; background: #eef3fb; margin: 1rem 0; }}
#status[data-kind=ok] {{ background: #e5f6e8; }}
#status[data-kind=error] {{ background: #fde8e8; }}
#status[data-kind=warning] {{ background: #fff4d6; }}
dl {{ display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }}
dt {{ color: #555; }} dd {{ margin: 0; overflow-wrap: anywhere; }}
code {{ font-size: .85em; }}
button {{ font-size: 1rem; padding: .6rem 1.2rem; border-radius: .5rem; border: 0;
  background: #0098ea; color: #fff; cursor: pointer; }}
button[disabled] {{ background: #9cc9e3; cursor: default; }}
</style>
</head>
<body>
<h1>{title}</h1>
<div id="ton-connect"></div>
<div id="status" data-state="loading">Loading…</div>
<div id="actions"></div>
<div id="details"></div>
<script type="application/json" id="chainfluence-config">{config}</script>
<script src="/app/static/pages.js"></script>
</body>
</html>
"""


def accepted_chains(network: TonNetwork) -> list[str]:
    """The TON Connect chain ids whose wallets the pages take (as `wallets.service` links
    them): mainnet's or testnet's; the sandbox both (its local chain runs mainnet's config)."""
    if network is TonNetwork.mainnet:
        return [str(int(TonChain.mainnet))]
    if network is TonNetwork.testnet:
        return [str(int(TonChain.testnet))]
    return [str(int(TonChain.mainnet)), str(int(TonChain.testnet))]


def _document(title: str, config: dict[str, Any]) -> HTMLResponse:
    # `</` cannot end the script element early: JSON allows escaping the slash.
    payload = json.dumps(config, sort_keys=True).replace("</", "<\\/")
    body = _DOCUMENT.format(title=html.escape(title), config=payload)
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})


def _config(request: Request, settings: SettingsDep, page: str, start_param: str) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    config: dict[str, Any] = {
        "page": page,
        "manifestUrl": base + MANIFEST_PATH,
        "network": settings.ton.network.value,
        "acceptedChains": accepted_chains(settings.ton.network),
        # Outside Telegram there is no initData: the page offers the bot's Mini App link.
        "botLink": mini_app_link(settings.telegram, start_param),
    }
    if settings.is_sandbox:
        # The sandbox's wallets list names its own JS-bridge wallet (chainfluence_sandbox's
        # wallet_bridge); without the emulators it is absent and TON Connect's SDK falls back to
        # its built-in list. Production uses TON's official list.
        config["walletsListSource"] = SANDBOX_WALLETS_LIST
    return config


@router.get("/wallet", response_class=HTMLResponse)
async def wallet_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return _document("Your TON wallet", _config(request, settings, "wallet", "wallet"))


@router.get("/pay/{deal_id}", response_class=HTMLResponse)
async def pay_page(deal_id: IntId, request: Request, settings: SettingsDep) -> HTMLResponse:
    config = _config(request, settings, "pay", f"deal_{deal_id}")
    config["dealId"] = deal_id
    return _document(f"Pay deal #{deal_id}", config)


@router.get("/tonconnect-manifest.json")
async def tonconnect_manifest(request: Request) -> JSONResponse:
    """TON Connect's app manifest: wallets show this name and icon when asked to connect."""
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {
            "url": base,
            "name": "Chainfluence",
            "iconUrl": base + "/app/static/icon.svg",
        }
    )


@router.get("/static/{name}")
async def asset(name: str) -> Response:
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status_code=404)
    content = (_STATIC / name).read_bytes()
    return Response(content, media_type=media_type, headers={"Cache-Control": "no-cache"})
