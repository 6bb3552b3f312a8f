"""``ntm``: the command line, a thin shell over the library.

Each sub-command lives in its own module of this package with a
``register(subparsers)`` function that adds its parser and sets ``func``
(a function of the parsed arguments returning the exit code). Errors print as
one line each (file, row, column, what was expected) and exit non-zero;
``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from ..errors import DiskFullError, NtmError
from ..redact import install_stream_redaction
from ..safeio import is_disk_full

#: Modules providing sub-commands, in the order ``ntm --help`` lists them.
COMMAND_MODULES = (
    "ntm_lib.cli.run",
    "ntm_lib.cli.batch",
    "ntm_lib.cli.synth",
    "ntm_lib.cli.workbook",
    "ntm_lib.cli.validate",
    "ntm_lib.cli.evidence",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ntm",
        description="Commune reports for the National Target Programs (NTM, GNBV, DTTS&MN).",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    for command in sub.choices.values():  # --debug also after the command name
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show tracebacks of errors")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ntm`` console script; returns the exit code."""
    install_stream_redaction()  # no secret reaches the terminal (ntm_lib.redact)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: bad arguments are exit code 2, help is 0
        return exc.code if isinstance(exc.code, int) else 2
    if args.debug:  # kernels' own stderr shown too (ntm_lib.run.kernels)
        os.environ["NTM_DEBUG"] = "1"
    try:
        return args.func(args)
    except NtmError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted: unfinished runs were removed", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `ntm trace ... | head`: the reader has gone; say nothing
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except OSError as exc:
        if args.debug:
            raise
        if is_disk_full(exc):
            error: NtmError = DiskFullError(f"disk full ({exc.strerror}); nothing in place "
                                            "was changed", file=exc.filename)
        else:
            error = NtmError(f"{exc.strerror or exc}", file=exc.filename)
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main())
