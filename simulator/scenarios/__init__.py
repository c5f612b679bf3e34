"""simulator.scenarios: the bundled scenario files (package data)."""
