"""Fixtures shared by the whole suite.

Every test that asks for ``settings`` (or anything built on it) runs twice: on SQLite and on
PostgreSQL (127.0.0.1:5432, user postgres, trust auth). Each test gets a fresh database cloned from
a template that was migrated once per run, and each run creates and drops its own PostgreSQL
databases. Set ``SHIPYARD_TEST_BACKENDS=sqlite`` to run on SQLite alone while iterating locally.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from shipyard.core import migrate
from shipyard.core.auth import LOCAL_ADMIN, Role
from shipyard.core.config import Settings
from shipyard.core.database import Database
from shipyard.core.platform import Platform
from shipyard.server import create_app
from shipyard.testing.servers import live_server

PG_ADMIN_URL = os.environ.get("SHIPYARD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
RUN_ID = uuid.uuid4().hex[:8]
BACKENDS = [
    b.strip() for b in os.environ.get("SHIPYARD_TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()
]


def _pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"


def _pg_admin(statement: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=10) as connection:
        connection.execute(statement)


class TemplateDatabases:
    """One migrated template per backend; ``clone()`` gives a fresh copy in milliseconds."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._templates: dict[str, str] = {}
        self._created: list[str] = []

    def template(self, backend: str) -> str:
        if backend not in self._templates:
            if backend == "sqlite":
                url = f"sqlite:///{self.folder / 'template.db'}"
            else:
                name = f"shipyard_tpl_{RUN_ID}"
                try:
                    _pg_admin(f'CREATE DATABASE "{name}"')
                except psycopg.OperationalError as exc:
                    pytest.fail(
                        f"PostgreSQL at {PG_ADMIN_URL} is unreachable ({exc}); start it with "
                        "'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'"
                    )
                self._created.append(name)
                url = _pg_url(name)
            database = Database(url)
            migrate.upgrade(database)
            database.dispose()
            self._templates[backend] = url
        return self._templates[backend]

    def clone(self, backend: str, folder: Path) -> str:
        template = self.template(backend)
        if backend == "sqlite":
            target = folder / "shipyard.db"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(template.removeprefix("sqlite:///"), target)
            return f"sqlite:///{target}"
        name = f"shipyard_t_{RUN_ID}_{uuid.uuid4().hex[:10]}"
        _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "shipyard_tpl_{RUN_ID}"')
        self._created.append(name)
        return _pg_url(name)

    def empty(self, backend: str, folder: Path) -> str:
        if backend == "sqlite":
            return f"sqlite:///{folder / 'empty.db'}"
        name = f"shipyard_e_{RUN_ID}_{uuid.uuid4().hex[:10]}"
        _pg_admin(f'CREATE DATABASE "{name}"')
        self._created.append(name)
        return _pg_url(name)

    def drop_all(self) -> None:
        for name in reversed(self._created):
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def template_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemplateDatabases]:
    databases = TemplateDatabases(tmp_path_factory.mktemp("templates"))
    yield databases
    databases.drop_all()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, template_databases: TemplateDatabases, tmp_path: Path) -> str:
    return template_databases.clone(backend, tmp_path / "db")


@pytest.fixture
def empty_database_url(backend: str, template_databases: TemplateDatabases, tmp_path: Path) -> str:
    return template_databases.empty(backend, tmp_path)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home", database_url=database_url, artifact_root=str(tmp_path / "artifacts")
    )


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    with Platform.open(settings) as opened:
        yield opened


@pytest.fixture
def server_url(platform: Platform) -> Iterator[str]:
    """A live server on loopback with auth off."""
    with live_server(create_app(platform=platform)) as url:
        yield url


@pytest.fixture
def auth_platform(settings: Settings) -> Iterator[Platform]:
    with Platform.open(settings.model_copy(update={"auth_enabled": True})) as opened:
        yield opened


@pytest.fixture
def auth_server_url(auth_platform: Platform) -> Iterator[str]:
    """A live server on loopback with auth on."""
    with live_server(create_app(platform=auth_platform)) as url:
        yield url


@pytest.fixture
def tokens(auth_platform: Platform) -> dict[str, str]:
    """One bearer secret per role on the auth-enabled platform."""
    from shipyard.core import auth

    secrets: dict[str, str] = {}
    with auth_platform.database.session(write=True) as session:
        for role in Role:
            _, secrets[role.value] = auth.create_token(
                session, actor=LOCAL_ADMIN, name=f"test-{role.value}", role=role
            )
    return secrets
