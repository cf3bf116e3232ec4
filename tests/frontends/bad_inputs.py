"""Shared by the front-end tests: a pickle that must never be unpickled, and the one-line error check."""

import os
from pathlib import Path

import pytest


class MakesADirectoryWhenUnpickled:
    """A payload whose unpickling would run os.mkdir(marker): the loaders must refuse before that happens."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (str(self.marker),)


def one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    return message
