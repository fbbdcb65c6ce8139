/**
 * app.mjs — the trading page: wires two wsbridge connections (md, td) to the DOM.
 *
 * Everything on the wire goes through wsbridge.mjs; CTP vocabulary and arithmetic are in
 * ctp.mjs. Tables are kept current from pushes: RtnOrder / RtnTrade update their rows at
 * once, and a trade (or an order status change) re-queries positions and the account
 * once, debounced. Position P&L moves with every tick in between.
 */

import { Connection, ConnectionError, errorOf, WsbridgeError } from "./wsbridge.mjs";
import * as ctp from "./ctp.mjs";
import { PriceChart } from "./chart.mjs";
import { KeyedTable } from "./table.mjs";

const $ = (selector) => document.querySelector(selector);
const HISTORY = 600; // chart points kept per instrument (5 minutes of 500 ms ticks)
const LOG_LIMIT = 500;
const REFRESH_DELAY = 250; // ms: one re-query after a burst of pushes
const DEFAULT_BOARD = 6; // instruments subscribed on a first visit
const STORE = "wsbridge.page";

const state = {
  md: null,
  td: null,
  instruments: new Map(), // InstrumentID -> Instrument
  quotes: new Map(), // InstrumentID -> {depth, tr, cells, history}
  selected: "",
  orders: new Map(), // orderKey -> Order
  positions: new Map(), // InstrumentID:PosiDirection -> merged position
  account: null,
  tickets: new Map(), // orderKey of orders sent from this page -> {requestId, text}
  rows: new Map(), // channel:RequestID -> rows seen so far, for the log
  errors: 0,
  timers: new Map(),
};

// --- storage and addresses ---------------------------------------------------------------

function loadStore() {
  try {
    return JSON.parse(localStorage.getItem(STORE) ?? "{}") ?? {};
  } catch {
    return {};
  }
}

function saveStore(changes) {
  try {
    localStorage.setItem(STORE, JSON.stringify({ ...loadStore(), ...changes }));
  } catch {
    // storage unavailable (private mode, file://): the page works without it
  }
}

/**
 * The md and td addresses: ?md=&td= if given; else derived from the server that served
 * the page (its /healthz names its side; the other side is on the neighbouring port,
 * md 8080 / td 8081 by default); else the defaults on this host.
 */
async function defaultAddresses() {
  const query = new URLSearchParams(location.search);
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const host = location.hostname || "127.0.0.1";
  const hostPart = host.includes(":") ? `[${host}]` : host;
  const url = (port) => `${scheme}://${hostPart}:${port}/`;
  let md = url(8080);
  let td = url(8081);
  if (location.protocol.startsWith("http")) {
    const port = Number(location.port) || (location.protocol === "https:" ? 443 : 80);
    let side = port === 8080 ? "md" : "td";
    try {
      const health = await (await fetch("/healthz", { cache: "no-store" })).json();
      if (health.app_type === "md" || health.app_type === "td") side = health.app_type;
    } catch {
      // not served by wsbridge: guess from the port
    }
    md = url(side === "md" ? port : port - 1);
    td = url(side === "td" ? port : port + 1);
  }
  return { md: query.get("md") || md, td: query.get("td") || td,
    user: query.get("user") || loadStore().user || "" };
}

// --- log -----------------------------------------------------------------------------------

function clock() {
  const now = new Date();
  return now.toTimeString().slice(0, 8) + "." + String(now.getMilliseconds()).padStart(3, "0");
}

function log(kind, channel, text) {
  const li = document.createElement("li");
  li.className = kind;
  const time = document.createElement("time");
  time.textContent = clock();
  li.append(time, ` ${channel} ${text}`);
  const list = $("#log");
  list.prepend(li);
  while (list.childElementCount > LOG_LIMIT) list.lastElementChild.remove();
  if (kind === "error") {
    state.errors += 1;
    const count = $('[data-count="errors"]');
    count.textContent = String(state.errors);
    count.classList.add("alert");
  }
}

function brief(value) {
  if (value === null || value === undefined) return "";
  const text = JSON.stringify(value);
  return text.length > 180 ? `${text.slice(0, 177)}…` : text;
}

