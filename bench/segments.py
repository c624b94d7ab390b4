"""Segment quality on CDNOW purchases: silhouette per k, the k we choose, sizes and the
generated names and descriptions, against choosing k by silhouette alone.

CDNOW (Fader and Hardie; shipped with the `lifetimes` package) holds 69,659 purchases by
23,570 customers who first bought in the first quarter of 1997, followed to June 1998. Each
customer becomes recency (days from the last purchase to the end of the data), frequency
(purchases) and monetary value (dollars spent), log-scaled and standardised exactly as the
segmentation job scales the CRM's features.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.features import FeatureScaler
from analytics.segment_traits import summarise_segments
from analytics.segments import CustomerSegmenter
from bench.common import cpu_model, write_outputs

EXACT = 1_000_000
"""A silhouette sample larger than the data: every customer counts (exact silhouette)."""


def cdnow_path() -> Path:
    package = importlib.util.find_spec("lifetimes")
    if package is None or not package.submodule_search_locations:
        raise SystemExit("the lifetimes package is not installed (requirements-bench-data.txt)")
    return Path(package.submodule_search_locations[0]) / "datasets" / "CDNOW_master.txt"


def rfm(path: Path) -> pd.DataFrame:
    """Recency, frequency and monetary value per customer."""
    purchases = pd.read_csv(
        path,
        sep=r"\s+",
        header=None,
        skiprows=1,
        names=["customer_id", "date", "cds", "dollars"],
        dtype={"customer_id": int, "date": str},
    )
    purchases["date"] = pd.to_datetime(purchases["date"], format="%Y%m%d")
    end = purchases["date"].max() + pd.Timedelta(days=1)
    grouped = purchases.groupby("customer_id")
    return pd.DataFrame(
        {
            "recency_days": (end - grouped["date"].max()).dt.days,
            "frequency": grouped.size(),
            "monetary": grouped["dollars"].sum(),
        }
    )


def segment(features: pd.DataFrame, k_min: int, k_max: int, sample: int) -> dict:
    scaler = FeatureScaler().fit(features)
    log_space = scaler.to_log_space(features)
    scaled = scaler.standardise(log_space)
    started = time.perf_counter()
    segmenter = CustomerSegmenter(k_min=k_min, k_max=k_max, silhouette_sample=sample).fit(scaled)
    seconds = time.perf_counter() - started
    summaries = summarise_segments(features, scaled, log_space, segmenter.labels_, currency="$")
    return {
        "k_range": [k_min, k_max],
        "k": segmenter.k_,
        "silhouette": {k: round(score, 4) for k, score in segmenter.silhouette_.items()},
        "fit_s": round(seconds, 2),
        "segments": [
            {
                "name": summary.name,
                "size": summary.size,
                "share": summary.profile["share"],
                "traits": summary.profile["traits"],
                "description": summary.description,
                "means": {
                    name: value["mean"] for name, value in summary.profile["features"].items()
                },
            }
            for summary in summaries
        ],
    }


def markdown(result: dict, command: str) -> str:
    ours, baseline = result["ours"], result["silhouette_only"]
    scores = {**baseline["silhouette"], **ours["silhouette"]}
    lines = [
        "## Segments (CDNOW)",
        "",
        "```sh",
        command,
        "```",
        "",
        f"Machine: {result['machine']}. Data: `{result['data']}` ({result['purchases']:,} "
        f"purchases, {result['customers']:,} customers). Features: recency (days from the last "
        "purchase to the end of the data), frequency (purchases), monetary value (dollars), "
        "each `log1p` then standardised (`analytics.features.FeatureScaler`); K-means "
        f"(`analytics.segments.CustomerSegmenter`, 10 inits); silhouette on "
        f"{result['silhouette_rows']}.",
        "",
        "### Silhouette per k",
        "",
        "| k | " + " | ".join(str(k) for k in sorted(scores)) + " |",
        "|---|" + "---|" * len(scores),
        "| silhouette | " + " | ".join(f"{scores[k]:.3f}" for k in sorted(scores)) + " |",
        "",
        f"- baseline, k by silhouette alone (k in 2-8): **k = {baseline['k']}** "
        f"(silhouette {baseline['silhouette'][baseline['k']]:.3f})",
        f"- ours, k by silhouette within what a strategy can use (k in "
        f"{ours['k_range'][0]}-{ours['k_range'][1]}): **k = {ours['k']}** "
        f"(silhouette {ours['silhouette'][ours['k']]:.3f})",
        "",
    ]
    for title, run in (
        (f"### Our segments (k = {ours['k']})", ours),
        (f"### Baseline segments (k = {baseline['k']})", baseline),
    ):
        lines += [
            title,
            "",
            "| segment (generated name) | customers | share | recency (days) | purchases "
            "| spent ($) | traits | generated description |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for seg in run["segments"]:
            means = seg["means"]
            lines.append(
                f"| {seg['name']} | {seg['size']:,} | {seg['share']:.1%} "
                f"| {means['recency_days']:.0f} | {means['frequency']:.1f} "
                f"| {means['monetary']:,.0f} | {', '.join(seg['traits']) or '-'} "
                f"| {seg['description']} |"
            )
        lines.append("")
    lines.append(
        f"Silhouette alone picks k = {baseline['k']}: "
        + " versus ".join(f"{s['name'].lower()} ({s['share']:.0%})" for s in baseline["segments"])
        + ", one split a strategy can do little with. Within k = "
        f"{ours['k_range'][0]}-{ours['k_range'][1]} the silhouette costs "
        f"{baseline['silhouette'][baseline['k']] - ours['silhouette'][ours['k']]:.3f} and the "
        f"segments separate value from lapsing, each with a name and description generated "
        "from its centroid's z-scores (`analytics.segment_traits`)."
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="CDNOW_master.txt")
    parser.add_argument(
        "--silhouette-sample", type=int, default=EXACT, help="rows for silhouette (default all)"
    )
    parser.add_argument("--md", type=Path, default=Path("docs/bench/segments.md"))
    parser.add_argument("--json", type=Path, default=Path("var/bench/segments.json"))
    args = parser.parse_args()
    path = args.data or cdnow_path()
    features = rfm(path)
    sample = args.silhouette_sample
    result = {
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "data": "lifetimes/datasets/CDNOW_master.txt" if args.data is None else str(path),
        "purchases": int(features["frequency"].sum()),
        "customers": len(features),
        "silhouette_rows": (
            "every customer (exact)"
            if sample >= len(features)
            else f"a random sample of {sample:,} customers"
        ),
        "ours": segment(features, 4, 8, sample),
        "silhouette_only": segment(features, 2, 8, sample),
    }
    command = ".venv/bin/python -m bench.segments " + " ".join(sys.argv[1:])
    write_outputs(result, args.json, markdown(result, command.strip()), args.md)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
