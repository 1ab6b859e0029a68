"""Prometheus metrics of the daemon (prometheus_client, one registry per daemon)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from reconciler.core.model import Kind
from reconciler.remote.client import ClientStats

RUN_RESULTS = ("success", "failure", "refused")
disable_created_metrics()  # the *_created series only add noise to dashboards


class _HttpCollector(Collector):
    """Reads the live client's request counters at scrape time (no double bookkeeping)."""

    def __init__(self, stats: Callable[[], ClientStats | None]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "reconcile_http_requests",
            "HTTP requests sent to Waldur, by method and status (or transport error)",
            labels=["method", "status"],
        )
        retries = CounterMetricFamily("reconcile_http_retries", "HTTP requests retried")
        stats = self._stats()
        if stats is not None:
            with stats.lock:
                items = sorted(stats.requests.items())
                retried = stats.retries
            for (method, status), count in items:
                requests.add_metric([method, status], count)
            retries.add_metric([], retried)
        yield requests
        yield retries


class DaemonMetrics:
    def __init__(self, stats: Callable[[], ClientStats | None]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.runs = Counter(
            "reconcile_runs", "Reconciliation runs by result", ["result"], registry=r
        )
        for result in RUN_RESULTS:
            self.runs.labels(result)
        self.last_success = Gauge(
            "reconcile_last_success_timestamp_seconds",
            "Unix time of the last successful run",
            registry=r,
        )
        self.duration = Histogram(
            "reconcile_run_duration_seconds",
            "Duration of runs",
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
            registry=r,
        )
        self.changes = Counter(
            "reconcile_changes",
            "Changes applied, by kind, action and status",
            ["kind", "action", "status"],
            registry=r,
        )
        self.drift = Gauge(
            "reconcile_drift_objects",
            "Objects out of sync at the last observation, by kind",
            ["kind"],
            registry=r,
        )
        for kind in Kind:
            self.drift.labels(kind.label).set(0)
        self.loading = Gauge(
            "reconcile_catalog_loading",
            "1 while Waldur's loader is loading the catalog (checked on the next runs)",
            ["catalog"],
            registry=r,
        )
        r.register(_HttpCollector(stats))

    def render(self) -> bytes:
        return generate_latest(self.registry)


def label_all(text: bytes, name: str, value: str) -> bytes:
    """Every sample of `text` (the exposition format) with the label `name="value"` (the
    daemon's environment); `text` as it is when `value` is empty."""
    if not value:
        return text
    label = f'{name}="{value}"'.encode()
    lines = []
    for line in text.split(b"\n"):
        if line and not line.startswith(b"#"):
            head, brace, rest = line.partition(b"{")
            if brace:
                line = head + b"{" + label + (b"," if not rest.startswith(b"}") else b"") + rest
            else:
                metric, space, number = line.partition(b" ")
                line = metric + b"{" + label + b"}" + space + number
        lines.append(line)
    return b"\n".join(lines)
