"""Load test: N prospects talk to the real bot at once, next to echo bots (the floors).

    python benchmarks/load.py [--prospects 200] [--think 0] [--seed 1]

Method
------
Everything runs on this machine, against the local Bot API double
(``tests/botapi_double.py``): nothing leaves 127.0.0.1.

1. **The admissions bot.** ``run_bot.py`` is started as a subprocess with
   :class:`tests.e2e_support.BotProcess` (own temporary SQLite file,
   ``KNOWLEDGE_DIR=knowledge``, a staff supergroup registered in the double as
   ``STAFF_CHAT_ID`` with one member listed in ``STAFF_USER_IDS``).  N simulated
   prospects, one asyncio task each, all start at once.  Each one sends ``/start``,
   asks 2 or 3 casual French questions, presses a topic then an entry of that topic,
   and fills in the whole pre-registration (``/inscription``, consent, last name,
   first name, birth date, e-mail, phone, diploma, situation, "je cherche encore",
   heard-from, confirm).  It waits for the reply of each step before the next one, as
   a person would (plus ``--think`` seconds, ±50 %, if asked).

2. **The floors.** ``benchmarks/echo_bot.py`` (bare python-telegram-bot, same
   ``concurrent_updates`` as the real bot) with the same number of prospects and the
   same number of steps each; every step is a text round trip. It runs twice: bare
   (no rate limiter: what python-telegram-bot costs, but it ignores Telegram's flood
   limits, which the double does not enforce), then with the same ``AIORateLimiter``
   as the admissions bot (the floor of any bot that respects Telegram's 30 messages
   per second). ``--floors`` picks one or both.

What is measured, per bot
-------------------------
* **Step reply**: a step is done when *its* reply arrives: the message showing the
  step's question (``knowledge/texts/form.yaml``) or buttons, not just any message,
  because one step may produce several messages (an answer and a notice, the
  phone note and the next question).  Each expected reply is the *last* message of
  its step, so nothing of one step can be mistaken for the reply to the next.
* **Latency**: time from pushing an update into the double to the bot's *first*
  message in that chat after it (p50/p95/p99 over all steps).  Both instants are
  read with ``time.monotonic()``: the push in the benchmark's loop, the reply in the
  double's server thread when the message is stored.  The per-step table gives the
  time to the step's expected reply too.
* **Lost**: expected replies that did not come within ``--reply-timeout`` (the
  prospect then stops; its remaining steps are counted as "not run").
* **Errors**: Bot API calls the double answered with an error, plus tracebacks in
  the bot's stderr.
* **Replies per second**: the bot's messages to prospects / wall time of the run.
* **Memory**: the bot process's ``VmHWM`` (peak resident set) from ``/proc``, and
  the highest ``VmRSS`` polled every 0.25 s.  CPU seconds of the bot process and of
  this process (which hosts the double) show which side was busy.
* **Leads**: messages the bot sent to the staff group, matched to prospects by the
  reference given at confirmation (or their e-mail); each should arrive once.

Telegram's flood limits apply to the real bot (PTB's ``AIORateLimiter``: 30
messages per second overall, 20 per minute per group) and to the limited echo bot,
not to the bare one: with N prospects answering instantly, the limit, not the
code, sets every limited bot's latency (about N / 30 seconds).  The run always ends:
``--reply-timeout`` per step, ``--timeout`` per bot, ``--lead-timeout`` for the
staff notifications; both bot processes are stopped with SIGTERM (SIGKILL after
15 s).  The exit code is 0 even when a target is missed: read the figures.

Diagnostics: ``--bot-without-rate-limiter`` runs ``run_bot.py`` with PTB's rate
limiters switched off (what the bot itself costs, without Telegram's flood limits);
``--profile-bot FILE`` runs it under cProfile (read FILE with ``pstats``);
``--keep-logs DIR`` keeps both bots' logs and the bot's database.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.botapi_double import BotApiDouble, Call  # noqa: E402
from tests.e2e_support import BotProcess, bot_env  # noqa: E402

STAFF_CHAT_ID = -1001234567890
STAFF_USER_ID = 777000111
FIRST_USER_ID = 60_000_001
#: PTB's ``concurrent_updates(True)`` means 256: the echo bot gets the same.
CONCURRENT_UPDATES = 256
TARGET_RATIO = 1.5
TARGET_PROSPECTS = 1000
#: The floors: the bare echo bot the issue names, and the same echo bot under the rate limiter the
#: admissions bot must use (Telegram's 30 messages/s), which no bot talking to Telegram can beat.
FLOORS = {"bare": "echo bot", "limited": "echo + rate limiter"}
RSS_POLL_SECONDS = 0.25

#: Casual questions the FAQ answers (checked with ``run_bot.py ask``).
QUESTIONS = [
    "c combien le salaire en alternance ?",
    "c'est quoi le rythme école entreprise",
    "faut payer quelque chose pour la formation ?",
    "jpeux m'inscrire si j'ai pas encore trouvé d'entreprise ?",
    "y'a des portes ouvertes bientôt ?",
    "ça dure combien de temps le bts",
    "c'est quoi les matières",
    "y a des débouchés après ?",
    "je peux continuer en licence après ?",
    "comment on candidate",
    "il y a une cantine ?",
    "faut quel bac pour rentrer",
]
FIRST_NAMES = ["Zoé", "Lucas", "Inès", "Noah", "Léa", "Mohamed", "Chloé", "Hugo", "Manon", "Yanis",
               "Camille", "Théo", "Sarah", "Enzo", "Jade", "Nathan", "Lina", "Maël", "Eva", "Adam"]
LAST_NAMES = ["Dupont", "Martin", "Lefèvre", "Bernard", "Dubois", "Moreau", "Laurent", "Garnier",
              "Fournier", "Girard", "Bonnet", "Mercier", "Lambert", "Faure", "Rousseau", "Benali",
              "Nguyen", "Leroy", "Roux", "Morel"]
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre"]
DIPLOMAS = ["bac_general", "bac_techno", "bac_pro", "bac_en_cours", "bac_plus_2"]
SITUATIONS = ["lyceen", "etudiant", "demandeur_emploi", "salarie"]
HEARD = ["salon", "portes_ouvertes", "site_web", "reseaux_sociaux", "parcoursup", "bouche_a_oreille"]

Message = dict[str, Any]
Expect = Callable[[Message], bool]


# --------------------------------------------------------------------------- bot texts


def load_texts() -> dict[str, str]:
    """The bot's own sentences, ``{"form.ask_email": "...", "general.menu": "..."}``."""
    texts: dict[str, str] = {}
    for name in ("form", "general"):
        data = yaml.safe_load((ROOT / "knowledge" / "texts" / f"{name}.yaml").read_text("utf-8"))
        texts.update({f"{name}.{key}": str(value) for key, value in data.items()})
    return texts


