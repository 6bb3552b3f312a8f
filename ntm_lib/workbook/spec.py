"""The layout of the data workbook, as a declarative table.

One sheet per kind of fact; each column or field says its key (the CSV
column or parameter it fills), its Vietnamese heading, other headings
accepted when reading, the kind of cell (:mod:`ntm_lib.workbook.cells`), its
unit and a line of help. :mod:`~ntm_lib.workbook.template` writes the
workbook from this table, :mod:`~ntm_lib.workbook.read` reads it back, and
the "Hướng dẫn" sheet is generated from it: one place to change a heading.

Two shapes of sheet: a *table* (a heading row, then one row per fact) and a
*form* (rows of label and value, the label in the first column; a
``repeat`` field may have several rows, one per line).
"""
from __future__ import annotations

from dataclasses import dataclass

#: Version of the layout, shown in the "Hướng dẫn" sheet.
LAYOUT_VERSION = "1"


@dataclass(frozen=True)
class Field:
    """A column of a table sheet or a row of a form sheet.

    ``key`` is the CSV column (table) or parameter (form); ``kind`` one of
    :data:`ntm_lib.workbook.cells.KINDS`; ``required`` whether a row (or the
    form) must give it; ``repeat`` (forms) whether several rows may give it,
    in order; ``width`` the column width in the template.
    """

    key: str
    heading: str
    kind: str
    unit: str = ""
    help: str = ""
    example: str = ""
    required: bool = False
    repeat: bool = False
    aliases: tuple[str, ...] = ()
    width: int = 16


@dataclass(frozen=True)
class Sheet:
    """One sheet: ``key`` (internal), ``name`` (the tab's name), ``title``
    (first row), ``shape`` ("table" or "form"), ``fields`` and ``holds``
    (what it is for, in the messages and the guide)."""

    key: str
    name: str
    title: str
    shape: str
    fields: tuple[Field, ...]
    holds: str
    aliases: tuple[str, ...] = ()

    def field(self, key: str) -> Field:
        return next(f for f in self.fields if f.key == key)


SOURCE = Field("source", "Nguồn số liệu", "text", help="Số liệu lấy từ đâu (báo cáo, mục, bảng)",
               example="Báo cáo số 12-BC/HNDT, phụ lục", aliases=("Nguồn",), width=30)

#: Words of a criterion status. Value None: no data (not assessed).
STATUS_WORDS = {"Đạt": "met", "Không đạt": "not_met", "Chưa đạt": "not_met",
                "Không có số liệu": None}
#: The choices of the drop-down list, in order.
STATUS_CHOICES = ("Đạt", "Không đạt", "Không có số liệu")
#: Marks people use in checklists: they do not say which status, so are refused.
STATUS_MARKS = ("x", "v", "✓", "✔", "✗", "1", "0", "có", "không", "yes", "no", "ok", "-")

#: Labels of the quarterly sheet's rows; "year" is the row of the year totals.
QUARTER_LABELS = {1: "Quý I", 2: "Quý II", 3: "Quý III", 4: "Quý IV", "year": "Cả năm"}
YEAR_ROW_WORDS = ("Cả năm", "Tổng", "Tổng cộng", "Tổng năm", "Năm")

#: Sections of the narrative (parameter path) and their label in the sheet.
NARRATIVE_SECTIONS = {
    "direction": "Công tác chỉ đạo",
    "expertise_help": "Nội dung giúp đỡ",
    "programme_results": "Kết quả thực hiện các chương trình",
    "plans": "Phương hướng, nhiệm vụ năm sau",
    "difficulties": "Khó khăn, vướng mắc",
    "recommendations.province": "Kiến nghị với tỉnh",
    "recommendations.district": "Kiến nghị với huyện",
    "recommendations.commune": "Kiến nghị với xã",
    "closing": "Lời kết",
}
#: Support kinds (support.csv ``kind``) and their Vietnamese label.
SUPPORT_KINDS = {"material": "Vật chất (tiền, hàng)", "other": "Khác"}

_STATUS_HELP = "Chọn trong danh sách: " + ", ".join(STATUS_CHOICES)

