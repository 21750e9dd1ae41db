"""Soak benchmark (issue 10): thousands of seeded random actions on the real editor.

    python tests/benchmarks/soak.py --actions 5000 [--seed 1] [--round-actions 500]
                                    [--processes 2] [--only a,b] [--exclude a,b]

Each round is a fresh child process (tests/support/soak.py: the editor built as `retouch`
builds it, offscreen, RETOUCH_HOME in a temporary folder, the local engine as its child)
running ``--round-actions`` actions from the seed ``seed + round``. A round that crashes,
hangs or breaks an invariant ends early; the next round starts a fresh process, until
``--actions`` actions have run. ``--processes`` rounds run side by side.

Prints a table (actions run, crashes, actions per crash, each kind of action: how often,
how often it could be done, and its mean time as a ratio of the "wait" action, the
baseline measured in the same run: an action that only lets the loop settle) and every
crash and failure with the command that reproduces it. Writes JSON to
tests/benchmarks/results/soak.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support.soak import ChildRun, run_child  # noqa: E402

RESULTS = ROOT / "tests" / "benchmarks" / "results"
BASELINE = "wait"
SECONDS_PER_ACTION_LIMIT = 1.0  # a round's time limit: generous, the watchdog ends hangs


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, default=5000, help="actions to run in all")
    parser.add_argument("--seed", type=int, default=1, help="round r uses seed + r")
    parser.add_argument("--round-actions", type=int, default=500, help="actions per process")
    parser.add_argument("--processes", type=int, default=1, help="rounds run side by side")
    parser.add_argument("--rounds", type=int, default=0, help="stop after this many rounds")
    parser.add_argument("--only", default="", help="comma-separated kinds to choose from")
    parser.add_argument("--exclude", default="", help="comma-separated kinds never chosen")
    return parser.parse_args(argv)


class Soak:
    """Schedules rounds until enough actions have run; thread-safe bookkeeping."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.runs: list[ChildRun] = []
        self.done = 0
        self.scheduled = 0
        self.next_round = 0
        self._lock = threading.Lock()
        self.extra: list[str] = []
        if args.only:
            self.extra += ["--only", args.only]
        if args.exclude:
            self.extra += ["--exclude", args.exclude]

    def wanted(self) -> int:
        """Actions still to start, counting those planned by rounds now running."""
        with self._lock:
            return self.args.actions - self.done - self.scheduled

    def rounds_left(self) -> bool:
        return not self.args.rounds or self.next_round < self.args.rounds

    def launch(self, pool: ThreadPoolExecutor) -> Future[ChildRun] | None:
        count = min(self.args.round_actions, self.wanted())
        if count <= 0 or not self.rounds_left():
            return None
        with self._lock:
            seed = self.args.seed + self.next_round
            self.next_round += 1
            self.scheduled += count
        limit = 120 + count * SECONDS_PER_ACTION_LIMIT
        return pool.submit(run_child, count, seed, extra=self.extra, timeout=limit)

    def finish(self, run: ChildRun) -> None:
        with self._lock:
            self.scheduled -= run.planned
            self.done += actions_of(run)
            self.runs.append(run)
        print(line_for(run), flush=True)


def actions_of(run: ChildRun) -> int:
    """Actions that finished: the summary's count, or the steps begun minus the one that
    was running when the process died."""
    summary = run.summary
    if summary is not None:
        return int(summary["actions"])
    return max(0, len(run.started) - 1)


def line_for(run: ChildRun) -> str:
    text = f"seed {run.seed}: {run.verdict} after {actions_of(run)}/{run.planned} actions"
    text += f" in {run.seconds:.1f} s"
    if run.verdict != "ok":
        text += f"; last {', '.join(run.last_actions(4))}"
    return text


def counts(runs: list[ChildRun]) -> tuple[Counter[str], Counter[str], dict[str, list[float]]]:
    """Per kind: actions run, actions performed (not skipped), and seconds per action."""
    ran: Counter[str] = Counter()
    performed: Counter[str] = Counter()
    seconds: dict[str, list[float]] = {}
    for run in runs:
        summary = run.summary
        if summary is None:  # died: count the steps it finished from its stderr
            finished = run.started[:-1]
            skipped = run.skipped
            ran.update(kind for _, kind in finished)
            performed.update(kind for index, kind in finished if index not in skipped)
            continue
        ran.update(summary["counts"])
        performed.update(summary["performed"])
        for kind, total in summary["kind_seconds"].items():
            seconds.setdefault(kind, []).append(total / summary["counts"][kind])
    return ran, performed, seconds


