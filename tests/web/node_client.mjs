// web/wsbridge.mjs driven from Node against a real td server (run by test_node_module.py).
//
//   node [--experimental-websocket] tests/web/node_client.mjs ws://127.0.0.1:PORT/ USER TOKEN
//
// Prints "ok <step>" per passed step. At "restart?" it waits for a line on stdin (the
// test restarts the server meanwhile) and then expects the module to have reconnected
// and logged in again by itself. Exits non-zero on the first failure.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import {
  bodyKey, Connection, ConnectionError, WsbridgeError,
} from "../../web/wsbridge.mjs";

const [url, user, token] = process.argv.slice(2);
const ok = (step) => console.log(`ok ${step}`);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

// Every request's body key in the generated protocol is the one bodyKey() gives.
const index = JSON.parse(readFileSync(new URL("../../protocols/index.json", import.meta.url)));
for (const [app, messages] of Object.entries(index.apps)) {
  for (const [msgType, spec] of Object.entries(messages)) {
    if (spec.kind === "request" && spec.body) {
      assert.equal(bodyKey(msgType), spec.body, `${app} ${msgType}`);
    }
  }
}
ok("body keys");

// A wrong address fails the first connect() instead of retrying forever.
const nowhere = new Connection("ws://127.0.0.1:1/");
await assert.rejects(nowhere.connect(), ConnectionError);
assert.equal(nowhere.state, "closed");
ok("connect refused");

// The server wants an access token: without one the upgrade is refused.
await assert.rejects(new Connection(url).connect(), ConnectionError);
ok("token required");

const td = new Connection(url, { token, backoffFirst: 200, backoffMax: 1000 });
const states = [];
td.on("state", ({ state }) => states.push(state));
await td.connect();
assert.equal(td.state, "open");

// Before login every request is refused with the bridge's -401.
await assert.rejects(td.query("ReqQryTradingAccount"), (err) => {
  assert.ok(err instanceof WsbridgeError);
  assert.equal(err.errorId, -401);
  return true;
});
ok("not logged in");

const session = await td.login({ UserID: user, Password: "pw" });
assert.equal(session.UserID, user);
assert.equal(typeof session.FrontID, "number");
assert.equal(td.state, "online");
ok("login");

// Two queries in flight at once: each gets its own rows back (RequestID correlation).
const [instruments, accounts] = await Promise.all([
  td.query("ReqQryInstrument", {}),
  td.query("ReqQryTradingAccount", {}),
]);
assert.ok(instruments.length > 1 && instruments.every((r) => r.InstrumentID && r.ExchangeID));
assert.equal(accounts.length, 1);
assert.ok(accounts[0].Balance > 0);
ok(`queries ${instruments.length} instruments`);

// A bad field is a -400 naming it.
await assert.rejects(td.query("ReqQryInstrument", { NoSuchField: 1 }), (err) => {
  assert.equal(err.errorId, -400);
  assert.match(err.detail ?? err.errorMsg, /NoSuchField/);
  return true;
});
ok("bad request");

// An order that crosses the book: the answer comes as RtnOrder / RtnTrade push events.
const rb = instruments.filter((r) => r.ProductID === "rb")
  .sort((a, b) => a.InstrumentID.localeCompare(b.InstrumentID))[0];
const [depth] = await td.query("ReqQryDepthMarketData", { InstrumentID: rb.InstrumentID });
const orderRef = td.nextOrderRef();
const traded = td.once("RtnTrade", (msg) => msg.Trade.OrderRef.trim() === orderRef);
td.send("ReqOrderInsert", {
  InstrumentID: rb.InstrumentID, ExchangeID: rb.ExchangeID, OrderRef: orderRef,
  Direction: "0", CombOffsetFlag: "0", CombHedgeFlag: "1", OrderPriceType: "2",
  LimitPrice: depth.UpperLimitPrice, VolumeTotalOriginal: 1, TimeCondition: "3",
  VolumeCondition: "1", MinVolume: 1, ContingentCondition: "1", ForceCloseReason: "0",
});
const trade = await traded;
assert.equal(trade.Trade.InstrumentID, rb.InstrumentID);
assert.equal(trade.Trade.Volume, 1);
ok("order filled");

// The server goes away and comes back on the same port: the module reconnects, logs in
// again with the same fields, and requests work again.
const relogin = td.once("login", ({ relogin: again }) => again, 60000);
const offline = td.once("state", ({ state }) => state === "offline", 60000);
console.log("restart?");
await lines.next();
await offline;
ok("saw offline");
const { body } = await relogin;
assert.equal(body.UserID, user);
assert.equal(td.state, "online");
const positions = await td.query("ReqQryInvestorPosition", {});
assert.ok(positions.some((p) => p.InstrumentID === rb.InstrumentID && p.Position >= 1));
ok("reconnected");

td.close();
assert.equal(td.state, "closed");
await assert.rejects(td.query("ReqQryTradingAccount"), ConnectionError);
assert.ok(states.includes("connecting") && states.includes("offline"));
ok("closed");
process.exit(0);
