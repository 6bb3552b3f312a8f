"""No secret leaks: a token given in ``NTM_SECRET_DATA_API_TOKEN`` that a cell
quotes (an exception, a print), a params file names, or a failing consistency
rule spells out is found in no file the product writes and in no byte it
prints, in any of the forms escaping gives it (JSON with and without
``ensure_ascii``, HTML, CSV, URL).

The fast tests call the writers (record, index, roll-up) and the command
line in-process; the ``e2e`` ones run ``ntm run`` and ``ntm batch`` for real
and search every file under ``build/`` and the captured stdout and stderr.
"""
from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
import yaml

from ntm_lib.batch.index import write_index
from ntm_lib.batch.record import BatchRecord, read_record, summary_table, write_record
from ntm_lib.batch.worker import Outcome
from ntm_lib.cli import main
from ntm_lib.redact import REDACTED
from ntm_lib.rollup import sections as S
from ntm_lib.rollup.build import _activate_links, _redact_notebook
from ntm_lib.rollup.collect import RollupContext, RollupRow

ROOT = Path(__file__).resolve().parent.parent
NTM = str(Path(sys.executable).with_name("ntm"))
ENV = "NTM_SECRET_DATA_API_TOKEN"
SECRETS = ["tok_9f8e7d6c5b4a3928", 'tk"<&>\\é-Zq7\'x', "Mật khẩu & bí mật 42"]


def forms(secret: str) -> set[bytes]:
    """The byte strings a secret takes once written in one of the formats:
    as it is, HTML-escaped (two ways), CSV-quoted, percent-encoded, as
    ``repr`` shows it, each also inside a JSON string; and UTF-16."""
    import markupsafe

    bases = {secret, html.escape(secret), html.escape(secret, quote=False),
             str(markupsafe.escape(secret)), secret.replace('"', '""'),
             urllib.parse.quote(secret), urllib.parse.quote(secret, safe=""),
             urllib.parse.quote_plus(secret), repr(secret)[1:-1], ascii(secret)[1:-1]}
    texts = set()
    for base in bases:
        texts |= {base, json.dumps(base)[1:-1], json.dumps(base, ensure_ascii=False)[1:-1]}
    return {t.encode("utf-8") for t in texts} | {secret.encode("utf-16-le")}


def leaks(secret: str, *, folders=(), texts=()) -> list[str]:
    """Where ``secret`` appears: files under ``folders`` (not following
    links), and ``texts`` (captured output)."""
    found, wanted = [], forms(secret)
    for folder in folders:
        for dirpath, _, names in os.walk(folder):
            for name in names:
                path = Path(dirpath, name)
                if path.is_symlink() or not path.is_file():
                    continue
                data = path.read_bytes()
                found += [f"{path}: {form!r}" for form in wanted if form in data]
    for i, text in enumerate(texts):
        data = text.encode("utf-8") if isinstance(text, str) else text
        found += [f"output {i}: {form!r}" for form in wanted if form in data]
    return found


@pytest.fixture(params=SECRETS, ids=["plain", "escapes", "vietnamese"])
def secret(request, monkeypatch):
    monkeypatch.setenv(ENV, request.param)
    return request.param


# --- the redaction pass itself ---------------------------------------------------------------

WRAPS = {
    "json": lambda v: json.dumps({"evalue": f"token={v}"}),
    "json-ascii": lambda v: json.dumps({"evalue": f"token={v}"}, ensure_ascii=True),
    "json-unicode": lambda v: json.dumps({"evalue": f"token={v}"}, ensure_ascii=False),
    "html-in-json": lambda v: json.dumps({"text/html": f"<li>{html.escape(v)}</li>"},
                                         ensure_ascii=False),
    "url-in-json": lambda v: json.dumps({"url": "?token=" + urllib.parse.quote_plus(v)}),
}


@pytest.mark.parametrize("wrap", WRAPS)
def test_redact_bytes_finds_the_secret_however_json_html_or_a_url_wrote_it(secret, wrap):
    from ntm_lib.redact import redact_bytes, redact_text

    data = WRAPS[wrap](secret)
    assert leaks(secret, texts=[redact_bytes(data.encode("utf-8"))]) == []
    assert leaks(secret, texts=[redact_text(data)]) == []
    assert REDACTED in redact_text(data) and json.loads(redact_text(data))


