"""Every write of the integrations app, by concern (the public names are re-exported here, so
`from integrations.services import X` keeps working):

- `partners`: partners and keys: partner_create, partner_rotate_secret, api_key_create,
  api_key_revoke.
- `open311`: open311_request_create (GeoReport v2 POST). `intake`: hotline_ticket_receive
  (12345 / 110, idempotent on the partner's ticket id). Both file an ordinary incident through
  incidents.services.incident_report, in one transaction with the IncomingTicket: bad input
  writes nothing. The partner's deadline: ticket_deadline_apply (after each dispatch; the
  engine sets the category's deadline, the ticket's own limit wins) and
  tickets_deadline_catch_up (the sweep).
- `webhooks`: subscription_create / subscription_delete; webhook_deliveries_for_event (called
  by the IncidentEvent signal: one insert per matching subscription), webhook_offer, the
  per-process flag webhooks_active, webhooks_catch_up (the sweep).
- `deliveries`: webhook_deliver_pending (the task: oldest pending delivery first, HTTP outside
  any transaction, exponential backoff up to a day), webhook_delivery_replay, webhooks_due
  (the sweep).
- `_common`: the steps they share (the key's scope, field checks, the Open311 status).

Monkeypatch a name where it is looked up: in its module (`integrations.services.webhooks`
...), not here.
"""

from core.exceptions import ApplicationError
from integrations.services._common import CLOSED_STATES, open311_status
from integrations.services.deliveries import (
    USER_AGENT,
    PostResult,
    retry_delay_jittered,
    retry_delay_seconds,
    webhook_deliver_pending,
    webhook_delivery_replay,
    webhook_http_post,
    webhook_payload,
    webhooks_due,
)
from integrations.services.intake import (
    ENGINE_EXTERNAL_ID_MAX,
    HOTLINE_CHANNELS,
    TICKET_ID_PATTERN,
    HotlineResult,
    engine_external_id,
    hotline_ticket_receive,
    ticket_deadline_apply,
    tickets_deadline_catch_up,
)
from integrations.services.open311 import (
    DESCRIPTION_MAX,
    _reporter_name,
    open311_request_create,
)
from integrations.services.partners import (
    api_key_create,
    api_key_revoke,
    partner_create,
    partner_rotate_secret,
)
from integrations.services.webhooks import (
    WEBHOOKS_ACTIVE_KEY,
    WEBHOOKS_ACTIVE_LOCAL_SECONDS,
    WEBHOOKS_ACTIVE_SECONDS,
    _webhooks_active_key,
    subscription_create,
    subscription_delete,
    webhook_deliveries_for_event,
    webhook_offer,
    webhooks_active,
    webhooks_active_forget,
    webhooks_catch_up,
)

__all__ = [
    "CLOSED_STATES",
    "DESCRIPTION_MAX",
    "ENGINE_EXTERNAL_ID_MAX",
    "HOTLINE_CHANNELS",
    "TICKET_ID_PATTERN",
    "USER_AGENT",
    "WEBHOOKS_ACTIVE_KEY",
    "WEBHOOKS_ACTIVE_LOCAL_SECONDS",
    "WEBHOOKS_ACTIVE_SECONDS",
    "ApplicationError",
    "HotlineResult",
    "PostResult",
    "_reporter_name",
    "_webhooks_active_key",
    "api_key_create",
    "api_key_revoke",
    "engine_external_id",
    "hotline_ticket_receive",
    "open311_request_create",
    "open311_status",
    "partner_create",
    "partner_rotate_secret",
    "retry_delay_jittered",
    "retry_delay_seconds",
    "subscription_create",
    "subscription_delete",
    "ticket_deadline_apply",
    "tickets_deadline_catch_up",
    "webhook_deliver_pending",
    "webhook_deliveries_for_event",
    "webhook_delivery_replay",
    "webhook_http_post",
    "webhook_offer",
    "webhook_payload",
    "webhooks_active",
    "webhooks_active_forget",
    "webhooks_catch_up",
    "webhooks_due",
]
