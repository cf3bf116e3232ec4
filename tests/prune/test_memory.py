"""Which channel groups own the int8 activation bytes live at each op."""

import pytest
import torch
from torch import nn

from sapool.prune.channels import model_groups, prune_channels
from sapool.prune.memory import channel_owners, live_memory

SHAPE = (1, 3, 16, 16)


class Residual(nn.Module):
    """stem → (conv + residual add) → head → pooled classifier: the add ties the stem and `body` channels."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.body = nn.Conv2d(8, 8, 3, padding=1)
        self.head = nn.Conv2d(8, 12, 1)
        self.classifier = nn.Linear(12, 4)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        x = x + self.body(x)
        x = torch.relu(self.head(x))
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


@pytest.fixture(scope="module")
def network():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = Residual().eval()
    groups = model_groups(model, SHAPE)
    return model, groups, channel_owners(model, SHAPE, groups)


def test_owners_follow_the_channel_groups_and_leave_input_and_logits_alone(network):
    _, _, owners = network
    assert owners["stem"] == owners["body"] == owners["add"] == "stem"  # the residual sum ties them
    assert owners["head"] == owners["adaptive_avg_pool2d"] == owners["flatten"] == "head"
    assert "x" not in owners and "classifier" not in owners


def test_bytes_live_at_an_op_are_split_by_owner(network):
    model, _, owners = network
    memory = live_memory(model, SHAPE)
    add = next(i for i, op in enumerate(memory.graph.ops) if op.opcode == "ADD")
    by_group, fixed = memory.bytes_by_group(add, owners)
    assert by_group == {"stem": 2 * 16 * 16 * 8} and fixed == 0  # stem output, body output (the sum runs in place)
    # the input and the stem conv's im2col patches (two of 3×3×3 input values, the C kernel's scratch) are fixed
    assert memory.bytes_by_group(0, owners) == ({"stem": 16 * 16 * 8}, 16 * 16 * 3 + 2 * 27)


def test_pruning_a_group_shrinks_exactly_its_bytes(network):
    model, groups, owners = network
    pruned, _ = prune_channels(model, groups, {"stem": 6})
    memory = live_memory(pruned, SHAPE)
    add = next(i for i, op in enumerate(memory.graph.ops) if op.opcode == "ADD")
    assert memory.bytes_by_group(add, owners) == ({"stem": 2 * 16 * 16 * 2}, 0)
