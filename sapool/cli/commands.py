"""The list of sub-commands exposed by `sapool`. Only commands that work are listed here."""

import click


def all_commands() -> list[click.Command]:
    return []
