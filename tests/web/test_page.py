"""The trading page end to end: Chromium, the page as served, md and td servers on the sim.

One logged-in page is shared by the tests of this module, in order: login, market board,
a buy that fills, a resting order canceled, a rejection, and last a td server restart the
page must recover from by itself. A screenshot of the logged-in page is written to
test-artifacts/web-trading-page.png.
"""

from __future__ import annotations

import asyncio
import os
import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.web.conftest import ARTIFACTS, WAIT_MS, PageWatch
from wsbridge.client import Client

expect = pytest.importorskip("playwright.sync_api", reason="pip install playwright").expect

PASSWORD = "pw-web"
SCREENSHOT = ARTIFACTS / "web-trading-page.png"


def page_url(md, td) -> str:
    return f"{td.http_url}?md={md.url}&td={td.url}"


@pytest.fixture(scope="module")
def session(browser, servers):
    """A logged-in page (logged in with the keyboard) and what it needs to be checked."""
    md, td = servers
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    watch = PageWatch(page)
    page.goto(page_url(md, td))
    page.wait_for_selector("body[data-ready='true']")
    user = f"web{os.getpid()}"
    page.fill("#user-id", user)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    yield {"page": page, "watch": watch, "md": md, "td": td, "user": user}
    context.close()


# --- helpers ----------------------------------------------------------------------------------


def show_tab(page, name: str) -> None:
    page.get_by_role("tab", name=re.compile(f"^{name}")).click()


def instrument(page, product: str) -> str:
    """The first instrument of a product in the page's instrument list."""
    values = page.eval_on_selector_all("#instrument-list option", "os => os.map(o => o.value)")
    matches = sorted(v for v in values if re.fullmatch(rf"{product}\d+", v))
    assert matches, f"no {product} instrument in {values}"
    return matches[0]


def quote_row(page, instrument_id: str):
    return page.locator(f'#quotes tr[data-instrument="{instrument_id}"]')


def cell(row, column: str):
    return row.locator(f'td[data-col="{column}"]')


def on_board(page, instrument_id: str):
    """Subscribe by typing (if needed) and wait for its first tick."""
    row = quote_row(page, instrument_id)
    if row.count() == 0:
        page.fill("#subscribe-input", instrument_id)
        page.press("#subscribe-input", "Enter")
    expect(cell(row, "AskPrice1")).not_to_have_text("–")
    return row


def ticket(page, instrument_id: str, *, side: str, offset: str, volume: int,
           price: str | None = None, kind: str = "limit") -> None:
    page.fill("#order-instrument", instrument_id)
    page.dispatch_event("#order-instrument", "change")
    page.check(f'input[name="direction"][value="{ {"buy": "0", "sell": "1"}[side] }"]')
    page.select_option("#order-offset", offset)
    page.select_option("#order-type", kind)
    page.fill("#order-volume", str(volume))
    if price is not None:
        page.fill("#order-price", price)


def send(page) -> None:
    page.click("#order-send")


def server_account(td_url: str, user: str) -> dict:
    """The account as the td server has it, through a second connection."""

    async def query() -> dict:
        async with await Client.connect(td_url) as client:
            await client.login(user, PASSWORD)
            (row,) = await client.query("ReqQryTradingAccount", {})
            return row

    # Playwright's sync API runs an event loop in this thread: use another one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, query()).result()


def money(value: float) -> str:
    return f"{value:,.2f}"


# --- tests --------------------------------------------------------------------------------------


