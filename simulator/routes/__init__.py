"""simulator.routes: one blueprint per PI Web API controller."""
from __future__ import annotations

from . import assets
from . import batch
from . import dataservers
from . import elements
from . import eventframes
from . import home
from . import points
from . import streams
from . import streamsets

BLUEPRINTS = (home.bp, dataservers.bp, points.bp, streams.bp, streamsets.bp, assets.bp, elements.bp,
              eventframes.bp, batch.bp)
