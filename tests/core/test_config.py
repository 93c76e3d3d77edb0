from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shipyard.core.config import is_loopback, load_settings, mask_url, masked_settings
from shipyard.core.errors import ConfigurationError


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_") or k.startswith("SHIPYARD_TEST")
    }
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "shipyard", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )


def test_defaults_live_under_home(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'shipyard.db'}"
    assert settings.artifact_root == str(tmp_path / "artifacts")
    assert settings.host == "127.0.0.1"
    assert settings.auth_enabled is False


def test_precedence_env_over_toml_over_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "shipyard.toml"
    config.write_text('port = 9001\nlog_level = "debug"\nartifact_root = "s3://bucket/prefix"\n')
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path))
    settings = load_settings()
    assert (settings.port, settings.log_level, settings.artifact_root) == (
        9001,
        "DEBUG",
        "s3://bucket/prefix",
    )
    monkeypatch.setenv("SHIPYARD_PORT", "9002")
    assert load_settings().port == 9002
    assert load_settings(port=9003).port == 9003


def test_toml_with_a_shipyard_table_and_explicit_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text('[shipyard]\nauth_enabled = true\n[shipyard.artifact_storage_options]\nkey = "abc"\n')
    monkeypatch.setenv("SHIPYARD_CONFIG", str(config))
    settings = load_settings()
    assert settings.auth_enabled is True
    assert masked_settings(settings)["artifact_storage_options"] == {"key": "***"}


@pytest.mark.parametrize(
    ("toml", "env", "field", "fragment"),
    [
        ("port = [", {}, "config", "not valid TOML"),
        ("colour = 'blue'", {}, "colour", "unknown setting"),
        ("", {"SHIPYARD_PORT": "abc"}, "port", "SHIPYARD_PORT"),
        ("", {"SHIPYARD_PORT": "70000"}, "port", "SHIPYARD_PORT"),
        ("", {"SHIPYARD_LOG_LEVEL": "LOUD"}, "log_level", "SHIPYARD_LOG_LEVEL"),
        ("", {"SHIPYARD_DATABASE_URL": "mysql://x/y"}, "database_url", "sqlite:// or postgresql://"),
    ],
)
def test_bad_configuration_names_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, env: dict[str, str], field: str, fragment: str
) -> None:
    (tmp_path / "shipyard.toml").write_text(toml)
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert caught.value.field == field
    assert fragment in caught.value.message


def test_missing_explicit_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPYARD_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_settings()


def test_mask_url_hides_password() -> None:
    assert mask_url("postgresql://u:secret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert mask_url("sqlite:///x.db") == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),  # noqa: S104
        ("::", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


# -- the command line reports bad configuration in one line, exit code 2, no traceback --------------
@pytest.mark.parametrize(
    ("toml", "env", "expected"),
    [
        ("port = [", {}, "SHIPYARD_CONFIG"),
        ("", {"SHIPYARD_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"}, "SHIPYARD_DATABASE_URL"),
        ("", {"SHIPYARD_DATABASE_URL": "not a url"}, "SHIPYARD_DATABASE_URL"),
        ("", {"SHIPYARD_ARTIFACT_ROOT": "/proc/shipyard-artifacts"}, "SHIPYARD_ARTIFACT_ROOT"),
        ("", {"SHIPYARD_ARTIFACT_ROOT": "nosuchproto://bucket"}, "SHIPYARD_ARTIFACT_ROOT"),
    ],
)
def test_cli_reports_bad_configuration_in_one_line(
    tmp_path: Path, toml: str, env: dict[str, str], expected: str
) -> None:
    (tmp_path / "shipyard.toml").write_text(toml)
    result = run_cli("db", "upgrade", env={"SHIPYARD_HOME": str(tmp_path), **env})
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: " + expected), result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_config_masks_secrets(tmp_path: Path) -> None:
    result = run_cli(
        "config",
        "--json",
        env={
            "SHIPYARD_HOME": str(tmp_path),
            "SHIPYARD_DATABASE_URL": "postgresql://u:hunter2@127.0.0.1/db",
            "SHIPYARD_TOKEN": "shp_secret",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "hunter2" not in result.stdout and "shp_secret" not in result.stdout
    assert '"database_url": "postgresql://u:***@127.0.0.1/db"' in result.stdout
