"""Placing buffers into a target's regions: one region when it fits, a split when none does, honest overflow."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sapool.errors import BadInputError
from sapool.memory import Buffer, check_plan, compute_lifetimes, make_plan
from sapool.memory.placement import place
from sapool.targets import Region, budget_region, get_target
from tests.conftest import shared_model


def buffer(id, size, first, last):
    return Buffer(id=id, tensors=(id,), size=size, first=first, last=last)


def chain(*sizes):
    """Op i reads buffer i and writes buffer i + 1: only neighbours are live together."""
    return [buffer(i, size, max(i - 1, 0), i) for i, size in enumerate(sizes)]


def all_live(*sizes):
    """Every buffer live during the single op 0 (e.g. a concat's inputs and output)."""
    return [buffer(i, size, 0, 0) for i, size in enumerate(sizes)]


def use(placement, name):
    return next(region for region in placement.regions if region.name == name)


def test_single_region_fit_puts_every_buffer_there_at_base_plus_offset():
    buffers = chain(256, 512, 256, 128)
    placement = place(buffers, 4, [Region("RAM", 0x2000_0000, 4096)])
    assert placement.fits and not placement.split
    assert placement.region_of == {0: "RAM", 1: "RAM", 2: "RAM", 3: "RAM"}
    ram = use(placement, "RAM")
    assert ram.used_bytes == make_plan(buffers).arena_bytes == 768  # 256 + 512: the busiest op
    for b in buffers:
        assert placement.arena_offset(b.id) == ram.plan.offsets[b.id]
        assert placement.address_of(b.id) == 0x2000_0000 + ram.plan.offsets[b.id]


def test_prefers_the_fastest_region_that_fits_not_the_largest():
    regions = [Region("TCM", 0x2000_0000, 512), Region("MID", 0x2400_0000, 2048), Region("BIG", 0x3000_0000, 65536)]
    small = place(chain(128, 256, 128), 3, regions)
    assert set(small.region_of.values()) == {"TCM"}
    larger = place(chain(1024, 512, 256), 3, regions)  # arena 1536 > TCM
    assert set(larger.region_of.values()) == {"MID"} and not larger.split
    assert [(u.name, u.used_bytes, u.plan is None) for u in larger.regions] == [
        ("TCM", 0, True), ("MID", 1536, False), ("BIG", 0, True)]


def test_splits_across_two_regions_when_neither_holds_the_arena():
    regions = [Region("A", 0x2000_0000, 1024), Region("B", 0x3000_0000, 1024)]
    buffers = all_live(768, 768, 256)  # 1792 B live at once: no single region holds it
    placement = place(buffers, 1, regions)
    assert placement.fits and placement.split
    # largest first (equal sizes highest id first, as greedy), each into the fastest region with room
    assert placement.region_of == {0: "B", 1: "A", 2: "A"}
    assert (use(placement, "A").used_bytes, use(placement, "B").used_bytes) == (1024, 768)
    assert placement.address_of(0) == 0x3000_0000
    assert {placement.address_of(1), placement.address_of(2)} == {0x2000_0000, 0x2000_0000 + 768}
    assert placement.over_budget_bytes == 0


def test_every_region_plan_passes_check_plan_against_the_region_size():
    regions = [Region("A", 0, 1024), Region("B", 0x1000, 2048), Region("C", 0x4000, 512)]
    buffers = all_live(1024, 1024, 512, 512, 256, 256)
    placement = place(buffers, 1, regions)
    assert placement.fits and placement.split
    by_id = {b.id: b for b in buffers}
    for region in placement.regions:
        assert region.plan is not None
        check_plan([by_id[i] for i in region.buffer_ids], region.plan, 16, arena_limit=region.size_bytes)
        assert region.used_bytes <= region.size_bytes


def test_the_layout_not_just_the_live_bytes_decides_where_a_buffer_fits():
    regions = [Region("A", 0, 1024), Region("B", 0x1000, 1024)]
    buffers = [buffer(0, 256, 3, 3), buffer(1, 512, 3, 3), buffer(2, 256, 1, 3), buffer(3, 528, 0, 1)]
    # At most 1024 B are live at once, but greedy's layout needs 1040: with it, buffer 0 has no room in A.
    greedy = place(buffers, 4, regions, planner="greedy")
    assert greedy.fits and greedy.split and greedy.region_of == {0: "B", 1: "A", 2: "A", 3: "A"}
    assert use(greedy, "A").used_bytes == 784
    best = place(buffers, 4, regions)  # the better planners pack all four into exactly 1024 B
    assert best.fits and not best.split and use(best, "A").used_bytes == 1024


def test_no_fit_reports_the_overflow_in_the_largest_region():
    regions = [Region("A", 0, 1024), Region("B", 0x1000, 512)]
    placement = place(all_live(768, 768, 768), 1, regions)
    assert not placement.fits
    a, b = placement.regions
    assert (a.used_bytes, a.size_bytes, a.buffer_ids) == (2304, 1024, (0, 1, 2))  # none fits B, rest go to A
    assert (b.used_bytes, b.buffer_ids, b.plan) == (0, (), None)
    assert placement.over_budget_bytes == a.over_budget_bytes == 2304 - 1024
    assert placement.region_of == {0: "A", 1: "A", 2: "A"}


def test_a_buffer_that_misses_by_one_alignment_unit_makes_it_not_fit():
    regions = [Region("A", 0, 1024), Region("B", 0x1000, 1024)]
    placement = place(all_live(768, 768, 272), 1, regions)  # 1808 B in 2048 B, but 272 fits beside neither 768
    assert not placement.fits and placement.split
    assert placement.region_of == {0: "B", 1: "A", 2: "A"}  # 272 fits nowhere: it overflows A, the first largest
    assert placement.over_budget_bytes == 768 + 272 - 1024


def test_a_buffer_bigger_than_every_region_is_placed_in_the_largest_and_overflows_it():
    regions = [Region("A", 0, 1024), Region("B", 0x1000, 2048)]
    buffers = [buffer(0, 4096, 0, 0), buffer(1, 512, 1, 1)]
    placement = place(buffers, 2, regions)
    assert not placement.fits
    assert placement.region_of == {0: "B", 1: "A"}
    assert use(placement, "B").used_bytes == 4096 and placement.over_budget_bytes == 4096 - 2048
    assert use(placement, "A").used_bytes == 512


def test_time_disjoint_buffers_share_bytes_inside_a_region():
    regions = [Region("A", 0, 1024), Region("B", 0x1000, 1024)]
    buffers = [buffer(0, 1024, 0, 1), buffer(1, 1024, 0, 1), buffer(2, 1024, 2, 3), buffer(3, 512, 2, 3)]
    placement = place(buffers, 4, regions)  # 2048 live at ops 0-1: must split
    assert placement.fits and placement.split
    assert use(placement, "A").used_bytes == use(placement, "B").used_bytes == 1024


def test_budget_region_is_one_region_at_address_zero():
    buffers = chain(4000, 3000, 100)
    inside = place(buffers, 3, [budget_region(8192)])
    assert inside.fits and inside.address_of(1) == inside.arena_offset(1)
    over = place(buffers, 3, [budget_region(4096)])
    assert not over.fits and over.over_budget_bytes == make_plan(buffers).arena_bytes - 4096


def test_code_regions_are_ignored_and_no_data_region_is_an_error():
    regions = [Region("ITCM", 0, 65536, "code"), Region("RAM", 0x2000_0000, 4096)]
    placement = place(chain(64, 64), 2, regions)
    assert [u.name for u in placement.regions] == ["RAM"]
    with pytest.raises(BadInputError, match="no data region"):
        place(chain(64), 1, [Region("ITCM", 0, 65536, "code")])


def test_unplaced_buffer_id_is_a_key_error():
    placement = place(chain(64), 1, [budget_region(1024)])
    with pytest.raises(KeyError):
        placement.address_of(7)


@settings(max_examples=40, deadline=None)
@given(
    specs=st.lists(st.tuples(st.integers(1, 3000), st.integers(0, 5), st.integers(0, 3)), min_size=1, max_size=10),
    sizes=st.lists(st.integers(1, 6).map(lambda k: k * 1024), min_size=1, max_size=3),
)
def test_random_placements_keep_their_promises(specs, sizes):
    buffers = [buffer(i, size, first, first + length) for i, (size, first, length) in enumerate(specs)]
    regions = [Region(f"R{n}", n * 0x10000, size) for n, size in enumerate(sizes)]
    placement = place(buffers, 9, regions, planner="multi_order")
    assert sorted(placement.region_of) == [b.id for b in buffers]
    by_id = {b.id: b for b in buffers}
    for region in placement.regions:
        if region.plan is not None:
            limit = region.size_bytes if placement.fits else None
            check_plan([by_id[i] for i in region.buffer_ids], region.plan, 16, arena_limit=limit)
    overflowing = [region.name for region in placement.regions if region.used_bytes > region.size_bytes]
    largest = max(regions, key=lambda region: region.size).name
    assert overflowing == ([] if placement.fits else [largest])
    if make_plan(buffers, "multi_order").arena_bytes <= max(sizes):
        assert placement.fits and not placement.split


def test_vww_fits_the_stm32h7_dtcm_and_splits_over_two_small_regions():
    from sapool.ir.read import read_tflite

    graph = read_tflite(shared_model("vww_96_int8"))
    buffers = compute_lifetimes(graph)
    h7 = place(buffers, len(graph.ops), get_target("stm32h7").data_regions)
    assert h7.fits and not h7.split and set(h7.region_of.values()) == {"DTCM"}
    halves = [Region("LO", 0x2000_0000, 48 * 1024), Region("HI", 0x3000_0000, 48 * 1024)]
    split = place(buffers, len(graph.ops), halves)  # 55,296 B live at one op: one 48K region cannot hold it
    assert split.split and split.fits
