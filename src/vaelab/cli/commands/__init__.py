"""One module per group of subcommands; :mod:`vaelab.cli.app` registers them."""
