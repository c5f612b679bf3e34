"""demo: the README's main job: the simulator and the connector, end to end, into ./lakehouse."""