function logTraffic(connection, channel) {
  connection.on("sent", (msg) => {
    const body = Object.fromEntries(Object.entries(msg).filter(([k]) =>
      k !== "MsgType" && k !== "RequestID"));
    if (body.ReqUserLogin?.Password) body.ReqUserLogin = { ...body.ReqUserLogin, Password: "***" };
    log("out", channel, `→ ${msg.MsgType} #${msg.RequestID} ${brief(Object.values(body)[0])}`);
  });
  connection.on("message", (msg) => {
    if (msg.MsgType === "RtnDepthMarketData") return;
    const error = errorOf(msg);
    const info = msg.RspInfo ? ` [${error}] ${msg.RspInfo.ErrorMsg ?? ""}` : "";
    const detail = msg.Detail ? ` (${msg.Detail})` : "";
    if (!("IsLast" in msg)) { // a push
      const body = Object.entries(msg).find(([k]) => !["MsgType", "RspInfo"].includes(k));
      log(error ? "error" : "push", channel,
        `• ${msg.MsgType}${error ? info : ""}${detail} ${brief(body?.[1])}`);
      return;
    }
    const id = msg.RequestID;
    const key = `${channel}:${id}`; // each connection numbers its own requests
    const rows = (state.rows.get(key) ?? 0) + 1;
    if (!msg.IsLast && !error) {
      state.rows.set(key, rows);
      return;
    }
    state.rows.delete(key);
    const count = rows > 1 ? ` ${rows} rows` : "";
    log(error ? "error" : "in", channel, `← ${msg.MsgType} #${id}${info}${detail}${count}`);
  });
  connection.on("error", (err) => log("error", channel, `! ${err.message}`));
}

// --- connection status ------------------------------------------------------------------------

function showStatus(channel) {
  const connection = state[channel];
  const badge = $(`#${channel}-status`);
  let text;
  let kind = connection?.state ?? "idle";
  switch (kind) {
    case "online":
      text = "online";
      if (!connection.upstreamConnected) {
        kind = "degraded";
        text = "online, back end down";
      }
      break;
    case "open":
      text = "connected, not logged in";
      break;
    case "connecting":
      text = "connecting…";
      break;
    case "offline":
      text = "offline, reconnecting";
      break;
    default:
      text = "offline";
  }
  badge.dataset.state = kind;
  badge.textContent = `${channel}: ${text}`;
}

function watchStatus(connection, channel) {
  connection.on("state", ({ state: now, retryIn, error }) => {
    showStatus(channel);
    if (now === "offline") {
      log("error", channel, `! ${error?.message ?? "disconnected"}; retry in ${
        (retryIn / 1000).toFixed(1)} s`);
    }
  });
  connection.on("upstream", ({ connected }) => {
    showStatus(channel);
    if (connected && channel === "td" && connection.online) soon("all", refreshAll);
  });
}

// --- login / logout -----------------------------------------------------------------------

async function login(event) {
  event.preventDefault();
  const mdUrl = $("#md-url").value.trim();
  const tdUrl = $("#td-url").value.trim();
  const fields = { UserID: $("#user-id").value.trim(), Password: $("#password").value };
  const token = $("#token").value.trim();
  setLoggedIn("pending");
  closeConnections();
  const md = new Connection(mdUrl, { token });
  const td = new Connection(tdUrl, { token });
  state.md = md;
  state.td = td;
  for (const [connection, channel] of [[md, "md"], [td, "td"]]) {
    logTraffic(connection, channel);
    watchStatus(connection, channel);
  }
  md.on("RtnDepthMarketData", (msg) => onTick(msg.DepthMarketData));
  wireTrading(td);
  try {
    await Promise.all([
      md.connect().then(() => md.login(fields)).catch((err) => Promise.reject(prefix("md", err))),
      td.connect().then(() => td.login(fields)).catch((err) => Promise.reject(prefix("td", err))),
    ]);
  } catch (err) {
    closeConnections();
    setLoggedIn(false);
    message(`Login failed: ${err.message}`, "error");
    return;
  }
  saveStore({ user: fields.UserID });
  setLoggedIn(true);
  message(`Logged in as ${fields.UserID}.`, "ok");
  await onTradingLogin(false);
  await restoreBoard();
}

function prefix(channel, err) {
  const wrapped = new Error(`${channel}: ${err.message}`);
  wrapped.cause = err;
  return wrapped;
}

function closeConnections() {
  for (const channel of ["md", "td"]) {
    state[channel]?.close();
    state[channel] = null;
    showStatus(channel);
  }
}

function logout() {
  closeConnections();
  resetTables();
  setLoggedIn(false);
  message("Logged out.", "");
}

function setLoggedIn(value) {
  const busy = value === "pending";
  for (const input of $("#connect-form").querySelectorAll("input")) {
    input.disabled = value === true || busy;
  }
  $("#login-btn").disabled = value === true || busy;
  $("#logout-btn").disabled = value !== true;
  $("#order-send").disabled = value !== true;
  document.body.dataset.loggedIn = String(value === true);
}

function resetTables() {
  for (const id of [...state.quotes.keys()]) removeQuoteRow(id);
  for (const table of [workingTable, ordersTable, tradesTable, positionsTable]) table.clear();
  state.orders.clear();
  state.positions.clear();
  state.tickets.clear();
  state.account = null;
  state.selected = "";
  renderAccount();
  renderCounts();
  showChart();
  renderDepth();
}

