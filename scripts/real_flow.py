#!/usr/bin/env python3
"""dintsim's cost model held against an industry-style flow on one Liberty library.

For every unit (int8-mac, dint-mac, fp4-mac) and lane count:
  * ours:    `dintsim export --liberty` (the cells dintsim prices) -> Yosys `stat -liberty` (area),
             OpenSTA (critical path, setup included; pin transitions; SDF), Icarus on the
             library's cell models with those delays (per-instance models, so that pulse limits
             follow the delays: per_instance_models) replaying the operands dintsim simulates
             (activity, glitches included) -> scripts/flow_power.py (energy from the library read
             by the PyPI liberty-parser: Debian's OpenSTA 2019 ignores per-pin activities);
  * synth:   `dintsim export` (generic) -> Yosys synth + abc -liberty -> area, OpenSTA timing;
  * rtl:     rtl-reference/mac.v -> Yosys synth + abc -liberty -> area, OpenSTA timing.
dintsim's area and critical path come from `dintsim report --liberty LIB --delay-model liberty`;
its energy from `dintsim simulate --liberty LIB --delay-model liberty` on the same operands
(uniformly random valid codes and activations, each dot product repeated in all 64 bit-sliced
units so that every unit sees the test bench's sequence).

Beside the MACs, the MXFP4 block quantizer (B = 32) the report prices: its area and critical path
on the same cells against Yosys and OpenSTA (DIR/datapaths.json; the area must be equal, the path
within --check-path), with Yosys's synthesis of rtl-reference/block_quantizer.v beside them; and
its toggles and energy per element from `dintsim simulate --unit block-quantizer --liberty LIB
--delay-model liberty` against Icarus on the cell models, priced by flow_power.py, on the same
blocks: without delays (functional toggles, within 2 % with --check), and with OpenSTA's delays
in per-instance cell models (per_instance_models: Icarus takes pulse limits from compiled
specparams, not from $sdf_annotate; energy within --check-energy), the plain annotated run
reported beside it. The NVFP4 quantizer (B = 16, two stages) the same way on --nvfp4-blocks
blocks, its tensor-scale input the S dintsim derives from them; it has no synthesized-reference
column (rtl-reference/nvfp4_quantizer.v is written for simulation).

Writes DIR/flow.json and DIR/flow.md. With --check TOL it exits 1 when an INT8/dINT area or
energy ratio from dintsim and from the flow on the same cells differ by more than TOL
(relative); --check-fp4, --check-path and --check-energy set the tolerances of the INT8/FP4
ratios, the critical paths and each unit's pJ/MAC. docs/cost-model.md justifies CI's values.
"""
import argparse, json, os, re, struct, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import liberty.parser  # noqa: F401  (PyPI liberty-parser: the flow's own Liberty reader)
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "liberty-parser"], check=True)
import flow_power

UNITS = {"int8-mac": 0, "dint-mac": 1, "fp4-mac": 2}


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.stderr.write(f"real_flow: {' '.join(cmd[:3])} failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}\n")
        sys.exit(2)
    return p.stdout


def yosys_area(lib, script, module="mac"):
    out = run(["yosys", "-q", "-p", script + f"; tee -o /dev/stdout stat -liberty {lib}"])
    m = re.findall(r"Chip area for module '\\?" + module + r"': ([0-9.]+)", out)
    return float(m[-1])


def sta(lib, netlist, period, extra="", module="mac"):
    tcl = f"""read_liberty {lib}
read_verilog {netlist}
link_design {module}
create_clock -name clk -period {period} [get_ports clk]
set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]
set_output_delay 0 -clock clk [all_outputs]
set_input_transition 0.1 [all_inputs]
report_checks -path_delay max -digits 4
{extra}
exit
"""
    path = netlist + ".tcl"
    open(path, "w").write(tcl)
    out = run(["sta", "-no_splash", path])
    if "Error" in out:
        sys.stderr.write(f"real_flow: OpenSTA reported an error on {path}:\n" + "\n".join(l for l in out.splitlines() if "Error" in l)[:2000] + "\n")
        sys.exit(2)
    slack = float(re.search(r"(-?[0-9.]+)\s+slack", out).group(1))
    return period - slack, out


TB = """`timescale 1ns/10ps
// Replays STIM (one line of W input bits per clock cycle) as dintsim drives one of its
// bit-sliced instances: inputs change at the rising edge (as if from upstream registers).
module tb;
  localparam N = {cycles}, W = {width};
  reg clk = 0, rst = 0;
  reg [W-1:0] mem [0:N-1];
  reg [W-1:0] in;
{ports}
  integer c;
  initial begin
{sdf}    $readmemh("{stim}", mem);
    $dumpfile("{vcd}"); $dumpvars(1, dut);
    in = mem[0];
    for (c = 1; c < N; c = c + 1) begin
      #{half} clk = 1; in <= mem[c];
      #{half} clk = 0;
    end
{last}    #{half} $finish;
  end
endmodule
"""


