/**
 * wsbridge.mjs — a client for wsbridge (and any webctp-compatible server) in one ES module.
 *
 * No dependencies and no DOM: it runs in a browser, in Node 22 (built-in WebSocket) or
 * Node 20 with --experimental-websocket, or anywhere a WebSocket class is passed in.
 *
 *   import { Connection } from "./wsbridge.mjs";
 *   const td = new Connection("ws://127.0.0.1:8081/");
 *   td.on("RtnOrder", (msg) => console.log(msg.Order.OrderStatus));
 *   await td.connect();
 *   await td.login({ UserID: "alice", Password: "secret" });
 *   const accounts = await td.query("ReqQryTradingAccount");
 *
 * Requests and their answers are matched by RequestID; an answer is every message up to
 * the one with IsLast. Everything else (pushes, and answers to requests made with
 * send()) is emitted as events. After a dropped connection the Connection reconnects
 * with back-off, logs in again with the same fields and re-subscribes its instruments.
 */

/** The body key of each request whose key is not simply its MsgType minus "Req". */
export const BODY_KEYS = Object.freeze({
  ReqAuthenticate: "ReqAuthenticate",
  ReqBatchOrderAction: "InputBatchOrderAction",
  ReqCancelOffsetSetting: "InputOffsetSetting",
  ReqCombActionInsert: "InputCombAction",
  ReqExecOrderAction: "InputExecOrderAction",
  ReqExecOrderInsert: "InputExecOrder",
  ReqForQuoteInsert: "InputForQuote",
  ReqFromBankToFutureByFuture: "ReqTransfer",
  ReqFromFutureToBankByFuture: "ReqTransfer",
  ReqGenUserCaptcha: "ReqGenUserCaptcha",
  ReqGenUserText: "ReqGenUserText",
  ReqOffsetSetting: "InputOffsetSetting",
  ReqOptionSelfCloseAction: "InputOptionSelfCloseAction",
  ReqOptionSelfCloseInsert: "InputOptionSelfClose",
  ReqOrderAction: "InputOrderAction",
  ReqOrderInsert: "InputOrder",
  ReqParkedOrderInsert: "ParkedOrder",
  ReqQrySecAgentTradingAccount: "QryTradingAccount",
  ReqQueryBankAccountMoneyByFuture: "ReqQueryAccount",
  ReqQuoteAction: "InputQuoteAction",
  ReqQuoteInsert: "InputQuote",
  ReqUserAuthMethod: "ReqUserAuthMethod",
  ReqUserLogin: "ReqUserLogin",
  ReqUserLoginWithCaptcha: "ReqUserLoginWithCaptcha",
  ReqUserLoginWithOTP: "ReqUserLoginWithOTP",
  ReqUserLoginWithText: "ReqUserLoginWithText",
});

/** md requests that carry a top-level InstrumentID array instead of a body. */
export const INSTRUMENT_LIST_REQUESTS = Object.freeze(new Set([
  "SubscribeMarketData", "UnSubscribeMarketData",
  "SubscribeForQuoteRsp", "UnSubscribeForQuoteRsp",
]));

const ENVELOPE = new Set(["MsgType", "RspInfo", "RequestID", "IsLast", "Detail"]);

/** webctp's body key for a request MsgType (the CTP struct name without its affixes). */
export function bodyKey(msgType) {
  return BODY_KEYS[msgType] ?? msgType.replace(/^Req/, "");
}

/** The body of a response or push: its one value that is not envelope (or null). */
export function bodyOf(msg) {
  for (const key of Object.keys(msg)) {
    if (!ENVELOPE.has(key)) return msg[key];
  }
  return null;
}

/** A message's ErrorID (0 when it has no RspInfo). */
export function errorOf(msg) {
  return msg?.RspInfo?.ErrorID ?? 0;
}

/** The server answered with a non-zero ErrorID. */
export class WsbridgeError extends Error {
  constructor(msg) {
    const info = msg.RspInfo ?? {};
    super(`${msg.MsgType}: [${info.ErrorID}] ${info.ErrorMsg ?? ""}`);
    this.name = "WsbridgeError";
    this.errorId = info.ErrorID;
    this.errorMsg = info.ErrorMsg ?? "";
    this.detail = msg.Detail ?? null;
    this.response = msg;
  }
}