GENERAL = Sheet("general", "Thông tin chung", "THÔNG TIN CHUNG CỦA BÁO CÁO", "form", (
    Field("commune", "Mã xã", "code", help="Mã đơn vị hành chính cấp xã, 5 chữ số, giữ số 0 đầu",
          example="02881", required=True),
    Field("commune_name", "Tên xã", "text", help="Để đối chiếu với mã xã (không bắt buộc)",
          example="Nậm Mòn"),
    Field("year", "Năm báo cáo", "year", unit="năm", example="2023", required=True),
    Field("criteria_set", "Bộ tiêu chí", "set_id", required=True,
          help="Mã bộ tiêu chí đánh giá (data/reference/criteria_sets.csv)",
          example="ntm-commune-2021-2025"),
    Field("advanced_criteria_set", "Bộ tiêu chí nâng cao", "set_id",
          help="Mã bộ tiêu chí nâng cao; để trống nếu không đánh giá",
          example="ntm-advanced-2021-2025-lao-cai"),
    Field("issuing_body", "Cơ quan ban hành", "text", required=True, repeat=True,
          help="Mỗi dòng một dòng tên cơ quan ở góc trái trên", example="HỘI NÔNG DÂN TỈNH LÀO CAI"),
    Field("issuing_body_short", "Tên cơ quan trong câu văn", "text",
          help="Tên cơ quan khi nhắc đến trong lời văn", example="Hội Nông dân tỉnh Lào Cai"),
    Field("header_style", "Kiểu tiêu đề", "style_id", required=True,
          help="state: cơ quan nhà nước (Nghị định 30/2020/NĐ-CP); party: Đảng, đoàn thể",
          example="party"),
    Field("place", "Địa danh", "text", required=True, example="Lào Cai"),
    Field("report_date", "Ngày báo cáo", "report_date", required=True,
          help="ngày/tháng/năm; hoặc tháng/năm nếu chưa có ngày ký", example="05/12/2023"),
    Field("document_number", "Số văn bản", "text", help="Để trống nếu chưa có số",
          example="125"),
    Field("document_code", "Ký hiệu văn bản", "text", required=True, example="BC/HNDT"),
    Field("signer_capacity", "Thẩm quyền ký", "text", example="LÃNH ĐẠO ĐƠN VỊ GIÚP ĐỠ XÃ"),
    Field("signer_title", "Chức vụ người ký", "text", required=True,
          example="Phó Chủ tịch HND tỉnh"),
    Field("signer_name", "Họ và tên người ký", "text", required=True, example="Nguyễn Văn A"),
    Field("recipients", "Nơi nhận", "text", required=True, repeat=True,
          help="Mỗi dòng một nơi nhận, không có gạch đầu dòng; dòng cuối là nơi lưu",
          example="Lưu: VT, Ban KT-XH"),
), "thông tin chung của báo cáo (xã, năm, bộ tiêu chí, cơ quan, người ký, nơi nhận)",
    aliases=("Thông tin",))


def _criteria_fields() -> tuple[Field, ...]:
    return (
        Field("criterion", "Số TT", "criterion", required=True,
              help="Số thứ tự của tiêu chí trong bộ", example="8", aliases=("TT", "Tiêu chí số"),
              width=8),
        Field("name", "Tên tiêu chí", "text", help="Để đối chiếu với số tiêu chí",
              example="Thông tin và Truyền thông", width=44),
        Field("status", "Tình trạng năm báo cáo", "status", help=_STATUS_HELP, example="Đạt",
              aliases=("Tình trạng năm", "Tình trạng"), width=18),
        Field("source", "Nguồn (năm báo cáo)", "text", help=SOURCE.help, width=30,
              aliases=("Nguồn năm", "Nguồn")),
        Field("prev_status", "Tình trạng cuối năm trước", "status", width=18,
              help=_STATUS_HELP + "; để trống cả cột nếu không sửa số liệu năm trước",
              aliases=("Tình trạng cuối năm",)),
        Field("prev_source", "Nguồn (năm trước)", "text", help=SOURCE.help, width=30,
              aliases=("Nguồn cuối năm",)),
    )


#: Label of the row under the headings that holds the date of each assessment.
AS_OF_LABEL = "Tính đến ngày"

CRITERIA = Sheet("criteria", "Tiêu chí", "TÌNH TRẠNG CÁC TIÊU CHÍ", "table", _criteria_fields(),
                 "tình trạng đạt / không đạt của từng tiêu chí của bộ tiêu chí",
                 aliases=("Tiêu chí NTM",))
ADVANCED = Sheet("advanced", "Tiêu chí nâng cao", "TÌNH TRẠNG CÁC TIÊU CHÍ NÂNG CAO", "table",
                 _criteria_fields(), "tình trạng các tiêu chí của bộ tiêu chí nâng cao",
                 aliases=("Nâng cao", "Tiêu chí NTM nâng cao"))

_COUNT_HELP = "Số nguyên, không âm"
QUARTERLY = Sheet("quarterly", "Theo quý", "KẾT QUẢ GIÚP ĐỠ XÃ THEO QUÝ", "table", (
    Field("quarter", "Thời gian", "quarter", required=True, example="Quý I",
          help="Quý I đến Quý IV; dòng Cả năm là số cả năm báo cáo ghi (không tự cộng)",
          aliases=("Quý", "Thời gian báo cáo"), width=14),
    Field("documents_issued", "Số văn bản ban hành chỉ đạo, hướng dẫn", "int", unit="văn bản",
          help=_COUNT_HELP, example="2", required=True, aliases=("Số văn bản ban hành",)),
    Field("visits", "Số lượt trực tiếp về xã làm việc", "int", unit="lượt", help=_COUNT_HELP,
          example="3", required=True, aliases=("Số lượt về xã",)),
    Field("support_million_vnd", "Ủng hộ, vận động, huy động giúp đỡ xã", "money",
          unit="triệu đồng", help="Số tiền, đơn vị triệu đồng (10 triệu đồng ghi 10)",
          example="10", required=True, aliases=("Ủng hộ, vận động, huy động",)),
    Field("criteria_met", "Số tiêu chí hoàn thành", "int", unit="tiêu chí", help=_COUNT_HELP,
          example="15", required=True),
    Field("criteria_registered", "Số tiêu chí đăng ký", "int", unit="tiêu chí",
          help=_COUNT_HELP, example="19", required=True),
    SOURCE,
), "số liệu theo quý (phụ lục của báo cáo) và số cả năm báo cáo ghi", aliases=("Quý", "Phụ lục"))