// --- instruments and the market board ---------------------------------------------------------

async function loadInstruments() {
  const rows = await state.td.query("ReqQryInstrument", {});
  state.instruments = new Map(rows.map((row) => [row.InstrumentID, row]));
  const sorted = [...state.instruments.values()].sort((a, b) =>
    (a.ExchangeID + a.InstrumentID).localeCompare(b.ExchangeID + b.InstrumentID));
  const options = sorted.map((row) => {
    const option = document.createElement("option");
    option.value = row.InstrumentID;
    option.textContent = `${row.InstrumentID}  ${row.InstrumentName ?? ""} (${row.ExchangeID})`;
    return option;
  });
  $("#instrument-ids").replaceChildren(...options.map((o) => o.cloneNode(true)));
  $("#instrument-list").replaceChildren(...options);
}

/** The board of the last visit, or one instrument of each of the first few products. */
async function restoreBoard() {
  let ids = loadStore().board;
  if (Array.isArray(ids)) ids = ids.filter((id) => state.instruments.has(id)); // this server's
  if (!Array.isArray(ids) || !ids.length) {
    const seen = new Set();
    ids = [];
    for (const row of state.instruments.values()) {
      const product = row.ProductID || row.InstrumentID;
      if (seen.has(product) || ids.length >= DEFAULT_BOARD) continue;
      seen.add(product);
      ids.push(row.InstrumentID);
    }
  }
  const held = [...state.positions.values()].map((p) => p.InstrumentID);
  await subscribe([...new Set([...ids, ...held])]);
  if (!state.selected && state.quotes.size) select(state.quotes.keys().next().value);
}

async function subscribe(ids) {
  const wanted = ids.map((id) => id.trim()).filter((id) => id && !state.quotes.has(id));
  if (!wanted.length) return;
  if (!state.md?.online) {
    message("Not connected to the market-data server.", "error");
    return;
  }
  for (const id of wanted) addQuoteRow(id);
  let rows;
  try {
    rows = await state.md.subscribe(wanted);
  } catch (err) {
    for (const id of wanted) removeQuoteRow(id);
    message(`Subscribe failed: ${err.message}`, "error");
    return;
  }
  for (const row of rows) {
    const id = row.SpecificInstrument?.InstrumentID;
    if (errorOf(row)) {
      removeQuoteRow(id);
      message(`${id}: [${row.RspInfo.ErrorID}] ${row.RspInfo.ErrorMsg}`, "error");
    }
  }
  saveBoard();
}

async function unsubscribe(id) {
  removeQuoteRow(id);
  saveBoard();
  if (state.selected === id) select(state.quotes.keys().next().value ?? "");
  try {
    await state.md?.unsubscribe([id]);
  } catch (err) {
    message(`Unsubscribe failed: ${err.message}`, "error");
  }
}

function saveBoard() {
  saveStore({ board: [...state.quotes.keys()] });
}

const QUOTE_COLUMNS = ["InstrumentID", "LastPrice", "Change", "Percent", "BidPrice1",
  "BidVolume1", "AskPrice1", "AskVolume1", "Volume", "OpenInterest", "UpperLimitPrice",
  "LowerLimitPrice", "UpdateTime", "Remove"];

function addQuoteRow(id) {
  const tr = document.createElement("tr");
  tr.dataset.instrument = id;
  const cells = {};
  for (const name of QUOTE_COLUMNS) {
    const cell = document.createElement("td");
    cell.dataset.col = name;
    cells[name] = cell;
    tr.append(cell);
  }
  const pick = (label, onClick) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.textContent = label;
    button.addEventListener("click", onClick);
    return button;
  };
  cells.InstrumentID.append(pick(id, () => select(id)));
  cells.InstrumentID.firstChild.setAttribute("aria-label", `Select ${id}`);
  for (const [name, side] of [["LastPrice", null], ["BidPrice1", "1"], ["AskPrice1", "0"]]) {
    const button = pick("–", () => fillTicket(id, state.quotes.get(id)?.depth?.[name], side));
    button.classList.add("quote");
    button.setAttribute("aria-label", `${id} ${name.replace("Price1", "")}: use price`);
    cells[name].append(button);
  }
  const remove = pick("×", () => unsubscribe(id));
  remove.classList.add("remove");
  remove.setAttribute("aria-label", `Unsubscribe ${id}`);
  remove.title = `Unsubscribe ${id}`;
  cells.Remove.append(remove);
  $("#quotes tbody").append(tr);
  state.quotes.set(id, { depth: null, tr, cells, history: [] });
}

