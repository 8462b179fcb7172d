import sys
import time
from collections import deque

import pytest
from faults import square_or_fail

from fontglyphs.workers import _MAX_NAP, _Watcher, _Worker, default_start_method, run_isolated


@pytest.mark.parametrize(
    ("start_method", "posix"),
    [(None, True), ("spawn", True), (None, False)],  # forked on Linux, spawned elsewhere; Windows' wait
)
def test_each_task_gets_one_outcome_and_bad_ones_cost_only_themselves(monkeypatch, start_method, posix):
    monkeypatch.setattr(_Watcher, "POSIX", posix)
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


def _worker_at_pace(queued: int, done: int, seconds_per_task: float) -> _Worker:
    """A _Worker's bookkeeping, without its process: ``done`` results so far at that pace."""
    worker = _Worker.__new__(_Worker)
    worker.queue, worker.done = deque(range(queued)), done
    worker.first_sent = time.monotonic() - done * seconds_per_task
    return worker


def test_the_parent_naps_only_while_a_worker_has_work_queued_behind_its_running_task():
    assert _worker_at_pace(queued=8, done=0, seconds_per_task=0.001).nap() == 0  # no pace known yet
    assert _worker_at_pace(queued=1, done=9, seconds_per_task=0.001).nap() == 0  # only the running task
    # Half of what the 7 tasks behind the running one take: the worker never runs dry while the parent sleeps.
    fast = _worker_at_pace(queued=8, done=100, seconds_per_task=0.0002)
    assert fast.nap() == pytest.approx(0.0007, rel=0.2)
    assert _worker_at_pace(queued=8, done=100, seconds_per_task=0.1).nap() == _MAX_NAP  # slow fonts: capped
