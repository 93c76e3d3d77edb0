"""Bearer tokens and roles.

Roles are ordered ``viewer < editor < approver < admin``: viewers read, editors change things,
approvers also decide promotions and sign-offs, admins manage tokens. A token's secret is shown once
at creation; the store keeps only its SHA-256 (secrets carry 256 random bits, so a slow password
hash would add latency to every request without adding safety).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.database import utcnow
from shipyard.core.errors import (
    AuthenticationError,
    ConflictError,
    InvalidParameterError,
    NotFoundError,
    PermissionDeniedError,
)
from shipyard.core.tables import Token
from shipyard.core.validation import check_text

__all__ = [
    "ANONYMOUS",
    "LOCAL_ADMIN",
    "Principal",
    "Role",
    "authenticate",
    "create_token",
    "get_token",
    "list_tokens",
    "require_role",
    "revoke_token",
]

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "shp_"  # noqa: S105  (a public marker, not a secret)
MAX_TOKEN_DAYS = 3650


class Role(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    APPROVER = "approver"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @classmethod
    def parse(cls, value: str, *, field: str = "role") -> Role:
        try:
            return cls(value)
        except ValueError:
            raise InvalidParameterError(
                f"{field} must be one of {', '.join(r.value for r in cls)}; got {value!r}", field=field
            ) from None


# Checked twice per request (route and service): a lookup, not a walk over the enum.
_RANKS = {role: position for position, role in enumerate(Role)}


@dataclass(frozen=True)
class Principal:
    """Who is acting: a token's name and role, or the local operator."""

    name: str
    role: Role
    token_id: str | None = None

    def can(self, role: Role) -> bool:
        return self.role.rank >= role.rank


# The operator on this machine (CLI run against the local store, embedded SDK).
LOCAL_ADMIN = Principal(name="local", role=Role.ADMIN)
# Requests to a loopback server with auth off: everyone on this machine is trusted, as the docs say.
ANONYMOUS = Principal(name="anonymous", role=Role.ADMIN)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def require_role(principal: Principal, role: Role) -> Principal:
    if not principal.can(role):
        raise PermissionDeniedError(
            f"this action needs the {role.value} role; token {principal.name!r} has {principal.role.value}",
            field="role",
        )
    return principal


def create_token(
    session: Session,
    *,
    actor: Principal,
    name: str,
    role: Role | str,
    expires_in_days: int | None = None,
) -> tuple[Token, str]:
    """Create a token and return it with its secret, which is never stored and never shown again."""
    require_role(actor, Role.ADMIN)
    role = Role.parse(role) if not isinstance(role, Role) else role
    name = check_text(name, field="name", max_length=200, allow_empty=False).strip()
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise InvalidParameterError(
            f"expires_in_days must be between 1 and {MAX_TOKEN_DAYS}; got {expires_in_days}",
            field="expires_in_days",
        )
    if session.scalar(select(Token.id).where(Token.name == name, Token.revoked_at.is_(None))):
        raise ConflictError(
            f"an active token named {name!r} exists; revoke it or pick another name", field="name"
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = Token(
        id=uuid.uuid4().hex,
        name=name,
        role=role.value,
        secret_hash=_hash(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        created_at=now,
        created_by=actor.name,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.create",
        object_type="token",
        object_id=token.id,
        after={"name": name, "role": role.value, "expires_at": token.expires_at},
    )
    logger.info("token %s (%s, role %s) created by %s", token.id, name, role.value, actor.name)
    return token, secret


def get_token(session: Session, token_id: str) -> Token:
    token = session.get(Token, token_id)
    if token is None:
        raise NotFoundError(f"token {token_id!r} does not exist", field="token_id")
    return token


def list_tokens(session: Session, *, include_revoked: bool = False) -> list[Token]:
    query = select(Token).order_by(Token.created_at, Token.id)
    if not include_revoked:
        query = query.where(Token.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_token(session: Session, *, actor: Principal, token_id: str) -> Token:
    require_role(actor, Role.ADMIN)
    token = get_token(session, token_id)
    if token.revoked_at is not None:
        return token  # idempotent: revoking twice changes nothing and is not audited twice
    token.revoked_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="token.revoke",
        object_type="token",
        object_id=token.id,
        before={"revoked_at": None},
        after={"revoked_at": token.revoked_at},
    )
    logger.info("token %s (%s) revoked by %s", token.id, token.name, actor.name)
    return token


def authenticate(session: Session, secret: str | None) -> Principal:
    """The principal behind a bearer secret; ``AuthenticationError`` when missing, unknown or dead."""
    if not secret:
        raise AuthenticationError(
            "missing bearer token: send 'Authorization: Bearer <token>' (create one with "
            "'shipyard token create')",
            field="Authorization",
        )
    token = session.scalar(select(Token).where(Token.secret_hash == _hash(secret)))
    if token is None:
        raise AuthenticationError("invalid bearer token", field="Authorization")
    if token.revoked_at is not None:
        raise AuthenticationError(f"token {token.prefix}… was revoked", field="Authorization")
    if token.expires_at is not None and token.expires_at <= utcnow():
        raise AuthenticationError(f"token {token.prefix}… expired", field="Authorization")
    return Principal(name=token.name, role=Role(token.role), token_id=token.id)