function removeQuoteRow(id) {
  state.quotes.get(id)?.tr.remove();
  state.quotes.delete(id);
}

function onTick(depth) {
  const quote = state.quotes.get(depth.InstrumentID);
  if (!quote) return;
  const previous = quote.depth;
  quote.depth = depth;
  const decimals = ctp.tickDecimals(state.instruments.get(depth.InstrumentID)?.PriceTick);
  const { cells } = quote;
  const set = (name, text) => {
    const target = cells[name].firstElementChild ?? cells[name];
    if (target.textContent !== text) target.textContent = text;
  };
  set("LastPrice", ctp.formatPrice(depth.LastPrice, decimals));
  set("BidPrice1", ctp.formatPrice(depth.BidPrice1, decimals));
  set("AskPrice1", ctp.formatPrice(depth.AskPrice1, decimals));
  set("BidVolume1", ctp.formatInt(depth.BidVolume1));
  set("AskVolume1", ctp.formatInt(depth.AskVolume1));
  set("Volume", ctp.formatInt(depth.Volume));
  set("OpenInterest", ctp.formatInt(depth.OpenInterest));
  set("UpperLimitPrice", ctp.formatPrice(depth.UpperLimitPrice, decimals));
  set("LowerLimitPrice", ctp.formatPrice(depth.LowerLimitPrice, decimals));
  set("UpdateTime", depth.UpdateTime ?? "");
  const change = ctp.priceChange(depth);
  set("Change", change ? signed(change.change.toFixed(decimals)) : "–");
  set("Percent", change ? `${signed(change.percent.toFixed(2))}%` : "–");
  const trend = !change || change.change === 0 ? "" : change.change > 0 ? "up" : "down";
  for (const name of ["LastPrice", "Change", "Percent"]) cells[name].dataset.trend = trend;
  if (previous && ctp.validPrice(previous.LastPrice) && previous.LastPrice !== depth.LastPrice) {
    flash(cells.LastPrice, depth.LastPrice > previous.LastPrice ? "flash-up" : "flash-down");
  }
  if (ctp.validPrice(depth.LastPrice)) {
    quote.history.push({ time: depth.UpdateTime ?? "", price: depth.LastPrice });
    if (quote.history.length > HISTORY) quote.history.splice(0, quote.history.length - HISTORY);
  }
  if (state.selected === depth.InstrumentID) {
    chart.redraw();
    renderDepth();
    if (!previous && $("#order-instrument").value === depth.InstrumentID
        && !$("#order-price").value) {
      fillTicket(depth.InstrumentID, depth.LastPrice, null); // its first tick: a price
    }
  }
  if ([...state.positions.values()].some((p) => p.InstrumentID === depth.InstrumentID)) {
    soon("positions-render", renderPositions, 0);
  }
}

function signed(text) {
  return Number(text) > 0 ? `+${text}` : text;
}

function flash(cell, kind) {
  cell.classList.remove("flash-up", "flash-down");
  void cell.offsetWidth; // restart the animation
  cell.classList.add(kind);
}

function select(id) {
  state.selected = id;
  for (const [key, quote] of state.quotes) quote.tr.classList.toggle("selected", key === id);
  if (id) fillTicket(id, undefined, null);
  showChart();
  renderDepth();
}

/** The selected instrument's five-level book: asks above, bids below; a click fills the ticket. */
function renderDepth() {
  const id = state.selected;
  const depth = state.quotes.get(id)?.depth;
  const decimals = decimalsOf(id);
  $("#depth-id").textContent = id;
  // [side, level, the direction that takes it: an ask is bought, a bid sold]
  const levels = [5, 4, 3, 2, 1].map((n) => ["Ask", n, "0"])
    .concat([1, 2, 3, 4, 5].map((n) => ["Bid", n, "1"]));
  const body = $("#depth tbody");
  if (body.rows.length !== levels.length) {
    body.replaceChildren(...levels.map(([side, n, direction]) => {
      const tr = document.createElement("tr");
      tr.className = side.toLowerCase();
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link quote";
      button.addEventListener("click", () => fillTicket(state.selected,
        state.quotes.get(state.selected)?.depth?.[`${side}Price${n}`], direction));
      tr.append(Object.assign(document.createElement("td"), { textContent: `${side} ${n}` }),
        document.createElement("td"), document.createElement("td"));
      tr.cells[1].append(button);
      return tr;
    }));
  }
  levels.forEach(([side, n], i) => {
    const row = body.rows[i];
    const price = depth?.[`${side}Price${n}`];
    const volume = depth?.[`${side}Volume${n}`];
    const button = row.cells[1].firstChild;
    const text = ctp.formatPrice(price, decimals);
    if (button.textContent !== text) button.textContent = text;
    button.disabled = !ctp.validPrice(price);
    button.setAttribute("aria-label", `${side} ${n} ${text}: use price`);
    row.cells[2].textContent = ctp.validPrice(price) ? ctp.formatInt(volume) : "";
  });
}

