"""The load benchmark's report: percentiles, the summary table, the verdict against the floors.

Part of ``benchmarks/load.py`` (see its docstring).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from load_driver import PhaseResult, StepRecord
from load_scenario import FLOORS, TARGET_BURST, TARGET_HUMAN_PACE, TARGET_PROSPECTS


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), nearest rank; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))]


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"


def first_latencies(result: PhaseResult) -> list[float]:
    return [r.first for r in result.records if r.first is not None]


@dataclass
class LeadCheck:
    received: int
    matched: int
    duplicates: int
    unmatched: int
    missing: int


def check_leads(result: PhaseResult) -> LeadCheck:
    """Match staff-group messages to prospects, by the reference (or e-mail) they contain."""
    finished = [o for o in result.outcomes if o.finished]
    owners = {key: o.user_id for o in finished for key in (o.ref, o.email) if key}
    hits: Counter[int] = Counter()
    unmatched = 0
    for _at, text in result.staff_messages:
        tokens = {token.strip(".,;:") for token in re.findall(r"[\w.@+-]+", text)}
        found = {owners[token] for token in tokens if token in owners}
        for owner in found:  # cards backed up are grouped, up to 10 leads in one message
            hits[owner] += 1
        if not found:
            unmatched += 1  # not about a prospect (a digest, a status message...)
    return LeadCheck(received=len(result.staff_messages), matched=len(hits),
                     duplicates=sum(1 for n in hits.values() if n > 1), unmatched=unmatched,
                     missing=len(finished) - len(hits))


def summary_rows(result: PhaseResult) -> dict[str, str]:
    latencies = first_latencies(result)
    rate = result.replies / result.duration if result.duration else 0.0
    cpu_share = result.process.cpu_seconds / result.duration * 100 if result.duration else 0.0
    return {
        "prospects finished": f"{result.finished}/{result.prospects}",
        "run time": f"{result.duration:.1f} s" + (" (TIMED OUT)" if result.timed_out else ""),
        "total replies": f"{result.replies}",
        "typing actions": f"{result.chat_actions}",
        "replies per second": f"{rate:.1f}",
        "latency p50": ms(percentile(latencies, 50)),
        "latency p95": ms(percentile(latencies, 95)),
        "latency p99": ms(percentile(latencies, 99)),
        "latency max": ms(max(latencies, default=None)),
        "replies lost": f"{result.lost}" + (f" (+{result.not_run} steps not run)" if result.not_run else ""),
        "errors": f"{result.errors} ({sum(result.failed_calls.values())} API, {result.tracebacks} tracebacks)"
                  + (" + bot died" if result.died else ""),
        "flood-control notices": f"{sum(r.flood_notices for r in result.records)}",
        "peak memory (VmHWM)": f"{result.process.hwm_kb / 1024:.0f} MiB",
        "peak RSS polled": f"{result.process.peak_rss_kb / 1024:.0f} MiB",
        "start-up (start to first poll)": f"{result.process.startup_seconds:.2f} s",
        "bot CPU": f"{result.process.cpu_seconds:.1f} s ({cpu_share:.0f} % of one core)",
        "benchmark+double CPU": f"{result.bench_cpu_seconds:.1f} s",
    }


TARGETS = {
    "replies lost": "0",
    "errors": "0",
    "latency p50": "see the ratios below",
}


def print_summary(results: Sequence[PhaseResult]) -> None:
    rows = [summary_rows(r) for r in results]
    width = max(len(k) for k in rows[0]) + 2
    header = f"{'':{width}}" + "".join(f"{r.label:>28}" for r in results) + "   target"
    print(header)
    print("-" * len(header))
    for key in rows[0]:
        cells = "".join(f"{row[key]:>28}" for row in rows)
        print(f"{key:{width}}{cells}   {TARGETS.get(key, '')}")


def print_steps(result: PhaseResult) -> None:
    """Per-step latency: to the first message and to the step's expected reply."""
    by_step: dict[str, list[StepRecord]] = {}
    for record in result.records:
        by_step.setdefault(record.name, []).append(record)
    print(f"\nper step, {result.label} (first message / expected reply):")
    print(f"  {'step':<12}{'n':>6}{'first p50':>12}{'first p95':>12}{'reply p50':>12}{'reply p95':>12}"
          f"{'reply max':>12}{'lost':>6}")
    for name, records in by_step.items():
        firsts = [r.first for r in records if r.first is not None]
        dones = [r.done for r in records if r.done is not None]
        print(f"  {name:<12}{len(records):>6}{ms(percentile(firsts, 50)):>12}{ms(percentile(firsts, 95)):>12}"
              f"{ms(percentile(dones, 50)):>12}{ms(percentile(dones, 95)):>12}{ms(max(dones, default=None)):>12}"
              f"{len(records) - len(dones):>6}")


