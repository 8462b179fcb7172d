import sys

import pytest
from faults import square_or_fail

from fontglyphs.workers import _Watcher, default_start_method, run_isolated


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