function showChart() {
  const id = state.selected;
  const quote = state.quotes.get(id);
  const instrument = state.instruments.get(id);
  $("#chart-title").textContent = id
    ? `${id} ${instrument?.InstrumentName ?? ""} — last price` : "Select an instrument";
  const reference = quote?.depth?.PreSettlementPrice || quote?.depth?.PreClosePrice;
  chart.show(quote?.history ?? [], { decimals: ctp.tickDecimals(instrument?.PriceTick),
    reference: ctp.validPrice(reference) ? reference : NaN });
}

// --- order ticket --------------------------------------------------------------------------

/**
 * Put an instrument (and a price, and a side) on the ticket. Without a price, a new
 * instrument brings its last price; the same instrument keeps what was typed.
 */
function fillTicket(id, price, direction) {
  const changed = $("#order-instrument").value !== id;
  $("#order-instrument").value = id;
  const tick = state.instruments.get(id)?.PriceTick;
  $("#order-price").step = tick > 0 ? String(tick) : "any";
  if (price === undefined && (changed || !$("#order-price").value)) {
    price = state.quotes.get(id)?.depth?.LastPrice;
    if (!ctp.validPrice(price)) $("#order-price").value = "";
  }
  if (ctp.validPrice(price)) $("#order-price").value = price.toFixed(ctp.tickDecimals(tick));
  if (direction) {
    const radio = document.querySelector(`input[name="direction"][value="${direction}"]`);
    radio.checked = true;
  }
  updateSendLabel();
}

function ticket() {
  const type = $("#order-type").value;
  return {
    instrumentId: $("#order-instrument").value.trim(),
    price: Number($("#order-price").value),
    priceText: $("#order-price").value.trim(),
    volume: Number($("#order-volume").value),
    direction: document.querySelector('input[name="direction"]:checked').value,
    offset: $("#order-offset").value,
    type,
  };
}

function describe(t) {
  const price = t.type === "market" ? "at market" : `@ ${t.priceText}`;
  return `${ctp.DIRECTION[t.direction]} ${ctp.OFFSET[t.offset].toLowerCase()} ${t.volume} ` +
    `${t.instrumentId} ${price}`;
}

function updateSendLabel() {
  const t = ticket();
  const button = $("#order-send");
  button.textContent = `${ctp.DIRECTION[t.direction]} ${ctp.OFFSET[t.offset].toLowerCase()}`;
  button.dataset.side = t.direction === "0" ? "buy" : "sell";
  $("#order-price").disabled = t.type === "market";
}

function sendOrder(event) {
  event.preventDefault();
  const td = state.td;
  const t = ticket();
  if (!td?.online) {
    message("Not connected to the trading server.", "error");
    return;
  }
  if (!t.instrumentId) {
    message("Enter an instrument.", "error");
    return;
  }
  if (!Number.isInteger(t.volume) || t.volume < 1) {
    message("Volume must be a whole number of at least 1.", "error");
    return;
  }
  if (t.type === "limit" && !(t.price > 0)) {
    message("Enter a limit price (click a quote to fill it).", "error");
    return;
  }
  const orderRef = td.nextOrderRef();
  const order = ctp.inputOrder({ ...t, session: td.session, orderRef,
    exchangeId: state.instruments.get(t.instrumentId)?.ExchangeID });
  let requestId;
  try {
    requestId = td.send("ReqOrderInsert", order);
  } catch (err) {
    message(`Not sent: ${err.message}`, "error");
    return;
  }
  const text = describe(t);
  state.tickets.set(ticketKey(orderRef), { requestId, text });
  message(`Sent: ${text} (${t.type}; OrderRef ${orderRef}, RequestID ${requestId})`, "pending");
}

/** Orders this page sent, by the key CTP gives them (this login's FrontID and SessionID). */
function ticketKey(orderRef) {
  const session = state.td?.session ?? {};
  return ctp.orderKey({ FrontID: session.FrontID, SessionID: session.SessionID, OrderRef: orderRef });
}

function message(text, kind) {
  const box = $("#order-message");
  box.textContent = text;
  box.dataset.kind = kind;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
}

// --- trading pushes ---------------------------------------------------------------------------

