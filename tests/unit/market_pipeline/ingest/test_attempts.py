"""Attempt markers: the decode mode of a retry follows how the previous attempt ended."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from market_pipeline.ingest.attempts import begin_attempt, fail_attempt, finish_attempt
from market_pipeline.ingest.decode import DecodeMode
from market_pipeline.layout import attempt_key
from tests.fakes import FakeS3

END = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)
KEY = attempt_key("ticks", END)


def marker(s3: FakeS3) -> dict:
    return json.loads(s3.objects[KEY])


def test_a_first_attempt_is_fast_and_leaves_nothing_once_finished():
    s3 = FakeS3()
    attempt = begin_attempt(s3, "lake", "ticks", END)
    assert (attempt.mode, attempt.number) == (DecodeMode.FAST, 1)
    assert KEY == "_attempts/ticks/2026-11-25T10:05:00Z/window.json"
    assert marker(s3)["state"] == "running"
    finish_attempt(s3, attempt)
    assert s3.objects == {}
    assert begin_attempt(s3, "lake", "ticks", END).mode is DecodeMode.FAST


def test_an_attempt_that_died_without_a_word_makes_the_retry_safe():
    s3 = FakeS3()
    begin_attempt(s3, "lake", "ticks", END)  # ... and the process is killed here: the marker stays
    retry = begin_attempt(s3, "lake", "ticks", END)
    assert (retry.mode, retry.number) == (DecodeMode.SAFE, 2)
    assert "died without a manifest" in retry.reason and marker(s3)["mode"] == "safe"
    fail_attempt(s3, retry, ConnectionError("S3 down"))  # the safe attempt fails cleanly: stay safe
    assert marker(s3)["state"] == "failed" and "S3 down" in marker(s3)["error"]
    assert begin_attempt(s3, "lake", "ticks", END).mode is DecodeMode.SAFE


def test_an_attempt_that_reported_its_error_lets_the_retry_be_fast():
    s3 = FakeS3()
    first = begin_attempt(s3, "lake", "ticks", END)
    fail_attempt(s3, first, TimeoutError("broker down"))
    retry = begin_attempt(s3, "lake", "ticks", END)
    assert (retry.mode, retry.number) == (DecodeMode.FAST, 2)


def test_scopes_are_separate_and_a_mode_can_be_forced():
    s3 = FakeS3()
    begin_attempt(s3, "lake", "ticks", END, scope="p0")
    assert begin_attempt(s3, "lake", "ticks", END, scope="p1").mode is DecodeMode.FAST
    assert begin_attempt(s3, "lake", "ticks", END, scope="p0").mode is DecodeMode.SAFE
    assert begin_attempt(s3, "lake", "ticks", END, forced_mode=DecodeMode.SAFE).mode is DecodeMode.SAFE
