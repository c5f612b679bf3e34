"""simulator.scenario.model: the validated scenario as frozen dataclasses.

Everything downstream (catalog, archive, routes) reads these objects; nothing reads YAML.
Times are int64 "ticks": 100 ns units since 1970-01-01T00:00:00Z, the resolution of a PI
timestamp with 7 fractional digits. Durations are ticks too.
"""
from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

TICKS_PER_SECOND = 10_000_000
TICKS_PER_DAY = 86_400 * TICKS_PER_SECOND

POINT_TYPES = ("Float32", "Float64", "Float16", "Int16", "Int32", "Digital", "String", "Timestamp")
NUMERIC_POINT_TYPES = ("Float32", "Float64", "Float16", "Int16", "Int32")
SIGNAL_KINDS = ("daily", "sine", "ramp", "sawtooth", "square", "random_walk", "constant", "counter",
                "digital", "string")


@dataclass(frozen=True)
class Clock:
    """Fixed `now` (ticks) for reproducible runs, or None for real time; `timezone` is IANA."""

    now: int | None = None
    timezone: str = "UTC"


@dataclass(frozen=True)
class Limits:
    max_returned_items_per_call: int = 150_000
    default_max_count: int = 1000
    search_max_count: int = 1000


@dataclass(frozen=True)
class User:
    username: str
    password: str


@dataclass(frozen=True)
class Auth:
    """methods: any of "anonymous", "basic", "bearer". csrf: require X-Requested-With on writes."""

    methods: tuple[str, ...] = ("anonymous",)
    users: tuple[User, ...] = ()
    tokens: tuple[str, ...] = ()
    csrf: bool = True
    realm: str = "PI Web API"


@dataclass(frozen=True)
class Admin:
    """Who may use /__admin. auth: "auto" (closed when `Auth` does not allow anonymous), "required"
    (always closed) or "none" (open, for local QA); users (Basic) and tokens (Bearer) get in."""

    auth: str = "auto"
    users: tuple[User, ...] = ()
    tokens: tuple[str, ...] = ()


@dataclass(frozen=True)
class DigitalSet:
    name: str
    states: tuple[tuple[int, str], ...]  # (code, name), codes unique


@dataclass(frozen=True)
class EventSpec:
    """How a point's recorded events are spaced in time.

    spacing: nominal ticks between slots; jitter: fraction (0..1) of a slot the event may move by;
    keep: share of slots that hold an event (exception reporting); duplicates: share of events that
    have a second event at the same timestamp; subsecond: timestamps carry 100 ns ticks, otherwise
    whole seconds.
    """

    spacing: int = 60 * TICKS_PER_SECOND
    jitter: float = 0.0
    keep: float = 1.0
    duplicates: float = 0.0
    subsecond: bool = False


@dataclass(frozen=True)
class QualityMix:
    """Shares of good events flagged Questionable / Substituted / Annotated (the rest plain Good)."""

    questionable: float = 0.0
    substituted: float = 0.0
    annotated: float = 0.0


@dataclass(frozen=True)
class Gap:
    """An explicit outage: a system-state event at `start`, then no events until `end`."""

    start: int
    end: int
    state: int = 246  # I/O Timeout


@dataclass(frozen=True)
class Outages:
    """Random outages: on average `per_day` per day, each lasting between min and max duration."""

    per_day: float = 0.0
    min_duration: int = 5 * 60 * TICKS_PER_SECOND
    max_duration: int = 60 * 60 * TICKS_PER_SECOND
    state: int = 246


@dataclass(frozen=True)
class SystemStates:
    """Sporadic single bad events: a share `rate` of events replaced by one of `states` (codes)."""

    rate: float = 0.0
    states: tuple[int, ...] = (255,)


@dataclass(frozen=True)
class LateArrival:
    """A share `fraction` of events becomes visible only a delay (uniform in [low, high] ticks) after its time."""

    fraction: float
    delay: tuple[int, int]


@dataclass(frozen=True)
class Edits:
    """A share `fraction` of events is replaced, `after` (a [low, high] range) once visible, by a good
    value moved by up to `by` (numeric points; None: a size from the signal) or another state/string."""

    fraction: float
    after: tuple[int, int]
    by: float | None = None


@dataclass(frozen=True)
class Deletions:
    """A share `fraction` of events is removed, `after` (a [low, high] range) once visible."""

    fraction: float
    after: tuple[int, int]


@dataclass(frozen=True)
class Buffered:
    """Buffered outages: on average `per_day` windows a day whose events stay invisible until
    `backfill` (a [low, high] range) after the window's end, then appear all at once."""

    per_day: float
    min_duration: int
    max_duration: int
    backfill: tuple[int, int]


@dataclass(frozen=True)
class Changes:
    """How a point's archive changes after the fact (each kind None when it does not)."""

    late: LateArrival | None = None
    edits: Edits | None = None
    deletions: Deletions | None = None
    buffered: Buffered | None = None

    @property
    def any(self) -> bool:
        return any(x is not None for x in (self.late, self.edits, self.deletions, self.buffered))


