"""`sapool targets`: list the microcontrollers sapool knows, or show one target's memory map."""

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sapool.cli.conventions import chosen_format, emit_json, format_option, output_option, verbosity_options
from sapool.targets import Target, get_target, load_targets
from sapool.units import format_bytes

SCHEMA_VERSION = 1


@click.command("targets", short_help="List the boards sapool compiles for, or show one.")
@click.argument("name", required=False)
@format_option()
@output_option()
@verbosity_options
def targets(name: str | None, output_format: str, as_json: bool, output, quiet: bool, verbose: bool) -> None:
    """List the targets (boards) sapool can compile for, or show target NAME in detail.

    The list gives each target's part, core, clock, flash size, total data SRAM and its RAM regions in
    order of preference (fastest first; the planner fills them in that order). With NAME, every region is
    shown with its base address, size and kind ("code" regions such as ITCM never hold activations).
    Pass a name to `--target` of other commands. Targets are the folders in sapool/boards/;
    docs/adding_a_board.md explains how to add one.
    """
    chosen = [get_target(name)] if name else list(load_targets().values())
    if chosen_format(output_format, as_json) == "json":
        payload = {"target": chosen[0].as_dict()} if name else {"targets": [t.as_dict() for t in chosen]}
        emit_json({"schema_version": SCHEMA_VERSION, **payload}, output, "targets JSON")
        return
    if output is not None and str(output) != "-":
        from sapool.outputs import write_text_atomically

        write_text_atomically(output, _plain(name, chosen))
        click.echo(f"wrote targets text to {output}")
        return
    console = Console(highlight=False)
    if name:
        _print_details(console, chosen[0])
    else:
        console.print(_overview_table(chosen))


def _plain(name: str | None, chosen: list[Target]) -> str:
    """The same tables as plain text, for -o FILE."""
    import io

    buffer = io.StringIO()
    console = Console(file=buffer, width=120, color_system=None, highlight=False)
    if name:
        _print_details(console, chosen[0])
    else:
        console.print(_overview_table(chosen))
    return buffer.getvalue()


def _overview_table(targets: list[Target]) -> Table:
    table = Table(title="sapool targets (data regions fastest first)", title_justify="left", show_lines=True)
    table.add_column("name", no_wrap=True)
    table.add_column("part")
    table.add_column("core")
    for header in ("MHz", "flash", "data SRAM"):
        table.add_column(header, justify="right")
    table.add_column("data regions", no_wrap=True)
    for target in targets:
        table.add_row(
            target.name,
            target.part,
            target.core.removeprefix("cortex-").upper(),
            _mhz(target),
            format_bytes(target.flash_size),
            format_bytes(target.data_sram_bytes),
            "\n".join(f"{region.name} {_short_size(region.size)}" for region in target.data_regions),
        )
    return table


def _print_details(console: Console, target: Target) -> None:
    console.print(Text.assemble((target.name, "bold"), ": ", target.description))
    facts = Table.grid(padding=(0, 2))
    facts.add_row("part", target.part)
    facts.add_row("core", f"{target.core} (fpu {target.fpu})")
    facts.add_row("clock", f"{_mhz(target)} MHz" + (" (emulated SYSCLK)" if target.emulated else ""))
    facts.add_row("flash", f"{format_bytes(target.flash_size)} @ {target.flash_base:#010x}")
    facts.add_row("data SRAM", f"{format_bytes(target.data_sram_bytes)} in {len(target.data_regions)} region(s)")
    facts.add_row("emulator", f"qemu-system-arm -M {target.qemu_machine}")
    for label, value in _firmware_facts(target.name):
        facts.add_row(label, value)
    console.print(facts)
    regions = Table(title="RAM regions, in order of preference", title_justify="left")
    for header in ("#", "region", "kind", "base", "end", "size", "bytes"):
        regions.add_column(header, justify="right" if header in ("#", "size", "bytes") else "left")
    for number, region in enumerate(target.regions, start=1):
        regions.add_row(
            str(number), region.name, region.kind, f"{region.base:#010x}", f"{region.end:#010x}",
            format_bytes(region.size), f"{region.size:,}",
        )
    console.print(regions)


def _firmware_facts(name: str) -> list[tuple[str, str]]:
    """What the board folder's [firmware] table says about the image `make` builds and how `make flash` writes it."""
    from sapool.errors import BadInputError
    from sapool.firmware.boards import load_board

    try:
        board = load_board(name)
    except BadInputError:
        return [("firmware", "none: its board.toml has no [firmware] table (plan only)")]
    if not board.board_sources:
        return [("firmware", "QEMU harness image (sapool emulate)")]
    facts = [("firmware", f"standalone board image, console on {board.console}, 115200 8N1")]
    if board.flash is not None:
        tools = [f"pyocd --target {board.flash.pyocd_target}", f"openocd {board.flash.openocd}"]
        facts.append(("make flash", " | ".join(tools + (["st-flash"] if board.flash.st_flash else []))))
    return facts


def _mhz(target: Target) -> str:
    mhz = target.clock_hz / 1e6
    return f"{mhz:g}"


def _short_size(size: int) -> str:
    """"128K" / "2M": the datasheet notation, compact enough for a list of regions in one cell."""
    for suffix, factor in (("M", 1024 * 1024), ("K", 1024)):
        if size % factor == 0:
            return f"{size // factor}{suffix}"
    return f"{size}B"
