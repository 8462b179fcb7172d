"""A crash-isolated process pool: one bad task costs only itself.

``concurrent.futures.ProcessPoolExecutor`` breaks as a whole when one worker segfaults
(``BrokenProcessPool``) and cannot stop a task that hangs. Rasterizing ten thousand fonts from the
wild needs both, so this pool gives every worker its own pipe, watches each task's clock, and replaces a
worker that crashed or ran past the timeout; the task is reported as failed and the run goes on. Each
worker holds several tasks at a time, so it never waits for the parent between them, and the parent
collects results a few at a time; when a worker fails, the task it was running is the one reported, and
the others go to its replacement.

    for outcome in run_isolated(render_one, tasks, workers=2, timeout=10):
        ...  # outcomes arrive in completion order; outcome.index says which task
"""

from __future__ import annotations

import faulthandler
import math
import multiprocessing
import os
import pickle
import selectors
import signal
import struct
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any


@dataclass(frozen=True)
class Outcome:
    index: int
    value: Any = None
    error: str = ""  # one line; empty when the task succeeded

    @property
    def ok(self) -> bool:
        return not self.error


# A message on a worker's pipe: a pickle after its length, as multiprocessing's Connection frames them.
_LENGTH = struct.Struct("!i")
_POSIX = os.name == "posix"
_READ_SIZE = 1 << 20


