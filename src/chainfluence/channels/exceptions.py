"""Channel errors: each says what went wrong and what the person can do about it."""

from __future__ import annotations

from chainfluence.kit.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unprocessable,
)


class ChannelNotFound(NotFound):
    code = "channel_not_found"

    def __init__(self) -> None:
        super().__init__("No such channel.")


class TelegramChatNotFound(NotFound):
    code = "telegram_channel_not_found"

    def __init__(self, reference: str) -> None:
        super().__init__(
            f"Telegram has no channel {reference} that the bot can see. Check the username; "
            "for a private channel, first add the bot as an administrator, then use the "
            "channel's numeric id."
        )


class NotAChannel(Unprocessable):
    code = "not_a_channel"

    def __init__(self, reference: str, kind: str) -> None:
        super().__init__(
            f"{reference} is a {kind}, not a channel. Only Telegram channels can be listed."
        )


class BotNotAdmin(Forbidden):
    code = "bot_not_admin"

    def __init__(self, title: str, bot_username: str | None, *, banned: bool = False) -> None:
        bot = f"@{bot_username}" if bot_username else "our bot"
        what = (
            f"{bot} was removed from {title} and banned"
            if banned
            else (f"{bot} is not an administrator of {title}")
        )
        super().__init__(
            f"{what}. In the channel's settings, add {bot} as an administrator with the rights "
            "to post, edit and delete messages, then try again."
        )


class BotCannotPost(Forbidden):
    code = "bot_cannot_post"

    def __init__(self, title: str, missing: list[str]) -> None:
        super().__init__(
            f"The bot is an administrator of {title} but lacks the right to "
            f"{_rights(missing)}. Give it these rights in the channel's administrator "
            "settings, then try again."
        )


class BotCannotEditOrDelete(Forbidden):
    code = "bot_cannot_edit_or_delete"

    def __init__(self, title: str, missing: list[str]) -> None:
        super().__init__(
            f"The bot can post in {title} but lacks the right to {_rights(missing)}, which it "
            "needs to manage ad posts. Give it these rights in the channel's administrator "
            "settings, then try again."
        )


class NotChannelAdmin(Forbidden):
    code = "not_channel_admin"

    def __init__(self, title: str) -> None:
        super().__init__(
            f"You are not an administrator of {title} on Telegram. Only its creator or an "
            "administrator can list it or act for it."
        )


class ChannelListedByOther(Conflict):
    code = "channel_already_listed"

    def __init__(self, title: str) -> None:
        super().__init__(
            f"{title} is already listed by another administrator. Ask them to manage it, or "
            "to remove their listing first."
        )


class NotChannelManager(Forbidden):
    code = "not_channel_manager"

    def __init__(self, action: str = "manage this channel") -> None:
        super().__init__(
            f"Only the channel's owner or one of its Telegram administrators with the rights to "
            f"post, edit and delete messages can {action}."
        )


class NotChannelOwner(Forbidden):
    code = "not_channel_owner"

    def __init__(self, action: str) -> None:
        super().__init__(f"Only the user who listed the channel can {action}.")


class ChannelGone(Conflict):
    code = "channel_gone"

    def __init__(self, title: str) -> None:
        super().__init__(
            f"The bot can no longer reach {title}: the channel was deleted or the bot was "
            "removed from it. Add the bot back as an administrator to continue."
        )


class BotLostRights(Conflict):
    code = "bot_lost_rights"

    def __init__(self, title: str, missing: list[str]) -> None:
        super().__init__(
            f"The bot no longer has the right to {_rights(missing)} in {title}. Restore its "
            "administrator rights to continue."
        )


class ChannelInactive(Conflict):
    code = "channel_inactive"

    def __init__(self, title: str) -> None:
        super().__init__(f"{title} is not active; reactivate it first.")


class ChannelHasOpenDeals(Conflict):
    code = "channel_has_open_deals"

    def __init__(self, count: int) -> None:
        deals = "deal is" if count == 1 else "deals are"
        super().__init__(
            f"The channel cannot be deleted while {count} {deals} still open; finish or cancel "
            "them first."
        )


class InvalidChannelUpdate(Unprocessable):
    code = "invalid_channel_update"


class StatsRefreshTooSoon(TooManyRequests):
    code = "stats_refresh_too_soon"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Stats for this channel were refreshed moments ago; try again in {retry_after} "
            "seconds.",
            retry_after=retry_after,
        )


class TelegramUnavailable(ServiceUnavailable):
    code = "telegram_unavailable"

    def __init__(self) -> None:
        super().__init__("Telegram is not answering right now; please try again in a minute.")


class TelegramBotNotConfigured(TelegramUnavailable):
    """Not a passing outage, but callers that retry on one treat it the same way."""

    code = "telegram_bot_not_configured"

    def __init__(self) -> None:
        ServiceUnavailable.__init__(
            self,
            "No Telegram bot is configured, so channels cannot be checked: set "
            "CHAINFLUENCE_TELEGRAM__BOT_TOKEN (in sandbox mode, `chainfluence serve` runs its own "
            "Telegram emulator, and `chainfluence sandbox up` prints the settings that point "
            "`chainfluence api` and `worker` at one).",
        )


_RIGHT_NAMES = {
    "can_post_messages": "post messages",
    "can_edit_messages": "edit messages of others",
    "can_delete_messages": "delete messages of others",
}


def _rights(missing: list[str]) -> str:
    names = [_RIGHT_NAMES.get(m, m) for m in missing]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]
