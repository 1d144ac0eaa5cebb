"""Photos: an upload becomes JPEG sizes as on Telegram (90, 320, 800, 1280 px), each a file_id."""

from __future__ import annotations

import io

import httpx
from PIL import Image, UnidentifiedImageError

from chainfluence_sandbox.telegram.errors import bad_request
from chainfluence_sandbox.telegram.params import Params
from chainfluence_sandbox.telegram.state import EmulatorState, StoredFile

PHOTO_SIDES = (90, 320, 800, 1280)
MAX_PHOTO_BYTES = 10 * 1024 * 1024


def store_photo(state: EmulatorState, data: bytes) -> StoredFile:
    """Store every size of a picture; returns the largest, which lists all sizes."""
    if len(data) > MAX_PHOTO_BYTES:
        raise bad_request("file is too big")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image = opened.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError):
        raise bad_request("IMAGE_PROCESS_FAILED") from None
    sizes: list[StoredFile] = []
    longest = max(image.size)
    for side in PHOTO_SIDES:
        if side >= longest and sizes:
            break
        copy = image.copy()
        copy.thumbnail((side, side))
        sizes.append(_store_jpeg(state, copy))
    if longest > PHOTO_SIDES[-1] or not sizes:
        capped = image.copy()
        capped.thumbnail((2560, 2560))
        sizes.append(_store_jpeg(state, capped))
    elif sizes[-1].width != image.width or sizes[-1].height != image.height:
        sizes.append(_store_jpeg(state, image))
    ids = [size.file_id for size in sizes]
    for size in sizes:
        size.photo_sizes = ids
    return sizes[-1]


def _store_jpeg(state: EmulatorState, image: Image.Image) -> StoredFile:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=87)
    return state.store_file(
        buffer.getvalue(), folder="photos", extension="jpg", width=image.width, height=image.height
    )


MAX_DOCUMENT_BYTES = 50 * 1024 * 1024


def resolve_document(state: EmulatorState, value: str | None, params: Params) -> str:
    """The file_id for a `document` argument: attach://part, a direct upload or a file_id."""
    part = None
    if "document" in params.files and not value:
        part = params.files["document"]
    elif value and value.startswith("attach://"):
        part = params.files.get(value.removeprefix("attach://"))
        if part is None:
            raise bad_request("document file not found in the request")
    if part is None:
        stored = state.files.get(value or "")
        if stored is None:
            raise bad_request("there is no document in the request")
        return stored.file_id
    if len(part.data) > MAX_DOCUMENT_BYTES:
        raise bad_request("file is too big")
    extension = part.filename.rsplit(".", 1)[-1] if "." in part.filename else "bin"
    stored = state.store_file(part.data, folder="documents", extension=extension)
    stored.file_name = part.filename
    stored.mime_type = part.content_type or "application/octet-stream"
    return stored.file_id


async def resolve_photo(state: EmulatorState, value: str | None, params: Params, name: str) -> str:
    """The file_id for a `photo` argument: attach://part, a direct upload, a file_id or a URL."""
    if name in params.files and not value:
        return store_photo(state, params.files[name].data).file_id
    if not value:
        raise bad_request(f"there is no {name} in the request")
    if value.startswith("attach://"):
        part = params.files.get(value.removeprefix("attach://"))
        if part is None:
            raise bad_request(f"{name} file not found in the request")
        return store_photo(state, part.data).file_id
    if value.startswith(("http://", "https://")):
        try:
            async with httpx.AsyncClient(timeout=10.0) as client:
                response = await client.get(value)
                response.raise_for_status()
        except httpx.HTTPError:
            raise bad_request("failed to get HTTP URL content") from None
        return store_photo(state, response.content).file_id
    stored = state.files.get(value)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if not stored.photo_sizes:
        raise bad_request("type of file mismatch")
    return stored.file_id
