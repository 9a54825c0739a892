"""The whole performance table in one command: runs each benchmark in its own process, echoes its JSON lines as
they come, then prints a markdown table (median, min-max, ratio to the FLOP floor, disturbed, peak memory).

    python -m benchmarks.run_all [--only train_step,depth_inference] [--skip mask_rcnn] [--with_memory] [--tiny]

Repeats are chosen so that the default set runs in about 12 minutes on 2 quiet cores; each benchmark's own
options (sizes, repeats) are in its module. --with_memory adds benchmarks/memory.py (about 5 more minutes; memory
is not timing-sensitive, so it may run on a busy machine). --tiny runs every benchmark at toy sizes to check that
the scripts work (figures meaningless). The table says "yes" under disturbed when the matmul rate measured before
and after a benchmark's timings differed by more than 10 %: rerun those rows on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

# name -> (module, default arguments, --tiny arguments)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "matmul_rate": ("benchmarks.matmul_rate", [], ["--size", "128", "--repeats", "2"]),
    "train_step": ("benchmarks.train_step", ["--variants", "all", "--repeats", "3"],
                   ["--variants", "float32,onednn_off", "--height", "32", "--width", "64", "--batch_size", "1",
                    "--repeats", "1", "--rate_size", "128"]),
    "train_step_breakdown": ("benchmarks.train_step", ["--breakdown", "--repeats", "3"],
                             ["--breakdown", "--height", "32", "--width", "64", "--batch_size", "1", "--repeats", "1",
                              "--rate_size", "128"]),
    "depth_inference": ("benchmarks.depth_inference", ["--repeats", "3"],
                        ["--height", "32", "--width", "64", "--batch_sizes", "1", "2", "--repeats", "1",
                         "--paths", "keras_eager,library", "--rate_size", "128"]),
    "loss_step": ("benchmarks.loss_step", ["--repeats", "5"],
                  ["--batch", "1", "--height", "32", "--width", "64", "--repeats", "1", "--rate_size", "128"]),
    "pipeline": ("benchmarks.pipeline", [], ["--samples", "4", "--batches", "2", "--repeats", "1",
                                              "--rate_size", "128"]),
    "eval_depth": ("benchmarks.eval_depth", [], ["--num_images", "4", "--num_frames", "3", "--repeats", "1",
                                                  "--rate_size", "128"]),
    "export_latency": ("benchmarks.export_latency", ["--repeats", "10"],
                       ["--height", "32", "--width", "64", "--repeats", "1", "--rate_size", "128"]),
    "mask_rcnn": ("benchmarks.mask_rcnn", ["--repeats", "2"], ["--options", "pad64_256", "--repeats", "1",
                                                               "--rate_size", "128"]),
    "render_synthetic": ("benchmarks.render_synthetic", ["--frames", "3"],
                         ["--width", "208", "--height", "64", "--frames", "1"]),
    "memory": ("benchmarks.memory", [], ["--height", "32", "--width", "64", "--batch_size", "1", "--steps", "2",
                                         "--samples", "2", "--num_images", "4", "--num_frames", "3",
                                         "--frame_width", "208", "--frame_height", "64"]),
}
OPT_IN = ("memory",)


def spread(stat: dict, unit: str, digits: int = 3) -> str:
    """"median unit (min-max)" of a {"min", "median", "max"}."""
    def num(x: float) -> str:
        return f"{x:.{digits}g}"

    return f"{num(stat['median'])} {unit} ({num(stat['min'])}-{num(stat['max'])})"


def rows(record: dict) -> list[tuple[str, str, str]]:
    """(what, figure, ratio to floor) rows of one JSON line; an unknown benchmark gets one generic row."""
    name = record["benchmark"]
    ratio = record.get("ratio_to_floor")
    floor = f"{ratio['median']:.2f}x" if isinstance(ratio, dict) and "median" in ratio else "-"
    if name == "matmul_rate":
        return [(f"{record['dtype']} matmul {record['size']}²", spread(record["gflops"], "GFLOP/s", 4), "-")]
    if name == "train_step":
        return [(f"train step: {record['variant']}", spread(record["seconds_per_step"], "s"), floor)]
    if name == "train_step_breakdown":
        return [(f"step part: {record['part']}", spread(record["seconds"], "s"), floor)]
    if name == "depth_inference":
        return [(f"depth inference: {record['path']}, batch {record['batch_size']}",
                 spread(record["images_per_second"], "images/s"), floor)]
    if name == "loss_step":
        return [("losses forward + backward", spread(record["milliseconds"], "ms"), "-")]
    if name == "pipeline":
        return [(f"pipeline: {key}", spread(record[key], "samples/s"), "-")
                for key in ("samples_per_s", "decode_only_checked_samples_per_s", "decode_only_plain_samples_per_s")]
    if name == "eval_depth":
        return [(f"scoring: {key[10:]}", spread(value, "s per 100 images"), "-")
                for key, value in record.items() if key.startswith("s_per_100_")]
    if name == "export_latency":
        return [(f"exported depth: {key}", spread(value, "ms/image"), f"{record['ratio_to_floor'][key]['median']:.2f}x")
                for key, value in record["milliseconds_per_image"].items()]
    if name == "mask_rcnn_inference":
        return [(f"Mask R-CNN: {key} ({value['network_input']})", spread(value["images_per_s"], "images/s"), "-")
                for key, value in record["results"].items()]
    if name == "render_synthetic":
        return [(f"renderer {record['resolution']}", f"{record['median_s_per_frame_camera_and_lidar']} s/frame", "-")]
    if name.startswith("memory_"):
        return [(f"peak memory: {name[7:]}", f"{record['child_peak_rss_mib'] / 1024:.2f} GiB", "-")]
    return [(name, json.dumps({k: v for k, v in record.items() if k not in ("machine", "benchmark")})[:80], "-")]


def markdown_table(records: list[dict]) -> str:
    """The performance table: one row per figure, with the run's disturbed flag and peak memory."""
    lines = ["| what | median (min-max) | ratio to floor | disturbed | peak memory |", "|---|---|---|---|---|"]
    for record in records:
        disturbed = record.get("disturbed")
        flag = "-" if disturbed is None else ("yes" if disturbed else "no")
        memory = f"{record['peak_rss_mib'] / 1024:.1f} GiB" if "peak_rss_mib" in record else "-"
        for what, figure, floor in rows(record):
            lines.append(f"| {what} | {figure} | {floor} | {flag} | {memory} |")
    return "\n".join(lines)


