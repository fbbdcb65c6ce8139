"""The market-data fan-out benchmark: ``python -m wsbridge.bench`` (docs/benchmarks.md).

- :mod:`.ticks`: the fixed-size tick every phase sends, and where its stamp sits;
- :mod:`.inject`: ``bench-inject``, the back end that injects ticks at the adapter boundary;
- :mod:`.server`: ``python -m wsbridge`` with that back end registered;
- :mod:`.ceilings`: bare servers sending the same bytes (broadcast, frame, coalesce);
- :mod:`.swarm`: the client processes; :mod:`.procs`: starting and commanding processes;
- :mod:`.run`: the phases; :mod:`.report`: the tables; :mod:`.cli`: the command line.
"""
