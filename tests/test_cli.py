"""The console script, run as a user would: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from rtc_interact.tokens import new_secret, verify

CLI = [sys.executable, "-m", "rtc_interact"]


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


def test_demo_json_reports_frames_taps_and_stages() -> None:
    result = _run("demo", "--seconds", "2", "--taps", "30", "--tap-rate", "30", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["frames"] > 10 and summary["fps"] > 5
    assert summary["taps"] == {"sent": 30, "acked": 30, "rejected": 0}
    assert set(summary["tap_rtt_ms"]) >= {"p50", "p95", "p99"}
    assert set(summary["connect_ms"]) == {"signaling", "ice", "dtls", "channel_open",
                                          "first_frame"}
    assert all(isinstance(v, float) for v in summary["connect_ms"].values())
    assert summary["comment_echo_ms"] is not None


def test_token_command_mints_a_verifiable_token() -> None:
    secret = new_secret()
    result = _run("token", "--secret", secret, "--identity", "zoe", "--region", "SG")
    assert result.returncode == 0, result.stderr
    claims = verify(secret, result.stdout.strip())
    assert (claims.identity, claims.region) == ("zoe", "SG")


def test_view_of_an_unreachable_host_fails_clearly() -> None:
    result = _run("view", "http://127.0.0.1:9/whep", "--token", "t", "--seconds", "1")
    assert result.returncode == 1
    assert "cannot reach http://127.0.0.1:9/whep" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_arguments_explain_themselves() -> None:
    result = _run("host", "--size", "big")
    assert result.returncode == 2 and "WIDTHxHEIGHT" in result.stderr
    result = _run("token", "--identity", "x", "--secret", "short")
    assert result.returncode == 1 and "at least 32 bytes" in result.stderr
    help_text = _run("--help").stdout
    assert all(word in help_text for word in ("demo", "host", "view", "token"))


def test_host_and_view_in_two_processes() -> None:
    env = {**os.environ, "RTC_INTERACT_SECRET": new_secret()}
    host = subprocess.Popen([*CLI, "host", "--port", "0", "--seconds", "20", "--size", "320x180"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert host.stdout is not None
        url = host.stdout.readline().split()[-1]
        token = host.stdout.readline().split()[-1]
        result = _run("view", url, "--token", token, "--taps", "10", "--seconds", "1", "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["taps"]["acked"] == 10
    finally:
        host.terminate()
        host.wait(10)
