"""An mkdocs hook: the CLI reference page, written from the command line itself at build time.

``docs/cli.md`` holds the marker ``<!-- cli-reference -->``; this hook replaces
it with one section per command of the Click tree that
``typer.main.get_command(vaelab.cli.app.build_app())`` returns, groups
included: the command's help, its usage line, a table of its arguments and a
table of its options per help panel (flags and aliases, type or choices,
default, help; hidden options left out), and its epilog (the examples).

Nothing here names an option: everything comes from Click's public objects
(``Command.params``, ``Option.opts``/``secondary_opts``/``help``/``default``/
``hidden``, ``Group.commands``, and Typer's ``rich_help_panel`` where it
exists), so a flag added to a command shows here with no other edit. The
objects are told apart by their public attributes (``param_type_name``,
``commands``, ``choices``), not by ``isinstance``: recent Typer releases ship
their own copy of Click (``typer._click``), whose classes are not ``click``'s.
"""

from __future__ import annotations

import enum
import inspect
import re
from collections.abc import Iterator
from typing import Any

MARKER = "<!-- cli-reference -->"
DEFAULT_PANEL = "Options"


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Fill the CLI page's marker; every other page passes through unchanged."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, cli_reference())


def cli_reference() -> str:
    """The Markdown of every command of ``vaelab``, the root first, then depth first in registration order."""
    import typer.main

    from vaelab.cli.app import build_app

    root = typer.main.get_command(build_app())
    ctx = root.context_class(root, info_name="vaelab")
    return "\n".join(_section(command, ctx) for command, ctx in _walk(root, ctx))


def _walk(command: Any, ctx: Any) -> Iterator[tuple[Any, Any]]:
    """(command, its click context) for a command and everything below it."""
    yield command, ctx
    for name, sub in _subcommands(command).items():
        yield from _walk(sub, sub.context_class(sub, info_name=name, parent=ctx))


def _subcommands(command: Any) -> dict[str, Any]:
    """A group's visible subcommands by name; ``{}`` for a plain command."""
    return {name: sub for name, sub in getattr(command, "commands", {}).items() if not sub.hidden}


def _is_option(param: Any) -> bool:
    return param.param_type_name == "option"


def _is_flag(param: Any) -> bool:
    return _is_option(param) and param.is_flag and not param.count


def _section(command: Any, ctx: Any) -> str:
    path = ctx.command_path
    depth = min(2 + path.count(" "), 4)
    out = [f"{'#' * depth} `{path}`", ""]
    text = _help(command.help)
    if text:
        out += [text, ""]
    pieces = " ".join(command.collect_usage_pieces(ctx))
    out += ["```", f"{path} {pieces}".rstrip(), "```", ""]
    subcommands = _subcommands(command)
    if subcommands:
        out += ["| command | what it does |", "| --- | --- |"]
        for name, sub in subcommands.items():
            anchor = _anchor(f"{path} {name}")
            out.append(f"| [`{name}`](#{anchor}) | {_cell(sub.get_short_help_str(limit=200))} |")
        out.append("")
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    if arguments:
        out += ["**Arguments**", "", "| argument | type | required | default | help |", "| --- | --- | --- | --- | --- |"]
        for argument in arguments:
            name = argument.metavar or argument.name.upper()
            out.append(
                f"| `{name}` | {_type(argument, ctx)} | {'yes' if argument.required else 'no'} | "
                f"{_default(argument)} | {_cell(getattr(argument, 'help', None) or '')} |"
            )
        out.append("")
    panels: dict[str, list[Any]] = {}
    for param in command.params:
        if _is_option(param) and not param.hidden:
            panels.setdefault(getattr(param, "rich_help_panel", None) or DEFAULT_PANEL, []).append(param)
    for panel, options in panels.items():
        out += [f"**{panel}**", "", "| option | type | default | help |", "| --- | --- | --- | --- |"]
        for option in options:
            flags = ", ".join(f"`{flag}`" for flag in [*option.opts, *option.secondary_opts])
            help_text = _cell(option.help or "")
            if option.required:
                help_text = f"(required) {help_text}".strip()
            out.append(f"| {flags} | {_type(option, ctx)} | {_default(option)} | {help_text} |")
        out.append("")
    if command.epilog:
        out += [_help(command.epilog), ""]
    return "\n".join(out)


def _help(text: str | None) -> str:
    """A help text as Markdown: Click's ``\\f`` cut and ``\\b`` no-rewrap marks removed, the indent dedented."""
    if not text:
        return ""
    text = text.split("\f", 1)[0]
    lines = [line for line in text.splitlines() if line.strip() != "\b"]
    return inspect.cleandoc("\n".join(lines))


def _type(param: Any, ctx: Any) -> str:
    """The parameter's type or its choices, from Click's ``type`` or, in Typer's Click, its ``type_descriptor``."""
    kind = getattr(param, "type", None)  # Click's ParamType; Typer's own parameters describe their type lazily
    descriptor = getattr(param, "type_descriptor", None)
    tuple_types = getattr(kind, "types", None)
    choices = getattr(kind, "choices", None) or (descriptor.choices if getattr(descriptor, "is_choice", False) else None)
    if _is_flag(param):
        text = "flag"
    elif choices:
        text = " \\| ".join(f"`{_plain(choice)}`" for choice in choices)
    elif tuple_types:
        text = " ".join(t.name for t in tuple_types)
    elif kind is not None:
        text = kind.name
    else:
        text = param.display_type(ctx).strip("<>").replace(" range", "")
    low = getattr(param, "min", getattr(kind, "min", None))
    high = getattr(param, "max", getattr(kind, "max", None))
    if not _is_flag(param) and (low is not None or high is not None):
        text += f", {low if low is not None else ''}..{high if high is not None else ''}"
    if param.multiple:
        text += " (repeatable)"
    elif param.nargs not in (1, None) and not tuple_types:
        text += " (one or more)" if param.nargs == -1 else f" ({param.nargs} values)"
    return text


def _default(param: Any) -> str:
    if _is_option(param) and param.show_default is False:
        return ""
    default = param.default
    if callable(default):
        return "(computed)"
    if default is None or (param.multiple and not default):
        return ""
    if _is_flag(param):
        if param.secondary_opts:
            return f"`{(param.opts if default else param.secondary_opts)[-1]}`"
        return "on" if default else "off"
    if isinstance(default, (list, tuple)):
        return _cell(", ".join(f"`{_plain(v)}`" for v in default))
    return f"`{_cell(str(_plain(default)))}`"


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _cell(text: str) -> str:
    """Text for one table cell: one line, pipes escaped."""
    return re.sub(r"\s+", " ", text).strip().replace("|", "\\|")


def _anchor(title: str) -> str:
    """The id Python-Markdown's toc extension gives a heading (its default ``slugify``)."""
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", title).strip().lower())
