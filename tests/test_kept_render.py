"""The render child a batch worker keeps (ntm_lib.render.kept): the same
results, limits and errors as one child per render, in one process."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from ntm_lib.errors import GlyphMissingError, RenderError
from ntm_lib.render import kept
from ntm_lib.render.bounded import run_limited


def _pid() -> int:
    return os.getpid()


def _sleep(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _die() -> None:
    os._exit(3)


def _glyph() -> None:
    raise GlyphMissingError(["ắ"], font="Liberation Serif", where="report.pdf")


@pytest.fixture
def keeping():
    kept.keep()
    yield
    kept.release()


def test_renders_share_one_child_that_is_not_this_process(keeping):
    first = run_limited(_pid, what="the PDF")
    second = run_limited(_pid, what="the PDF")
    assert first == second != os.getpid()
    assert kept.child_peak_rss_mb() > 0


def test_without_keep_each_render_has_its_own_child():
    kept.release()
    first, second = run_limited(_pid, what="the PDF"), run_limited(_pid, what="the PDF")
    assert len({first, second, os.getpid()}) == 3


def test_over_time_the_child_is_killed_and_the_next_render_gets_a_new_one(keeping):
    before = run_limited(_pid, what="the PDF")
    began = time.monotonic()
    with pytest.raises(RenderError, match="longer than 0.5 s .*limit limits.RENDER_SECONDS"):
        run_limited(_sleep, 30, what="the PDF", seconds=0.5)
    assert time.monotonic() - began < 2
    with pytest.raises(ProcessLookupError):
        os.kill(before, 0)  # killed and reaped
    after = run_limited(_sleep, 0, what="the PDF")
    assert after not in (before, os.getpid())


def test_a_child_that_dies_is_reported_and_replaced(keeping):
    before = run_limited(_pid, what="the PDF")
    with pytest.raises(RenderError, match=r"rendering the PDF stopped unexpectedly \(exit status 3\)"):
        run_limited(_die, what="the PDF")
    assert run_limited(_pid, what="the PDF") not in (before, os.getpid())


def test_errors_come_back_typed_with_their_fields(keeping):
    with pytest.raises(GlyphMissingError) as info:
        run_limited(_glyph, what="the PDF")
    assert info.value.characters == ["ắ"] and info.value.where == "report.pdf"
    # The child survives a render that raised.
    assert run_limited(_pid, what="the PDF") == run_limited(_pid, what="the PDF")


def test_the_child_retires_after_its_renders(keeping, monkeypatch):
    monkeypatch.setattr(kept, "RENDERS_PER_CHILD", 2)
    pids = [run_limited(_pid, what="the PDF") for _ in range(5)]
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]


def test_a_render_that_cannot_be_pickled_gets_a_child_of_its_own(keeping):
    shared = run_limited(_pid, what="the PDF")
    own = run_limited(lambda: os.getpid(), what="the PDF")  # noqa: PLW0108 - a lambda cannot be pickled
    assert own not in (shared, os.getpid())
    assert run_limited(_pid, what="the PDF") == shared


def test_the_child_ends_with_its_parent(tmp_path):
    script = textwrap.dedent("""
        import os, sys
        from ntm_lib.render import kept
        from ntm_lib.render.bounded import run_limited
        kept.keep()
        print(run_limited(os.getpid, what="the PDF"), flush=True)
        os._exit(0)  # as a pool worker exits: no atexit handlers
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True)
    child = int(done.stdout.strip())
    for _ in range(100):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the kept child {child} outlived its parent")


def test_real_pdfs_are_the_same_bytes_from_a_kept_child(tmp_path, keeping):
    from ntm_lib.render import render_pdf

    html = tmp_path / "r.html"
    html.write_text('<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>t</title>'
                    "</head><body><p>Xã Nậm Mòn đạt 19/19 tiêu chí.</p></body></html>",
                    encoding="utf-8")
    render_pdf(html, tmp_path / "a.pdf")
    render_pdf(html, tmp_path / "b.pdf")
    kept.release()
    render_pdf(html, tmp_path / "c.pdf")
    a, b, c = ((tmp_path / n).read_bytes() for n in ("a.pdf", "b.pdf", "c.pdf"))
    assert a == b == c and a.startswith(b"%PDF")


class _Interrupted(Exception):
    pass


def test_an_interrupted_render_stops_the_child_and_the_next_one_is_fresh(keeping):
    import signal

    before = run_limited(_pid, what="the PDF")

    def interrupt(*_args):
        raise _Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(_Interrupted):
            run_limited(_sleep, 30, what="the PDF")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    with pytest.raises(ProcessLookupError):
        os.kill(before, 0)
    assert run_limited(_pid, what="the PDF") not in (before, os.getpid())


def test_a_worker_keeps_its_render_child_unless_told_not_to(monkeypatch):
    from ntm_lib.batch.worker import keep_render_child

    try:
        monkeypatch.setenv("NTM_KEEP_RENDER_CHILD", "0")
        assert keep_render_child() is False and not kept.kept()
        monkeypatch.delenv("NTM_KEEP_RENDER_CHILD")
        assert keep_render_child() is True and kept.kept()
    finally:
        kept.release()


def _unsendable():
    return lambda: None


@pytest.mark.parametrize("keep", [True, False])
def test_a_result_that_cannot_be_sent_back_is_a_render_error(keep):
    kept.keep() if keep else kept.release()
    try:
        with pytest.raises(RenderError, match="the result could not be sent back"):
            run_limited(_unsendable, what="the PDF")
        assert run_limited(_pid, what="the PDF") != os.getpid()
    finally:
        kept.release()
