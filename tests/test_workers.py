import multiprocessing
import os
import sys
import threading
from collections import deque

import pytest
from faults import square_or_fail

from fontglyphs import workers
from fontglyphs.workers import (
    _MAX_IN_FLIGHT,
    _MAX_NAP,
    _Worker,
    default_start_method,
    run_isolated,
)


@pytest.mark.parametrize(
    ("start_method", "posix"),
    # Forked on Linux, spawned elsewhere; Windows' wait, and its messages through Connection's own methods.
    [(None, True), ("spawn", True), (None, False)],
)
def test_each_task_gets_one_outcome_and_bad_ones_cost_only_themselves(monkeypatch, start_method, posix):
    monkeypatch.setattr(workers, "_POSIX", posix)
    runs = run_isolated(square_or_fail, list(range(12)), workers=2, timeout=2, start_method=start_method)
    outcomes = {o.index: o for o in runs}
    assert sorted(outcomes) == list(range(12))
    for x, outcome in outcomes.items():
        if x in (3, 5, 7, 9):
            assert not outcome.ok
        else:
            assert outcome.ok and outcome.value == x * x
    assert "SIGSEGV" in outcomes[3].error
    assert outcomes[5].error == "timed out after 2 s"
    assert outcomes[7].error == "RuntimeError: seven is unlucky"
    assert "exit code 3" in outcomes[9].error


def test_no_tasks_starts_nothing():
    assert list(run_isolated(square_or_fail, [], workers=2)) == []


def test_workers_are_forked_only_on_linux():
    assert default_start_method() == ("fork" if sys.platform.startswith("linux") else "spawn")


def _worker_at_pace(queued: int, seconds_per_task: float | None) -> _Worker:
    """A _Worker's bookkeeping, without its process: tasks queued, and the pace of its results so far."""
    worker = _Worker.__new__(_Worker)
    worker.queue, worker.pace = deque(range(queued)), seconds_per_task
    return worker


def _connect(worker: _Worker):
    """Give the bookkeeping-only worker a pipe; the other end, to send its results on."""
    worker.conn, child = multiprocessing.Pipe()
    worker.channel = workers._Channel(worker.conn)
    return child


def test_quick_tasks_are_sent_ahead_and_collected_a_few_at_a_time():
    quick = _worker_at_pace(queued=8, seconds_per_task=_MAX_NAP / 10)
    # Half of what the 7 tasks behind the running one take: the worker never runs dry while the parent sleeps,
    assert quick.nap() == pytest.approx(7 * _MAX_NAP / 20)
    # and it is sent enough tasks to outlast two naps: 20 after the one it runs.
    assert quick.capacity() == min(21, _MAX_IN_FLIGHT)
    assert _worker_at_pace(queued=8, seconds_per_task=None).nap() == 0  # no pace known yet
    assert _worker_at_pace(queued=8, seconds_per_task=None).capacity() == 2
    assert _worker_at_pace(queued=2, seconds_per_task=_MAX_NAP / 10).nap() == 0  # less than a task to take
    assert _worker_at_pace(queued=0, seconds_per_task=0.0).capacity() == _MAX_IN_FLIGHT  # too quick to time


def test_slow_tasks_are_waited_for_and_not_sent_ahead():
    slow = _worker_at_pace(queued=2, seconds_per_task=_MAX_NAP)
    assert slow.nap() == 0 and slow.capacity() == 2


def test_a_worker_is_paced_by_its_recent_tasks_most():
    worker = _worker_at_pace(queued=3, seconds_per_task=None)
    child = _connect(worker)
    for index, seconds in enumerate([0.001, 1.0, 1.0]):  # as _worker_loop sends: index, value, error, seconds
        child.send((index, index * index, "", seconds))
    outcomes = worker.receive()
    assert [(o.index, o.value) for o in outcomes] == [(0, 0), (1, 1), (2, 4)]
    assert worker.pace == pytest.approx(0.001 * 0.49 + 0.3 * 0.7 + 0.3)  # slow fonts take over at once
    assert worker.capacity() == 2


def test_one_quick_task_brings_the_pace_down_at_once():
    """A pace too high would have the parent sleep past the end of the worker's queue: it falls at once to a
    quicker task's time (while it rises only part of the way towards a slower one's, as above)."""
    worker = _worker_at_pace(queued=3, seconds_per_task=None)
    child = _connect(worker)
    for index, seconds in enumerate([1.0, 1.0, 0.001]):
        child.send((index, None, "", seconds))
    worker.receive()
    assert worker.pace == 0.001
    assert worker.quick() and worker.capacity() == _MAX_IN_FLIGHT


def test_messages_arrive_whole_and_in_order_whatever_the_reads_and_a_closed_pipe_is_eof():
    parent, child = multiprocessing.Pipe()
    big = {"faces": ["x" * 1_000_000, list(range(1000))]}  # more than the pipe holds: read in pieces
    messages = [(0, "small"), big, (2, "after the big one")]
    sender = threading.Thread(target=workers._Channel(child).send, args=(messages,))
    sender.start()
    receiver = workers._Channel(parent)
    received = []
    while len(received) < len(messages):
        received += receiver.receive_waiting()
    sender.join()
    assert received == messages
    os.write(child.fileno(), b"\x00\x00\x01\x00" + b"cut short")  # says 256 bytes, then the writer goes away
    child.close()
    with pytest.raises(EOFError):
        receiver.receive_waiting()
