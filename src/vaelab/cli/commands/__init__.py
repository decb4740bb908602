"""One module per group of subcommands; :mod:`vaelab.cli.app` registers them.

The rule for every module here: **import heavy packages lazily**. At module
top a command module imports only the standard library, ``typer`` and the
light parts of the CLI (``vaelab.cli.options``, ``errors``, ``console``,
``config``, ``run_dir``, other command modules that keep this rule). torch,
numpy, scikit-learn, matplotlib, Pillow, pandas, the estimators, the data
loaders and the report are imported inside the command functions (or the
helpers they call), because ``vaelab --help`` builds every command's
signature: one heavy import at module top makes every ``--help`` and
``--version`` wait seconds. Defaults shown in a signature must therefore be
plain values (not constants read from a heavy module).
``tests/test_startup.py`` checks, in a fresh process, that ``--version`` and
every command's ``--help`` leave torch, scikit-learn, numpy and matplotlib
unimported.
"""
