"""FastAPI dependencies shared by every stage's routes: the platform, the principal, role checks."""

from __future__ import annotations

from functools import cache
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from shipyard.core import auth
from shipyard.core.auth import ANONYMOUS, Principal, Role
from shipyard.core.errors import AuthenticationError
from shipyard.core.platform import Platform

__all__ = [
    "AdminDep",
    "ApproverDep",
    "EditorDep",
    "PlatformDep",
    "RoleRequirement",
    "ViewerDep",
    "current_principal",
    "requires",
]


# Dependencies are ``async`` on purpose: FastAPI runs a sync dependency in the threadpool, and three
# thread hops per request cost more than the work they do. Only the token lookup touches the database.
async def get_platform(request: Request) -> Platform:
    return request.app.state.platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def current_principal(request: Request, platform: PlatformDep) -> Principal:
    """The caller. With auth off (loopback only) everyone is ``anonymous`` with every role."""
    if not platform.settings.auth_enabled:
        return ANONYMOUS
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if header and scheme.lower() != "bearer":
        raise AuthenticationError("Authorization header must be 'Bearer <token>'", field="Authorization")
    return await run_in_threadpool(_authenticate, platform, secret.strip() or None)


def _authenticate(platform: Platform, secret: str | None) -> Principal:
    with platform.database.session() as session:
        return auth.authenticate(session, secret)


class RoleRequirement:
    """A dependency that admits principals holding ``role`` or a higher one."""

    def __init__(self, role: Role) -> None:
        self.role = role

    async def __call__(self, principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        return auth.require_role(principal, self.role)

    def __repr__(self) -> str:
        return f"requires({self.role.value!r})"


@cache
def requires(role: Role) -> RoleRequirement:
    return RoleRequirement(role)


ViewerDep = Annotated[Principal, Depends(requires(Role.VIEWER))]
EditorDep = Annotated[Principal, Depends(requires(Role.EDITOR))]
ApproverDep = Annotated[Principal, Depends(requires(Role.APPROVER))]
AdminDep = Annotated[Principal, Depends(requires(Role.ADMIN))]
