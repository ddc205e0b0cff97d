"""The README's performance figure, from the JSON the benchmarks wrote.

    python bench/plot.py RESULTS_DIR OUT.png

Reads ``pipeline.json``, ``scale.json`` and ``backpressure.json`` (each benchmark's
``--json``) and draws events/s and memory in one PNG: the pipeline's consumers, the
1,000-stream run (events/s and memory per stream), and RSS over a backpressured stream.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: a file
import matplotlib.pyplot as plt

TRIO_SSE, PEER, FLOOR = "#2a7ab0", "#a0a0a0", "#d0d0d0"


def load(directory: str, name: str) -> dict[str, Any]:
    with open(os.path.join(directory, f"{name}.json")) as results:
        data: dict[str, Any] = json.load(results)
    return data


def bars(axes: Any, values: dict[str, float], title: str, unit: str) -> None:
    names = list(values)
    colours = [
        TRIO_SSE if "trio-sse" in name else FLOOR if "raw" in name else PEER for name in names
    ]
    positions = range(len(names))
    axes.barh(positions, [values[name] for name in names], color=colours)
    axes.set_yticks(positions, names)
    axes.invert_yaxis()
    axes.set_title(title, fontsize=10)
    axes.set_xlabel(unit)
    for position, name in zip(positions, names, strict=True):
        axes.text(values[name], position, f" {values[name]:,.0f}", va="center", fontsize=8)
    axes.margins(x=0.25)


def main() -> None:
    directory, out = sys.argv[1], sys.argv[2]
    pipeline = load(directory, "pipeline")
    scale = load(directory, "scale")
    backpressure = load(directory, "backpressure")

    figure, ((top_left, top_right), (bottom_left, bottom_right)) = plt.subplots(
        2, 2, figsize=(11, 6.5), layout="constrained"
    )
    rates = {name: 1e6 / us for name, us in pipeline["us_per_event"].items()}
    bars(
        top_left,
        rates,
        f"One stream, {pipeline['events']:,} events over loopback",
        "events/s (higher is better)",
    )
    bars(
        top_right,
        scale["events_per_second"],
        f"{scale['streams']:,} concurrent streams x {scale['events']} events",
        "aggregate events/s (higher is better)",
    )
    bars(
        bottom_left,
        scale["kib_per_stream"],
        f"Peak memory per stream, {scale['streams']:,} streams at once (median round)",
        "KiB per stream (lower is better)",
    )
    samples = backpressure["samples"]
    bottom_right.plot(
        [sample["received_mb"] for sample in samples],
        [sample["rss_mib"] for sample in samples],
        color=TRIO_SSE,
    )
    bottom_right.set_ylim(bottom=0)
    bottom_right.set_title(
        f"Backpressure: {backpressure['event_kib']} KiB events, 1 ms per event",
        fontsize=10,
    )
    bottom_right.set_xlabel("MB streamed")
    bottom_right.set_ylabel("RSS (MiB)")
    figure.suptitle(f"trio-sse, Python {pipeline['python']} (bench/, nox -s bench)", fontsize=11)
    figure.savefig(out, dpi=90)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
