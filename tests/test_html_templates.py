"""The product's own HTML (roll-up parts, ``build/<year>/index.html``) comes
from autoescaping Jinja2 templates (:mod:`ntm_lib.templating`), never from
markup put together in Python. Fast: no kernel."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest
from markupsafe import escape

from ntm_lib import templating
from ntm_lib.batch.index import write_index
from ntm_lib.redact import REDACTED
from ntm_lib.rollup import sections as S
from ntm_lib.rollup.build import _activate_links
from ntm_lib.rollup.collect import RollupContext, RollupRow

ROOT = Path(__file__).resolve().parent.parent
MODULES = ["ntm_lib/rollup/sections.py", "ntm_lib/batch/index.py"]

HOSTILE = [
    "<script>alert(1)</script>",
    '"><script>alert(1)</script>',
    "Xã \"Nậm\" & Mòn",
    "a & b <b>c</b>",
    "' onmouseover='alert(1)",
    "&amp; &lt;script&gt; (already escaped)",
    "</td></tr></table><script>x</script>",
    "{{ 7*7 }} {% if 1 %}x{% endif %}",
]


class _Text(HTMLParser):
    """The text a browser shows, the tags and the attributes of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text, self.tags, self.attrs = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(v for _, v in attrs if v is not None)

    def handle_data(self, data):
        self.text.append(data)


def parsed(html: str) -> _Text:
    page = _Text()
    page.feed(html)
    page.close()
    return page


def _row(name: str, **kw) -> RollupRow:
    values = dict(slug="a", code="90001", name=name, district_code="901", district_name=name,
                  run_id="r", criteria_met=13, set_size=19, criteria_not_met_numbers=[1],
                  band="b1", recognition_at_risk=True, band_key_criteria=[3, 5],
                  advanced_met=2, advanced_set="adv", poverty_reduction_points=1.5,
                  poverty_percent_of_plan=102.25,
                  links={"HTML": "../a/report.html", "manifest": "../a/manifest.json"})
    values.update(kw)
    return RollupRow(**values)


def _parts(name: str, label: str) -> list[str]:
    ctx = RollupContext(2023, "province", "10", name, [_row(name)],
                        [{"slug": "b", "name": name, "error": name}], [])
    labels = {"b1": label}
    return [S.title(ctx), S.commune_table(ctx, labels, {"adv": 9}),
            S.band_table(ctx, ["b1"], labels), S.at_risk(ctx, labels), S.missing(ctx)]


# --- hostile names and band labels are shown as text -------------------------------------------

@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("where", ["name", "band label"])
def test_roll_up_parts_show_markup_as_text(value, where):
    name, label = (value, "Nhóm 1") if where == "name" else ("Nậm Mòn", value)
    parts = _parts(name, label)
    for part in parts:
        assert "<script" not in part and "<b>" not in part, part
        assert "</td></tr></table><" not in part
    shown = {"name": [0, 1, 3, 4], "band label": [1, 2, 3]}[where]
    for i in shown:
        assert str(escape(value)) in parts[i], (i, parts[i])
        assert value in "".join(parsed(parts[i]).text), i  # shown as typed
    table = parsed(parts[1])
    assert table.tags.count("tr") == 2 and table.tags.count("td") == 8
    assert "script" not in table.tags and "b" not in table.tags


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("where", ["manifest name", "record name", "district", "error",
                                   "rollup title"])
def test_index_shows_markup_as_text(tmp_path, value, where):
    build = tmp_path / "build"
    pick = lambda w, default: value if where == w else default  # noqa: E731
    _run(build, "a", pick("manifest name", ""), district=pick("district", "Bắc Hà"))
    _run(build, "b", "B", status="failed",
         error={"message": pick("error", "boom"), "cell_index": 2})
    record = {"communes": [{"slug": "a", "name": pick("record name", "A"), "status": "ran"},
                           {"slug": "b", "status": "failed",
                            "error": {"message": pick("error", "boom"), "cell": 2}}],
              "rollups": [{"title": pick("rollup title", "Tỉnh"), "status": "ran",
                           "links": {"HTML": "archive/x/report.html"}}]}
    page = write_index(build, 2023, record).read_text(encoding="utf-8")
    assert "<script" not in page and "<b>" not in page
    assert str(escape(value)) in page
    shown = parsed(page)
    assert value in "".join(shown.text)
    assert "script" not in shown.tags and shown.tags.count("tr") == 3