function wireTrading(td) {
  td.on("login", ({ relogin }) => relogin && onTradingLogin(true)); // the first: login()
  td.on("RtnOrder", (msg) => onOrder(msg.Order));
  td.on("RtnTrade", (msg) => onTrade(msg.Trade));
  td.on("RspOrderInsert", (msg) => onInsertRejected(msg.InputOrder, msg));
  td.on("ErrRtnOrderInsert", (msg) => onInsertRejected(msg.InputOrder, msg));
  td.on("RspOrderAction", (msg) => onCancelRejected(msg.InputOrderAction, msg));
  td.on("ErrRtnOrderAction", (msg) => onCancelRejected(msg.OrderAction, msg));
}

async function onTradingLogin(relogin) {
  const td = state.td;
  try {
    // Real CTP refuses orders until the day's settlement is confirmed; harmless elsewhere.
    await td.call("ReqSettlementInfoConfirm", { BrokerID: td.session.BrokerID ?? "",
      InvestorID: td.session.UserID ?? "" });
    if (!relogin || !state.instruments.size) await loadInstruments();
    await refreshAll();
    if (relogin) message("Reconnected: logged in again and refreshed.", "ok");
  } catch (err) {
    log("error", "td", `! refresh after login failed: ${err.message}`);
  }
}

/**
 * Re-query orders, trades, positions and the account. Each answer replaces its table the
 * moment it arrives: pushes before it are in it (one socket keeps order), pushes after
 * it are applied on top.
 */
async function refreshAll() {
  const td = state.td;
  const byTime = (a, b) => (a.InsertTime ?? a.TradeTime ?? "")
    .localeCompare(b.InsertTime ?? b.TradeTime ?? "");
  const orders = td.query("ReqQryOrder", {}).then((rows) => {
    state.orders.clear();
    workingTable.clear();
    ordersTable.clear();
    rows.sort(byTime).forEach((order) => onOrder(order, false));
  });
  const trades = td.query("ReqQryTrade", {}).then((rows) => {
    tradesTable.clear();
    rows.sort(byTime).forEach((trade) => tradesTable.upsert(trade));
  });
  await Promise.all([orders, trades, refreshPositions(), refreshAccount()]);
  renderCounts();
}

function onOrder(order, live = true) {
  const key = ctp.orderKey(order);
  state.orders.set(key, order);
  ordersTable.upsert(order);
  if (ctp.isWorking(order)) workingTable.upsert(order);
  else workingTable.remove(key);
  renderCounts();
  if (!live) return;
  const sent = state.tickets.get(key);
  if (sent) {
    const status = ctp.ORDER_STATUS[order.OrderStatus] ?? order.OrderStatus;
    const rejected = order.OrderSubmitStatus === ctp.SUBMIT_REJECTED;
    message(`${sent.text}: ${rejected ? "rejected" : status.toLowerCase()}, ` +
      `${order.VolumeTraded}/${order.VolumeTotalOriginal} traded` +
      `${order.OrderSysID ? ` (OrderSysID ${order.OrderSysID.trim()})` : ""}` +
      `${order.StatusMsg && rejected ? ` — ${order.StatusMsg}` : ""}`,
    rejected ? "error" : "ok");
  }
  soon("account", refreshAccount);
}

function onTrade(trade) {
  tradesTable.upsert(trade);
  renderCounts();
  soon("positions", refreshPositions);
  soon("account", refreshAccount);
}

function onInsertRejected(input, msg) {
  const sent = state.tickets.get(ticketKey(input?.OrderRef ?? ""));
  const info = msg.RspInfo ?? {};
  if (!sent || sent.rejected) return; // RspOrderInsert and ErrRtnOrderInsert: show once
  sent.rejected = true;
  message(`Rejected: ${sent.text} — [${info.ErrorID}] ${info.ErrorMsg ?? ""}`, "error");
}

function onCancelRejected(action, msg) {
  const info = msg.RspInfo ?? {};
  if (!info.ErrorID) return;
  const which = action?.OrderSysID?.trim() || action?.OrderRef || "";
  message(`Cancel of ${which} rejected — [${info.ErrorID}] ${info.ErrorMsg ?? ""}`, "error");
  for (const button of workingTable.tbody.querySelectorAll("button[data-canceling]")) {
    delete button.dataset.canceling;
    button.disabled = false;
    button.textContent = "Cancel";
  }
}

function cancel(order, button) {
  const td = state.td;
  try {
    td.send("ReqOrderAction", ctp.cancelAction(order, td.session));
  } catch (err) {
    message(`Cancel not sent: ${err.message}`, "error");
    return;
  }
  button.disabled = true;
  button.dataset.canceling = "1";
  button.textContent = "Canceling…";
  message(`Cancel sent for ${order.OrderSysID?.trim() || order.OrderRef} ` +
    `(${order.InstrumentID}).`, "pending");
}

