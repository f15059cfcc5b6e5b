"""deploy/grafana-dashboard.json is valid JSON whose every query names a metric the node
exports (a renamed metric must not leave an empty panel behind)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from smsgate.gateway.metrics import REGISTRY

DASHBOARD = Path(__file__).resolve().parents[1] / "deploy" / "grafana-dashboard.json"


def test_every_panel_queries_metrics_the_node_exports() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exported = {
        sample_name
        for family in REGISTRY.collect()
        for sample_name in (
            family.name,
            f"{family.name}_total",
            f"{family.name}_bucket",
            f"{family.name}_count",
            f"{family.name}_sum",
        )
    }
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 10
    for expr in exprs:
        for name in re.findall(r"smsgate_[a-z_]+", expr):
            assert name in exported, f"{name} in {expr!r} is not a metric the node exports"
