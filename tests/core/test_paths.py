"""The corpus of client-supplied names that must never be accepted, and names that must be."""

from __future__ import annotations

import pytest

from shipyard.core.errors import UnsafePathError
from shipyard.core.paths import validate_artifact_path

# (path, words the message must contain)
UNSAFE_PATHS = [
    ("..", "'..'"),
    ("../secret", "'..'"),
    ("a/../../etc/passwd", "'..'"),
    ("a/..", "'..'"),
    ("/etc/passwd", "relative"),
    ("//server/share", "relative"),
    ("~/.ssh/id_rsa", "relative"),
    ("~root/x", "relative"),
    ("a\\b", "backslash"),
    ("..\\..\\windows", "backslash"),
    ("C:\\Windows\\win.ini", "backslash"),
    ("C:/Windows/win.ini", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("file:etc/passwd", "scheme"),
    ("s3://bucket/key", "scheme"),
    ("http://example.org/x", "scheme"),
    ("mlflow-artifacts:/0/x", "scheme"),
    ("a#fragment", "'#'"),
    ("a?query=1", "'?'"),
    ("a\x00b", "NUL"),
    ("model.pkl\x00.txt", "NUL"),
    ("a\nb", "control"),
    ("a\rb", "control"),
    ("a\tb", "control"),
    ("%2e%2e/secret", "percent"),
    ("%2E%2E%2Fsecret", "percent"),
    ("a/%2e%2e/b", "percent"),
    ("%252e%252e/secret", "percent"),
    ("..%2fsecret", "percent"),
    ("%5c..%5csecret", "percent"),
    ("%00", "percent"),
    ("\uff0e\uff0e/secret", "'..'"),  # FULLWIDTH FULL STOP twice
    ("\u2025/secret", "'..'"),  # TWO DOT LEADER folds to '..'
    ("a\uff0fb/\uff0e\uff0e", "'..'"),  # FULLWIDTH SOLIDUS
    ("\ufe68etc", "backslash"),  # SMALL REVERSE SOLIDUS folds to '\'
    ("", "empty"),
    ("a//b", "empty"),
    ("./a", "'.'"),
    ("a/./b", "'.'"),
    ("a" * 1025, "limit"),
    ("x/" + "b" * 256, "longer"),
]

SAFE_PATHS = [
    "model.skops",
    "model/MLmodel",
    "plots/confusion matrix.png",
    "data/part-0001.parquet",
    "a.b.c/..d/e..",
    "100%.txt",
    "naïve/モデル.onnx",
    "folder/",
    ".hidden",
]


@pytest.mark.parametrize(("path", "fragment"), UNSAFE_PATHS, ids=[repr(p)[:40] for p, _ in UNSAFE_PATHS])
def test_unsafe_paths_are_rejected_with_the_reason(path: str, fragment: str) -> None:
    with pytest.raises(UnsafePathError) as caught:
        validate_artifact_path(path)
    assert fragment in caught.value.message
    assert caught.value.field == "path"
    assert caught.value.status_code == 400


@pytest.mark.parametrize("path", SAFE_PATHS)
def test_safe_paths_are_accepted(path: str) -> None:
    assert validate_artifact_path(path) == path


def test_non_string_is_rejected() -> None:
    with pytest.raises(UnsafePathError, match="must be a string"):
        validate_artifact_path(["a"])


def test_empty_allowed_when_asked() -> None:
    assert validate_artifact_path("", allow_empty=True) == ""
