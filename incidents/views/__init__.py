"""Pages of the incident loop: report (signed in or anonymous), track and rate, my tasks,
my reports, the dispatch queue (htmx live rows, bulk assign), the overdue board, workload,
the incident detail with one small form per allowed action, and 随手办.

Thin: a form checks the input, one service makes the move, a selector reads. A service's
ApplicationError becomes a message on the page, never a 500: bad input (400) goes back to the
form with its field errors, a conflict (409) is shown on the fresh page ("已被 X 领取"), a
forbidden move (403) on the page as it is, an incident out of scope is a 404.

One module per part of the site (report, track, lists, queue, detail, photos, patrols); this
package re-exports their views for incidents.urls and the tests.
"""

from incidents.queue_html import (
    QUEUE_PAGE_SIZE,
    QUEUE_REFRESH_SECONDS,
)
from incidents.queue_html import queue_bulk_fields_html as _queue_bulk_fields_html
from incidents.queue_html import queue_row_texts as _queue_row_texts
from incidents.views._common import (
    _incident_or_404,
    _mark_overdue,
    _over_limit,
    _require_queue_role,
    _safe_next,
    _sees_contacts,
)
from incidents.views.detail import (
    PAGE_ACTIONS,
    PageAction,
    _render_detail,
    detail,
    incident_action,
)
from incidents.views.lists import LIST_LIMIT, TASK_ROLES, index, my_reports, my_tasks
from incidents.views.patrols import (
    PATROL_POINT_SECONDS,
    PATROL_ROLES,
    patrol_detail,
    patrol_end,
    patrol_points,
    patrol_start,
    patrols,
)
from incidents.views.photos import PHOTO_TYPES, photo
from incidents.views.queue import (
    WORKLOAD_REFRESH_SECONDS,
    overdue,
    queue,
    queue_assign,
    queue_rows,
    queue_workload,
    workload,
)
from incidents.views.report import (
    PUBLIC_REPORTS_PER_HOUR,
    REPORT_FIELD_ALIASES,
    SESSION_REPORTED,
    fix_on_spot,
    report,
    report_done,
)
from incidents.views.track import (
    SESSION_TRACKED,
    TRACKED_IN_SESSION,
    _rated_message,
    _tracked,
    track,
    track_rate,
    track_resend,
)

__all__ = [
    "LIST_LIMIT",
    "PAGE_ACTIONS",
    "PATROL_POINT_SECONDS",
    "PATROL_ROLES",
    "PHOTO_TYPES",
    "PUBLIC_REPORTS_PER_HOUR",
    "QUEUE_PAGE_SIZE",
    "QUEUE_REFRESH_SECONDS",
    "REPORT_FIELD_ALIASES",
    "SESSION_REPORTED",
    "SESSION_TRACKED",
    "TASK_ROLES",
    "TRACKED_IN_SESSION",
    "WORKLOAD_REFRESH_SECONDS",
    "PageAction",
    "_incident_or_404",
    "_mark_overdue",
    "_over_limit",
    "_queue_bulk_fields_html",
    "_queue_row_texts",
    "_rated_message",
    "_render_detail",
    "_require_queue_role",
    "_safe_next",
    "_sees_contacts",
    "_tracked",
    "detail",
    "fix_on_spot",
    "incident_action",
    "index",
    "my_reports",
    "my_tasks",
    "overdue",
    "patrol_detail",
    "patrol_end",
    "patrol_points",
    "patrol_start",
    "patrols",
    "photo",
    "queue",
    "queue_assign",
    "queue_rows",
    "queue_workload",
    "report",
    "report_done",
    "track",
    "track_rate",
    "track_resend",
    "workload",
]
