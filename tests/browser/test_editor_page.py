"""The editor's page in a real headless Chromium (Debian's chromium + chromium-driver, driven by
selenium): load it from the real server, submit a fixture article, read the brief from the DOM.
Screenshots go to reports/. Run with ``make test-browser`` (it installs the browser)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc
from tests.conftest import REPO, RunningServer, make_settings

if not os.environ.get("NEWSBRIEF_BROWSER_TEST"):
    pytest.skip("browser test: run `make test-browser`", allow_module_level=True)

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.system

FIXTURES = REPO / "tests" / "fixtures"
REPORTS = REPO / "reports"
CHROMIUM = os.environ.get("NEWSBRIEF_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("NEWSBRIEF_CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT_S = 60


@pytest.fixture(scope="module")
def running() -> Iterator[RunningServer]:
    with RunningServer(make_settings(http_port=-1)) as server:
        yield server


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(path):
            pytest.fail(f"{path} not found: `make test-browser` installs chromium-driver")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1400",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def _brief_over_grpc(server: RunningServer, request: pb.SummarizeRequest) -> pb.SummarizeResponse:
    with grpc.insecure_channel(server.target) as channel:
        return pb_grpc.SummarizerServiceStub(channel).Summarize(request)


def _submit_and_wait(driver: WebDriver) -> None:
    driver.find_element(By.ID, "submit").click()
    WebDriverWait(driver, WAIT_S).until(
        lambda d: (
            d.find_element(By.ID, "result").is_displayed()
            or d.find_element(By.ID, "error").is_displayed()
        )
    )


def _screenshot(driver: WebDriver, name: str) -> Path:
    REPORTS.mkdir(exist_ok=True)
    path = REPORTS / name
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
    return path


def test_paste_an_article_and_read_the_brief(running: RunningServer, browser: WebDriver) -> None:
    article = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")
    browser.get(f"{running.http_url}/")
    assert browser.title == "newsbrief"
    # Pasting: the textarea gets the whole text at once, as a paste does.
    browser.execute_script("document.getElementById('article').value = arguments[0];", article)
    browser.find_element(By.CSS_SELECTOR, "#length option[value='SUMMARY_LENGTH_SHORT']").click()
    _submit_and_wait(browser)
    assert not browser.find_element(By.ID, "error").is_displayed()

    expected = _brief_over_grpc(
        running, pb.SummarizeRequest(text=article, length=pb.SUMMARY_LENGTH_SHORT)
    )
    assert browser.find_element(By.ID, "headline").text == expected.brief.headline
    assert browser.find_element(By.ID, "summary").text == expected.brief.summary
    points = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#keypoints li")]
    assert points == list(expected.brief.key_points)
    language = browser.find_element(By.ID, "language").text
    assert language.startswith("en (confidence ")
    assert browser.find_element(By.ID, "method").text.startswith("extractive")
    assert browser.find_element(By.ID, "faithfulness").text.startswith("passed")
    assert "summarizer: extractive" in browser.find_element(By.ID, "models").text
    assert "ms total" in browser.find_element(By.ID, "timings").text
    _screenshot(browser, "editor-page.png")


def test_an_html_file_is_read_and_briefed(running: RunningServer, browser: WebDriver) -> None:
    page = FIXTURES / "en_page.html"
    browser.get(f"{running.http_url}/")
    browser.find_element(By.ID, "file").send_keys(str(page))
    WebDriverWait(browser, WAIT_S).until(
        lambda d: d.find_element(By.ID, "article").get_property("value")
    )
    assert browser.find_element(By.ID, "kind").get_property("value") == "html"
    _submit_and_wait(browser)
    expected = _brief_over_grpc(running, pb.SummarizeRequest(html=page.read_text(encoding="utf-8")))
    assert browser.find_element(By.ID, "headline").text == expected.brief.headline


def test_errors_are_shown_in_plain_words(running: RunningServer, browser: WebDriver) -> None:
    browser.get(f"{running.http_url}/")
    browser.execute_script("document.getElementById('article').value = '   ';")
    _submit_and_wait(browser)
    error = WebDriverWait(browser, WAIT_S).until(ec.visibility_of_element_located((By.ID, "error")))
    assert "Please check the form" in error.text
    assert "Article: must not be empty" in error.text
    assert not browser.find_element(By.ID, "result").is_displayed()

    # Asking for a translation the server cannot make says what to install.
    browser.execute_script(
        "document.getElementById('article').value = arguments[0];",
        (FIXTURES / "en_article.txt").read_text(encoding="utf-8"),
    )
    browser.find_element(By.CSS_SELECTOR, "#targets input[value='ko']").click()
    _submit_and_wait(browser)
    error = browser.find_element(By.ID, "error")
    assert error.is_displayed() and "This server cannot do that yet" in error.text
    assert error.text.count("models download") == 1  # said once
    _screenshot(browser, "editor-page-error.png")