def print_verdict(bot: PhaseResult, floors: Sequence[PhaseResult], think: float = 0.0) -> None:
    print()
    bot_p50 = percentile(first_latencies(bot), 50)
    kind, target = TARGET_HUMAN_PACE if think > 0 else TARGET_BURST
    for floor in floors:
        floor_p50 = percentile(first_latencies(floor), 50)
        if bot_p50 is not None and floor_p50:
            ratio = bot_p50 / floor_p50
            if floor.label == FLOORS[kind]:
                verdict = f"target ≤ {target}: {'met' if ratio <= target else 'MISSED'}"
            else:
                verdict = "for information, no target " + ("at a human pace" if think > 0 else "under a burst")
            print(f"bot p50 / {floor.label} p50 = {ms(bot_p50)} / {ms(floor_p50)} = {ratio:.2f}  ({verdict})")
    leads = check_leads(bot)
    expected = bot.finished
    times = [at for at, _text in bot.staff_messages]
    if len(times) > 1 and times[-1] > times[0]:
        print(f"staff notifications arrived at {(len(times) - 1) / (times[-1] - times[0]) * 60:.0f} per minute")
    verdict = "met" if leads.matched == expected and not leads.duplicates else "MISSED"
    print(f"lead notifications in the staff group: {leads.received} received, {leads.matched}/{expected} "
          f"prospects notified, {leads.duplicates} notified more than once, {leads.unmatched} unmatched "
          f"messages, waited {bot.lead_wait:.0f} s after the last prospect (target: {expected}, each once: "
          f"{verdict})")
    if leads.matched < expected:
        print(f"  (Telegram allows about 20 messages a minute in one group: {expected} leads need "
              f"{expected / 20:.0f} min or more; see --lead-timeout)")
    for result in (bot, *floors):
        lost_verdict = "met" if result.lost == 0 and not result.not_run else "MISSED"
        print(f"{result.label}: replies lost {result.lost} (target 0: {lost_verdict}); errors {result.errors}")
    prospects = bot.prospects
    if prospects >= TARGET_PROSPECTS:
        ok = bot.errors == 0 and bot.lost == 0 and bot.finished == prospects
        print(f"{TARGET_PROSPECTS} prospects without error: {'met' if ok else 'MISSED'}")
    else:
        print(f"{TARGET_PROSPECTS} prospects without error: not tried in this run (use --prospects "
              f"{TARGET_PROSPECTS})")


def print_requests(results: Sequence[PhaseResult]) -> None:
    """Bot API requests by method: where a bot's HTTP round trips go."""
    print()
    for result in results:
        steps = len(result.records) or 1
        listed = ", ".join(f"{method} {count}" for method, count in result.methods.most_common())
        print(f"requests, {result.label} ({sum(result.methods.values()) / steps:.2f} per step): {listed}")


def print_failures(result: PhaseResult) -> None:
    problems = Counter(r.problem for r in result.records if r.problem)
    if problems:
        print(f"\nsteps that could not be sent ({result.label}):")
        for what, count in problems.most_common(5):
            print(f"  {count:>6} × {what}")
    if result.failed_calls:
        print(f"\nfailed API calls ({result.label}):")
        for what, count in result.failed_calls.most_common(8):
            print(f"  {count:>6} × {what}")
    if result.first_traceback:
        print(f"\nfirst traceback in the {result.label}'s stderr ({result.log_dir}):")
        print(result.first_traceback)
