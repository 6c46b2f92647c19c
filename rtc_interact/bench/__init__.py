"""Benchmark runner: our SDK and stock aiortc doing the same job on the same emulated link."""
