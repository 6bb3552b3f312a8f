"""The report's sections as HTML fragments, in the order of the seed report.

Each function takes a :class:`~ntm_lib.report.context.ReportContext` and
returns an ``IPython.display.HTML``-ready string. Every number and list is
taken from the context; the free text comes from the ``narrative``
parameter. CSS classes are those of the report template
(``ntm_lib/render/templates/ntm_report/report.css``).
"""
from __future__ import annotations

import re
from html import escape
from typing import Iterable

from ..text import (
    format_count_of,
    format_date,
    format_million_vnd,
    format_number,
    format_percent,
    format_quarter,
    format_place_date,
    format_points,
    join_vi,
)
from .context import ReportContext

NO_DATA = '<span class="no-data">không có số liệu</span>'

# Numbers of legal documents ("18/2022/QĐ-TTg", "256a-KH/HNDT", "07/2021/NĐ-CP"):
# kept on one line, as a citation broken at its hyphen misreads.
_DOC_NUMBER = re.compile(r"\b\d+[a-z]?(?:/\d{4})?(?:/|-)[A-ZĐ][A-ZĐa-z]*(?:[-/][A-ZĐ][A-ZĐa-z]*)+")


def _text(text: str) -> str:
    """Escaped text with document numbers wrapped in ``span.nowrap``."""
    out, last = [], 0
    for m in _DOC_NUMBER.finditer(text):
        out += [escape(text[last:m.start()]), f'<span class="nowrap">{escape(m.group())}</span>']
        last = m.end()
    out.append(escape(text[last:]))
    return "".join(out)


def _p(text: str, cls: str | None = None) -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{_text(text)}</p>"


def _paragraphs(ctx: ReportContext, texts: Iterable[str], dash: bool = False) -> str:
    return "".join(_p(("- " if dash else "") + ctx.text(t)) for t in texts)


def _criteria_items(ctx: ReportContext, numbers: Iterable[int], cset=None) -> list[str]:
    cset = cset or ctx.criteria_set
    return [f"Tiêu chí {n} ({cset.name_of(n)})" for n in numbers]


def _number_line(ctx: ReportContext) -> str:
    """"Số 12-BC/HNDT" (Party style) or "Số: 12/BC-UBND" (state style), by the
    header style; a draft without a number leaves a blank for it."""
    number = ctx.params["document_number"] or "……"
    return ctx.header_style.number_format.format(number=number, code=ctx.params["document_code"])


def header(ctx: ReportContext) -> str:
    """Issuing body, number line, motto and place-date, in the grid of Decree
    30/2020/NĐ-CP, Annex I, or the Party style, by the ``header_style``
    parameter (``data/reference/header_styles.csv``)."""
    style = ctx.header_style
    body = "".join(f'<div class="issuer-name">{escape(line)}</div>' for line in ctx.params["issuing_body"])
    mark = '<div class="issuer-mark">*</div>' if style.asterisk_under_body else '<div class="issuer-rule"></div>'
    if style.right_line2:
        motto = (f'<div class="motto-1">{escape(style.right_line1)}</div>'
                 f'<div class="motto-2"><span>{escape(style.right_line2)}</span></div>')
    else:
        motto = f'<div class="motto-1"><span class="ruled">{escape(style.right_line1)}</span></div>'
    day, month, year = ctx.report_date()
    place_date = format_place_date(ctx.params["place"], day, month, year)
    return (
        f'<table class="doc-header {escape(style.style_id)}">'
        f'<tr><td class="issuer">{body}{mark}</td><td class="motto">{motto}</td></tr>'
        f'<tr><td class="doc-number">{escape(_number_line(ctx))}</td>'
        f'<td class="place-date">{escape(place_date)}</td></tr>'
        "</table>"
    )


def title(ctx: ReportContext) -> str:
    """"BÁO CÁO" and the subject line naming commune, district and years."""
    c = ctx.commune
    where = f"xã {c.name}" + (f", {c.district_type_vi} {c.district_name}" if c.district_name else "")
    subject = (
        f"Kết quả giúp đỡ {where} thực hiện các chương trình mục tiêu quốc gia năm {ctx.year}; "
        f"phương hướng nhiệm vụ năm {ctx.year + 1}"
    )
    return f'<p class="doc-title">BÁO CÁO</p><p class="doc-subtitle">{escape(subject)}</p>'