def test_a_hostile_link_target_stays_one_attribute():
    target = '"><script>x</script><a href="'
    ctx = RollupContext(2023, "province", "10", "T", [_row("A", links={"HTML": target})], [], [])
    html = S.commune_table(ctx, {"b1": "Nhóm 1"}, {})
    page = parsed(html)
    assert "script" not in page.tags and page.tags.count("a") == 1 and target in page.attrs


# --- markup lives in templates ----------------------------------------------------------------

@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("tag", ["<td", "<tr", "<table", "<th", "<li", "<ul", "<div", "<span",
                                 "<p>", "<p ", "<h1", "<html"])
def test_no_markup_in_python(module, tag):
    source = (ROOT / module).read_text(encoding="utf-8")
    assert tag not in source


@pytest.mark.parametrize("module", MODULES)
def test_modules_use_the_shared_environment(module):
    source = (ROOT / module).read_text(encoding="utf-8")
    assert "from ..templating import render, text" in source
    for banned in ("html.escape", "import html", "jinja2", "Markup("):
        assert banned not in source, banned


def test_the_environment_is_strict_and_autoescapes():
    env = templating.environment()
    assert env is templating.environment()
    assert env.autoescape is True and env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        templating.render("rollup/title.html.j2", year="2023", where="x")
    assert "&lt;i&gt;" in env.from_string("{{ v }}").render(v="<i>")


@pytest.mark.parametrize("name", ["rollup/title.html.j2", "rollup/commune_table.html.j2",
                                  "rollup/band_table.html.j2", "rollup/at_risk.html.j2",
                                  "rollup/missing.html.j2", "rollup/macros.html.j2",
                                  "batch/index.html.j2"])
def test_templates_ship_with_the_package(name):
    prefix, file = name.split("/")
    assert (templating.FOLDERS[prefix] / file).is_file()
    assert templating.environment().get_template(name)
    assert '"*.j2"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


# --- same output as before: classes, text, links -----------------------------------------------

def test_commune_table_cells_classes_and_links(tmp_path):
    rows = [_row("Nậm Mòn"),
            _row("B", slug="b", criteria_met=None, band=None, advanced_met=None,
                 poverty_reduction_points=None, newer_run_failed=True, links={})]
    ctx = RollupContext(2023, "province", "10", "Lào Cai", rows, [], [])
    html = S.commune_table(ctx, {"b1": "Nhóm 1"}, {"adv": 9})
    assert '<table class="data rollup">' in html
    assert '<td class="center">13/19</td>' in html and '<td class="center">02/9</td>' in html
    assert "<td>giảm 1,5 điểm phần trăm (102,25% KH)</td>" in html
    assert "<td>B (lần chạy mới nhất lỗi)</td>" in html
    assert html.count('<span class="no-data">không có số liệu</span>') == 4
    assert ('<a href="#" data-ntm-href="../a/report.html">HTML</a> '
            '<a href="#" data-ntm-href="../a/manifest.json">manifest</a>') in html
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    _activate_links(page)
    assert '<a href="../a/report.html">HTML</a>' in page.read_text(encoding="utf-8")