def test_served_by_both_servers_with_nothing_from_elsewhere(servers, open_page) -> None:
    md, td = servers
    for server in (md, td):
        with urllib.request.urlopen(server.http_url) as reply:
            assert reply.headers["Content-Type"].startswith("text/html")
            assert b'src="app.mjs"' in reply.read()
        with urllib.request.urlopen(server.http_url + "wsbridge.mjs") as reply:
            assert reply.headers["Content-Type"].startswith("text/javascript")
    # Without ?md=&td= the page asks /healthz which side served it; the other side is
    # on the neighbouring port (md 8080, td 8081 by default).
    page, watch = open_page(td.http_url)
    expect(page.locator("#td-url")).to_have_value(f"ws://127.0.0.1:{td.port}/")
    expect(page.locator("#md-url")).to_have_value(f"ws://127.0.0.1:{td.port - 1}/")
    page, watch2 = open_page(md.http_url)
    expect(page.locator("#md-url")).to_have_value(f"ws://127.0.0.1:{md.port}/")
    expect(page.locator("#td-url")).to_have_value(f"ws://127.0.0.1:{md.port + 1}/")
    for seen, server in ((watch, td), (watch2, md)):
        assert seen.requests and all(url.startswith(server.http_url) for url in seen.requests), \
            seen.requests
        assert not seen.errors


def test_login_shows_both_channels_online_with_account_and_instruments(session) -> None:
    page = session["page"]
    expect(page.locator("#md-status")).to_have_text("md: online")
    expect(page.locator("#td-status")).to_have_text("td: online")
    expect(page.locator("#order-message")).to_contain_text(f"Logged in as {session['user']}")
    expect(page.locator('#account dd[data-field="Balance"]')).not_to_have_text("–")
    assert page.locator("#instrument-list option").count() > 5
    # A first visit puts a few instruments on the board, and ticks arrive.
    expect(page.locator("#quotes tbody tr").first).to_be_visible()
    expect(cell(page.locator("#quotes tbody tr").first, "LastPrice")).not_to_have_text("–")
    # Everything fits a 1280×800 window: no page scrolling.
    width, height = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert (width, height) == (1280, 800)
    # The tabs work from the keyboard.
    page.get_by_role("tab", name=re.compile("^Working")).focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name=re.compile("^Orders"))).to_have_attribute(
        "aria-selected", "true")
    expect(page.locator("#pane-orders")).to_be_visible()
    expect(page.get_by_role("tab", name=re.compile("^Orders"))).to_be_focused()


def test_wrong_password_is_refused_with_its_error(session, open_page) -> None:
    md, td = session["md"], session["td"]
    page, watch = open_page(page_url(md, td))
    page.fill("#user-id", session["user"])  # the account exists: its password is checked
    page.fill("#password", "not-the-password")
    page.click("#login-btn")
    message = page.locator("#order-message")
    expect(message).to_contain_text("Login failed: td: RspUserLogin: [3]")
    expect(message).to_have_attribute("role", "alert")
    expect(page.locator("#td-status")).to_have_text("td: offline")
    expect(page.locator("#login-btn")).to_be_enabled()
    expect(page.locator("#logout-btn")).to_be_disabled()
    assert not watch.errors


def test_subscribe_by_typing_ticks_update_and_unsubscribe(session) -> None:
    page = session["page"]
    au = instrument(page, "au")
    row = quote_row(page, au)
    if row.count():
        row.get_by_role("button", name=f"Unsubscribe {au}").click()
        expect(row).to_have_count(0)
    row = on_board(page, au)
    for column in ("LastPrice", "BidPrice1", "AskPrice1", "BidVolume1", "AskVolume1",
                   "Volume", "OpenInterest", "UpperLimitPrice", "LowerLimitPrice", "Change",
                   "Percent"):
        expect(cell(row, column)).not_to_have_text("–")
    expect(cell(row, "Percent")).to_have_text(re.compile(r"^[+-]?\d+\.\d\d%$"))
    # Ticks keep arriving: the update time moves on.
    first = cell(row, "UpdateTime").inner_text()
    expect(cell(row, "UpdateTime")).not_to_have_text(first)
    # Selecting it shows its chart.
    row.get_by_role("button", name=f"Select {au}").click()
    expect(page.locator("#chart-title")).to_contain_text(au)
    expect(row).to_have_class(re.compile("selected"))
    row.get_by_role("button", name=f"Unsubscribe {au}").click()
    expect(quote_row(page, au)).to_have_count(0)
    # An unknown instrument is refused with the server's ErrorID.
    page.fill("#subscribe-input", "nosuch999")
    page.press("#subscribe-input", "Enter")
    expect(page.locator("#order-message")).to_contain_text("nosuch999: [16]")
    expect(quote_row(page, "nosuch999")).to_have_count(0)


