"""Supervision pages: the supervisor dashboard, a street office's dashboard, the large screen
(大屏), the drill-down incident ledger, exports with progress, and the printable case file.
Thin views: the figures come from governance.kpis, the files from governance.exports.

The package, by page family: `pages` (the dashboards and the large screen), `ledger`,
`export_pages` (request, progress, download), `case_file`; `_common` holds the KPI query of a
page. governance/portal_urls.py names the views through this package.
"""

from governance.dashboards._common import (
    DEFAULT_GROUP_BY,
    _build_query,
    _group_by_choices,
    _interval_choices,
    _raise_for_page,
)
from governance.dashboards.case_file import case_file
from governance.dashboards.export_pages import (
    _attachment,
    _own_job,
    export_create,
    export_detail,
    export_download,
)
from governance.dashboards.grid_life import grid_life
from governance.dashboards.ledger import (
    _filter_data,
    _queue_link,
    _record_ledger_unmasking,
    incident_ledger,
)
from governance.dashboards.pages import (
    HEAT_INLINE_MAX_CELLS,
    REGION_INDENT,
    RegionChoice,
    _cards,
    _dashboard_context,
    _heat_cells,
    _overdue,
    _presets,
    _region_choices,
    _region_options,
    _table_rows,
    _tile_url,
    big_screen,
    dashboard,
    street_dashboard,
)

__all__ = [
    "DEFAULT_GROUP_BY",
    "HEAT_INLINE_MAX_CELLS",
    "REGION_INDENT",
    "RegionChoice",
    "_attachment",
    "_build_query",
    "_cards",
    "_dashboard_context",
    "_filter_data",
    "_group_by_choices",
    "_heat_cells",
    "_interval_choices",
    "_overdue",
    "_own_job",
    "_presets",
    "_queue_link",
    "_raise_for_page",
    "_record_ledger_unmasking",
    "_region_choices",
    "_region_options",
    "_table_rows",
    "_tile_url",
    "big_screen",
    "case_file",
    "dashboard",
    "export_create",
    "export_detail",
    "export_download",
    "grid_life",
    "incident_ledger",
    "street_dashboard",
]
