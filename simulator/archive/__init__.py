"""simulator.archive: the virtual archive, every point's recorded events computed on demand."""
from __future__ import annotations

from ..scenario.model import Point
from ..scenario.model import Scenario
from ..scenario.changes import for_point
from . import changes as changing
from . import hashing
from .changes import PointChanges
from .archive import Boundary
from .archive import PointArchive
from .events import EventSource
from .signals import Signal
from .signals import point_key
from .values import Values

__all__ = ["Archive", "Boundary", "PointArchive", "Values"]

VOCABULARY_SIZE = 64
PURPOSES = EventSource.PURPOSES + Signal.PURPOSES


class Archive:
    """One `PointArchive` per point, built on first use and kept."""

    def __init__(self, scenario: Scenario) -> None:
        self.seed = scenario.seed
        self.digital_sets = {s.name.lower(): s for s in scenario.digital_sets}
        self._points: dict[tuple[str, int], PointArchive] = {}
        self._vocabularies: dict[tuple[str, int], tuple[str, ...]] = {}
        # every point's random keys at once (milliseconds for 30,000 points); archives stay lazy
        points = [p for server in scenario.data_servers for p in server.points]
        self._row = {(p.server.lower(), p.id): i for i, p in enumerate(points)}
        self._keys = hashing.derive([point_key(self.seed, p) for p in points], PURPOSES)
        self.rules = scenario.changes

    def of(self, point: Point) -> PointArchive:
        key = (point.server.lower(), point.id)
        found = self._points.get(key)
        if found is None:
            codes: tuple[int, ...] = ()
            if point.point_type == "Digital":
                digital = self.digital_sets.get(point.digital_set.lower())
                codes = tuple(code for code, _ in digital.states) if digital else (0,)
            vocabulary = self.vocabulary(point) if point.point_type == "String" else ()
            row = self._row.get(key)
            if row is not None:
                keys = self._keys[row].tolist()
            else:
                keys = hashing.derive([point_key(self.seed, point)], PURPOSES)[0].tolist()
            n_events = len(EventSource.PURPOSES)
            events_keys, signal_keys = keys[:n_events], keys[n_events:]
            signal = Signal(point, self.seed, codes, len(vocabulary), keys=signal_keys)
            spec = for_point(self.rules, point) if self.rules else None
            changes = None
            if spec is not None and spec.any and not point.future:  # keys only for the points that change
                change_keys = hashing.derive([point_key(self.seed, point)], changing.PURPOSES)[0].tolist()
                changes = PointChanges(point, spec, change_keys, codes, len(vocabulary))
            found = PointArchive(point, EventSource(point, self.seed, signal, keys=events_keys, changes=changes))
            self._points[key] = found
        return found

    def vocabulary(self, point: Point) -> tuple[str, ...]:
        """The strings a String point can hold: its `choices`, or faker output seeded per point."""
        key = (point.server.lower(), point.id)
        found = self._vocabularies.get(key)
        if found is None:
            spec = point.signal
            if spec.choices:
                found = tuple(spec.choices)
            else:
                from faker import Faker

                fake = Faker()
                fake.seed_instance(hashing.key(self.seed, point.server.upper(), point.id, "vocabulary"))
                provider = getattr(fake, spec.faker or "bothify")
                if spec.faker:
                    found = tuple(str(provider()) for _ in range(VOCABULARY_SIZE))
                else:
                    found = tuple(fake.bothify("??-####").upper() for _ in range(VOCABULARY_SIZE))
            self._vocabularies[key] = found
        return found
