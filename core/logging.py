"""A logging filter that masks phones and ID numbers in every log record (PIPL).

governance/settings.py installs it on every handler in LOGGING: whatever a module logs, the
line written carries 138****1234, never the number. The message is rendered once (args merged)
and masked; a traceback is rendered and masked too.
"""

import logging

from core.masking import mask_text


class PersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed format: leave it to the handler
            return True
        masked = mask_text(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


def install_on_handlers(logger: logging.Logger | None = None, **_: object) -> None:
    """Add the filter to every handler of `logger` (default: root); used for the handlers the
    Celery worker sets up itself (celery.signals.after_setup_logger)."""
    logger = logger or logging.getLogger()
    for handler in logger.handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(PersonalDataFilter())
