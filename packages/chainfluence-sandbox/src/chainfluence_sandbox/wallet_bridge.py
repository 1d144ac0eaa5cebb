"""A sandbox wallet as a TON Connect JS-bridge wallet, for the pages under /app in a browser.

``GET /v1/sandbox/wallet-app/{userId}/bridge.js`` is a script that, run in a page before TON
Connect's SDK loads, injects ``window.chainfluenceSandboxWallet.tonconnect``: the JS bridge of
TON Connect's protocol (``deviceInfo``, ``walletInfo``, ``protocolVersion`` 2,
``isWalletBrowser``, ``connect``, ``restoreConnection``, ``send``, ``listen``), as a wallet's
in-app browser injects it. Its ``connect`` and ``send`` call the two routes below, where the
user's sandbox wallet (``keyring``, made on first use) answers as a wallet app does: it signs the
ton_proof for the app's domain (the host of the URL its manifest names) and signs and sends a
``sendTransaction`` through the wallet's contract on the local chain. Sandbox only: the keys are
the sandbox's own.

The wallet says it is on mainnet (chain ``-239``, the config the local chain runs) unless the
script is asked for another chain (``bridge.js?network=-3``): as a wallet switched to another
network would, it then names that chain in its ``ton_addr``, so the pages' ``wrong-network``
state can be shown with a wallet on a chain the deployment does not link.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from chainfluence.kit.schemas import TgId
from chainfluence_sandbox.exceptions import EmulatorNotRunning, WalletAppRefused
from chainfluence_sandbox.services import SandboxServices
from chainfluence_sandbox.ton_connect import (
    MAINNET,
    TransactionRefused,
    send_signed,
    sign_transaction,
    ton_proof_reply,
)

__all__ = ["wallet_bridge_router"]

BRIDGE_KEY = "chainfluenceSandboxWallet"
# TON Connect names a network by its global id, a signed 32-bit integer written in decimal.
CHAIN_ID_PATTERN = r"^-?[0-9]{1,10}$"


class ConnectRequest(BaseModel):
    """TON Connect's connect request items, and the URL the app's manifest names."""

    model_config = ConfigDict(populate_by_name=True)

    app_url: str = Field(alias="appUrl", min_length=1, max_length=2000)
    items: list[dict[str, Any]] = Field(max_length=8)
    network: str = Field(default=MAINNET, pattern=CHAIN_ID_PATTERN)


def wallet_bridge_router(services: SandboxServices) -> APIRouter:
    router = APIRouter(prefix="/sandbox/wallet-app", tags=["sandbox"])

    def ton() -> Any:
        if services.ton is None or services.keyring is None:
            raise EmulatorNotRunning("TON chain", "CHAINFLUENCE_TON__API_URL")
        return services.ton.chain, services.keyring

    @router.get("/wallets-v2.json")
    async def wallets_list(request: Request) -> list[dict[str, Any]]:
        """TON Connect's wallets list (the shape of config.ton.org/wallets-v2.json) naming the
        sandbox wallet: TON Connect's SDK offers an injected wallet only when its list names its
        bridge key. The sandbox's pages read this list instead of TON's."""
        base = str(request.base_url).rstrip("/")
        return [
            {
                "app_name": BRIDGE_KEY,
                "name": "Sandbox wallet",
                "image": base + "/app/static/icon.svg",
                "about_url": base + "/docs",
                "platforms": ["chrome", "firefox", "safari"],
                "bridge": [{"type": "js", "key": BRIDGE_KEY}],
            }
        ]

    @router.get("/{user_id}/bridge.js", response_class=Response)
    async def bridge_script(
        user_id: TgId,
        network: Annotated[
            str,
            Query(
                pattern=CHAIN_ID_PATTERN,
                description="The chain the wallet says it is on (TON Connect's network id)",
            ),
        ] = MAINNET,
    ) -> Response:
        """The JS bridge to inject into a page: the user's sandbox wallet as a TON Connect
        wallet whose in-app browser shows the page."""
        script = (
            _BRIDGE_JS.replace("__USER_ID__", json.dumps(str(user_id)))
            .replace("__NETWORK__", json.dumps(network))
            .replace("__BRIDGE_KEY__", BRIDGE_KEY)
        )
        return Response(script, media_type="text/javascript")

    @router.post("/{user_id}/connect")
    async def connect(user_id: TgId, request: ConnectRequest) -> dict[str, Any]:
        """Answer TON Connect's connect request: the account (`ton_addr`, on the chain
        `network` names) and, when asked, a ton_proof signed for the host of `appUrl` (the
        app's manifest `url`)."""
        _, keyring = ton()
        key = keyring.get_or_create(user_id)
        state_init: bytes = key.wallet.state_init.serialize().to_boc()
        items: list[dict[str, Any]] = [
            {
                "name": "ton_addr",
                "address": key.raw_address,
                "network": request.network,
                "publicKey": key.public_key.hex(),
                "walletStateInit": base64.b64encode(state_init).decode(),
            }
        ]
        asked = {item.get("name"): item for item in request.items}
        if "ton_proof" in asked:
            domain = urlsplit(request.app_url).hostname
            payload = asked["ton_proof"].get("payload")
            if not domain or not isinstance(payload, str) or not payload:
                raise WalletAppRefused("the ton_proof request needs an app URL and a payload")
            reply = ton_proof_reply(key, payload=payload, domain=domain)
            items.append({"name": "ton_proof", "proof": reply["proof"]})
        return {"items": items}

    @router.post("/{user_id}/send")
    async def send(user_id: TgId, request: Annotated[dict[str, Any], Body()]) -> dict[str, str]:
        """Sign and send a `sendTransaction` request (TON Connect's wire shape, `valid_until`)
        from the user's sandbox wallet; the answer's `boc` is the external message sent."""
        chain, keyring = ton()
        key = keyring.for_user(user_id)
        if key is None:
            raise WalletAppRefused("this wallet app has no wallet yet: connect first")
        transaction = dict(request)
        if "valid_until" in transaction:
            transaction["validUntil"] = transaction.pop("valid_until")
        try:
            message = await sign_transaction(chain, key, transaction)
            send_signed(chain, message)
        except TransactionRefused as exc:
            raise WalletAppRefused(str(exc)) from None
        boc: bytes = message.to_boc()  # type: ignore[no-untyped-call]
        return {"boc": base64.b64encode(boc).decode()}

    return router


_BRIDGE_JS = """(() => {
  const userId = __USER_ID__;
  const network = __NETWORK__;
  const base = window.location.origin + '/v1/sandbox/wallet-app/' + userId;
  const storageKey = 'chainfluence.sandboxWallet.' + userId;
  const deviceInfo = {
    platform: 'browser', appName: '__BRIDGE_KEY__', appVersion: '1.0.0', maxProtocolVersion: 2,
    features: ['SendTransaction', { name: 'SendTransaction', maxMessages: 4 }],
  };
  let nextId = 0;
  const listeners = [];
  async function call(path, body) {
    const response = await fetch(base + path, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    const data = await response.json();
    if (!response.ok) throw new Error(data.message || ('HTTP ' + response.status));
    return data;
  }
  function connected(items) {
    return { event: 'connect', id: nextId++, payload: { items, device: deviceInfo } };
  }
  function failed(message) {
    return { event: 'connect_error', id: nextId++, payload: { code: 0, message } };
  }
  window.__BRIDGE_KEY__ = { tonconnect: {
    deviceInfo,
    walletInfo: {
      name: 'Sandbox wallet', app_name: '__BRIDGE_KEY__',
      image: window.location.origin + '/app/static/icon.svg',
      about_url: window.location.origin + '/docs', platforms: ['chrome', 'firefox', 'safari'],
    },
    protocolVersion: 2,
    isWalletBrowser: true,
    async connect(protocolVersion, request) {
      try {
        const manifest = await (await fetch(request.manifestUrl)).json();
        const answer = await call('/connect', {
          appUrl: manifest.url, items: request.items, network,
        });
        const account = answer.items.filter((item) => item.name === 'ton_addr');
        sessionStorage.setItem(storageKey, JSON.stringify(account));
        return connected(answer.items);
      } catch (error) {
        return failed(String(error.message || error));
      }
    },
    async restoreConnection() {
      const account = sessionStorage.getItem(storageKey);
      return account ? connected(JSON.parse(account)) : failed('not connected');
    },
    async send(request) {
      if (request.method === 'disconnect') {
        sessionStorage.removeItem(storageKey);
        return { id: request.id, result: {} };
      }
      if (request.method !== 'sendTransaction') {
        return { id: request.id, error: { code: 400, message: 'method not supported' } };
      }
      try {
        const answer = await call('/send', JSON.parse(request.params[0]));
        return { id: request.id, result: answer.boc };
      } catch (error) {
        return { id: request.id, error: { code: 1, message: String(error.message || error) } };
      }
    },
    listen(callback) {
      listeners.push(callback);
      return () => listeners.splice(listeners.indexOf(callback), 1);
    },
    disconnect() {
      sessionStorage.removeItem(storageKey);
    },
  } };
})();
"""
