"""Login shapes (API.md: `{initData}` → `{access_token, token_type, expires_in, user}`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from chainfluence.users.schemas import User


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    init_data: str = Field(alias="initData", min_length=1, max_length=8192)


class LoginResponse(BaseModel):
    # snake_case here on purpose: the Mini App reads these OAuth-style names.
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int
    user: User