class _Channel:
    """One end of a worker's pipe, carrying plain data (tasks, results) with less work a message than
    Connection's ``send``/``recv``, which a font pays twice: pickled with ``pickle.dumps`` rather than
    multiprocessing's ForkingPickler, whose set-up (a pickler with a dispatch table of its own) costs 8 µs
    against 2.7; and, on POSIX, written a batch at a time and read as all that is waiting, with one system
    call each, rather than two reads (and a poll) a message through Connection's Python-level buffering.
    Windows pipes are handles, not file descriptors: there Connection's own byte methods carry them."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.fd = conn.fileno()
        self.inbox = b""  # the start of a message a read cut short
        self.unread: deque = deque()  # messages read, not yet taken (the worker's next tasks)

    def send(self, messages: Sequence[Any]) -> None:
        frames = [pickle.dumps(message, pickle.HIGHEST_PROTOCOL) for message in messages]
        if not _POSIX:
            for frame in frames:
                self.conn.send_bytes(frame)
            return
        view = memoryview(b"".join(piece for frame in frames for piece in (_LENGTH.pack(len(frame)), frame)))
        while view:
            view = view[os.write(self.fd, view):]

    def receive_waiting(self) -> list:
        """Every whole message waiting, at least one: it blocks until one is whole. EOFError when the other
        end closed before one was."""
        if not _POSIX:
            messages = [pickle.loads(self.conn.recv_bytes())]
            try:
                while self.conn.poll():
                    messages.append(pickle.loads(self.conn.recv_bytes()))
            except EOFError:  # after the messages read: the caller sees the end on its next read
                pass
            return messages
        messages: list = []
        while not messages:
            data = os.read(self.fd, _READ_SIZE)
            if not data:
                raise EOFError
            if self.inbox:
                data = self.inbox + data
            at = 0
            while len(data) - at >= _LENGTH.size:
                (size,) = _LENGTH.unpack_from(data, at)
                end = at + _LENGTH.size + size
                if end > len(data):
                    break
                messages.append(pickle.loads(memoryview(data)[at + _LENGTH.size:end]))
                at = end
            self.inbox = data[at:]
        return messages

    def receive(self) -> Any:
        """The next message, in the order sent."""
        if not self.unread:
            self.unread.extend(self.receive_waiting())
        return self.unread.popleft()


def _worker_loop(func: Callable[[Any], Any], conn: Connection) -> None:
    # The parent handles Ctrl-C; a worker interrupted mid-task would only report a confusing error.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker inherits the parent's faulthandler (pytest enables it); the parent reports a crash
    # as one line in rejects, so a Python traceback dump on the terminal would only be noise.
    faulthandler.disable()
    channel = _Channel(conn)
    while True:
        try:
            message = channel.receive()
        except (EOFError, OSError):
            return
        if message is None:
            return
        index, task = message
        started = time.perf_counter()  # the task's own time goes back with it: the parent paces the worker
        try:
            channel.send([(index, func(task), "", time.perf_counter() - started)])
        except Exception as error:  # noqa: BLE001 - any failure of one task is reported, never fatal
            text = str(error).splitlines()[0] if str(error) else ""
            detail = f"{type(error).__name__}: {text}" if text else type(error).__name__
            if (
                not isinstance(error, OSError | ValueError | RuntimeError)
                and "fontglyphs" not in type(error).__module__
            ):
                detail += " at " + traceback.extract_tb(error.__traceback__)[-1].name
            channel.send([(index, None, detail, time.perf_counter() - started)])


# How the parent keeps workers busy at little cost to itself. Each worker holds more than the task it runs,
# so it never waits for the parent between tasks. The parent need not wake for every result either: on a
# virtual machine each sleep and wake-up costs it ~50 µs of CPU, more than handling a font's result, and a
# result sent while the parent is waiting for one costs the worker too, which pays for waking it (a sleeping
# parent is not woken). So when a worker's tasks are quick, it is sent enough to last two naps of the parent
# (at most _MAX_IN_FLIGHT), and the parent naps while every busy worker has work queued behind its running
# task (half that work's time, at most _MAX_NAP), then takes all the results waiting: one wake-up every
# several fonts. A slow task costs far more than a wake-up, so then the parent just waits for its result,
# and the worker holds two tasks, which keeps the tail of a run short: no worker sits on a queue of slow
# fonts another could have taken. A crash or a timeout is noticed at most _MAX_NAP late. Naps of up to 50 ms
# rather than 10 cut the parent's time on the large corpus from 1.46-1.70 to 1.34-1.38 CPU-s, and the
# workers' a little, at the same wall time.
_MAX_NAP = 0.05  # seconds
_MAX_IN_FLIGHT = 64


def _next_pace(pace: float | None, seconds: float) -> float:
    """The time a task is expected to take, after one took ``seconds``. It falls at once to a quicker task's
    time, and rises towards a slower one's by a weight of 0.3, so that a run of slow fonts stops the worker
    being sent more. The asymmetry is for the naps: a pace too high makes the parent sleep past the end of
    the worker's queue (one 30 ms font among 1 ms ones starved the worker ~40 ms a run of the bundled
    fonts), while one too low only wakes it early."""
    return seconds if pace is None or seconds < pace else 0.7 * pace + 0.3 * seconds


def _exit_reason(process: multiprocessing.Process) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        try:
            return f"worker crashed (signal {signal.Signals(-code).name})"
        except ValueError:
            return f"worker crashed (signal {-code})"
    return f"worker exited unexpectedly (exit code {code})"


class _Worker:
    """A worker process and the tasks sent to it, oldest (the one running) first."""

    def __init__(self, context, func: Callable[[Any], Any]):
        self.conn, child_conn = context.Pipe()
        self.process = context.Process(target=_worker_loop, args=(func, child_conn), daemon=True)
        self.process.start()
        child_conn.close()
        self.channel = _Channel(self.conn)
        self.queue: deque[int] = deque()
        self.started = 0.0  # when the oldest task began: when it was sent, or when the one before it ended
        self.pace: float | None = None  # seconds a task, a moving average of recent ones; None before any

    def send(self, tasks: Sequence[tuple[int, Any]]) -> None:
        """Send (index, task) pairs, in one write."""
        if not self.queue:
            self.started = time.monotonic()
        self.queue.extend(index for index, _task in tasks)
        try:
            self.channel.send(tasks)
        except (BrokenPipeError, OSError):  # it died: its sentinel says so, and the task is reported
            pass

    def receive(self) -> list[Outcome]:
        """The results waiting in the pipe, in order; an empty list if the worker died before sending one."""
        try:
            results = self.channel.receive_waiting()
        except (EOFError, OSError):  # the pipe closed: the worker died
            return []
        outcomes = []
        for index, value, error, seconds in results:
            self.queue.popleft()
            self.pace = _next_pace(self.pace, seconds)
            outcomes.append(Outcome(index, value, error))
        self.started = time.monotonic()
        return outcomes

    def quick(self) -> bool:
        """Whether its tasks are known to take under half a nap: worth sending ahead and napping for."""
        return self.pace is not None and self.pace <= _MAX_NAP / 2

    def capacity(self) -> int:
        """Tasks to hold: two until the pace is known or when tasks are slow, else enough to outlast two of
        the parent's naps."""
        if not self.quick():
            return 2
        return min(_MAX_IN_FLIGHT, 1 + math.ceil(2 * _MAX_NAP / max(self.pace, 1e-9)))  # a 0 s task: the most

    def nap(self) -> float:
        """How long the parent may sleep and still find this worker busy, with results to take: half the
        time of the tasks queued behind the running one, at most _MAX_NAP; 0 when that is less than a
        task (a nap would cost a wake-up for nothing) or when tasks are slow (see _MAX_NAP)."""
        if not self.quick() or len(self.queue) < 3:
            return 0.0
        return min(_MAX_NAP, self.pace * (len(self.queue) - 1) / 2)

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()

    def stop(self) -> None:
        try:
            self.channel.send([None])
        except (BrokenPipeError, OSError):
            pass
        self.process.join(timeout=5)
        self.kill()