def template_regex(template: str) -> re.Pattern[str]:
    """A regex for the first line of a text as the prospect reads it: ``**`` dropped,
    every ``{placeholder}`` matching anything (``{ref}`` is captured as ``ref``)."""
    line = next(part for part in template.replace("**", "").splitlines() if part.strip()).strip()
    pieces = re.split(r"\{(\w+)\}", line)
    regex = "".join(re.escape(p) if i % 2 == 0 else (f"(?P<{p}>\\S+?)" if p == "ref" else ".+?")
                    for i, p in enumerate(pieces))
    return re.compile(regex)


def text_of(message: Message) -> str:
    return message.get("text") or message.get("caption") or ""


def buttons_of(message: Message) -> list[dict[str, Any]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button for row in rows for button in row]


def shows(pattern: re.Pattern[str]) -> Expect:
    """Expect a message whose text contains ``pattern``."""
    return lambda message: pattern.search(text_of(message)) is not None


def has_button(data_prefix: str, pattern: re.Pattern[str] | None = None) -> Expect:
    """Expect a message with a button whose callback data starts with ``data_prefix``
    (and, if given, whose text contains ``pattern``)."""
    def check(message: Message) -> bool:
        return any(str(b.get("callback_data", "")).startswith(data_prefix) for b in buttons_of(message)) \
            and (pattern is None or pattern.search(text_of(message)) is not None)
    return check


def any_keyboard(message: Message) -> bool:
    """An answer to a question: every outcome but small talk ends with buttons."""
    return bool(buttons_of(message))


# --------------------------------------------------------------------------- scenario


@dataclass(frozen=True)
class Step:
    """One thing a prospect sends, and the reply that ends it.

    ``action``: ``command`` and ``text`` send ``text``; ``press`` presses the button
    labelled ``text`` on the latest message showing it; ``pick`` presses a random
    button whose data starts with ``prefix`` on the reply of the step ``pick_from``.
    """

    name: str
    action: str
    text: str
    expect: Expect
    pick_from: str = ""
    prefix: str = ""

    @property
    def echo_text(self) -> str:
        """What the echo prospect types for this step (a text round trip)."""
        return self.text or f"je choisis : {self.name}"


