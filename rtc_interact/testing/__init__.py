"""Helpers for tests of rtc-interact and of applications built on it."""
