"""Settings for serving the app in a benchmark (bench_map.py, bench_intake_faults.py): as in production
(DEBUG off, so no query log), with static files served by WhiteNoise straight from the finders,
so nothing is collected into var/."""
from gridmap.settings import *  # noqa: F403

DEBUG = False
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

# A request's error on the server's stderr with its traceback (with DEBUG off Django logs it to
# nobody by default), so a benchmark that counts 5xx can show why.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR"}},
}
