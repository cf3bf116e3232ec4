"""One error family for the whole tool.

The CLI turns every SapoolError into a single `Error: <message>` line and exits with the error's code, so
library code raises these instead of printing or calling sys.exit.
"""

EXIT_OK = 0
EXIT_DOES_NOT_FIT = 1
EXIT_BAD_INPUT = 2
EXIT_MISSING_TOOL = 3


class SapoolError(Exception):
    """Base class; `exit_code` is what the CLI exits with."""

    exit_code = EXIT_BAD_INPUT


class BadInputError(SapoolError):
    """The user gave something we cannot use: a corrupt model, an unknown target, a bad option value."""

    exit_code = EXIT_BAD_INPUT


class UnsupportedError(BadInputError):
    """The input is valid but uses something sapool does not handle (an op, a dtype, a layer)."""


class DoesNotFitError(SapoolError):
    """The model (or a plan for it) does not fit the memory budget."""

    exit_code = EXIT_DOES_NOT_FIT


class VerificationError(SapoolError):
    """Outputs differ from the reference, or a plan failed its independent check."""

    exit_code = EXIT_DOES_NOT_FIT


class AccuracyLossError(SapoolError):
    """A transformed model (e.g. pruned) lost more accuracy than allowed; nothing was written."""

    exit_code = EXIT_DOES_NOT_FIT


class BuildError(SapoolError):
    """Generated firmware failed to compile or link for a reason other than not fitting (a bug to report)."""

    exit_code = EXIT_DOES_NOT_FIT


class MissingToolError(SapoolError):
    """An external tool (compiler, emulator, Python package) is not installed; the message says how to get it."""

    exit_code = EXIT_MISSING_TOOL
