from faults import square_or_fail

from fontglyphs.workers import run_isolated


def test_every_task_gets_one_outcome_and_bad_ones_cost_only_themselves():
    outcomes = {o.index: o for o in run_isolated(square_or_fail, list(range(12)), workers=2, timeout=2)}
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
