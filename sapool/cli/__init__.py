"""The `sapool` command: a click group whose sub-commands live one per module in this package.

Each sub-command is a thin wrapper over library functions. Errors from the library (SapoolError) become one
`Error: …` line on stderr and the error's exit code; nothing else is caught, so real bugs still show a traceback.
"""

import sys

import click

from sapool import __version__
from sapool.errors import EXIT_BAD_INPUT, SapoolError


class _SapoolGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SapoolError as err:
            click.echo(f"Error: {err}", err=True)
            sys.exit(err.exit_code)
        except OSError as err:  # unwritable output dir, disk full, … raised outside our own checks
            click.echo(f"Error: {err.strerror or err}: {err.filename or ''}".rstrip(": "), err=True)
            sys.exit(EXIT_BAD_INPUT)


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
