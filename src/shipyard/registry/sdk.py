"""Registry methods of ``shipyard.Client``: approvals, alias history, lifecycle (embedded and remote)."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

from shipyard.registry import aliases, versions
from shipyard.registry.schemas import (
    AliasEventPublic,
    AliasEventsPublic,
    ApprovalRequestPublic,
    ApprovalRequestsPublic,
    ModelVersionPublic,
)

if TYPE_CHECKING:
    import httpx

    from shipyard.core.auth import Principal
    from shipyard.core.platform import Platform

__all__ = ["EmbeddedRegistryMethods", "RegistryMethods", "RemoteRegistryMethods"]


class RegistryMethods(abc.ABC):
    @abc.abstractmethod
    def alias_history(self, name: str, *, alias: str | None = None) -> list[AliasEventPublic]:
        """Every move of the model's aliases, oldest first: version, who asked, who approved, metrics."""

    @abc.abstractmethod
    def list_approvals(
        self, *, status: str = "pending", name: str | None = None
    ) -> list[ApprovalRequestPublic]:
        """Approval requests (``status`` pending, approved, rejected, cancelled or all)."""

    @abc.abstractmethod
    def request_promotion(
        self, name: str, alias: str, version: int, *, reason: str | None = None
    ) -> ApprovalRequestPublic:
        """Ask an approver to point ``alias`` at ``version``."""

    @abc.abstractmethod
    def approve(self, request_id: int, *, reason: str) -> ApprovalRequestPublic:
        """Approve a pending request (approver role); the alias moves now."""

    @abc.abstractmethod
    def reject(self, request_id: int, *, reason: str) -> ApprovalRequestPublic:
        """Reject a pending request (approver role)."""

    @abc.abstractmethod
    def cancel_approval(self, request_id: int) -> ApprovalRequestPublic:
        """Withdraw a pending request (its author or an approver)."""

    @abc.abstractmethod
    def set_version_lifecycle(self, name: str, version: int, lifecycle: str) -> ModelVersionPublic:
        """Move a version along draft -> published -> deprecated -> archived."""


class EmbeddedRegistryMethods(RegistryMethods):
    platform: Platform
    actor: Principal

    def alias_history(self, name: str, *, alias: str | None = None) -> list[AliasEventPublic]:
        with self.platform.database.session() as session:
            return [
                AliasEventPublic.model_validate(e)
                for e in aliases.alias_history(session, name=name, alias=alias)
            ]

    def list_approvals(
        self, *, status: str = "pending", name: str | None = None
    ) -> list[ApprovalRequestPublic]:
        with self.platform.database.session() as session:
            found = aliases.list_requests(session, status=None if status == "all" else status, name=name)
            return [ApprovalRequestPublic.model_validate(r) for r in found]

    def request_promotion(
        self, name: str, alias: str, version: int, *, reason: str | None = None
    ) -> ApprovalRequestPublic:
        with self.platform.database.session(write=True) as session:
            request = aliases.request_alias(
                session, actor=self.actor, name=name, alias=alias, version=version, reason=reason
            )
            return ApprovalRequestPublic.model_validate(request)

    def _decide(self, request_id: int, approve: bool, reason: str) -> ApprovalRequestPublic:
        with self.platform.database.session(write=True) as session:
            request = aliases.decide_request(
                session, actor=self.actor, request_id=request_id, approve=approve, reason=reason
            )
            return ApprovalRequestPublic.model_validate(request)

    def approve(self, request_id: int, *, reason: str) -> ApprovalRequestPublic:
        return self._decide(request_id, True, reason)

    def reject(self, request_id: int, *, reason: str) -> ApprovalRequestPublic:
        return self._decide(request_id, False, reason)

    def cancel_approval(self, request_id: int) -> ApprovalRequestPublic:
        with self.platform.database.session(write=True) as session:
            return ApprovalRequestPublic.model_validate(
                aliases.cancel_request(session, actor=self.actor, request_id=request_id)
            )

    def set_version_lifecycle(self, name: str, version: int, lifecycle: str) -> ModelVersionPublic:
        with self.platform.database.session(write=True) as session:
            found = versions.set_lifecycle(
                session, actor=self.actor, name=name, version=version, lifecycle=lifecycle
            )
            return ModelVersionPublic.model_validate(found)


class RemoteRegistryMethods(RegistryMethods):
    if TYPE_CHECKING:  # provided by RemoteClient

        def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response: ...

    def alias_history(self, name: str, *, alias: str | None = None) -> list[AliasEventPublic]:
        params = {"alias": alias} if alias else {}
        response = self._request("GET", f"/api/v1/registry/models/{name}/alias-history", params=params)
        return AliasEventsPublic.model_validate(response.json()).events

    def list_approvals(
        self, *, status: str = "pending", name: str | None = None
    ) -> list[ApprovalRequestPublic]:
        params = {"status": status, **({"name": name} if name else {})}
        response = self._request("GET", "/api/v1/registry/approvals", params=params)
        return ApprovalRequestsPublic.model_validate(response.json()).requests

    def request_promotion(
        self, name: str, alias: str, version: int, *, reason: str | None = None
    ) -> ApprovalRequestPublic:
        body = {"name": name, "alias": alias, "version": version, "reason": reason}
        return ApprovalRequestPublic.model_validate(
            self._request("POST", "/api/v1/registry/approvals", json=body).json()
        )

    def approve(self, request_id: int, *, reason: str) -> ApprovalRequestPublic:
        response = self._request(
            "POST", f"/api/v1/registry/approvals/{request_id}/approve", json={"reason": reason}
        )
        return ApprovalRequestPublic.model_validate(response.json())

    def reject(self, request_id: int, *, reason: str) -> ApprovalRequestPublic:
        response = self._request(
            "POST", f"/api/v1/registry/approvals/{request_id}/reject", json={"reason": reason}
        )
        return ApprovalRequestPublic.model_validate(response.json())

    def cancel_approval(self, request_id: int) -> ApprovalRequestPublic:
        response = self._request("POST", f"/api/v1/registry/approvals/{request_id}/cancel")
        return ApprovalRequestPublic.model_validate(response.json())

    def set_version_lifecycle(self, name: str, version: int, lifecycle: str) -> ModelVersionPublic:
        response = self._request(
            "POST",
            f"/api/v1/registry/models/{name}/versions/{version}/lifecycle",
            json={"lifecycle": lifecycle},
        )
        return ModelVersionPublic.model_validate(response.json())
