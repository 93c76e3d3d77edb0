"""MkDocs hook: the CLI, REST and configuration reference pages, generated from the code at build time.

- ``reference/cli.md`` walks the click command tree of ``shipyard.cli.app`` (Typer): every command
  and group with its help, usage, arguments and options.
- ``reference/rest.md`` renders the OpenAPI document of the app that ``shipyard.server.create_app``
  builds (on a throw-away SQLite store), grouped by tag, with the schemas it references.
- ``reference/configuration.md`` lists the fields of ``shipyard.core.config.Settings``.

Nothing here is written to disk: the pages exist only in the build. ``tests/docs`` imports the same
functions to check that every command and every route is on the pages.
"""

from __future__ import annotations

import json
import re
import tempfile
import types
import typing
from pathlib import Path
from typing import Any

__all__ = ["cli_reference", "configuration_reference", "on_files", "rest_reference"]

GENERATED = {
    "reference/cli.md": "cli_reference",
    "reference/rest.md": "rest_reference",
    "reference/configuration.md": "configuration_reference",
}
METHODS = ("get", "head", "post", "put", "patch", "delete", "options")
DERIVED = ("database_url", "artifact_root", "prediction_log_dir", "model_cache_dir")


def _cell(text: Any) -> str:
    """Text that is safe inside one Markdown table cell."""
    value = " ".join(str(text).split())
    return value.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _prose(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _slug(*parts: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")


# --- CLI ---------------------------------------------------------------------------------------------


def _type_name(annotation: Any) -> str:
    if annotation is None or annotation is type(None):
        return ""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(arg) for arg in typing.get_args(annotation) if arg is not type(None)]
        return " | ".join(name for name in names if name)
    if origin is not None:
        args = ", ".join(_type_name(arg) for arg in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    return getattr(annotation, "__name__", str(annotation))


def _param_type(param: Any) -> str:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        name = _type_name(descriptor.annotation)
    else:  # plain click parameters
        name = getattr(getattr(param, "type", None), "name", "")
    bounds = [
        f"{label} {value}" for label, value in (("≥", param.min), ("≤", param.max)) if value is not None
    ]
    return name + (f" ({', '.join(bounds)})" if bounds else "")


def _default(param: Any) -> str:
    default = param.default
    if param.required or default is None or callable(default):
        return ""
    if getattr(param, "secondary_opts", None) and isinstance(default, bool):
        return param.opts[0] if default else param.secondary_opts[0]
    if isinstance(default, list | tuple):
        return ", ".join(str(item) for item in default) if default else ""
    return f"`{default}`"


def _command_section(command: Any, path: list[str], context: Any, lines: list[str]) -> None:
    from typer._click.core import Context

    name = " ".join(path)
    depth = min(len(path) + 1, 4)
    lines += [f"{'#' * depth} `{name}` {{ #{_slug(*path)} }}", ""]
    help_text = (command.help or "").strip()
    if help_text:
        lines += [_prose(help_text), ""]
    usage = command.get_usage(context).removeprefix("Usage: ").strip()
    lines += ["```text", usage, "```", ""]
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    options = [p for p in command.params if p.param_type_name == "option" and not p.hidden]
    if arguments:
        lines += ["| argument | type | required | help |", "|---|---|---|---|"]
        for param in arguments:
            label = param.name.upper() + (" …" if param.nargs == -1 else "")
            required = "yes" if param.required else "no"
            lines.append(
                f"| `{label}` | {_cell(_param_type(param))} | {required} | {_cell(param.help or '')} |"
            )
        lines.append("")
    if options:
        lines += ["| option | type | default | help |", "|---|---|---|---|"]
        for param in options:
            names = " / ".join(f"`{opt}`" for opt in [*param.opts, *param.secondary_opts])
            kind = "flag" if getattr(param, "is_flag", False) else _param_type(param)
            help_text = param.help or ""
            if param.multiple:
                help_text += " (repeatable)"
            if param.envvar:
                help_text += f" Environment: `{param.envvar}`."
            if param.required:
                help_text += " Required."
            lines.append(f"| {names} | {_cell(kind)} | {_default(param)} | {_cell(help_text)} |")
        lines.append("")
    subcommands = getattr(command, "commands", None)
    if subcommands:
        lines += ["| command | what it does |", "|---|---|"]
        for sub_name in command.list_commands(context):
            sub = command.get_command(context, sub_name)
            summary = (sub.help or "").strip().split("\n\n")[0]
            lines.append(f"| [`{sub_name}`](#{_slug(*path, sub_name)}) | {_cell(summary)} |")
        lines.append("")
        for sub_name in command.list_commands(context):
            sub = command.get_command(context, sub_name)
            _command_section(sub, [*path, sub_name], Context(sub, info_name=sub_name, parent=context), lines)


def cli_commands() -> list[str]:
    """Every command path of the ``shipyard`` command, e.g. ``shipyard monitors alerts add``."""
    import typer.main
    from typer._click.core import Context

    from shipyard.cli import app

    found: list[str] = []

    def walk(command: Any, path: list[str], context: Any) -> None:
        found.append(" ".join(path))
        if getattr(command, "commands", None):
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                walk(sub, [*path, name], Context(sub, info_name=name, parent=context))

    root = typer.main.get_command(app)
    walk(root, ["shipyard"], Context(root, info_name="shipyard"))
    return found


def cli_reference() -> str:
    import typer.main
    from typer._click.core import Context

    from shipyard.cli import app

    root = typer.main.get_command(app)
    lines = [
        "# CLI reference",
        "",
        "Generated from the `shipyard` command (Typer) when the site is built. Every command also takes",
        "`-h`/`--help`. Exit codes: 0 success, 1 a failed operation, 2 bad usage or configuration.",
        "The global options (`--url`, `--token`, `--debug`) go before the command:",
        "`shipyard --url http://host:7400 runs show RUN_ID`.",
        "",
    ]
    _command_section(root, ["shipyard"], Context(root, info_name="shipyard"), lines)
    return "\n".join(lines) + "\n"


# --- REST --------------------------------------------------------------------------------------------


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the server app, built on a throw-away SQLite store."""
    from shipyard.core.config import Settings
    from shipyard.server import create_app

    with tempfile.TemporaryDirectory(prefix="shipyard-docs-") as home:
        settings = Settings(
            home=Path(home),
            database_url=f"sqlite:///{home}/shipyard.db",
            artifact_root=f"{home}/artifacts",
            serving_enabled=True,
        )
        return create_app(settings).openapi()


def _schema_type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{_slug('schema', name)})"
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return " \\| ".join(_schema_type(part) for part in schema[key])
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(value)}`" for value in schema["enum"])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list[{_schema_type(schema.get('items', {}))}]"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"dict[str, {_schema_type(schema['additionalProperties'])}]"
    if isinstance(kind, list):
        return " \\| ".join(kind)
    fmt = schema.get("format")
    return f"{kind} ({fmt})" if fmt else str(kind)


def _operation(method: str, path: str, operation: dict[str, Any], lines: list[str]) -> None:
    lines += [f"### {operation.get('summary') or path}", "", f"`{method.upper()} {path}`", ""]
    if operation.get("description"):
        lines += [_prose(operation["description"].strip()), ""]
    parameters = operation.get("parameters", [])
    if parameters:
        lines += ["| parameter | in | type | required | description |", "|---|---|---|---|---|"]
        for parameter in parameters:
            schema = parameter.get("schema", {})
            description = parameter.get("description") or schema.get("description") or ""
            if "default" in schema:
                description += f" Default: `{json.dumps(schema['default'])}`."
            lines.append(
                f"| `{parameter['name']}` | {parameter['in']} | {_schema_type(schema)} | "
                f"{'yes' if parameter.get('required') else 'no'} | {_cell(description)} |"
            )
        lines.append("")
    body = operation.get("requestBody")
    if body:
        bodies = [
            f"`{media}`: {_schema_type(content.get('schema', {}))}"
            for media, content in body["content"].items()
        ]
        lines += [f"Request body{' (required)' if body.get('required') else ''}: " + "; ".join(bodies), ""]
    lines += ["| status | description | body |", "|---|---|---|"]
    for status, response in operation.get("responses", {}).items():
        contents = response.get("content", {})
        shapes = "; ".join(
            f"`{media}` {_schema_type(content.get('schema', {}))}".strip()
            for media, content in contents.items()
        )
        lines.append(f"| {status} | {_cell(response.get('description', ''))} | {shapes} |")
    lines.append("")


def _schema_section(name: str, schema: dict[str, Any], lines: list[str]) -> None:
    lines += [f"### {name} {{ #{_slug('schema', name)} }}", ""]
    if schema.get("description"):
        lines += [_prose(schema["description"].strip()), ""]
    properties = schema.get("properties", {})
    if not properties:
        lines += [f"Type: {_schema_type(schema)}", ""]
        return
    required = set(schema.get("required", []))
    lines += ["| field | type | required | description |", "|---|---|---|---|"]
    for field, spec in properties.items():
        description = spec.get("description", "")
        if "default" in spec and spec["default"] is not None:
            description += f" Default: `{json.dumps(spec['default'])}`."
        needed = "yes" if field in required else "no"
        lines.append(f"| `{field}` | {_schema_type(spec)} | {needed} | {_cell(description)} |")
    lines.append("")


def rest_reference(document: dict[str, Any] | None = None) -> str:
    document = document or openapi_document()
    groups: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                tag = (item[method].get("tags") or ["service"])[0]
                groups.setdefault(tag, []).append((method, path, item[method]))
    lines = [
        "# REST reference",
        "",
        f"Generated from the server's OpenAPI document ({document['info']['title']} "
        f"{document['info']['version']}, OpenAPI {document['openapi']}) when the site is built. A running",
        "server serves the same document at `/openapi.json` and an interactive view at `/docs`.",
        "",
        "Errors share one body, `{error_code, message, field, request_id}`; bad input gets a 4xx whose",
        "`field` names the culprit. With auth on, send `Authorization: Bearer <token>`.",
        "",
        "| group | operations |",
        "|---|---|",
    ]
    for tag in sorted(groups):
        lines.append(f"| [{tag}](#{_slug('tag', tag)}) | {len(groups[tag])} |")
    lines.append("")
    for tag in sorted(groups):
        lines += [f"## {tag} {{ #{_slug('tag', tag)} }}", ""]
        for method, path, operation in groups[tag]:
            _operation(method, path, operation, lines)
    lines += ["## Schemas", ""]
    for name, schema in sorted(document.get("components", {}).get("schemas", {}).items()):
        _schema_section(name, schema, lines)
    return "\n".join(lines) + "\n"


# --- configuration -----------------------------------------------------------------------------------


def configuration_reference() -> str:
    from shipyard.core.config import ENV_PREFIX, Settings

    lines = [
        "# Configuration reference",
        "",
        "Generated from `shipyard.core.config.Settings` when the site is built. Precedence, highest first:",
        "`SHIPYARD_*` environment variables, then the TOML file (`SHIPYARD_CONFIG`, else",
        "`$SHIPYARD_HOME/shipyard.toml`; flat or under a `[shipyard]` table, keys are the field names),",
        "then the defaults. A bad value stops any command with one line naming the setting (exit code 2).",
        "`shipyard config` prints the effective values, secrets masked.",
        "",
        "| environment variable | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        if field.default_factory is not None:
            default = "~/.shipyard" if name == "home" else json.dumps(field.default_factory())  # type: ignore[call-arg]
        else:
            default = "(from home, below)" if name in DERIVED else json.dumps(field.default)
        description = field.description or ""
        lines.append(
            f"| `{ENV_PREFIX}{name.upper()}` | {_cell(_type_name(field.annotation))} | `{default}` | "
            f"{_cell(description)} |"
        )
    lines += [
        "",
        "Empty `database_url`, `artifact_root`, `prediction_log_dir` and `model_cache_dir` are derived from",
        "the home folder: `sqlite:///$SHIPYARD_HOME/shipyard.db`, `$SHIPYARD_HOME/artifacts`,",
        "`$SHIPYARD_HOME/predictions` and `$SHIPYARD_HOME/model-cache`.",
        "",
    ]
    return "\n".join(lines)


# --- the hook ----------------------------------------------------------------------------------------


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for uri, function in GENERATED.items():
        existing = files.get_file_from_path(uri)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, uri, content=globals()[function]()))
    return files
