"""Run the emulator on its own: `python -m chainfluence_sandbox.telegram --seed --port 8081`."""

from __future__ import annotations

import argparse

import uvicorn

from chainfluence_sandbox.telegram.app import create_telegram_emulator
from chainfluence_sandbox.telegram.seed import seed_demo


def main() -> None:
    parser = argparse.ArgumentParser(description="Telegram Bot API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--bot-username", default="chainfluence_sandbox_bot")
    parser.add_argument("--token", default=None, help="'<id>:<secret>'; generated if absent")
    parser.add_argument("--seed", action="store_true", help="create the demo world")
    args = parser.parse_args()

    app, state = create_telegram_emulator()
    bot = state.add_bot(username=args.bot_username, first_name="Chainfluence", token=args.token)
    if args.seed:
        seed_demo(state, bot=bot)
    base_url = f"http://{args.host}:{args.port}"
    state.config.public_base_url = base_url
    print(f"Telegram emulator at {base_url}  bot @{bot.user.username}  token {bot.token}")
    print(f"Control API docs: {base_url}/docs")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