async function refreshPositions() {
  const rows = await state.td.query("ReqQryInvestorPosition", {});
  state.positions = ctp.mergePositions(rows);
  const missing = [...state.positions.values()].map((p) => p.InstrumentID)
    .filter((id) => !state.quotes.has(id));
  if (missing.length) await subscribe([...new Set(missing)]); // ticks mark positions
  renderPositions();
}

async function refreshAccount() {
  const rows = await state.td.query("ReqQryTradingAccount", {});
  state.account = rows[0] ?? null;
  renderAccount();
}

/** Run `fn` once, `delay` ms after the last of a burst of calls with this name. */
function soon(name, fn, delay = REFRESH_DELAY) {
  clearTimeout(state.timers.get(name));
  state.timers.set(name, setTimeout(async () => {
    state.timers.delete(name);
    if (!state.td?.online) return;
    try {
      await fn();
    } catch (err) {
      if (err instanceof ConnectionError) return; // offline: the re-login refreshes
      log("error", "td", `! ${err.message}`);
      if (!(err instanceof WsbridgeError)) console.error(err);
    }
  }, delay));
}

// --- tables -----------------------------------------------------------------------------------

function decimalsOf(id) {
  return ctp.tickDecimals(state.instruments.get(id)?.PriceTick);
}

function multipleOf(id) {
  return state.instruments.get(id)?.VolumeMultiple || 1;
}

const ORDER_COLUMNS = [
  { text: (o) => o.InsertTime ?? "" },
  { text: (o) => (o.OrderSysID ?? "").trim() },
  { text: (o) => o.InstrumentID },
  { text: (o) => ctp.DIRECTION[o.Direction] ?? o.Direction,
    className: (o) => (o.Direction === "0" ? "buy" : "sell") },
  { text: (o) => ctp.OFFSET[o.CombOffsetFlag?.[0]] ?? o.CombOffsetFlag },
  { text: (o) => (o.OrderPriceType === "1" ? "market"
    : ctp.formatPrice(o.LimitPrice, decimalsOf(o.InstrumentID))), className: () => "num" },
  { text: (o) => String(o.VolumeTotalOriginal), className: () => "num" },
  { text: (o) => String(o.VolumeTraded), className: () => "num" },
  { text: (o) => (o.OrderSubmitStatus === ctp.SUBMIT_REJECTED ? "Rejected"
    : ctp.ORDER_STATUS[o.OrderStatus] ?? o.OrderStatus),
  className: (o) => `status-${o.OrderStatus}` },
];

const workingTable = new KeyedTable($("#working tbody"), [...ORDER_COLUMNS, {
  build(order, cell) {
    let button = cell.firstElementChild;
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.textContent = "Cancel";
      button.className = "cancel";
      cell.append(button);
    }
    const name = (order.OrderSysID ?? "").trim() || order.OrderRef;
    button.setAttribute("aria-label", `Cancel order ${name} ${order.InstrumentID}`);
    button.onclick = () => cancel(state.orders.get(ctp.orderKey(order)) ?? order, button);
  },
}], ctp.orderKey);

const ordersTable = new KeyedTable($("#orders tbody"), [...ORDER_COLUMNS,
  { text: (o) => o.StatusMsg ?? "" }], ctp.orderKey);

const tradesTable = new KeyedTable($("#trades tbody"), [
  { text: (t) => t.TradeTime ?? "" },
  { text: (t) => (t.TradeID ?? "").trim() },
  { text: (t) => (t.OrderSysID ?? "").trim() },
  { text: (t) => t.InstrumentID },
  { text: (t) => ctp.DIRECTION[t.Direction] ?? t.Direction,
    className: (t) => (t.Direction === "0" ? "buy" : "sell") },
  { text: (t) => ctp.OFFSET[t.OffsetFlag] ?? t.OffsetFlag },
  { text: (t) => ctp.formatPrice(t.Price, decimalsOf(t.InstrumentID)), className: () => "num" },
  { text: (t) => String(t.Volume), className: () => "num" },
], (t) => `${t.ExchangeID}:${(t.TradeID ?? "").trim()}:${t.Direction}`);

function lastPrice(id) {
  return state.quotes.get(id)?.depth?.LastPrice;
}

function livePositionProfit(pos) {
  return ctp.positionProfit(pos, lastPrice(pos.InstrumentID), multipleOf(pos.InstrumentID));
}

