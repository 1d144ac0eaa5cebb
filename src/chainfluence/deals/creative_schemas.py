"""Creative shapes: a draft as the parties send it, and a version as the API shows it.

Formatting is Telegram's own: plain text plus `entities` (offsets and lengths in UTF-16 code
units, as Telegram counts them), so what the parties approve is exactly what the bot sends.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlparse

from pydantic import Field, field_validator, model_validator

from chainfluence.kit.schemas import RequestSchema, Schema, TgId, UtcDateTime
from chainfluence.models import CreativeStatus

# Telegram's limits: a text message, a photo caption, a media group, an inline keyboard.
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_IMAGES = 10
MAX_BUTTONS = 8

EntityType = Literal[
    "bold",
    "italic",
    "underline",
    "strikethrough",
    "spoiler",
    "code",
    "pre",
    "text_link",
    "blockquote",
    "expandable_blockquote",
    "custom_emoji",
    "mention",
    "hashtag",
    "cashtag",
    "bot_command",
    "url",
    "email",
    "phone_number",
]


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _check_link(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in {"https", "http", "tg"} or not (parsed.netloc or parsed.path):
        raise ValueError("links must be http(s) or tg:// URLs")
    return url


class MessageEntity(RequestSchema):
    type: EntityType
    offset: int = Field(ge=0)
    length: int = Field(ge=1)
    url: str | None = Field(default=None, max_length=2048)
    language: str | None = Field(default=None, max_length=64)
    custom_emoji_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _link_has_url(self) -> MessageEntity:
        if self.type == "text_link":
            if not self.url:
                raise ValueError("a text_link entity needs a url")
            _check_link(self.url)
        elif self.url is not None:
            raise ValueError("only text_link entities carry a url")
        return self


class UrlButton(RequestSchema):
    text: str = Field(min_length=1, max_length=64)
    url: str = Field(min_length=1, max_length=2048)

    @field_validator("url")
    @classmethod
    def _valid_url(cls, url: str) -> str:
        return _check_link(url)


class CreativeDraft(RequestSchema):
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    entities: list[MessageEntity] = Field(default_factory=list, max_length=100)
    images: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=MAX_IMAGES
    )
    buttons: list[UrlButton] = Field(default_factory=list, max_length=MAX_BUTTONS)

    @model_validator(mode="after")
    def _fits_telegram(self) -> CreativeDraft:
        length = utf16_length(self.text)
        if self.images and length > MAX_CAPTION:
            raise ValueError(f"with images the text is a caption: at most {MAX_CAPTION} characters")
        if length > MAX_TEXT:
            raise ValueError(f"the text is longer than Telegram's {MAX_TEXT} characters")
        for entity in self.entities:
            if entity.offset + entity.length > length:
                raise ValueError("an entity reaches past the end of the text")
        if len(set(self.images)) != len(self.images):
            raise ValueError("an image is listed twice")
        return self


class ChangeRequest(RequestSchema):
    comment: str = Field(min_length=1, max_length=2000)


class Creative(Schema):
    version: int
    author_id: TgId | None
    text: str
    entities: list[dict[str, object]]
    images: list[str]
    buttons: list[dict[str, object]]
    status: CreativeStatus
    content_hash: str
    review_comment: str | None
    reviewed_by: TgId | None
    reviewed_at: UtcDateTime | None
    created_at: UtcDateTime
