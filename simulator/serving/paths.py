"""simulator.serving.paths: PI URLs are case-insensitive; Flask routes are not. This WSGI middleware
lower-cases the fixed words of a path (controller and action names) and leaves WebIDs alone."""
from __future__ import annotations

import re


class CaseInsensitivePaths:
    def __init__(self, wsgi_app, url_map) -> None:
        self.wsgi_app = wsgi_app
        words: set[str] = set()
        for rule in url_map.iter_rules():
            for part in re.split(r"/", rule.rule):
                if part and "<" not in part:
                    words.add(part.lower())
        self.words = frozenset(words)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path and not path.islower():
            parts = path.split("/")
            changed = [p.lower() if p.lower() in self.words else p for p in parts]
            environ["PATH_INFO"] = "/".join(changed)
        return self.wsgi_app(environ, start_response)
