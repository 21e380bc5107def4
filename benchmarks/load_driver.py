"""The load benchmark's driver: the bot processes, one conversation per prospect, one phase per bot.

Part of ``benchmarks/load.py`` (see its docstring).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from testing.botapi import BotApiDouble, Call
from testing.process import BotProcess, bot_env

from load_scenario import CONCURRENT_UPDATES, Expect, FLOORS, Message, Prospect, RSS_POLL_SECONDS, STAFF_CHAT_ID, STAFF_USER_ID, Step, buttons_of, load_texts, template_regex, text_of


@dataclass
class StepRecord:
    """What happened to one step of one prospect (latencies in seconds, None = never)."""

    name: str
    first: float | None = None  # push -> the bot's first message in the chat
    done: float | None = None  # push -> the step's expected reply
    flood_notices: int = 0
    problem: str = ""  # why the step could not even be sent (a missing button...)


@dataclass
class ProspectOutcome:
    user_id: int
    email: str
    records: list[StepRecord] = field(default_factory=list)
    ref: str | None = None
    finished: bool = False


class ApiWatch:
    """Listener on the double: replies, failed calls and staff-group messages."""

    def __init__(self, staff_chat_id: int) -> None:
        self.staff_chat_id = staff_chat_id
        self._lock = threading.Lock()
        self.replies = 0
        self.chat_actions = 0
        self.failed: Counter[str] = Counter()
        self.methods: Counter[str] = Counter()
        self.staff_messages: list[tuple[float, str]] = []

    def __call__(self, kind: str, call: Call) -> None:
        method = call.method.lower()
        with self._lock:
            self.methods[call.method] += 1
            if not call.ok:
                self.failed[f"{call.method} {call.status} {(call.error or '')[:70]}"] += 1
            elif method in ("sendmessage", "senddocument", "copymessage", "forwardmessage"):
                chat_id = call.chat_id
                if chat_id == self.staff_chat_id:
                    result = call.result if isinstance(call.result, dict) else {}
                    self.staff_messages.append((time.monotonic(), text_of(result)))
                elif isinstance(chat_id, int) and chat_id > 0:
                    self.replies += 1
            elif method == "sendchataction":
                self.chat_actions += 1

    def staff_count(self) -> int:
        with self._lock:
            return len(self.staff_messages)

    def seen(self, refs: set[str]) -> set[str]:
        """The references among ``refs`` that appeared in a staff-group message (one may carry ten)."""
        with self._lock:
            return {ref for _at, text in self.staff_messages for ref in refs if ref in text}


class Conversation:
    """Plays one prospect's steps against the double, waiting for each step's reply."""

    def __init__(self, double: BotApiDouble, prospect: Prospect, *, echo: bool, reply_timeout: float,
                 think: float, flood: re.Pattern[str], ref_pattern: re.Pattern[str],
                 rng: random.Random) -> None:
        self.double = double
        self.prospect = prospect
        self.echo = echo
        self.reply_timeout = reply_timeout
        self.think = think
        self.flood = flood
        self.ref_pattern = ref_pattern
        self.rng = rng
        self.replies: dict[str, Message] = {}
        self.outcome = ProspectOutcome(prospect.user_id, prospect.email)

    async def run(self) -> ProspectOutcome:
        for index, step in enumerate(self.prospect.steps):
            if index and self.think > 0:
                await asyncio.sleep(self.think * self.rng.uniform(0.5, 1.5))
            record = StepRecord(step.name)
            self.outcome.records.append(record)
            reply = await self.play(step, record)
            if reply is None:
                return self.outcome  # lost: the rest of this conversation cannot go on
            self.replies[step.name] = reply
        confirm = self.replies.get("confirm")
        if confirm is not None and not self.echo:
            match = self.ref_pattern.search(text_of(confirm))
            self.outcome.ref = match.group("ref") if match and "ref" in match.groupdict() else None
        self.outcome.finished = True
        return self.outcome

    async def play(self, step: Step, record: StepRecord) -> Message | None:
        """Send the step (again after a flood-control notice, like a person told to wait)."""
        for _attempt in range(3):
            mark = self.double.mark()
            pushed_at = time.monotonic()
            first_seen: list[float] = []
            expect = self.expectation(step)

            def predicate(message: Message) -> bool:
                if not first_seen:
                    first_seen.append(time.monotonic())
                return expect(message) or (not self.echo and self.flood.search(text_of(message)) is not None)

            try:
                self.send(step)
            except (AssertionError, IndexError, KeyError, ValueError) as exc:
                record.problem = f"{type(exc).__name__}: {str(exc).splitlines()[0][:150]}"
                return None
            try:
                reply = await asyncio.wait_for(self.double.wait_for_message_async(
                    predicate, chat_id=self.prospect.user_id, since=mark, timeout=self.reply_timeout + 60),
                    self.reply_timeout)
            except TimeoutError:
                record.first = first_seen[0] - pushed_at if first_seen else None
                return None
            done_at = time.monotonic()
            record.first = (first_seen[0] if first_seen else done_at) - pushed_at
            if expect(reply):
                record.done = done_at - pushed_at
                return reply
            record.flood_notices += 1
            await asyncio.sleep(5.5)  # "Réessaie dans quelques secondes"
        return None

    def expectation(self, step: Step) -> Expect:
        if self.echo:
            sent = step.echo_text
            return lambda message: text_of(message) == sent
        return step.expect

    def send(self, step: Step) -> None:
        uid, double = self.prospect.user_id, self.double
        if self.echo:
            names = {"first_name": self.prospect.first_name, "last_name": self.prospect.last_name}
            double.push_text(uid, step.echo_text, **(names if step.name == "start" else {}))
        elif step.action == "command":
            command, *args = step.text.split()
            names = {"first_name": self.prospect.first_name, "last_name": self.prospect.last_name}
            double.push_command(uid, command, *args, **(names if step.name == "start" else {}))
        elif step.action == "text":
            double.push_text(uid, step.text)
        elif step.action == "press":
            double.click_button(uid, step.text)
        else:
            source = self.replies[step.pick_from]
            choices = [b["callback_data"] for b in buttons_of(source)
                       if str(b.get("callback_data", "")).startswith(step.prefix)]
            double.push_callback(uid, self.rng.choice(choices), source["message_id"])


@dataclass
class ProcessStats:
    peak_rss_kb: int = 0  # highest VmRSS polled
    hwm_kb: int = 0  # VmHWM at the end
    cpu_seconds: float = 0.0
    startup_seconds: float = 0.0  # process start to its first getUpdates (knowledge loaded, polling)


def proc_status_kb(pid: int, key: str) -> int:
    """A ``kB`` field of ``/proc/<pid>/status`` (0 if the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from ``/proc/<pid>/stat``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


async def poll_rss(pid: int, stats: ProcessStats, stop: asyncio.Event) -> None:
    while not stop.is_set():
        stats.peak_rss_kb = max(stats.peak_rss_kb, proc_status_kb(pid, "VmRSS"))
        try:
            await asyncio.wait_for(stop.wait(), RSS_POLL_SECONDS)
        except TimeoutError:
            pass


#: ``run_bot.py`` with every PTB ``AIORateLimiter`` made limitless (the application's and
#: the outbox client's): a diagnostic, to tell the cost of Telegram's flood limits from
#: the bot's own cost (``--bot-without-rate-limiter``).
NO_LIMITER_WRAPPER = """\
import os, runpy, sys
os.environ["TELEGRAM_RATE"] = "1000000"  # the bot-wide budget (handlers/budget.py) made limitless too
from telegram.ext import AIORateLimiter
_init = AIORateLimiter.__init__
def _limitless(self, *args, max_retries=0, **kwargs):
    _init(self, overall_max_rate=0, group_max_rate=0, max_retries=max_retries)
AIORateLimiter.__init__ = _limitless
sys.argv = ["run_bot.py"]
runpy.run_path("run_bot.py", run_name="__main__")
"""


def bot_command(kind: str, workdir: Path, args: argparse.Namespace) -> list[str]:
    """The command line of the bot under test (optionally under cProfile, or without rate limiter)."""
    if kind in FLOORS:
        return [sys.executable, "testing/echo_bots/echo.py"]
    script = "run_bot.py"
    if args.bot_without_rate_limiter:
        wrapper = workdir / "run_bot_without_rate_limiter.py"
        wrapper.write_text(NO_LIMITER_WRAPPER)
        script = str(wrapper)
    prefix = ["-m", "cProfile", "-o", str(args.profile_bot)] if args.profile_bot else []
    return [sys.executable, *prefix, script]


def start_bot(kind: str, double: BotApiDouble, workdir: Path, args: argparse.Namespace) -> BotProcess:
    """Start the bot (``bot`` or ``echo``) against ``double`` and wait until it polls."""
    if kind == "bot":
        env = bot_env(double, workdir, STAFF_CHAT_ID=STAFF_CHAT_ID, STAFF_USER_IDS=STAFF_USER_ID,
                      LOG_LEVEL=args.log_level)
    else:
        env = {"TELEGRAM_BOT_TOKEN": double.token, "TELEGRAM_BASE_URL": double.base_url,
               "ECHO_CONCURRENT_UPDATES": str(CONCURRENT_UPDATES), "LOG_LEVEL": "WARNING",
               "ECHO_RATE_LIMITER": "1" if kind == "limited" else "0"}
    workdir.mkdir(parents=True, exist_ok=True)
    process = BotProcess(bot_command(kind, workdir, args), env=env, log_dir=workdir / "logs", name=kind,
                         double=double)
    process.start()
    process.wait_ready(timeout=30)
    return process


def count_tracebacks(process: BotProcess) -> tuple[int, str]:
    """Tracebacks in the bot's stderr, and the first one (for the report)."""
    text = process.stderr_text()
    count = text.count("Traceback (most recent call last)")
    first = ""
    if count:
        start = text.index("Traceback (most recent call last)")
        first = "\n".join(text[start:].splitlines()[:25])
    return count, first


@dataclass
class PhaseResult:
    label: str
    prospects: int
    outcomes: list[ProspectOutcome]
    duration: float
    replies: int
    chat_actions: int
    failed_calls: Counter[str]
    tracebacks: int
    first_traceback: str
    process: ProcessStats
    bench_cpu_seconds: float
    timed_out: bool
    methods: Counter[str]
    died: bool = False  # the bot process exited before the end of the run
    not_run: int = 0  # steps of prospects who stopped early (a lost reply or the run timeout)
    staff_messages: list[tuple[float, str]] = field(default_factory=list)
    lead_wait: float = 0.0
    log_dir: Path | None = None

    @property
    def records(self) -> list[StepRecord]:
        return [r for o in self.outcomes for r in o.records]

    @property
    def lost(self) -> int:
        return sum(1 for r in self.records if r.done is None)

    @property
    def errors(self) -> int:
        return sum(self.failed_calls.values()) + self.tracebacks + int(self.died)

    @property
    def finished(self) -> int:
        return sum(1 for o in self.outcomes if o.finished)


async def run_conversations(double: BotApiDouble, prospects: Sequence[Prospect], *, echo: bool,
                            args: argparse.Namespace) -> tuple[list[ProspectOutcome], int, bool]:
    """All prospects at once; returns outcomes, steps never run and whether the phase timed out."""
    texts = load_texts()
    flood, ref = template_regex(texts["general.trop_vite"]), template_regex(texts["form.confirme"])
    conversations = [Conversation(double, p, echo=echo, reply_timeout=args.reply_timeout, think=args.think,
                                  flood=flood, ref_pattern=ref, rng=random.Random(args.seed + p.user_id))
                     for p in prospects]

    async def start(index: int, conversation: Conversation) -> ProspectOutcome:
        if args.ramp > 0:
            await asyncio.sleep(args.ramp * index / max(1, len(conversations)))
        return await conversation.run()

    tasks = [asyncio.create_task(start(i, c)) for i, c in enumerate(conversations)]
    done, pending = await asyncio.wait(tasks, timeout=args.timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    outcomes = []
    for conversation, task in zip(conversations, tasks):
        if task in done and task.exception() is not None:
            print(f"prospect {conversation.prospect.user_id}: {task.exception()!r}", file=sys.stderr)
        outcomes.append(conversation.outcome)
    not_run = sum(len(c.prospect.steps) - len(c.outcome.records) for c in conversations)
    return outcomes, not_run, bool(pending)


async def wait_for_leads(watch: ApiWatch, refs: set[str], args: argparse.Namespace) -> float:
    """Wait until every reference in ``refs`` appeared in the staff group (cards may be grouped), none
    came for ``--lead-idle`` s, or ``--lead-timeout`` passed; returns the time waited."""
    started = time.monotonic()
    last_count, last_change = watch.staff_count(), started
    while len(watch.seen(refs)) < len(refs):
        now = time.monotonic()
        if watch.staff_count() != last_count:
            last_count, last_change = watch.staff_count(), now
        if now - started >= args.lead_timeout or now - last_change >= args.lead_idle:
            break
        await asyncio.sleep(0.25)
    return time.monotonic() - started


async def run_phase(kind: str, prospects: Sequence[Prospect], args: argparse.Namespace,
                    workdir: Path) -> PhaseResult:
    """Start one bot, play every prospect against it, collect the figures, stop it."""
    double = BotApiDouble().start()
    watch = ApiWatch(STAFF_CHAT_ID)
    double.register_group(STAFF_CHAT_ID, "Équipe admissions", is_forum=args.staff_forum,
                          members=[{"id": STAFF_USER_ID, "first_name": "Claire", "last_name": "Staff"}])
    process: BotProcess | None = None
    stats = ProcessStats()
    stop_polling = asyncio.Event()
    poller: asyncio.Task[None] | None = None
    try:
        launched = time.monotonic()
        process = start_bot(kind, double, workdir / kind, args)
        stats.startup_seconds = time.monotonic() - launched
        assert process.pid is not None
        double.add_listener(watch)
        poller = asyncio.create_task(poll_rss(process.pid, stats, stop_polling))
        cpu_before, bench_before = proc_cpu_seconds(process.pid), time.process_time()
        started = time.monotonic()
        outcomes, not_run, timed_out = await run_conversations(double, prospects, echo=kind in FLOORS,
                                                               args=args)
        duration = time.monotonic() - started
        replies, actions = watch.replies, watch.chat_actions
        lead_wait = 0.0
        if kind == "bot":
            refs = {o.ref for o in outcomes if o.finished and o.ref}
            lead_wait = await wait_for_leads(watch, refs, args)
        died = not process.is_running()
        stats.cpu_seconds = max(0.0, proc_cpu_seconds(process.pid) - cpu_before)
        stats.hwm_kb = proc_status_kb(process.pid, "VmHWM")
        bench_cpu = time.process_time() - bench_before
    finally:
        stop_polling.set()
        if poller is not None:
            await poller
        if process is not None:
            await asyncio.to_thread(process.stop, 15)
        double.stop()
    tracebacks, first_traceback = count_tracebacks(process)
    return PhaseResult(
        label=("bot, no rate limiter" if args.bot_without_rate_limiter else "admissions bot")
        if kind == "bot" else FLOORS[kind], prospects=len(prospects),
        outcomes=outcomes, duration=duration, replies=replies, chat_actions=actions,
        failed_calls=Counter(watch.failed), tracebacks=tracebacks, first_traceback=first_traceback,
        process=stats, bench_cpu_seconds=bench_cpu, timed_out=timed_out, methods=Counter(watch.methods),
        died=died,
        staff_messages=list(watch.staff_messages), lead_wait=lead_wait, not_run=not_run,
        log_dir=workdir / kind / "logs",
    )
