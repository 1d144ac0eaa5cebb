"""Telegram Bot API emulator: a faithful local api.telegram.org for tests and sandbox mode.

See README.md in this package for the control API and the Telegram rules it reproduces.
"""

from chainfluence_sandbox.telegram.app import (
    RunningEmulator,
    create_telegram_emulator,
    run_telegram_emulator,
)
from chainfluence_sandbox.telegram.client import EmulatorControlError, TelegramEmulatorControl
from chainfluence_sandbox.telegram.seed import DemoWorld, seed_demo
from chainfluence_sandbox.telegram.state import (
    AdminRights,
    BotAccount,
    Chat,
    ChatType,
    EmulatorConfig,
    EmulatorState,
    MemberStatus,
    Message,
    User,
)

__all__ = [
    "AdminRights",
    "BotAccount",
    "Chat",
    "ChatType",
    "DemoWorld",
    "EmulatorConfig",
    "EmulatorControlError",
    "EmulatorState",
    "MemberStatus",
    "Message",
    "RunningEmulator",
    "TelegramEmulatorControl",
    "User",
    "create_telegram_emulator",
    "run_telegram_emulator",
    "seed_demo",
]
