"""The kernel forker: a process that has imported what a report kernel needs
and forks one fresh kernel per report.

Started by :mod:`ntm_lib.batch.kernel` as ``python -m ntm_lib.batch.zygote``
with pipes on stdin and stdout. It imports ipykernel, IPython, pandas,
matplotlib and ``ntm_lib``'s report modules once, and parses the project's
reference tables once (:func:`_parse_reference_tables`: the parsed copies are
keyed on the files' bytes, so a table changed since is parsed again, and
every kernel still logs each file it reads), then answers one JSON line per
request:

``{"argv": [...], "env": {...}, "cwd": "...", "timeout": 30}``
    fork a kernel: the child starts a new session, takes ``env`` and
    ``cwd``, and runs ``ipykernel`` with ``argv`` (the kernel spec's
    arguments after ``-m ipykernel_launcher``); the reply ``{"pid": N}``
    comes once the kernel has bound its sockets, or ``{"error": "..."}``
    when it died or was not ready within ``timeout`` seconds (it is then
    killed).

Each child is a process of its own (copy-on-write): nothing a report does
reaches another. Children are reaped as they exit; when stdin closes (the
worker has gone) the remaining kernels are killed and the forker exits.
SIGINT is ignored: Ctrl-C reaches the worker, which shuts its kernel down.
"""
from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
import traceback

#: Modules a report kernel imports, loaded once here.
PRELOAD = (
    "ipykernel.kernelapp", "ipykernel.ipkernel", "IPython.display", "matplotlib_inline.backend_inline",
    "pandas", "matplotlib.pyplot", "ntm_lib", "ntm_lib.load", "ntm_lib.calc",
    "ntm_lib.charts", "ntm_lib.record", "ntm_lib.report", "ntm_lib.text", "ntm_lib.notebook",
    # What ``IPKernelApp.initialize`` imports (the shell, the debugger with
    # debugpy, tornado's queues): measured 0.1 s of each forked kernel's start.
    "ipykernel.zmqshell", "ipykernel.debugger", "tornado.gen", "tornado.locks", "tornado.queues",
)

_children: set[int] = set()


def _reap(*_args) -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _children.discard(pid)


def _child(request: dict, ready_fd: int) -> None:
    """In the forked child: become the kernel (never returns)."""
    code = 1
    try:
        os.setsid()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)  # stdout is the forker's reply pipe: never write there
        if not request.get("show_stderr"):
            os.dup2(null, 2)
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", closefd=False)
        # As ipykernel_launcher: the launch folder is not on sys.path (IPython
        # puts the working folder back as "").
        if sys.path and sys.path[0] in ("", request.get("forker_cwd")):
            del sys.path[0]
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize([*request["argv"], f"--IPKernelApp.parent_handle={os.getppid()}"])
        os.write(ready_fd, b"1")
        os.close(ready_fd)
        app.start()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
    finally:
        os._exit(code)


def _fork(request: dict) -> dict:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(request, write_fd)
    os.close(write_fd)
    _children.add(pid)
    deadline = time.monotonic() + float(request.get("timeout") or 30)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                _kill(pid)
                return {"error": f"kernel not ready within {request.get('timeout') or 30} s"}
            try:
                readable, _, _ = select.select([read_fd], [], [], left)
            except InterruptedError:
                continue
            if readable:
                if os.read(read_fd, 1) == b"1":
                    return {"pid": pid}
                _kill(pid)
                return {"error": "kernel died while starting"}
    finally:
        os.close(read_fd)


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _parse_reference_tables() -> None:
    """Read the reference tables every report reads, so that forked kernels
    find them parsed (``ntm_lib.load.tables``); any problem is left for the
    kernels to find and report."""
    try:
        from ntm_lib.load import (load_band_rule, load_criteria_sets, load_registry,
                                  load_status_labels, read_table)
        from ntm_lib.load.reference import HEADER_COLUMNS
        from ntm_lib.load.tables import data_path
        from ntm_lib.validate import load_rules
    except Exception:  # noqa: BLE001
        return
    for read in (load_criteria_sets, load_band_rule, load_status_labels, load_registry, load_rules,
                 lambda: read_table(data_path(None, "reference", "header_styles.csv"),
                                    HEADER_COLUMNS)):
        try:
            read()
        except Exception:  # noqa: BLE001
            pass


def _warm_charts() -> None:
    """Draw one throw-away chart in the report style, so that forked kernels
    find matplotlib's font set-up (the report serif registered, its faces
    found and loaded, the SVG writer's first use) made; nothing drawn here
    reaches a report, and the style is put back as it was."""
    try:
        import io

        import matplotlib
        import matplotlib.pyplot as plt

        from ntm_lib.charts import report_style
    except Exception:  # noqa: BLE001
        return
    try:
        with matplotlib.rc_context(report_style()):
            fig, ax = plt.subplots(figsize=(4, 2))
            ax.barh(["Tiêu chí số 1", "Đạt chuẩn"], [1.5, 2.25])
            ax.set_title("Biểu đồ: Nậm Mòn, năm 2023", fontweight="bold")
            fig.savefig(io.BytesIO(), format="svg")
            plt.close(fig)
    except Exception:  # noqa: BLE001 - a kernel meets the same problem and reports it
        pass


def _warm_text() -> None:
    """Format a number and a date (Babel loads the ``vi`` locale's data on
    first use: measured 0.04 s of each forked kernel) and render one inline
    value through the prose environment of the project's layouts, as the
    report's ``%%report`` cells do; nothing here reaches a report."""
    try:
        import datetime as dt

        from ntm_lib.notebook import prose
        from ntm_lib.paths import notebooks_dir

        prose.render("{{ value | number }} {{ value | percent }} {{ day | date_long }}",
                     {"value": 1234.5, "day": dt.date(2023, 2, 9)},
                     layouts=notebooks_dir() / "layouts")
    except Exception:  # noqa: BLE001 - a kernel meets the same problem and reports it
        pass


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # debugpy warns on stderr when imported (frozen modules); a kernel's own
    # stderr is hidden, the forker's is the worker's: silence it while importing.
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        for name in PRELOAD:
            try:
                __import__(name)
            except Exception:  # noqa: BLE001 - a kernel imports what it needs anyway
                pass
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
    _parse_reference_tables()
    _warm_charts()
    _warm_text()
    signal.signal(signal.SIGCHLD, _reap)
    forker_cwd = os.getcwd()
    out = sys.stdout
    out.write(json.dumps({"ready": os.getpid()}) + "\n")
    out.flush()
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                request = json.loads(line)
                request["forker_cwd"] = forker_cwd
                reply = _fork(request)
            except Exception as exc:  # noqa: BLE001
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            out.write(json.dumps(reply) + "\n")
            out.flush()
    finally:
        for pid in list(_children):
            _kill(pid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