def mac_tb(lanes, ww, accw, **kw):
    """The MAC's test bench: lines {valid, clear, w, a}; the last line is the read-out cycle."""
    width = 2 + lanes * (ww + 8)
    ports = (f"  wire [{accw}-1:0] acc; wire valid_out;\n"
             f"  mac dut (.clk(clk), .rst(rst), .valid(in[W-1]), .clear(in[W-2]), .w(in[{lanes * 8} +: {lanes * ww}]), .a(in[0 +: {lanes * 8}]),\n"
             f"           .acc(acc), .valid_out(valid_out));")
    return TB.format(width=width, ports=ports, last="", **kw)


def block_quantizer_tb(b, nvfp4=False, **kw):
    """A block quantizer's test bench: a line is one block of B binary32 values (the NVFP4 unit's
    tensor scale S above them); last edges take the last block through the unit's latency (1, or
    2 for NVFP4: one edge per block and stage, as dintsim's BlockQuantizerRun)."""
    if nvfp4:
        ports = (f"  wire [7:0] scale; wire [{4 * b - 1}:0] c_out;\n"
                 f"  nvfp4_quantizer dut (.clk(clk), .rst(rst), .x(in[0 +: {32 * b}]), .s(in[{32 * b} +: 32]), .scale(scale), .c(c_out));")
    else:
        ports = (f"  wire [7:0] scale; wire [{4 * b - 1}:0] c_out;\n"
                 "  block_quantizer dut (.clk(clk), .rst(rst), .x(in), .scale(scale), .c(c_out));")
    edge = f"    #{kw['half']} clk = 1;\n"
    last = edge if not nvfp4 else edge + f"    #{kw['half']} clk = 0;\n" + edge
    return TB.format(width=32 * b + (32 if nvfp4 else 0), ports=ports, last=last, **kw)


def driven_nets(lib, netlist, period, module="mac"):
    """Every cell output pin's net ({instance/pin: net}) and each such net's transition from
    OpenSTA (its driver pin's, mean of rise and fall)."""
    drivers = {f"{inst}/{pin}": net for cell, inst, pins in flow_power.instances(netlist) for pin, net in pins.items()
               if library.cells[cell]["pins"].get(pin, {}).get("direction") == "output"}
    _, report = sta(lib, netlist, period, "\n".join(f"report_slews [get_pins {p}]" for p in drivers), module=module)
    slews = {}
    for pin, r1, r2, f1, f2 in re.findall(r"^(\S+) \^ ([0-9.]+):([0-9.]+) v ([0-9.]+):([0-9.]+)$", report, re.M):
        if pin in drivers:
            slews[drivers[pin]] = (max(float(r1), float(r2)) + max(float(f1), float(f2))) / 2
    return drivers, slews


def per_instance_models(cell_models, netlist, sdf, base):
    """Icarus takes a path's pulse-reject limit from the cell model's compiled specparams, not from
    the delays $sdf_annotate writes over them (measured: an INVX1 annotated to 2.8 / 2.5 ns passes a
    0.1 ns pulse, and one compiled at 3.1 / 3.8 ns rejects a 3.0 ns one). Verilog's rule, and
    dintsim's, is a limit equal to the path delay. So the flow's timed run compiles one copy of
    the cell model per instance with its specparams set to that instance's SDF IOPATH values (no
    annotation): delays and pulse limits both the SDF's. Writes BASE.cells.v and BASE.inst.v."""
    lib = open(cell_models).read()
    models = {m.group(2): m.group(1) for m in re.finditer(r"(`timescale[^\n]*\n`celldefine\nmodule (\w+) .*?endmodule\n`endcelldefine\n)", lib, re.S)}
    udps = re.findall(r"(primitive .*?endprimitive)", lib, re.S)
    text, names = [], set()
    for chunk in open(sdf).read().split("(CELL\n")[2:]:
        cell = re.search(r'CELLTYPE "(\w+)"', chunk).group(1)
        name = re.search(r"\(INSTANCE ([^\s\)]+)\)", chunk).group(1)
        paths = {(re.sub(r"\(posedge (\w+)\)", r"\1", a), b): (r, f) for a, b, r, f in
                 re.findall(r"IOPATH (\(posedge \w+\)|\w+) (\w+) \(([0-9.]+)::[0-9.]+\) \(([0-9.]+)::[0-9.]+\)", chunk)}
        model = models[cell].replace(f"module {cell} ", f"module {cell}__{name} ", 1)
        declared = re.findall(r"\((\w+) \*> (\w+)\) = \((\S+?), (\S+?)\);", models[cell])
        missing = set(paths) - {(a, b) for a, b, _, _ in declared}
        if missing:  # a path the model declares otherwise (parallel, conditional) would keep its compiled delay
            sys.stderr.write(f"real_flow: {cell} ({name}): SDF paths {sorted(missing)} are not simple (A *> Y) paths of {cell_models}\n")
            sys.exit(2)
        for a, b, rise_param, fall_param in declared:
            if (a, b) in paths:
                for param, v in zip((rise_param, fall_param), paths[(a, b)]):
                    model = re.sub(re.escape(param) + r" = [^,;]+", f"{param} = {v}:{v}:{v}", model)
        text.append(model)
        names.add(name)
    open(base + ".cells.v", "w").write("\n".join(text + udps) + "\n")
    net = re.sub(r"^(\s*)(\w+) (\S+) \(", lambda m: f"{m.group(1)}{m.group(2)}__{m.group(3)} {m.group(3)} (" if m.group(3) in names else m.group(0),
                 open(netlist).read(), flags=re.M)
    open(base + ".inst.v", "w").write(net)
    return base + ".inst.v", base + ".cells.v"


