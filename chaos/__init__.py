"""chaos: `make chaos`, the soak that proves nothing is lost, duplicated or stale in a living, faulty PI server.

A live simulator with a fast clock serves a scenario with late data, edits, deletions, bad values and injected
faults; the connector runs again and again and is killed with SIGKILL at seeded points, some in the middle of a
write; at the end the Delta tables are compared value by value with what the archive holds.
"""