def direction(ctx: ReportContext) -> str:
    """Direction work: the narrative, then the documents issued (from data)."""
    out = _paragraphs(ctx, ctx.params["narrative"]["direction"], dash=True)
    docs = ctx.facts.documents
    if len(docs):
        items = "".join(
            f"<li>{escape(r.kind_vi)} số {_text(r.number)} ngày {format_date(r.issued_on)}: "
            f"{_text(r.title_vi)}</li>"
            for r in docs.sort_values("issued_on").itertuples()
        )
        out += f'<ul class="documents">{items}</ul>'
    else:
        out += _p("Không có văn bản nào được ghi nhận trong năm.", "no-data")
    return out


def help_given(ctx: ReportContext) -> str:
    """Expert help (narrative) and material help (from ``support.csv``)."""
    out = '<p class="lead">- Giúp đỡ về chuyên môn:</p>'
    out += _paragraphs(ctx, ctx.params["narrative"]["expertise_help"])
    out += '<p class="lead">- Giúp đỡ về vật chất:</p>'
    support = ctx.facts.support
    if len(support):
        for r in support.itertuples():
            who = ""
            if r.recipient_count is not None and str(r.recipient_count) != "<NA>":
                who = f" cho {format_number(r.recipient_count)} {r.recipient_unit_vi}"
            amount = (f", tổng trị giá {format_million_vnd(r.amount_million_vnd)}"
                      if r.amount_million_vnd == r.amount_million_vnd else "")
            out += _p(f"+ {r.description_vi}{who}{amount}.")
    else:
        out += _p("Không có hỗ trợ vật chất được ghi nhận.", "no-data")
    return out


def results(ctx: ReportContext) -> str:
    """Results: programme work (narrative), criteria met and not met with
    names, changes since last year, the advanced set, poverty against plan."""
    out = _paragraphs(ctx, ctx.params["narrative"]["programme_results"])
    cur = ctx.current
    if cur is None:
        return out + _p("Không có số liệu về tình trạng các tiêu chí trong năm.", "no-data")
    size = cur.set_size
    out += '<p class="lead">* Kết quả cụ thể về xây dựng nông thôn mới:</p>'
    out += _p(f"- Các tiêu chí đã đạt chuẩn: {format_count_of(cur.met_count, size)} tiêu chí"
              + (f": {'; '.join(_criteria_items(ctx, cur.met))}." if cur.met else "."))
    out += _p(f"- Các tiêu chí chưa đạt chuẩn: {format_count_of(cur.not_met_count, size)} tiêu chí"
              + (f": {'; '.join(_criteria_items(ctx, cur.not_met))}." if cur.not_met else "."))
    if cur.no_data:
        out += _p(f"- Chưa có số liệu: {'; '.join(_criteria_items(ctx, cur.no_data))}.", "no-data")
    out += changes(ctx)
    out += advanced(ctx)
    out += poverty(ctx)
    return out


def changes(ctx: ReportContext) -> str:
    """Criteria gained and lost since the end of the previous year."""
    if ctx.changes is None:
        return _p(f"- So với năm {ctx.year - 1}: không có số liệu để so sánh.", "no-data")
    ch, prev = ctx.changes, ctx.previous
    text = (f"- So với cuối năm {ctx.year - 1} ({format_count_of(prev.met_count, prev.set_size)} "
            f"tiêu chí đạt): ")
    parts = []
    if ch.gained:
        parts.append(f"đạt lại {len(ch.gained)} tiêu chí: {'; '.join(_criteria_items(ctx, ch.gained))}")
    if ch.lost:
        parts.append(f"không duy trì được {len(ch.lost)} tiêu chí: "
                     f"{'; '.join(_criteria_items(ctx, ch.lost))}")
    if not parts:
        parts.append("không có tiêu chí nào thay đổi")
    return _p(text + "; ".join(parts) + ".")


def advanced(ctx: ReportContext) -> str:
    """Position against the advanced (nâng cao) set, if one is assessed."""
    if ctx.advanced_set is None:
        return ""
    aset = ctx.advanced_set
    head = f"- Đánh giá theo {aset.name_vi} ({aset.legal_source} ngày {format_date(aset.issued_on)}): "
    if ctx.advanced is None:
        return _p(head + "không có số liệu.", "no-data")
    adv = ctx.advanced
    as_of = ctx.facts.criteria_status
    as_of = as_of[(as_of["set_id"] == aset.set_id) & (as_of["year"] == ctx.year)]["as_of"].dropna()
    when = f"đến ngày {format_date(max(as_of))}, " if len(as_of) else ""
    items = "; ".join(f"tiêu chí số {n} - {aset.name_of(n)}" for n in adv.met)
    return _p(f"{head}{when}xã đạt {format_count_of(adv.met_count, adv.set_size)} tiêu chí"
              + (f", đó là: {items}." if items else "."))


