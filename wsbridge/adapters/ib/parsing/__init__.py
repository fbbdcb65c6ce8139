"""Pure translation between IB's objects and CTP's dicts: no I/O, no SDK import.

contracts: InstrumentID/ExchangeID <-> IB contract. orders: ReqOrderInsert -> IB order,
IB order state and executions -> Order / Trade. accounts: account values -> TradingAccount,
positions -> InvestorPosition. market: tickers -> DepthMarketData, contract details ->
Instrument. errors: IB error codes -> CTP ErrorIDs.
"""
