"""Shared by the fuzz tests: how many examples each property draws. The suite runs a short,
derandomised pass; GRIDMAP_FUZZ_EXAMPLES=500 scripts/gridmap test tests/fuzz is the long run."""
import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("GRIDMAP_FUZZ_EXAMPLES", "0") or 0)
LONG = EXAMPLES > 0


def fuzz_settings(short: int):
    """Hypothesis settings: `short` examples, derandomised, in the suite; EXAMPLES, random, when set."""
    return settings(max_examples=EXAMPLES if LONG else short, derandomize=not LONG, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.filter_too_much, HealthCheck.data_too_large])
