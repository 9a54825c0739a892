"""The sweep's table, laid out as the seed paper's Fig. 9 ("Summary of the results of our hyperparameter search"):
one row per grid point, the settings that differ between rows, the number of seeds scored, and mean ± sd over
seeds of the depth metrics and the depth-boundary errors; with a reference row, a second table of each other
row's paired difference to it, seed by seed."""

from __future__ import annotations

from sfmlearner_tf.tasks.scored_runs import SCORED_KEYS, mean_sd

HEADERS = {"a1": "δ<1.25", "a2": "δ<1.25²", "a3": "δ<1.25³", "dbe_acc": "DBE acc (px)", "dbe_comp": "DBE comp (px)",
           "edge_sharpness": "edge sharpness"}


def varying_settings(settings: list[dict]) -> list[str]:
    """The setting names whose value is not the same in every row (a row without the setting counts as
    different from one with it), in order of first appearance."""
    names = list(dict.fromkeys(name for row in settings for name in row))
    return [name for name in names if len({repr(row.get(name)) for row in settings}) > 1]


def _setting_text(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def format_sweep_table(rows: list[dict]) -> str:
    """Markdown: one line per row ({"label", "settings", "n", "metrics": {key: spread}}): its label, the values of
    the settings that vary between rows, n and mean ± sd (the value alone for one seed, "-" for none) of
    SCORED_KEYS."""
    varying = varying_settings([row["settings"] for row in rows])
    columns = ["row", *varying, "n", *(HEADERS.get(key, key) for key in SCORED_KEYS)]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [row["label"], *(_setting_text(row["settings"].get(name)) for name in varying), str(row["n"])]
        cells += [mean_sd(row["metrics"][key]) if key in row["metrics"] else "-" for key in SCORED_KEYS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_paired_table(rows: list[dict], reference: str) -> str:
    """Markdown: one line per row other than `reference` ({"label", "paired": {"n", "metrics"}}): "<label> −
    <reference>", the number of seeds both ran and the signed mean ± sd of the paired difference of SCORED_KEYS."""
    columns = ["row − " + reference, "n", *(HEADERS.get(key, key) for key in SCORED_KEYS)]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        if row["label"] == reference:
            continue
        paired = row["paired"]
        cells = [f"{row['label']} − {reference}", str(paired["n"])]
        cells += [mean_sd(paired["metrics"][key], signed=True) if key in paired["metrics"] else "-"
                  for key in SCORED_KEYS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
