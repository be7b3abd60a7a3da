#!/usr/bin/env python3
"""Writes the malformed-input corpus (docs/testing.md, "Hostile inputs") and cases.json, the
expected exit code and error text of each, which CLITests/MalformedCorpusTests runs.
Regenerate: python3 Tests/Fixtures/malformed/generate.py  (standard library only)."""
import json, os, struct, zlib

here = os.path.dirname(os.path.abspath(__file__))
cases = []


def put(rel, data):
    path = os.path.join(here, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return rel


def npy(descr="<f4", shape=(2, 2), data=None, fortran=False, magic=b"\x93NUMPY", version=(1, 0), header=None):
    h = header if header is not None else "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", "(" + "".join(f"{d}, " for d in shape).rstrip(" ") + ")" if len(shape) != 1 else f"({shape[0]},)")
    pad = (64 - (len(magic) + 4 + len(h) + 1) % 64) % 64
    h = h + " " * pad + "\n"
    if data is None:
        n = 1
        for d in shape:
            n *= d
        data = struct.pack(f"<{n}f", *([1.0] * n)) if descr == "<f4" else b""
    return magic + bytes(version) + struct.pack("<H", len(h)) + h.encode() + data


def case(name, args, error, exit=2, **environment):
    """environment (docs/testing.md, "Hostile inputs"): setup (actions run in {out} first), env,
    changes (paths under {out} allowed to change), stdout (text it must contain), absent (text
    stderr must not contain), kinds (path -> kind after the run), root (needs root)."""
    cases.append({"name": name, "args": args, "exit": exit, "error": error, **environment})


def quantize(f):
    return ["quantize", "--format", "dint4", "--granularity", "channel", "--input", "{fixtures}/" + f,
            "--codes-out", "{out}/c.npy", "--scales-out", "{out}/s.npy"]


# .npy inputs (quantize reads them)
case("npy: wrong magic", quantize(put("npy/bad-magic.npy", npy(magic=b"\x93NUMPZ"))), "magic")
case("npy: absurd shape, tiny file (refused before allocating)", quantize(put("npy/absurd-shape.npy", npy(shape=(1 << 20, 1 << 20), data=b"\0" * 16))), "truncated data")
case("npy: shape beyond 2^40 elements", quantize(put("npy/too-many-elements.npy", npy(shape=(1 << 30, 1 << 30, 4), data=b""))), "2^40")
case("npy: negative dimension", quantize(put("npy/negative-dim.npy", npy(header="{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 2), }", data=b""))), "dimension")
case("npy: big-endian dtype", quantize(put("npy/big-endian.npy", npy(descr=">f4", data=b"\0" * 16))), "dtype '>f4'")
case("npy: Fortran order", quantize(put("npy/fortran.npy", npy(fortran=True))), "Fortran")
case("npy: trailing bytes", quantize(put("npy/trailing.npy", npy() + b"\0\0\0\0")), "trailing")
case("npy: version 9.0", quantize(put("npy/version9.npy", npy(version=(9, 0)))), "version 9.0")
case("npy: header key not NumPy's", quantize(put("npy/extra-key.npy", npy(header="{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), 'x': 1, }"))), "unexpected header key 'x'")
case("npy: NaN element", quantize(put("npy/nan.npy", npy(data=struct.pack("<4f", 1, float("nan"), 2, 3)))), "non-finite input nan at flat index 1")
case("npy: +Inf element", quantize(put("npy/inf.npy", npy(data=struct.pack("<4f", 1, 2, 3, float("inf"))))), "non-finite input inf at flat index 3")
case("npy: rank 3 where 2-D is needed", quantize(put("npy/rank3.npy", npy(shape=(2, 1, 2)))), "2-D")

# code books (formats --format codebook:FILE)
def book(rel, text, error, name):
    case(name, ["formats", "--format", "codebook:{fixtures}/" + put(rel, text)], error)
book("codebook/not-json.json", "levels: [0, 1]", "JSON", "code book: not JSON")
book("codebook/count.json", '{"name": "b", "levels": [0, 1, 2]}', "power of two", "code book: 3 levels")
book("codebook/range.json", '{"name": "b", "levels": [0, 600]}', "600", "code book: level beyond ±512")
book("codebook/unknown-key.json", '{"name": "b", "levels": [0, 1], "colour": "red"}', "colour", "code book: unknown key")
book("codebook/fraction.json", '{"name": "b", "levels": [0, 1.5]}', "1.5", "code book: non-integer level")
book("codebook/no-zero.json", '{"name": "b", "levels": [1, 2]}', "level 0", "code book: no zero level")
book("codebook/reserved.json", '{"name": "b", "levels": [0, 1], "reserved": [5]}', "reserved", "code book: reserved code out of range")