def report(soak: Soak, wall: float) -> dict[str, Any]:
    runs = soak.runs
    verdicts = Counter(run.verdict for run in runs)
    crashes = [r for r in runs if r.crashed]
    failures = [r for r in runs if r.verdict in ("failure", "stuck after an exception")]
    ran, performed, seconds = counts(runs)
    total = sum(ran.values())
    means = {k: statistics.fmean(v) for k, v in seconds.items()}
    baseline = means.get(BASELINE)
    kinds = []
    for kind in sorted(ran):
        mean = means.get(kind)
        kinds.append({
            "kind": kind,
            "ran": ran[kind],
            "performed": performed.get(kind, 0),
            "mean_ms": None if mean is None else round(mean * 1000, 1),
            "x_baseline": None if mean is None or not baseline else round(mean / baseline, 2),
        })  # fmt: skip
    findings = sorted({f for r in runs if r.summary for f in r.summary.get("findings", [])})
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "actions": total,
        "rounds": len(runs),
        "processes": soak.args.processes,
        "wall_s": round(wall, 1),
        "actions_per_s": round(total / wall, 2) if wall else None,
        "verdicts": dict(verdicts),
        "crashes": len(crashes),
        "failures": len(failures),
        "actions_per_crash": round(total / len(crashes), 1) if crashes else None,
        "baseline_mean_ms": None if baseline is None else round(baseline * 1000, 1),
        "kinds": kinds,
        "findings": findings,
        "problems": [
            {
                "seed": r.seed,
                "verdict": r.verdict,
                "after_actions": actions_of(r),
                "reproduce": r.reproduce(),
                "last_actions": r.last_actions(10),
                "failures": r.failures(),
                "trace": r.trace(),
            }
            for r in runs
            if r.verdict != "ok"
        ],
    }


def table(record: dict[str, Any]) -> str:
    per_crash = record["actions_per_crash"]
    rows = [
        ("actions run", f"{record['actions']}"),
        ("rounds (fresh processes)", f"{record['rounds']} ({record['processes']} at a time)"),
        ("wall time", f"{record['wall_s']:.1f} s ({record['actions_per_s']} actions/s)"),
        ("crashes (signal, hang, timeout)", f"{record['crashes']}"),
        ("actions per crash", "no crash" if per_crash is None else f"{per_crash}"),
        ("invariant failures", f"{record['failures']}"),
        ("unclean quits (the closing failed)", f"{record['verdicts'].get('unclean quit', 0)}"),
        ("how the rounds ended", ", ".join(f"{k} {v}" for k, v in record["verdicts"].items())),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"| {'measure'.ljust(width)} | value |", f"| {'-' * width} | --- |"]
    lines += [f"| {name.ljust(width)} | {value} |" for name, value in rows]
    lines += [
        "",
        f"Per kind (mean time per action against '{BASELINE}', "
        f"{record['baseline_mean_ms']} ms, in the same run):",
        "| kind | ran | performed | mean ms | × wait |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for kind in record["kinds"]:
        mean = "–" if kind["mean_ms"] is None else f"{kind['mean_ms']:.1f}"
        ratio = "–" if kind["x_baseline"] is None else f"{kind['x_baseline']:.2f}"
        lines.append(f"| {kind['kind']} | {kind['ran']} | {kind['performed']} | {mean} | {ratio} |")
    for finding in record["findings"]:
        lines.append(f"\nfinding: {finding}")
    for problem in record["problems"]:
        lines += [
            "",
            f"{problem['verdict']} (seed {problem['seed']}, after {problem['after_actions']} "
            f"actions): {problem['reproduce']}",
            "  last: " + ", ".join(problem["last_actions"]),
        ]
        lines += [f"  {failure.splitlines()[0]}" for failure in problem["failures"]]
        if problem["trace"]:
            lines += ["  " + line for line in problem["trace"].splitlines()[:24]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    soak = Soak(args)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.processes)) as pool:
        running: set[Future[ChildRun]] = set()
        while True:
            while len(running) < args.processes and (future := soak.launch(pool)) is not None:
                running.add(future)
            if not running:
                break
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                soak.finish(future.result())
    record = report(soak, time.monotonic() - started)
    print()
    print(table(record))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "soak.json"
    out.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\nwrote {out.relative_to(ROOT)}")
    return 0 if not record["crashes"] and not record["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