def test_title_band_table_at_risk_and_missing_text():
    rows = [_row("Nậm Mòn"), _row("C", slug="c", band=None, recognition_at_risk=False)]
    ctx = RollupContext(2023, "district", "901", "Bắc Hà", rows,
                        [{"slug": "d", "name": None, "error": "cell 3 raised"}], [])
    text = lambda html: re.sub(r"\s+", " ", " ".join(parsed(html).text)).strip()  # noqa: E731
    assert text(S.title(ctx)) == (
        "BÁO CÁO TỔNG HỢP Kết quả thực hiện Bộ tiêu chí xã nông thôn mới năm 2023 của các xã "
        "huyện Bắc Hà Tổng hợp từ số liệu đã ghi trong báo cáo của 2 xã (sổ tính đã lưu trữ), "
        "không tính lại từ dữ liệu gốc.")
    band = S.band_table(ctx, ["b1", "b2"], {"b1": "Nhóm 1", "b2": "Nhóm 2"})
    assert "<tr><td>Nhóm 2</td><td class=\"num\">0</td></tr>" in band
    assert '<tr class="total"><td>Tổng số xã</td><td class="num">2</td></tr>' in band
    assert text(band).endswith("Nhóm 1 1 Nhóm 2 0 không có số liệu 1 Tổng số xã 2")
    assert "<li>Xã Nậm Mòn (Nậm Mòn): 13/19 tiêu chí đạt, nhóm Nhóm 1; chưa đạt tiêu chí 3, 5</li>" \
        in S.at_risk(ctx, {"b1": "Nhóm 1"})
    assert '<ul class="criteria-list">' in S.at_risk(ctx, {"b1": "Nhóm 1"})
    assert "<li>d: cell 3 raised</li>" in S.missing(ctx)
    empty = RollupContext(2023, "province", "10", "", [], [], [])
    assert S.missing(empty) == ""
    assert text(S.at_risk(empty, {})) == \
        "Không có xã nào thuộc nhóm bị thu hồi công nhận đạt chuẩn."


def test_secret_in_band_label_and_name_is_redacted(monkeypatch):
    secret = 'p<ss&"word-123'
    monkeypatch.setenv("NTM_SECRET_TEST_TEMPLATES", secret)
    parts = _parts(f"Xã {secret}", f"Nhóm {secret}")
    for part in parts:
        assert secret not in part and str(escape(secret)) not in part, part
    assert all(REDACTED in part for part in parts[:4])


def test_index_keeps_its_classes_and_batch_links(tmp_path):
    build = tmp_path / "build"
    _run(build, "a", "A", code="90001")
    _run(build, "b", "B", code="02881", status="failed", error={"message": "x", "cell_index": 4})
    record = {"counts": {"ran": 1, "failed": 1, "skipped": 0}, "ended_utc": "2023-01-01",
              "communes": [{"slug": "b", "status": "failed", "error": {"message": "x", "cell": 4}},
                           {"slug": "c", "status": "not run", "name": "C", "code": "90003"}]}
    page = write_index(build, 2023, record).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>\n") and page.endswith("</html>\n")
    assert "<title>Báo cáo năm 2023</title>" in page and "<h1>Báo cáo năm 2023: 3 xã</h1>" in page
    assert "1 ran, 1 failed 2023-01-01" in page and '<a href="batch.csv">batch.csv</a>' in page
    assert '<td class="synthetic">90001</td>' in page and "<td>02881</td>" in page
    assert '<td class="failed">failed<div class="error">cell 4: x</div>' \
           '<div class="error">failed run: <a href=' in page
    assert '<td class="not-run">not run</td>' in page
    assert "roll-up" not in page  # no roll-ups, no heading


def _run(build: Path, slug: str, name: str, status="ok", error=None, code="90001",
         district="Bắc Hà", run_id="20230101T000000Z-aaaaaa") -> Path:
    run_dir = build / "archive" / "2023" / slug / run_id
    (run_dir / "data").mkdir(parents=True)
    (run_dir / "data" / "report.html").write_text("<html></html>", encoding="utf-8")
    (run_dir / "data" / "commune_report.ipynb").write_text("{}", encoding="utf-8")
    manifest = {"run_id": run_id, "status": status,
                "outputs": {"report.html": "x", "commune_report.ipynb": "x"},
                "commune": {"code": code, "name": name, "district_name": district},
                "error": error}
    (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    if status == "ok":
        link = build / "2023" / slug
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path("..") / "archive" / "2023" / slug / run_id)
    return run_dir