def test_buy_fills_into_orders_trades_positions_and_account(session) -> None:
    page = session["page"]
    rb = instrument(page, "rb")
    row = on_board(page, rb)
    # Clicking a quote fills the ticket: the ask buys at that price, the bid sells.
    ask, price = page.evaluate("""(id) => {
        const button = document.querySelector(
            `#quotes tr[data-instrument="${id}"] td[data-col="AskPrice1"] button`);
        button.click();  // read and click in one task: no tick can come in between
        return [button.textContent, document.querySelector("#order-price").value];
    }""", rb)
    assert float(price) == float(ask)
    expect(page.locator("#order-instrument")).to_have_value(rb)
    expect(page.locator('input[name="direction"][value="0"]')).to_be_checked()
    page.evaluate("""(id) => document.querySelector(
        `#quotes tr[data-instrument="${id}"] td[data-col="BidPrice1"] button`).click()""", rb)
    expect(page.locator('input[name="direction"][value="1"]')).to_be_checked()

    # A limit buy at the upper limit crosses the book and fills.
    upper = cell(row, "UpperLimitPrice").inner_text()
    ticket(page, rb, side="buy", offset="0", volume=2, price=upper)
    expect(page.locator("#order-send")).to_have_text("Buy open")
    send(page)
    message = page.locator("#order-message")
    expect(message).to_contain_text(f"Buy open 2 {rb} @ {upper}: filled, 2/2 traded")
    # ... and a market buy fills too.
    ticket(page, rb, side="buy", offset="0", volume=1, kind="market")
    expect(page.locator("#order-price")).to_be_disabled()
    send(page)
    expect(message).to_contain_text(f"Buy open 1 {rb} at market: filled, 1/1 traded")

    show_tab(page, "Trades")
    trades = page.locator("#trades tbody tr", has_text=rb)
    expect(trades).to_have_count(2)
    show_tab(page, "Orders")
    expect(page.locator("#orders tbody tr", has_text=rb).filter(has_text="Filled")).to_have_count(2)
    show_tab(page, "Positions")
    position = page.locator("#positions tbody tr", has_text=rb)
    expect(position).to_have_count(1)
    expect(position.locator("td").nth(1)).to_have_text("Long")
    expect(position.locator("td").nth(2)).to_have_text("3")
    expect(position.locator("td").nth(3)).to_have_text("3")  # all of it opened today
    expect(position.locator("td").nth(8)).to_have_text(re.compile(r"^-?[\d,]+\.\d\d$"))

    # The account shows what the server books, kept current from the trade pushes.
    account = server_account(session["td"].url, session["user"])
    assert account["CurrMargin"] > 0 and account["Commission"] > 0
    expect(page.locator('#account dd[data-field="CurrMargin"]')).to_have_text(
        money(account["CurrMargin"]))
    expect(page.locator('#account dd[data-field="Commission"]')).to_have_text(
        money(account["Commission"]))
    expect(page.locator('#account dd[data-field="PositionProfit"]')).to_have_text(
        re.compile(r"^-?[\d,]+\.\d\d$"))

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000


def test_resting_order_canceled_from_its_row(session) -> None:
    page = session["page"]
    rb = instrument(page, "rb")
    row = on_board(page, rb)
    lower = cell(row, "LowerLimitPrice").inner_text()
    ticket(page, rb, side="buy", offset="0", volume=1, price=lower)
    send(page)
    expect(page.locator("#order-message")).to_contain_text(
        f"Buy open 1 {rb} @ {lower}: queued, 0/1 traded")
    order_sys_id = re.search(r"OrderSysID (\S+)\)",
                             page.locator("#order-message").inner_text()).group(1)
    show_tab(page, "Working")
    working = page.locator("#working tbody tr", has_text=order_sys_id)
    expect(working).to_have_count(1)
    expect(page.locator('[data-count="working"]')).to_have_text("1")
    working.get_by_role("button", name=re.compile(f"^Cancel order {order_sys_id}")).click()
    expect(working).to_have_count(0)
    expect(page.locator('[data-count="working"]')).to_have_text("0")
    show_tab(page, "Orders")
    canceled = page.locator("#orders tbody tr", has_text=order_sys_id)
    expect(canceled.locator("td").nth(8)).to_have_text("Canceled")


