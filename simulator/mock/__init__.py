"""simulator.mock: the WireMock side (stubs, matching, journal, faults, recording, /__admin)."""
from __future__ import annotations

from .admin import AdminClient as AdminClient
from .recording import write_mappings as write_mappings
from .store import Mock as Mock
from .install import init_app as init_app
from .stubs import load_mappings as load_mappings
