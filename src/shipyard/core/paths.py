"""Validation of names that clients give to files (an artifact's logical path inside a run, say).

A client never chooses where bytes land on disk: blobs live under server-generated content hashes.
Logical names are still checked strictly, because they are echoed back, used as download names and
mapped onto folders by exporters. Each rejection names the problem.
"""

from __future__ import annotations

import re
import unicodedata

from shipyard.core.errors import UnsafePathError

__all__ = ["MAX_PATH_LENGTH", "validate_artifact_path"]

MAX_PATH_LENGTH = 1024
MAX_SEGMENT_LENGTH = 255
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def validate_artifact_path(path: object, *, field: str = "path", allow_empty: bool = False) -> str:
    """Return ``path`` unchanged when it is a safe relative POSIX path, else raise ``UnsafePathError``.

    >>> validate_artifact_path("model/model.skops")
    'model/model.skops'
    >>> validate_artifact_path("../etc/passwd")
    Traceback (most recent call last):
    ...
    shipyard.core.errors.UnsafePathError: path '../etc/passwd' must not contain '..' segments
    """

    def reject(problem: str) -> UnsafePathError:
        return UnsafePathError(f"{field} {path!r} {problem}", field=field)

    if not isinstance(path, str):
        raise UnsafePathError(f"{field} must be a string; got {type(path).__name__}", field=field)
    if path == "":
        if allow_empty:
            return path
        raise reject("must not be empty")
    if len(path) > MAX_PATH_LENGTH:
        raise UnsafePathError(
            f"{field} is {len(path)} characters long; the limit is {MAX_PATH_LENGTH}", field=field
        )
    if "\x00" in path:
        raise reject("must not contain a NUL byte")
    if any(unicodedata.category(char) == "Cc" for char in path):
        raise reject("must not contain control characters")
    if "\\" in path:
        raise reject("must not contain a backslash; use '/' between folders")
    if _SCHEME.match(path):
        raise reject("must be a relative path, not a URI or drive (found a 'scheme:' prefix)")
    if "#" in path or "?" in path:
        raise reject("must not contain '#' or '?'")
    if _PERCENT_ESCAPE.search(path):
        raise reject("must not contain percent-encoded sequences (it was decoded once already)")
    if path.startswith(("/", "~")):
        raise reject("must be relative: it must not start with '/' or '~'")
    # NFKC folds look-alikes such as FULLWIDTH FULL STOP or ONE DOT LEADER into plain dots and slashes.
    folded = unicodedata.normalize("NFKC", path)
    for candidate in {path, folded}:
        if "\\" in candidate or candidate.startswith("/"):
            raise reject(
                "must not contain look-alike characters that normalise to a backslash or a leading '/'"
            )
        segments = candidate.rstrip("/").split("/") if candidate != "/" else [""]
        for segment in segments:
            if segment == "..":
                raise reject("must not contain '..' segments")
            if segment in ("", "."):
                raise reject("must not contain empty or '.' segments")
            if len(segment) > MAX_SEGMENT_LENGTH:
                raise reject(f"has a segment longer than {MAX_SEGMENT_LENGTH} characters")
    return path
