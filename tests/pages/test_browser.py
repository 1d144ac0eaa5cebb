"""The pay and wallet pages in a real browser: headless Chromium (Debian's `chromium` and
`chromium-driver`, `make install` brings them) driven by selenium against `chainfluence serve`.

The advertiser's wallet app is the sandbox's: the JS bridge the sandbox serves
(`/v1/sandbox/wallet-app/{userId}/bridge.js`) is injected into every page before TON Connect's
SDK loads, as a wallet's in-app browser injects its own, and signs with a sandbox wallet's keys
(ton_proof and the transfer, sent through the local chain). The pages log in with the initData
the Telegram emulator signs, passed as Telegram passes it (`#tgWebAppData=`).

Screenshots of each state go to var/screenshots/ (gitignored).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from tests.processes import CHAINFLUENCE, Process, clean_env, free_port

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
TON = 10**9


@pytest.fixture
def sandbox_url(tmp_path: Path) -> Iterator[str]:
    """`chainfluence serve` (`make serve`), reached as `localhost`: the domain the sandbox
    accepts ton_proofs for by default, and the host the page's TON Connect manifest names."""
    port = free_port()
    serve = Process(
        "serve",
        [CHAINFLUENCE, "serve", "--port", str(port)],
        clean_env({"CHAINFLUENCE_RATE_LIMIT__ENABLED": "false"}),
        tmp_path,
        tmp_path,
    )
    url = f"http://localhost:{port}"
    try:
        serve.start()
        serve.wait_http(f"{url}/healthz")
        yield url
    finally:
        serve.stop()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    # Fails, never skips: CI must run this test (make install installs both).
    missing = "needs Debian's chromium and chromium-driver (make install installs them as root)"
    assert chromium is not None, missing
    assert driver is not None, missing
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=900,1400")
    chrome = webdriver.Chrome(options=options, service=Service(driver))
    try:
        yield chrome
    finally:
        chrome.quit()


