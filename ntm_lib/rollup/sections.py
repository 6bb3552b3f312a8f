"""The roll-up report's parts as HTML fragments (classes of the report CSS).

Links to the commune reports are written as ``<a href="#" data-ntm-href="...">``:
``render_html`` refuses links to local files in a report (a commune report
must stand alone), so :func:`ntm_lib.rollup.build.build_rollup` turns them
into real relative links in the roll-up's HTML after that check, and leaves
them inert in the PDF.

Every text inserted (names, band labels, errors, links) goes through
:func:`escape`: secrets redacted (:mod:`ntm_lib.redact`), then HTML-escaped,
so neither a secret nor markup from a commune's record reaches the page.
"""
from __future__ import annotations

import html
from typing import Any

from ..redact import redact_text
from ..text import format_number, format_points
from .collect import RollupContext, RollupRow

NO_DATA = '<span class="no-data">không có số liệu</span>'
LINK_ATTR = "data-ntm-href"


def escape(value: Any) -> str:
    """``value`` as HTML text or attribute value: redacted, then escaped
    (quotes too); ``None`` is empty."""
    return html.escape(redact_text("" if value is None else str(value)))


def _link(label: str, target: str | None) -> str:
    if not target:
        return ""
    return f'<a href="#" {LINK_ATTR}="{escape(target)}">{escape(label)}</a>'


def _count(value: int | None, size: int | None) -> str:
    """``13/19`` (HTML text); a recorded value that is not a whole number is
    shown as it is, escaped."""
    if value is None:
        return NO_DATA
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:02d}/{escape(size)}" if size else str(value)
    return escape(value)


def title(ctx: RollupContext) -> str:
    where = f"{'tỉnh' if ctx.scope == 'province' else 'huyện'} {ctx.name or ctx.code}"
    return ('<p class="doc-title">BÁO CÁO TỔNG HỢP</p>'
            f'<p class="doc-subtitle">Kết quả thực hiện Bộ tiêu chí xã nông thôn mới năm '
            f"{ctx.year} của các xã {escape(where)}</p>"
            f'<p class="note">Tổng hợp từ số liệu đã ghi trong báo cáo của {len(ctx.rows)} xã '
            "(sổ tính đã lưu trữ), không tính lại từ dữ liệu gốc.</p>")


def commune_table(ctx: RollupContext, band_labels: dict[str, str],
                  advanced_sizes: dict[str, int]) -> str:
    """One row per commune: criteria met, band, advanced criteria, poverty change, links."""
    def row(n: int, r: RollupRow) -> str:
        band = escape(band_labels.get(r.band, r.band)) if r.band else NO_DATA
        poverty = NO_DATA
        if r.poverty_reduction_points is not None:
            poverty = f"giảm {escape(format_points(r.poverty_reduction_points))}"
            if r.poverty_percent_of_plan is not None:
                poverty += f" ({escape(format_number(r.poverty_percent_of_plan))}% KH)"
        links = " ".join(_link(label, r.links.get(label)) for label in
                         ("HTML", "PDF", "notebook", "manifest"))
        warn = " (lần chạy mới nhất lỗi)" if r.newer_run_failed else ""
        return (f"<tr><td class=\"center\">{n}</td><td>{escape(r.name or '')}{warn}</td>"
                f"<td>{escape(r.district_name or '')}</td>"
                f"<td class=\"center\">{_count(r.criteria_met, r.set_size)}</td>"
                f"<td>{band}</td>"
                f"<td class=\"center\">{_count(r.advanced_met, advanced_sizes.get(r.advanced_set or ''))}</td>"
                f"<td>{poverty}</td><td>{links}</td></tr>")

    head = ("<thead><tr><th>TT</th><th>Xã</th><th>Huyện</th><th>Tiêu chí đạt</th>"
            "<th>Nhóm theo QĐ 18/2022</th><th>Tiêu chí nâng cao</th>"
            "<th>Tỷ lệ hộ nghèo</th><th>Báo cáo</th></tr></thead>")
    body = "".join(row(n, r) for n, r in enumerate(ctx.rows, start=1))
    return f'<table class="data rollup">{head}<tbody>{body}</tbody></table>'


def band_table(ctx: RollupContext, band_order: list[str], band_labels: dict[str, str]) -> str:
    counts = ctx.band_counts()
    rows = "".join(f"<tr><td>{escape(band_labels.get(b, b))}</td>"
                   f"<td class=\"num\">{counts.get(b, 0)}</td></tr>" for b in band_order)
    if counts.get(None):
        rows += f"<tr><td>{NO_DATA}</td><td class=\"num\">{counts[None]}</td></tr>"
    rows += f'<tr class="total"><td>Tổng số xã</td><td class="num">{len(ctx.rows)}</td></tr>'
    return ('<table class="data"><thead><tr><th>Nhóm tiêu chí chưa đạt</th><th>Số xã</th>'
            f"</tr></thead><tbody>{rows}</tbody></table>")


def at_risk(ctx: RollupContext, band_labels: dict[str, str]) -> str:
    rows = ctx.at_risk()
    if not rows:
        return "<p>Không có xã nào thuộc nhóm bị thu hồi công nhận đạt chuẩn.</p>"
    items = "".join(
        f"<li>Xã {escape(r.name or '')} ({escape(r.district_name or '')}): "
        f"{_count(r.criteria_met, r.set_size)} tiêu chí đạt, nhóm "
        f"{escape(band_labels.get(r.band, r.band or ''))}"
        + (f"; chưa đạt tiêu chí {escape(', '.join(str(n) for n in r.band_key_criteria))}"
           if r.band_key_criteria else "") + "</li>" for r in rows)
    return (f"<p>{len(rows)} xã thuộc nhóm bị thu hồi quyết định công nhận đạt chuẩn nông thôn "
            "mới nếu đã được công nhận (Quyết định 18/2022/QĐ-TTg):</p>"
            f'<ul class="criteria-list">{items}</ul>')


def missing(ctx: RollupContext) -> str:
    if not ctx.missing:
        return ""
    items = "".join(f"<li>{escape(m.get('name') or m['slug'])}: {escape(str(m.get('error')))}</li>"
                    for m in ctx.missing)
    return (f"<p>{len(ctx.missing)} xã chưa có báo cáo (lần chạy bị lỗi), không có trong "
            f"bảng tổng hợp:</p><ul>{items}</ul>")
