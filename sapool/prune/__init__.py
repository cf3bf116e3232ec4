"""Structured pruning: which channels go together (groups.py), removing them (channels.py; the module surgery
itself is models/surgery.py, which checkpoints also use to rebuild a pruned network), who holds the bytes at the
peak (memory.py), pruning until the plan fits (fit.py) and the `sapool prune` session (session.py)."""
