"""Upload failures."""

from __future__ import annotations

from chainfluence.kit.errors import NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType


class FileTooLarge(PayloadTooLarge):
    code = "file_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The file is larger than the {limit // 1024} KiB limit.")


class NotAnImage(UnsupportedMediaType):
    code = "not_an_image"

    def __init__(self) -> None:
        super().__init__("Only PNG, JPEG, WebP and GIF images can be uploaded.")


class UnusableImage(Unprocessable):
    code = "unusable_image"


class UploadNotFound(NotFound):
    code = "upload_not_found"

    def __init__(self) -> None:
        super().__init__("No such file.")
