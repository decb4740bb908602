"""One declaration per option: a parameter declared once reaches __init__, get_params, the checks, config.json,
config.toml, the command line and the docs, with no other edit."""

from __future__ import annotations

import inspect

import pytest
import typer
from typer.testing import CliRunner

from vaelab.cli.flags import given_values, with_declared_options
from vaelab.errors import OptionError
from vaelab.estimators.params import VAE_PARAMS, VAEGAN_FIXED, VAEGAN_PARAMS
from vaelab.params import Float, Int, Param, ParamSet, declared
from vaelab.runs import spec as run_spec

TOY = ParamSet([
    Param("latent_dim", 4, "Size of the code.", Int(low=1)),
    Param("toy_strength", 0.5, "How strong the toy is.", Float(low=0.0, high=1.0)),
])


@declared(TOY)
class Toy:
    """A toy estimator.

    Parameters
    ----------
    {parameters}
    """

    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in TOY.names}


def test_a_declared_parameter_reaches_init_the_checks_the_docs_config_toml_and_the_command_line(monkeypatch) -> None:
    toy = Toy(toy_strength=0.25)
    assert toy.toy_strength == 0.25 and Toy().toy_strength == 0.5  # __init__ and its default
    assert "toy_strength" in inspect.signature(Toy).parameters  # what scikit-learn's get_params reads
    with pytest.raises(TypeError, match="unexpected keyword argument 'toy_strenght' .*'toy_strength'"):
        Toy(toy_strenght=1)
    with pytest.raises(OptionError, match=r"toy_strength must be a number in \[0, 1\], got 2.0"):
        TOY.validate({"toy_strength": 2.0})
    assert "toy_strength : float, default 0.5\n        How strong the toy is." in Toy.__doc__  # the docs

    monkeypatch.setitem(run_spec.PARAM_SETS, "Toy", TOY)  # config.toml
    spec = run_spec.RunSpec.from_layers([{"data": "digits", "toy-strength": 0.75}], estimator="Toy")
    assert "toy_strength = 0.75" in spec.to_toml()

    seen = {}

    def command(**declared) -> None:  # the command line
        seen.update(given_values(declared, [TOY]))

    app = typer.Typer()
    app.command()(with_declared_options(command, {"toy": TOY}))
    runner = CliRunner()
    assert "--toy-strength" in runner.invoke(app, ["--help"]).output
    assert runner.invoke(app, ["--toy-strength", "0.125"]).exit_code == 0 and seen == {"toy_strength": 0.125}
    failed = runner.invoke(app, ["--toy-strength", "x"])
    assert failed.exit_code != 0 and "--toy-strength must be a number in [0, 1], got 'x'" in str(failed.exception)


def test_the_vaegan_reuses_the_vaes_declarations_without_the_options_it_cannot_use() -> None:
    assert set(VAEGAN_FIXED).isdisjoint(VAEGAN_PARAMS.names)
    for name in set(VAE_PARAMS.names) - set(VAEGAN_FIXED):
        assert VAEGAN_PARAMS[name].help == VAE_PARAMS[name].help  # the same declaration
    assert VAEGAN_PARAMS["validation_fraction"].default == 0.0


def test_struct_fields_are_flags_of_their_own_and_merge_into_their_parameter() -> None:
    layers = [{"data": "digits", "network": "conv"}, {"hidden_dims": [8, 16], "components": 3, "prior": "mog"}]
    spec = run_spec.RunSpec.from_layers(layers)
    assert spec.params["network"] == {"kind": "conv", "hidden_dims": (8, 16)}
    assert spec.params["prior"] == {"name": "mog", "components": 3}
