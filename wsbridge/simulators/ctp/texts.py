"""The ErrorMsg texts a CTP front sends (CTP's error.xml), which reach the bridge as GB18030.

The sim exchange reports errors with the bridge's ErrorIDs and English text; a real front
sends these Chinese texts instead, so the stand-in does too, and the bridge's GB18030
decoding is exercised by every error it relays.
"""

from __future__ import annotations

ERROR_TEXT: dict[int, str] = {
    0: "CTP:正确",
    3: "CTP:不合法的登录",
    5: "CTP:重复的登录",
    6: "CTP:还没有登录",
    8: "CTP:前置不活跃",
    9: "CTP:无此权限",
    11: "CTP:找不到该用户",
    13: "CTP:找不到投资者",
    14: "CTP:原口令不匹配",
    15: "CTP:报单字段有误",
    16: "CTP:找不到合约",
    17: "CTP:合约不能交易",
    22: "CTP:报单错误：不允许重复报单",
    23: "CTP:错误的报单操作字段",
    24: "CTP:撤单已报送，不允许重复撤单",
    25: "CTP:撤单找不到相应报单",
    26: "CTP:报单已全成交或已撤销，不能再撤",
    27: "CTP:不支持的功能",
    30: "CTP:平仓量超过持仓量",
    31: "CTP:资金不足",
    42: "CTP:结算结果未确认",
    50: "CTP:平今仓位不足",
    51: "CTP:平昨仓位不足",
    63: "CTP:客户端认证失败",
    64: "CTP:客户端未认证",
    90: "CTP：查询未就绪，请稍后重试",
}


def error_text(error_id: int, fallback: str = "") -> str:
    """CTP's text for an ErrorID (the sim's own text for codes CTP has no text for)."""
    return ERROR_TEXT.get(error_id, fallback or f"CTP:错误 {error_id}")