/** No answer could come: not connected, connection lost while waiting, or timed out. */
export class ConnectionError extends Error {
  constructor(message, reason) {
    super(message);
    this.name = "ConnectionError";
    this.reason = reason; // "offline" | "closed" | "timeout"
  }
}

/** Connection states, in the order a healthy connection passes through them. */
export const STATES = Object.freeze(["idle", "connecting", "open", "online", "offline", "closed"]);

/** `url` with `?token=` added (browsers cannot set an Authorization header). */
export function withToken(url, token) {
  if (!token) return url;
  const u = new URL(url);
  u.searchParams.set("token", token);
  return u.toString();
}

/**
 * One websocket connection to an md or td server, kept up until close().
 *
 * Events (on(type, fn) returns a function that removes the listener):
 *   "state"    {state, previous, retryIn?, error?}  idle/connecting/open/online/offline/closed
 *   "message"  every message received
 *   "sent"     every message sent
 *   "push"     every message that is not the answer to a pending call()
 *   <MsgType>  the same, by MsgType ("RtnOrder", "RtnDepthMarketData", "RspOrderInsert"...)
 *   "login"    {body, relogin}  after each successful login, the first and every re-login
 *   "upstream" {connected, msg}  the server's back end went down (FrontDisconnected) or up
 *   "error"    an Error no caller is waiting for (a failed re-login or re-subscribe)
 */
