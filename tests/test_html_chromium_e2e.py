"""report.html in a real browser: headless Chromium opens the sample's HTML
with the network off, prints it and takes a screenshot. The printed text
holds the report's facts (the same sentences as the PDF), in the report's
own serif (embedded in the HTML: nothing of the system's is needed), and
the page is drawn (not blank, not an error page)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
NTM = str(Path(sys.executable).with_name("ntm"))
CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-extensions", "--hide-scrollbars",
            "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]
#: Sentences of the sample report (seed facts), as the PDF states them.
FACTS = (
    "Các tiêu chí đã đạt chuẩn: 13/19 tiêu chí",
    "Các tiêu chí chưa đạt chuẩn: 06/19 tiêu chí",
    "Giảm nghèo: tỷ lệ hộ nghèo giảm 10 điểm phần trăm",
    "Biểu đồ 1. Tình trạng các tiêu chí nông thôn mới cuối năm 2022 và 2023",
    "Phụ lục: Kết quả giúp đỡ xã xây dựng nông thôn mới và giảm nghèo bền vững năm 2023",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    build = tmp_path_factory.mktemp("chromium") / "build"
    env = {**os.environ, "NTM_HOME": str(ROOT)}
    done = subprocess.run([NTM, "run", "--commune", "02881", "--year", "2023", "--no-docx",
                           "--build", str(build)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return build / "2023" / "nam-mon" / "data" / "report.html"


def chromium(tmp: Path, *args: str) -> None:
    assert shutil.which("chromium"), "needs Debian's chromium (.ci/run installs it)"
    subprocess.run([*CHROMIUM, f"--user-data-dir={tmp / 'profile'}", *args], check=True,
                   capture_output=True, timeout=180)


def words(text: str) -> str:
    return " ".join(text.split())


def test_chromium_prints_the_reports_sentences_in_its_serif(report, tmp_path):
    out = tmp_path / "chromium.pdf"
    chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={out}", report.as_uri())
    text = words(subprocess.run(["pdftotext", "-enc", "UTF-8", str(out), "-"], check=True,
                                capture_output=True, text=True, encoding="utf-8").stdout)
    for fact in FACTS:
        assert fact in text, fact
    ours = words(subprocess.run(["pdftotext", "-enc", "UTF-8", str(report.with_name("report.pdf")),
                                 "-"], check=True, capture_output=True, text=True,
                                encoding="utf-8").stdout)
    for fact in FACTS:
        assert fact in ours, fact
    fonts = subprocess.run(["pdffonts", str(out)], check=True, capture_output=True,
                           text=True).stdout.splitlines()[2:]
    names = {line.split()[0].split("+")[-1] for line in fonts if line.strip()}
    assert names and all("Serif" in n for n in names), names  # never a fallback sans


def test_chromium_draws_the_page(report, tmp_path):
    from PIL import Image

    shot = tmp_path / "page.png"
    chromium(tmp_path, "--window-size=900,1300", f"--screenshot={shot}", report.as_uri())
    image = Image.open(shot).convert("L")
    assert image.size == (900, 1300)
    dark = image.point(lambda value: 255 if value < 128 else 0).histogram()[255]
    # The sample's first screen holds about 5.5% dark pixels (text on a white
    # page): a blank page or a one-line error page holds well under 2%.
    assert 0.02 < dark / (900 * 1300) < 0.3
