"""Pure translations between Futu's shapes and CTP's; no futu-api, no I/O.

- ``codes``: InstrumentID/ExchangeID <-> Futu code
- ``orders``: InputOrder -> place_order arguments; Futu order/deal -> Order/Trade; statuses
- ``account``: funds -> TradingAccount; positions -> InvestorPosition
- ``quotes``: basic quote + order book / snapshot -> DepthMarketData; market states
- ``instruments``: stock basic info -> Instrument
- ``errors``: Futu failure text -> CTP ErrorID
"""
