"""The `sapool` command: a click group whose sub-commands live one per module in this package.

Each sub-command is a thin wrapper over library functions. Errors from the library (SapoolError) become one
`Error: …` line on stderr and the error's exit code; so do Ctrl-C, SIGTERM and a missing Python package
(sapool.cli.failures). Nothing else is caught, so real bugs still show a traceback.
"""

import sys

import click

from sapool import __version__
from sapool.cli.failures import (EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated, install_sigterm_handler,
                                 missing_dependency)
from sapool.errors import EXIT_BAD_INPUT, SapoolError
from sapool.text import printable


class _SapoolGroup(click.Group):
    def invoke(self, ctx: click.Context):
        install_sigterm_handler()
        try:
            return super().invoke(ctx)
        except click.UsageError as err:  # a bad option value or a missing argument: one line too, exit 2
            sub = err.ctx is not None and err.ctx.parent is not None
            where = f"sapool {err.ctx.info_name}" if sub else "sapool"
            _fail(f"{err.format_message()} (see '{where} --help')", EXIT_BAD_INPUT)
        except SapoolError as err:
            _fail(str(err), err.exit_code)
        except OSError as err:  # unwritable output dir, disk full, … raised outside our own checks
            _fail(f"{err.strerror or err}: {err.filename or ''}".rstrip(": "), EXIT_BAD_INPUT)
        except ModuleNotFoundError as err:
            missing = missing_dependency(err)
            if missing is None:
                raise
            _fail(str(missing), missing.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", EXIT_INTERRUPTED)
        except Terminated:
            _fail("terminated", EXIT_TERMINATED)


def _fail(message: str, code: int) -> None:
    """One `Error:` line on stderr (control characters escaped, any encoding), then exit with `code`."""
    line = f"Error: {printable(message)}\n"
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
    click.echo(line.encode(encoding, errors="backslashreplace").decode(encoding, errors="replace"), err=True,
               nl=False)
    sys.exit(code)


@click.group(cls=_SapoolGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sapool")
def main() -> None:
    """sapool: compile small CNNs (with self-attentive pooling) for Cortex-M microcontrollers.

    Typical use: `sapool plan model.tflite --target stm32h7` to see whether a model's
    activations fit the target's SRAM, layer by layer.
    """


def _register() -> None:
    """Attach the sub-commands; each module defines one click command named like the module."""
    from sapool.cli import commands

    for command in commands.all_commands():
        main.add_command(command)


_register()
