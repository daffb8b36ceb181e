"""The coordinator's journey in a real headless Chromium, with axe-core on every page.

Debian's ``chromium`` and ``chromium-driver`` drive a real ``buddymatch serve``
(SQLite and PostgreSQL).  The journey: sign in with the printed link, create a
programme, upload a sign-up sheet with an error, read the error, upload the
fixed sheet, build the scheme in the forms, run (by keyboard), review, lock one
pair and forbid another, re-run, check both decisions held, publish, download; then
the lifecycle, by keyboard alone: upload a later intake with dropouts, propose a
re-match, review its changes and accept it, upload feedback, preview the
introductions.
axe-core (installed from npm by ``.ci/ensure-browser``) checks every page for
WCAG 2.2 A/AA problems; a serious or critical one fails the test.  The review
page's screenshot is saved in the test folder and, when missing from docs/ or
with ``BUDDYMATCH_UPDATE_SCREENSHOTS=1``, as ``docs/workbench-review.png``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import IN_CI, ROOT, SAMPLE
from .live import Server

AXE = ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOT = ROOT / "docs" / "workbench-review.png"
LATER = ROOT / "sample_data" / "profiles_later.csv"
FEEDBACK = ROOT / "sample_data" / "feedback.csv"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BANDS = "Band 5; Band 6; Band 7; Band 8a; Band 8b; Band 8c; Band 8d; Band 9"


def _missing() -> str | None:
    for tool in ("chromium", "chromedriver"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (make test installs it with apt where it can)"
    if not AXE.is_file():
        return "axe-core is not installed (.ci/ensure-browser installs it from npm)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    return None


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    reason = _missing()
    if reason:
        if IN_CI:
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    service = Service(executable_path=shutil.which("chromedriver"))
    drv = webdriver.Chrome(service=service, options=options)
    drv.downloads = downloads  # type: ignore[attr-defined]
    drv.set_script_timeout(60)
    try:
        yield drv
    finally:
        drv.quit()


def axe_check(driver: Any, page: str, seen: list[str]) -> None:
    """Run axe-core on the current page; no serious or critical violation allowed."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations.map(v => [v.id, v.impact, v.nodes.length, v.help])))"
        ".catch(e => done([['axe-error', 'critical', 0, String(e)]]));",
        TAGS,
    )
    bad = [v for v in result if v[1] in ("serious", "critical")]
    assert not bad, f"{page}: {bad}"
    seen.append(page)


def _wait(driver: Any, condition: Any, timeout: float = 90) -> Any:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    ignored = (NoSuchElementException, StaleElementReferenceException)  # the page is reloading
    return WebDriverWait(driver, timeout, 0.2, ignored_exceptions=ignored).until(condition)


def _fill(driver: Any, element_id: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def _select(driver: Any, element_id: str, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, element_id)).select_by_value(value)


def _attribute_row(driver: Any, column: str) -> str:
    """The builder's row index of the sign-up sheet column ``column``."""
    from selenium.webdriver.common.by import By

    for hidden in driver.find_elements(By.CSS_SELECTOR, "input[type=hidden][name$='_column']"):
        if hidden.get_attribute("value") == column:
            return str(hidden.get_attribute("name")).split("_")[1]
    raise AssertionError(f"no row for column {column}")


