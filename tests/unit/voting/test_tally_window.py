"""The progress window grows with the audience (docs/features/voting.md, "Live progress")."""

from __future__ import annotations

import pytest

from realtime.tally import window_s


def test_small_rooms_get_the_configured_interval() -> None:
    assert window_s(0.05, 0) == 0.05
    assert window_s(0.05, 120) == 0.05


@pytest.mark.parametrize(("recipients", "expected"), [(500, 0.1), (1000, 0.2), (2000, 0.4)])
def test_large_rooms_get_a_longer_window(recipients: int, expected: float) -> None:
    assert window_s(0.05, recipients) == pytest.approx(expected)
    assert window_s(0.05, recipients + 1) > window_s(0.05, recipients)