@dataclass(frozen=True)
class ChangeRule:
    """`changes:` for the points whose names match one of `tags` (PI name filters) on `server` (None: any)."""

    tags: tuple[str, ...]
    changes: Changes
    server: str | None = None


@dataclass(frozen=True)
class Signal:
    """The value generator. Which fields matter depends on `kind`:

    daily/sine/square/sawtooth: mean, amplitude, period (ticks), phase (fraction of a period)
    ramp/counter: mean (start value), rate (units per hour), period (reset interval, 0 = never)
    random_walk: mean, noise (std dev), timescale
    constant: mean
    digital: states of the point's digital set, dwell (ticks a state holds)
    string: choices (or a faker provider name in `faker`); a word also holds for `dwell`
    All numeric kinds add mean-reverting noise (std dev `noise`, correlation `timescale`), a share
    `anomalies` of spikes, and clip to [minimum, maximum] when given.
    """

    kind: str = "daily"
    mean: float = 0.0
    amplitude: float = 0.0
    period: int = 86_400 * TICKS_PER_SECOND
    phase: float = 0.0
    rate: float = 0.0
    noise: float = 0.0
    timescale: int = 30 * 60 * TICKS_PER_SECOND
    anomalies: float = 0.0
    minimum: float | None = None
    maximum: float | None = None
    decimals: int | None = None
    dwell: int = 60 * 60 * TICKS_PER_SECOND
    choices: tuple[str, ...] = ()
    faker: str | None = None


BAD_VALUE_KINDS = ("object", "errors", "field")


@dataclass(frozen=True)
class StreamErrors:
    """A share of stream-set reads in which this stream alone fails with a WebException."""

    rate: float = 0.0
    status: int = 500
    message: str = "[-10722] PINET: Timeout on PI RPC or System Call."


@dataclass(frozen=True)
class BadValues:
    """Values PI reports as errors, by (seed, point, timestamp): a share `rate` of the good values
    comes back as one of `kinds` ("object": Value {"Name": name, "Value": code}; "errors": Value
    {"Errors": [message]}; "field": Value null and the TimedValue's Errors [{FieldName, Message}]),
    all with Good false. `array` > 0 makes every good value a JSON array of that many numbers."""

    rate: float = 0.0
    kinds: tuple[str, ...] = ("object",)
    name: str = "Error"
    code: int = -11059
    message: str = "[-11059] No Good Data For Calculation"
    array: int = 0
    stream_errors: StreamErrors = field(default_factory=StreamErrors)


@dataclass(frozen=True)
class Point:
    """A PI point (tag) and the recipe of its virtual archive."""

    id: int
    name: str
    server: str
    descriptor: str = ""
    point_type: str = "Float32"
    point_class: str = "classic"
    engineering_units: str = ""
    step: bool = False
    future: bool = False
    digital_set: str = ""
    span: float = 100.0
    zero: float = 0.0
    display_digits: int = -5
    created: int | None = None
    signal: Signal = field(default_factory=Signal)
    events: EventSpec = field(default_factory=EventSpec)
    quality: QualityMix = field(default_factory=QualityMix)
    gaps: tuple[Gap, ...] = ()
    outages: Outages = field(default_factory=Outages)
    system_states: SystemStates = field(default_factory=SystemStates)
    bad_values: BadValues | None = None
    deleted: int | None = None  # the point exists from `created` (or always) until `deleted` (or always)


@dataclass(frozen=True)
class DataServer:
    name: str
    id: str  # GUID string
    version: str = "3.4.440.477"
    points: tuple[Point, ...] = ()


@dataclass(frozen=True)
class AttributeTemplate:
    """An attribute of an element or event-frame template.

    pi_point: a config string such as "\\\\%Server%\\%Element%.TT" (AF substitutions %Element%,
    %..\\Element%, %Attribute%, %Server%, %Database%) or a plain tag name; value: a static value.
    """

    name: str
    type: str = "Double"
    units: str = ""
    description: str = ""
    categories: tuple[str, ...] = ()
    pi_point: str | None = None
    value: object = None
    is_hidden: bool = False
    is_excluded: bool = False


@dataclass(frozen=True)
class ElementTemplate:
    name: str
    description: str = ""
    categories: tuple[str, ...] = ()
    base_template: str | None = None
    attributes: tuple[AttributeTemplate, ...] = ()


@dataclass(frozen=True)
class Attribute:
    """An attribute on an element or event frame, after template and substitution."""

    name: str
    type: str = "Double"
    units: str = ""
    description: str = ""
    categories: tuple[str, ...] = ()
    pi_point: str | None = None  # "\\\\SERVER\\TAG" after substitution, or None for a static value
    value: object = None
    template: str | None = None
    is_hidden: bool = False
    is_excluded: bool = False


@dataclass(frozen=True)
class Element:
    name: str
    description: str = ""
    template: str | None = None
    categories: tuple[str, ...] = ()
    attributes: tuple[Attribute, ...] = ()
    children: tuple[Element, ...] = ()