# technology tables (report --tech FILE)
with open(os.path.join(here, "../../../Sources/Cost/Resources/nangate45.json")) as f:
    tech = json.load(f)
def table(rel, obj_or_text, error, name):
    text = obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text)
    case(name, ["report", "--rows", "8", "--length", "16", "--tech", "{fixtures}/" + put(rel, text), "--json", "{out}/r.json"], error)
table("technology/not-json.json", "{nand2", "JSON", "technology: not JSON")
t = json.loads(json.dumps(tech)); t["supply_volts"] = -1
table("technology/negative-supply.json", t, "supply_volts", "technology: negative supply")
t = json.loads(json.dumps(tech)); t.pop("nand2_area_um2")
table("technology/missing-field.json", t, "nand2_area_um2", "technology: missing field")

# Liberty cell libraries (report --liberty FILE, export --liberty FILE)
with open(os.path.join(here, "../liberty/tiny.lib")) as f:
    tiny = f.read()
def liberty(rel, text_or_bytes, error, name, command="report"):
    path = "{fixtures}/" + put(rel, text_or_bytes)
    if command == "report":
        case(name, ["report", "--rows", "8", "--length", "16", "--liberty", path, "--json", "{out}/r.json"], error)
    else:
        case(name, ["export", "--unit", "dint-mac", "--liberty", path, "--output", "{out}/mac.v"], error)
liberty("liberty/not-a-library.lib", "cell (x) { area : 1; }", "one 'library' group", "liberty: not a library group")
liberty("liberty/no-time-unit.lib", tiny.replace('time_unit : "1ps";', ""), "'time_unit' is missing", "liberty: no time unit")
liberty("liberty/missing-semicolon.lib", tiny.replace("nom_voltage : 1.0;", "nom_voltage : 1.0"), "expected ';'", "liberty: missing semicolon")
liberty("liberty/short-table.lib", tiny.replace('values ("10, 20", "30, 40")', 'values ("10, 20", "30")', 1), "3 values", "liberty: table shorter than its index")
liberty("liberty/no-flip-flop.lib", tiny.replace('clocked_on : "CK"', 'clocked_on : "!CK"'), "no cell or combination", "liberty: no rising-edge flip-flop", "export")
liberty("liberty/unclosed.lib", tiny.rstrip().rstrip("}"), "not closed", "liberty: unclosed library group", "export")
liberty("liberty/truncated.lib.gz", zlib.compress(tiny.encode())[:0] + bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]) + zlib.compress(tiny.encode())[2:60], "gzip", "liberty: truncated gzip")

# .tahq streams (tahquant decode)
def tahq_header(log2g=4, b=1, s=1, c=16):
    return b"TAHQ" + struct.pack("<HBBIIIdd", 1, log2g, 0, b, s, c, 0.8, 2.0)
def with_crc(body):
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)
def tahq(rel, data, error, name):
    case(name, ["tahquant", "decode", "--input", "{fixtures}/" + put(rel, data), "--output", "{out}/y.npy"], error)
tahq("tahq/bad-magic.tahq", b"TAHX" + tahq_header()[4:], "magic", "tahq: wrong magic")
tahq("tahq/truncated.tahq", tahq_header()[:20], "truncated", "tahq: truncated header")
tahq("tahq/huge-shape.tahq", with_crc(tahq_header(b=1 << 20, s=1 << 20, c=1 << 20)), "does not fit", "tahq: shape claims more than the stream holds")
tahq("tahq/bad-tile.tahq", with_crc(tahq_header(log2g=9)), "2^9", "tahq: G = 512")
# One INT3 tile of 16 codes, scale 1.0, zero 0, then a wrong checksum.
tahq("tahq/bad-crc.tahq", tahq_header() + b"\0\0" + struct.pack("<HH", 0x3C00, 0) + b"\0" * 6 + b"\xde\xad\xbe\xef", "CRC", "tahq: CRC mismatch")

# TAH-Quant encoder inputs
case("tahquant encode: channels not a multiple of G",
     ["tahquant", "encode", "--input", "{fixtures}/" + put("npy/channels20.npy", npy(shape=(4, 20))), "--output", "{out}/a.tahq", "--tile", "16"], "multiple of")
