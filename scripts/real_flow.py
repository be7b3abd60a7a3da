#!/usr/bin/env python3
"""dintsim's cost model held against an industry-style flow on one Liberty library.

For every unit (int8-mac, dint-mac, fp4-mac) and lane count:
  * ours:    `dintsim export --liberty` (the cells dintsim prices) -> Yosys `stat -liberty` (area),
             OpenSTA (critical path, setup included), Icarus on the library's cell models with
             OpenSTA's SDF (activity, glitches included) -> OpenSTA `report_power` with those
             per-net activities (energy);
  * synth:   `dintsim export` (generic) -> Yosys synth + abc -liberty -> area, OpenSTA timing;
  * rtl:     rtl-reference/mac.v -> Yosys synth + abc -liberty -> area, OpenSTA timing.
dintsim's own figures come from `dintsim report --liberty LIB --delay-model liberty --json`
(per-action energy: uniformly random valid operands, as the test bench drives).

Writes DIR/flow.json and DIR/flow.md; with --check TOL exits 1 when an INT8/dINT or INT8/FP4
area or energy ratio, or a critical path, from dintsim and from the flow on the same cells
differ by more than TOL (relative). docs/cost-model.md explains the tolerance.
"""
import argparse, json, os, re, subprocess, sys, time

UNITS = {"int8-mac": 0, "dint-mac": 1, "fp4-mac": 2}


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.stderr.write(f"real_flow: {' '.join(cmd[:3])} failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}\n")
        sys.exit(2)
    return p.stdout


def yosys_area(lib, script):
    out = run(["yosys", "-q", "-p", script + f"; tee -o /dev/stdout stat -liberty {lib}"])
    m = re.findall(r"Chip area for module '\\?mac': ([0-9.]+)", out)
    return float(m[-1])


def sta(lib, netlist, period, extra=""):
    tcl = f"""read_liberty {lib}
read_verilog {netlist}
link_design mac
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
module tb;
  localparam LANES = {lanes}, WW = {ww}, KIND = {kind}, ROW = {row}, CYCLES = {cycles}, WARM = 8;
  reg clk = 0, rst = 0, valid = 0, clear = 0;
  reg [LANES*WW-1:0] w = 0; reg [LANES*8-1:0] a = 0;
  wire [31:0] acc; wire valid_out;
  mac dut (.clk(clk), .rst(rst), .valid(valid), .clear(clear), .w(w), .a(a), .acc(acc), .valid_out(valid_out));
  reg [63:0] s = 64'h9E3779B97F4A7C15;
  integer c, l; reg [7:0] code;
  function [63:0] next(input [63:0] x); begin x = x ^ (x << 13); x = x ^ (x >> 7); next = x ^ (x << 17); end endfunction
  always #{half} clk = ~clk;
  initial begin
    $sdf_annotate("{sdf}", dut);
    for (c = 0; c < WARM + CYCLES; c = c + 1) begin
      @(negedge clk);
      if (c == WARM) begin $dumpfile("{vcd}"); $dumpvars(1, dut); end
      valid = 1; clear = (c % ROW) == 0;
      for (l = 0; l < LANES; l = l + 1) begin
        s = next(s); code = s[7:0];
        if (KIND == 1 && code[3:0] == 4'b1000) code = 0;
        w[l*WW +: WW] = code[WW-1:0];
        s = next(s); a[l*8 +: 8] = s[7:0];
      end
    end
    @(negedge clk); $finish;
  end
endmodule
"""


def toggles(vcd):
    """Per net name of the dut scope: 0/1 transitions (x and z ignored)."""
    ids, counts, last = {}, {}, {}
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
                    counts[i] = counts.get(i, 0) + 1
                last[i] = v
    return {n: counts.get(i, 0) for i, names in ids.items() for n in names}


