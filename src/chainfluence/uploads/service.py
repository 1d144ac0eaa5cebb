"""Storing and reading uploads.

The type is decided by decoding the bytes with Pillow, never by the file name or the client's
content type. Images Telegram would refuse to post (too many pixels, extreme aspect ratio) are
refused here, at upload time, rather than when the ad goes out.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from fastapi import UploadFile
from PIL import Image, UnidentifiedImageError
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.config import UploadSettings
from chainfluence.kit.db import on_rollback
from chainfluence.models import Upload
from chainfluence.uploads.exceptions import FileTooLarge, NotAnImage, UnusableImage, UploadNotFound

CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
# Telegram's sendPhoto limits: width + height at most 10000, aspect ratio at most 20.
MAX_DIMENSIONS_SUM = 10_000
MAX_ASPECT_RATIO = 20
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class SniffedImage:
    content_type: str
    width: int
    height: int


def sniff_image(data: bytes, *, max_pixels: int) -> SniffedImage:
    """Identify and verify an image from its bytes; raise if it is not one we accept."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image_format = image.format
                width, height = image.size
                image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise NotAnImage() from None
    except Exception:
        # Truncated or corrupt data that merely starts like an image.
        raise NotAnImage() from None
    if image_format not in CONTENT_TYPES:
        raise NotAnImage()
    if width <= 0 or height <= 0 or width * height > max_pixels:
        raise UnusableImage("The image has too many pixels.")
    if width + height > MAX_DIMENSIONS_SUM:
        raise UnusableImage("Telegram accepts images whose width plus height is at most 10000.")
    if max(width, height) / min(width, height) > MAX_ASPECT_RATIO:
        raise UnusableImage("Telegram accepts images with an aspect ratio of at most 20.")
    return SniffedImage(CONTENT_TYPES[image_format], width, height)


async def _read_limited(file: UploadFile, limit: int) -> bytes:
    buffer = bytearray()
    while chunk := await file.read(_CHUNK):
        buffer.extend(chunk)
        if len(buffer) > limit:
            raise FileTooLarge(limit)
    return bytes(buffer)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


async def store(
    session: AsyncSession, settings: UploadSettings, *, owner_id: int, file: UploadFile
) -> Upload:
    data = await _read_limited(file, settings.max_bytes)
    if not data:
        raise UnusableImage("The file is empty.")
    image = await asyncio.to_thread(sniff_image, data, max_pixels=settings.max_pixels)
    file_id = secrets.token_urlsafe(24)
    path = settings.path_of(file_id)
    await asyncio.to_thread(_write_atomically, path, data)
    # If the row is not committed, the file must not stay behind.
    on_rollback(session, lambda: path.unlink(missing_ok=True))
    upload = Upload(
        id=file_id,
        owner_id=owner_id,
        content_type=image.content_type,
        size_bytes=len(data),
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(data).hexdigest(),
        original_name=file.filename[:255] if file.filename else None,
    )
    session.add(upload)
    await session.flush()
    return upload


async def get(session: AsyncSession, file_id: str) -> Upload:
    if not file_id or len(file_id) > 64:
        raise UploadNotFound()
    upload = await session.get(Upload, file_id)
    if upload is None:
        raise UploadNotFound()
    return upload
