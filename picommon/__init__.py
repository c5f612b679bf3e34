"""picommon: what the simulator and the connector share: PI time syntax, YAML with line marks (no third-party imports beyond PyYAML)."""