DOCUMENTS = Sheet("documents", "Văn bản", "VĂN BẢN BAN HÀNH GIÚP ĐỠ XÃ", "table", (
    Field("number", "Số, ký hiệu", "text", required=True, example="256a-KH/HNDT",
          aliases=("Số văn bản", "Số hiệu"), width=18),
    Field("kind_vi", "Loại văn bản", "text", required=True, example="Kế hoạch", width=14),
    Field("issued_on", "Ngày ban hành", "date", required=True, example="09/02/2023",
          help="ngày/tháng/năm, trong năm báo cáo", width=14),
    Field("title_vi", "Trích yếu nội dung", "text", required=True, width=60,
          example="Kế hoạch giúp đỡ xây dựng nông thôn mới ...", aliases=("Trích yếu",)),
    SOURCE,
), "các văn bản ban hành được nêu trong báo cáo", aliases=("Văn bản ban hành",))

SUPPORT = Sheet("support", "Hỗ trợ", "HỖ TRỢ VẬT CHẤT", "table", (
    Field("kind", "Loại hỗ trợ", "support_kind", required=True,
          help="Chọn trong danh sách: " + ", ".join(SUPPORT_KINDS.values()),
          example=SUPPORT_KINDS["material"], width=20),
    Field("description_vi", "Nội dung hỗ trợ", "text", required=True, width=44,
          example="Tặng quà Tết Nguyên đán cho hộ nghèo"),
    Field("recipient_count", "Số đối tượng nhận", "int", unit="đối tượng", example="20"),
    Field("recipient_unit_vi", "Đối tượng nhận", "text", example="hộ nghèo"),
    Field("amount_million_vnd", "Số tiền", "money", unit="triệu đồng", example="10",
          help="Đơn vị triệu đồng (10 triệu đồng ghi 10)", aliases=("Giá trị",)),
    SOURCE,
), "hỗ trợ vật chất được nêu trong báo cáo", aliases=("Hỗ trợ vật chất",))

POVERTY = Sheet("poverty", "Giảm nghèo", "GIẢM NGHÈO SO VỚI KẾ HOẠCH", "form", (
    Field("poverty_standard", "Chuẩn nghèo áp dụng", "text", required=True,
          example="Nghị định 07/2021/NĐ-CP"),
    Field("rate_start_percent", "Tỷ lệ nghèo đa chiều đầu năm", "percent", unit="%",
          help="Phần trăm số hộ; để trống nếu báo cáo không ghi", example="31,58"),
    Field("rate_end_percent", "Tỷ lệ nghèo đa chiều cuối năm", "percent", unit="%",
          example="21,58"),
    Field("reduction_points", "Mức giảm trong năm", "points", unit="điểm phần trăm",
          help="Hiệu của hai tỷ lệ (báo cáo thường ghi 'giảm 10%')", example="10"),
    Field("plan_reduction_points", "Kế hoạch giảm trong năm", "points", unit="điểm phần trăm",
          example="10"),
    Field("stated_percent_of_plan", "Báo cáo ghi đạt so với kế hoạch", "percent_of_plan",
          unit="% kế hoạch", help="Như báo cáo ghi, để đối chiếu", example="100"),
    SOURCE,
), "tỷ lệ nghèo đa chiều và mức giảm so với kế hoạch")

NARRATIVE = Sheet("narrative", "Lời văn", "LỜI VĂN CỦA BÁO CÁO", "table", (
    Field("section", "Mục", "section", required=True,
          help="Chọn trong danh sách: " + ", ".join(NARRATIVE_SECTIONS.values()), width=32),
    Field("text", "Đoạn văn", "paragraph", required=True, width=100,
          help="Mỗi dòng một đoạn; có thể ghi số liệu tính sẵn như {{ commune.name }}, "
               "{{ year }}, {{ next_year }}, {{ criteria.not_met_count }} (README: Editing the report)",
          example="Tiếp tục duy trì và nâng cao chất lượng các tiêu chí đã đạt.",
          aliases=("Nội dung",)),
), "lời văn: chỉ đạo, kết quả, phương hướng, khó khăn, kiến nghị, lời kết",
    aliases=("Nội dung", "Lời văn báo cáo"))

GUIDE_NAME = "Hướng dẫn"
#: Every sheet read, in workbook order (the guide comes last).
SHEETS = (GENERAL, CRITERIA, ADVANCED, QUARTERLY, DOCUMENTS, SUPPORT, POVERTY, NARRATIVE)
#: Headings of the two columns of a form sheet.
FORM_LABEL, FORM_VALUE, FORM_HELP = "Thông tin", "Giá trị", "Giải thích"