def run_benchmark(name: str, tiny: bool) -> list[dict]:
    """Runs one benchmark, echoing its JSON lines (other output goes to stderr); returns the parsed lines."""
    module, default, tiny_args = BENCHMARKS[name]
    command = [sys.executable, "-m", module, *(tiny_args if tiny else default)]
    records = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        for line in process.stdout:
            if line.startswith("{"):
                print(line, end="", flush=True)
                records.append(json.loads(line))
            else:
                print(line, end="", file=sys.stderr, flush=True)
    if process.returncode != 0:
        print(f"run_all: {name} failed (exit {process.returncode}); continuing", file=sys.stderr, flush=True)
    return records


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = ",".join(BENCHMARKS)
    parser.add_argument("--only", type=lambda s: s.split(","), help=f"comma-separated subset of {names}")
    parser.add_argument("--skip", type=lambda s: s.split(","), default=[], help="benchmarks to leave out")
    parser.add_argument("--with_memory", action="store_true", help="also run benchmarks/memory.py")
    parser.add_argument("--tiny", action="store_true", help="toy sizes: checks the scripts, figures meaningless")
    args = parser.parse_args(argv)
    chosen = args.only or [n for n in BENCHMARKS if n not in OPT_IN or args.with_memory]
    unknown = sorted(set(chosen + args.skip) - set(BENCHMARKS))
    if unknown:
        raise SystemExit(f"run_all: unknown benchmark(s) {unknown}; choose from {names}")
    records = []
    for name in chosen:
        if name not in args.skip:
            records += run_benchmark(name, args.tiny)
    print()
    print(markdown_table(records))


if __name__ == "__main__":
    main()
