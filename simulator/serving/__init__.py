"""simulator.serving: the HTTP side: the Flask app and its wiring, gunicorn, case-insensitive
paths, authentication and CSRF, domain objects -> PI JSON (shapes), and the response contract
check used by tests."""
