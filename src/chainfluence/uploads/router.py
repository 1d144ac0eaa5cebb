"""/v1/uploads: upload an image (authenticated), fetch it by id (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import FileResponse

from chainfluence.auth.dependencies import CurrentUser
from chainfluence.dependencies import DBSession, SettingsDep
from chainfluence.kit.schemas import QueryText
from chainfluence.models import Upload
from chainfluence.uploads import schemas, service
from chainfluence.uploads.exceptions import UploadNotFound

router = APIRouter(prefix="/uploads", tags=["uploads"])


def _to_schema(upload: Upload, public_url: str) -> schemas.Upload:
    return schemas.Upload(
        file_id=upload.id,
        url=f"{public_url.rstrip('/')}/v1/uploads/{upload.id}",
        content_type=upload.content_type,
        size=upload.size_bytes,
        width=upload.width,
        height=upload.height,
        created_at=upload.created_at,
    )


@router.post("", response_model=schemas.Upload, status_code=201)
async def upload_file(
    file: Annotated[UploadFile, File(description="A PNG, JPEG, WebP or GIF image")],
    user: CurrentUser,
    session: DBSession,
    settings: SettingsDep,
) -> schemas.Upload:
    upload = await service.store(session, settings.uploads, owner_id=user.id, file=file)
    return _to_schema(upload, settings.public_url)


@router.get(
    "/{file_id}", response_class=FileResponse, responses={200: {"content": {"image/*": {}}}}
)
async def get_file(file_id: QueryText, session: DBSession, settings: SettingsDep) -> FileResponse:
    upload = await service.get(session, file_id)
    path = settings.uploads.path_of(upload.id)
    if not path.is_file():
        raise UploadNotFound()
    return FileResponse(
        path,
        media_type=upload.content_type,
        headers={
            # The id names immutable content: cache it for a year.
            "Cache-Control": "public, max-age=31536000, immutable",
            "ETag": f'"{upload.sha256}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
