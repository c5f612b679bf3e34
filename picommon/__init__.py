"""picommon: what the simulator and the connector share.

PI time syntax (pitime), YAML with line marks, AF ConfigStrings; no third-party imports beyond PyYAML and numpy.
"""
