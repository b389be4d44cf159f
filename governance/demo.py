"""Demo data hook of `manage.py load_demo_city` (grids): after the incidents of the demo city
exist, derive their KPI facts so the dashboards show numbers at once. Idempotent."""

from __future__ import annotations


def load_demo(data: dict, stdout) -> None:
    from governance.aggregates import incident_facts_rebuild

    written = incident_facts_rebuild()
    stdout.write(f"governance: KPI facts derived for {written} incidents")
