"""The list of sub-commands exposed by `sapool`. Only commands that work are listed here."""

import click

from sapool.cli.targets import targets
from sapool.cli.train import evaluate, train


def all_commands() -> list[click.Command]:
    return [
        targets,
        train,
        evaluate,
    ]
