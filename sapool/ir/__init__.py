"""In-memory model graph: what every back-half step (planner, exporters, verifiers) works on."""