def poverty(ctx: ReportContext) -> str:
    """Poverty reduction in percentage points and as a percent of plan."""
    pov = ctx.poverty
    if pov is None or pov.reduction_points is None:
        return _p("- Giảm nghèo: không có số liệu.", "no-data")
    text = f"- Giảm nghèo: tỷ lệ hộ nghèo giảm {format_points(pov.reduction_points)}"
    if pov.rate_start_percent is not None and pov.rate_end_percent is not None:
        text += (f" (từ {format_percent(pov.rate_start_percent)} xuống "
                 f"{format_percent(pov.rate_end_percent)})")
    if pov.plan_reduction_points is not None:
        text += f", so với kế hoạch giảm {format_points(pov.plan_reduction_points)}"
        if pov.percent_of_plan is not None:
            text += f", bằng {format_percent(pov.percent_of_plan)} kế hoạch"
    else:
        text += "; không có số liệu kế hoạch"
    if pov.standard:
        text += f" (chuẩn nghèo theo {pov.standard})"
    return _p(text + ".")


def plans(ctx: ReportContext) -> str:
    """Directions for next year: narrative items plus the criteria still to reach."""
    out = _paragraphs(ctx, ctx.params["narrative"]["plans"], dash=True)
    if ctx.current and ctx.current.not_met:
        out += _p("- Hướng dẫn, giúp đỡ xã hoàn thành các tiêu chí chưa đạt: "
                  + "; ".join(_criteria_items(ctx, ctx.current.not_met)) + ".")
    return out


def band_statement(ctx: ReportContext) -> str:
    """The commune's band under Decision 18/2022, computed from the statuses."""
    band = ctx.band
    if band is None:
        return _p("Không có số liệu để xác định nhóm xã theo tỷ lệ tiêu chí không đạt.", "no-data")
    text = (f"Xã {ctx.commune.name} có {format_count_of(band.not_met_count, band.set_size)} tiêu chí "
            f"chưa đạt chuẩn ({format_percent(band.percent_not_met)}), thuộc nhóm xã có "
            f"{band.label_vi} số tiêu chí không đáp ứng mức đạt chuẩn theo {band.legal_source}")
    if band.key_criteria_not_met:
        names = join_vi([name for _, name in band.key_criteria_not_met])
        text += f", trong đó có tiêu chí {names}"
    if band.recognition_withdrawn:
        text += "; theo quy định này, xã thuộc diện bị xem xét thu hồi quyết định công nhận đạt chuẩn nông thôn mới"
    return f'<p class="band-statement">{_text(text)}.</p>'


def difficulties(ctx: ReportContext) -> str:
    """Difficulties (narrative) and the computed band statement."""
    return _paragraphs(ctx, ctx.params["narrative"]["difficulties"]) + band_statement(ctx)


def recommendations(ctx: ReportContext) -> str:
    """Recommendations by level: province, district, commune."""
    rec = ctx.params["narrative"]["recommendations"]
    levels = [("province", "Cấp tỉnh"), ("district", "Cấp huyện"), ("commune", "Cấp xã")]
    out = ""
    for i, (key, label) in enumerate((lv for lv in levels if rec[lv[0]]), start=1):
        dash = len(rec[key]) > 1
        out += f'<h3 class="subsection">{i}. {label}:</h3>' + _paragraphs(ctx, rec[key], dash=dash)
    return out


def closing_and_signature(ctx: ReportContext) -> str:
    """Closing sentence, "Nơi nhận" list and signature block."""
    recipients = [ctx.text(r) for r in ctx.params["recipients"]]
    items = "".join(
        f"<li>- {escape(r)}{'.' if i == len(recipients) - 1 else ';'}</li>"
        for i, r in enumerate(recipients)
    )
    p = ctx.params
    return (
        '<div class="closing-block">'
        + _p(ctx.text(p["narrative"]["closing"]), "closing")
        + '<table class="signature"><tr>'
        f'<td class="recipients"><p class="recipients-title">Nơi nhận:</p><ul>{items}</ul></td>'
        f'<td class="signer"><div class="signer-capacity">{escape(p["signer_capacity"])}</div>'
        f'<div class="signer-title">{escape(p["signer_title"])}</div>'
        f'<div class="signer-space"></div>'
        f'<div class="signer-name">{escape(p["signer_name"])}</div></td>'
        "</tr></table></div>"
    )