@dataclass(frozen=True)
class EventFrameTemplate:
    name: str
    description: str = ""
    categories: tuple[str, ...] = ()
    attributes: tuple[AttributeTemplate, ...] = ()


@dataclass(frozen=True)
class AttributeRecipe:
    """How an event frame attribute's static value is made for frame number `index`.

    kind: "value" (fixed), "choice" (one of choices), "faker" (a faker provider, e.g. "name"),
    "format" (a format string over {index}, {name}, {element}), "number" (uniform in [low, high]).
    """

    kind: str
    value: object = None
    choices: tuple[object, ...] = ()
    provider: str | None = None
    low: float = 0.0
    high: float = 1.0
    decimals: int | None = None


@dataclass(frozen=True)
class EventFrameSchedule:
    """Frames of one template, generated: frame i starts at start + i*every (+ jitter), lasts
    between min_duration and max_duration, refers to one of `elements` (paths relative to the
    database). count None = unbounded (frames keep coming as the clock moves)."""

    template: str
    name: str  # format string over {index}, {element}, {template}
    start: int
    every: int
    min_duration: int
    max_duration: int
    jitter: int = 0
    count: int | None = None
    elements: tuple[str, ...] = ()
    severity: str = "None"
    description: str = ""
    attributes: tuple[tuple[str, AttributeRecipe], ...] = ()
    close_delay: tuple[int, int] = (0, 0)  # a frame's end shows this long after it ended (drawn per frame)
    edits: FrameEdits | None = None


@dataclass(frozen=True)
class FrameEdits:
    """A share `rate` of a schedule's frames get `attributes` (recipes, drawn anew) some time in
    [min_after, max_after] after they end: AF users correcting a batch record."""

    rate: float
    min_after: int
    max_after: int
    attributes: tuple[tuple[str, AttributeRecipe], ...] = ()


@dataclass(frozen=True)
class EventFrame:
    """An explicit event frame. end None = still open (in progress)."""

    name: str
    template: str | None
    start: int
    end: int | None
    elements: tuple[str, ...] = ()
    severity: str = "None"
    description: str = ""
    categories: tuple[str, ...] = ()
    attributes: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class Database:
    name: str
    id: str
    description: str = ""
    element_templates: tuple[ElementTemplate, ...] = ()
    elements: tuple[Element, ...] = ()
    event_frame_templates: tuple[EventFrameTemplate, ...] = ()
    event_frames: tuple[EventFrame, ...] = ()
    schedules: tuple[EventFrameSchedule, ...] = ()
    default_data_server: str | None = None


@dataclass(frozen=True)
class AssetServer:
    name: str
    id: str
    version: str = "2.10.9.593"
    databases: tuple[Database, ...] = ()


@dataclass(frozen=True)
class Delay:
    """kind: "fixed" (ms), "uniform" (lower..upper ms) or "lognormal" (median ms, sigma, cap ms)."""

    kind: str = "fixed"
    ms: float = 0.0
    lower: float = 0.0
    upper: float = 0.0
    median: float = 0.0
    sigma: float = 0.0
    cap: float | None = None


#: WireMock's socket faults: how a response can break the connection instead of answering.
SOCKET_FAULTS = ("EMPTY_RESPONSE", "CONNECTION_RESET_BY_PEER", "MALFORMED_RESPONSE_CHUNK",
                 "RANDOM_DATA_THEN_CLOSE")


@dataclass(frozen=True)
class Fault:
    """A seeded fault rule. Matches method (or "*") and a path glob under the site root.

    Fires on a share `rate` of matching requests, or on every `every`-th one (1-based), at most
    `times` times (None = unbounded). Then answers `status` (with Retry-After when set) and/or
    waits `delay`; status None means only the delay applies and the request is served normally.
    `socket` (one of WireMock's faults, e.g. CONNECTION_RESET_BY_PEER) breaks the connection
    instead of answering; it takes no status and only top-level requests.
    scope: "request" (top-level HTTP requests), "batch" (sub-requests inside POST /batch) or "any".
    """

    name: str
    method: str = "*"
    path: str = "*"
    rate: float | None = None
    every: int | None = None
    times: int | None = None
    status: int | None = 503
    retry_after: float | None = None
    message: str | None = None
    delay: Delay | None = None
    scope: str = "request"
    socket: str | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    source: str  # file it came from, for messages
    seed: int = 0
    description: str = ""
    clock: Clock = field(default_factory=Clock)
    limits: Limits = field(default_factory=Limits)
    auth: Auth = field(default_factory=Auth)
    admin: Admin = field(default_factory=Admin)
    digital_sets: tuple[DigitalSet, ...] = ()
    data_servers: tuple[DataServer, ...] = ()
    asset_servers: tuple[AssetServer, ...] = ()
    faults: tuple[Fault, ...] = ()
    changes: tuple[ChangeRule, ...] = ()  # in file order; for a point, a later rule's kinds win
    system_version: str = "1.13.0.6518"
    product_title: str = "PI Web API 2019 SP1 (simulated)"
    web_id_type: str = "Full"
    writes_file: str | None = None  # `writes: {file: ...}`: written values kept there as JSON lines
