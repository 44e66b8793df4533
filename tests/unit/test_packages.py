"""A model's package pins are written from this machine and checked against it."""

from __future__ import annotations

from importlib.metadata import version

from ml.packages import PINNED, pip_requirements, requirement_mismatches


def test_the_pins_are_what_is_installed_and_so_match(tmp_path):
    pins = pip_requirements()
    assert [p.split("==")[0] for p in pins] == list(PINNED)
    (tmp_path / "requirements.txt").write_text("\n".join(pins) + "\n")
    assert requirement_mismatches(tmp_path) == []
    assert requirement_mismatches(tmp_path / "no such folder") == []


def test_a_pin_this_machine_does_not_meet_is_said_with_both_versions(tmp_path):
    (tmp_path / "requirements.txt").write_text(
        f"lightgbm==0.0.1\nnumpy=={version('numpy')}\nno-such-package-wr==1.0\nscipy>=1\n"
    )
    assert requirement_mismatches(tmp_path) == [
        f"logged with lightgbm==0.0.1, this machine has {version('lightgbm')}",
        "logged with no-such-package-wr==1.0, this machine has nothing",
    ]
