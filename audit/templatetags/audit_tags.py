"""{% audit_integrity_box %}: the latest integrity check of the audit log, for administrators
(the admin workbench, templates/home.html)."""

from django import template

from audit.chain import chain_status
from audit.selectors import sees_integrity_box

register = template.Library()


@register.inclusion_tag("audit/_integrity_box.html", takes_context=True)
def audit_integrity_box(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not sees_integrity_box(user):
        return {"hidden": True}
    return {"check": chain_status()}
