"""What the tests and the benchmarks share: the real server as a subprocess
(`server`), random valid work for headless clients and its checks
(`workload`), and an in-memory twin of the server for store tests
(`fake_server`). Nothing here is shipped with the app."""
