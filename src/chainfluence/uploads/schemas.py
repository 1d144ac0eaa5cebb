"""Upload shapes (API.md: `{fileId, url}`)."""

from __future__ import annotations

from chainfluence.kit.schemas import Schema, UtcDateTime


class Upload(Schema):
    file_id: str
    url: str
    content_type: str
    size: int
    width: int
    height: int
    created_at: UtcDateTime
