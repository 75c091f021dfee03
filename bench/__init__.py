"""Benchmarks: scripts that print (and on request write to docs/) measured figures; never run by the
tests. Each runs from the repository root as a module, e.g. `python -m bench.run --quick`, so that
`bench`, `test_support` and the package import without any path set-up."""
