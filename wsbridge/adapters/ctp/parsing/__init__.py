"""Pure translation between openctp structs and CTP field dicts (no I/O, no threads)."""

from wsbridge.adapters.ctp.parsing.structs import fill, raw_text, to_dict, to_struct
from wsbridge.adapters.ctp.parsing.text import FieldError, decode, encode

__all__ = ["FieldError", "decode", "encode", "fill", "raw_text", "to_dict", "to_struct"]
