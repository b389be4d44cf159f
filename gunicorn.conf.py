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
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Phones' IP addresses and personal data never go in the access log's query strings: the
# portal never puts them in URLs; the format leaves out the referrer.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# Import the app before forking: workers share memory, and a broken settings file fails at once.
preload_app = True
