"""Admin for partners, API keys, tickets, Open311 attributes and webhooks.

Secrets are shown once: a new API key (its raw value is never stored) and a new or rotated HMAC
secret appear on a page of their own right after they are made, never in lists or forms.
Deliveries are read-only, with a replay action and a replay button.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.exceptions import ApplicationError
from integrations import security, services
from integrations.models import (
    ApiKey,
    IncomingTicket,
    KeyScope,
    Partner,
    ServiceAttribute,
    WebhookDelivery,
    WebhookSubscription,
)

SHOWN_ONCE_TEMPLATE = "admin/integrations/shown_once.html"


def shown_once(
    request: HttpRequest, *, title: str, label: str, value: str, back_url: str, note: str = ""
) -> TemplateResponse:
    """A page that shows a secret once; it is not kept anywhere we could show it again."""
    response = TemplateResponse(
        request,
        SHOWN_ONCE_TEMPLATE,
        {
            **admin.site.each_context(request),
            "title": title,
            "label": label,
            "value": value,
            "note": note,
            "back_url": back_url,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("name", "key_display", "scopes", "rate_limit", "usage_count", "revoked_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("key"))
    def key_display(self, obj: ApiKey) -> str:
        return f"gg_{obj.prefix}_…"


URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class WebhookSubscriptionInline(admin.TabularInline):
    model = WebhookSubscription
    extra = 0
    formfield_overrides = URL_FIELDS
    fields = ("url", "scope", "region", "active")


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "region", "active", "key_count")
    list_filter = ("kind", "active")
    search_fields = ("name", "code")
    fields = (
        "name",
        "code",
        "kind",
        "region",
        "default_time_limit",
        "open311_token_responses",
        "contact",
        "active",
    )
    inlines = [ApiKeyInline, WebhookSubscriptionInline]
    actions = ["rotate_secret"]

    @admin.display(description=_("API keys"))
    def key_count(self, obj: Partner) -> int:
        return obj.api_keys.filter(revoked_at__isnull=True).count()

    def save_model(self, request, obj: Partner, form, change) -> None:
        if not change and not obj.hmac_secret:
            obj.hmac_secret = security.hmac_secret_new()
            obj._new_secret = obj.hmac_secret
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj: Partner, post_url_continue=None) -> HttpResponse:
        secret = getattr(obj, "_new_secret", "")
        if not secret:
            return super().response_add(request, obj, post_url_continue)
        return shown_once(
            request,
            title=gettext("HMAC secret of %(partner)s") % {"partner": obj},
            label=gettext("HMAC secret"),
            value=secret,
            note=gettext("Give it to the partner over a safe channel. Create an API key next."),
            back_url=reverse("admin:integrations_partner_change", args=[obj.pk]),
        )

    @admin.action(description=_("Rotate the HMAC secret (shown once)"))
    def rotate_secret(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, gettext("Choose exactly one partner."), messages.ERROR)
            return None
        partner = queryset.get()
        secret = services.partner_rotate_secret(partner_id=partner.pk)
        return shown_once(
            request,
            title=gettext("New HMAC secret of %(partner)s") % {"partner": partner},
            label=gettext("HMAC secret"),
            value=secret,
            note=gettext("The old secret no longer works."),
            back_url=reverse("admin:integrations_partner_change", args=[partner.pk]),
        )


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=KeyScope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = ApiKey
        fields = ("partner", "name", "scopes", "rate_limit", "rate_window_seconds")

    def clean_rate_window_seconds(self) -> int:
        value = self.cleaned_data["rate_window_seconds"]
        if value < 1:
            raise forms.ValidationError(gettext("The window is at least one second."))
        return value


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = (
        "name",
        "partner",
        "key_display",
        "scope_list",
        "rate_display",
        "usage_count",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("partner", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "partner__name")
    readonly_fields = ("key_display", "usage_count", "last_used_at", "revoked_at", "created_by")
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (*self.readonly_fields, "partner")

    @admin.display(description=_("key"))
    def key_display(self, obj: ApiKey) -> str:
        return f"gg_{obj.prefix}_…" if obj.prefix else ""

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes or [])

    @admin.display(description=_("rate limit"))
    def rate_display(self, obj: ApiKey) -> str:
        if not obj.rate_limit:
            return gettext("none")
        return gettext("%(n)s per %(s)s s") % {"n": obj.rate_limit, "s": obj.rate_window_seconds}

    def save_model(self, request, obj: ApiKey, form, change) -> None:
        if not change:
            new = security.key_new()
            obj.prefix, obj.key_hash = new.prefix, new.key_hash
            obj.created_by = request.user
            obj._raw_key = new.raw
        obj.scopes = sorted(set(obj.scopes or []))
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj: ApiKey, post_url_continue=None) -> HttpResponse:
        raw = getattr(obj, "_raw_key", "")
        if not raw:
            return super().response_add(request, obj, post_url_continue)
        return shown_once(
            request,
            title=gettext("API key %(name)s of %(partner)s")
            % {"name": obj.name, "partner": obj.partner},
            label=gettext("API key"),
            value=raw,
            note=gettext(
                "Only its hash is stored: copy it now; a lost key is revoked and replaced."
            ),
            back_url=reverse("admin:integrations_apikey_change", args=[obj.pk]),
        )

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        for key in queryset:
            services.api_key_revoke(key_id=key.pk)
        self.message_user(request, gettext("Keys revoked."), messages.SUCCESS)


@admin.register(IncomingTicket)
class IncomingTicketAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "partner",
        "channel",
        "incident_link",
        "urgent",
        "police_reference",
        "due_at",
        "created_at",
    )
    list_filter = ("partner", "channel", "urgent")
    search_fields = ("external_id", "incident__tracking_number", "police_reference")
    list_select_related = ("partner", "incident")
    exclude = ("token",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "token"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("incident"))
    def incident_link(self, obj: IncomingTicket) -> str:
        return obj.incident.tracking_number if obj.incident_id else "—"


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    list_display = ("category", "code", "description", "datatype", "required", "order")
    list_filter = ("datatype", "required")
    search_fields = ("code", "description", "category__code", "category__name")
    list_select_related = ("category",)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = (
        "partner",
        "url",
        "scope",
        "region",
        "active",
        "failures_in_a_row",
        "paused_until",
    )
    list_filter = ("active", "scope", "partner")
    readonly_fields = ("failures_in_a_row", "paused_until")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "uuid",
        "partner",
        "incident_number",
        "change",
        "status",
        "attempts",
        "last_status_code",
        "short_error",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "subscription__partner")
    search_fields = ("uuid", "incident__tracking_number")
    list_select_related = ("subscription__partner", "incident", "event")
    actions = ["replay"]
    change_form_template = "admin/integrations/webhookdelivery/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("partner"))
    def partner(self, obj: WebhookDelivery) -> str:
        return str(obj.subscription.partner)

    @admin.display(description=_("incident"))
    def incident_number(self, obj: WebhookDelivery) -> str:
        return obj.incident.tracking_number

    @admin.display(description=_("change"))
    def change(self, obj: WebhookDelivery) -> str:
        return f"{obj.event.from_state or '∅'} → {obj.event.to_state}"

    @admin.display(description=_("last error"))
    def short_error(self, obj: WebhookDelivery) -> str:
        return (obj.last_error or "")[:80]

    @admin.action(description=_("Replay the selected deliveries"))
    def replay(self, request, queryset):
        done = 0
        for delivery in queryset:
            try:
                services.webhook_delivery_replay(delivery_id=delivery.pk, actor=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{delivery.uuid}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(
                request,
                gettext("%(n)s deliveries will be sent again.") % {"n": done},
                messages.SUCCESS,
            )

    def get_urls(self):
        urls = super().get_urls()
        extra = [
            path(
                "<int:object_id>/replay/",
                self.admin_site.admin_view(self.replay_view),
                name="integrations_webhookdelivery_replay",
            )
        ]
        return extra + urls

    def replay_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The replay button of the change page (POST)."""
        delivery = get_object_or_404(WebhookDelivery, pk=object_id)
        change_url = reverse("admin:integrations_webhookdelivery_change", args=[delivery.pk])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        if not self.has_change_permission(request, delivery):
            messages.error(request, gettext("You may not replay deliveries."))
            return HttpResponseRedirect(change_url)
        try:
            services.webhook_delivery_replay(delivery_id=delivery.pk, actor=request.user)
            messages.success(request, gettext("The delivery will be sent again."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(change_url)