def test_rejected_order_shows_error_id_and_message(session) -> None:
    page = session["page"]
    au = instrument(page, "au")
    row = on_board(page, au)
    last = cell(row, "LastPrice").inner_text()
    # Closing a position that does not exist: CTP's 30.
    ticket(page, au, side="sell", offset="1", volume=1, price=last)
    expect(page.locator("#order-send")).to_have_text("Sell close")
    send(page)
    message = page.locator("#order-message")
    expect(message).to_contain_text(f"Rejected: Sell close 1 {au} @ {last} — [30] ")
    assert len(message.inner_text().split("[30] ", 1)[1]) > 3  # the server's ErrorMsg
    expect(message).to_have_attribute("role", "alert")
    show_tab(page, "Log")
    expect(page.locator("#log li.error", has_text="ErrRtnOrderInsert [30]")).to_have_count(1)
    expect(page.locator("#log li.error", has_text="RspOrderInsert #")).to_have_count(1)


def test_page_recovers_after_td_server_restart(session) -> None:
    page, td = session["page"], session["td"]
    rb = instrument(page, "rb")
    show_tab(page, "Log")
    td.terminate()
    expect(page.locator("#td-status")).to_have_attribute("data-state",
                                                         re.compile("offline|connecting"))
    expect(page.locator("#md-status")).to_have_text("md: online")
    td.start(port=td.port)
    expect(page.locator("#td-status")).to_have_text("td: online")
    expect(page.locator("#order-message")).to_contain_text(
        "Reconnected: logged in again and refreshed.")
    # The tables were re-queried from the restarted server (its journal kept everything).
    show_tab(page, "Positions")
    position = page.locator("#positions tbody tr", has_text=rb)
    expect(position.locator("td").nth(2)).to_have_text("3")
    show_tab(page, "Trades")
    expect(page.locator("#trades tbody tr", has_text=rb)).to_have_count(2)
    # And trading works again.
    on_board(page, rb)
    ticket(page, rb, side="sell", offset="3", volume=1, kind="market")
    send(page)
    expect(page.locator("#order-message")).to_contain_text(
        f"Sell close today 1 {rb} at market: filled, 1/1 traded")
    show_tab(page, "Positions")
    expect(position.locator("td").nth(2)).to_have_text("2")
    assert not session["watch"].errors, session["watch"].errors


def test_page_resubscribes_after_md_server_restart(session) -> None:
    page, md = session["page"], session["md"]
    rows_before = page.locator("#quotes tbody tr").count()
    assert rows_before > 0
    row = page.locator("#quotes tbody tr").first
    board = page.eval_on_selector_all("#quotes tbody tr", "rs => rs.map(r => r.dataset.instrument)")
    subscribes = page.locator("#log li", has_text="md → SubscribeMarketData")
    sent_before = subscribes.count()
    md.terminate()
    expect(page.locator("#md-status")).to_have_attribute("data-state",
                                                         re.compile("offline|connecting"))
    stale = cell(row, "UpdateTime").inner_text()
    md.start(port=md.port)
    expect(page.locator("#md-status")).to_have_text("md: online")
    # Subscriptions were sent again by themselves: the same rows tick again.
    expect(cell(row, "UpdateTime")).not_to_have_text(stale)
    expect(page.locator("#quotes tbody tr")).to_have_count(rows_before)
    expect(subscribes).to_have_count(sent_before + 1)
    resent = subscribes.first.inner_text()  # the log is newest first
    assert all(f'"{instrument_id}"' in resent for instrument_id in board), (board, resent)
    assert not session["watch"].errors, session["watch"].errors
