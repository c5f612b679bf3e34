"""simulator.scenario: YAML scenario files -> validated, frozen `Scenario` objects."""
from __future__ import annotations

from ..pi.errors import ScenarioError as ScenarioError
from .loader import load_scenario as load_scenario
from .loader import scenario_path as scenario_path
from .loader import validate_file as validate_file
