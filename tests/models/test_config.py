"""ModelConfig: checkpoints and the command line both build it, so absurd values are one error naming the field."""

import pytest

from sapool.errors import BadInputError
from sapool.models.config import ModelConfig


@pytest.mark.parametrize("field, value", [
    ("width", float("inf")), ("width", float("nan")), ("width", 200.0), ("width", 0.0), ("width", "1"),
    ("num_classes", 2 ** 62), ("num_classes", 1), ("input_size", 30000), ("input_size", 24), ("input_size", 64.0),
    ("sap_heads", 0), ("sap_embed_ratio", float("inf")), ("arch", ["mcunet"]), ("in_channels", True),
])
def test_absurd_config_values_name_the_field(field, value):
    with pytest.raises(BadInputError, match=field):
        ModelConfig(**{field: value})


def test_ordinary_configs_still_build():
    assert ModelConfig(width=0.25, num_classes=10, input_size=32).width == 0.25
