"""The command line's flags, built from the parameter declarations (:mod:`vaelab.params`).

Each declared parameter is one flag named after it (``latent_dim`` ->
``--latent-dim``, plus its short aliases), and each field of a structured
parameter one flag named after the field (``network``'s ``hidden_dims`` ->
``--hidden-dims``). Help text, value names and defaults come from the
declaration; a flag that is not given is None, so that a ``--config`` file or
a recipe can set it. Values are parsed by the declaration's kind, so the
command line, config files and Python read one vocabulary, with one error
message. Nothing here imports torch.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Optional

import typer

from vaelab.cli.errors import ConfigError, UsageError
from vaelab.errors import InputError
from vaelab.params import Bool, OrNone, Param, ParamSet, Struct, flag_names, plain

if typing.TYPE_CHECKING:
    from pathlib import Path

    from vaelab.runs.spec import RunSpec

#: Python names of the generated parameters: ``p__latent_dim`` (never clashing with a command's own options)
PREFIX = "p__"


def _default_note(param: Param, defaults: dict[str, Any]) -> str:
    """``[default: 16]``, or ``[default: 16; pca: 2]`` when the models' defaults differ; "" when the help says it."""
    if "[default:" in param.help or not defaults:
        return ""

    def text(value: Any) -> str:
        value = plain(value)
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, list):
            return ",".join(map(str, value))
        if isinstance(value, dict):
            return ", ".join(f"{k}={text(v)}" for k, v in value.items())
        return str(value)

    values = [(owner, v) for owner, v in defaults.items() if v is not None]
    if not values:
        return ""
    first = values[0][1]
    others = [f"{owner}: {text(v)}" for owner, v in values[1:] if v != first]
    return f" [default: {'; '.join([text(first), *others])}]"


def declared_options(
    sets: dict[str, ParamSet], *, exclude: Sequence[str] = ()
) -> list[inspect.Parameter]:
    """The Typer parameters of the union of ``sets`` (label -> ParamSet, labels name the models in help)."""
    out: list[inspect.Parameter] = []
    for name, (param, sub) in flag_names(list(sets.values())).items():
        if name in exclude:
            continue
        target = sub or param
        if isinstance(target.kind, Struct) or (isinstance(target.kind, OrNone) and isinstance(target.kind.inner, Struct)):
            continue  # a dict of options: its fields are the flags
        defaults = {}
        for label, pset in sets.items():
            if param.name in pset:
                declared = pset[param.name]
                value = declared.field(name).default if sub else declared.default
                if sub is not None and isinstance(declared.default, dict):
                    value = declared.default.get(name, value)
                defaults[label] = value
        help_text = target.help + _default_note(target, defaults)
        decls = [target.flag, *target.aliases]
        is_bool = isinstance(target.kind, Bool) or (isinstance(target.kind, OrNone) and isinstance(target.kind.inner, Bool))
        panel = param.panel  # a field's flag stands with its parameter's
        if is_bool:
            decls = [f"{target.flag}/--no-{target.flag[2:]}"]
            annotation: Any = Annotated[Optional[bool], typer.Option(
                *decls, help=help_text, rich_help_panel=panel, show_default=False)]
        else:
            annotation = Annotated[Optional[str], typer.Option(
                *decls, help=help_text, rich_help_panel=panel, show_default=False,
                metavar=target.kind.metavar or None)]
        out.append(inspect.Parameter(PREFIX + name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation))
    return out


def given_values(kwargs: dict[str, Any], sets: Sequence[ParamSet]) -> dict[str, Any]:
    """The declared flags that were given, as ``name: value`` (parsed by their kinds; not yet checked
    against one model: :meth:`vaelab.runs.RunSpec.from_layers` does that)."""
    names = flag_names(list(sets))
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if not key.startswith(PREFIX) or value is None:
            continue
        name = key[len(PREFIX):]
        param, sub = names[name]
        target = sub or param
        try:
            out[name] = value if isinstance(value, bool) else target.kind.parse(target.flag, value)
        except InputError as exc:
            raise UsageError(str(exc)) from None
    return out


def with_declared_options(
    function: Callable[..., Any], sets: dict[str, ParamSet], *, exclude: Sequence[str] = ()
) -> Callable[..., Any]:
    """``function`` with the declared flags added to its signature, for Typer to read.

    ``function`` takes its own options and ``**declared`` (``p__NAME`` keyword
    arguments); :func:`given_values` turns those into option values.
    """
    hints = typing.get_type_hints(function, include_extras=True)  # the command's own options, evaluated
    own = [p.replace(annotation=hints.get(p.name, p.annotation))
           for p in inspect.signature(function).parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    generated = declared_options(sets, exclude=[*exclude, *(p.name for p in own)])
    required = [p for p in own if p.default is inspect.Parameter.empty]
    rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own if p.default is not inspect.Parameter.empty]
    params = [*required, *rest, *generated]
    function.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    function.__annotations__ = {p.name: p.annotation for p in params}
    return function


def spec_from(
    given: dict[str, Any], *, config_file: Path | None, recipe: str | None = None, estimator: str | None = None
) -> RunSpec:
    """A command's run spec: defaults < ``--recipe`` < ``--config`` < the command line (``given``), checked as the
    estimator checks its parameters; any bad option is a usage error naming where it came from."""
    from vaelab.runs.recipes import recipe as recipe_values
    from vaelab.runs.spec import RunSpec, read_layer

    layers: list[dict[str, Any]] = []
    sources: list[str] = []
    try:
        if recipe is not None:
            layers.append(recipe_values(recipe))
            sources.append(f"--recipe {recipe}")
        if config_file is not None:
            layers.append(read_layer(config_file))
            sources.append(str(config_file))
        spec = RunSpec.from_layers([*layers, given], sources=[*sources, "options"], estimator=estimator)
        spec.build_estimator()  # a part's own checks (an unknown prior, say) are usage errors too
    except InputError as exc:
        raise ConfigError(str(exc)) from None
    return spec
