"""Settings for serving the map in a benchmark (tests/bench/bench_map.py): as in production
(DEBUG off, so no query log), with static files served by WhiteNoise straight from the finders,
so nothing is collected into var/."""
from gridmap.settings import *  # noqa: F403

DEBUG = False
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
