"""Energy of a mapped gate-level netlist from measured per-net activity, priced from a Liberty
library without any of dintsim's code (the real flow's pricing step, scripts/real_flow.py).

Inputs: the netlist of library cells (`dintsim export --liberty`, one instance per line), the
rises and falls of every net (from an Icarus + SDF VCD), every pin's transition (OpenSTA
`report_slews`), the clock. The library is read with the PyPI package `liberty-parser`.

Rules (Liberty's meaning of the groups; where a choice is made it is stated):
- a net's rise (fall) costs ½·C·V² (C: the capacitances of every pin on it, V: nom_voltage; not
  for nets driven by the unit's input ports, whose driver is outside) plus
  the `rise_power` (`fall_power`) of every input pin on it that has internal power with no
  related pin (passive), at the net's transition;
- a rise (fall) of an output pin costs its `rise_power` (`fall_power`) at (net load, input
  transition), the groups related to the cell's inputs weighted by those inputs' measured
  toggle counts (OpenSTA's weighting; equal weights when none toggled);
- a flip-flop output's groups are related to the clock: looked up at the clock transition;
- every flip-flop, every cycle: its clock pin's passive rise + fall energy and C_clk·V²;
- leakage: Σ cell_leakage_power × period.
"""
import re


def _unit(text, table):
    m = re.fullmatch(r'"?([0-9.]+)\s*([a-zA-Z]+)"?', str(text).strip())
    return float(m.group(1)) * table[m.group(2).lower()]


class Library:
    def __init__(self, path):
        from liberty.parser import parse_liberty
        lib = parse_liberty(open(path).read())
        self.time = _unit(lib.get("time_unit"), {"ns": 1.0, "ps": 1e-3})
        cap = lib.get_attributes("capacitive_load_unit")[0]
        self.cap = float(cap[0]) * {"pf": 1.0, "ff": 1e-3}[str(cap[1]).lower()]
        volt = lib.get("voltage_unit")
        self.volt = _unit(volt, {"v": 1.0, "mv": 1e-3}) if volt is not None else 1.0
        self.leak = _unit(lib.get("leakage_power_unit"), {"nw": 1.0, "pw": 1e-3, "uw": 1e3, "mw": 1e6})
        self.vdd = float(lib.get("nom_voltage")) * self.volt
        self.energy = self.cap * self.volt ** 2        # pJ per table unit
        self.templates = {}
        for kind in ("lu_table_template", "power_lut_template"):
            for t in lib.get_groups(kind):
                variables = [t.get(f"variable_{k}") for k in (1, 2) if t.get(f"variable_{k}") is not None]
                self.templates[str(t.args[0])] = variables
        self.cells = {}
        for c in lib.get_groups("cell"):
            pins = {}
            for p in c.get_groups("pin"):
                powers = []
                for ip in p.get_groups("internal_power"):
                    related = str(ip.get("related_pin") or "").strip('"').split()
                    tables = {}
                    for edge in ("rise_power", "fall_power"):
                        g = ip.get_groups(edge)
                        if g:
                            tables[edge] = self._table(g[0])
                    powers.append((related, tables.get("rise_power"), tables.get("fall_power")))
                for name in p.args:
                    pins[str(name)] = dict(direction=str(p.get("direction")), cap=float(p.get("capacitance") or 0) * self.cap,
                                           clock=str(p.get("clock")) == "true", powers=powers)
            self.cells[str(c.args[0])] = dict(pins=pins, leakage=float(c.get("cell_leakage_power") or 0) * self.leak,
                                             flop=bool(c.get_groups("ff")))

    def _table(self, g):
        variables = self.templates.get(str(g.args[0]), [])
        indices = []
        for k, v in enumerate(variables, 1):
            try:
                idx = [float(x) for x in g.get_array(f"index_{k}").flatten()]
            except Exception:
                idx = None
            scale = self.cap if v == "total_output_net_capacitance" else self.time
            indices.append([x * scale for x in idx] if idx else None)
        values = [float(x) * self.energy for x in g.get_array("values").flatten()]
        return (variables, indices, values)