@dataclass(frozen=True)
class Prospect:
    user_id: int
    first_name: str
    last_name: str
    email: str
    steps: tuple[Step, ...]


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def birth_date(rng: random.Random) -> str:
    """A birth date of someone aged 17 to 22, typed one way or another."""
    year, month, day = rng.randint(2004, 2008), rng.randint(1, 12), rng.randint(1, 28)
    return f"{day} {MONTHS[month - 1]} {year}" if rng.random() < 0.5 else f"{day:02d}/{month:02d}/{year}"


def phone(index: int) -> str:
    """A distinct French mobile number per prospect."""
    digits = f"{index:08d}"[-8:]
    return "06 " + " ".join(digits[i:i + 2] for i in range(0, 8, 2))


def build_prospect(index: int, texts: dict[str, str], rng: random.Random) -> Prospect:
    """The conversation of prospect number ``index`` (names, answers and choices drawn from ``rng``)."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{ascii_fold(first)}.{ascii_fold(last)}.{index}@example.com"
    ask = {key: template_regex(texts[f"form.ask_{key}"]) for key in
           ("last_name", "first_name", "birth_date", "email", "phone", "diploma", "situation", "company",
            "heard")}

    def label(step: str, code: str) -> str:
        return texts[f"form.choix_{step}_{code}"]

    steps = [Step("start", "command", "/start", shows(template_regex(texts["general.bienvenue"])))]
    steps += [Step("question", "text", q, any_keyboard) for q in rng.sample(QUESTIONS, rng.choice((2, 3)))]
    steps += [
        Step("topic", "pick", "", has_button("e:", template_regex(texts["general.theme"])),
             pick_from="start", prefix="t:"),
        Step("entry", "pick", "", has_button("m"), pick_from="topic", prefix="e:"),
        Step("inscription", "command", "/inscription", has_button("f:ok")),
        Step("consent", "press", texts["form.bouton_accepte"], shows(ask["last_name"])),
        Step("last_name", "text", last, shows(ask["first_name"])),
        Step("first_name", "text", first, shows(ask["birth_date"])),
        Step("birth_date", "text", birth_date(rng), shows(ask["email"])),
        Step("email", "text", email, shows(ask["phone"])),
        Step("phone", "text", phone(index), shows(ask["diploma"])),
        Step("diploma", "press", label("diploma", rng.choice(DIPLOMAS)), shows(ask["situation"])),
        Step("situation", "press", label("situation", rng.choice(SITUATIONS)), shows(ask["company"])),
        Step("company", "press", label("company", "recherche"), shows(ask["heard"])),
        Step("heard", "press", label("heard", rng.choice(HEARD)),
             shows(template_regex(texts["form.recap_intro"]))),
        Step("confirm", "press", texts["form.bouton_confirmer"], shows(template_regex(texts["form.confirme"]))),
    ]
    return Prospect(FIRST_USER_ID + index, first, last, email, tuple(steps))


def build_prospects(count: int, seed: int) -> list[Prospect]:
    texts = load_texts()
    return [build_prospect(i, texts, random.Random(seed * 1_000_003 + i)) for i in range(count)]


# --------------------------------------------------------------------------- records


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


# --------------------------------------------------------------------------- one prospect


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


# --------------------------------------------------------------------------- the bot process


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
import runpy, sys
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
        return [sys.executable, "benchmarks/echo_bot.py"]
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


# --------------------------------------------------------------------------- one phase


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


async def wait_for_leads(watch: ApiWatch, expected: int, args: argparse.Namespace) -> float:
    """Wait until ``expected`` staff messages arrived, none came for ``--lead-idle`` s,
    or ``--lead-timeout`` passed; returns the time waited."""
    started = time.monotonic()
    last_count, last_change = watch.staff_count(), started
    while watch.staff_count() < expected:
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
            expected = sum(1 for o in outcomes if o.finished)
            lead_wait = await wait_for_leads(watch, expected, args)
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


# --------------------------------------------------------------------------- report


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
        if len(found) == 1:
            hits[found.pop()] += 1
        else:
            unmatched += 1  # not about one prospect (a digest, a status message...)
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
    "latency p50": f"≤ {TARGET_RATIO}× echo p50",
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


def print_verdict(bot: PhaseResult, floors: Sequence[PhaseResult]) -> None:
    print()
    bot_p50 = percentile(first_latencies(bot), 50)
    for floor in floors:
        floor_p50 = percentile(first_latencies(floor), 50)
        if bot_p50 is not None and floor_p50:
            ratio = bot_p50 / floor_p50
            verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
            print(f"bot p50 / {floor.label} p50 = {ms(bot_p50)} / {ms(floor_p50)} = {ratio:.2f}  "
                  f"(target ≤ {TARGET_RATIO}: {verdict})")
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


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prospects", type=int, default=200, help="simulated prospects (default 200)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean think time between two steps of a prospect, seconds (default 0)")
    parser.add_argument("--ramp", type=float, default=0.0,
                        help="spread the prospects' first messages over this many seconds (default 0: all at once)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reply-timeout", type=float, default=None,
                        help="seconds to wait for one step's reply before counting it lost "
                             "(default 60 + 0.2 s per prospect)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds for all prospects of one bot (default 300 + 3 s per prospect)")
    parser.add_argument("--lead-timeout", type=float, default=None,
                        help="seconds to wait for the staff notifications after the last prospect "
                             "(default 3.5 s per prospect, at most 900: Telegram allows 20 messages a "
                             "minute in a group)")
    parser.add_argument("--lead-idle", type=float, default=20.0,
                        help="stop waiting for notifications when none came for this long (default 20)")
    parser.add_argument("--skip-echo", action="store_true", help="only the admissions bot")
    parser.add_argument("--floors", default=",".join(FLOORS),
                        help="echo bots to compare with, in order: 'bare' (no rate limiter) and/or 'limited' "
                             "(the same AIORateLimiter as the bot); default: both")
    parser.add_argument("--staff-forum", action="store_true", help="register the staff group as a forum")
    parser.add_argument("--log-level", default="INFO", help="LOG_LEVEL of the admissions bot (default INFO)")
    parser.add_argument("--bot-without-rate-limiter", action="store_true",
                        help="diagnostic: run the admissions bot with PTB's AIORateLimiters switched off")
    parser.add_argument("--profile-bot", type=Path, default=None,
                        help="run the admissions bot under cProfile and write the stats to this file")
    parser.add_argument("--keep-logs", type=Path, default=None,
                        help="directory for the bots' logs and database (default: a temporary one)")
    args = parser.parse_args(argv)
    if args.prospects < 1:
        parser.error("--prospects must be at least 1")
    args.reply_timeout = args.reply_timeout or 60 + 0.2 * args.prospects
    args.timeout = args.timeout or 300 + 3 * args.prospects
    args.lead_timeout = args.lead_timeout if args.lead_timeout is not None else min(3.5 * args.prospects, 900)
    if args.profile_bot:
        args.profile_bot = args.profile_bot.resolve()
    args.floors = [f.strip() for f in args.floors.split(",") if f.strip()]
    if unknown := [f for f in args.floors if f not in FLOORS]:
        parser.error(f"unknown floor(s) {unknown}: choose among {list(FLOORS)}")
    return args


async def main_async(args: argparse.Namespace, workdir: Path) -> int:
    prospects = build_prospects(args.prospects, args.seed)
    steps = sum(len(p.steps) for p in prospects)
    print(f"{args.prospects} prospects, {steps} steps ({steps / args.prospects:.1f} each), think {args.think} s, "
          f"reply timeout {args.reply_timeout:.0f} s, run timeout {args.timeout:.0f} s", flush=True)
    wall = time.monotonic()
    bot = await run_phase("bot", prospects, args, workdir)
    print(f"admissions bot done in {bot.duration:.1f} s (+{bot.lead_wait:.0f} s for the staff notifications)",
          flush=True)
    floors = []
    for kind in ([] if args.skip_echo else args.floors):
        floors.append(await run_phase(kind, prospects, args, workdir))
        print(f"{FLOORS[kind]} done in {floors[-1].duration:.1f} s", flush=True)
    results = [bot, *floors]
    print()
    print_summary(results)
    print_steps(bot)
    print_requests(results)
    print_verdict(bot, floors)
    for result in results:
        print_failures(result)
    print(f"\ntotal wall time {time.monotonic() - wall:.0f} s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.keep_logs:
        args.keep_logs.mkdir(parents=True, exist_ok=True)
        return asyncio.run(main_async(args, args.keep_logs.resolve()))
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp:
        return asyncio.run(main_async(args, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())