case("tahquant encode: G not a power of two",
     ["tahquant", "encode", "--input", "{fixtures}/npy/channels20.npy", "--output", "{out}/a.tahq", "--tile", "12"], "12")

# MAC simulation inputs
def u8(shape, values):
    return npy(descr="|u1", shape=shape, data=bytes(values))
def i8(shape, values):
    return npy(descr="|i1", shape=shape, data=bytes(v & 0xFF for v in values))
put("npy/acts-2x4.npy", i8((2, 4), [1, 2, 3, 4, -1, -2, -3, -4]))
def simulate(name, weights, extra, error):
    case(name, ["simulate", "--unit", "dint-mac", "--weights", "{fixtures}/" + weights, "--activations", "{fixtures}/npy/acts-2x4.npy"] + extra, error)
simulate("simulate: reserved dINT code 1000 in the weights", put("npy/reserved-code.npy", u8((2, 4), [1, 2, 8, 3, 0, 1, 2, 3])), [], "reserved")
simulate("simulate: code wider than 4 bits", put("npy/wide-code.npy", u8((2, 4), [1, 2, 17, 3, 0, 1, 2, 3])), [], "17")
simulate("simulate: accumulator width 80", "npy/reserved-code.npy", ["--acc-width", "80"], "accumulator width 80")
simulate("simulate: zero lanes", "npy/reserved-code.npy", ["--lanes", "0"], "lanes")

# vector sets and dumps
os.makedirs(os.path.join(here, "vectors"), exist_ok=True)
put("vectors/not-json/MANIFEST.json", "[1, 2")
case("vectors verify: manifest not JSON", ["vectors", "verify", "{fixtures}/vectors/not-json"], "not a JSON object")
put("dump/garbled.dump", "zz_1\n")
case("check: dump line not hex", ["check", "--vectors", "{repository}/vectors/dint-mac", "--dump", "{fixtures}/dump/garbled.dump"], "hex digits")
put("dump/extra-field.dump", "0000_0_1\n")
case("check: dump line with an extra field", ["check", "--vectors", "{repository}/vectors/dint-mac", "--dump", "{fixtures}/dump/extra-field.dump"], "fields")

# .safetensors checkpoints (underflow --tensors, quantize --tensor)
def safetensors(entries, data, raw=None):
    header = (raw if raw is not None else json.dumps(entries)).encode()
    return struct.pack("<Q", len(header)) + header + data
def st_case(name, rel, blob, error, args=None):
    path = "{fixtures}/" + put(rel, blob)
    case(name, args(path) if args else ["underflow", "--input", path, "--tensors", "."], error)
