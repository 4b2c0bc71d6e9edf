import pytest

from housing_safety import disclosure, middleware


class FakeClock:
    def __init__(self):
        self.now = 1_800_000_000  # 2027-01-15, a whole second

    def time(self) -> float:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    """Time for the session idle clock and the unmask grants (both read `time.time()`), moved by the test."""
    fake = FakeClock()
    monkeypatch.setattr(disclosure, "time", fake)
    monkeypatch.setattr(middleware, "time", fake)
    return fake
