"""One declaration per option: a parameter's name, type, default, valid values and help text, in one place.

Every estimator declares its parameters once, as a :class:`ParamSet` of
:class:`Param` (in the spirit of scikit-learn's ``_parameter_constraints``,
diffusers' ``register_to_config`` and Typer's signature-built commands). From
that declaration come:

- the estimator's ``__init__`` and its signature (so ``get_params``, ``clone``
  and scikit-learn's checks see it), and the "Parameters" section of its
  docstring (:func:`declared`);
- the checks before ``fit`` (:meth:`ParamSet.validate`), with one message
  format for the Python API, the command line and config files;
- the saved ``config.json`` (``params``) and a run's ``config.toml``
  (``[estimator.params]``), which TOML writes without its absent (``None``)
  values (:meth:`ParamSet.to_toml`, :meth:`ParamSet.from_toml`);
- the command line's flags, one per parameter (``--latent-dim``), and one per
  field of a structured parameter (``--hidden-dims`` is ``network``'s
  ``hidden_dims``), built by :mod:`vaelab.cli.flags`;
- the docs' parameter tables and CLI reference.

This module is pure Python (no torch, no NumPy), so that ``vaelab --help``
can build every flag without loading them.

>>> epochs = Param("epochs", 30, "Passes over the training data.", Int(low=1))
>>> params = ParamSet([epochs])
>>> params.validate({"epochs": 5})
{'epochs': 5}
>>> params.validate({"epochs": 0})
Traceback (most recent call last):
...
vaelab.errors.OptionError: epochs must be an integer >= 1, got 0
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vaelab.errors import OptionError

#: panels of the command line's help, in the order they are shown
DATA, MODEL, VAE_PANEL, TRAINING, OUTPUT = "Data", "Model", "VAE objective and prior", "Training", "Output"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --------------------------------------------------------------------------- kinds of values


class Kind:
    """What values a parameter takes: checking a Python value, and parsing command-line text."""

    #: shown in a flag's help: ``--epochs INT``
    metavar = "VALUE"

    def check(self, name: str, value: Any) -> Any:
        """Return ``value`` (normalized: an int for a float parameter becomes a float) or raise an InputError."""
        raise NotImplementedError

    def parse(self, name: str, text: str) -> Any:
        """The value of command-line text (then checked); by default the text itself."""
        return self.check(name, text)

    def describe(self) -> str:
        """The valid values, in words (used in errors and in the docs)."""
        raise NotImplementedError

    def error(self, name: str, value: Any) -> OptionError:
        return OptionError(f"{name} must be {self.describe()}, got {value!r}")


@dataclass(frozen=True)
class Int(Kind):
    """An integer in [low, high] (either bound may be None)."""

    low: int | None = None
    high: int | None = None
    metavar = "INT"

    def check(self, name: str, value: Any) -> int:
        if not _is_int(value) and not (isinstance(value, float) and value.is_integer() and abs(value) < 2**53):
            raise self.error(name, value)
        value = int(value)
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise self.error(name, value)
        return value

    def parse(self, name: str, text: str) -> int:
        try:
            value = float(text) if any(c in text.lower() for c in ".e") else int(text)
        except ValueError:
            raise self.error(name, text) from None
        return self.check(name, value)

    def describe(self) -> str:
        if self.low is not None and self.high is not None:
            return f"an integer in [{self.low}, {self.high}]"
        if self.low is not None:
            return f"an integer >= {self.low}"
        return "an integer"


@dataclass(frozen=True)
class Float(Kind):
    """A finite number in [low, high] or (low, high) (``open_low``/``open_high``)."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    metavar = "FLOAT"

    def check(self, name: str, value: Any) -> float:
        if not _is_number(value) or value != value or value in (float("inf"), float("-inf")):
            raise self.error(name, value)
        value = float(value)
        if self.low is not None and (value < self.low or (self.open_low and value == self.low)):
            raise self.error(name, value)
        if self.high is not None and (value > self.high or (self.open_high and value == self.high)):
            raise self.error(name, value)
        return value

    def parse(self, name: str, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise self.error(name, text) from None
        return self.check(name, value)

    def describe(self) -> str:
        lo = "(" if self.open_low else "["
        hi = ")" if self.open_high else "]"
        if self.low is not None and self.high is not None:
            return f"a number in {lo}{self.low:g}, {self.high:g}{hi}"
        if self.low is not None:
            return f"a number {'>' if self.open_low else '>='} {self.low:g}"
        if self.high is not None:
            return f"a number {'<' if self.open_high else '<='} {self.high:g}"
        return "a finite number"


@dataclass(frozen=True)
class Bool(Kind):
    """True or False (a command-line switch ``--x/--no-x``)."""

    metavar = ""

    def check(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.error(name, value)
        return value

    def parse(self, name: str, text: str) -> bool:
        lowered = str(text).strip().lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise self.error(name, text)

    def describe(self) -> str:
        return "true or false"


@dataclass(frozen=True)
class Choice(Kind):
    """One of a few strings. ``legacy`` maps older spellings (Python values of earlier versions) to them."""

    values: tuple[str, ...]
    legacy: Mapping[Any, str] = field(default_factory=dict)

    @property
    def metavar(self) -> str:  # type: ignore[override]
        return "[" + "|".join(self.values) + "]"

    def check(self, name: str, value: Any) -> str:
        for old, new in self.legacy.items():
            if value is old or (type(value) is type(old) and value == old):
                return new
        if isinstance(value, str) and value in self.values:
            return value
        message = f"{name} must be one of {', '.join(map(repr, self.values))}, got {value!r}"
        close = difflib.get_close_matches(str(value), self.values, n=1)
        raise OptionError(message + (f" (did you mean {close[0]!r}?)" if close else ""))

    def describe(self) -> str:
        return "one of " + ", ".join(map(repr, self.values))


@dataclass(frozen=True)
class Text(Kind):
    """A string, or a value of one of ``types`` (a rules file's path, or in Python the rules themselves);
    checked further where it is used (a schedule, a path, a device)."""

    what: str = "a string"
    types: tuple[type, ...] = (str,)
    metavar: str = "TEXT"

    def check(self, name: str, value: Any) -> Any:
        if not isinstance(value, self.types):
            raise self.error(name, value)
        return value

    def describe(self) -> str:
        return self.what


@dataclass(frozen=True)
class IntList(Kind):
    """A sequence of integers >= ``low`` (empty only with ``empty``); a tuple in Python, ``512,256`` on the
    command line."""

    low: int = 1
    empty: bool = False
    metavar = "N,N,..."

    def check(self, name: str, value: Any) -> tuple[int, ...]:
        if _is_int(value):
            value = (value,)
        ok = isinstance(value, (list, tuple)) and (bool(value) or self.empty)
        if not ok or not all(_is_int(v) and v >= self.low for v in value):
            raise self.error(name, value)
        return tuple(int(v) for v in value)

    def parse(self, name: str, text: str) -> tuple[int, ...]:
        try:
            values = [int(part) for part in str(text).replace(" ", "").split(",") if part]
        except ValueError:
            raise OptionError(f"{name} must be comma-separated integers such as 512,256, got {text!r}") from None
        return self.check(name, values)

    def describe(self) -> str:
        return f"a list of integers >= {self.low} such as [512, 256]"


@dataclass(frozen=True)
class OrNone(Kind):
    """``inner``'s values, or None (absent: TOML has no null, so it is left out of config files)."""

    inner: Kind

    @property
    def metavar(self) -> str:  # type: ignore[override]
        return self.inner.metavar

    def check(self, name: str, value: Any) -> Any:
        return None if value is None else self.inner.check(name, value)

    def parse(self, name: str, text: str) -> Any:
        return self.inner.parse(name, text)

    def describe(self) -> str:
        return f"{self.inner.describe()}, or None"


@dataclass(frozen=True)
class Spec(Kind):
    """A named part with options: a name (``"vamp"``), a dict (``{"name": "vamp", "components": 500}``) or an
    object with ``to_dict()`` (a ``NetworkConfig``). ``key`` names the dict's naming field (``"name"``,
    ``"kind"``); the part's own options are its :class:`Param` ``fields``, checked here by kind and in depth
    by the part when it is built. ``open`` allows options not declared here (a likelihood's own)."""

    key: str
    names: tuple[str, ...] = ()
    open: bool = False
    metavar = "NAME"

    def check(self, name: str, value: Any) -> Any:
        if hasattr(value, "to_dict") and not isinstance(value, (str, dict)):
            return value  # a config object: the part checks itself
        if isinstance(value, str):
            if self.names and value not in self.names:
                raise Choice(self.names).check(name, value)
            return value
        if not isinstance(value, Mapping) or not isinstance(value.get(self.key), str):
            raise OptionError(f"{name} must be a name or a dict with a {self.key!r} naming it, got {value!r}")
        if self.names and value[self.key] not in self.names:
            raise Choice(self.names).check(name, value[self.key])
        return dict(value)

    def describe(self) -> str:
        names = f" ({', '.join(self.names)})" if self.names else ""
        return f"a name{names} or a dict with a {self.key!r}"


@dataclass(frozen=True)
class Struct(Kind):
    """A dict of named options (``trainer_options``), each declared as a field of the :class:`Param`."""

    metavar = "DICT"

    def check(self, name: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(name, value)
        return dict(value)

    def describe(self) -> str:
        return "a dict of the options below"


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Param:
    """One declared parameter.

    Parameters
    ----------
    name : str
        The keyword of ``__init__``, the key in ``config.json``/``config.toml``,
        and (with dashes) the command-line flag.
    default : Any
        The default value (None only for an :class:`OrNone` kind, where None
        means "absent" and config files leave it out).
    help : str
        One or two sentences: what it does, and how its values are read.
    kind : Kind
        Its valid values.
    aliases : tuple of str
        Short command-line aliases (``-z``), never another name.
    panel : str
        The group of options in ``--help``.
    cli : bool
        False for a parameter with no command-line flag (a Python object such as
        ``verbose``, which the command line replaces by its own progress).
    fields : tuple of Param
        For a :class:`Spec`: the options of the part that get flags of their own
        (``network``'s ``hidden_dims`` is ``--hidden-dims``).
    doc : str
        The type line of the docstring (numpydoc), e.g. ``"int"``.
    """

    name: str
    default: Any
    help: str
    kind: Kind
    aliases: tuple[str, ...] = ()
    panel: str = MODEL
    cli: bool = True
    fields: tuple[Param, ...] = ()
    doc: str = ""

    def __post_init__(self) -> None:
        if self.default is None and not isinstance(self.kind, OrNone):
            raise ValueError(f"{self.name}: a default of None needs an Optional kind")
        if isinstance(self.kind, OrNone) and self.default is not None:
            raise ValueError(f"{self.name}: an Optional parameter's default must be None (TOML cannot write None)")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def check(self, value: Any) -> Any:
        """``value`` checked against the kind and, in a dict, each declared field (copied, never changed in place)."""
        value = self.kind.check(self.name, value)
        if self.fields and isinstance(value, dict):
            kind = self.kind.inner if isinstance(self.kind, OrNone) else self.kind
            own = {f.name: f for f in self.fields}
            for key, v in value.items():
                if key in own:
                    value[key] = own[key].kind.check(f"{self.name}[{key!r}]", v)
                elif not getattr(kind, "open", False) and key != getattr(kind, "key", None):
                    close = difflib.get_close_matches(str(key), list(own), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    raise OptionError(f"unknown {self.name} option {key!r}{hint}; valid: {', '.join(own)}")
        return value

    def replace(self, **changes: Any) -> Param:
        return dataclasses.replace(self, **changes)

    def field(self, name: str) -> Param:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


class ParamSet:
    """An ordered set of :class:`Param`: an estimator's whole declaration.

    Sets compose: ``VAE_PARAMS = NEURAL + OBJECTIVE``; ``set.without("k")``;
    ``set.with_defaults(latent_dim=32)`` (another default, the same declaration).
    """

    def __init__(self, params: Iterable[Param]) -> None:
        self._params: dict[str, Param] = {}
        for p in params:
            if p.name in self._params:
                raise ValueError(f"parameter {p.name!r} declared twice")
            self._params[p.name] = p

    def __iter__(self) -> Iterator[Param]:
        return iter(self._params.values())

    def __len__(self) -> int:
        return len(self._params)

    def __contains__(self, name: object) -> bool:
        return name in self._params

    def __getitem__(self, name: str) -> Param:
        return self._params[name]

    def __add__(self, other: Iterable[Param]) -> ParamSet:
        return ParamSet([*self, *other])

    @property
    def names(self) -> list[str]:
        return list(self._params)

    def without(self, *names: str) -> ParamSet:
        missing = set(names) - set(self._params)
        if missing:
            raise KeyError(f"no such parameters: {sorted(missing)}")
        return ParamSet(p for p in self if p.name not in names)

    def with_defaults(self, **defaults: Any) -> ParamSet:
        missing = set(defaults) - set(self._params)
        if missing:
            raise KeyError(f"no such parameters: {sorted(missing)}")
        return ParamSet(p.replace(default=defaults[p.name]) if p.name in defaults else p for p in self)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self}

    # ------------------------------------------------------------ checking

    def validate(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Check every value (missing ones take their defaults) and return them normalized.

        Raises
        ------
        OptionError
            For an unknown name (naming the nearest declared one) or a bad value.
        """
        self.check_names(values)
        return {p.name: p.check(values.get(p.name, p.default)) for p in self}

    def check_names(self, values: Iterable[str], *, source: str = "", what: str = "parameter") -> None:
        for name in values:
            if name not in self._params:
                close = difflib.get_close_matches(name, self.names, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                where = f"{source}: " if source else ""
                raise OptionError(f"{where}unknown {what} {name!r}{hint}; valid: {', '.join(self.names)}")

    # --------------------------------------------------------------- files

    def to_toml(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The values as TOML can hold them: None left out, tuples as lists, config objects as dicts."""
        out: dict[str, Any] = {}
        for p in self:
            value = values.get(p.name, p.default)
            if value is not None:
                out[p.name] = plain(value)
        return out

    def from_toml(self, values: Mapping[str, Any], *, source: str) -> dict[str, Any]:
        """Values read from a config file (absent ones take their defaults), checked; errors name ``source``."""
        self.check_names(values, source=source)
        out = {}
        for p in self:
            try:
                out[p.name] = p.check(values[p.name]) if p.name in values else p.default
            except OptionError as exc:
                raise OptionError(f"{source}: {exc}") from None
        return out

    # ---------------------------------------------------------------- code

    def signature(self) -> inspect.Signature:
        """``__init__``'s signature: ``self`` and every parameter, keyword-only."""
        params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        params += [inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default) for p in self]
        return inspect.Signature(params)

    def numpydoc(self, indent: str = "    ") -> str:
        """The "Parameters" entries of a numpydoc docstring, one per parameter."""
        lines = []
        for p in self:
            default = "None" if p.default is None else repr(p.default)
            lines.append(f"{indent}{p.name} : {p.doc or type_words(p.kind)}, default {default}")
            lines.append(f"{indent}    {p.help}")
            for f in p.fields:
                lines.append(f"{indent}    ``{f.name}`` ({f.kind.describe()}): {f.help}")
        return "\n".join(lines)


def type_words(kind: Kind) -> str:
    """A numpydoc type for ``kind``."""
    if isinstance(kind, OrNone):
        return f"{type_words(kind.inner)} or None"
    words = {Int: "int", Float: "float", Bool: "bool", Text: "str", IntList: "tuple of int", Spec: "str or dict",
             Struct: "dict"}
    return words.get(
        type(kind), "str"
    )


def plain(value: Any) -> Any:
    """A value as JSON/TOML data: tuples as lists, config objects through ``to_dict()``."""
    if hasattr(value, "to_dict") and not isinstance(value, dict):
        value = value.to_dict()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


# --------------------------------------------------------------------------- estimators


def declared(params: ParamSet) -> Callable[[type], type]:
    """Class decorator: give an estimator the ``__init__`` of its declaration, scikit-learn style.

    ``__init__`` stores each keyword argument as given (validation waits for
    ``fit``), takes no positional ones, and its signature lists the declared
    parameters, so ``get_params`` and ``clone`` work. A ``{parameters}`` mark in
    the class docstring is replaced by the declaration's numpydoc entries.
    """

    def decorate(cls: type) -> type:
        names = frozenset(params.names)

        def __init__(self: Any, **kwargs: Any) -> None:
            unknown = set(kwargs) - names
            if unknown:
                name = sorted(unknown)[0]
                close = difflib.get_close_matches(name, sorted(names), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {name!r}{hint}")
            for p in params:
                setattr(self, p.name, kwargs[p.name] if p.name in kwargs else copy.deepcopy(p.default))

        __init__.__signature__ = params.signature()  # type: ignore[attr-defined]
        __init__.__qualname__ = f"{cls.__name__}.__init__"
        __init__.__module__ = cls.__module__
        __init__.__doc__ = f"Store the parameters (see :class:`{cls.__name__}`); they are checked by ``fit``."
        cls.__init__ = __init__  # type: ignore[misc]
        cls.params = params  # type: ignore[attr-defined]
        if cls.__doc__ and "{parameters}" in cls.__doc__:
            cls.__doc__ = cls.__doc__.replace("{parameters}", params.numpydoc().lstrip())
        return cls

    return decorate


def fields_of(value: Any, param: Param) -> dict[str, Any]:
    """A :class:`Spec` value as a dict with its naming key (``"mlp"`` -> ``{"kind": "mlp"}``)."""
    checked = param.check(value)
    if isinstance(checked, str):
        kind = param.kind.inner if isinstance(param.kind, OrNone) else param.kind
        return {kind.key: checked}  # type: ignore[attr-defined]
    if hasattr(checked, "to_dict") and not isinstance(checked, dict):
        checked = checked.to_dict()
    return dict(checked)


def merge_fields(value: Any, param: Param, changes: Mapping[str, Any]) -> Any:
    """``value`` of the Spec ``param`` with some fields set (``--hidden-dims`` on top of ``--network conv``)."""
    if not changes:
        return value
    spec = fields_of(value, param)
    for name, v in changes.items():
        spec[name] = param.field(name).check(v)
    return spec


def flag_names(params: Sequence[ParamSet]) -> dict[str, tuple[Param, Param | None]]:
    """Every command-line name of the union of ``params``: name -> (param, field or None)."""
    out: dict[str, tuple[Param, Param | None]] = {}
    for pset in params:
        for p in pset:
            if not p.cli:
                continue
            out.setdefault(p.name, (p, None))
            for f in p.fields:
                out.setdefault(f.name, (p, f))
    return out
