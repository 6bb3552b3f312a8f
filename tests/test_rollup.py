"""Roll-up rows come from the figures recorded in archived notebooks."""
from __future__ import annotations

import json
import os

from ntm_lib.record import MEDIA_TYPE, make_payload
from ntm_lib.rollup.build import _activate_links
from ntm_lib.rollup.collect import collect_rollup, planned_inputs


def _run(build, slug, code, run_id, figures, status="ok", province="10"):
    run_dir = build / "archive" / "2023" / slug / run_id
    (run_dir / "data").mkdir(parents=True)
    outputs = [{"output_type": "display_data", "metadata": {},
                "data": {MEDIA_TYPE: make_payload(k, v)}} for k, v in figures.items()]
    nb = {"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": outputs,
                     "execution_count": 1}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (run_dir / "data" / "commune_report.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    manifest = {"run_id": run_id, "status": status, "outputs": {"commune_report.ipynb": "x"},
                "commune": {"code": code, "name": slug.title(), "province_code": province,
                            "province_name": "Lào Cai", "district_code": "085",
                            "district_name": "Bắc Hà"},
                "error": {"message": "cell 5 raised ValueError"} if status == "failed" else None}
    (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    if status == "ok":
        link = build / "2023" / slug
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():
            link.unlink()
        os.symlink(os.path.relpath(run_dir, link.parent), link)
    return run_dir


def test_rows_are_the_recorded_figures(tmp_path):
    build = tmp_path / "build"
    a = _run(build, "nam-mon", "02881", "20230101T000000Z-000001",
             {"criteria_met": 13, "set_size": 19, "band": "30-to-50", "recognition_at_risk": True,
              "band_key_criteria": [10, 17], "advanced_met": 3,
              "advanced_set": "ntm-advanced-2021-2025-lao-cai",
              "poverty_reduction_points": 10, "poverty_percent_of_plan": 100})
    _run(build, "ban-a", "90001", "20230101T000000Z-000002",
         {"criteria_met": 19, "set_size": 19, "band": "under-30", "recognition_at_risk": False})
    _run(build, "ban-b", "90002", "20230101T000000Z-000003", {}, status="failed")
    _run(build, "other", "90003", "20230101T000000Z-000004", {"criteria_met": 5}, province="99")
    base = build / "archive" / "2023" / "rollup-province-10" / "20230102T000000Z-000009"
    ctx = collect_rollup(build, 2023, province="10", link_base=base)
    assert [r.code for r in ctx.rows] == ["90001", "02881"]  # by district, then name
    nam_mon = ctx.rows[1]
    assert (nam_mon.criteria_met, nam_mon.band, nam_mon.advanced_met) == (13, "30-to-50", 3)
    assert nam_mon.poverty_reduction_points == 10 and nam_mon.band_key_criteria == [10, 17]
    assert "HTML" not in nam_mon.links  # this run has no HTML
    assert nam_mon.links["notebook"] == os.path.relpath(a / "data" / "commune_report.ipynb", base)
    assert [r.code for r in ctx.at_risk()] == ["02881"]
    assert ctx.band_counts() == {"under-30": 1, "30-to-50": 1}
    assert ctx.distribution() == {13: 1, 19: 1}
    assert [m["code"] for m in ctx.missing] == ["90002"]
    paths, missing = planned_inputs(build, 2023, province="10")
    assert sorted(i["path"] for i in ctx.inputs) == paths and missing == ["ban-b"]


def test_links_are_activated_after_the_self_containment_check(tmp_path):
    page = tmp_path / "report.html"
    page.write_text('<a data-ntm-href="../x/report.html" href="#">HTML</a>'
                    '<a href="#" data-ntm-href="../x/report.pdf">PDF</a><a href="#top">top</a>',
                    encoding="utf-8")
    _activate_links(page)
    assert page.read_text(encoding="utf-8") == (
        '<a href="../x/report.html">HTML</a><a href="../x/report.pdf">PDF</a>'
        '<a href="#top">top</a>')
