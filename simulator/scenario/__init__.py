"""simulator.scenario: YAML scenario files -> validated, frozen `Scenario` objects."""
