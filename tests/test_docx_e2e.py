"""report.docx of the sample, read by a real client: LibreOffice (headless) turns it
into a PDF whose text holds every sentence of the HTML, page 1 without a page
number and page 2 with one; two runs give the same bytes; ``ntm verify`` names a
changed byte; ``--no-docx`` leaves it out. Slow (real runs): marked ``e2e``."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def ntm(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NTM_HOME": str(ROOT)}
    return subprocess.run([str(BIN / "ntm"), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, encoding="utf-8", timeout=600)


def _flat(text: str) -> str:
    """NFC, case-folded, without any white space (line breaks fall anywhere)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text)).casefold()


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    build = tmp_path_factory.mktemp("build")
    for _ in range(2):
        result = ntm("run", "--commune", "02881", "--year", "2023", "--build", str(build))
        assert result.returncode == 0, result.stderr
        assert "data/report.docx" in result.stdout
    runs = sorted(p for p in (build / "archive" / "2023" / "nam-mon").iterdir() if p.is_dir())
    return build, runs


@pytest.fixture(scope="module")
def office_pdf(two_runs, tmp_path_factory):
    if SOFFICE is None:
        pytest.fail("LibreOffice (soffice) is not installed: .ci/run installs libreoffice-writer")
    out = tmp_path_factory.mktemp("office")
    docx = two_runs[1][-1] / "data" / "report.docx"
    profile = (out / "profile").as_uri()  # a profile of its own: no clash with another soffice
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(out), str(docx)],
                   check=True, capture_output=True, timeout=300)
    pdf = out / "report.pdf"
    assert pdf.exists()
    return pdf


def _pdftotext(pdf: Path, *pages: int) -> str:
    args = ["pdftotext", "-enc", "UTF-8"]
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[-1])]
    return subprocess.run([*args, str(pdf), "-"], check=True, capture_output=True,
                          text=True, encoding="utf-8").stdout


def test_office_pdf_states_every_sentence_of_the_html(two_runs, office_pdf):
    html = (two_runs[1][-1] / "data" / "report.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(re.sub(r"<svg\b.*?</svg\s*>", "", html, flags=re.S), "html.parser")
    paragraphs = [e.get_text(" ") for e in soup.main.find_all(
        ["p", "li", "h2", "h3", "h4", "figcaption"]) if e.get_text(strip=True)]
    assert len(paragraphs) > 40
    raw = _pdftotext(office_pdf)
    text = _flat(raw)
    missing = [p for p in paragraphs if _flat(p) not in text]
    assert not missing, missing[:5]
    # Table cells wrap beside one another (pdftotext interleaves their lines):
    # every word of every cell, and each cell's own lines, are there.
    words = set(_flat(w) for w in raw.split())
    cells = [e.get_text(" ") for e in soup.main.find_all(["td", "th"])]
    assert len(cells) > 40
    absent = [w for c in cells for w in c.split() if _flat(w) not in words]
    assert not absent, absent[:5]
    # facts of the seed report, as the HTML states them
    for fact in ("Các tiêu chí đã đạt chuẩn: 13/19 tiêu chí", "Giảm 10 điểm phần trăm",
                 "Nơi nhận:", "Số ……-BC/HNDT", "Lào Cai, ngày …… tháng 12 năm 2023"):
        assert _flat(fact) in text, fact


def test_page_numbers_from_page_two(office_pdf):
    first = _pdftotext(office_pdf, 1).split()
    second = _pdftotext(office_pdf, 2).split()
    assert first[0] != "1" and not first[0].isdigit()
    assert second[0] == "2"
    info = subprocess.run(["pdfinfo", str(office_pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info)
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) >= 4


def test_office_pdf_draws_the_charts(office_pdf, tmp_path):
    """The appendix page (the last) holds two chart pictures: coloured pixels."""
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "40", "-png", "-l", "99", str(office_pdf),
                    str(tmp_path / "page")], check=True)
    last = sorted(tmp_path.glob("page-*.png"))[-1]
    image = Image.open(last).convert("RGB")
    coloured = sum(1 for r, g, b in getattr(image, "get_flattened_data", image.getdata)() if max(r, g, b) - min(r, g, b) > 80)
    assert coloured > 500


def test_two_runs_give_identical_docx_in_the_bag(two_runs):
    build, (first, second) = two_runs
    one, two = (run / "data" / "report.docx" for run in (first, second))
    assert one.read_bytes() == two.read_bytes()
    manifest = (second / "manifest-sha256.txt").read_text(encoding="utf-8")
    assert "data/report.docx" in manifest
    assert "notebooks/layouts/reference.docx" in manifest  # the Word styles: an input


def test_verify_names_a_changed_byte_of_the_docx(two_runs):
    build, (first, _) = two_runs
    docx = first / "data" / "report.docx"
    data = bytearray(docx.read_bytes())
    data[len(data) // 2] ^= 0x01
    docx.write_bytes(bytes(data))
    result = ntm("verify", str(first))
    assert result.returncode == 1
    assert "data/report.docx" in result.stdout + result.stderr


def test_no_docx_option(tmp_path):
    result = ntm("run", "--commune", "02881", "--year", "2023", "--build", str(tmp_path),
                 "--no-docx")
    assert result.returncode == 0, result.stderr
    data = tmp_path / "2023" / "nam-mon" / "data"
    assert (data / "report.pdf").exists() and not (data / "report.docx").exists()
