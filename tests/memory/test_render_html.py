"""The HTML report: well-formed, self-contained, and its SVG timeline draws exactly the planned buffers."""

import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from sapool.ir.read import read_tflite
from sapool.memory.render_html import to_html
from sapool.planning import PlanOptions, plan_file, plan_report
from sapool.targets import Region, Target
from tests.conftest import shared_model

SVG = "{http://www.w3.org/2000/svg}"


def _parse(html: str) -> ET.Element:
    """Strict XML parse: fails on any unclosed tag or bad entity, stricter than a browser."""
    return ET.fromstring(html.split("\n", 1)[1])  # drop the <!DOCTYPE html> line


def _rects(root: ET.Element, css_class: str) -> list[ET.Element]:
    return [rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == css_class]


@pytest.fixture(scope="module")
def vww_report():
    return plan_file(shared_model("vww_96_int8"), "stm32h7")


def test_one_titled_box_per_buffer_inside_the_plot(vww_report):
    root = _parse(to_html(vww_report))
    boxes = _rects(root, "buffer")
    assert len(boxes) == len(vww_report.buffers)
    svg = next(root.iter(f"{SVG}svg"))
    width, height = float(svg.get("width")), float(svg.get("height"))
    for box, buffer in zip(boxes, vww_report.buffers):
        title = box.find(f"{SVG}title").text
        assert buffer.tensors[0] in title and f"{buffer.size_bytes:,} B" in title
        x, y, w, h = (float(box.get(key)) for key in ("x", "y", "width", "height"))
        assert 0 <= x and x + w <= width + 0.01 and 0 <= y and y + h <= height and w > 0 and h > 0


def test_box_geometry_follows_lifetime_and_offset(vww_report):
    boxes = _rects(_parse(to_html(vww_report)), "buffer")
    by_id = {buffer.id: buffer for buffer in vww_report.buffers}
    long_lived = max(by_id.values(), key=lambda b: b.last - b.first)
    one_op = min(by_id.values(), key=lambda b: b.last - b.first)
    width = {b.id: float(box.get("width")) for b, box in zip(vww_report.buffers, boxes)}
    column = width[one_op.id] / (one_op.last - one_op.first + 1)
    assert width[long_lived.id] == pytest.approx(column * (long_lived.last - long_lived.first + 1), abs=0.02)
    low = min(vww_report.buffers, key=lambda b: b.offset)
    high = max(vww_report.buffers, key=lambda b: b.offset)
    y = {b.id: float(box.get("y")) + float(box.get("height")) for b, box in zip(vww_report.buffers, boxes)}
    assert y[high.id] < y[low.id]  # higher offsets are drawn higher up


def test_peak_is_marked_and_the_region_is_drawn_to_full_size_with_its_headroom(vww_report):
    root = _parse(to_html(vww_report))
    assert len(_rects(root, "peak")) == 1
    texts = " ".join(text.text or "" for text in root.iter(f"{SVG}text"))
    assert "peak: 38,800 B live at op 0 (CUSTOM:SAPOOL_PATCH_STAGE)" in texts
    assert "headroom 92,272 B" in texts  # DTCM: 131,072 B, 38,800 used
    capacity = [line for line in root.iter(f"{SVG}line") if line.get("class") == "capacity"]
    assert len(capacity) == 1 and capacity[0].get("stroke") == "#2e7d32"  # green: the region's top, not exceeded
    band = _rects(root, "band")[0]
    assert float(capacity[0].get("y1")) == pytest.approx(float(band.get("y")), abs=0.1)
    assert len(_rects(root, "band")) == len(vww_report.regions)  # every region drawn, the unused ones thin


