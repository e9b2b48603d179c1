"""The benchmark harness: ``python -m bench`` (or ``make bench``) starts the real server as its
own process, drives it over loopback from this one, and regenerates ``docs/benchmarks.md``.

- :mod:`bench.processes` starts and stops the server processes (La Factoria and the raw
  ASGI ceiling in :mod:`bench.raw`);
- :mod:`bench.seed` gives the server a user with content to read;
- :mod:`bench.load` is the load generator;
- :mod:`bench.query_path` and :mod:`bench.statements` are the scenarios;
- :mod:`bench.report` writes the Markdown.
"""
