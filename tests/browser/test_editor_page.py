"""The editor's page in a real headless Chromium (Debian's chromium + chromium-driver, driven by
selenium): load it from the real server, submit a fixture article, read the brief from the DOM;
submit several articles as a background job and follow it to the end.
Screenshots go to reports/. Run with ``make test-browser`` (it installs the browser)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from newsbrief.service.domain import Article
from newsbrief.service.models.factory import build_summarizer, build_translator
from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc
from tests.conftest import REPO, RunningServer, make_settings
from tests.fakes import HookedPipeline

if not os.environ.get("NEWSBRIEF_BROWSER_TEST"):
    pytest.skip("browser test: run `make test-browser`", allow_module_level=True)

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
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


#: articles with this in their text take HELD_S longer to brief, so a job of them is still
#: running when the page cancels it, however fast the briefs of this machine are
HELD = "Held story"
HELD_S = 0.5


class _HoldingPipeline(HookedPipeline):
    async def before_brief(self, article: Article, deadline: float | None) -> None:
        if HELD in (article.text or ""):
            await self.wait(HELD_S)


@pytest.fixture(scope="module")
def running() -> Iterator[RunningServer]:
    # jobs on (SQLite in the server's own temporary state_dir), one article at a time
    settings = make_settings(http_port=-1, jobs={"poll_s": 0.2, "article_concurrency": 1})
    # the models as the server builds them itself (a page that asks for a translation this
    # server cannot make is told what to install)
    pipeline = _HoldingPipeline(
        settings, translator=build_translator(settings), summarizer=build_summarizer(settings)
    )
    with RunningServer(settings, pipeline=pipeline) as server:
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
    # (the page disables the choice on a server without a translator: a page loaded before the
    # translator went away still sends it)
    browser.execute_script(
        "const box = document.querySelector(\"#targets input[value='ko']\");"
        "box.disabled = false; box.checked = true;"
    )
    _submit_and_wait(browser)
    error = browser.find_element(By.ID, "error")
    assert error.is_displayed() and "This server cannot do that yet" in error.text
    assert error.text.count("models download") == 1  # said once
    _screenshot(browser, "editor-page-error.png")


def test_a_line_of_the_brief_highlights_its_source_in_the_article(
    running: RunningServer, browser: WebDriver
) -> None:
    article = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")
    browser.get(f"{running.http_url}/")
    browser.execute_script("document.getElementById('article').value = arguments[0];", article)
    _submit_and_wait(browser)
    expected = _brief_over_grpc(
        running, pb.SummarizeRequest(text=article, include_article_text=True)
    )
    text = expected.article_text
    assert browser.find_element(By.ID, "articletext").text.strip() == text.strip()
    assert not browser.find_elements(By.CSS_SELECTOR, "#articletext mark")

    # hovering a key point marks its source sentence in the article beside the brief
    point = browser.find_elements(By.CSS_SELECTOR, "#keypoints li")[0]
    # (scrolled to first: a pointer moved to a point below the window hovers nothing)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", point)
    ActionChains(browser).move_to_element(point).perform()
    marks = WebDriverWait(browser, WAIT_S).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#articletext mark")
    )
    source = expected.brief.key_point_lines[0].sources[0]
    assert [m.text for m in marks] == [text[source.start : source.end]]
    _screenshot(browser, "editor-page-source.png")

    # focusing a summary sentence (keyboard) marks its own source
    line = browser.find_elements(By.CSS_SELECTOR, "#summary .line")[-1]
    browser.execute_script("arguments[0].focus();", line)
    span = expected.brief.summary_lines[-1].sources[0]
    WebDriverWait(browser, WAIT_S).until(
        lambda d: (
            [m.text for m in d.find_elements(By.CSS_SELECTOR, "#articletext mark")]
            == [text[span.start : span.end]]
        )
    )
    assert line.text == expected.brief.summary_lines[-1].text


def test_translation_choices_are_disabled_with_the_reason(
    running: RunningServer, browser: WebDriver
) -> None:
    browser.get(f"{running.http_url}/")
    boxes = browser.find_elements(By.CSS_SELECTOR, "#targets input")
    WebDriverWait(browser, WAIT_S).until(lambda d: all(not b.is_enabled() for b in boxes))
    note = browser.find_element(By.ID, "targets-note")
    assert note.is_displayed()
    assert "translation is not available" in note.text
    assert "m2m100" in note.text  # how to get a translator
    korean = browser.find_element(By.CSS_SELECTOR, "#targets input[value='ko']")
    korean.click()  # a disabled box cannot be ticked
    assert not korean.is_selected()
    label = korean.find_element(By.XPATH, "..")
    assert "translation is not available" in (label.get_attribute("title") or "")
    _screenshot(browser, "editor-page-no-translator.png")


def test_the_copy_button_copies_the_brief(running: RunningServer, browser: WebDriver) -> None:
    article = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")
    browser.get(f"{running.http_url}/")
    browser.execute_script("document.getElementById('article').value = arguments[0];", article)
    _submit_and_wait(browser)
    # what the button puts on the clipboard: headline, summary and key points as plain text
    browser.execute_script(
        "window.__copied = null;"
        "navigator.clipboard.writeText = (t) => { window.__copied = t; return Promise.resolve(); };"
    )
    browser.find_element(By.ID, "copy").click()
    WebDriverWait(browser, WAIT_S).until(
        lambda d: d.find_element(By.ID, "copied").text == "Copied."
    )
    copied = browser.execute_script("return window.__copied;")
    headline = browser.find_element(By.ID, "headline").text
    summary = browser.find_element(By.ID, "summary").text
    points = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#keypoints li")]
    assert copied == "\n".join([headline, "", summary, "", *(f"- {p}" for p in points)])


# ---- several articles as a job ----------------------------------------------------------------

# Every state an article of the job shows, in the order shown (a MutationObserver: the page
# may pass through a state between two reads of the test).
WATCH_STATES = """
window.__states = [];
new MutationObserver(() => {
  for (const s of document.querySelectorAll('#jobarticles .state')) {
    const seen = s.closest('li').dataset.index + ':' + s.textContent;
    if (!window.__states.includes(seen)) window.__states.push(seen);
  }
}).observe(document.getElementById('jobarticles'), {childList: true, subtree: true});
"""
COUNT_POLLS = (
    "return performance.getEntriesByType('resource')"
    ".filter((e) => e.name.endsWith('/newsbrief.v1.JobService/GetJob')).length;"
)


def _job_state(driver: WebDriver) -> str:
    return str(driver.find_element(By.ID, "jobstate").text).lower()


def test_a_batch_is_submitted_as_a_job_and_followed_to_its_briefs(
    running: RunningServer, browser: WebDriver
) -> None:
    files = [FIXTURES / "en_article.txt", FIXTURES / "en_page.html"]
    browser.get(f"{running.http_url}/")
    submit = browser.find_element(By.ID, "submitjob")
    assert submit.is_enabled() and not browser.find_element(By.ID, "jobs-note").is_displayed()
    browser.find_element(By.ID, "batchfiles").send_keys("\n".join(str(f) for f in files))
    browser.find_element(By.CSS_SELECTOR, "#length option[value='SUMMARY_LENGTH_SHORT']").click()
    browser.execute_script(WATCH_STATES)
    submit.click()
    WebDriverWait(browser, WAIT_S).until(lambda d: _job_state(d) == "succeeded")
    assert not browser.find_element(By.ID, "error").is_displayed()
    assert browser.find_element(By.ID, "jobcounts").text == "2 of 2 done"
    assert not browser.find_element(By.ID, "canceljob").is_enabled()

    # each article went queued -> (running ->) done, and the page polled GetJob to see it
    states = browser.execute_script("return window.__states;")
    for i in ("0", "1"):
        mine = [s.split(":", 1)[1] for s in states if s.startswith(i + ":")]
        assert mine[0] == "queued" and mine[-1] == "done", states
        assert set(mine) <= {"queued", "running", "done"}, states
    polls = browser.execute_script(COUNT_POLLS)
    assert polls >= 1

    # each article's brief is the one Summarize makes of it
    items = browser.find_elements(By.CSS_SELECTOR, "#jobarticles > li")
    assert [i.find_element(By.CSS_SELECTOR, ".name").text for i in items] == [f.name for f in files]
    for item, path in zip(items, files, strict=True):
        content = path.read_text(encoding="utf-8")
        request = (
            pb.SummarizeRequest(html=content, length=pb.SUMMARY_LENGTH_SHORT)
            if path.suffix == ".html"
            else pb.SummarizeRequest(text=content, length=pb.SUMMARY_LENGTH_SHORT)
        )
        expected = _brief_over_grpc(running, request)
        brief = item.find_element(By.CSS_SELECTOR, ".brief")
        assert brief.find_element(By.TAG_NAME, "h2").text == expected.brief.headline
        assert brief.find_element(By.TAG_NAME, "p").text == expected.brief.summary
        points = [li.text for li in brief.find_elements(By.TAG_NAME, "li")]
        assert points == list(expected.brief.key_points)
        assert brief.find_element(By.CSS_SELECTOR, ".lang").text.lower() == "en"
    browser.execute_script("document.getElementById('job').scrollIntoView();")
    _screenshot(browser, "editor-page-job.png")

    # a finished job is not polled any more
    browser.execute_script("return new Promise((done) => setTimeout(done, 3000));")
    assert browser.execute_script(COUNT_POLLS) == polls


def test_a_running_job_can_be_cancelled_from_the_page(
    running: RunningServer, browser: WebDriver
) -> None:
    # pasted articles, a line of --- between two; held, the job runs for 30 s or until cancelled
    article = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")
    pasted = "\n---\n".join(f"{HELD} number {i}.\n\n{article}" for i in range(60))
    browser.get(f"{running.http_url}/")
    browser.execute_script("document.getElementById('article').value = arguments[0];", pasted)
    browser.find_element(By.ID, "submitjob").click()
    WebDriverWait(browser, WAIT_S).until(
        lambda d: (
            d.find_element(By.ID, "job").is_displayed() and d.find_element(By.ID, "jobid").text
        )
    )
    assert len(browser.find_elements(By.CSS_SELECTOR, "#jobarticles > li")) == 60
    names = browser.find_elements(By.CSS_SELECTOR, "#jobarticles .name")
    assert [n.text for n in names[:2]] == ["article 1", "article 2"]
    browser.find_element(By.ID, "canceljob").click()
    WebDriverWait(browser, WAIT_S).until(lambda d: _job_state(d) == "cancelled")
    states = [
        s.get_property("textContent")
        for s in browser.find_elements(By.CSS_SELECTOR, "#jobarticles .state")
    ]
    assert "cancelled" in states and set(states) <= {"done", "cancelled"}
    assert not browser.find_element(By.ID, "canceljob").is_enabled()
    polls = browser.execute_script(COUNT_POLLS)
    browser.execute_script("return new Promise((done) => setTimeout(done, 2500));")
    assert browser.execute_script(COUNT_POLLS) == polls  # no polling after the cancel
    browser.execute_script("document.getElementById('job').scrollIntoView();")
    _screenshot(browser, "editor-page-job-cancelled.png")


def test_a_bad_article_of_a_batch_is_named_in_the_error(
    running: RunningServer, browser: WebDriver, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    browser.get(f"{running.http_url}/")
    files = [FIXTURES / "en_article.txt", empty]
    browser.find_element(By.ID, "batchfiles").send_keys("\n".join(str(f) for f in files))
    browser.find_element(By.ID, "submitjob").click()
    error = WebDriverWait(browser, WAIT_S).until(ec.visibility_of_element_located((By.ID, "error")))
    assert "Please check the form" in error.text
    assert "empty.txt, Article: must not be empty" in error.text
    assert not browser.find_element(By.ID, "job").is_displayed()


def test_with_jobs_off_the_batch_control_is_disabled_with_the_reason(
    browser: WebDriver,
) -> None:
    with RunningServer(make_settings(http_port=-1, jobs={"enabled": False})) as off:
        browser.get(f"{off.http_url}/")
        submit = browser.find_element(By.ID, "submitjob")
        WebDriverWait(browser, WAIT_S).until(lambda d: not submit.is_enabled())
        assert not browser.find_element(By.ID, "batchfiles").is_enabled()
        note = browser.find_element(By.ID, "jobs-note")
        assert note.is_displayed()
        assert note.text == (
            "Submitting as a job is not available: background jobs are off on this server: "
            "set jobs.enabled (NEWSBRIEF_JOBS__ENABLED=true)."
        )
        assert "background jobs are off" in (submit.get_attribute("title") or "")
        # the single brief still works
        assert browser.find_element(By.ID, "submit").is_enabled()
        _screenshot(browser, "editor-page-jobs-off.png")
