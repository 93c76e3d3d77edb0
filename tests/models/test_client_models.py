"""``Client.log_model`` / ``Client.load_model`` and ``fetch_package``, embedded and remote alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shipyard._client.base import BaseClient
from shipyard.core import files
from shipyard.core.errors import IntegrityError, InvalidParameterError, NotFoundError
from shipyard.core.platform import Platform
from shipyard.models import fetch_package, load_model
from shipyard.registry import aliases
from shipyard.testing.flavor_checks import FLAVOR_EXAMPLES


def _point_alias(platform: Platform, name: str, alias: str, version: int) -> None:
    from shipyard.core.auth import LOCAL_ADMIN

    with platform.database.session(write=True) as session:
        aliases.set_alias(session, actor=LOCAL_ADMIN, name=name, alias=alias, version=version)


def _blob_file(platform: Platform, run_id: str, path: str) -> Path:
    with platform.database.session() as session:
        digest = files.get_file(session, owner_type="run", owner_id=run_id, path=path).digest
    return Path(platform.artifacts._key(digest))


@pytest.mark.parametrize("example_id", ["sklearn", "xgboost-classifier", "lightgbm-classifier"])
def test_log_register_and_load_by_every_uri(
    client: BaseClient, platform: Platform, example_id: str, tmp_path: Path
) -> None:
    example = FLAVOR_EXAMPLES[example_id]()
    first = client.log_model(example.model, input_example=example.features, registered_model_name="churn")
    second = client.log_model(example.model, "clf", registered_model_name="churn")
    assert (first.version, second.version) == (1, 2)
    assert first.model_uri == f"runs:/{first.run_id}/model" and second.artifact_path == "clf"
    assert client.get_run(first.run_id).status == "FINISHED"
    _point_alias(platform, "churn", "champion", 1)
    cache = tmp_path / "cache"
    for uri in ("models:/churn/1", "models:/churn@champion", "models:/churn/latest", first.model_uri):
        loaded = client.load_model(uri, cache_dir=cache)
        assert loaded.flavor.name == example.flavor
        np.testing.assert_array_equal(loaded.predict(example.features), example.expected)
    fetched = fetch_package(client, "models:/churn@champion", cache)
    assert (fetched.name, fetched.version, fetched.run_id) == ("churn", 1, first.run_id)
    assert fetched.path == cache / fetched.digest and (fetched.path / "shipyard.json").is_file()
    latest = fetch_package(client, "models:/churn/latest", cache)
    assert latest.version == 2 and latest.run_id == second.run_id
    # the same bytes in two runs are one cache entry, whatever URI names them
    assert fetch_package(client, first.model_uri, cache).digest == fetched.digest
    # log_model also made an MLflow-style logged model holding the same files
    assert first.model_id is not None and first.model_id.startswith("m-")
    logged = fetch_package(client, f"models:/{first.model_id}", cache)
    assert logged.digest == fetched.digest and logged.run_id == first.run_id
    with platform.database.session() as session:
        from shipyard.registry import versions
        from shipyard.tracking import logged_models

        assert versions.get_model_version(session, "churn", 1).model_id == first.model_id
        model = logged_models.get_logged_model(session, first.model_id)
        assert (model.status, model.source_run_id, model.model_type) == (
            "LOGGED_MODEL_READY",
            first.run_id,
            example.flavor,
        )


def test_log_model_into_an_open_run(client: BaseClient, tmp_path: Path) -> None:
    example = FLAVOR_EXAMPLES["lightgbm-booster"]()
    with client.start_run(capture_environment=False) as run:
        info = client.log_model(example.model, "nested/booster", run_id=run.run_id)
    assert info.run_id == run.run_id and info.version is None
    loaded = client.load_model(f"runs:/{run.run_id}/nested/booster", cache_dir=tmp_path)
    np.testing.assert_allclose(loaded.predict(example.features), example.expected)


def test_corrupt_blob_is_refused_naming_the_file(
    client: BaseClient, platform: Platform, tmp_path: Path
) -> None:
    example = FLAVOR_EXAMPLES["sklearn"]()
    info = client.log_model(example.model, registered_model_name="fraud")
    blob = _blob_file(platform, info.run_id, "model/model.skops")
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=r"model file model\.skops of models:/fraud/1"):
        client.load_model("models:/fraud/1", cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # nothing cached, no staging left behind


def test_file_replaced_after_logging_is_refused_by_the_manifest(client: BaseClient, tmp_path: Path) -> None:
    example = FLAVOR_EXAMPLES["xgboost-classifier"]()
    info = client.log_model(example.model, registered_model_name="credit")
    other = FLAVOR_EXAMPLES["xgboost-booster"]()
    replacement = tmp_path / "model.ubj"
    other.model.save_model(str(replacement))
    upload = client._run_sink()[2]
    upload(info.run_id, replacement, "model/model.ubj")  # same path, different bytes: the store is fine
    with pytest.raises(IntegrityError, match=r"model file model\.ubj .*manifest"):
        client.load_model("models:/credit/1", cache_dir=tmp_path / "cache")


def test_tampered_cache_is_fetched_again(client: BaseClient, tmp_path: Path) -> None:
    example = FLAVOR_EXAMPLES["sklearn"]()
    info = client.log_model(example.model)
    fetched = fetch_package(client, info.model_uri, tmp_path)
    model_file = fetched.path / "model.skops"
    original = model_file.read_bytes()
    model_file.write_bytes(b"not a model")
    again = fetch_package(client, info.model_uri, tmp_path)
    assert again.path == fetched.path and model_file.read_bytes() == original
    load_model(again.path)  # verifies the manifest too


def test_bad_and_unknown_uris(client: BaseClient, tmp_path: Path) -> None:
    for uri in ("s3://bucket/model", "models:/", "models:/churn/zero", "models:/@x", "runs:/"):
        with pytest.raises(InvalidParameterError) as bad:
            client.load_model(uri, cache_dir=tmp_path)
        assert bad.value.field == "model_uri"
    with pytest.raises(NotFoundError):
        client.load_model("models:/nobody/1", cache_dir=tmp_path)
    info = client.log_model(FLAVOR_EXAMPLES["sklearn"]().model)
    with pytest.raises(NotFoundError, match="no files"):
        client.load_model(f"runs:/{info.run_id}/elsewhere", cache_dir=tmp_path)


def test_pickle_packages_load_through_the_registry_only(client: BaseClient, tmp_path: Path) -> None:
    example = FLAVOR_EXAMPLES["python_model"]()
    info = client.log_model(example.model, registered_model_name="rules")
    loaded = client.load_model("models:/rules/1", cache_dir=tmp_path)  # trusted: the registry's own bytes
    np.testing.assert_array_equal(loaded.predict(example.features), example.expected)
    fetched = fetch_package(client, info.model_uri, tmp_path)
    with pytest.raises(IntegrityError, match="runs code when loaded"):
        load_model(fetched.path)  # the same folder, not vouched for
