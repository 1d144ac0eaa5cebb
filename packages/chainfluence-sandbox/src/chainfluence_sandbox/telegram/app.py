"""The emulator as an ASGI app: Bot API at /bot<token>/<method>, files, and the control API.

    app, state = create_telegram_emulator()
    bot = state.add_bot(username="chainfluence_bot")
    async with serve_in_background(app) as base_url:
        api = TelegramAPIServer.from_base(base_url)   # aiogram talks to it unchanged

or, with the shutdown handled (pending long polls released, webhook deliveries stopped):

    async with run_telegram_emulator() as emulator:
        emulator.state.add_bot(username="chainfluence_bot")
        session = AiohttpSession(api=emulator.api_server)
"""

from __future__ import annotations

import contextlib
import mimetypes
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiogram.client.telegram import TelegramAPIServer
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from chainfluence.kit.serving import serve_in_background
from chainfluence_sandbox.telegram.control import control_router
from chainfluence_sandbox.telegram.errors import EmulatorUsageError, TelegramError, unauthorized
from chainfluence_sandbox.telegram.methods import execute
from chainfluence_sandbox.telegram.params import read_params
from chainfluence_sandbox.telegram.state import EmulatorConfig, EmulatorState


def create_telegram_emulator(
    state: EmulatorState | None = None, *, config: EmulatorConfig | None = None
) -> tuple[FastAPI, EmulatorState]:
    """An app serving `state` (a fresh one unless given). Add bots with `state.add_bot(...)`."""
    state = state or EmulatorState(config)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await state.close()

    app = FastAPI(
        title="Telegram Bot API emulator",
        description="Local stand-in for api.telegram.org; see the /control routes.",
        lifespan=lifespan,
    )

    async def bot_api(request: Request) -> Response:
        bot = state.bot_by_token(request.path_params["token"])
        if bot is None:
            return JSONResponse(unauthorized().payload(), status_code=401)
        try:
            params = await read_params(request)
        except TelegramError as error:
            return JSONResponse(error.payload(), status_code=error.error_code)
        body = await execute(
            state, bot, request.path_params["method"], params, disconnected=request.is_disconnected
        )
        return JSONResponse(body, status_code=200 if body["ok"] else body["error_code"])

    async def download(request: Request) -> Response:
        if state.bot_by_token(request.path_params["token"]) is None:
            return JSONResponse(unauthorized().payload(), status_code=401)
        stored = state.files_by_path.get(request.path_params["file_path"])
        if stored is None:
            body = {"ok": False, "error_code": 404, "description": "Not Found"}
            return JSONResponse(body, status_code=404)
        media_type = mimetypes.guess_type(stored.file_path)[0] or "application/octet-stream"
        return Response(stored.data, media_type=media_type)

    async def usage_error(_: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, EmulatorUsageError) else 400
        return JSONResponse({"detail": str(exc)}, status_code=status)

    app.add_route("/bot{token}/{method}", bot_api, methods=["GET", "POST"], include_in_schema=False)
    app.add_route("/file/bot{token}/{file_path:path}", download, methods=["GET"])
    app.add_exception_handler(EmulatorUsageError, usage_error)
    app.include_router(control_router(state))
    app.state.telegram = state
    return app, state


@dataclass
class RunningEmulator:
    base_url: str
    state: EmulatorState

    @property
    def api_server(self) -> TelegramAPIServer:
        """Pass to `AiohttpSession(api=...)` so aiogram calls the emulator."""
        return TelegramAPIServer.from_base(self.base_url)


@contextlib.asynccontextmanager
async def run_telegram_emulator(
    state: EmulatorState | None = None,
    *,
    config: EmulatorConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> AsyncIterator[RunningEmulator]:
    """Serve the emulator on a loopback port for the duration of the block."""
    app, state = create_telegram_emulator(state, config=config)
    async with serve_in_background(app, host=host, port=port) as base_url:
        state.config.public_base_url = base_url
        try:
            yield RunningEmulator(base_url=base_url, state=state)
        finally:
            # Release long polls first: the server waits for open requests before it stops.
            await state.close()
