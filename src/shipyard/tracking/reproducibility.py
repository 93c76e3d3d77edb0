"""What it takes to run a run again: code version, entry point, interpreter, packages, seed.

Captured automatically when the SDK starts a run. The installed-package list is stored once as a
content-addressed artifact (identical environments share one blob) and the run points at it.
``reproduce_steps`` turns a run's record back into the commands to repeat it.
"""

from __future__ import annotations

import importlib.metadata
import platform
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Environment", "capture", "reproduce_steps", "requirements_text"]

TAG_PREFIX = "shipyard.repro."
REQUIREMENTS_PATH = "environment/requirements.txt"


@dataclass(frozen=True)
class Environment:
    git_commit: str | None
    git_dirty: bool | None
    git_root: str | None
    entry_point: str
    arguments: list[str]
    working_directory: str
    python_version: str
    platform: str
    seed: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def as_tags(self) -> dict[str, str]:
        tags = {
            f"{TAG_PREFIX}entry_point": self.entry_point,
            f"{TAG_PREFIX}arguments": shlex.join(self.arguments),
            f"{TAG_PREFIX}working_directory": self.working_directory,
            f"{TAG_PREFIX}python_version": self.python_version,
            f"{TAG_PREFIX}platform": self.platform,
            # MLflow's own names, so its UI shows the code version too.
            "mlflow.source.name": self.entry_point,
        }
        if self.git_commit:
            tags[f"{TAG_PREFIX}git_commit"] = self.git_commit
            tags[f"{TAG_PREFIX}git_dirty"] = str(bool(self.git_dirty)).lower()
            tags["mlflow.source.git.commit"] = self.git_commit
        if self.git_root:
            tags[f"{TAG_PREFIX}git_root"] = self.git_root
        if self.seed is not None:
            tags[f"{TAG_PREFIX}seed"] = str(self.seed)
        tags.update({f"{TAG_PREFIX}{k}": v for k, v in self.extra.items()})
        return tags


def _git(*args: str, cwd: Path) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def capture(*, seed: int | None = None, cwd: Path | None = None) -> Environment:
    """The current process's code version, entry point and interpreter."""
    here = (cwd or Path.cwd()).resolve()
    entry = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] not in ("", "-c", "-m") else None
    # The entry point's own repository first; else the working directory's (python -m, installed tools).
    candidates = [entry.parent] if entry is not None and entry.exists() else []
    commit, repo_from = None, here
    for folder in [*candidates, here]:
        commit = _git("rev-parse", "HEAD", cwd=folder)
        if commit:
            repo_from = folder
            break
    root = _git("rev-parse", "--show-toplevel", cwd=repo_from) if commit else None
    status = _git("status", "--porcelain", "--untracked-files=no", cwd=repo_from) if commit else None
    entry_point = (
        str(entry.relative_to(root))
        if entry and root and entry.is_relative_to(root)
        else (str(entry) if entry else (sys.argv[0] if sys.argv else "python"))
    )
    return Environment(
        git_commit=commit,
        git_dirty=bool(status) if commit else None,
        git_root=root,
        entry_point=entry_point,
        arguments=list(sys.argv[1:]),
        working_directory=str(here),
        python_version=platform.python_version(),
        platform=f"{platform.system()}-{platform.machine()}",
        seed=seed,
    )


def requirements_text() -> str:
    """Installed distributions as sorted ``name==version`` lines (pip's requirements format)."""
    seen: dict[str, str] = {}
    for distribution in importlib.metadata.distributions():
        name = distribution.metadata.get("Name")
        if name and name.lower() not in seen:
            seen[name.lower()] = f"{name}=={distribution.version}"
    return "\n".join(seen[key] for key in sorted(seen)) + "\n"


def reproduce_steps(tags: dict[str, str], run_id: str) -> list[str]:
    """Shell steps that repeat a run from its recorded tags (a comment line says what is missing)."""
    steps: list[str] = []
    commit = tags.get(f"{TAG_PREFIX}git_commit")
    if commit:
        root = tags.get(f"{TAG_PREFIX}git_root", ".")
        steps.append(f"cd {shlex.quote(root)} && git checkout {commit}")
        if tags.get(f"{TAG_PREFIX}git_dirty") == "true":
            steps.append("# warning: the working tree had uncommitted changes when the run started")
    else:
        steps.append("# the run was not started inside a git repository: the code version is unknown")
    python = tags.get(f"{TAG_PREFIX}python_version")
    if python:
        steps.append(
            f"python{'.'.join(python.split('.')[:2])} -m venv .venv-{run_id[:8]} && "
            f". .venv-{run_id[:8]}/bin/activate"
        )
    steps.append(
        f"shipyard runs download {run_id} {REQUIREMENTS_PATH} -o requirements-{run_id[:8]}.txt && "
        f"pip install -r requirements-{run_id[:8]}.txt"
    )
    seed = tags.get(f"{TAG_PREFIX}seed")
    entry = tags.get(f"{TAG_PREFIX}entry_point")
    if entry:
        arguments = tags.get(f"{TAG_PREFIX}arguments", "")
        environment = f"SHIPYARD_SEED={seed} " if seed else ""
        workdir = tags.get(f"{TAG_PREFIX}working_directory")
        prefix = f"cd {shlex.quote(workdir)} && " if workdir and not commit else ""
        steps.append(f"{prefix}{environment}python {shlex.quote(entry)} {arguments}".rstrip())
    return steps
