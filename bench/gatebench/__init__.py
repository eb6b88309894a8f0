"""The `make bench` package (bench/bench.py runs it; docs/performance.md).

By concern:
  instances  the configurations P, S, F, Pm, Pk, M; a private httpd instance
             and the C echo backend; where each runs (CPUs, nice)
  run        one run's setup: the instances started, logged in, checked
  drivers    the load: wsload and wrk runs, sequential rounds, P S M loaded
             at once, tunnels held, the memory run, micro-benchmarks
  tracers    perf, callgrind and strace runs (in-process attribution,
             instructions and system calls per GET)
  figures    a run's figures summarized, and the verdicts on its targets
  report     the Markdown report
  chart      the gnuplot chart

The integration tests' harness (tests/integration/support.py) provides the
free port, the wait for a port, the process stop and the raw HTTP clients.
"""
