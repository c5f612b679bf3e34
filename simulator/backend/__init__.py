"""simulator.backend: everything a request needs and nothing of HTTP: the Simulator object, the
catalog of served objects (entries, event frames), streams over points and attributes, their
reads (queries), bad values, PI's write paths and Stream Updates."""
from .simulator import Simulator as Simulator
