"""The seeded demo district (演示区): a whole district generated from one seed, for trying
gridmap, for the browser tests and for benchmarks at city scale."""
