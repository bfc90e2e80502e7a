"""``python -m benchmarks``: one command runs every benchmark, prints, never fails, and
writes its figures as JSON next to the text. Run here on tiny settings (``--quick``): this
tests the machinery, not the timings (those are figures, in benchmarks/, never asserted)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import __main__ as command  # noqa: E402


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("benchmarks")
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    return done, out


def test_quick_run_prints_every_section_and_exits_0(quick_run):
    done, _ = quick_run
    assert done.returncode == 0, done.stderr[-2000:]
    for title in ["== machine"] + [f"== {name}: " for name in command.SECTIONS] + ["== end"]:
        assert title in done.stdout, f"{title!r} missing from:\n{done.stdout[-3000:]}"
    assert "calibration loop s (10M steps), at start" in done.stdout


def test_quick_run_writes_the_same_figures_as_json_and_text(quick_run):
    _done, out = quick_run
    [json_path] = out.glob("*.json")
    [text_path] = out.glob("*.txt")
    assert json_path.stem == text_path.stem
    report = json.loads(json_path.read_text())
    assert report["quick"] is True
    assert set(command.SECTIONS) <= set(report)
    for name in command.SECTIONS:
        assert "error" not in report[name], f"section {name} failed: {report[name]['error']}"
        assert report[name]["section wall s"] >= 0
    machine = report["machine"]
    assert machine["cores"] >= 1 and machine["calibration loop s (10M steps), at start"] > 0
    assert report["notebooks"]["notebooks run"] == 1
    assert report["notebooks"]["bare kernel: peak MiB"] > 10
    text = text_path.read_text()
    assert text.startswith("tcpsim benchmarks") and "== end" in text
    for key in report["core"]:
        assert key in text


def test_a_section_that_raises_is_reported_and_the_run_goes_on(tmp_path, monkeypatch, capsys):
    (tmp_path / "bench_broken.py").write_text(
        "def run(quick=False):\n    raise ValueError('no figures today')\n")
    (tmp_path / "bench_fine.py").write_text("def run():\n    return {'answer': 42}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(command.SECTIONS, "broken", ("bench_broken", "a broken benchmark"))
    monkeypatch.setitem(command.SECTIONS, "fine", ("bench_fine", "a fine one"))
    assert command.main(["--only", "broken,fine", "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "ValueError: no figures today (bench_broken.py, line 2)" in printed
    [json_path] = (tmp_path / "out").glob("*.json")
    report = json.loads(json_path.read_text())
    assert report["broken"]["error"].startswith("ValueError: no figures today")
    assert report["fine"]["answer"] == 42


def test_an_unknown_section_is_named(capsys):
    with pytest.raises(SystemExit):
        command.main(["--only", "core,nonsense"])
    assert "unknown section(s) nonsense" in capsys.readouterr().err
