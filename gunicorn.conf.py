"""gunicorn settings for the web service (docker-compose `web`, or any server).

Everything is read from the environment so one image serves every deployment:
  PORT (8000), WEB_CONCURRENCY (worker processes: one per CPU, at least 2, at most 8),
  GUNICORN_THREADS (4), GUNICORN_TIMEOUT (60 s), FORWARDED_ALLOW_IPS (the reverse proxy).

Layout: the work of a request is Python holding the GIL between database round trips, so one
process per core, with threads to overlap the waits. `make bench` runs this layout (2 x 4 on 2
cores): it served 115 reports/s against 95/s for 4 processes x 2 threads on the same cores, and
each process peaks at ~135 MB (docs/operations.md, docs/performance.md). On a machine shared
with the Celery worker, run the worker at a lower CPU priority (systemd Nice=10).
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

wsgi_app = "governance.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", min(max(multiprocessing.cpu_count(), 2), 8)))
# Threads let one process serve several slow clients (photo uploads from phones).
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then: a slow leak never grows without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# Trust X-Forwarded-* only from the reverse proxy (SECURE_PROXY_SSL_HEADER relies on it).
# Never "*" (docs/operations.md): anyone reaching the port could claim HTTPS.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The access log records the method and the path only: never the query string (%(r)s, %(q)s),
# where a client may have put a phone number or a key, nor the referrer (which carries one).
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms "%(a)s"'


class PersonalDataLogger(Logger):
    """gunicorn's logger with core.logging.PersonalDataFilter on its access and error logs (the
    filter Django's handlers have): phone and ID numbers in a path or a message are masked."""

    def setup(self, cfg):
        super().setup(cfg)
        from core.logging import PersonalDataFilter

        for log in (self.access_log, self.error_log):
            if not any(isinstance(f, PersonalDataFilter) for f in log.filters):
                log.addFilter(PersonalDataFilter())


logger_class = PersonalDataLogger
# Import the app before forking: workers share memory, and a broken settings file fails at once.
preload_app = True
