// dintsim RTL reference (Verilog-2005): the dINT4 × INT8 lane product of docs/mac.md.
// dINT4 × INT8 product, as one's complement plus a carry: code = {s, m[2:0]}; m = 111 is the
// denormal (±½ step → 1·a in half-steps), m = 1…6 gives 2·m·a, the reserved code 1000 gives 0.
// The result is q = (±) magnitude XOR {12{s}}; the caller adds s (completing the negation).
module dint_product (
    input  wire [3:0]  code,
    input  wire [7:0]  a,
    output wire [11:0] q,
    output wire        s
);
    wire [2:0] m = code[2:0];
    wire denormal = &m;
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [11:0] ma = $signed({1'b0, m}) * $signed(a);           // |m·a| ≤ 6·128: bit 11 is a sign copy
    /* verilator lint_on UNUSEDSIGNAL */
`ifdef INJECT_FAULT
    // Deliberately broken variant (one wrong bit): bit 1 of the denormal product inverted.
    // The testbenches must fail with it (make sim-fault).
    wire [11:0] magnitude = denormal ? {{4{a[7]}}, a[7:2], ~a[1], a[0]} : {ma[10:0], 1'b0};
`else
    wire [11:0] magnitude = denormal ? {{4{a[7]}}, a} : {ma[10:0], 1'b0};
`endif
    assign s = code[3];
    assign q = magnitude ^ {12{s}};
endmodule

