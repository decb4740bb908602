"""Exceptions raised by vaelab.

Every error a user can cause is one of these (or a plain ``ValueError`` /
``TypeError`` subclass of them), with a message that names what was wrong,
what was expected and how to fix it. The command line turns them into one
readable line and a non-zero exit code.
"""

from __future__ import annotations


class VaelabError(Exception):
    """Base class of every error vaelab raises on purpose."""


class InputError(VaelabError, ValueError):
    """Bad input data or arguments (wrong shape, NaN, out of range, bad value)."""


class OptionError(InputError):
    """A parameter (option) has a bad value or does not go with the others; the command line exits with 2."""


class InputTypeError(InputError, TypeError):
    """Input of a type that cannot be read as numbers (objects such as dicts inside an array)."""


class DataFileError(VaelabError, OSError):
    """A data file is missing, truncated, corrupted or of an unknown format."""


class NotFittedError(VaelabError, AttributeError):
    """A method that needs a fitted model was called before ``fit``."""


class ModelFileError(VaelabError, ValueError):
    """A saved model or checkpoint is missing, truncated, tampered or unknown."""
