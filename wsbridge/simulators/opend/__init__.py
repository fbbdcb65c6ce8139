"""sim-opend: the OpenD protocol (what futu-api's own client speaks) on the sim exchange.

- ``protocol``: the packet framing and protobuf bodies (pure)
- ``protos``: protocol ids and futu-api's generated message classes
- ``translate``: sim exchange CTP dicts <-> OpenD message fields (pure)
- ``venue``: the sim exchange seen as a Futu user's stocks and accounts
- ``server``: connections, InitConnect / KeepAlive, dispatch, pushes
- ``quotes`` / ``trading``: the quote and trade protocols
- ``cli``: ``python -m wsbridge sim-opend``
"""
