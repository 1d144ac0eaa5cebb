"""Operator commands in the bot: list open disputes and decide one.

    /disputes                       the disputes waiting for a decision
    /resolve <deal> release         pay the publisher
    /resolve <deal> refund          refund the advertiser
    /resolve <deal> split <bps>     the publisher gets <bps>/10000 of the price, the rest goes back
    /evidence <deal>                the deal's signed evidence pack, as a document

Only Telegram ids listed as operators in the settings may use them; anyone else is told so.
The decision goes through the same service as the admin API, so it lands on the timeline with
its author.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.admin import service as admin
from chainfluence.deals import actions
from chainfluence.deals.state_machine import Actor, Role
from chainfluence.evidence import service as evidence
from chainfluence.kit.db import after_commit
from chainfluence.kit.errors import AppError
from chainfluence.kit.money import format_ton
from chainfluence.models import Deal, User
from chainfluence.ports import Configured

USAGE = "Usage: /resolve <deal id> release | refund | split <publisher share in bps, 0-10000>"
EVIDENCE_USAGE = "Usage: /evidence <deal id>"
NOT_AN_OPERATOR = "Only Chainfluence operators can use this command."


def _reply(session: AsyncSession, message: Message, text: str) -> None:
    async def send() -> None:
        await message.answer(text)

    after_commit(session, send)


async def list_disputes(
    message: Message, user: User, runtime: Configured, session: AsyncSession
) -> None:
    if not runtime.settings.is_operator(user.id):
        _reply(session, message, NOT_AN_OPERATOR)
        return
    deals = list((await session.execute(admin.disputes().limit(20))).scalars())
    if not deals:
        _reply(session, message, "No disputes are waiting for a decision.")
        return
    lines = [
        f"#{d.id} · {format_ton(d.price_nano)} TON · from {d.disputed_from or '?'}: "
        f"{(d.dispute_reason or 'no reason given')[:120]}"
        for d in deals
    ]
    _reply(
        session,
        message,
        "Open disputes:\n" + "\n".join(lines) + f"\n\n{USAGE}\nThe record: {EVIDENCE_USAGE}",
    )


async def send_evidence(
    message: Message,
    command: CommandObject,
    user: User,
    runtime: Configured,
    session: AsyncSession,
) -> None:
    """The deal's evidence pack, built and signed now, sent to the operator as a document."""
    if not runtime.settings.is_operator(user.id):
        _reply(session, message, NOT_AN_OPERATOR)
        return
    argument = (command.args or "").strip().lstrip("#")
    if not argument.isdigit():
        _reply(session, message, EVIDENCE_USAGE)
        return
    deal = await session.get(Deal, int(argument))
    if deal is None:
        _reply(session, message, f"There is no deal #{argument}.")
        return
    pack = await evidence.build_pack(session, deal, runtime.settings)
    document = BufferedInputFile(evidence.pack_bytes(pack), evidence.evidence_file_name(deal.id))
    caption = f"Deal #{deal.id} ({deal.status.value}): its signed evidence pack."

    async def send() -> None:
        await message.answer_document(document, caption=caption)

    after_commit(session, send)


def parse_resolution(args: str | None) -> tuple[int, str, int | None]:
    parts = (args or "").split()
    if len(parts) < 2 or not parts[0].lstrip("#").isdigit():
        raise ValueError(USAGE)
    deal_id, outcome = int(parts[0].lstrip("#")), parts[1].lower()
    if outcome == "split":
        if len(parts) != 3 or not parts[2].isdigit() or not 0 <= int(parts[2]) <= 10_000:
            raise ValueError(USAGE)
        return deal_id, outcome, int(parts[2])
    if outcome not in ("release", "refund") or len(parts) != 2:
        raise ValueError(USAGE)
    return deal_id, outcome, None


async def resolve(
    message: Message,
    command: CommandObject,
    user: User,
    runtime: Configured,
    session: AsyncSession,
) -> None:
    if not runtime.settings.is_operator(user.id):
        _reply(session, message, NOT_AN_OPERATOR)
        return
    try:
        deal_id, outcome, share = parse_resolution(command.args)
    except ValueError as exc:
        _reply(session, message, str(exc))
        return
    try:
        async with session.begin_nested():
            deal = await actions.resolve_dispute(
                session,
                deal_id,
                Actor(Role.operator, user.id),
                outcome=outcome,
                publisher_share_bps=share,
                note=f"Decided by an operator in the bot ({outcome}).",
            )
    except AppError as exc:
        _reply(session, message, f"Deal #{deal_id}: {exc.message}")
        return
    _reply(
        session, message, f"Deal #{deal.id}: decided ({outcome}); it is now {deal.status.value}."
    )


def router() -> Router:
    operators = Router(name="operators")
    operators.message.register(list_disputes, Command("disputes"), F.chat.type == "private")
    operators.message.register(resolve, Command("resolve"), F.chat.type == "private")
    operators.message.register(send_evidence, Command("evidence"), F.chat.type == "private")
    return operators