def test_big_boxes_carry_their_tensor_name_and_the_peak_tensors_and_advice_are_listed():
    # without patches (which bring vww down to 38,800 B), so that it does not fit and the peak is a tensor
    report = plan_file(shared_model("vww_96_int8"), "stm32h7", PlanOptions(ram_budget=40 * 1024, patches="off"))
    html = to_html(report)
    root = _parse(html)
    labels = [text.text for text in root.iter(f"{SVG}text") if text.get("class") == "label"]
    assert "36 KiB activation_2/Relu" in labels
    assert "<h2>Live at the peak (layer 2)</h2>" in html and "36,864" in html
    assert "<h2>To make it fit</h2>" in html and "the model it was converted from" in html
    assert ('<tr class="input"><td>in</td><td class="text"></td><td class="text" title="input_1_int8">input_1_int8</td>'
            in html)
    # each layer row names its op's output tensor, cut from the front so the tail stays
    assert '<td class="text">DEPTHWISE_CONV_2D</td><td class="text" title="model/activation_1/Relu;' in html
    assert ">model/activation_1/Relu</td>" in html


def test_overflow_draws_the_capacity_line():
    report = plan_file(shared_model("kws_ref_model"), "stm32h7", PlanOptions(ram_budget=8192))
    root = _parse(to_html(report))
    capacity = [line for line in root.iter(f"{SVG}line") if line.get("class") == "capacity"]
    assert len(capacity) == 1
    band = _rects(root, "band")[0]
    middle = float(band.get("y")) + float(band.get("height")) * (1 - 8192 / 12_672)
    assert float(capacity[0].get("y1")) == pytest.approx(middle, abs=0.1)


def test_split_placement_gets_one_band_per_region():
    regions = (Region("FAST", 0x2000_0000, 8 * 1024), Region("SLOW", 0x3000_0000, 8 * 1024))
    target = Target("two_regions", "TEST", "cortex-m4", "none", 1, 0, 1 << 20, regions, "test", "mps2-an386")
    report = plan_report(read_tflite(shared_model("kws_ref_model")), target, model_name="kws")
    root = _parse(to_html(report))
    bands = _rects(root, "band")
    assert len(bands) == 2
    top_band_bottom = float(bands[0].get("y")) + float(bands[0].get("height"))
    for box, buffer in zip(_rects(root, "buffer"), report.buffers):
        in_top_band = float(box.get("y")) < top_band_bottom
        assert in_top_band == (buffer.region == "FAST")


def test_self_contained_and_parses_as_html(vww_report):
    html = to_html(vww_report)
    tags = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append((tag, dict(attrs)))

    Collector().feed(html)
    names = [tag for tag, _ in tags]
    assert names.count("svg") == 1 and "table" in names
    assert "script" not in names and "link" not in names and "img" not in names
    assert not [attrs for _, attrs in tags if any(key in attrs for key in ("src", "href"))]
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_model_and_tensor_names_are_escaped(vww_report):
    from dataclasses import replace

    report = replace(vww_report, model="<evil & model>.tflite")
    html = to_html(report)
    assert "&lt;evil &amp; model&gt;" in html and "<evil" not in html
    _parse(html)


BROWSER = shutil.which("chromium-headless-shell") or shutil.which("chromium")


@pytest.mark.skipif(BROWSER is None, reason="headless Chromium not installed (apt-get install chromium-headless-shell)")
def test_a_real_browser_renders_the_page_within_a_700_px_window(tmp_path):
    from PIL import Image

    report = plan_file(shared_model("vww_96_int8"), "stm32h7", PlanOptions(ram_budget=40 * 1024, patches="off"))
    page, shot = tmp_path / "plan.html", tmp_path / "plan.png"
    page.write_text(to_html(report), encoding="utf-8")
    subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={shot}", "--window-size=700,2400", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    with Image.open(shot) as image:
        pixels = image.convert("RGB")
        assert pixels.size == (700, 2400)
        # Nothing spills into the page's right margin (wide tables scroll inside their own box) ...
        margin = {pixels.getpixel((x, y)) for x in range(692, 700) for y in range(0, 2400, 3)}
        assert margin == {(255, 255, 255)}
        # ... and the timeline is drawn: the peak column's orange and the over-budget line's red are on screen.
        colours = set(pixels.resize((175, 600)).getdata())
    assert any(r > 200 and 80 < g < 200 and b < 80 for r, g, b in colours)  # the peak marker
