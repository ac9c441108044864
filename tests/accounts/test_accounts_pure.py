"""Pure parts of accounts: password hashing, login throttling, the rate limiter, names, user names."""
from __future__ import annotations

import resource

import pytest

from hoist import names
from hoist.accounts.passwords import hash_password, verify_password
from hoist.accounts.ratelimit import RateLimiter
from hoist.accounts.throttle import FREE_FAILURES, MAX_DELAY, LoginThrottle
from hoist.dynos.isolation import Limits, app_user_name


def test_passwords_are_argon2id_and_verify() -> None:
    h = hash_password("correct horse")
    assert h.startswith("$argon2id$") and "correct" not in h
    assert verify_password(h, "correct horse")
    assert not verify_password(h, "wrong")
    assert not verify_password(None, "anything")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_throttle_slows_down_then_lets_the_right_user_back_in() -> None:
    clock = Clock()
    t = LoginThrottle(clock=clock)
    for _ in range(FREE_FAILURES):
        assert t.wait_for("e") == 0
        t.failed("e")
    delays = []
    for _ in range(1000):
        wait = t.wait_for("e")
        if wait == 0:
            t.failed("e")
        delays.append(t.wait_for("e"))
        clock.now += 0.01
    assert max(delays) <= MAX_DELAY and delays[-1] > 1  # slowed down, exponentially, capped
    clock.now += MAX_DELAY + 1
    assert t.wait_for("e") == 0  # not locked out forever
    t.succeeded("e")
    assert t.wait_for("e") == 0


def test_rate_limiter_spends_and_refills() -> None:
    clock = Clock()
    r = RateLimiter(3600, clock=clock)
    remaining = [r.take("k")[1] for _ in range(3)]
    assert remaining == [3599, 3598, 3597]
    for _ in range(3597):
        r.take("k")
    assert r.take("k") == (False, 0)
    clock.now += 2.0  # one request per second refills
    assert r.take("k")[0] and not r.take("k")[0] is None
    assert r.take("other")[0]


@pytest.mark.parametrize("bad", ["hello\n", "web\n", "A\n"])
def test_names_refuse_a_trailing_newline(bad: str) -> None:
    with pytest.raises(names.InvalidName):
        (names.app_name if bad.islower() and bad.startswith("h") else names.process_type
         if bad.startswith("w") else names.config_key)(bad)


def test_app_user_names_fit_and_differ() -> None:
    assert app_user_name("notes") == "hoist-notes"
    long_a, long_b = app_user_name("a" * 29 + "b"), app_user_name("a" * 29 + "c")
    assert len(long_a) <= 32 and len(long_b) <= 32 and long_a != long_b


def test_rlimits_are_what_the_launcher_sets() -> None:
    assert Limits(100, 50, 256).rlimits() == ((resource.RLIMIT_NOFILE, 100, 100), (resource.RLIMIT_NPROC, 50, 50),
                                              (resource.RLIMIT_DATA, 256 << 20, 256 << 20))
