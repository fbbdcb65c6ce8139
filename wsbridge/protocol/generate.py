"""Generate protocols/ from openctp's own definitions (development time only).

    python -m wsbridge.protocol.generate [--out protocols]

Reads the SWIG modules of openctp-ctp (trader and md API) as source text and by probing
their struct classes, and writes:

* ``structs.json``: one JSON Schema ``$defs`` entry per CThostFtdc*Field used by a
  message (field type, CTP size, enum values, CTP's own description);
* ``td/<MsgType>.json`` and ``md/<MsgType>.json``: one JSON Schema per request,
  response and push message;
* ``index.json``: the message table the server loads (kind, body key, struct,
  request -> response);
* ``td_protocol.md`` and ``md_protocol.md``: the same, for people, with an example per
  message.

The output is committed; the server reads it without importing openctp.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://wsbridge.invalid/protocols/"
STRUCT_PREFIX, STRUCT_SUFFIX = "CThostFtdc", "Field"
INT32 = (-(2**31), 2**31 - 1)

# Requests whose answer is not On<Rsp + their own name>.
RESPONSE_ALIASES = {
    "ReqUserLoginWithCaptcha": "RspUserLogin",
    "ReqUserLoginWithText": "RspUserLogin",
    "ReqUserLoginWithOTP": "RspUserLogin",
    "SubscribeMarketData": "RspSubMarketData",
    "UnSubscribeMarketData": "RspUnSubMarketData",
    "SubscribeForQuoteRsp": "RspSubForQuoteRsp",
    "UnSubscribeForQuoteRsp": "RspUnSubForQuoteRsp",
}
# md requests that carry a list of instruments instead of a struct.
INSTRUMENT_LIST_REQUESTS = {
    "SubscribeMarketData", "UnSubscribeMarketData",
    "SubscribeForQuoteRsp", "UnSubscribeForQuoteRsp",
}
# Callbacks with plain int parameters: parameter -> JSON key.
SCALAR_KEYS = {"nReason": "Reason", "nTimeLapse": "TimeLapse"}

# What CTP's one-line docstrings leave out, for the generated markdown.
NOTES = {
    "ReqOrderInsert": "Accepted orders get no RspOrderInsert: they are answered by RtnOrder on "
    "every status change and RtnTrade per fill. A rejection is answered by RspOrderInsert "
    "(the InputOrder with the error) and an ErrRtnOrderInsert push.",
    "ReqOrderAction": "A successful cancel is answered by RtnOrder with OrderStatus '5'; a "
    "failed one by RspOrderAction and an ErrRtnOrderAction push.",
    "ReqUserLogin": "The first request on every connection; anything else before it is "
    "answered with ErrorID -401.",
    "SubscribeMarketData": "Answered per instrument (ErrorID 16 for an unknown one), then "
    "RtnDepthMarketData pushes; the last known tick is sent at once.",
}

# Values used in the generated examples; anything else shows its zero value.
SAMPLES: dict[str, Any] = {
    "BrokerID": "9999", "InvestorID": "000001", "UserID": "000001", "AccountID": "000001",
    "Password": "secret", "OldPassword": "secret", "NewPassword": "n3w-secret",
    "InstrumentID": "rb2701", "ExchangeID": "SHFE", "ExchangeInstID": "rb2701",
    "ProductID": "rb", "InstrumentName": "螺纹钢2701", "ExchangeName": "上海期货交易所",
    "Direction": "0", "CombOffsetFlag": "0", "CombHedgeFlag": "1", "HedgeFlag": "1",
    "OffsetFlag": "0", "OrderPriceType": "2", "TimeCondition": "3", "VolumeCondition": "1",
    "ContingentCondition": "1", "ForceCloseReason": "0", "ActionFlag": "0",
    "LimitPrice": 3520.0, "VolumeTotalOriginal": 1, "MinVolume": 1, "Price": 3520.0,
    "Volume": 1, "OrderRef": "1", "FrontID": 1, "SessionID": 1024, "OrderSysID": "000017",
    "TradeID": "000009", "OrderStatus": "0", "OrderSubmitStatus": "3", "VolumeTraded": 1,
    "TradingDay": "20261123", "ActionDay": "20261123", "UpdateTime": "09:30:01",
    "UpdateMillisec": 500, "LastPrice": 3521.0, "BidPrice1": 3520.0, "AskPrice1": 3521.0,
    "BidVolume1": 12, "AskVolume1": 9, "PreSettlementPrice": 3500.0, "UpperLimitPrice": 3675.0,
    "LowerLimitPrice": 3325.0, "OpenInterest": 152340.0, "Turnover": 352100.0,
    "VolumeMultiple": 10, "PriceTick": 1.0, "CurrencyID": "CNY", "Balance": 10000000.0,
    "Available": 9996480.0, "PreBalance": 10000000.0, "CurrMargin": 3520.0,
    "PosiDirection": "2", "PositionDate": "1", "Position": 1, "TodayPosition": 1,
    "ErrorID": 0, "ErrorMsg": "CTP:No Error", "SystemName": "wsbridge-sim",
    "MaxOrderRef": "1", "LoginTime": "09:30:00", "InsertDate": "20261123",
    "InsertTime": "09:30:01", "TradeDate": "20261123", "TradeTime": "09:30:01",
    "MaxVolume": 2840, "UserProductInfo": "wsbridge", "AppID": "client_app_1.0",
    "AuthCode": "0000000000000000",
}


@dataclass
class Field:
    name: str
    kind: str  # "char" | "string" | "int" | "float"
    ctype: str
    size: int  # bytes in the C struct (string: includes the NUL)
    doc: str
    enum: dict[str, str] | None = None  # value -> meaning

    @property
    def max_len(self) -> int:
        return 1 if self.kind == "char" else self.size - 1


@dataclass
class Struct:
    name: str  # without CThostFtdc / Field
    doc: str
    fields: list[Field]


@dataclass
class Message:
    msg_type: str
    app: str
    kind: str  # "request" | "response" | "push"
    doc: str
    body_key: str | None = None  # JSON key of the struct body
    struct: str | None = None
    responses: list[str] = field(default_factory=list)  # request -> response MsgTypes
    request: str | None = None  # response -> the request(s) it answers (first)
    has_rsp_info: bool = False
    scalars: dict[str, str] = field(default_factory=dict)  # key -> "int"
    instrument_list: bool = False


def short(struct_class: str) -> str:
    return struct_class.removeprefix(STRUCT_PREFIX).removesuffix(STRUCT_SUFFIX)


# --- reading openctp ---------------------------------------------------------------------

def _module_source(module: Any) -> ast.Module:
    return ast.parse(Path(module.__file__).read_text(encoding="utf-8"))


def read_enums(tree: ast.Module) -> dict[str, dict[str, tuple[str, str]]]:
    """Enum groups: CTP type name -> {constant name: (value, meaning)}.

    In the SWIG module the first constant of each group carries a docstring opening with
    "TFtdc<Name>Type是一个..."; the constants that follow belong to that type.
    """
    import importlib

    module = importlib.import_module("openctp_ctp.thosttraderapi")
    groups: dict[str, dict[str, tuple[str, str]]] = {}
    current: str | None = None
    body = tree.body
    for i, node in enumerate(body):
        if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        if not name.startswith("THOST_FTDC_"):
            continue
        doc = ""
        nxt = body[i + 1] if i + 1 < len(body) else None
        if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant):
            doc = str(nxt.value.value).strip()
        match = re.match(r"TFtdc(\w+?)Type是一个", doc)
        if match:
            current = f"TThostFtdc{match.group(1)}Type"
            doc = doc.split("\n", 1)[1].strip() if "\n" in doc else ""
        if current is None:
            continue
        value = getattr(module, name, None)
        if isinstance(value, str) and len(value) == 1:
            groups.setdefault(current, {})[name] = (value, " ".join(doc.split()))
    return groups


def _probe_string(obj: Any, name: str) -> tuple[str, int]:
    """Return ("char", 1) or ("string", size) by asking SWIG to reject a long value."""
    try:
        setattr(obj, name, "x" * 4096)
    except TypeError as exc:
        sized = re.search(r"of type 'char \[(\d+)\]'", str(exc))
        if sized:
            return "string", int(sized.group(1))
        return "char", 1
    return "string", 4097  # unbounded in practice


def read_structs(module: Any, tree: ast.Module, enums: dict) -> dict[str, Struct]:
    structs: dict[str, Struct] = {}
    for node in tree.body:
        if not (isinstance(node, ast.ClassDef) and node.name.startswith(STRUCT_PREFIX)
                and node.name.endswith(STRUCT_SUFFIX)):
            continue
        cls = getattr(module, node.name)
        obj = cls()
        doc = ast.get_docstring(node) or ""
        fields = []
        for item in node.body:
            if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
                continue
            fname = item.target.id
            ctype = item.annotation.value if isinstance(item.annotation, ast.Constant) else ""
            fdoc = ""
            for kw in getattr(item.value, "keywords", []):
                if kw.arg == "doc" and isinstance(kw.value, ast.Constant):
                    fdoc = str(kw.value.value).strip()
            default = getattr(obj, fname)
            if isinstance(default, float):
                kind, size = "float", 8
            elif isinstance(default, int):
                kind, size = "int", 4
            else:
                kind, size = _probe_string(obj, fname)
            enum = None
            if kind == "char" and ctype in enums:
                enum = {v: m for v, m in enums[ctype].values()}
            elif kind == "string" and ctype.startswith("TThostFtdcComb"):
                base = ctype.replace("TThostFtdcComb", "TThostFtdc")
                if base in enums:
                    enum = {v: m for v, m in enums[base].values()}
            fields.append(Field(fname, kind, ctype, size, fdoc, enum))
        structs[short(node.name)] = Struct(short(node.name), doc, fields)
    return structs


def _methods(tree: ast.Module, class_name: str) -> list[ast.FunctionDef]:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return [f for f in node.body if isinstance(f, ast.FunctionDef)]
    raise LookupError(class_name)


def _params(fn: ast.FunctionDef) -> list[tuple[str, str]]:
    out = []
    for arg in fn.args.args[1:]:
        ann = arg.annotation
        out.append((arg.arg, ann.value if isinstance(ann, ast.Constant) else ""))
    return out


def read_messages(app: str, tree: ast.Module, api: str, spi: str) -> dict[str, Message]:
    messages: dict[str, Message] = {}
    for fn in _methods(tree, spi):
        if not fn.name.startswith("On"):
            continue
        msg_type = fn.name[2:]
        msg = Message(msg_type, app, "response" if msg_type.startswith("Rsp") else "push",
                      " ".join((ast.get_docstring(fn) or "").split()))
        for pname, ptype in _params(fn):
            if ptype == "CThostFtdcRspInfoField":
                msg.has_rsp_info = True
            elif ptype.startswith(STRUCT_PREFIX):
                if msg.struct is not None:
                    raise ValueError(f"{fn.name}: more than one body struct")
                msg.struct = short(ptype)
                msg.body_key = short(ptype)
            elif pname in SCALAR_KEYS:
                msg.scalars[SCALAR_KEYS[pname]] = "int"
        messages[msg_type] = msg
    for fn in _methods(tree, api):
        name = fn.name
        if not (name.startswith("Req") or name in INSTRUMENT_LIST_REQUESTS):
            continue
        doc = " ".join((ast.get_docstring(fn) or "").split())
        msg = Message(name, app, "request", doc.split(":type")[0].strip())
        if name in INSTRUMENT_LIST_REQUESTS:
            msg.instrument_list = True
        else:
            (pname, ptype), *_ = _params(fn)
            msg.struct = short(ptype)
            msg.body_key = short(ptype)
        response = RESPONSE_ALIASES.get(name, "Rsp" + name.removeprefix("Req"))
        if response not in messages:
            raise LookupError(f"{name}: no callback {response}")
        msg.responses = [response]
        messages[response].request = messages[response].request or name
        messages[name] = msg
    return messages


# --- schema ------------------------------------------------------------------------------

def field_schema(f: Field) -> dict:
    schema: dict[str, Any]
    if f.kind == "float":
        schema = {"type": "number"}
    elif f.kind == "int":
        schema = {"type": "integer", "minimum": INT32[0], "maximum": INT32[1]}
    elif f.kind == "char":
        schema = {"type": "string", "maxLength": 1}
        if f.enum:
            schema["enum"] = ["", *sorted(f.enum)]
    else:
        schema = {"type": "string", "maxLength": f.max_len}
        if f.enum:
            chars = "".join(sorted(f.enum))
            schema["pattern"] = f"^[{re.escape(chars)}]*$"
    schema["description"] = f.doc
    schema["x-ctype"] = f.ctype
    if f.enum:
        schema["x-enum"] = f.enum
    return schema


def struct_schema(s: Struct) -> dict:
    return {
        "type": "object",
        "title": STRUCT_PREFIX + s.name + STRUCT_SUFFIX,
        "description": s.doc,
        "properties": {f.name: field_schema(f) for f in s.fields},
        "additionalProperties": False,
    }


def _ref(struct: str) -> dict:
    return {"$ref": f"../structs.json#/$defs/{struct}"}


def message_schema(m: Message) -> dict:
    props: dict[str, Any] = {"MsgType": {"const": m.msg_type}}
    required = ["MsgType"]
    if m.kind == "request":
        props["RequestID"] = {"type": "integer", "minimum": INT32[0], "maximum": INT32[1],
                              "description": "echoed in every response to this request"}
        if m.instrument_list:
            props["InstrumentID"] = {"type": "array", "minItems": 1,
                                     "items": {"type": "string", "minLength": 1,
                                               "maxLength": 80}}
            required.append("InstrumentID")
        else:
            props[m.body_key] = _ref(m.struct)
    else:
        if m.kind == "response":
            props["RequestID"] = {"type": "integer"}
            props["IsLast"] = {"type": "boolean"}
            props["Detail"] = {"type": "string",
                               "description": "bridge errors (-400): the offending field"}
        if m.has_rsp_info or m.kind == "response" or m.msg_type.startswith("Front"):
            props["RspInfo"] = {"oneOf": [_ref("RspInfo"), {"type": "null"}]}
        if m.body_key:
            props[m.body_key] = {"oneOf": [_ref(m.struct), {"type": "null"}]}
            required.append(m.body_key)
        for key, kind in m.scalars.items():
            props[key] = {"type": "integer" if kind == "int" else "string"}
    schema = {
        "$schema": SCHEMA_DRAFT,
        "$id": f"{ID_BASE}{m.app}/{m.msg_type}.json",
        "title": m.msg_type,
        "description": m.doc,
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": m.kind != "request",
        "x-wsbridge": index_entry(m),
    }
    return schema


def index_entry(m: Message) -> dict:
    entry: dict[str, Any] = {"app": m.app, "kind": m.kind}
    if m.body_key:
        entry["body"] = m.body_key
        entry["struct"] = m.struct
    if m.responses:
        entry["responses"] = m.responses
    if m.request:
        entry["request"] = m.request
    if m.instrument_list:
        entry["instrument_list"] = True
    if m.has_rsp_info:
        entry["rsp_info"] = True
    if m.scalars:
        entry["scalars"] = m.scalars
    return entry


# --- examples and markdown ---------------------------------------------------------------

def example_body(s: Struct, full: bool) -> dict:
    body = {}
    for f in s.fields:
        if f.name.startswith("reserve"):
            continue
        if f.name in SAMPLES:
            value = SAMPLES[f.name]
            if f.kind == "float":
                value = float(value) if isinstance(value, (int, float)) else 0.0
            elif f.kind == "int":
                value = int(value) if isinstance(value, (int, float)) else 0
            elif not isinstance(value, str) or len(value) > f.max_len:
                value = ""
            elif f.enum and value and not set(value) <= set(f.enum):
                value = next(iter(sorted(f.enum)))
            body[f.name] = value
        elif full:
            body[f.name] = {"float": 0.0, "int": 0}.get(f.kind, "")
    return body


def example(m: Message, structs: dict[str, Struct]) -> dict:
    msg: dict[str, Any] = {"MsgType": m.msg_type}
    if m.kind == "request":
        if m.instrument_list:
            msg["InstrumentID"] = ["rb2701", "au2702"]
        else:
            msg[m.body_key] = example_body(structs[m.struct], full=False)
        msg["RequestID"] = 7
        return msg
    if m.kind == "response" or m.has_rsp_info or m.msg_type.startswith("Front"):
        msg["RspInfo"] = {"ErrorID": 8, "ErrorMsg": "CTP:Front not active: upstream disconnected"} \
            if m.msg_type == "FrontDisconnected" else {"ErrorID": 0, "ErrorMsg": "CTP:No Error"}
    if m.kind == "response":
        msg["RequestID"] = 7
        msg["IsLast"] = True
    if m.body_key:
        msg[m.body_key] = example_body(structs[m.struct], full=True)
    for key in m.scalars:
        msg[key] = 4097 if key == "Reason" else 0
    return msg


def _json_block(obj: Any) -> str:
    return "```json\n" + json.dumps(obj, ensure_ascii=False, indent=2) + "\n```\n"


def markdown(app: str, messages: dict[str, Message], structs: dict[str, Struct]) -> str:
    title = {"td": "Trading (td) protocol", "md": "Market-data (md) protocol"}[app]
    requests = [m for m in messages.values() if m.kind == "request"]
    pushes = [m for m in messages.values() if m.kind == "push"]
    unanswered = [m for m in messages.values() if m.kind == "response" and not m.request]
    out = [
        f"# {title}\n",
        "Generated by `python -m wsbridge.protocol.generate` from openctp-ctp's own struct and "
        "API definitions; do not edit by hand. Every message is one JSON object over the "
        "WebSocket; field names, types and enum characters are CTP's "
        "(`CThostFtdc*Field`). The JSON Schema of each message is in "
        f"`protocols/{app}/<MsgType>.json`.\n",
        "Conventions (webctp-compatible):\n",
        "- A request is `{\"MsgType\": \"Req...\", \"<Body>\": {...}, \"RequestID\": n}`; the "
        "body may be omitted when every field is empty. Unknown fields are an error (-400).",
        "- Each response row is one message carrying `RspInfo`, the request's `RequestID` and "
        "`IsLast`; an empty answer is one message with a null body and `IsLast: true`.",
        "- Errors: `RspInfo.ErrorID` is CTP's code or the bridge's (-400 bad parameter, with "
        "`Detail` naming the field; -401 not logged in; -404 not supported; -1 failed; -2 too "
        "many outstanding; -3 too many per second). An unreadable message is answered by "
        "`RspError`.",
        "- `FrontDisconnected` (ErrorID 8) and `FrontConnected` are pushed when the upstream "
        "link drops and comes back.\n",
        "## Contents\n",
    ]
    for m in requests:
        out.append(f"- [{m.msg_type}](#{m.msg_type.lower()}) {m.doc}")
    out.append("- Pushes: " + ", ".join(f"[{m.msg_type}](#{m.msg_type.lower()})" for m in pushes))
    out.append("")
    out.append("## Requests\n")
    for m in requests:
        out.append(f"### {m.msg_type}\n")
        if m.doc:
            out.append(f"{m.doc}\n")
        if m.msg_type in NOTES:
            out.append(f"{NOTES[m.msg_type]}\n")
        body = f"`{m.body_key}` (`{STRUCT_PREFIX}{m.struct}{STRUCT_SUFFIX}`)" if m.body_key \
            else "`InstrumentID`: array of instrument IDs"
        out.append(f"Body: {body}. Answered by: {', '.join(m.responses)}.\n")
        out.append("Request:\n")
        out.append(_json_block(example(m, structs)))
        for r in m.responses:
            out.append(f"Response ({r}):\n")
            out.append(_json_block(example(messages[r], structs)))
    out.append("## Pushes\n")
    for m in pushes:
        out.append(f"### {m.msg_type}\n")
        if m.doc:
            out.append(f"{m.doc}\n")
        out.append(_json_block(example(m, structs)))
    if unanswered:
        out.append("## Responses without a request of their own\n")
        for m in unanswered:
            out.append(f"### {m.msg_type}\n")
            if m.doc:
                out.append(f"{m.doc}\n")
            out.append(_json_block(example(m, structs)))
    return "\n".join(out)


# --- main --------------------------------------------------------------------------------

def collect() -> tuple[dict[str, dict[str, Message]], dict[str, Struct], str]:
    import openctp_ctp
    from openctp_ctp import mdapi, tdapi

    td_tree, md_tree = _module_source(tdapi), _module_source(mdapi)
    enums = read_enums(td_tree)
    structs = read_structs(tdapi, td_tree, enums)
    apps = {
        "td": read_messages("td", td_tree, "CThostFtdcTraderApi", "CThostFtdcTraderSpi"),
        "md": read_messages("md", md_tree, "CThostFtdcMdApi", "CThostFtdcMdSpi"),
    }
    for messages in apps.values():
        for m in messages.values():
            if m.struct and m.struct not in structs:
                raise LookupError(f"{m.msg_type}: unknown struct {m.struct}")
    return apps, structs, openctp_ctp.__version__


def write(out: Path) -> None:
    apps, structs, version = collect()
    used = {"RspInfo"} | {m.struct for ms in apps.values() for m in ms.values() if m.struct}
    for app in apps:
        shutil.rmtree(out / app, ignore_errors=True)
        (out / app).mkdir(parents=True)
    dump = {"ensure_ascii": False, "indent": 1}
    (out / "structs.json").write_text(json.dumps({
        "$schema": SCHEMA_DRAFT,
        "$id": f"{ID_BASE}structs.json",
        "title": "CTP structs used by wsbridge messages",
        "x-source": f"openctp-ctp {version}",
        "$defs": {name: struct_schema(structs[name]) for name in sorted(used)},
    }, **dump) + "\n", encoding="utf-8")
    index: dict[str, Any] = {"source": f"openctp-ctp {version}", "apps": {}}
    for app, messages in apps.items():
        index["apps"][app] = {name: index_entry(m) for name, m in sorted(messages.items())}
        for name, m in messages.items():
            (out / app / f"{name}.json").write_text(
                json.dumps(message_schema(m), **dump) + "\n", encoding="utf-8")
        (out / f"{app}_protocol.md").write_text(markdown(app, messages, structs),
                                                encoding="utf-8")
    (out / "index.json").write_text(json.dumps(index, **dump) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "protocols"))
    args = parser.parse_args()
    write(Path(args.out))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
