"""``headway darp solve`` and ``headway darp verify``, end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headway.entrypoints.cli import main
from tests.unit.optimizer.darp_cases import tiny_text


def test_solve_then_verify_round_trip(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    instance = data_dir / "b2-16.txt"
    code = main(["darp", "solve", str(instance), "--iterations", "200", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    record = json.loads(out.strip().splitlines()[-1])
    assert set(record) == {"instance", "cost", "feasible", "routes"}
    assert record["instance"] == "b2-16"
    assert record["feasible"] is True
    assert all(route[0] == 0 and route[-1] == 33 for route in record["routes"])
    solution = tmp_path / "solution.json"
    solution.write_text(out)
    assert main(["darp", "verify", str(instance), str(solution), "--json"]) == 0
    verdict = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert verdict["feasible"] is True
    assert verdict["claimed_cost_matches"] is True
    assert verdict["cost"] == pytest.approx(record["cost"], abs=1e-5)


def test_verify_reports_violations_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    instance = tmp_path / "tiny.txt"
    instance.write_text(tiny_text())
    solution = tmp_path / "bad.json"
    solution.write_text(json.dumps({"routes": [[0, 3, 1, 5]], "cost": 1.0}))
    assert main(["darp", "verify", str(instance), str(solution)]) == 1
    out = capsys.readouterr().out
    assert "precedence: route 0: request 1: drop-off before pickup" in out
    assert "missing: request 2" in out
    assert "the solution claims 1.0" in out
    assert "tiny: infeasible" in out.splitlines()[-1]


@pytest.mark.parametrize(
    ("instance_text", "solution_text", "message"),
    [
        (None, "[]", "no such file"),
        ("1 2 3\n", "[]", "header needs 5 fields"),
        (tiny_text(), None, "no such file"),
        (tiny_text(), "routes: none", "no JSON found"),
        (tiny_text(), '{"routes": 5}', "'routes' must be a list of lists"),
    ],
)
def test_bad_input_is_a_clear_error_without_traceback(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    instance_text: str | None,
    solution_text: str | None,
    message: str,
) -> None:
    instance, solution = tmp_path / "instance.txt", tmp_path / "solution.json"
    if instance_text is not None:
        instance.write_text(instance_text)
    if solution_text is not None:
        solution.write_text(solution_text)
    assert main(["darp", "verify", str(instance), str(solution)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert err.startswith("headway darp: ")


@pytest.mark.parametrize(
    ("instance_text", "message"),
    [(None, "no such file"), ("2 2 100 3 30\n1 2\n", "need 6 node lines, found 1")],
)
def test_solve_refuses_a_missing_or_malformed_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], instance_text: str | None, message: str
) -> None:
    instance = tmp_path / "instance.txt"
    if instance_text is not None:
        instance.write_text(instance_text)
    assert main(["darp", "solve", str(instance), "--json"]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""
