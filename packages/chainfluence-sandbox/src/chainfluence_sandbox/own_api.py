"""Our own public API, called the way a client calls it over HTTP (in-process under `serve`).

The sandbox helpers act *as people*: they log in with initData, ask for a ton_proof challenge,
link a wallet, ask for a payment request. Going through the real routes (middleware, validation,
the request's transaction, the same errors) rather than their services means a helper can never
do what the API would refuse, and stays correct when the routes change.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from chainfluence_sandbox.exceptions import ApiCallRefused, ApiNotAnswering

__all__ = ["OwnApi"]


class OwnApi:
    def __init__(self, app: Any = None, *, base_url: str | None = None) -> None:
        """In-process through ``app`` (`chainfluence serve`), or over HTTP at ``base_url``
        (`chainfluence sandbox up`, where the API runs as other processes)."""
        if base_url is not None:
            self._client = httpx.AsyncClient(base_url=base_url, timeout=30)
        else:
            self._client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://sandbox.internal"
            )

    async def __aenter__(self) -> OwnApi:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    async def call(
        self, method: str, path: str, *, token: str | None = None, json: Any = None
    ) -> Any:
        """The answer's JSON; a refusal raises ``ApiCallRefused`` with its status and code."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = await self._client.request(method, path, headers=headers, json=json)
        except httpx.TransportError as exc:
            raise ApiNotAnswering(
                f"{method} {path}", str(self._client.base_url), str(exc) or type(exc).__name__
            ) from None
        if response.is_success:
            return response.json()
        try:
            body = response.json()
            message, code = str(body["message"]), str(body["code"])
        except (ValueError, KeyError, TypeError):
            message, code = response.text or response.reason_phrase, "error"
        raise ApiCallRefused(
            f"{method} {path}", status_code=response.status_code, message=message, code=code
        )
