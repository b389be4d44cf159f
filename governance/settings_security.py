"""Built for governance/settings.py: the Content-Security-Policy (docs/reliability.md
"Hardening") and LOGGING."""

from urllib.parse import urlsplit


def tile_origin(map_tile_url: str) -> str:
    """The origin map tiles come from ("" without a tile server)."""
    if not map_tile_url:
        return ""
    tile_parts = urlsplit(map_tile_url.replace("{s}", "a"))
    if not (tile_parts.scheme and tile_parts.netloc):
        return ""
    # Leaflet's {s} subdomains: a.tiles.example, b.tiles.example ... -> *.tiles.example
    tile_host = urlsplit(map_tile_url).netloc
    return f"{tile_parts.scheme}://" + (
        "*." + tile_host.split(".", 1)[1] if tile_host.startswith("{s}.") else tile_host
    )


def content_security_policy(map_tile_url: str) -> dict:
    """Content-Security-Policy (django-csp 4): scripts only from our own static files (data for
    them goes through json_script); no plugins, no framing, forms post only to us. Inline style
    attributes stay allowed (ECharts tooltips and Leaflet write them); <style> elements do not."""
    origin = tile_origin(map_tile_url)
    return {
        "DIRECTIVES": {
            "default-src": ["'self'"],
            "script-src": ["'self'"],
            "style-src": ["'self'", "'unsafe-inline'"],
            "style-src-elem": ["'self'"],
            "img-src": ["'self'", "data:", "blob:", *([origin] if origin else [])],
            "connect-src": ["'self'"],
            "font-src": ["'self'", "data:"],
            "worker-src": ["'self'", "blob:"],
            "object-src": ["'none'"],
            "base-uri": ["'self'"],
            "frame-ancestors": ["'none'"],
            "form-action": ["'self'"],
        }
    }


def logging_config(root_level: str) -> dict:
    """Every handler masks phones and ID numbers (core/logging.py). Django's own loggers hand
    their records to the root handlers (their default handlers would bypass the filter)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"personal_data": {"()": "core.logging.PersonalDataFilter"}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "filters": ["personal_data"],
            }
        },
        "loggers": {
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        },
        "root": {"handlers": ["console"], "level": root_level},
    }