const positionsTable = new KeyedTable($("#positions tbody"), [
  { text: (p) => p.InstrumentID },
  { text: (p) => ctp.POSI_DIRECTION[p.PosiDirection] ?? p.PosiDirection,
    className: (p) => (p.PosiDirection === "3" ? "sell" : "buy") },
  { text: (p) => String(p.Position), className: () => "num" },
  { text: (p) => String(p.TodayPosition), className: () => "num" },
  { text: (p) => String(p.YdPosition), className: () => "num" },
  { text: (p) => ctp.formatPrice(ctp.averagePrice(p, multipleOf(p.InstrumentID)),
    decimalsOf(p.InstrumentID)), className: () => "num" },
  { text: (p) => ctp.formatPrice(lastPrice(p.InstrumentID), decimalsOf(p.InstrumentID)),
    className: () => "num" },
  { text: (p) => ctp.formatMoney(p.UseMargin), className: () => "num" },
  { text: (p) => ctp.formatMoney(livePositionProfit(p)), className: (p) => {
    const value = livePositionProfit(p);
    return `num ${value > 0 ? "up" : value < 0 ? "down" : ""}`;
  } },
  { build(pos, cell) {
    let button = cell.firstElementChild;
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.textContent = "Close…";
      cell.append(button);
    }
    button.setAttribute("aria-label", `Fill the ticket to close ${pos.InstrumentID} ${
      ctp.POSI_DIRECTION[pos.PosiDirection]}`);
    button.onclick = () => closeTicket(pos);
  } },
], (p) => p.key);

function closeTicket(pos) {
  const sell = pos.PosiDirection !== "3";
  const depth = state.quotes.get(pos.InstrumentID)?.depth;
  fillTicket(pos.InstrumentID, sell ? depth?.BidPrice1 : depth?.AskPrice1, sell ? "1" : "0");
  $("#order-volume").value = String(pos.Position);
  $("#order-offset").value = pos.YdPosition > 0 ? "1" : "3";
  updateSendLabel();
  $("#order-price").focus();
}

function renderPositions() {
  for (const key of [...positionsTable.rows.keys()]) {
    if (!state.positions.has(key)) positionsTable.remove(key);
  }
  for (const pos of state.positions.values()) positionsTable.upsert(pos);
  renderAccount();
  renderCounts();
}

function renderAccount() {
  const account = state.positions.size || state.account
    ? ctp.liveAccount(state.account, [...state.positions.values()]
      .reduce((sum, p) => sum + livePositionProfit(p), 0))
    : null;
  $("#account-id").textContent = account
    ? `${account.AccountID ?? ""} ${account.CurrencyID ?? ""}`.trim() : "";
  for (const dd of document.querySelectorAll("#account dd")) {
    const value = account?.[dd.dataset.field];
    dd.textContent = ctp.formatMoney(value);
    const signedField = ["CloseProfit", "PositionProfit"].includes(dd.dataset.field);
    dd.dataset.trend = signedField && value ? (value > 0 ? "up" : "down") : "";
  }
}

function renderCounts() {
  $('[data-count="working"]').textContent = String(workingTable.size);
  $('[data-count="orders"]').textContent = String(ordersTable.size);
  $('[data-count="trades"]').textContent = String(tradesTable.size);
  $('[data-count="positions"]').textContent = String(positionsTable.size);
}

// --- tabs ------------------------------------------------------------------------------------

function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const activate = (tab, focus) => {
    for (const other of tabs) {
      const on = other === tab;
      other.setAttribute("aria-selected", String(on));
      other.tabIndex = on ? 0 : -1;
      document.getElementById(other.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => activate(tab, false));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (step) activate(tabs[(i + step + tabs.length) % tabs.length], true);
      else if (event.key === "Home") activate(tabs[0], true);
      else if (event.key === "End") activate(tabs[tabs.length - 1], true);
      else return;
      event.preventDefault();
    });
  });
}

// --- start -------------------------------------------------------------------------------------

const chart = new PriceChart($("#chart"));

async function start() {
  setupTabs();
  const defaults = await defaultAddresses();
  $("#md-url").value = defaults.md;
  $("#td-url").value = defaults.td;
  $("#user-id").value = defaults.user;
  $("#connect-form").addEventListener("submit", login);
  $("#logout-btn").addEventListener("click", logout);
  $("#subscribe-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("#subscribe-input");
    const ids = input.value.split(/[\s,]+/).filter(Boolean);
    input.value = "";
    subscribe(ids).then(() => { if (ids.length === 1 && state.quotes.has(ids[0])) select(ids[0]); });
  });
  $("#browse-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("#instrument-list").value;
    if (id) subscribe([id]).then(() => select(id));
  });
  $("#order-form").addEventListener("submit", sendOrder);
  $("#order-form").addEventListener("input", updateSendLabel);
  $("#order-instrument").addEventListener("change", () =>
    fillTicket($("#order-instrument").value.trim(), undefined, null));
  setLoggedIn(false);
  updateSendLabel();
  showChart();
  document.body.dataset.ready = "true";
}

start();
