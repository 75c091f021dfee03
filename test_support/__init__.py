"""Test support, not shipped with the connector package: the fake OpenAI-compatible server, the
Milvus server launcher, the Zendesk sample generator and its schemas, the tutorial's collection, a
sample sync and a headless-browser driver. The tests and the benchmarks use it; research scripts
live in scripts/research/."""
