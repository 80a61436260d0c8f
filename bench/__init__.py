"""The benchmark suite behind ``make bench`` (``python bench/run.py``).

Each module measures one thing against the floors of issue 6 and returns plain dicts that
:mod:`bench.report` prints as a table and writes to ``bench/results.json``:

* :mod:`bench.calls`    API calls per operation, counted at the emulator
* :mod:`bench.latency`  N creates / deletes at 50 ms of emulated latency, 4 at a time
* :mod:`bench.startup`  provider start-up against a trivial dynamic provider
* :mod:`bench.fleet`    a 1,000-number sandbox fleet: numbers per second and peak memory
* :mod:`bench.sdk`      our Plivo client against the official ``plivo`` SDK
"""
