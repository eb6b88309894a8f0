"""Fixtures: a private httpd per test (checked log), one echo backend per run."""
from pathlib import Path

import pytest

import support


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """make integration asks for --basetemp=build/pytest. Run as root from a
    checkout the workers (User daemon) cannot traverse, every test server
    would answer 403 to its own files: fall back to pytest's default
    temporary directory under /tmp, which support.Httpd opens up to them."""
    bt = config.option.basetemp
    if bt and not support.workers_reach(Path(bt).resolve().parent):
        config.option.basetemp = None
        config._wsa_basetemp_note = (
            "%s is not reachable by User %s: test servers run under pytest's "
            "default temporary directory in /tmp" % (Path(bt).resolve().parent, support.WORKER_USER))


def pytest_report_header(config):
    note = getattr(config, "_wsa_basetemp_note", None)
    return [note] if note else []


@pytest.fixture(scope="session")
def backend(tmp_path_factory):
    b = support.Backend(tmp_path_factory.mktemp("backend"))
    yield b
    b.stop()


@pytest.fixture
def httpd(tmp_path, request):
    """httpd(body, **kw) -> a started support.Httpd; stopped and its error log
    checked (unexpected [warn]+ lines, leaked secrets) after the test."""
    made = []

    def make(body, start=True, **kw):
        h = support.Httpd(tmp_path / ("h%d" % len(made)), body, **kw)
        h.secret(support.KEY1, support.KEY2, support.KEY3)
        made.append(h)
        return h.start() if start else h

    yield make
    problems = []
    for h in made:
        h.stop()
        bad = h.unexpected_log_lines()
        if bad:
            problems.append("unexpected log lines:\n  " + "\n  ".join(bad[:20]))
        leaked = h.leaked()
        if leaked:
            problems.append("secret/cookie values in the logs: %d value(s)" % len(leaked))
    if problems and not request.node.rep_call_failed():
        pytest.fail("\n".join(problems))


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        item.rep_call_failed = lambda: rep.failed
    elif not hasattr(item, "rep_call_failed"):
        item.rep_call_failed = lambda: False
