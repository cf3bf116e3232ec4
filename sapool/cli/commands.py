"""The list of sub-commands exposed by `sapool`. Only commands that work are listed here."""

import click

from sapool.cli.compile import compile_command
from sapool.cli.doctor import doctor
from sapool.cli.emulate import emulate
from sapool.cli.plan import plan
from sapool.cli.prune import prune
from sapool.cli.targets import targets
from sapool.cli.train import evaluate, train
from sapool.cli.validate import validate


def all_commands() -> list[click.Command]:
    return [
        compile_command,
        plan,
        targets,
        train,
        evaluate,
        validate,
        prune,
        emulate,
        doctor,
    ]