def lookup(table, load, slew):
    """Linear / bilinear interpolation, linear extrapolation outside the index."""
    variables, indices, values = table
    def coordinate(v):
        return load if v == "total_output_net_capacitance" else slew
    def bracket(index, x):
        if len(index) == 1:
            return 0, 0.0
        i = 0
        while i < len(index) - 2 and x > index[i + 1]:
            i += 1
        return i, (x - index[i]) / (index[i + 1] - index[i])
    if not variables:
        return values[0]
    i, tx = bracket(indices[0], coordinate(variables[0]))
    if len(variables) == 1:
        return values[i] if len(indices[0]) == 1 else values[i] + tx * (values[i + 1] - values[i])
    j, ty = bracket(indices[1], coordinate(variables[1]))
    n = len(indices[1])
    i1, j1 = (i if len(indices[0]) == 1 else i + 1), (j if n == 1 else j + 1)
    v = lambda a, b: values[a * n + b]
    low = v(i, j) + ty * (v(i, j1) - v(i, j))
    high = v(i1, j) + ty * (v(i1, j1) - v(i1, j))
    return low + tx * (high - low)


def instances(netlist):
    """(cell, instance name, {pin: net}) for every instance line of a mapped netlist."""
    out = []
    for cell, inst, conns in re.findall(r"^\s+(\w+) (u[0-9]+) \((.*)\);$", open(netlist).read(), re.M):
        out.append((cell, inst, dict(re.findall(r"\.(\w+)\(([\w']+)\)", conns))))
    return out


def price(lib, netlist, rises, falls, slews, cycles, period, clock_slew=0.1):
    """Energy (pJ) over `cycles` cycles: dict of switching, internal, passive, clock, leakage."""
    insts = instances(netlist)
    load, on_net = {}, {}
    for cell, inst, pins in insts:
        for pin, net in pins.items():
            spec = lib.cells[cell]["pins"].get(pin)
            if spec is None or spec["clock"]:
                continue
            load[net] = load.get(net, 0.0) + spec["cap"]
            on_net.setdefault(net, []).append((cell, inst, pin))
    toggles = lambda net: rises.get(net, 0) + falls.get(net, 0)
    slew_of = lambda net: slews.get(net, clock_slew)
    e = dict(switching=0.0, internal=0.0, passive=0.0, clock=0.0, leakage=0.0)
    driven = {net for cell, inst, pins in insts for pin, net in pins.items()
              if lib.cells[cell]["pins"].get(pin, {}).get("direction") == "output"}
    for net, c in load.items():
        if net in driven:     # a primary input's switching belongs to its driver, outside the unit
            e["switching"] += 0.5 * c * lib.vdd ** 2 * toggles(net)
    for cell, inst, pins in insts:
        spec = lib.cells[cell]
        e["leakage"] += spec["leakage"] * period * cycles * 1e-6     # nW·ns = 1e-6 pJ
        for pin, net in pins.items():
            p = spec["pins"].get(pin)
            if p is None:
                continue
            if p["direction"] == "input":
                if p["clock"]:
                    continue          # the clock pin's energy is the per-cycle clock term below
                for related, rise, fall in p["powers"]:
                    if not related:
                        e["passive"] += (lookup(rise, 0, slew_of(net)) * rises.get(net, 0) if rise else 0) \
                                        + (lookup(fall, 0, slew_of(net)) * falls.get(net, 0) if fall else 0)
                continue
            groups = [g for g in p["powers"] if g[0]]
            if not groups or not toggles(net):
                continue
            weights = []
            for related, rise, fall in groups:
                src = [pins.get(r) for r in related if r in pins]
                w = sum(toggles(s) for s in src if s)
                weights.append((w, related, rise, fall))
            total_w = sum(w for w, *_ in weights)
            for w, related, rise, fall in weights:
                share = w / total_w if total_w else 1 / len(weights)
                src = next((pins[r] for r in related if r in pins), None)
                s = clock_slew if spec["flop"] or src is None else slew_of(src)
                e["internal"] += share * ((lookup(rise, load[net], s) * rises.get(net, 0) if rise else 0)
                                          + (lookup(fall, load[net], s) * falls.get(net, 0) if fall else 0))
        if spec["flop"]:
            for p in spec["pins"].values():
                if p["clock"]:
                    for related, rise, fall in p["powers"]:
                        if not related:
                            e["clock"] += cycles * ((lookup(rise, 0, clock_slew) if rise else 0) + (lookup(fall, 0, clock_slew) if fall else 0))
                    e["clock"] += cycles * p["cap"] * lib.vdd ** 2
    return e