class Sandbox:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=60)
        world = self.ok(self.http.get("/v1/sandbox"))
        people = world["telegram"]["people"]
        self.advertiser = next(p["id"] for p in people if p["role"] == "advertiser")
        self.publisher = next(p["id"] for p in people if "@crypto_daily_sandbox" in p["role"])
        self.newcomer = next(p["id"] for p in people if p["role"].startswith("newcomer"))
        self.ton_url = world["ton"]["controlDocsUrl"].removesuffix("/docs")
        self.tokens: dict[str, dict[str, str]] = {}
        self.init_data: dict[str, str] = {}

    @staticmethod
    def ok(response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, f"{response.request.url}: {response.text}"
        return response.json()

    def login(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            answer = self.ok(self.http.post(f"/v1/sandbox/login/{user}"))
            self.tokens[user] = {"Authorization": answer["authorization"]}
            self.init_data[user] = answer["initData"]
        return self.tokens[user]

    def call(self, user: str, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        return self.ok(self.http.request(method, path, headers=self.login(user), **kw), status)

    def deal(self, title: str) -> int:
        """A pending deal of the advertiser with the demo channel (its owner's wallet linked)."""
        campaign = self.call(
            self.advertiser,
            "POST",
            "/v1/campaigns",
            201,
            json={"title": title, "category": "crypto", "creativeText": "Hello"},
        )
        now = dt.datetime.fromisoformat(self.ok(self.http.get("/v1/sandbox/clock"))["now"])
        offer = self.call(
            self.publisher,
            "POST",
            f"/v1/campaigns/{campaign['id']}/offers",
            201,
            json={
                "channelId": "-1001000000001",
                "amount": "10",
                "format": "test",
                "proposedDate": (now + dt.timedelta(hours=1)).isoformat(),
            },
        )
        accepted = self.call(self.advertiser, "POST", f"/v1/offers/{offer['id']}/accept")
        return int(accepted["dealId"])

    def page(self, user: str, path: str) -> str:
        """The page's URL as Telegram opens a Mini App: initData in the fragment."""
        self.login(user)
        return f"{self.url}{path}#tgWebAppData={quote(self.init_data[user], safe='')}"


def _state(browser: webdriver.Chrome) -> str:
    return str(browser.find_element(By.ID, "status").get_attribute("data-state"))


def _wait_state(browser: webdriver.Chrome, *states: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while True:
        state = _state(browser)
        if state in states:
            return state
        assert state != "error", browser.find_element(By.ID, "status").text
        assert time.monotonic() < deadline, (
            f"page stuck in {state!r} ({browser.find_element(By.ID, 'status').text}), "
            f"waiting for {states}"
        )
        time.sleep(0.2)


def _shot(browser: webdriver.Chrome, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def _use_wallet_of(
    browser: webdriver.Chrome, sandbox: Sandbox, user: str, network: str | None = None
) -> str:
    """Inject the user's sandbox wallet into every page from now on (on mainnet, or on the
    chain `network` names); the identifier undoes it."""
    params = {"network": network} if network is not None else {}
    script = sandbox.http.get(f"/v1/sandbox/wallet-app/{user}/bridge.js", params=params)
    assert script.status_code == 200
    added = browser.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": script.text}
    )
    return str(added["identifier"])


def test_link_a_wallet_then_pay_the_escrow_and_see_it_held_without_reload(
    sandbox_url: str, browser: webdriver.Chrome
) -> None:
    sandbox = Sandbox(sandbox_url)
    publisher, advertiser = sandbox.publisher, sandbox.advertiser
    # The channel's owner, set up through the API (their wallet through the sandbox's helper).
    sandbox.ok(sandbox.http.post(f"/v1/sandbox/users/{publisher}/wallet", json={"amount": 0}))
    sandbox.call(publisher, "PATCH", "/v1/users/me", json={"isPublisher": True})
    sandbox.call(publisher, "POST", "/v1/channels", 201, json={"username": "crypto_daily_sandbox"})
    sandbox.call(
        publisher,
        "PATCH",
        "/v1/channels/-1001000000001",
        json={"category": "crypto", "pricing": [{"format": "test", "price": 10}]},
    )
    sandbox.call(advertiser, "PATCH", "/v1/users/me", json={"isAdvertiser": True})
    deal_id = sandbox.deal("Launch")
    second_deal = sandbox.deal("Second launch")
    unpaid_deal = sandbox.deal("Late launch")

    # The wallet page: connect the wallet app in this browser, prove ownership, linked.
    bridge = _use_wallet_of(browser, sandbox, advertiser)
    browser.get(sandbox.page(advertiser, "/app/wallet"))
    _wait_state(browser, "ready")
    _shot(browser, "01-wallet-ready")
    browser.find_element(By.ID, "connect").click()
    _wait_state(browser, "linked")
    _shot(browser, "02-wallet-linked")
    wallet = sandbox.ok(sandbox.http.get(f"/v1/sandbox/users/{advertiser}/wallet"))
    me = sandbox.call(advertiser, "GET", "/v1/users/me")
    assert me["walletAddressRaw"] == wallet["rawAddress"]
    assert me["walletVerified"] is True
    assert browser.find_element(By.ID, "linked-wallet").text == me["walletAddress"]
    # Funds for the payment, from the TON emulator's faucet.
    sandbox.ok(
        sandbox.http.post(
            f"{sandbox.ton_url}/sandbox/fund",
            json={"address": wallet["rawAddress"], "amountNano": 50 * TON},
        )
    )

    # The pay page: the deal and its escrow terms, paid through TON Connect.
    browser.get(sandbox.page(advertiser, f"/app/pay/{deal_id}"))
    _wait_state(browser, "ready")
    payment = sandbox.call(advertiser, "POST", f"/v1/deals/{deal_id}/payment")
    assert browser.find_element(By.ID, "escrow-address").text == payment["address"]
    assert browser.find_element(By.ID, "escrow-address-raw").text == payment["rawAddress"]
    assert browser.find_element(By.ID, "pay-amount").text == "10 TON"
    assert browser.find_element(By.ID, "deal-status").text == "pending"
    _shot(browser, "03-pay-ready")
    browser.execute_script("window.__samePage = 'not reloaded';")
    browser.find_element(By.ID, "pay").click()
    _wait_state(browser, "paid", seconds=120)
    _shot(browser, "04-pay-in-escrow")
    assert browser.execute_script("return window.__samePage;") == "not reloaded"
    assert browser.find_element(By.ID, "deal-status").text == "in_escrow"
    deal = sandbox.call(advertiser, "GET", f"/v1/deals/{deal_id}")
    assert deal["status"] == "in_escrow"
    assert deal["depositedNano"] == str(10 * TON)
    assert browser.find_element(By.ID, "deal-deposited").text == "10 TON"

    # Opened again: already paid, nothing to send. (From elsewhere: a URL differing only in
    # its fragment would not load the page again.)
    browser.get("about:blank")
    browser.get(sandbox.page(advertiser, f"/app/pay/{deal_id}"))
    _wait_state(browser, "already-paid")
    assert browser.find_elements(By.ID, "pay") == []
    _shot(browser, "05-pay-already-paid")

    # Another wallet than the linked one: the page refuses to pay from it.
    browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": bridge})
    other = _use_wallet_of(browser, sandbox, sandbox.newcomer)
    browser.get(sandbox.page(advertiser, f"/app/pay/{second_deal}"))
    _wait_state(browser, "connect", "wrong-wallet")
    if _state(browser) == "connect":
        browser.find_element(By.ID, "connect").click()
    _wait_state(browser, "wrong-wallet")
    assert me["walletAddress"] in browser.find_element(By.ID, "status").text
    assert browser.find_elements(By.ID, "pay") == []
    _shot(browser, "06-pay-wrong-wallet")
    assert sandbox.call(advertiser, "GET", f"/v1/deals/{second_deal}")["depositedNano"] == "0"

    # A partial payment (4 of 10 TON, sent from the linked wallet outside the page): the page
    # says what is missing and pays just that, then follows the deal to in_escrow.
    paid = sandbox.ok(
        sandbox.http.post(f"/v1/sandbox/deals/{second_deal}/pay", json={"amount": "4"})
    )
    assert paid["depositedNano"] == str(4 * TON)
    browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": other})
    _use_wallet_of(browser, sandbox, advertiser)
    browser.get("about:blank")
    browser.get(sandbox.page(advertiser, f"/app/pay/{second_deal}"))
    _wait_state(browser, "partial")
    assert "send the missing 6 TON" in browser.find_element(By.ID, "status").text
    assert browser.find_element(By.ID, "deal-missing").text == "6 TON"
    _shot(browser, "07-pay-partial")
    browser.find_element(By.ID, "pay").click()
    _wait_state(browser, "paid", seconds=120)
    _shot(browser, "08-pay-partial-completed")
    deal = sandbox.call(advertiser, "GET", f"/v1/deals/{second_deal}")
    assert deal["status"] == "in_escrow"
    assert deal["depositedNano"] == str(10 * TON)

    # Never paid by its deposit deadline (an hour; the sandbox's clock moves past it): expired.
    sandbox.ok(sandbox.http.post("/v1/sandbox/clock/advance", json={"seconds": 3700}))
    deadline = time.monotonic() + 60
    while sandbox.call(advertiser, "GET", f"/v1/deals/{unpaid_deal}")["status"] == "pending":
        assert time.monotonic() < deadline, "the unpaid deal never expired"
        time.sleep(0.5)
    # Telegram signs a fresh initData when the app opens (the old one is an hour old now).
    del sandbox.tokens[advertiser]
    browser.get("about:blank")
    browser.get(sandbox.page(advertiser, f"/app/pay/{unpaid_deal}"))
    _wait_state(browser, "expired")
    assert browser.find_elements(By.ID, "pay") == []
    _shot(browser, "09-pay-expired")


def test_outside_telegram_the_page_offers_the_bot(
    sandbox_url: str, browser: webdriver.Chrome
) -> None:
    browser.get(f"{sandbox_url}/app/pay/1")

    _wait_state(browser, "login")
    link = browser.find_element(By.ID, "bot-link").get_attribute("href")
    assert link == "https://t.me/chainfluence_sandbox_bot/app?startapp=deal_1"
    _shot(browser, "00-login")


def test_a_wallet_on_a_chain_the_deployment_does_not_link_is_refused_and_nothing_is_linked(
    sandbox_url: str, browser: webdriver.Chrome
) -> None:
    sandbox = Sandbox(sandbox_url)
    advertiser = sandbox.advertiser
    # The sandbox links both TON networks (-239 and -3): its wallet app claims a chain of neither.
    other_chain = "-7"
    bridge = _use_wallet_of(browser, sandbox, advertiser, network=other_chain)
    browser.get(sandbox.page(advertiser, "/app/wallet"))
    _wait_state(browser, "ready")
    config = json.loads(
        browser.find_element(By.ID, "chainfluence-config").get_attribute("textContent") or ""
    )
    assert config["acceptedChains"] == ["-239", "-3"]

    browser.find_element(By.ID, "connect").click()
    _wait_state(browser, "wrong-network")
    status = browser.find_element(By.ID, "status").text
    assert f"chain {other_chain}" in status
    assert "chain -239 or -3" in status
    assert browser.find_elements(By.ID, "connect") != []
    _shot(browser, "10-wrong-network")
    # The wallet app did answer (its wallet exists), but the page linked nothing.
    wallet = sandbox.ok(sandbox.http.get(f"/v1/sandbox/users/{advertiser}/wallet"))
    me = sandbox.call(advertiser, "GET", "/v1/users/me")
    assert me["walletAddress"] is None
    assert me["walletAddressRaw"] is None
    assert me["walletVerified"] is False

    # The same wallet on mainnet, in a fresh page: linked, so the refusal was the chain's.
    browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": bridge})
    _use_wallet_of(browser, sandbox, advertiser)
    browser.get("about:blank")
    browser.get(sandbox.page(advertiser, "/app/wallet"))
    _wait_state(browser, "ready")
    browser.find_element(By.ID, "connect").click()
    _wait_state(browser, "linked")
    me = sandbox.call(advertiser, "GET", "/v1/users/me")
    assert me["walletAddressRaw"] == wallet["rawAddress"]
    assert me["walletVerified"] is True
