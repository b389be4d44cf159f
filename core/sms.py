"""Pluggable SMS backends. The default writes messages to a file; production points
SMS_BACKEND at core.sms.HttpGatewayBackend. Only tasks call these, never inside a transaction."""

import json
import urllib.request
from datetime import datetime

from django.conf import settings
from django.utils.module_loading import import_string


class SmsError(Exception):
    """A transient failure of the gateway: the calling task retries with backoff."""


class FileBackend:
    def send(self, phone: str, text: str) -> None:
        with open(settings.SMS_FILE_PATH, "a", encoding="utf-8") as handle:
            handle.write(
                json.dumps(
                    {"at": datetime.now().isoformat(), "phone": phone[-4:], "text": text},
                    ensure_ascii=False,
                )
                + "\n"
            )


class ConsoleBackend:
    def send(self, phone: str, text: str) -> None:
        print(f"[sms to ****{phone[-4:]}] {text}")


class HttpGatewayBackend:
    """POSTs {"phone", "text"} as JSON to SMS_GATEWAY_URL with a bearer token."""

    def send(self, phone: str, text: str) -> None:
        if urllib.parse.urlsplit(settings.SMS_GATEWAY_URL).scheme not in {"http", "https"}:
            raise SmsError("SMS_GATEWAY_URL must be an http(s) URL")
        body = json.dumps({"phone": phone, "text": text}).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting
            settings.SMS_GATEWAY_URL,
            data=body,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310 # scheme checked above
                if response.status >= 300:
                    raise SmsError(f"gateway answered {response.status}")
        except OSError as exc:
            raise SmsError(str(exc)) from exc


def get_backend():
    return import_string(settings.SMS_BACKEND)()
