"""Authentication failures: always 401 with a sentence saying what to do."""

from __future__ import annotations

from chainfluence.kit.errors import Forbidden, Unauthorized


class InvalidInitData(Unauthorized):
    code = "invalid_init_data"

    def __init__(self, message: str) -> None:
        super().__init__(message, code=self.code)


class NotAuthenticated(Unauthorized):
    code = "not_authenticated"

    def __init__(
        self,
        message: str = (
            "Log in first: send `Authorization: Bearer <token>` or `Authorization: tma <initData>`."
        ),
    ) -> None:
        super().__init__(message, code=self.code)


class InvalidAccessToken(Unauthorized):
    code = "invalid_token"

    def __init__(self, message: str) -> None:
        super().__init__(message, code=self.code)


class OperatorOnly(Forbidden):
    code = "operator_only"

    def __init__(self) -> None:
        super().__init__("Only Chainfluence operators can do this.")