def flow_energy(args, lib, unit, lanes, netlist, period, out):
    """Icarus + SDF activity, priced by OpenSTA: pJ per MAC and simulated cycles per second."""
    base = f"{out}/{unit}-{lanes}"
    sdf, vcd = base + ".sdf", base + ".vcd"
    sta(lib, netlist, period, f"write_sdf -digits 4 {sdf}")
    cycles = args.cycles if lanes == 1 else max(args.cycles // 4, 200)
    tb = TB.format(lanes=lanes, ww=8 if unit == "int8-mac" else 4, kind=UNITS[unit], row=max(256 // lanes, 1), cycles=cycles,
                   half=period / 2, sdf=sdf, vcd=vcd)
    open(base + ".tb.v", "w").write(tb)
    run(["iverilog", "-gspecify", "-o", base + ".vvp", "-s", "tb", base + ".tb.v", netlist, args.cell_models])
    t0 = time.time()
    run(["vvp", "-n", base + ".vvp"], cwd=out)
    seconds = time.time() - t0
    counts = toggles(vcd)
    os.remove(vcd)
    # The pins on each net, from the instances of the mapped netlist (this OpenSTA has no
    # get_pins -of_objects).
    pins = {}
    for inst, conns in re.findall(r"^\s+\w+ (u[0-9]+) \((.*)\);$", open(netlist).read(), re.M):
        for pin, net in re.findall(r"\.(\w+)\((n[0-9]+)\)", conns):
            pins.setdefault(net, []).append(f"{inst}/{pin}")
    # Every pin gets its net's measured activity (transitions per clock period), quiet ones 0:
    # a pin left unset would get OpenSTA's propagated default instead.
    lines = []
    for net in pins:
        tc = counts.get(net, 0)
        if True:
            # Debian's OpenSTA (2019) set_power_activity -pins calls a missing helper; its
            # internal per-pin setter is what that option would call.
            lines.append(f"foreach p [get_pins {{{' '.join(pins[net])}}}] {{ sta::set_power_pin_activity $p {tc / cycles:.6g} 0.5 }}")
    lines.append("report_power -digits 8")
    _, report = sta(lib, netlist, period, "\n".join(lines))
    total = float(re.search(r"^Total\s+\S+\s+\S+\s+\S+\s+(\S+)", report, re.M).group(1))   # W
    return total * period * 1e-9 / lanes * 1e12, cycles / seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--liberty", default="/usr/share/qflow/tech/osu018/osu018_stdcells.lib")
    ap.add_argument("--cell-models", default="/usr/share/qflow/tech/osu018/osu018_stdcells.v")
    ap.add_argument("--dintsim", default=".build/release/dintsim")
    ap.add_argument("--out", default="out/flow")
    ap.add_argument("--lanes", default="1,16")
    ap.add_argument("--cycles", type=int, default=2000)
    ap.add_argument("--check", type=float, help="fail when a ratio differs by more than this (relative)")
    args = ap.parse_args()
    lib = args.liberty
    os.makedirs(args.out, exist_ok=True)
    lanes_list = [int(x) for x in args.lanes.split(",")]
    print("real_flow: dintsim report --liberty --delay-model liberty", file=sys.stderr)
    report_json = f"{args.out}/dintsim-report.json"
    run([args.dintsim, "report", "--liberty", lib, "--delay-model", "liberty", "--json", report_json])
    doc = json.load(open(report_json))
    rows = {(r["unit"], r["lanes"]): r for r in doc["rows"] if r["data"] == doc["rows"][0]["data"]}
    results = []
    for lanes in lanes_list:
        for unit, kind in UNITS.items():
            print(f"real_flow: {unit}, {lanes} lane(s)", file=sys.stderr)
            base = f"{args.out}/{unit}-{lanes}"
            r = rows[(unit, lanes)]
            period = r["clock_ns"]
            ours = base + ".ours.v"
            open(ours, "w").write(run([args.dintsim, "export", "--unit", unit, "--lanes", str(lanes), "--liberty", lib]))
            ours_area = yosys_area(lib, f"read_liberty -lib {lib}; read_verilog {ours}; hierarchy -top mac")
            ours_path, _ = sta(lib, ours, 50.0)
            energy, icarus_rate = flow_energy(args, lib, unit, lanes, ours, period, args.out)
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
                                dintsim_pj_per_mac=r["per_action_pj_per_mac"], flow_pj_per_mac=energy,
                                synth_area=synth_area, synth_path_ns=synth_path, rtl_area=rtl_area, rtl_path_ns=rtl_path,
                                icarus_sdf_cycles_per_s=icarus_rate))
    failures = []
    md = ["| unit | lanes | area µm² dintsim / flow | critical path ns dintsim / OpenSTA | pJ/MAC dintsim / flow | Yosys-synthesized export: area, path | Yosys-synthesized rtl-reference: area, path |",
          "|---|---|---|---|---|---|---|"]
    for x in results:
        md.append(f"| {x['unit']} | {x['lanes']} | {x['dintsim_area']:.0f} / {x['flow_area']:.0f} | {x['dintsim_path_ns']:.3f} / {x['flow_path_ns']:.3f} | "
                  f"{x['dintsim_pj_per_mac']:.3f} / {x['flow_pj_per_mac']:.3f} | {x['synth_area']:.0f}, {x['synth_path_ns']:.3f} | {x['rtl_area']:.0f}, {x['rtl_path_ns']:.3f} |")
        if args.check is not None and abs(x["dintsim_path_ns"] / x["flow_path_ns"] - 1) > args.check:
            failures.append(f"{x['unit']} {x['lanes']}: critical path {x['dintsim_path_ns']:.3f} vs OpenSTA {x['flow_path_ns']:.3f}")
    md.append("")
    md.append("| lanes | ratio | dintsim | flow (same cells) | difference | Yosys-synthesized export | Yosys-synthesized rtl-reference |")
    md.append("|---|---|---|---|---|---|---|")
    for lanes in lanes_list:
        by = {x["unit"]: x for x in results if x["lanes"] == lanes}
        for other in ("dint-mac", "fp4-mac"):
            for what, key, synth_key, rtl_key in (("area", "area", "synth_area", "rtl_area"), ("energy", "pj_per_mac", None, None)):
                ours = by["int8-mac"]["dintsim_" + key] / by[other]["dintsim_" + key]
                flow = by["int8-mac"]["flow_" + key] / by[other]["flow_" + key]
                s = f"{by['int8-mac'][synth_key] / by[other][synth_key]:.2f}×" if synth_key else "—"
                t = f"{by['int8-mac'][rtl_key] / by[other][rtl_key]:.2f}×" if rtl_key else "—"
                md.append(f"| {lanes} | INT8/{other[:-4]} {what} | {ours:.3f}× | {flow:.3f}× | {100 * (ours / flow - 1):+.1f} % | {s} | {t} |")
                if args.check is not None and abs(ours / flow - 1) > args.check:
                    failures.append(f"lanes {lanes}: INT8/{other} {what} ratio {ours:.3f} vs flow {flow:.3f}")
    text = "\n".join(md) + "\n"
    open(f"{args.out}/flow.md", "w").write(text)
    json.dump(results, open(f"{args.out}/flow.json", "w"), indent=1)
    print(text)
    if failures:
        print("real_flow: beyond tolerance: " + "; ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