export class Connection {
  /**
   * @param {string} url  ws:// or wss:// address of the server
   * @param {object} [options]
   * @param {string} [options.token]  access token, sent as ?token=
   * @param {Function} [options.WebSocket]  WebSocket class (default: globalThis.WebSocket)
   * @param {boolean} [options.reconnect=true]  reconnect after the connection drops
   * @param {number} [options.backoffFirst=500]  first reconnect delay, ms (doubles)
   * @param {number} [options.backoffMax=10000]  longest reconnect delay, ms
   * @param {number} [options.timeout=15000]  how long call() waits for its last row, ms
   */
  constructor(url, options = {}) {
    this.url = url;
    this.token = options.token ?? "";
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this.WebSocket !== "function") {
      throw new Error("no WebSocket class: use Node 22+, node --experimental-websocket " +
        "on Node 20, or pass options.WebSocket");
    }
    this.reconnect = options.reconnect ?? true;
    this.backoffFirst = options.backoffFirst ?? 500;
    this.backoffMax = options.backoffMax ?? 10000;
    this.timeout = options.timeout ?? 15000;
    this.state = "idle";
    this.session = null; // the RspUserLogin body of the current login
    this.subscriptions = new Set(); // instruments re-subscribed after a reconnect
    this.upstreamConnected = true;
    this._ws = null;
    this._nextId = 1;
    this._pending = new Map(); // RequestID -> {resolve, reject, rows, timer}
    this._listeners = new Map();
    this._loginFields = null;
    this._orderRef = 0;
    this._backoff = this.backoffFirst;
    this._retryTimer = null;
    this._opened = null; // {resolve, reject} of a pending connect()
    this._everOpened = false;
  }

  /** True when the socket is open and logged in. */
  get online() {
    return this.state === "online";
  }

  // --- events -----------------------------------------------------------------------------

  on(type, fn) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(fn);
    return () => this.off(type, fn);
  }

  off(type, fn) {
    this._listeners.get(type)?.delete(fn);
  }

  /** The next event of a type (optionally one that `where` accepts), as a promise. */
  once(type, where = null, timeout = this.timeout) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new ConnectionError(`no ${type} within ${timeout} ms`, "timeout"));
      }, timeout);
      const off = this.on(type, (value) => {
        if (where && !where(value)) return;
        clearTimeout(timer);
        off();
        resolve(value);
      });
    });
  }

  _emit(type, value) {
    const listeners = this._listeners.get(type);
    if (!listeners) return;
    for (const fn of [...listeners]) {
      try {
        fn(value);
      } catch (err) {
        console.error(`wsbridge: ${type} listener failed:`, err);
      }
    }
  }

  _setState(state, extra = {}) {
    const previous = this.state;
    this.state = state;
    this._emit("state", { state, previous, ...extra });
  }

  // --- connection ---------------------------------------------------------------------------

  /**
   * Open the connection; resolves once the socket is open (and logged in again, if it was).
   * The very first attempt failing rejects (no retry); after that, drops are retried.
   */
  connect() {
    if (this.state === "open" || this.state === "online") return Promise.resolve();
    const opened = new Promise((resolve, reject) => {
      this._opened = { resolve, reject };
    });
    if (this.state !== "connecting") this._open();
    return opened;
  }

  _open() {
    clearTimeout(this._retryTimer);
    this._retryTimer = null;
    this._setState("connecting");
    let ws;
    try {
      ws = new this.WebSocket(withToken(this.url, this.token));
    } catch (err) {
      this._dropped(err);
      return;
    }
    this._ws = ws;
    ws.onopen = () => this._onOpen(ws);
    ws.onmessage = (event) => this._onMessage(event.data);
    const gone = (why) => {
      if (this._ws !== ws) return; // already handled (close after error, or replaced)
      this._ws = null;
      this._dropped(new ConnectionError(`connection closed (${why})`, "closed"));
    };
    ws.onclose = (event) => gone(event.reason || `code ${event.code}`);
    // Browsers follow an error with close; Node 20's WebSocket may not when connecting.
    ws.onerror = () => {
      if (ws.readyState === 1) return; // an open socket reports the end with close
      gone("cannot connect");
      try {
        ws.close();
      } catch {
        // already failed
      }
    };
  }

  async _onOpen(ws) {
    if (this._ws !== ws) return;
    this._backoff = this.backoffFirst;
    this._everOpened = true;
    this.upstreamConnected = true;
    this._setState("open");
    if (this._loginFields) {
      try {
        await this._login(this._loginFields, true);
      } catch (err) {
        this._emit("error", err);
      }
    }
    const opened = this._opened;
    this._opened = null;
    opened?.resolve();
  }

  _dropped(err) {
    this.session = null;
    for (const [id, waiter] of this._pending) {
      this._pending.delete(id);
      clearTimeout(waiter.timer);
      waiter.reject(new ConnectionError(`${waiter.msgType}: ${err.message}`, "closed"));
    }
    if (this.state === "closed") return;
    const opened = this._opened;
    // A first connect() that fails is most likely a wrong address: report it, don't retry.
    if (!this.reconnect || (opened && !this._everOpened)) {
      this._opened = null;
      this._setState("closed", { error: err });
      opened?.reject(err);
      return;
    }
    const delay = Math.round(this._backoff * (0.8 + 0.4 * Math.random()));
    this._backoff = Math.min(this._backoff * 2, this.backoffMax);
    this._setState("offline", { retryIn: delay, error: err });
    this._retryTimer = setTimeout(() => this._open(), delay);
  }

  /** Reconnect at once instead of waiting out the back-off. */
  retryNow() {
    if (this.state === "offline") {
      this._backoff = this.backoffFirst;
      this._open();
    }
  }

  /** Close for good: no reconnect; pending calls fail. */
  close() {
    clearTimeout(this._retryTimer);
    this._retryTimer = null;
    const ws = this._ws;
    this._ws = null;
    this._loginFields = null;
    const previous = this.state;
    this.state = "closed";
    this._dropped(new ConnectionError("connection closed by the client", "closed"));
    this._opened?.reject(new ConnectionError("connection closed by the client", "closed"));
    this._opened = null;
    if (previous !== "closed") this._emit("state", { state: "closed", previous });
    if (ws && ws.readyState <= 1) ws.close(1000, "client closing");
  }

  // --- messages -----------------------------------------------------------------------------

  _onMessage(data) {
    if (typeof data !== "string") return; // the protocol is text frames only
    let msg;
    try {
      msg = JSON.parse(data);
    } catch (err) {
      this._emit("error", new Error(`unreadable message from the server: ${err.message}`));
      return;
    }
    this._emit("message", msg);
    const waiter = "IsLast" in msg ? this._pending.get(msg.RequestID) : undefined;
    if (waiter) {
      waiter.rows.push(msg);
      if (msg.IsLast !== false) {
        this._pending.delete(msg.RequestID);
        clearTimeout(waiter.timer);
        waiter.resolve(waiter.rows);
      }
      return;
    }
    if (msg.MsgType === "FrontDisconnected" || msg.MsgType === "FrontConnected") {
      this.upstreamConnected = msg.MsgType === "FrontConnected";
      this._emit("upstream", { connected: this.upstreamConnected, msg });
    }
    this._emit("push", msg);
    this._emit(msg.MsgType, msg);
  }

  _message(msgType, body, options) {
    const requestId = options.requestId ?? this._nextId++;
    const msg = { MsgType: msgType, RequestID: requestId };
    if (body !== undefined && body !== null) msg[options.bodyKey ?? bodyKey(msgType)] = body;
    return Object.assign(msg, options.extra ?? {});
  }

  _write(msg) {
    const ws = this._ws;
    if (!ws || ws.readyState !== 1) {
      throw new ConnectionError(`${msg.MsgType}: not connected (${this.state})`, "offline");
    }
    ws.send(JSON.stringify(msg));
    this._emit("sent", msg);
  }

  /**
   * Send a request without waiting for its answer; returns its RequestID. Its answer, if
   * any, arrives as a push event (e.g. "RspOrderInsert" for a rejected order).
   * Options: bodyKey (default: bodyKey(msgType)), requestId, extra (top-level fields).
   */
  send(msgType, body, options = {}) {
    const msg = this._message(msgType, body, options);
    this._write(msg);
    return msg.RequestID;
  }

  /**
   * Send a request and resolve with every response message up to IsLast (errors included).
   * Rejects with ConnectionError when offline, on a dropped connection or on timeout.
   */
  call(msgType, body, options = {}) {
    const msg = this._message(msgType, body, options);
    const timeout = options.timeout ?? this.timeout;
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject, rows: [], msgType, timer: null };
      waiter.timer = setTimeout(() => {
        this._pending.delete(msg.RequestID);
        reject(new ConnectionError(`${msgType}: no answer within ${timeout} ms`, "timeout"));
      }, timeout);
      this._pending.set(msg.RequestID, waiter);
      try {
        this._write(msg);
      } catch (err) {
        this._pending.delete(msg.RequestID);
        clearTimeout(waiter.timer);
        reject(err);
      }
    });
  }

  /** call() returning the non-null bodies; rejects with WsbridgeError on a non-zero ErrorID. */
  async query(msgType, body, options = {}) {
    const rows = await this.call(msgType, body, options);
    const failed = rows.find((m) => errorOf(m) !== 0);
    if (failed) throw new WsbridgeError(failed);
    return rows.map(bodyOf).filter((b) => b !== null && b !== undefined);
  }

  // --- session ------------------------------------------------------------------------------

  /**
   * ReqUserLogin with these fields ({UserID, Password, BrokerID, ...}); resolves with the
   * RspUserLogin body. The fields are kept to log in again after a reconnect.
   */
  async login(fields) {
    const body = await this._login(fields, false);
    this._loginFields = { ...fields };
    return body;
  }

  async _login(fields, relogin) {
    const [body] = await this.query("ReqUserLogin", fields);
    this.session = body ?? {};
    this._orderRef = Number.parseInt(this.session.MaxOrderRef ?? "0", 10) || 0;
    this._setState("online");
    this._emit("login", { body: this.session, relogin });
    if (relogin && this.subscriptions.size) {
      try {
        await this.subscribe([...this.subscriptions]);
      } catch (err) {
        this._emit("error", err);
      }
    }
    return this.session;
  }

  /** ReqUserLogout; the connection stays open and no longer logs in by itself. */
  async logout() {
    this._loginFields = null;
    const body = this.session ? { BrokerID: this.session.BrokerID ?? "",
      UserID: this.session.UserID ?? "" } : {};
    const rows = await this.call("ReqUserLogout", body);
    this.session = null;
    if (this.state === "online") this._setState("open");
    return rows;
  }

  /** The next OrderRef of this login session (CTP: above the login's MaxOrderRef). */
  nextOrderRef() {
    this._orderRef += 1;
    return String(this._orderRef);
  }

  // --- market data (md) ----------------------------------------------------------------------

  /**
   * SubscribeMarketData; resolves with the RspSubMarketData messages, one per instrument.
   * Instruments answered with ErrorID 0 are re-subscribed after a reconnect.
   */
  async subscribe(instrumentIds) {
    const rows = await this.call("SubscribeMarketData", null,
      { extra: { InstrumentID: [...instrumentIds] } });
    for (const row of rows) {
      const id = row.SpecificInstrument?.InstrumentID;
      if (id && errorOf(row) === 0) this.subscriptions.add(id);
    }
    return rows;
  }

  /** UnSubscribeMarketData; resolves with the RspUnSubMarketData messages. */
  async unsubscribe(instrumentIds) {
    for (const id of instrumentIds) this.subscriptions.delete(id);
    return this.call("UnSubscribeMarketData", null,
      { extra: { InstrumentID: [...instrumentIds] } });
  }
}