def _build_scheme(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    _select(driver, "id", "Email")
    _select(driver, "role_column", "I want to be a")
    _fill(driver, "role_both", "Either")
    _select(driver, "capacity_column", "How many mentees can you take?")
    driver.find_element(By.CSS_SELECTOR, "input[name=carry][value='Full name']").click()
    attributes = {
        "Organisation": ("organisation", "categorical", ""),
        "Band": ("band", "ordinal", BANDS),
        "Region": ("region", "categorical", ""),
        "Areas you'd like support with": ("interests", "multi", ""),
        "Areas you can offer": ("expertise", "multi", ""),
    }
    for column, (name, kind, scale) in attributes.items():
        i = _attribute_row(driver, column)
        _fill(driver, f"attr_{i}_name", name)
        _select(driver, f"attr_{i}_kind", kind)
        if scale:
            _fill(driver, f"attr_{i}_scale", scale)
        if kind == "multi":
            _fill(driver, f"attr_{i}_sep", ";")
    _select(driver, "rule_0_kind", "different")
    _fill(driver, "rule_0_attribute", "organisation")
    _select(driver, "rule_1_kind", "gap")
    _fill(driver, "rule_1_attribute", "band")
    _fill(driver, "rule_1_min", "1")
    _fill(driver, "rule_1_max", "3")
    _select(driver, "crit_0_kind", "overlap")
    _fill(driver, "crit_0_mentee", "interests")
    _fill(driver, "crit_0_mentor", "expertise")
    _fill(driver, "crit_0_weight", "5")
    _select(driver, "crit_1_kind", "same")
    _fill(driver, "crit_1_attribute", "region")
    _fill(driver, "crit_1_weight", "3")
    _select(driver, "objective", "max-matched")
    driver.find_element(By.CSS_SELECTOR, "#builder button[type=submit]").click()


def _wait_review(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    _wait(driver, lambda d: d.find_elements(By.ID, "matches") or "This run" in d.page_source, 180)
    assert driver.find_elements(By.ID, "matches"), driver.page_source[-3000:]


def _first_pairs(driver: Any) -> list[tuple[str, str]]:
    from selenium.webdriver.common.by import By

    pairs = []
    for row in driver.find_elements(By.CSS_SELECTOR, "#matches tbody tr:not(.why)")[:2]:
        cells = row.find_elements(By.TAG_NAME, "td")
        pairs.append((cells[0].text, cells[1].text))
    return pairs


def _click_in_row(driver: Any, pair: tuple[str, str], label: str) -> None:
    from selenium.webdriver.common.by import By

    for row in driver.find_elements(By.CSS_SELECTOR, "#matches tbody tr:not(.why)"):
        cells = row.find_elements(By.TAG_NAME, "td")
        if (cells[0].text, cells[1].text) == pair:
            row.find_element(By.XPATH, f".//button[normalize-space()='{label}']").click()
            return
    raise AssertionError(f"pair {pair} not on the page")


def _keys(driver: Any, *keys: str) -> None:
    """Press keys on whatever has the focus, as a keyboard does (never a file dialog)."""
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(*keys).perform()


def _tab_to(driver: Any, target: Any, limit: int = 400) -> None:
    """Move the focus with the Tab key alone until ``target`` has it (keyboard operability)."""
    from selenium.webdriver.common.keys import Keys

    for _ in range(limit):
        if driver.switch_to.active_element == target:
            return
        _keys(driver, Keys.TAB)
    raise AssertionError(f"not reachable with the Tab key: {target.get_attribute('outerHTML')}")


def _keyboard_submit(driver: Any, fields: dict[str, str], button: str) -> None:
    """Fill ``fields`` (id -> text, or a file path) and press ``button``, by keyboard only.

    A file field is reached with Tab like any other; the path is then given to it
    as its file dialog would (the one step a headless browser cannot type).
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    for element_id, text in fields.items():
        field = driver.find_element(By.ID, element_id)
        _tab_to(driver, field)
        if field.get_attribute("type") == "file":
            field.send_keys(text)
        else:
            _keys(driver, Keys.END, Keys.SHIFT, Keys.HOME, Keys.NULL, Keys.DELETE, text)
    target = driver.find_element(By.XPATH, f"//button[normalize-space()='{button}']")
    _tab_to(driver, target)
    _keys(driver, Keys.ENTER)


def _lifecycle(
    driver: Any, programme_url: str, seen: list[str], timings: dict[str, float], shots: Path
) -> None:
    """After publishing: new intake, re-match review and accept, feedback, introductions."""
    from selenium.webdriver.common.by import By

    driver.get(programme_url)
    _wait(driver, lambda d: "A new intake" in d.page_source)
    axe_check(driver, "programme after publishing", seen)
    started = time.perf_counter()
    _keyboard_submit(driver, {"intake-files": str(LATER)}, "Upload the new intake")
    _wait(driver, lambda d: "intake 2" in d.page_source)
    _keyboard_submit(driver, {"max_changes": "2"}, "Propose a re-match")
    _wait(driver, lambda d: "/runs/3" in d.current_url)
    if driver.find_elements(By.ID, "progress"):
        axe_check(driver, "re-match in progress", seen)
    # The pair locked in review has a mentee promoted since: the lock now breaks the band
    # rule, the re-match says so by row and offers to undo the lock right there.
    _wait(driver, lambda d: "This re-match failed" in d.page_source, 180)
    message = driver.find_element(By.CSS_SELECTOR, ".warn-box pre").text
    assert "locked pair (profiles_later.csv row" in message and "unlock it" in message, message
    axe_check(driver, "re-match failed", seen)
    _keyboard_submit(driver, {}, "Undo")
    _wait(
        driver,
        lambda d: (
            "Decisions in the scheme" not in d.page_source or d.page_source.count("Undo") == 1
        ),
    )
    again = time.perf_counter()
    _keyboard_submit(driver, {}, "Re-match again with the current scheme")
    _wait(driver, lambda d: "/runs/4" in d.current_url)
    _wait(
        driver, lambda d: d.find_elements(By.ID, "changes") or "This re-match" in d.page_source, 180
    )
    timings["re-match to proposed changes"] = time.perf_counter() - again
    timings["later intake to proposed changes, with the failed try"] = time.perf_counter() - started
    assert driver.find_elements(By.ID, "changes"), driver.page_source[-3000:]
    facts = driver.find_element(By.ID, "rematch-facts").text
    assert "Kept" in facts and "of 2" in facts, facts
    changes = driver.find_element(By.ID, "changes").text
    assert "left" in changes and "joined" in changes
    axe_check(driver, "re-match review", seen)
    driver.save_screenshot(str(shots / "rematch-review.png"))
    _keyboard_submit(
        driver, {"ea": "p00045@example.nhs.uk", "eb": "p00001@example.nhs.uk"}, "Explain"
    )
    _wait(driver, lambda d: d.find_elements(By.ID, "explanation"))
    assert "ended" in driver.find_element(By.ID, "explanation").text
    _keyboard_submit(driver, {}, "Accept this re-match")
    _wait(driver, lambda d: "accepted" in d.find_element(By.TAG_NAME, "h1").text)

    driver.get(programme_url)
    _wait(driver, lambda d: "run 4</a> (published" in d.page_source)
    _keyboard_submit(
        driver, {"feedback-file": str(FEEDBACK), "continuing_bonus": "10"}, "Use this feedback"
    )
    _wait(driver, lambda d: "Feedback in the scheme" in d.page_source)
    assert (
        "feedback: 4 pairs" in driver.find_element(By.ID, "check").find_element(By.XPATH, "..").text
    )
    axe_check(driver, "programme with feedback", seen)

    from selenium.webdriver.common.keys import Keys

    _tab_to(driver, driver.find_element(By.LINK_TEXT, "Introductions for run 4"))
    _keys(driver, Keys.ENTER)
    _wait(driver, lambda d: "Introductions for run 4" in d.page_source)
    assert driver.find_element(By.ID, "only_new").is_selected()  # a re-match: new pairs only
    _keyboard_submit(driver, {"sender": "Mentoring team <mentoring@example.nhs.uk>"}, "Preview")
    _wait(driver, lambda d: d.find_elements(By.ID, "letters-count"))
    assert "messages" in driver.find_element(By.ID, "letters-count").text
    assert driver.find_elements(By.CSS_SELECTOR, "article.letter")
    axe_check(driver, "introductions preview", seen)
    driver.save_screenshot(str(shots / "introductions.png"))


def test_coordinator_journey(driver: Any, db_url: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    server = Server(db_url, tmp_path / "data")
    server.start()
    seen: list[str] = []
    timings: dict[str, float] = {}
    try:
        driver.get(server.link)
        _wait(driver, lambda d: "Your programmes" in d.page_source)
        axe_check(driver, "programmes", seen)
        active = driver.switch_to.active_element
        active.send_keys(Keys.TAB)
        assert driver.switch_to.active_element.text == "Skip to main content"

        _fill(driver, "name", "Autumn mentoring")
        driver.find_element(By.CSS_SELECTOR, "form[action='/programmes'] button").click()
        _wait(driver, lambda d: "1. Sign-up files" in d.page_source)
        programme_url = driver.current_url.split("#")[0]

        bad = tmp_path / "bad" / "profiles.csv"
        bad.parent.mkdir()
        lines = SAMPLE.read_text(encoding="utf-8").splitlines()
        lines[4] += ",an extra answer"
        bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
        driver.find_element(By.ID, "upload-files").send_keys(str(bad))
        driver.find_element(By.CSS_SELECTOR, "form[enctype] button").click()
        _wait(driver, lambda d: "cannot be read yet" in d.page_source)
        problems = driver.find_element(By.CSS_SELECTOR, ".issues").text
        assert "profiles.csv, row 5" in problems and "Fix:" in problems
        axe_check(driver, "programme with a file error", seen)

        started = time.perf_counter()
        driver.find_element(By.ID, "upload-files").send_keys(str(SAMPLE))
        driver.find_element(By.CSS_SELECTOR, "form[enctype] button").click()
        _wait(driver, lambda d: "Read 150 rows" in d.page_source)

        driver.find_element(By.LINK_TEXT, "Build one from the sheet's columns").click()
        _wait(driver, lambda d: "Attributes: the columns" in d.page_source)
        axe_check(driver, "scheme builder", seen)
        _build_scheme(driver)
        _wait(driver, lambda d: "different:" in d.find_element(By.CSS_SELECTOR, "pre.yaml").text)
        yaml_text = driver.find_element(By.CSS_SELECTOR, "pre.yaml").text
        assert "gap:" in yaml_text and "carry:" in yaml_text
        axe_check(driver, "scheme builder (saved)", seen)

        driver.find_element(By.LINK_TEXT, "Autumn mentoring").click()
        _wait(driver, lambda d: "No problems found." in d.page_source)
        seed = driver.find_element(By.ID, "seed")
        seed.send_keys("1")
        run_at = time.perf_counter()
        seed.send_keys(Keys.ENTER)  # submit by keyboard
        _wait(driver, lambda d: "/runs/1" in d.current_url)
        if driver.find_elements(By.ID, "progress"):
            axe_check(driver, "run in progress", seen)
        _wait_review(driver)
        timings["run to results"] = time.perf_counter() - run_at
        timings["upload to results"] = time.perf_counter() - started
        matched = driver.find_element(By.CSS_SELECTOR, ".facts").text
        assert "of 150" in matched and "optimal" in matched, matched
        axe_check(driver, "review", seen)
        shot = tmp_path / "workbench-review.png"
        driver.set_window_size(1400, 1700)
        driver.save_screenshot(str(shot))
        driver.set_window_size(1400, 1000)
        if db_url.startswith("sqlite") and (
            not SCREENSHOT.exists() or os.environ.get("BUDDYMATCH_UPDATE_SCREENSHOTS") == "1"
        ):
            shutil.copyfile(shot, SCREENSHOT)

        keep, drop = _first_pairs(driver)
        _click_in_row(driver, keep, "Lock")
        _wait(driver, lambda d: "Decisions in the scheme" in d.page_source)
        _click_in_row(driver, drop, "Forbid")
        _wait(driver, lambda d: d.page_source.count("Undo") >= 2)
        decisions = driver.find_element(By.CSS_SELECTOR, ".decisions").text
        assert "lock" in decisions and "forbid" in decisions

        driver.find_element(
            By.XPATH, "//button[normalize-space()='Re-run with the current scheme']"
        ).click()
        _wait(driver, lambda d: "/runs/2" in d.current_url)
        _wait_review(driver)
        rows = driver.find_element(By.ID, "matches").text
        assert f"{keep[0]} {keep[1]}" in rows.replace("\n", " ")
        _fill(driver, "q", drop[1])
        driver.find_element(By.ID, "q").send_keys(Keys.ENTER)
        _wait(driver, lambda d: "q=" in d.current_url)
        assert f"{drop[0]} {drop[1]}" not in driver.find_element(By.ID, "matches").text.replace(
            "\n", " "
        )
        driver.back()

        _wait(
            driver,
            lambda d: d.find_elements(By.XPATH, "//button[normalize-space()='Publish this round']"),
        )
        driver.find_element(By.XPATH, "//button[normalize-space()='Publish this round']").click()
        _wait(driver, lambda d: "published" in d.find_element(By.TAG_NAME, "h1").text)
        driver.find_element(By.LINK_TEXT, "CSV files (zip)").click()
        _wait(driver, lambda d: list(d.downloads.glob("run-2-results-csv.zip")), 30)

        driver.get(
            server.base
            + driver.current_url.split(server.base)[1].split("/runs/")[0]
            + "/compare?a=1&b=2"
        )
        _wait(driver, lambda d: "Why they differ" in d.page_source)
        assert "+- lock:" in driver.page_source
        axe_check(driver, "compare", seen)
        driver.find_element(By.LINK_TEXT, "Autumn mentoring").click()
        driver.find_element(By.LINK_TEXT, "People and audit log").click()
        _wait(driver, lambda d: "publish run" in d.page_source)
        axe_check(driver, "people and audit", seen)
        driver.find_element(By.PARTIAL_LINK_TEXT, "Account").click()
        axe_check(driver, "account", seen)
        _lifecycle(driver, programme_url, seen, timings, tmp_path)
    finally:
        server.stop()
    assert len(seen) >= 12
    print(
        f"\njourney timings ({db_url.split(':')[0]}): "
        + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
    )
