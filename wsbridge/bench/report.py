"""The benchmark's results as text: one table of phases, the ratios, the idle line."""

from __future__ import annotations

from wsbridge.bench.ceilings import MODES
from wsbridge.bench.run import BRIDGE, BRIDGE_THREAD, Results

LABELS = {BRIDGE: "wsbridge", BRIDGE_THREAD: "wsbridge, SDK thread",
          "broadcast": "ws broadcast()", "frame": "frame/transport",
          "coalesce": "10 frames/write"}
HEADER = ("server", "clients", "load", "ticks/s in", "delivered msg/s", "p50 ms", "p99 ms",
          "max ms", "CPU %", "CPU µs/msg", "RSS MB", "conflated", "clients CPU %", "check")


def rows(results: Results) -> list[tuple[str, ...]]:
    out = []
    for p in results.best():
        out.append((
            LABELS.get(p.target, p.target), f"{p.clients:,}",
            "max" if p.load == "max" else "½ max", f"{p.ticks_per_s:,.0f}",
            f"{p.delivered_per_s:,.0f}", f"{p.p50_ms:.2f}", f"{p.p99_ms:.2f}",
            f"{p.max_ms:.2f}", f"{p.server_cpu:.0f}", f"{p.cpu_us_per_msg:.2f}",
            f"{p.server_rss_mb:.0f}",
            f"{p.conflated:,}", f"{p.clients_cpu:.0f}", "ok" if p.consistent else "MISMATCH",
        ))
    return out


def ratios(results: Results) -> list[tuple[str, ...]]:
    """wsbridge's flat-out delivered rate over each ceiling's, per client count."""
    out = []
    for n in results.options.clients:
        ours = results.phase(BRIDGE, n)
        if ours is None:
            continue
        cells = [f"{n:,}"]
        for mode in MODES:
            ceiling = results.phase(mode, n)
            cells.append(f"{ours.delivered_per_s / ceiling.delivered_per_s:.2f}×"
                         if ceiling and ceiling.delivered_per_s else "-")
        out.append(tuple(cells))
    return out


def table(header: tuple[str, ...], body: list[tuple[str, ...]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |",
                 "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in body]
        return "\n".join(lines)
    widths = [max(len(c) for c in col) for col in zip(header, *body, strict=True)]
    fmt = "  ".join(f"{{:>{w}}}" if i else f"{{:<{w}}}" for i, w in enumerate(widths))
    return "\n".join([fmt.format(*header), fmt.format(*("-" * w for w in widths)),
                      *(fmt.format(*r) for r in body)])


def render(results: Results, markdown: bool = False) -> str:
    m = results.machine
    parts = [
        f"machine: {m.get('Model name', '?')}, {m.get('CPU(s)', '?')} CPUs"
        f"{' (' + m['Hypervisor vendor'] + ' guest)' if 'Hypervisor vendor' in m else ''}, "
        f"{m.get('memory', '?')}; Linux {m['kernel']}; Python {m['python']}, "
        f"websockets {m['websockets']}, uvloop {m['uvloop']}, orjson {m['orjson']}; "
        f"1-minute load average at start, end: {m.get('load average (start, end)', '?')}",
        f"each client subscribes to {results.options.instruments} instruments; "
        f"{results.options.seconds:g} s per phase; flat out = "
        f"{results.options.batch} ticks per loop turn; best of {results.options.repeats} "
        "interleaved runs of each flat-out phase",
        "",
        table(HEADER, rows(results), markdown),
    ]
    body = ratios(results)
    if body:
        parts += ["", "wsbridge flat out ÷ ceiling (delivered msg/s):", "",
                  table(("clients", *(LABELS[m] for m in MODES)), body, markdown)]
    idle = results.idle
    if idle is not None:
        parts += ["", f"idle: {idle.held:,} of {idle.connections:,} connections held "
                  f"(logged in, {results.options.instruments} instruments each; opened in "
                  f"{idle.connect_seconds:.1f} s); server RSS {idle.server_rss_mb:,.0f} MB, "
                  f"CPU {idle.server_cpu:.1f}% of a core over {idle.seconds:.0f} s "
                  f"({idle.pings_answered:,} keep-alive pings answered)"]
    parts += ["", f"total {results.seconds:.0f} s"]
    return "\n".join(parts)