def appendix(ctx: ReportContext) -> str:
    """Appendix table: one row per quarter and the year totals, the poverty
    column, and a data-quality note listing the warnings of the consistency
    rules (``ctx.inconsistencies``)."""
    q = ctx.facts.quarterly.sort_values("quarter")
    t = ctx.totals
    pov = ctx.poverty

    def num(v, money=False):
        if v is None or v != v:
            return NO_DATA
        return escape(format_number(v))

    def met(m, r):
        if m is None or r is None or m != m or r != r:
            return NO_DATA
        return format_count_of(int(m), int(r))

    pov_cell = NO_DATA
    if pov is not None and pov.reduction_points is not None:
        pov_cell = f"Giảm {escape(format_points(pov.reduction_points))}"
        if pov.percent_of_plan is not None:
            pov_cell += f" (bằng {escape(format_percent(pov.percent_of_plan))} kế hoạch năm {ctx.year})"
    head = (
        "<thead><tr><th>TT</th><th>Thời gian báo cáo</th><th>Số văn bản ban hành chỉ đạo, hướng dẫn</th>"
        "<th>Số lượt trực tiếp về xã làm việc</th><th>Ủng hộ, vận động, huy động giúp đỡ xã (triệu đồng)</th>"
        "<th>Số tiêu chí hoàn thành/tiêu chí đăng ký</th><th>Giảm tỷ lệ hộ nghèo so với kế hoạch năm</th>"
        "</tr></thead>"
    )
    body = (
        f'<tr class="total"><td></td><td>Tổng năm {ctx.year}</td><td>{num(t["documents_issued"])}</td>'
        f'<td>{num(t["visits"])}</td><td>{num(t["support_million_vnd"])}</td>'
        f'<td>{met(t["criteria_met"], t["criteria_registered"])}</td>'
        f'<td rowspan="{len(q) + 1}">{pov_cell}</td></tr>'
    )
    for i, r in enumerate(q.itertuples(), start=1):
        body += (
            f'<tr><td>{i}</td><td class="nowrap">Quý {format_quarter(int(r.quarter))}/{ctx.year}</td>'
            f"<td>{num(r.documents_issued)}</td><td>{num(r.visits)}</td>"
            f"<td>{num(r.support_million_vnd)}</td><td>{met(r.criteria_met, r.criteria_registered)}</td></tr>"
        )
    widths = (5, 15, 13, 13, 15, 14, 25)  # percent of the text width
    cols = "".join(f'<col style="width:{w}%">' for w in widths)
    table = f'<table class="data appendix-table"><colgroup>{cols}</colgroup>{head}<tbody>{body}</tbody></table>'
    notes = ""
    if ctx.inconsistencies:
        items = "".join(f"<li>{escape(getattr(p, 'message_vi', None) or p.message)}</li>"
                        for p in ctx.inconsistencies)
        notes = f'<div class="note data-quality"><strong>Chất lượng số liệu:</strong><ul>{items}</ul></div>'
    p = ctx.params
    reference = re.sub(r"^Số:?\s*", "", _number_line(ctx))
    day, month, year = ctx.report_date()
    date = f"{day:02d}/{month:02d}/{year}" if day else f"……/{month:02d}/{year}"
    title_ = (
        '<div class="appendix-title">Phụ lục: Kết quả giúp đỡ xã xây dựng nông thôn mới và giảm nghèo '
        f"bền vững năm {ctx.year}</div>"
        f'<div class="appendix-subtitle">(Kèm theo Báo cáo số {escape(reference)}, '
        f"ngày {date} của {escape(p['issuing_body_short'])})</div>"
    )
    return f'<section class="appendix">{title_}{table}{notes}</section>'


def heading(ctx: ReportContext, text: str, level: int = 2) -> str:
    """A section heading whose text names computed facts ("năm {next_year}")."""
    cls = "section" if level == 2 else "subsection"
    return f'<h{level} class="{cls}">{escape(ctx.text(text))}</h{level}>'


def chart_figure(svg: str, caption: str) -> str:
    """An SVG chart (from :mod:`ntm_lib.charts`) with its caption."""
    start = svg.find("<svg")
    return (f'<figure class="chart">{svg[start:]}'
            f"<figcaption>{escape(caption)}</figcaption></figure>")
