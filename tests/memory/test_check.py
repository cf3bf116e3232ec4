"""check_plan accepts valid plans and rejects each kind of broken plan with a VerificationError."""

import pytest

from sapool.errors import VerificationError
from sapool.memory import Buffer, MemoryPlan, check_plan

# Buffer 0 and 1 are live together at op 1; buffer 2 starts after buffer 0 ends. Buffer 3 is empty.
BUFFERS = [Buffer(0, (0,), 100, 0, 1), Buffer(1, (1,), 40, 1, 2), Buffer(2, (2,), 96, 2, 3), Buffer(3, (3,), 0, 0, 3)]


def plan(offsets, arena):
    return MemoryPlan("hand-made", offsets, arena, proven_optimal=False)


GOOD = plan({0: 0, 1: 112, 2: 0, 3: 0}, 160)  # 100 -> 112 aligned, 40 -> 48: 112 + 48


def test_valid_plan_passes_including_reuse_after_a_lifetime_ends():
    check_plan(BUFFERS, GOOD)
    check_plan(BUFFERS, GOOD, arena_limit=160)
    check_plan([], plan({}, 0))


def test_overlap_of_buffers_live_at_the_same_op_is_rejected():
    with pytest.raises(VerificationError, match="overlap"):
        check_plan(BUFFERS, plan({0: 0, 1: 96, 2: 0, 3: 0}, 144))


def test_buffers_sharing_only_their_boundary_op_still_conflict():
    with pytest.raises(VerificationError, match="buffers 1 .* and 2"):
        check_plan(BUFFERS, plan({0: 0, 1: 112, 2: 112, 3: 0}, 208))


def test_misaligned_or_negative_offsets_are_rejected():
    with pytest.raises(VerificationError, match="multiple of 16"):
        check_plan(BUFFERS, plan({0: 0, 1: 120, 2: 0, 3: 0}, 168))
    with pytest.raises(VerificationError, match="multiple of 16"):
        check_plan(BUFFERS, plan({0: 48, 1: 0, 2: 0, 3: -16}, 160))
    check_plan(BUFFERS, plan({0: 0, 1: 104, 2: 0, 3: 0}, 144), alignment=8)


def test_missing_and_unknown_buffers_are_rejected():
    with pytest.raises(VerificationError, match=r"no offset for buffer\(s\) \[2\]"):
        check_plan(BUFFERS, plan({0: 0, 1: 112, 3: 0}, 160))
    with pytest.raises(VerificationError, match="unknown buffer"):
        check_plan(BUFFERS, plan({0: 0, 1: 112, 2: 0, 3: 0, 7: 0}, 160))


def test_arena_size_must_match_the_offsets_and_fit_the_limit():
    with pytest.raises(VerificationError, match="claims an arena of 150"):
        check_plan(BUFFERS, plan(GOOD.offsets, 150))
    with pytest.raises(VerificationError, match="claims an arena of 400"):
        check_plan(BUFFERS, plan(GOOD.offsets, 400))
    with pytest.raises(VerificationError, match="more than the 159 B"):
        check_plan(BUFFERS, GOOD, arena_limit=159)


def test_empty_buffer_may_sit_anywhere_aligned():
    check_plan(BUFFERS, plan({0: 0, 1: 112, 2: 0, 3: 32}, 160))
