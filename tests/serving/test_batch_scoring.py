"""`shipyard predict`: a file scored in chunks through a registered model, the same as in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from shipyard.core.platform import Platform
from shipyard.testing.serving import breast_cancer, forest, register_package


def _env(platform: Platform) -> dict[str, str]:
    settings = platform.settings
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")},
        "SHIPYARD_HOME": str(settings.home),
        "SHIPYARD_DATABASE_URL": settings.database_url,
        "SHIPYARD_ARTIFACT_ROOT": settings.artifact_root,
    }


def test_predict_command_scores_csv_and_parquet_in_chunks(platform: Platform, tmp_path: Path) -> None:
    x, _ = breast_cancer()
    register_package(platform, "cancer-rf", forest(), input_example=x.head(3), alias="live")
    source_csv, source_parquet = tmp_path / "in.csv", tmp_path / "in.parquet"
    x.to_csv(source_csv, index=False)
    x.to_parquet(source_parquet)
    for source in (source_csv, source_parquet):
        output = tmp_path / f"{source.suffix[1:]}-scored.parquet"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "shipyard",
                "predict",
                "models:/cancer-rf@live",
                str(source),
                "-o",
                str(output),
                "--chunk-rows",
                "100",
            ],
            env=_env(platform),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert f"Scored {len(x):,} rows" in done.stdout
        table = pq.read_table(output)
        assert table.num_rows == len(x) and "mean radius" in table.column_names
        np.testing.assert_array_equal(table.column("prediction").to_numpy(), forest().predict(x))
        np.testing.assert_allclose(table.column("proba_1").to_numpy(), forest().predict_proba(x)[:, 1])


def test_predict_command_refuses_bad_input_without_a_partial_file(platform: Platform, tmp_path: Path) -> None:
    x, _ = breast_cancer()
    register_package(platform, "cancer-rf", forest(), input_example=x.head(3), alias="live")
    broken = tmp_path / "broken.csv"
    x.drop(columns=["mean radius"]).to_csv(broken, index=False)
    output = tmp_path / "out.parquet"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shipyard",
            "predict",
            "models:/cancer-rf@live",
            str(broken),
            "-o",
            str(output),
        ],
        env=_env(platform),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1 and "mean radius" in done.stderr and "Traceback" not in done.stderr
    assert not output.exists() and not list(tmp_path.glob(".out.parquet*"))
