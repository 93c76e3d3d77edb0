"""Logical artifact files: an owner's (run, model version, dataset version) named files over blobs.

Names are validated by ``validate_artifact_path``; the bytes live in the content-addressed store,
so two owners with the same file share one blob. Stages mount ``artifact_file_routes`` (see
``core/routes.py``) to expose their owner's files over HTTP.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.artifacts import BlobInfo
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.database import utcnow
from shipyard.core.errors import NotFoundError
from shipyard.core.paths import validate_artifact_path
from shipyard.core.tables import ArtifactFile

__all__ = ["get_file", "list_files", "register_file"]


def register_file(
    session: Session, *, actor: Principal, owner_type: str, owner_id: str, path: str, blob: BlobInfo
) -> ArtifactFile:
    """Point ``path`` of an owner at a stored blob; re-uploading a path replaces it (and is audited)."""
    require_role(actor, Role.EDITOR)
    validate_artifact_path(path)
    row = session.scalar(
        select(ArtifactFile).where(
            ArtifactFile.owner_type == owner_type,
            ArtifactFile.owner_id == owner_id,
            ArtifactFile.path == path,
        )
    )
    before = None
    if row is None:
        row = ArtifactFile(
            owner_type=owner_type, owner_id=owner_id, path=path, digest=blob.digest, size=blob.size
        )
        session.add(row)
    else:
        before = {"digest": row.digest, "size": row.size}
        row.digest, row.size, row.created_at = blob.digest, blob.size, utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="artifact.put",
        object_type=owner_type,
        object_id=owner_id,
        before=None if before is None else {"path": path, **before},
        after={"path": path, "digest": blob.digest, "size": blob.size},
    )
    return row


def get_file(session: Session, *, owner_type: str, owner_id: str, path: str) -> ArtifactFile:
    validate_artifact_path(path)
    row = session.scalar(
        select(ArtifactFile).where(
            ArtifactFile.owner_type == owner_type,
            ArtifactFile.owner_id == owner_id,
            ArtifactFile.path == path,
        )
    )
    if row is None:
        raise NotFoundError(f"{owner_type} {owner_id} has no artifact {path!r}", field="path")
    return row


def list_files(session: Session, *, owner_type: str, owner_id: str, prefix: str = "") -> list[ArtifactFile]:
    """Every file of the owner whose path lies under folder ``prefix`` (all files when empty)."""
    query = select(ArtifactFile).where(
        ArtifactFile.owner_type == owner_type, ArtifactFile.owner_id == owner_id
    )
    if prefix:
        folder = validate_artifact_path(prefix, field="prefix").rstrip("/") + "/"
        query = query.where(ArtifactFile.path.startswith(folder, autoescape=True))
    return list(session.scalars(query.order_by(ArtifactFile.path)))