f32x4 = struct.pack("<4f", 1, 2, 3, 4)
st_case("safetensors: header length past the end", "safetensors/header-past-end.safetensors", struct.pack("<Q", 1 << 20) + b"{}", "runs past the end")
st_case("safetensors: overlapping tensors", "safetensors/overlap.safetensors",
        safetensors({"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}, "b": {"dtype": "F32", "shape": [1, 2], "data_offsets": [8, 16]}}, f32x4), "overlaps")
st_case("safetensors: offsets outside the data", "safetensors/outside.safetensors",
        safetensors({"a": {"dtype": "F32", "shape": [2, 4], "data_offsets": [0, 32]}}, f32x4), "lie outside")
st_case("safetensors: shape and byte count disagree", "safetensors/size.safetensors",
        safetensors({"a": {"dtype": "F32", "shape": [3, 2], "data_offsets": [0, 16]}}, f32x4), "needs 24 bytes")
st_case("safetensors: unknown dtype", "safetensors/dtype.safetensors",
        safetensors({"a": {"dtype": "F17", "shape": [2, 2], "data_offsets": [0, 16]}}, f32x4), "unknown dtype")
st_case("safetensors: integer tensor as weights", "safetensors/int.safetensors",
        safetensors({"ids": {"dtype": "I32", "shape": [2, 2], "data_offsets": [0, 16]}}, f32x4), "F32, F16 or BF16 is required",
        args=lambda p: ["quantize", "--format", "dint4", "--granularity", "channel", "--input", p, "--tensor", "ids", "--codes-out", "{out}/c.npy", "--scales-out", "{out}/s.npy"])
st_case("safetensors: no such tensor", "safetensors/good.safetensors",
        safetensors({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}, f32x4), "no tensor 'nope'",
        args=lambda p: ["underflow", "--input", p, "--tensor", "nope"])
st_case("safetensors: --tensors matches nothing", "safetensors/good.safetensors",
        safetensors({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}, f32x4), "no 2-D float tensor",
        args=lambda p: ["underflow", "--input", p, "--tensors", "^bias$"])


# ---- The environment around the parsers (issue 17): devices, FIFOs, links, same-file outputs,
# concurrent writers, signals, non-UTF-8 names, x/z dumps, pipelined mismatches, hints, conflicts.
# {out} is a fresh directory; "setup" prepares it; everything in it not named in "changes" must be
# unchanged afterwards (kind, size, contents, link target). {xff} / {xfe} are the bytes 0xFF / 0xFE.
put("env/w.npy", npy(shape=(4, 8), data=struct.pack("<32f", *[(i - 15) / 7 for i in range(32)])))
W = "{fixtures}/env/w.npy"
def q(inp="{out}/w.npy", codes="{out}/c.npy", scales="{out}/s.npy", extra=()):
    return ["quantize", "--format", "dint4", "--granularity", "channel", "--input", inp, "--codes-out", codes, "--scales-out", scales, *extra]
copy_w = {"op": "copy", "from": W, "to": "w.npy"}
old_c = {"op": "write", "path": "c.npy", "text": "previous codes"}
# outputs that are devices, FIFOs, links
case("output: /dev/full is written through and its error reported", q(codes="/dev/full"), "no space left on device", setup=[copy_w])
case("output: a character device made with mknod stays a device", q(codes="{out}/null"), "", exit=0,
     setup=[copy_w, {"op": "mknod-null", "path": "null"}], changes=["s.npy"], kinds={"null": "character"}, root=True)
case("output: a FIFO is written through, not replaced", q(codes="{out}/fifo"), "", exit=0,
     setup=[copy_w, {"op": "mkfifo", "path": "fifo"}, {"op": "drain", "path": "fifo"}], changes=["s.npy"], kinds={"fifo": "fifo"})
case("output: - writes the codes to standard output and the summary to stderr", q(codes="-"), "", exit=0,
     setup=[copy_w], changes=["s.npy"], stdout="NUMPY")
case("output: a symbolic link is followed, its target replaced, the link kept", q(codes="{out}/link"), "", exit=0,
     setup=[copy_w, old_c, {"op": "symlink", "target": "c.npy", "path": "link"}], changes=["c.npy", "s.npy"], kinds={"link": "symlink", "c.npy": "regular"})
case("output: a dangling link gets its target created", q(codes="{out}/link"), "", exit=0,
     setup=[copy_w, {"op": "symlink", "target": "new.npy", "path": "link"}], changes=["new.npy", "s.npy"], kinds={"link": "symlink", "new.npy": "regular"})
case("output: a directory is refused", q(codes="{out}/d"), "is a directory", setup=[copy_w, {"op": "mkdir", "path": "d"}])
case("output: a missing directory is refused before any work", q(codes="{out}/no/c.npy"), "does not exist", setup=[copy_w])
# outputs that are the same file as an input or another output
case("same file: --codes-out is --input", q(codes="{out}/w.npy"), "same file as the input", setup=[copy_w])
case("same file: --codes-out is --input through a link", q(codes="{out}/alias"), "same file as the input",
     setup=[copy_w, {"op": "symlink", "target": "w.npy", "path": "alias"}])
case("same file: --codes-out is a hard link of --input", q(codes="{out}/hard"), "same file as the input",
     setup=[copy_w, {"op": "hardlink", "target": "w.npy", "path": "hard"}])
case("same file: --codes-out equals --scales-out (spelled differently)", q(codes="{out}/x.npy", scales="{out}/./x.npy"), "same file as the output", setup=[copy_w])
case("same file: tahquant encode --output is --input",
     ["tahquant", "encode", "--input", "{out}/w.npy", "--output", "{out}/w.npy", "--tile", "8"], "same file as the input", setup=[copy_w])
case("same file: tahquant decode --output is --input",
     ["tahquant", "decode", "--input", "{out}/t.tahq", "--output", "{out}/t.tahq"], "same file as the input",
     setup=[{"op": "write", "path": "t.tahq", "text": "stream"}])
case("same file: merge --out is one of the shards",
     ["merge", "--out", "{out}/a.json", "{out}/a.json", "{out}/b.json"], "same file as the input",
     setup=[{"op": "write", "path": "a.json", "text": "[]"}, {"op": "write", "path": "b.json", "text": "[]"}])
case("same file: check --json is the --dump",
     ["check", "--vectors", "{repository}/vectors/dint-mac", "--dump", "{out}/d.dump", "--json", "{out}/d.dump"], "same file as the input",
     setup=[{"op": "write", "path": "d.dump", "text": "0000_0\n"}])
# concurrent writers
gen = ["vectors", "generate", "--unit", "quantizer", "--out", "{out}/set"]
case("lock: a directory another run is writing is refused", gen, "is being written by another dintsim run (pid",
     setup=[{"op": "mkdir", "path": "set"}, {"op": "lock", "dir": "set", "holder": "live"}])
case("lock: a stale lock from a dead process is cleared", gen, "cleared a stale lock of pid 999999", exit=0,
     setup=[{"op": "mkdir", "path": "set"}, {"op": "write", "path": "set/.dintsim.lock", "text": "999999\n"}],
     changes=["set/.dintsim.lock", "set/vectors.hex", "set/vectors.jsonl", "set/layout.vh", "set/MANIFEST.json"], kinds={"set/.dintsim.lock": "absent"})
# signals
case("signal: SIGINT during quantize removes the temporaries, keeps the old output", q(extra=()), "interrupted by SIGINT", exit=130,
     setup=[copy_w, old_c], env={"DINTSIM_FAULT_SIGNAL": "INT@1"})
case("signal: SIGTERM during vectors generate after 64 KiB", gen + ["--level", "2", "--count", "4000"], "interrupted by SIGTERM", exit=143,
     setup=[{"op": "mkdir", "path": "set"}], env={"DINTSIM_FAULT_SIGNAL": "TERM@65536"})
case("signal: SIGHUP while underflow writes its JSON", ["underflow", "--rows", "8", "--columns", "64", "--json", "{out}/r.json"], "interrupted by SIGHUP", exit=129,
     env={"DINTSIM_FAULT_SIGNAL": "HUP@1"})
# sizes
case("size: a set larger than the free space is refused before writing", gen + ["--level", "2", "--count", "1000000000000"],
     "free space", changes=["set"], kinds={"set/vectors.hex": "absent"})
case("size: --no-jsonl writes no JSON twin", gen + ["--no-jsonl"], "", exit=0,
     changes=["set", "set/vectors.hex", "set/layout.vh", "set/MANIFEST.json"], kinds={"set/vectors.jsonl": "absent"})
# non-UTF-8 names
case("bytes: a non-UTF-8 input and output name work", q(inp="{out}/w{xff}.npy", codes="{out}/c{xfe}.npy"), "", exit=0,
     setup=[{"op": "copy", "from": W, "to": "w{xff}.npy"}], changes=["c{xfe}.npy", "s.npy"], kinds={"c{xfe}.npy": "regular"})
case("bytes: a missing non-UTF-8 input is named with its byte", q(inp="{out}/missing{xff}.npy"), "missing\\xFF.npy: no such file")
# check: x/z digits, pipelined mismatches, non-regular dumps
with open(os.path.join(here, "../../../vectors/dint-pe4/MANIFEST.json")) as f:
    pe4 = json.load(f)
with open(os.path.join(here, "../../../vectors/dint-pe4/vectors.hex")) as f:
    pe4_lines = f.read().split("\n")[:-1]
def outputs_of(line):
    parts, i, out = line.split("_"), 0, []
    for fld in pe4["fields"]:
        for _ in range(fld["count"]):
            if fld["role"] == "output":
                out.append(parts[i])
            i += 1
    return out
pe4_dump = [outputs_of(l) for l in pe4_lines]
xz = [list(o) for o in pe4_dump]
xz[2000][0] = "x" * len(xz[2000][0])
xz[3000][1] = "z"
put("dump/pe4-xz.dump", "".join("_".join(o) + "\n" for o in xz))
flip = [list(o) for o in pe4_dump]
flip[1000][0] = "%0*x" % (len(flip[1000][0]), int(flip[1000][0], 16) ^ 0b1011)
put("dump/pe4-flip.dump", "".join("_".join(o) + "\n" for o in flip))
PE4 = "{repository}/vectors/dint-pe4"
case("check: x/z digits are mismatches on their cycle", ["check", "--vectors", PE4, "--dump", "{fixtures}/dump/pe4-xz.dump"], "2 mismatches", exit=1,
     stdout="cycle 2000 (case")
case("check: a pipelined mismatch names the transaction, case and category", ["check", "--vectors", PE4, "--dump", "{fixtures}/dump/pe4-flip.dump"], "1 mismatch", exit=1,
     stdout="from the transaction of cycle 998")
case("check: a directory as --dump is refused", ["check", "--vectors", PE4, "--dump", "{out}/d"], "is a directory", setup=[{"op": "mkdir", "path": "d"}])
case("check: a FIFO as --dump is refused", ["check", "--vectors", PE4, "--dump", "{out}/fifo"], "is a FIFO", setup=[{"op": "mkfifo", "path": "fifo"}])
# messages: no Foundation text, hints that exist, conflicts refused, one-line usage errors
case("message: vectors generate --out onto a file", gen[:-1] + ["{out}/f"], "exists and is a regular file", setup=[{"op": "write", "path": "f", "text": "x"}], absent="NSCocoaErrorDomain")
case("message: merge of a file that is not an underflow --json", ["merge", "--out", "{out}/m.json", "{out}/a.json"], "field 'row' is missing",
     setup=[{"op": "write", "path": "a.json", "text": "[{}]"}], absent="DecodingError")
put("env/nan.npy", npy(shape=(2, 2), data=struct.pack("<4f", 1, float("nan"), 2, 3)))
case("hint: underflow names no option it lacks", ["underflow", "--input", "{fixtures}/env/nan.npy"], "replace them in the input", absent="--allow-nonfinite")
case("hint: quantize names its own --allow-nonfinite", q(inp="{fixtures}/env/nan.npy"), "--allow-nonfinite zero|saturate")
case("conflict: a code book on an INT8 unit", ["simulate", "--unit", "int8-mac", "--codebook", "dint4", "--weights", "{fixtures}/npy/acts-2x4.npy", "--activations", "{fixtures}/npy/acts-2x4.npy"], "--codebook applies to --unit codebook-mac")
case("conflict: --lanes on a quantizer set", gen + ["--lanes", "4"], "--lanes does not apply to --unit quantizer")
case("conflict: --input with --distribution", ["underflow", "--input", W, "--distribution", "laplace"], "--distribution chooses synthetic data")
case("conflict: --count at level 1", gen + ["--count", "5"], "level 1 is a fixed list")
case("conflict: --mx-scale on an nvfp4-quantizer set", ["vectors", "generate", "--unit", "nvfp4-quantizer", "--mx-scale", "ceil", "--out", "{out}/nv"],
     "--mx-scale does not apply to --unit nvfp4-quantizer")
case("conflict: --block-size 32 on an nvfp4-quantizer set", ["vectors", "generate", "--unit", "nvfp4-quantizer", "--block-size", "32", "--out", "{out}/nv"],
     "block size 32 is not one of [4, 8, 16]")
case("conflict: --mx-scale with nvfp4", ["quantize", "--format", "nvfp4", "--mx-scale", "rceil", "--input", W, "--codes-out", "{out}/c.npy", "--scales-out", "{out}/s.npy"],
     "--mx-scale applies to --format mxfp4 only")
case("message: an unknown MX scale rule names the choices", ["underflow", "--input", W, "--formats", "mxfp4:round"], "'round' is not an option of mxfp4; use mxfp4:[ocp|nvidia|torchao|compressed-tensors]:[floor|ceil|rceil|even|stochastic]:[keep|flush|sign-of-value]")
qb = ["quantize", "--input", W, "--codes-out", "{out}/c.npy", "--scales-out", "{out}/s.npy"]
case("conflict: the ocp convention on nvfp4", qb + ["--format", "nvfp4", "--convention", "ocp"], "defines the MX formats only, not nvfp4")
case("conflict: a convention on a level format", qb + ["--format", "dint4", "--granularity", "channel", "--convention", "torchao"], "--convention applies to the block formats")
case("conflict: scale-first without the encode form", qb + ["--format", "nvfp4", "--nvfp4-block-scale", "scale-first"], "use it with the encode tensor scale")
case("message: a convention after an option", ["underflow", "--input", W, "--formats", "nvfp4:encode:nvidia"], "a convention comes right after the scheme")
case("usage: a missing option is one line naming where to read more", ["quantize", "--format", "dint4"], "see dintsim quantize --help")
with open(os.path.join(here, "cases.json"), "w") as f:
    json.dump(cases, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"{len(cases)} cases")
