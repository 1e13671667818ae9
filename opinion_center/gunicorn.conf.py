"""gunicorn settings of the web process: ``gunicorn -c opinion_center/gunicorn.conf.py
opinion_center.wsgi:application`` (the Dockerfile's CMD).

Sync workers, two per core (ARCHITECTURE rule 11); the access log goes to stdout through
``units.logging.GunicornLogger``, which masks citizens' phone and ID-card numbers in request
lines, query strings and referers like every other log line.

Each worker, once it has loaded the application, moves what it loaded (Django, the URL
configuration, the apps: some 150,000 objects) out of the cyclic garbage collector's reach
(``gc.freeze``): they live as long as the process, and otherwise every full collection walks them
again (~90 ms each here, one or two in a request that builds thousands of objects, such as a
province's red/black list).
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
timeout = 30
accesslog = "-"
logger_class = "units.logging.GunicornLogger"


def post_worker_init(worker):
    gc.freeze()
