"""Futu failures -> CTP ErrorIDs.

futu-api reports a failure as ``(ret != RET_OK, text)``: OpenD's ``retMsg`` (Chinese or
English, depending on OpenD's language) or futu-api's own check. The numeric ``errCode``
never reaches the caller, so the table below matches on the text. The first row whose
pattern occurs in the text decides; anything unmatched is -1 (request failed). Futu's text
is always kept in ErrorMsg.
"""

from __future__ import annotations

import re

from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError

# (ErrorID, pattern) in priority order; patterns are case-insensitive regular expressions.
TABLE: tuple[tuple[int, str], ...] = (
    (errors.FRONT_NOT_ACTIVE,
     r"disconnect|connection (?:lost|closed)|not connected|context status bad|连接断开|未连接"),
    (errors.TOO_MANY_PER_SECOND, r"too frequent|frequency|rate limit|频率|太频繁"),
    (errors.INVALID_LOGIN,
     r"password (?:is )?(?:wrong|incorrect|error)|wrong password|incorrect password|密码错误"),
    (errors.NOT_LOGGED_IN,
     r"unlock|解锁|not logged|未登录|please log ?in"),
    (errors.INSTRUMENT_NOT_FOUND,
     r"unknown (?:stock|security|code)|stock (?:code )?(?:does not exist|not found)|"
     r"no such (?:stock|security)|format of (?:code )?\S+ is wrong|invalid (?:stock )?code|"
     r"未知(?:股票|证券)|股票(?:代码)?不存在|代码错误"),
    (errors.INSUFFICIENT_MONEY,
     r"insufficient (?:buying power|funds|cash|money)|not enough (?:buying power|cash)|"
     r"buying power|购买力不足|资金不足"),
    (errors.CLOSE_EXCEEDS_POSITION,
     r"insufficient (?:position|quantity|shares)|exceeds? (?:the )?(?:sellable|position)|"
     r"not enough (?:position|shares)|持仓不足|可卖数量不足|超过可卖"),
    (errors.ORDER_NOT_FOUND,
     r"order (?:does not exist|not (?:found|exist))|no such order|unknown order|订单不存在"),
    (errors.ORDER_NOT_CANCELABLE,
     r"not allow|cannot be (?:cancel|modif)|already (?:filled|cancel|done)|"
     r"不允许|不可撤|已成交|已撤单|已失效"),
    (errors.INSTRUMENT_NOT_TRADING,
     r"market (?:is )?closed|not (?:in )?trading (?:hours|time)|"
     r"trading (?:is )?(?:halted|suspended)|suspend|非交易时段|不在交易时间|已收盘|停牌"),
    (errors.UNSUPPORTED_FUNCTION,
     r"not support|unsupported|不支持"),
    (errors.BAD_ORDER_FIELD,
     r"\bqty\b|quantity|lot size|board lot|price|tick|spread|order type|"
     r"数量|整手|价格|价位|订单类型"),
)
_COMPILED = tuple((error_id, re.compile(pattern, re.IGNORECASE)) for error_id, pattern in TABLE)


def error_id_for(text: str, default: int = errors.REQUEST_FAILED) -> int:
    """The CTP ErrorID for a Futu failure text."""
    for error_id, pattern in _COMPILED:
        if pattern.search(text or ""):
            return error_id
    return default


def to_ctp_error(text: object, default: int = errors.REQUEST_FAILED) -> CtpError:
    """A CtpError whose ErrorMsg is the CTP meaning followed by Futu's own text."""
    native = ("" if text is None else str(text)).strip() or "no reason given"
    error_id = error_id_for(native, default)
    return CtpError(error_id, f"{errors.message(error_id)} (Futu: {native})")
