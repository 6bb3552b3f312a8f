"""Ctrl-C once a run is archived: the run is complete and said so (exit 0),
not reported as interrupted (130) with its files in place."""
from __future__ import annotations

import os
import signal
import time

import pytest

from ntm_lib.run.signals import deferred_interrupts


def test_signals_in_the_block_are_noted_not_raised():
    with deferred_interrupts() as got:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
    assert got == [signal.SIGINT, signal.SIGTERM]
    with pytest.raises(KeyboardInterrupt):  # the handlers are back after the block
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)


@pytest.mark.e2e
def test_ctrl_c_while_the_latest_link_moves_finishes_the_run(tmp_path, monkeypatch, capsys):
    from ntm_lib.cli import main
    from ntm_lib.run import archive

    real = archive.point_latest

    def interrupted(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C right after the run was archived
        return real(*args, **kwargs)

    monkeypatch.setattr(archive, "point_latest", interrupted)
    code = main(["run", "--commune", "02881", "--year", "2023", "--no-docx",
                 "--build", str(tmp_path / "build")])
    out, err = capsys.readouterr()
    assert code == 0
    assert "report built" in out and "archived as a BagIt bag" in out
    assert "interrupted after the run was archived; the run above is complete" in err
    latest = tmp_path / "build" / "2023" / "nam-mon"
    assert (latest / "data" / "report.pdf").is_file()  # the link was moved, the run is whole
    assert main(["verify", str(latest)]) == 0
