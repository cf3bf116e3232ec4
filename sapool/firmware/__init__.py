"""From generated C to a running firmware: board templates, project folders, the arm-none-eabi build, the ELF's
sizes and QEMU runs. See docs/adding_a_board.md for the board folders this package reads."""
