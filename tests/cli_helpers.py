"""Running ``ntm`` in the test process, as the hostile-input tests do."""
from __future__ import annotations

from ntm_lib.cli import main


def run(capsys, *argv: str) -> tuple[int, str]:
    """``ntm ARGV`` in this process: (exit code, stdout + stderr), never a traceback."""
    code = main(list(argv))
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text
    return code, text
