"""One settings object for the whole platform.

Precedence, highest first: keyword overrides in code, ``SHIPYARD_*`` environment variables, the TOML
file (``SHIPYARD_CONFIG``, else ``$SHIPYARD_HOME/shipyard.toml`` when it exists), then defaults.
A bad value never surfaces as a traceback: ``load_settings`` raises ``ConfigurationError`` naming
the setting.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from shipyard.core.errors import ConfigurationError

__all__ = ["Settings", "config_file_path", "is_loopback", "load_settings", "masked_settings"]

ENV_PREFIX = "SHIPYARD_"
_SECRET_WORDS = re.compile(r"secret|password|token|key|credential", re.IGNORECASE)


def _default_home() -> Path:
    return Path.home() / ".shipyard"


def config_file_path(environ: os._Environ[str] | dict[str, str] | None = None) -> Path | None:
    """The TOML file that applies, or None: an explicit ``SHIPYARD_CONFIG`` must exist."""
    env = os.environ if environ is None else environ
    explicit = env.get(f"{ENV_PREFIX}CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    home = Path(env.get(f"{ENV_PREFIX}HOME") or _default_home()).expanduser()
    candidate = home / "shipyard.toml"
    return candidate if candidate.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigurationError(f"SHIPYARD_CONFIG: file {path} does not exist", field="config") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(
            f"SHIPYARD_CONFIG: {path} is not valid TOML: {exc}", field="config"
        ) from None
    except OSError as exc:
        raise ConfigurationError(
            f"SHIPYARD_CONFIG: cannot read {path}: {exc.strerror}", field="config"
        ) from None
    # Accept both a flat file and one with a [shipyard] table.
    return dict(data.get("shipyard", data))


class _TomlSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], values: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._values = values

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {name: value for name, value in self._values.items() if name in self.settings_cls.model_fields}


class Settings(BaseSettings):
    """Effective configuration. Paths are resolved; URLs default to locations under ``home``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    home: Path = Field(
        default_factory=_default_home, description="Folder for the embedded store and artifacts."
    )
    database_url: str = Field("", description="SQLAlchemy URL; default a SQLite file under home.")
    artifact_root: str = Field("", description="Local folder or fsspec URL (s3://bucket/prefix).")
    artifact_storage_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Options passed to fsspec for the artifact root (endpoint_url, key, ...).",
    )
    host: str = Field("127.0.0.1", description="Address `shipyard server` listens on (off loopback: auth).")
    port: int = Field(7400, ge=1, le=65535, description="Port `shipyard server` listens on.")
    auth_enabled: bool = Field(False, description="Require bearer tokens (mandatory off loopback).")
    tracking_uri: str = Field(
        "", description="URL of a remote Shipyard server for the SDK; empty means embedded."
    )
    token: str = Field("", description="Bearer token the SDK and CLI send to a remote server.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Server log level.")
    log_format: Literal["text", "json"] = Field("text", description="`json` writes one JSON object per line.")
    max_upload_bytes: int = Field(50 * 1024**3, ge=1, description="Largest artifact accepted in one upload.")
    protected_aliases: list[str] = Field(
        default_factory=lambda: ["champion"], description="Aliases whose moves need an approver."
    )
    serving_enabled: bool = Field(True, description="Host the configured endpoints in the server process.")
    serving_poll_seconds: float = Field(
        1.0, ge=0.05, le=3600, description="How often endpoints re-check their aliases and the store."
    )
    serving_model_processes: bool = Field(
        False,
        description="Predict in one worker process per loaded model version (off the server's GIL; costs "
        "a process and a second copy of the model each). `shipyard serve` does by default "
        "(--no-model-process).",
    )
    serving_max_body_bytes: int = Field(16 * 1024**2, ge=1024, description="Largest inference request body.")
    serving_hourly_price: float = Field(
        0.0, ge=0.0, description="What an hour of this serving process costs, for cost per 1,000 predictions."
    )
    prediction_log_dir: str = Field("", description="Folder of the prediction log; default home/predictions.")
    prediction_log_fsync: bool = Field(
        False,
        description="fsync each group commit before answering (survives power loss, costs a disk flush per "
        "batch); off, every logged prediction reaches the OS before its response (survives the process "
        "being killed, not a power cut).",
    )
    prediction_log_retention_days: float = Field(
        30.0, gt=0, description="Prediction log segments kept this long."
    )
    model_cache_dir: str = Field(
        "", description="Verified copies of served models; default home/model-cache."
    )

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("database_url", mode="after")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value:
            _check_database_url(value)
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    def model_post_init(self, context: Any) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.home / 'shipyard.db'}")
        if not self.artifact_root:
            object.__setattr__(self, "artifact_root", str(self.home / "artifacts"))
        if not self.prediction_log_dir:
            object.__setattr__(self, "prediction_log_dir", str(self.home / "predictions"))
        if not self.model_cache_dir:
            object.__setattr__(self, "model_cache_dir", str(self.home / "model-cache"))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = config_file_path()
        toml_values = _read_toml(path) if path is not None else {}
        unknown = sorted(set(toml_values) - set(settings_cls.model_fields))
        if unknown:
            raise ConfigurationError(
                f"SHIPYARD_CONFIG: {path} has unknown setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(settings_cls.model_fields))}",
                field=unknown[0],
            )
        return (init_settings, env_settings, _TomlSource(settings_cls, toml_values))


def _check_database_url(url: str) -> None:
    scheme = url.split(":", 1)[0].lower()
    if not url or "://" not in url or not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
        raise ValueError(f"must be a sqlite:// or postgresql:// URL; got {mask_url(url)!r}")


def load_settings(**overrides: Any) -> Settings:
    """Build the effective settings or raise ``ConfigurationError`` naming the bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "settings"
        value = first.get("input")
        message = str(first["msg"]).removeprefix("Value error, ")
        shown = "" if isinstance(value, dict) or "got " in message else f"; got {value!r}"
        raise ConfigurationError(f"{ENV_PREFIX}{name.upper()}: {message}{shown}", field=name) from None


def mask_url(url: str) -> str:
    """Hide the password of a URL such as ``postgresql://user:pw@host/db``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def masked_settings(settings: Settings) -> dict[str, Any]:
    """The settings as plain values, secrets replaced by ``***``: safe to print or log."""
    values = settings.model_dump(mode="json")
    values["database_url"] = mask_url(values["database_url"])
    values["tracking_uri"] = mask_url(values["tracking_uri"])
    values["token"] = "***" if values["token"] else ""
    values["artifact_storage_options"] = {
        key: ("***" if _SECRET_WORDS.search(key) else value)
        for key, value in values["artifact_storage_options"].items()
    }
    values["config_file"] = str(config_file_path() or "")
    return values


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
