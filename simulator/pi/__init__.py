"""simulator.pi: PI Web API's own semantics, free of Flask: WebIDs, query parameters, filter
expressions, digital states, errors as PI renders them, and the TimedValue encoding (PI time
itself lives in picommon.pitime, shared with the connector)."""
