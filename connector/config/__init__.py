"""connector.config: the connector's configuration, from a YAML file or a mapping, validated.

The shape (every section but source and destination is optional; defaults shown)::

    source:
      url: http://127.0.0.1:8000/piwebapi       # required, http(s), no credentials in it
      auth: {type: anonymous}                   # basic: username, password; bearer: token;
                                                # kerberos; ntlm: username ("DOMAIN\\user"), password
      verify: true                              # false, true, or a CA bundle path (must exist)
      timeout: 60                               # read timeout, seconds, > 0
      connect_timeout: 10                       # seconds, > 0 (default: min(10, timeout))
      data_server: null                         # name; default: the first data server
      web_id_type: IDOnly                       # or Full; IDOnly keys survive tag renames
      max_items_per_call: 150000                # the server's MaxReturnedItemsPerCall
      max_url_bytes: 4000                       # longest request URL (gunicorn's request line: 4094)
      concurrency: 4                            # parallel requests, 1..64
      retry: {attempts: 6, backoff: 0.5, max_backoff: 30, max_retry_after: 120}
    destination:
      uri: ./lakehouse                          # a path (relative to this file) or a deltalake URI
      storage_options: {}                       # string map, passed to deltalake (never printed)
    tags:                                       # selectors, their union; needed while recorded,
      - name_filter: "SYD.*"                    # interpolated or summaries is enabled
      - names: [A, B]
      - af: {database: "\\\\PIAF01\\DB", element_template: Pump, element_path: null, attributes: null}
    recorded: {enabled: true, start: "*-1d", end: "*", lookback: 10m, method: streamsets, max_count: null,
               flush_rows: 500000, workers: null, mode: lookback}
    interpolated: {enabled: false, interval: 1h, start: "*-1d", end: "*"}
    summaries: {enabled: false, duration: 1h, types: [Average, Minimum, Maximum],
                calculation_basis: TimeWeighted, start: "*-1d", end: "*"}
    af: {enabled: true, databases: []}          # [] = every database of every asset server
    event_frames: {enabled: true, start: "*-30d", lookback: 1d, databases: [], search_mode: Overlapped}

The file is YAML 1.2 (``true``/``false`` are the only booleans; ``yes``, ``on`` and unquoted dates
stay text). Strings may use ``${NAME}`` and ``${NAME:-default}`` (``$$`` is a literal ``$``).
Times are PI time strings sent to PI as written (``*``, ``*-1d``, ``t``, ``y``, ``today``,
``yesterday``, weekday and month names, with ``+``/``-`` offsets, or ISO 8601; a time without an
offset is UTC); resolve_time() gives the runner the same instant in UTC. Durations are a number
and a unit (s, m, h, d, w). Every error reads
``file:line: field: problem``; secrets (passwords, tokens, storage options) never appear in repr(),
str() or error messages.

The modules, one job each: ``model`` (the frozen dataclasses and Secret), ``times`` (PI times and
durations), ``fields`` and ``schema`` (marshmallow: per field, per section and across fields),
``tree`` (the marked YAML tree: paths, lines, ${ENV}), ``problems`` (errors -> file:line: field)
and ``loading`` (load_config for files, ConnectorConfig.from_dict for mappings: the CLI, Lakeflow
and Spark options all go through it).
"""
from .loading import load_config as load_config
from .model import SUMMARY_TYPES as SUMMARY_TYPES
from .model import AFSelector as AFSelector
from .model import AuthConfig as AuthConfig
from .model import ConnectorConfig as ConnectorConfig
from .model import NameFilter as NameFilter
from .model import NameList as NameList
from .model import Secret as Secret
from .model import SourceConfig as SourceConfig
from .model import TagSelector as TagSelector
from .times import parse_duration as parse_duration
from .times import resolve_time as resolve_time
