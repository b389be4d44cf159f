"""Ledgers (台账) and KPI tables to xlsx and CSV.

- Headers are Chinese (the file is rendered in zh-hans whoever asks).
- Personal data: phones and ID numbers masked (core.masking), names too, unless the user's role
  may see contacts (accounts.models.ROLES_SEEING_CONTACTS; petitions: the petitions app's own
  rules, petitions.services.can_see_phone / can_see_id_number).
- The rows are the same query as the page the export was asked from (governance.kpis for the
  incident ledger and the KPI table; the owning apps' selectors for mediation and petitions).
- Small (≤ settings.GOVERNANCE_EXPORT_INLINE_MAX_ROWS, 2,000 by default): streamed at once.
  Larger: an ExportJob written by governance.tasks.export_run under MEDIA_ROOT/exports/ with
  its progress, downloaded by its owner only.
Every export is recorded as an ExportJob (who exported what, with which filters), and in the
audit log (governance.signals).

The package: `tables` (what each export lists), `writers` (xlsx and CSV), `jobs` (the
services: request, run, download, purge; `jobs` ⇄ governance.tasks is the services ⇄ tasks
pair). The pages are governance.dashboards.export_pages.
"""

from governance.exports.jobs import (
    EXPORT_KEEP_DAYS,
    ExportResult,
    export_download_name,
    export_job_get,
    export_job_run,
    export_request,
    exports_purge,
    inline_max_rows,
)
from governance.exports.tables import (
    TABLES,
    ExportTable,
    _incidents_table,
    _kpis_table,
    _local,
    _mediation_table,
    _period_and_region,
    _petitions_table,
    export_table,
    incident_headers,
    incident_row,
    kpi_headers,
    kpi_row_cells,
    sees_contacts,
)
from governance.exports.writers import CONTENT_TYPES, _cell, _sheet_title, file_name, write_table

__all__ = [
    "CONTENT_TYPES",
    "EXPORT_KEEP_DAYS",
    "TABLES",
    "ExportResult",
    "ExportTable",
    "_cell",
    "_incidents_table",
    "_kpis_table",
    "_local",
    "_mediation_table",
    "_period_and_region",
    "_petitions_table",
    "_sheet_title",
    "export_download_name",
    "export_job_get",
    "export_job_run",
    "export_request",
    "export_table",
    "exports_purge",
    "file_name",
    "incident_headers",
    "incident_row",
    "inline_max_rows",
    "kpi_headers",
    "kpi_row_cells",
    "sees_contacts",
    "write_table",
]
