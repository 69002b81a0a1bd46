"""The web page in a real browser: headless Chromium (the machine's package, installed by .ci/run) driven
by Selenium against the real monitor on loopback, fed by the newsroom simulator, alerting a real
receiver. Screenshots of every page land in tests/artifacts/screenshots/ (gitignored)."""
from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.webstack import SECRET, TOKEN, MonitorStack

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SHOTS = Path(__file__).parent / "artifacts" / "screenshots"

pytestmark = [
    pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(DRIVER).exists()),
                       reason="no chromium/chromedriver on this machine (apt-get install chromium chromium-driver; "
                              ".ci/run installs them)"),
    pytest.mark.timeout(300),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = MonitorStack(tmp_path_factory.mktemp("web")).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    selenium = pytest.importorskip("selenium", reason="selenium is not installed (pip install 'cashwatch[test]')")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", "--no-first-run", "--no-proxy-server"):
        opts.add_argument(arg)
    assert selenium
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_page_load_timeout(30)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def rows(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [r.get_attribute("data-id") for r in driver.find_elements(By.CSS_SELECTOR, "#incidents tbody tr[data-id]")]


def wait(predicate, timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def test_incidents_page_lists_them_and_filters_and_search_narrow_them(stack, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(stack.url + "/")
    towns = {stack.incident_in(t).incident_id: t for t in ("Oakham", "Chorley", "Solihull", "Kettering", "Leyland")}
    assert set(rows(browser)) == set(towns)
    assert browser.find_element(By.ID, "total").text == "5"
    counts = browser.find_element(By.ID, "counts").text
    assert "atm_explosive: 3" in counts and "north-west: 2" in counts
    shot(browser, "incidents")

    Select(browser.find_element(By.NAME, "region")).select_by_value("north-west")
    browser.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    wait(lambda: "region=north-west" in browser.current_url, what="the filtered page")
    assert {towns[i] for i in rows(browser)} == {"Chorley", "Leyland"}
    assert browser.find_element(By.ID, "total").text == "2"

    browser.get(stack.url + "/")
    box = browser.find_element(By.NAME, "q")
    box.send_keys("telehandler")
    box.submit()
    wait(lambda: "q=telehandler" in browser.current_url, what="the search")
    assert [towns[i] for i in rows(browser)] == ["Oakham"]

    browser.get(stack.url + "/?type=cit_robbery")
    assert [towns[i] for i in rows(browser)] == ["Solihull"]


def test_incident_page_shows_reports_evidence_and_why_linked(stack, browser):
    from selenium.webdriver.common.by import By

    inc = stack.incident_in("Oakham")
    browser.get(f"{stack.url}/incidents/{inc.incident_id}")
    reports = browser.find_elements(By.CSS_SELECTOR, "#reports li.report")
    assert len(reports) == 2
    # the two outlets publish on the same day and their feeds are polled side by side, so either report may
    # arrive first: the page lists them in that order, and the first one seen created the incident
    [local] = [r for r in reports if r.find_element(By.CSS_SELECTOR, ".outlet").text == "oakham-advertiser.example"]
    assert "telehandler" in local.find_element(By.CSS_SELECTOR, "blockquote.evidence").text
    assert "Leicestershire Police" in local.text
    assert "First report" in reports[0].text
    why = reports[1].find_element(By.CSS_SELECTOR, ".link-reason").text
    assert "Why linked" in why and "town_same" in why
    history = browser.find_element(By.ID, "history").text
    assert "created" in history and "alert created" in history
    shot(browser, "incident")


def test_article_text_with_script_is_shown_as_text(stack, browser):
    from selenium.webdriver.common.by import By

    inc = stack.incident_in("Kettering")
    browser.get(f"{stack.url}/incidents/{inc.incident_id}")
    # (the feed parser already drops tags from titles; the article body keeps them as text)
    evidence = browser.find_element(By.CSS_SELECTOR, "#reports blockquote.evidence").text
    assert "<script>window.__pwned = 2</script>" in evidence
    assert browser.execute_script("return window.__pwned === undefined")
    assert not [s for s in browser.find_elements(By.TAG_NAME, "script") if "pwned" in (s.get_attribute("innerHTML") or "")]
    browser.get(stack.url + "/")
    assert browser.execute_script("return window.__pwned === undefined")


def test_map_shows_the_points_over_the_outline_and_clicks_through(stack, browser):
    from selenium.webdriver.common.by import By

    browser.get(stack.url + "/map")
    wait(lambda: browser.find_element(By.ID, "map").get_attribute("data-loaded") is not None, what="the map's points")
    points = browser.find_elements(By.CSS_SELECTOR, "#map circle.point")
    placed = [i for i in (stack.incident_in(t) for t in ("Oakham", "Chorley", "Solihull", "Kettering", "Leyland"))
              if i.lat is not None]
    assert {p.get_attribute("data-id") for p in points} == {i.incident_id for i in placed}
    wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#map path.land"), what="the outline")
    colours = {p.get_attribute("data-type"): p.value_of_css_property("fill") for p in points}
    assert len(set(colours.values())) == len(colours)  # one colour per type
    shot(browser, "map")
    browser.find_element(By.ID, "zoom-in").click()
    shot(browser, "map-zoomed")
    target = next(p for p in points if p.get_attribute("data-type") == "cit_robbery")
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", target)
    wait(lambda: "/incidents/" in browser.current_url, what="the click through")
    assert browser.current_url.endswith(stack.incident_in("Solihull").incident_id)


def test_feeds_and_alerts_pages_show_state_and_no_secret(stack, browser):
    from selenium.webdriver.common.by import By

    browser.get(stack.url + "/feeds")
    feeds = browser.find_element(By.ID, "feeds").text
    assert feeds.count(" ok ") + feeds.count(" ok\n") >= 1 and "sim-0" in feeds
    assert "no feed of its own" in browser.find_element(By.ID, "coverage").text
    shot(browser, "feeds")
    browser.get(stack.url + "/alerts")
    subs = browser.find_element(By.ID, "subscriptions").text
    assert "everything" in subs and "north-west" in subs
    assert SECRET not in browser.page_source
    assert "delivered" in browser.find_element(By.ID, "deliveries").text
    shot(browser, "alerts")


def test_merge_through_the_page_sends_one_merged_alert_and_no_created(stack, browser):
    from selenium.webdriver.common.by import By

    chorley, leyland = stack.incident_in("Chorley"), stack.incident_in("Leyland")
    created_before = [a for a in stack.alerts() if a[0] == "created"]
    browser.get(f"{stack.url}/incidents/{leyland.incident_id}")
    form = browser.find_element(By.ID, "merge-form")
    form.find_element(By.NAME, "other").send_keys(chorley.incident_id)
    form.find_element(By.NAME, "by").clear()
    form.find_element(By.NAME, "by").send_keys("analyst-one")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(lambda: browser.find_elements(By.ID, "flash"), what="the merge's answer")
    assert "merged" in browser.find_element(By.ID, "flash").text
    shot(browser, "merged")

    survivor = min((chorley, leyland), key=lambda i: (i.first_seen, i.incident_id))
    absorbed = ({chorley.incident_id, leyland.incident_id} - {survivor.incident_id}).pop()
    assert browser.current_url.split("?")[0].endswith(survivor.incident_id)
    store = stack.store()
    try:
        assert store.resolve(absorbed) == survivor.incident_id
        merged = store.get_incident(survivor.incident_id)
        assert {r.title for r in merged.reports} >= {chorley.reports[0].title, leyland.reports[0].title}
        corrections = store.corrections()
        assert corrections[-1][1].action == "merge" and corrections[-1][1].by == "analyst-one"
        assert corrections[-1][0]["status"] == "applied"
    finally:
        store.close()
    # both subscriptions cover Lancashire and asked for merged: one merged alert each, and no new created
    stack.receiver.wait_for(lambda rx: len([r for r in rx.processed if r.event == "merged"]) >= 2, timeout=15)
    time.sleep(0.5)
    merged_alerts = [a for a in stack.alerts() if a[0] == "merged"]
    assert sorted(r.subscription for r in stack.receiver.processed if r.event == "merged") == ["everything", "north-west"]
    assert {a[1] for a in merged_alerts} == {survivor.incident_id}
    assert [a for a in stack.alerts() if a[0] == "created"] == created_before
    # the history says who merged it
    browser.get(f"{stack.url}/incidents/{survivor.incident_id}")
    assert "corrected: merge" in browser.find_element(By.ID, "history").text
    assert "analyst-one" in browser.find_element(By.ID, "history").text


def test_dismiss_through_the_page_hides_it_and_sends_retracted(stack, browser):
    from selenium.webdriver.common.by import By

    kettering = stack.incident_in("Kettering")
    browser.get(f"{stack.url}/incidents/{kettering.incident_id}")
    form = browser.find_element(By.ID, "dismiss-form")
    form.find_element(By.NAME, "note").send_keys("a test")
    form.find_element(By.NAME, "by").send_keys("analyst-two")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    alert = browser.switch_to.alert  # the page asks "are you sure?"
    alert.accept()
    wait(lambda: browser.find_elements(By.ID, "dismissed"), what="the dismissed banner")
    shot(browser, "dismissed")
    browser.get(stack.url + "/")
    assert kettering.incident_id not in rows(browser)
    stack.receiver.wait_for(lambda rx: any(r.event == "retracted" for r in rx.processed), timeout=15)
    retracted = [(r.subscription, r.json()["incident"]["id"]) for r in stack.receiver.processed if r.event == "retracted"]
    assert retracted == [("everything", kettering.incident_id)]  # north-west neither covers it nor asked


def test_a_change_without_the_csrf_token_is_refused(stack):
    inc = stack.incident_in("Solihull")
    data = urllib.parse.urlencode({"by": "x", "note": "forged"}).encode()
    req = urllib.request.Request(f"{stack.url}/incidents/{inc.incident_id}/dismiss", data=data, method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 403
    assert not stack.incident_in("Solihull").dismissed


def test_bound_beyond_loopback_every_page_and_change_needs_the_token(tmp_path, browser):
    from selenium.webdriver.common.by import By

    stack = MonitorStack(tmp_path, host="0.0.0.0", token=TOKEN).start()
    try:
        inc = stack.incident_in("Solihull")
        for path in ("/", "/map", "/feeds", "/alerts", f"/incidents/{inc.incident_id}", "/api/incidents.geojson"):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(stack.url + path)
            assert err.value.code == 401, path
        data = urllib.parse.urlencode({"by": "x"}).encode()
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(urllib.request.Request(f"{stack.url}/incidents/{inc.incident_id}/dismiss",
                                                          data=data, method="POST"))
        assert err.value.code == 401
        wrong = urllib.request.Request(stack.url + "/", headers={"Authorization": "Bearer not-the-token"})
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(wrong)
        assert not stack.incident_in("Solihull").dismissed
        # /healthz and /metrics stay open (load balancers, Prometheus)
        assert urllib.request.urlopen(stack.url + "/healthz").status in (200,)

        browser.delete_all_cookies()
        browser.get(stack.url + "/")
        assert "401" in browser.find_element(By.TAG_NAME, "body").text
        browser.get(f"{stack.url}/?token={TOKEN}")  # once: a cookie keeps it, the address bar loses it
        assert "token=" not in browser.current_url
        assert inc.incident_id in rows(browser)
        assert TOKEN not in browser.page_source
        shot(browser, "with-token")
        # with the token, a change from the page goes through
        browser.get(f"{stack.url}/incidents/{inc.incident_id}")
        form = browser.find_element(By.ID, "edit-form")
        form.find_element(By.NAME, "date").send_keys("11192026")  # the date input's locale format (en-US)
        form.find_element(By.NAME, "by").send_keys("analyst-three")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait(lambda: browser.find_elements(By.ID, "flash") or browser.find_elements(By.ID, "flash-error"),
             what="the edit's answer")
        assert "corrected: date" in browser.find_element(By.ID, "flash").text
        assert str(stack.incident_in("Solihull").date) == "2026-11-19"
        assert stack.incident_in("Solihull").corrected.date is not None
    finally:
        browser.delete_all_cookies()
        stack.stop()
