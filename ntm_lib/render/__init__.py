"""Rendering room: executed notebook -> HTML document -> PDF.

- :func:`render_html` turns an executed report notebook into one standalone
  HTML5 file (nbconvert, template ``templates/ntm_report``): no code, no
  prompts, no JavaScript, stylesheet inlined, images embedded.
- :func:`render_pdf` draws that same HTML file as an A4 PDF (WeasyPrint) in
  the report serif (:mod:`ntm_lib.fonts`), refusing to fetch anything and
  failing on missing glyphs or fallback fonts.

The page layout follows Decree 30/2020/NĐ-CP, Annex I; the notebook writes
HTML fragments with the classes documented at the top of
``templates/ntm_report/report.css``. The two blocks with a fixed structure:

Header (``class="party"`` on the table for the Party/mass-association style,
where ``.motto-1`` holds ``<span class="ruled">ĐẢNG CỘNG SẢN VIỆT NAM</span>``
and ``.issuer-mark`` holds ``*``)::

    <table class="doc-header">
      <tr>
        <td class="issuer">
          <div class="issuer-parent">UBND HUYỆN BẮC HÀ</div>
          <div class="issuer-name">ỦY BAN NHÂN DÂN<br>XÃ NẬM MÒN</div>
          <div class="issuer-rule"></div>
        </td>
        <td class="motto">
          <div class="motto-1">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</div>
          <div class="motto-2"><span>Độc lập - Tự do - Hạnh phúc</span></div>
        </td>
      </tr>
      <tr>
        <td class="doc-number">Số: 125/BC-UBND</td>
        <td class="place-date">Nậm Mòn, ngày 05 tháng 12 năm 2023</td>
      </tr>
    </table>
    <p class="doc-title">BÁO CÁO</p>
    <p class="doc-subtitle">Kết quả xây dựng nông thôn mới năm 2023</p>

Signature::

    <table class="signature"><tr>
      <td class="recipients">
        <p class="recipients-title">Nơi nhận:</p>
        <ul><li>- VPĐP NTM tỉnh;</li><li>- Lưu: VT, VP.</li></ul>
      </td>
      <td class="signer">
        <div class="signer-capacity">TM. ỦY BAN NHÂN DÂN</div>
        <div class="signer-title">CHỦ TỊCH</div>
        <div class="signer-space"></div>
        <div class="signer-name">Nguyễn Văn A</div>
      </td>
    </tr></table>
"""
from ntm_lib.render.html import render_html
from ntm_lib.render.pdf import render_pdf

__all__ = ["render_html", "render_pdf"]