class _Watcher:
    """The pipes and process sentinels of the busy workers, waited on together.

    On POSIX one selector serves the whole run: multiprocessing.connection.wait builds and tears one down
    on every call, which at thousands of fonts a second costs the parent more than the fonts' journal.
    Windows pipes cannot be selected, so there it is connection.wait after all."""

    def __init__(self):
        self.handles: set = set()
        self.selector = selectors.DefaultSelector() if _POSIX else None

    def add(self, handle) -> None:
        self.handles.add(handle)
        if self.selector:
            self.selector.register(handle, selectors.EVENT_READ)

    def remove(self, handle) -> None:
        self.handles.discard(handle)
        if self.selector:
            self.selector.unregister(handle)

    def wait(self, timeout: float | None) -> set:
        """The handles that are ready (readable, or the process ended) within ``timeout`` seconds."""
        if self.selector:
            return {key.fileobj for key, _events in self.selector.select(timeout)}
        return set(wait(list(self.handles), timeout=timeout))

    def close(self) -> None:
        if self.selector:
            self.selector.close()



def default_start_method() -> str:
    """"fork" on Linux: a forked worker starts in milliseconds with the parent's modules already imported,
    where a spawned one spends ~0.2 CPU-seconds starting Python and importing numpy and FreeType again,
    as much as drawing 2,000 glyphs. Safe here because a worker only runs its task function: it takes no
    lock that another thread of the parent (a progress bar's monitor) might hold, and the parent has not
    opened any FreeType face whose state it would inherit. "spawn" elsewhere (macOS cannot fork safely
    once system frameworks are loaded; Windows cannot fork)."""
    return "fork" if sys.platform.startswith("linux") else "spawn"


def run_isolated(
    func: Callable[[Any], Any],
    tasks: Sequence[Any],
    workers: int | None = None,
    timeout: float | None = 10.0,
    start_method: str | None = None,
) -> Iterator[Outcome]:
    """Run ``func(task)`` for every task in worker processes; yield an Outcome per task as it completes.

    ``func`` must be importable by name (a module-level function). A task that raises, kills its worker
    (segfault, ``os._exit``) or runs longer than ``timeout`` seconds yields an Outcome with ``error`` set;
    its worker is replaced. Workers are forked on Linux (see :func:`default_start_method`), spawned
    elsewhere; ``start_method`` overrides that.
    """
    if not tasks:
        return
    context = multiprocessing.get_context(start_method or default_start_method())
    count = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    pending = list(range(len(tasks)))[::-1]  # pop() from the end gives tasks in order
    pool = [_Worker(context, func) for _ in range(count)]
    watcher = _Watcher()
    watched: set[int] = set()

    def watch(slot: int) -> None:
        """Watch the worker's pipe and sentinel while it has tasks, and only then."""
        worker = pool[slot]
        handles = (worker.conn, worker.process.sentinel)
        if worker.queue and slot not in watched:
            for handle in handles:
                watcher.add(handle)
            watched.add(slot)
        elif not worker.queue and slot in watched:
            for handle in handles:
                watcher.remove(handle)
            watched.discard(slot)

    def feed(slot: int) -> None:
        room = min(pool[slot].capacity() - len(pool[slot].queue), len(pending))
        batch = [pending.pop() for _ in range(room)]
        if batch:
            pool[slot].send([(index, tasks[index]) for index in batch])
        watch(slot)

    try:
        for slot in range(count):
            feed(slot)
        remaining = len(tasks)
        while remaining:
            busy = [w for w in pool if w.queue]
            deadline = min((w.started + timeout for w in busy), default=None) if timeout else None
            wait_for = None if deadline is None else max(0.0, deadline - time.monotonic())
            nap = min((w.nap() for w in busy), default=0.0)
            if nap and (wait_for is None or nap < wait_for):
                time.sleep(nap)
            ready = watcher.wait(wait_for)
            for slot, worker in enumerate(pool):
                if not worker.queue:
                    continue
                outcomes = worker.receive() if worker.conn in ready else []
                failure = ""
                if worker.queue and (worker.conn in ready or worker.process.sentinel in ready):
                    if not worker.process.is_alive() or not outcomes:
                        worker.process.join(timeout=1)
                        failure = _exit_reason(worker.process)
                elif worker.queue and timeout and time.monotonic() - worker.started > timeout:
                    failure = f"timed out after {timeout:g} s"
                if failure:
                    # The oldest task was running: it is the one that failed. The others go to the
                    # front of the line again, for the worker that replaces this one.
                    outcomes.append(Outcome(worker.queue.popleft(), error=failure))
                    pending.extend(reversed(worker.queue))
                    worker.queue.clear()
                    watch(slot)
                    worker.kill()
                    pool[slot] = _Worker(context, func)
                remaining -= len(outcomes)
                yield from outcomes
                feed(slot)
    finally:
        watcher.close()
        for worker in pool:
            if worker.queue:
                worker.kill()
            else:
                worker.stop()