# --- the batch record -------------------------------------------------------------------------

PLACES = ["message", "evalue", "name", "reason", "rollup error", "option"]


def _record(secret: str, place: str) -> BatchRecord:
    def where(p: str) -> str:
        return f"cannot reach https://api.example.vn/?token={secret}" if p == place else "x"

    failed = Outcome(2023, "b", "failed", 1.0, code="90002", name=where("name"),
                     reason=where("reason"),
                     error={"message": where("message"), "cell": 4, "ename": "ConnectionError",
                            "evalue": where("evalue")})
    return BatchRecord("20230101T000000Z-dddddd", 2023, "2023-01-01T00:00:00+00:00",
                       options={"communes": [where("option")]}, outcomes=[failed],
                       rollups=[{"title": "province 10", "status": "failed",
                                 "error": {"message": where("rollup error")}}])


@pytest.mark.parametrize("place", PLACES)
def test_batch_record_files_hold_no_secret(tmp_path, secret, place):
    build = tmp_path / "build"
    paths = write_record(_record(secret, place), build)
    assert sorted(p.name for p in (build / "2023").rglob("*")) == sorted(
        ["batch.json", "batch.csv", "batches", "20230101T000000Z-dddddd.json",
         "20230101T000000Z-dddddd.csv"])  # no stray temp files
    assert leaks(secret, folders=[build]) == []
    assert REDACTED in paths["json"].read_text(encoding="utf-8")
    if place in ("message", "name", "reason"):  # the columns the CSV has
        assert REDACTED in paths["csv"].read_text(encoding="utf-8")


def test_summary_table_cuts_a_long_error_after_redacting(secret):
    long = "x" * 70 + f" https://api.example.vn/?token={secret} " + "y" * 50
    record = BatchRecord("b", 2023, "t", outcomes=[Outcome(2023, "b", "failed", error={
        "message": long, "cell": 4, "ename": "ConnectionError", "evalue": long})])
    table = summary_table(record, width=100)
    assert secret[:6] not in table  # not even the part left before the cut
    assert "ConnectionError" in table


# --- the index page and the roll-up -----------------------------------------------------------

def _failed_run(build: Path, name: str, message: str) -> None:
    run_dir = build / "archive" / "2023" / "b" / "20230101T000000Z-eeeeee"
    (run_dir / "data").mkdir(parents=True)
    (run_dir / "manifest.json").write_text(json.dumps({
        "run_id": run_dir.name, "status": "failed", "outputs": {},
        "commune": {"code": "90002", "name": name, "district_name": name},
        "error": {"message": message, "cell_index": 4}}), encoding="utf-8")


@pytest.mark.parametrize("place", ["manifest error", "manifest name", "record", "rollup title"])
def test_index_page_holds_no_secret(tmp_path, secret, place):
    build = tmp_path / "build"
    token = f"https://api.example.vn/?token={secret}"
    _failed_run(build, token if place == "manifest name" else "B",
                token if place == "manifest error" else "boom")
    record = {"communes": [{"slug": "b", "status": "failed", "name": "B",
                            "error": {"message": token if place == "record" else "boom"}}]
              if place == "record" else [],
              "rollups": [{"title": token if place == "rollup title" else "t", "status": "ok"}]}
    page = write_index(build, 2023, record)
    assert leaks(secret, texts=[page.read_bytes()]) == []
    assert REDACTED in page.read_text(encoding="utf-8")
    assert [p.name for p in page.parent.iterdir()] == ["index.html"]


def test_roll_up_sections_hold_no_secret(secret):
    row = RollupRow(slug="a", code="90001", name=f"Xã {secret}", district_code="901",
                    district_name=secret, run_id="r", criteria_met=13, set_size=19,
                    criteria_not_met_numbers=[], band="b1", recognition_at_risk=True,
                    band_key_criteria=[], advanced_met=None, advanced_set=None,
                    poverty_reduction_points=None, poverty_percent_of_plan=None,
                    links={"HTML": f"../{secret}/report.html"})
    ctx = RollupContext(2023, "province", "10", secret, [row],
                        [{"slug": "b", "name": "B", "error": f"token={secret}"}], [])
    labels = {"b1": secret}
    text = "".join([S.title(ctx), S.commune_table(ctx, labels, {}),
                    S.band_table(ctx, ["b1"], labels), S.at_risk(ctx, labels), S.missing(ctx)])
    assert leaks(secret, texts=[text]) == [] and REDACTED in text


