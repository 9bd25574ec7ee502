"""typed.py - compares gorilla_interop's typed JSON ({"k":{"type":T,
"value":V}}, Go types as %T prints them) with the bridge's JSON form of gob
values (src/codec/gob.h), strictly: an int is not a float, a bool is not an
int.  Used by tests/interop/test_go_rails.sh.

  typed.py canon TYPED              -> the bridge's JSON for those values
  typed.py same-canon TYPED DATA    -> "same" when DATA is canon(TYPED)
  typed.py same-typed DATA TYPED    -> "same" when Go's TYPED values are
                                       what the bridge's DATA says (keys
                                       in IGNORE skipped)
"""
import json
import sys

PLAIN = {"int", "string", "bool", "float64"}


def canon_value(t):
    typ, val = t["type"], t.get("value")
    if typ == "nil":
        return None
    if typ == "float64":
        return float(val)
    if typ in PLAIN:
        return val
    if typ == "[]string":
        return val or []
    if typ == "[]uint8":
        return {" b": val}
    if typ == "map[string]interface {}":
        return {k: canon_value(v) for k, v in val.items()}
    return {" " + typ: val}


def typed_of(v):
    """The Go type and value the bridge writes for a JSON value."""
    if v is None:
        return {"type": "nil"}
    if isinstance(v, bool):
        return {"type": "bool", "value": v}
    if isinstance(v, int):
        return {"type": "int", "value": v}
    if isinstance(v, float):
        return {"type": "float64", "value": v}
    if isinstance(v, str):
        return {"type": "string", "value": v}
    if isinstance(v, list):
        return {"type": "[]string", "value": v}
    if len(v) == 1:
        (k, x), = v.items()
        if k == " b":
            return {"type": "[]uint8", "value": x}
        if k.startswith(" ") and k[1:] in ("int8", "int16", "int32", "int64",
                                           "uint", "uint8", "uint16",
                                           "uint32", "uint64", "float32"):
            return {"type": k[1:], "value": x}
    return {"type": "map[string]interface {}",
            "value": {k: typed_of(x) for k, x in v.items()}}


def strict_eq(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strict_eq(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_eq(x, y) for x, y in zip(a, b))
    return a == b


def norm_typed(t):
    """Go prints an empty []string as null; maps recurse."""
    if t.get("type") == "[]string" and t.get("value") is None:
        return {"type": "[]string", "value": []}
    if t.get("type") == "map[string]interface {}":
        return {"type": t["type"],
                "value": {k: norm_typed(v) for k, v in t["value"].items()}}
    return t


def report(ok, a, b):
    print("same" if ok else "differs:\n  want %s\n  got  %s" %
          (json.dumps(a, sort_keys=True), json.dumps(b, sort_keys=True)))


def main():
    cmd, args = sys.argv[1], [json.loads(a) for a in sys.argv[2:4]]
    ignore = sys.argv[4].split(",") if len(sys.argv) > 4 else []
    if cmd == "canon":
        print(json.dumps({k: canon_value(v) for k, v in args[0].items()}))
    elif cmd == "same-canon":
        want = {k: canon_value(v) for k, v in args[0].items()}
        report(strict_eq(want, args[1]), want, args[1])
    elif cmd == "same-typed":
        want = {k: typed_of(v) for k, v in args[0].items() if k not in ignore}
        got = {k: norm_typed(v) for k, v in args[1].items() if k not in ignore}
        report(strict_eq(want, got), want, got)


main()
