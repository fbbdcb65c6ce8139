/**
 * ctp.mjs — CTP vocabulary for the page: enum labels, number formats, the messages an
 * order ticket sends and the arithmetic of positions. Pure functions, no DOM, no I/O.
 */

export const DIRECTION = { 0: "Buy", 1: "Sell" };
export const OFFSET = { 0: "Open", 1: "Close", 2: "Force close", 3: "Close today",
  4: "Close yesterday" };
export const POSI_DIRECTION = { 1: "Net", 2: "Long", 3: "Short" };
export const ORDER_STATUS = {
  0: "Filled", 1: "Partly filled", 2: "Partly filled, canceled", 3: "Queued",
  4: "Not queued", 5: "Canceled", a: "Submitted", b: "Not touched", c: "Touched",
};
export const SUBMIT_REJECTED = "4";

/** Statuses an order can still be canceled in. */
const WORKING = new Set(["1", "3", "a", "b"]);

/** CTP fills unset prices with DBL_MAX; anything this large means "no price". */
const NO_PRICE = 1e300;

export function validPrice(value) {
  return typeof value === "number" && Number.isFinite(value) && Math.abs(value) < NO_PRICE
    && value !== 0;
}

/** Decimal places of a price tick (0.2 -> 1, 0.01 -> 2, 5 -> 0). */
export function tickDecimals(tick) {
  if (!tick || !Number.isFinite(tick)) return 2;
  const text = String(tick);
  if (text.includes("e-")) return Number(text.split("e-")[1]);
  const dot = text.indexOf(".");
  return dot < 0 ? 0 : Math.min(text.length - dot - 1, 8);
}

export function formatPrice(value, decimals = 2) {
  return validPrice(value) ? value.toFixed(decimals) : "–";
}

const MONEY = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2,
  maximumFractionDigits: 2 });
const INTEGER = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export function formatMoney(value) {
  return typeof value === "number" && Number.isFinite(value) ? MONEY.format(value) : "–";
}

export function formatInt(value) {
  return typeof value === "number" && Number.isFinite(value) ? INTEGER.format(value) : "–";
}

/** Change against the previous settlement (futures) or close: {change, percent} or null. */
export function priceChange(depth) {
  const base = [depth.PreSettlementPrice, depth.PreClosePrice].find(validPrice);
  if (!base || !validPrice(depth.LastPrice)) return null;
  const change = depth.LastPrice - base;
  return { change, percent: (change / base) * 100 };
}

/** The key CTP identifies an order by across its life: FrontID, SessionID, OrderRef. */
export function orderKey(order) {
  return `${order.FrontID}:${order.SessionID}:${String(order.OrderRef).trim()}`;
}

export function isWorking(order) {
  return order.OrderSubmitStatus !== SUBMIT_REJECTED && WORKING.has(order.OrderStatus);
}

/**
 * The InputOrder for a ticket. `type` "limit" is a good-for-day limit order; "market" is
 * CTP's any-price order, immediate-or-cancel.
 */
export function inputOrder({ session, instrumentId, exchangeId, direction, offset, price,
  volume, type, orderRef }) {
  const market = type === "market";
  return {
    BrokerID: session.BrokerID ?? "",
    InvestorID: session.UserID ?? "",
    UserID: session.UserID ?? "",
    OrderRef: orderRef,
    InstrumentID: instrumentId,
    ExchangeID: exchangeId ?? "",
    OrderPriceType: market ? "1" : "2",
    Direction: direction,
    CombOffsetFlag: offset,
    CombHedgeFlag: "1",
    LimitPrice: market ? 0 : price,
    VolumeTotalOriginal: volume,
    TimeCondition: market ? "1" : "3",
    VolumeCondition: "1",
    MinVolume: 1,
    ContingentCondition: "1",
    ForceCloseReason: "0",
  };
}

/** The InputOrderAction that cancels `order` (by exchange order id when it has one). */
export function cancelAction(order, session) {
  const action = {
    BrokerID: order.BrokerID || session.BrokerID || "",
    InvestorID: order.InvestorID || session.UserID || "",
    UserID: session.UserID ?? "",
    ActionFlag: "0",
    InstrumentID: order.InstrumentID,
    ExchangeID: order.ExchangeID ?? "",
  };
  if (order.OrderSysID && order.OrderSysID.trim()) {
    action.OrderSysID = order.OrderSysID;
  } else {
    Object.assign(action, { FrontID: order.FrontID, SessionID: order.SessionID,
      OrderRef: order.OrderRef });
  }
  return action;
}

/**
 * InvestorPosition rows (one per instrument, direction, hedge flag and today/history)
 * merged into one per instrument and direction. Empty positions are dropped.
 */
export function mergePositions(rows) {
  const merged = new Map();
  for (const row of rows) {
    const key = `${row.InstrumentID}:${row.PosiDirection}`;
    let pos = merged.get(key);
    if (!pos) {
      pos = { key, InstrumentID: row.InstrumentID, ExchangeID: row.ExchangeID,
        PosiDirection: row.PosiDirection, Position: 0, TodayPosition: 0, YdPosition: 0,
        PositionCost: 0, OpenCost: 0, UseMargin: 0, PositionProfit: 0 };
      merged.set(key, pos);
    }
    pos.Position += row.Position ?? 0;
    pos.TodayPosition += row.TodayPosition ?? 0;
    pos.PositionCost += row.PositionCost ?? 0;
    pos.OpenCost += row.OpenCost ?? 0;
    pos.UseMargin += row.UseMargin ?? 0;
    pos.PositionProfit += row.PositionProfit ?? 0;
  }
  for (const [key, pos] of merged) {
    if (pos.Position <= 0) merged.delete(key);
    else pos.YdPosition = pos.Position - pos.TodayPosition;
  }
  return merged;
}

/** Average position price: the position cost per unit. */
export function averagePrice(pos, multiple) {
  return pos.Position > 0 && multiple > 0 ? pos.PositionCost / (pos.Position * multiple) : NaN;
}

/**
 * Position P&L marked to `last`: long = value - cost, short = cost - value. Without a
 * price it is what the server last reported.
 */
export function positionProfit(pos, last, multiple) {
  if (!validPrice(last) || !(multiple > 0)) return pos.PositionProfit;
  const value = last * pos.Position * multiple;
  return pos.PosiDirection === "3" ? pos.PositionCost - value : value - pos.PositionCost;
}

/**
 * The account as of now: the last queried TradingAccount with its position P&L replaced
 * by `livePositionProfit` (Balance and Available move by the same difference).
 */
export function liveAccount(account, livePositionProfit) {
  if (!account) return null;
  const delta = Number.isFinite(livePositionProfit)
    ? livePositionProfit - (account.PositionProfit ?? 0) : 0;
  return {
    ...account,
    PositionProfit: (account.PositionProfit ?? 0) + delta,
    Balance: (account.Balance ?? 0) + delta,
    Available: (account.Available ?? 0) + delta,
    Frozen: (account.FrozenMargin ?? 0) + (account.FrozenCash ?? 0)
      + (account.FrozenCommission ?? 0),
  };
}