def test_roll_up_notebook_and_page_are_redacted(tmp_path, secret):
    notebook = tmp_path / "province_summary.ipynb"
    notebook.write_text(json.dumps({"cells": [{"outputs": [{"text": f"token {secret}\n"}]}]},
                                   ensure_ascii=False), encoding="utf-8")
    _redact_notebook(notebook)
    page = tmp_path / "report.html"
    page.write_text(f'<a href="#" data-ntm-href="../r/report.html">{secret}</a>', encoding="utf-8")
    _activate_links(page)
    assert leaks(secret, folders=[tmp_path]) == []
    assert '<a href="../r/report.html">' in page.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] and not list(tmp_path.glob(".*"))


# --- parameters: refused, never echoed --------------------------------------------------------

def _params(tmp_path: Path, **changes) -> Path:
    data = yaml.safe_load((ROOT / "params" / "2023" / "nam-mon.yaml").read_text(encoding="utf-8"))
    data.update(changes)
    path = tmp_path / "nam-mon.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("in_env", [True, False], ids=["also-in-env", "only-in-file"])
def test_secret_written_in_a_params_file_is_refused_and_not_echoed(tmp_path, capsys, monkeypatch,
                                                                  in_env):
    value = "tok_in_yaml_5e4d3c2b1a"
    if not in_env:
        monkeypatch.delenv(ENV, raising=False)
    else:
        monkeypatch.setenv(ENV, value)
    params = _params(tmp_path, data_api_token=value)
    before = params.read_bytes()
    code = main(["run", "--commune", "02881", "--year", "2023", "--params", str(params),
                 "--build", str(tmp_path / "build")])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("error: ") and "data_api_token is secret" in err and ENV in err
    assert "nam-mon.yaml" in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err
    assert leaks(value, texts=[out, err]) == []
    assert not (tmp_path / "build").exists() and params.read_bytes() == before


@pytest.mark.parametrize("field, code, named", [
    ("header_style", 2, "header style"), ("criteria_set", 2, "criteria set"),
    ("report_date", 2, "report_date"), ("place", 2, "place"), ("signer_name", 2, "signer_name"),
])
def test_a_secret_in_a_bad_parameter_value_is_not_echoed(tmp_path, capsys, secret, field, code,
                                                         named):
    value = {"place": [secret], "signer_name": {"x": secret}}.get(field, secret)  # wrong types
    params = _params(tmp_path, **{field: value})
    result = main(["run", "--commune", "02881", "--year", "2023", "--params", str(params),
                   "--build", str(tmp_path / "build")])
    out, err = capsys.readouterr()
    assert result == code and err.startswith("error: ") and named in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    assert leaks(secret, texts=[out, err]) == []
    assert not (tmp_path / "build").exists()


# --- a failing consistency rule that spells the secret ----------------------------------------

#: Appended to validation_rules.csv: always fails, and its message is "zqK7-" followed by the
#: visits of the year, so the secret is made at run time and is in no input file.
PLANTED_RULE = ('planted-secret,sum(quarterly.visits),<,0,,,low,'
                '"Mã kiểm tra zqK7-{left}",hostile test: a failing rule spelling a secret,\n')


def _project_copy(home: Path) -> Path:
    for name in ("data", "params", "notebooks"):
        shutil.copytree(ROOT / name, home / name)
    rules = home / "data" / "reference" / "validation_rules.csv"
    assert not rules.is_symlink()
    rules.write_text(rules.read_text(encoding="utf-8") + PLANTED_RULE, encoding="utf-8")
    return home


def _rule_secret(home: Path) -> str:
    """The planted rule's token for Nậm Mòn 2023, as ``ntm validate`` prints it."""
    out = subprocess.run([NTM, "validate", "--year", "2023", "--commune", "02881"], cwd=home,
                         env={**os.environ, "NTM_HOME": str(home)}, capture_output=True,
                         text=True, encoding="utf-8", timeout=120).stdout
    token = out.split("Mã kiểm tra ", 1)[1].split()[0]
    assert token.startswith("zqK7-") and token[5:].isdigit(), out
    return token


