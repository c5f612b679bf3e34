"""simulator.mock.matching: WireMock request patterns whose match is a distance, not a boolean."""
from __future__ import annotations

from .distance import MatchResult as MatchResult
from .distance import edit_distance as edit_distance
from .distance import json_diff as json_diff
from .request import METHOD_WEIGHT as METHOD_WEIGHT
from .request import PART_WEIGHT as PART_WEIGHT
from .request import URL_KINDS as URL_KINDS
from .request import URL_WEIGHT as URL_WEIGHT
from .request import RequestPattern as RequestPattern
from .request import RequestView as RequestView
from .request import UrlPattern as UrlPattern
from .request import view_from_json as view_from_json
from .values import ValuePattern as ValuePattern
from .values import json_path as json_path
from .values import parse_value_pattern as parse_value_pattern