def npy(path, dtype, rows, cols, values):
    """A 2-D .npy file (version 1.0, C order) without numpy."""
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }" % (dtype, rows, cols)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + bytes(v & 0xFF for v in values))


def stimulus(unit, lanes, transactions, base):
    """Uniformly random valid operands (xorshift64, seed fixed) for one unit: R dot products of
    length 256, each repeated in 64 consecutive rows so that every bit-sliced unit of dintsim
    sees the same sequence as the test bench's single unit. Writes BASE.w.npy, BASE.a.npy and
    BASE.stim (the per-cycle lines of that sequence, drain and read-out cycles included)."""
    length, ww = 256, 8 if unit == "int8-mac" else 4
    per_row = (length + lanes - 1) // lanes
    rows = max(1, transactions // per_row)
    x = 0x9E3779B97F4A7C15
    def nxt():
        nonlocal x
        x ^= (x << 13) & (2**64 - 1); x ^= x >> 7; x ^= (x << 17) & (2**64 - 1)
        return x
    codes, acts = [], []
    for _ in range(rows):
        cr, ar = [], []
        for _ in range(length):
            c = nxt() & ((1 << ww) - 1)
            if unit == "dint-mac" and c == 8: c = 0        # code 1000 is reserved
            cr.append(c); ar.append(nxt() & 0xFF)
        codes.append(cr); acts.append(ar)
    npy(base + ".w.npy", "|u1", 64 * rows, length, [v for r in codes for _ in range(64) for v in r])
    npy(base + ".a.npy", "|i1", 64 * rows, length, [v for r in acts for _ in range(64) for v in r])
    lines = []
    for r in range(rows):
        for t in range(per_row):
            w = a = 0
            for l in range(lanes):
                k = t * lanes + l
                if k < length:
                    w |= codes[r][k] << (l * ww); a |= acts[r][k] << (l * 8)
            lines.append((1 << (lanes * (ww + 8) + 1)) | ((t == 0) << (lanes * (ww + 8))) | (w << (lanes * 8)) | a)
    lines += [0]                                          # depth 1: the read-out cycle
    open(base + ".stim", "w").write("\n".join("%x" % v for v in lines) + "\n")
    return rows * length, len(lines)


def toggles(vcd):
    """Per net name of the dut scope: rises and falls (0→1, 1→0; x and z ignored)."""
    ids, rises, falls, last = {}, {}, {}, {}
    scope = []
    with open(vcd) as f:
        in_defs = True
        for line in f:
            if in_defs:
                t = line.split()
                if t[:1] == ["$scope"]: scope.append(t[2])
                elif t[:1] == ["$upscope"]: scope.pop()
                elif t[:1] == ["$var"] and t[2] == "1" and scope == ["tb", "dut"]:
                    ids.setdefault(t[3], []).append(t[4])
                elif t[:1] == ["$enddefinitions"]: in_defs = False
                continue
            if not line or line[0] not in "01": continue
            v, i = line[0], line[1:].strip()
            if i in ids:
                if last.get(i) in ("0", "1") and last[i] != v:
                    (rises if v == "1" else falls)[i] = (rises if v == "1" else falls).get(i, 0) + 1
                last[i] = v
    return ({n: rises.get(i, 0) for i, names in ids.items() for n in names},
            {n: falls.get(i, 0) for i, names in ids.items() for n in names})


def block_stimulus(b, blocks, base, spread=50):
    """BLOCKS blocks of B finite binary32 values (xorshift64, seed fixed): exponents clustered
    below a random block exponent (SPREAD binades apart at most), random signs and fractions, so
    blocks mix levels, ties, saturation and underflow. Writes BASE.blocks.npy (each block repeated
    in 64 consecutive rows, so every bit-sliced instance of dintsim sees the test bench's
    sequence); returns the blocks' bit patterns."""
    x = 0x2545F4914F6CDD1D
    def nxt():
        nonlocal x
        x ^= (x << 13) & (2**64 - 1); x ^= x >> 7; x ^= (x << 17) & (2**64 - 1)
        return x
    rows = []
    for _ in range(blocks):
        top = 150 - spread + nxt() % spread
        rows.append([(nxt() & 1) << 31 | max(1, top - nxt() % 12) << 23 | (nxt() & 0x7FFFFF) for _ in range(b)])
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (64 * blocks, b)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(base + ".blocks.npy", "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
        for r in rows:
            f.write(b"".join(v.to_bytes(4, "little") for v in r) * 64)
    return rows


def block_quantizer_energy(args, lib, netlist, period, out, b=32, blocks=256, nvfp4=False):
    """A block quantizer's energy per element: dintsim's timed simulation on the mapped cells
    against Icarus with OpenSTA's SDF priced by flow_power.py, on the same blocks at PERIOD. The
    NVFP4 unit gets the tensor scale dintsim derives from the blocks (its JSON's tensor_scale), as
    its input in every test-bench line; its blocks lie within 8 binades of the largest, so their
    scales are normal E4M3 values rather than 0."""
    unit, module = ("nvfp4-quantizer", "nvfp4_quantizer") if nvfp4 else ("block-quantizer", "block_quantizer")
    base = f"{out}/{unit}-{b}"
    sdf, vcd, stim = base + ".sdf", base + ".vcd", base + ".stim"
    sta(lib, netlist, period, f"write_sdf -digits 4 {sdf}", module=module)
    rows = block_stimulus(b, blocks, base, spread=8 if nvfp4 else 50)
    js = base + ".energy.json"
    run([args.dintsim, "simulate", "--unit", unit, "--blocks", base + ".blocks.npy", "--block-size", str(b),
         "--liberty", lib, "--delay-model", "liberty", "--clock-ns", str(period), "--json", js])
    ours = json.load(open(js))
    s = struct.unpack("<I", struct.pack("<f", ours["tensor_scale"]))[0] if nvfp4 else None
    open(stim, "w").write("\n".join(("%08x" % s if nvfp4 else "") + "".join("%08x" % v for v in reversed(r)) for r in rows) + "\n")
    inst_netlist, inst_cells = per_instance_models(args.cell_models, netlist, sdf, base)
    flow = {}
    for run_kind in ("functional", "annotated", "per-instance"):
        open(base + ".tb.v", "w").write(block_quantizer_tb(b, nvfp4=nvfp4, cycles=blocks, half=period / 2, stim=stim, vcd=vcd,
                                                           sdf=f'    $sdf_annotate("{sdf}", dut);\n' if run_kind == "annotated" else ""))
        sources = [inst_netlist, inst_cells] if run_kind == "per-instance" else [netlist, args.cell_models]
        run(["iverilog", "-gno-specify" if run_kind == "functional" else "-gspecify", "-o", base + ".vvp", "-s", "tb", base + ".tb.v"] + sources)
        run(["vvp", "-n", base + ".vvp"], cwd=out)
        flow[run_kind] = toggles(vcd)
        os.remove(vcd)
    rises, falls = flow["per-instance"]
    drivers, slews = driven_nets(lib, netlist, period, module=module)
    e = flow_power.price(library, netlist, rises, falls, slews, blocks, period)
    annotated = flow_power.price(library, netlist, *flow["annotated"], slews, blocks, period)
    pins = set(drivers.values())
    per_block = lambda r, f: sum(r.get(n, 0) + f.get(n, 0) for n in pins) / blocks
    return dict(dintsim_pj_per_element=ours["energy_pj_per_element"], dintsim_glitch_pj_per_element=ours["glitch_pj_per_element"],
                flow_pj_per_element=sum(e.values()) / (blocks * b), flow_parts_pj_per_element={k: v / (blocks * b) for k, v in e.items()},
                flow_annotated_pj_per_element=sum(annotated.values()) / (blocks * b),
                dintsim_functional_toggles_per_block=ours["functional_toggles_per_block"],
                dintsim_toggles_per_block=ours["functional_toggles_per_block"] + ours["glitch_toggles_per_block"],
                flow_functional_toggles_per_block=per_block(*flow["functional"]), flow_toggles_per_block=per_block(*flow["per-instance"]),
                flow_annotated_toggles_per_block=per_block(*flow["annotated"]), energy_blocks=blocks)


def flow_energy(args, lib, unit, lanes, netlist, period, out):
    """dintsim and the flow on the same operands. dintsim: `simulate --liberty --delay-model
    liberty` (and zero). Flow: Icarus on the library's cell models without delays (functional
    toggles), with OpenSTA's delays in per-instance models (per_instance_models: the activity
    priced by scripts/flow_power.py), and with the SDF annotated (Icarus's own pulse limits;
    reported, and timed for the speed comparison)."""
    base = f"{out}/{unit}-{lanes}"
    sdf, vcd, stim = base + ".sdf", base + ".vcd", base + ".stim"
    sta(lib, netlist, period, f"write_sdf -digits 4 {sdf}")
    macs, cycles = stimulus(unit, lanes, args.cycles if lanes == 1 else max(args.cycles // 4, 64), base)
    ours = {}
    ours_seconds = 0.0
    for model in ("zero", "liberty"):
        js = f"{base}.{model}.json"
        t0 = time.time()
        run([args.dintsim, "simulate", "--unit", unit, "--lanes", str(lanes), "--weights", base + ".w.npy", "--activations", base + ".a.npy",
             "--liberty", lib, "--delay-model", model, "--clock-ns", str(period), "--json", js])
        if model == "liberty":
            ours_seconds = time.time() - t0
        ours[model] = json.load(open(js))
    inst_netlist, inst_cells = per_instance_models(args.cell_models, netlist, sdf, base)
    flow = {}
    for run_kind in ("functional", "annotated", "per-instance"):
        tb = mac_tb(lanes, 8 if unit == "int8-mac" else 4, 32, cycles=cycles, half=period / 2, stim=stim, vcd=vcd,
                    sdf=f'    $sdf_annotate("{sdf}", dut);\n' if run_kind == "annotated" else "")
        open(base + ".tb.v", "w").write(tb)
        sources = [inst_netlist, inst_cells] if run_kind == "per-instance" else [netlist, args.cell_models]
        run(["iverilog", "-gno-specify" if run_kind == "functional" else "-gspecify", "-o", base + ".vvp", "-s", "tb", base + ".tb.v"] + sources)
        t0 = time.time()
        run(["vvp", "-n", base + ".vvp"], cwd=out)
        seconds = time.time() - t0
        flow[run_kind] = (toggles(vcd), seconds)
        os.remove(vcd)
    (rises, falls), _ = flow["per-instance"]
    seconds = flow["annotated"][1]
    # Every net's transition from OpenSTA (its driver pin's, mean of rise and fall).
    drivers, slews = driven_nets(lib, netlist, period)
    e = flow_power.price(library, netlist, rises, falls, slews, cycles, period)
    total = sum(e.values())
    annotated = sum(flow_power.price(library, netlist, *flow["annotated"][0], slews, cycles, period).values())
    counts = {n: rises[n] + falls[n] for n in rises}
    # Toggles compared with dintsim's: the nets a cell drives (dintsim counts no input port).
    pins = set(drivers.values())
    nets = lambda c: sum(v for n, v in c.items() if n in pins)
    return dict(flow_pj_per_mac=total / macs, flow_parts_pj_per_mac={k: v / macs for k, v in e.items()},
                dintsim_pj_per_mac=ours["liberty"]["energy"]["energy_pj_per_mac"],
                dintsim_glitch_pj_per_mac=ours["liberty"]["energy"]["glitch_pj_per_mac"],
                flow_annotated_pj_per_mac=annotated / macs,
                flow_functional_toggles=nets({n: flow["functional"][0][0][n] + flow["functional"][0][1][n] for n in flow["functional"][0][0]}), flow_toggles=nets(counts),
                flow_annotated_toggles=nets({n: flow["annotated"][0][0][n] + flow["annotated"][0][1][n] for n in flow["annotated"][0][0]}),
                dintsim_functional_toggles=ours["zero"]["functional_toggles"] / 64, dintsim_toggles=ours["liberty"]["toggles"] / 64,
                icarus_sdf_cycles_per_s=cycles / seconds, cycles=cycles,
                # dintsim simulated the same sequence in 64 bit-sliced units at once, on one core,
                # the netlist's mapping and timing included.
                dintsim_timed_cycles_per_s=64 * cycles / ours_seconds)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--liberty", default="/usr/share/qflow/tech/osu018/osu018_stdcells.lib")
    ap.add_argument("--cell-models", default="/usr/share/qflow/tech/osu018/osu018_stdcells.v")
    ap.add_argument("--dintsim", default=".build/release/dintsim")
    ap.add_argument("--out", default="out/flow")
    ap.add_argument("--lanes", default="1,16")
    ap.add_argument("--cycles", type=int, default=2048, help="transactions per unit at one lane (a quarter at more lanes)")
    ap.add_argument("--units", default=",".join(UNITS))
    ap.add_argument("--no-block-quantizer", action="store_true", help="leave out the block quantizers (MXFP4 and NVFP4)")
    ap.add_argument("--nvfp4-blocks", type=int, default=128, help="blocks the NVFP4 quantizer's energy is measured on (the MXFP4 one: 256)")
    ap.add_argument("--check", type=float, help="fail when an INT8/dINT area or energy ratio, or a critical path, differs by more than this (relative)")
    ap.add_argument("--check-fp4", type=float, help="the same for the INT8/FP4 ratios (default: --check)")
    ap.add_argument("--check-path", type=float, help="fail when a critical path differs from OpenSTA's by more than this (default: --check)")
    ap.add_argument("--check-energy", type=float, help="fail when a unit's pJ/MAC differs from the flow's by more than this")
    args = ap.parse_args()
    lib = args.liberty
    args.out = os.path.abspath(args.out)          # the simulations run inside it
    global library
    library = flow_power.Library(lib)
    os.makedirs(args.out, exist_ok=True)
    lanes_list = [int(x) for x in args.lanes.split(",")]
    print("real_flow: dintsim report --liberty --delay-model liberty", file=sys.stderr)
    report_json = f"{args.out}/dintsim-report.json"
    run([args.dintsim, "report", "--liberty", lib, "--delay-model", "liberty", "--json", report_json])
    doc = json.load(open(report_json))
    rows = {(r["unit"], r["lanes"]): r for r in doc["rows"] if r["data"] == doc["rows"][0]["data"]}
    results = []
    for lanes in lanes_list:
        for unit in args.units.split(","):
            kind = UNITS[unit]
            print(f"real_flow: {unit}, {lanes} lane(s)", file=sys.stderr)
            base = f"{args.out}/{unit}-{lanes}"
            r = rows[(unit, lanes)]
            period = r["clock_ns"]
            ours = base + ".ours.v"
            open(ours, "w").write(run([args.dintsim, "export", "--unit", unit, "--lanes", str(lanes), "--liberty", lib]))
            ours_area = yosys_area(lib, f"read_liberty -lib {lib}; read_verilog {ours}; hierarchy -top mac")
            ours_path, _ = sta(lib, ours, 50.0)
            energy = flow_energy(args, lib, unit, lanes, ours, period, args.out)
            generic = base + ".export.v"
            open(generic, "w").write(run([args.dintsim, "export", "--unit", unit, "--lanes", str(lanes)]))
            synth = f"synth -flatten -top mac; dfflibmap -liberty {lib}; abc -liberty {lib}; opt_clean"
            synth_area = yosys_area(lib, f"read_verilog {generic}; {synth}; write_verilog -noattr {base}.synth.v")
            synth_path, _ = sta(lib, base + ".synth.v", 50.0)
            rtl = "rtl-reference"
            rtl_area = yosys_area(lib, f"read_verilog {rtl}/mac.v {rtl}/dint_product.v {rtl}/fp4_product.v; "
                                       f"chparam -set KIND {kind} -set LANES {lanes} mac; {synth}; write_verilog -noattr {base}.rtl.v")
            rtl_path, _ = sta(lib, base + ".rtl.v", 50.0)
            results.append(dict(unit=unit, lanes=lanes, dintsim_area=r["area_um2"], flow_area=ours_area,
                                dintsim_path_ns=r["critical_path_ns"], flow_path_ns=ours_path,
                                synth_area=synth_area, synth_path_ns=synth_path, rtl_area=rtl_area, rtl_path_ns=rtl_path, **energy))
    # The MXFP4 block quantizer (B = 32) the report prices beside the MACs: its area and critical
    # path on the same cells, and Yosys's synthesis of rtl-reference/block_quantizer.v beside them.
    datapaths = []
    if not args.no_block_quantizer and doc.get("block_quantizer"):
        print("real_flow: block-quantizer, B = 32", file=sys.stderr)
        q = next(r for r in doc["block_quantizer"] if r["format"] == "mxfp4")
        base, top = f"{args.out}/block-quantizer-32", "block_quantizer"
        ours = base + ".ours.v"
        open(ours, "w").write(run([args.dintsim, "export", "--unit", "block-quantizer", "--block-size", "32", "--liberty", lib]))
        area = yosys_area(lib, f"read_liberty -lib {lib}; read_verilog {ours}; hierarchy -top {top}", module=top)
        path, _ = sta(lib, ours, 50.0, module=top)
        synth = f"synth -flatten -top {top}; dfflibmap -liberty {lib}; abc -liberty {lib}; opt_clean"
        rtl_area = yosys_area(lib, f"read_verilog rtl-reference/block_quantizer.v; chparam -set B 32 {top}; {synth}; write_verilog -noattr {base}.rtl.v", module=top)
        rtl_path, _ = sta(lib, base + ".rtl.v", 50.0, module=top)
        energy = block_quantizer_energy(args, lib, ours, q["clock_ns"], args.out)
        datapaths.append(dict(datapath="mxfp4-block-quantizer", block_size=32, cells=q["cells"], dintsim_area=q["area_um2"], flow_area=area,
                              dintsim_path_ns=q["clock_ns"], flow_path_ns=path, rtl_area=rtl_area, rtl_path_ns=rtl_path, **energy))
        # The NVFP4 quantizer (B = 16, two stages) the same way, on --nvfp4-blocks blocks (its
        # netlist is three times the MX one). rtl-reference/nvfp4_quantizer.v decides by wide
        # comparisons in loops: a model to simulate, not to synthesize, so no rtl column.
        q = next(r for r in doc["block_quantizer"] if r["format"] == "nvfp4")
        print("real_flow: nvfp4-quantizer, B = 16", file=sys.stderr)
        base, top = f"{args.out}/nvfp4-quantizer-16", "nvfp4_quantizer"
        ours = base + ".ours.v"
        open(ours, "w").write(run([args.dintsim, "export", "--unit", "nvfp4-quantizer", "--block-size", "16", "--liberty", lib]))
        area = yosys_area(lib, f"read_liberty -lib {lib}; read_verilog {ours}; hierarchy -top {top}", module=top)
        path, _ = sta(lib, ours, 200.0, module=top)
        energy = block_quantizer_energy(args, lib, ours, q["clock_ns"], args.out, b=16, blocks=args.nvfp4_blocks, nvfp4=True)
        datapaths.append(dict(datapath="nvfp4-quantizer", block_size=16, cells=q["cells"], dintsim_area=q["area_um2"], flow_area=area,
                              dintsim_path_ns=q["clock_ns"], flow_path_ns=path, rtl_area=None, rtl_path_ns=None, **energy))
    failures = []
    md = ["| unit | lanes | area µm² dintsim / flow | critical path ns dintsim / OpenSTA | toggles per cycle, functional: dintsim / Icarus | with glitches: dintsim / Icarus, SDF delays as pulse limits (SDF annotated) | pJ/MAC dintsim / flow (annotated) | Yosys-synthesized export: area, path | Yosys-synthesized rtl-reference: area, path |",
          "|---|---|---|---|---|---|---|---|---|"]
    for x in results:
        per = lambda k: x[k] / x["cycles"]
        md.append(f"| {x['unit']} | {x['lanes']} | {x['dintsim_area']:.0f} / {x['flow_area']:.0f} | {x['dintsim_path_ns']:.3f} / {x['flow_path_ns']:.3f} | "
                  f"{per('dintsim_functional_toggles'):.1f} / {per('flow_functional_toggles'):.1f} | {per('dintsim_toggles'):.1f} / {per('flow_toggles'):.1f} ({per('flow_annotated_toggles'):.1f}) | "
                  f"{x['dintsim_pj_per_mac']:.3f} / {x['flow_pj_per_mac']:.3f} ({x['flow_annotated_pj_per_mac']:.3f}) | {x['synth_area']:.0f}, {x['synth_path_ns']:.3f} | {x['rtl_area']:.0f}, {x['rtl_path_ns']:.3f} |")
        path_tolerance = args.check_path if args.check_path is not None else args.check
        if path_tolerance is not None and abs(x["dintsim_path_ns"] / x["flow_path_ns"] - 1) > path_tolerance:
            failures.append(f"{x['unit']} {x['lanes']}: critical path {x['dintsim_path_ns']:.3f} vs OpenSTA {x['flow_path_ns']:.3f}")
        if args.check_energy is not None and abs(x["dintsim_pj_per_mac"] / x["flow_pj_per_mac"] - 1) > args.check_energy:
            failures.append(f"{x['unit']} {x['lanes']}: {x['dintsim_pj_per_mac']:.3f} pJ/MAC vs the flow's {x['flow_pj_per_mac']:.3f}")
    md.append("")
    md.append("| lanes | ratio | dintsim | flow (same cells) | difference | Yosys-synthesized export | Yosys-synthesized rtl-reference |")
    md.append("|---|---|---|---|---|---|---|")
    for lanes in lanes_list:
        by = {x["unit"]: x for x in results if x["lanes"] == lanes}
        for other in [u for u in ("dint-mac", "fp4-mac") if u in by and "int8-mac" in by]:
            for what, key, synth_key, rtl_key in (("area", "area", "synth_area", "rtl_area"), ("energy", "pj_per_mac", None, None)):
                ours = by["int8-mac"]["dintsim_" + key] / by[other]["dintsim_" + key]
                flow = by["int8-mac"]["flow_" + key] / by[other]["flow_" + key]
                s = f"{by['int8-mac'][synth_key] / by[other][synth_key]:.2f}×" if synth_key else "—"
                t = f"{by['int8-mac'][rtl_key] / by[other][rtl_key]:.2f}×" if rtl_key else "—"
                md.append(f"| {lanes} | INT8/{other[:-4]} {what} | {ours:.3f}× | {flow:.3f}× | {100 * (ours / flow - 1):+.1f} % | {s} | {t} |")
                tolerance = args.check_fp4 if other == "fp4-mac" and args.check_fp4 is not None else args.check
                if tolerance is not None and abs(ours / flow - 1) > tolerance:
                    failures.append(f"lanes {lanes}: INT8/{other} {what} ratio {ours:.3f} vs flow {flow:.3f}")
    if datapaths:
        md.append("")
        md.append("| datapath | B | cells | area µm² dintsim / flow | critical path ns dintsim / OpenSTA | toggles per block, functional: dintsim / Icarus | with glitches: dintsim / Icarus, SDF delays as pulse limits (SDF annotated) | pJ/element dintsim (glitch part) / flow (annotated) | Yosys-synthesized rtl-reference: area, path |")
        md.append("|---|---|---|---|---|---|---|---|---|")
    path_tolerance = args.check_path if args.check_path is not None else args.check
    for x in datapaths:
        md.append(f"| {x['datapath']} | {x['block_size']} | {x['cells']} | {x['dintsim_area']:.0f} / {x['flow_area']:.0f} | "
                  f"{x['dintsim_path_ns']:.3f} / {x['flow_path_ns']:.3f} | {x['dintsim_functional_toggles_per_block']:.0f} / {x['flow_functional_toggles_per_block']:.0f} | "
                  f"{x['dintsim_toggles_per_block']:.0f} / {x['flow_toggles_per_block']:.0f} ({x['flow_annotated_toggles_per_block']:.0f}) | "
                  f"{x['dintsim_pj_per_element']:.3f} ({x['dintsim_glitch_pj_per_element']:.3f}) / {x['flow_pj_per_element']:.3f} ({x['flow_annotated_pj_per_element']:.3f}) | "
                  + (f"{x['rtl_area']:.0f}, {x['rtl_path_ns']:.3f} |" if x["rtl_area"] is not None else "— |"))
        # Functional activity must agree (same circuit, same blocks), and the energy within
        # --check-energy of the flow's run with Verilog's pulse limits (docs/cost-model.md).
        if args.check_energy is not None and abs(x["dintsim_pj_per_element"] / x["flow_pj_per_element"] - 1) > args.check_energy:
            failures.append(f"{x['datapath']}: {x['dintsim_pj_per_element']:.3f} pJ/element vs the flow's {x['flow_pj_per_element']:.3f}")
        if args.check is not None and abs(x["dintsim_functional_toggles_per_block"] / x["flow_functional_toggles_per_block"] - 1) > 0.02:
            failures.append(f"{x['datapath']}: {x['dintsim_functional_toggles_per_block']:.0f} functional toggles per block vs Icarus's {x['flow_functional_toggles_per_block']:.0f}")
        if args.check is not None and abs(x["dintsim_area"] / x["flow_area"] - 1) > 1e-6:
            failures.append(f"{x['datapath']}: area {x['dintsim_area']:.0f} vs Yosys {x['flow_area']:.0f} on the same cells")
        if path_tolerance is not None and abs(x["dintsim_path_ns"] / x["flow_path_ns"] - 1) > path_tolerance:
            failures.append(f"{x['datapath']}: critical path {x['dintsim_path_ns']:.3f} vs OpenSTA {x['flow_path_ns']:.3f}")
    md.append("")
    md.append("| unit | lanes | Icarus + SDF cycles/s | dintsim liberty-delay cycles/s (64 instances per word, mapping and timing included) | × per core |")
    md.append("|---|---|---|---|---|")
    for x in results:
        md.append(f"| {x['unit']} | {x['lanes']} | {x['icarus_sdf_cycles_per_s']:.0f} | {x['dintsim_timed_cycles_per_s']:.0f} | {x['dintsim_timed_cycles_per_s'] / x['icarus_sdf_cycles_per_s']:.1f}× |")
    text = "\n".join(md) + "\n"
    open(f"{args.out}/flow.md", "w").write(text)
    json.dump(results, open(f"{args.out}/flow.json", "w"), indent=1)
    json.dump(datapaths, open(f"{args.out}/datapaths.json", "w"), indent=1)
    print(text)
    if failures:
        print("real_flow: beyond tolerance: " + "; ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