def test_failing_rule_spelling_the_secret_is_redacted_by_validate(tmp_path, monkeypatch, capsys):
    home = _project_copy(tmp_path / "home")
    token = _rule_secret(home)
    assert token not in "".join(p.read_text(encoding="utf-8") for p in home.rglob("*.csv"))
    monkeypatch.setenv("NTM_HOME", str(home))
    monkeypatch.setenv(ENV, token)
    code = main(["validate", "--year", "2023", "--commune", "02881"])
    out, err = capsys.readouterr()
    assert code == 0 and f"Mã kiểm tra {REDACTED}" in out
    assert leaks(token, texts=[out, err]) == []


# --- end to end: ntm run and ntm batch --------------------------------------------------------

def _ntm(home: Path, *args: str, secret: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NTM_HOME": str(home), ENV: secret}
    return subprocess.run([NTM, *args], cwd=home, env=env, capture_output=True, timeout=900)


def _notebook(home: Path, name: str, source: str) -> Path:
    """The report notebook with one more cell right after its parameters
    (papermill's injected values come between the two)."""
    nb = json.loads((ROOT / "notebooks" / "commune_report.ipynb").read_text(encoding="utf-8"))
    at = next(i for i, c in enumerate(nb["cells"])
              if "parameters" in c.get("metadata", {}).get("tags", []))
    nb["cells"].insert(at + 1, {"cell_type": "code", "execution_count": None, "id": "hostile",
                                "metadata": {}, "outputs": [], "source": source})
    path = home / name
    path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    return path


PRINT = f"import os\nprint('token:', os.environ.get({ENV!r}, 'none'))"
RAISE = (f"import os, urllib.parse\ntoken = os.environ.get({ENV!r}, 'none')\n"
         "raise ConnectionError('cannot reach https://api.example.vn/v1/data?token=' + token"
         " + ' (GET /v1/data?token=' + urllib.parse.quote_plus(token) + ')')")


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


@pytest.mark.e2e
def test_ntm_run_leaks_the_secret_nowhere(tmp_path):
    home = _project_copy(tmp_path / "home")
    token = _rule_secret(home)
    # The secret itself: the rule's token plus characters every format escapes.
    secret = f'{token}"<&>\\é\'q'
    (home / "data" / "reference" / "validation_rules.csv").write_text(
        (home / "data" / "reference" / "validation_rules.csv").read_text(encoding="utf-8")
        .replace('"Mã kiểm tra zqK7-{left}"', '"Mã kiểm tra zqK7-{left}""<&>\\é\'q"'),
        encoding="utf-8")
    shown = _notebook(home, "print.ipynb", PRINT)
    failing = _notebook(home, "raise.ipynb", RAISE)
    ok = _ntm(home, "run", "--commune", "02881", "--year", "2023", "--notebook", str(shown),
              secret=secret)
    bad = _ntm(home, "run", "--commune", "02881", "--year", "2023", "--notebook", str(failing),
               secret=secret)
    assert ok.returncode == 0, ok.stderr.decode()
    assert bad.returncode == 1, bad.stderr.decode()
    outputs = [ok.stdout, ok.stderr, bad.stdout, bad.stderr]
    assert b"Traceback" not in b"".join(outputs)
    build = home / "build"
    assert leaks(secret, folders=[build], texts=outputs) == []
    latest = build / "2023" / "nam-mon"
    pdf = _pdf_text(latest / "data" / "report.pdf")
    assert secret not in pdf and token not in pdf and "secret redacted" in pdf  # the rule's note
    assert REDACTED in (latest / "data" / "report.html").read_text(encoding="utf-8")  # the note
    assert f"token: {REDACTED}" in (latest / "data" / "commune_report.ipynb").read_text(
        encoding="utf-8")  # the print, kept in the executed notebook
    # The failed run kept its notebook and manifest, with the secret replaced.
    failed = next(p for p in (build / "archive" / "2023" / "nam-mon").glob("2*")
                  if json.loads((p / "manifest.json").read_text(encoding="utf-8"))["status"]
                  == "failed")
    manifest = json.loads((failed / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["error"]["evalue"].count(REDACTED) == 2  # as it is, and percent-encoded
    assert REDACTED in manifest["error"]["message"]
    assert REDACTED in (failed / "data" / "commune_report.ipynb").read_text(encoding="utf-8")
    # Redaction came before bagging: both runs are intact bags.
    verify = _ntm(home, "verify", str(build / "2023"), secret=secret)
    assert verify.returncode == 0, verify.stdout.decode() + verify.stderr.decode()


@pytest.mark.e2e
def test_ntm_batch_leaks_the_secret_nowhere(tmp_path):
    home = tmp_path / "synthetic"
    made = subprocess.run([NTM, "synth", "--communes", "2", "--year", "2023", "--out", str(home),
                           "--seed", "5", "--province", "10", "--copy-real", "02881"],
                          capture_output=True, text=True, env={**os.environ, "NTM_HOME": str(ROOT)},
                          timeout=300)
    assert made.returncode == 0, made.stderr
    rules = home / "data" / "reference" / "validation_rules.csv"
    assert not rules.is_symlink()
    rules.write_text(rules.read_text(encoding="utf-8") + PLANTED_RULE.replace(
        '"Mã kiểm tra zqK7-{left}"', '"Mã kiểm tra zqK7-{left}""<&>\\é\'q"'), encoding="utf-8")
    out = subprocess.run([NTM, "validate", "--year", "2023", "--commune", "02881"], cwd=home,
                         env={**os.environ, "NTM_HOME": str(home)}, capture_output=True,
                         text=True, encoding="utf-8", timeout=120).stdout
    secret = out.split("Mã kiểm tra ", 1)[1].split("\n")[0]
    assert secret.startswith("zqK7-") and secret.endswith('"<&>\\é\'q'), out
    # 90001: the secret written in its params file; 90002: a cell raising with the secret in a
    # URL; every commune prints it; Nậm Mòn's report lists the failing rule.
    params = home / "params" / "2023"
    first = next(p for p in params.glob("*.yaml")
                 if yaml.safe_load(p.read_text(encoding="utf-8"))["commune"] == "90001")
    first.write_text(first.read_text(encoding="utf-8")
                     + f"data_api_token: {json.dumps(secret)}\n", encoding="utf-8")
    notebook = _notebook(home, "fault.ipynb",
                         PRINT + "\nif commune == '90002':\n    " + RAISE.replace("\n", "\n    "))
    run = _ntm(home, "batch", "--year", "2023", "--workers", "2", "--quiet",
               "--notebook", str(notebook), secret=secret)
    build = home / "build"
    record = read_record(build, 2023)
    again = _ntm(home, "batch", "--year", "2023", "--workers", "2", "--notebook", str(notebook),
                 secret=secret)  # with the progress bar: the same failures again
    assert run.returncode == 1 and again.returncode == 1, run.stderr.decode()
    outputs = [run.stdout, run.stderr, again.stdout, again.stderr]
    assert b"Traceback" not in b"".join(outputs)
    status = {c["code"]: c["status"] for c in record["communes"]}
    assert status == {"02881": "ran", "90001": "failed", "90002": "failed"}, status
    rows = {c["code"]: c for c in record["communes"]}
    assert "data_api_token is secret" in rows["90001"]["error"]["message"]
    assert REDACTED in rows["90002"]["error"]["evalue"]
    assert leaks(secret, folders=[build], texts=outputs) == []
    assert leaks(secret, folders=[home / "params"]) != []  # the planted params file, untouched
    pdf = _pdf_text(build / "2023" / "nam-mon" / "data" / "report.pdf")
    assert "secret redacted" in pdf and "zqK7" not in pdf
    index = (build / "2023" / "index.html").read_text(encoding="utf-8")
    assert REDACTED in index
    assert [r["status"] for r in record["rollups"]] == ["ran"], record["rollups"]
    rollup = next((build / "archive" / "2023" / "rollup-province-10").glob("2*/report.html"))
    assert REDACTED in rollup.read_text(encoding="utf-8")  # 90002's error, in the missing list
