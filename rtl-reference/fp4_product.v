// dintsim RTL reference (Verilog-2005): the FP4 (E2M1) × INT8 lane product of docs/mac.md.
// code = {s, e[1:0], m}: value (e == 0 ? m/2 : (1 + m/2)·2^(e−1)). In half-units
// 2|w| = {hidden, m} << max(e − 1, 0) with hidden = |e, so the product is the 2-bit significand
// times a, shifted 0, 0, 1 or 2 places. q = (±) magnitude XOR {12{s}}; the caller adds s.
// Code 1000 (−0) gives 0 after the +1, like +0.
module fp4_product (
    input  wire [3:0]  code,
    input  wire [7:0]  a,
    output wire [11:0] q,
    output wire        s
);
    wire m = code[0];
    wire [1:0] e = code[2:1];
    wire hidden = |e;
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [10:0] sa = $signed({1'b0, hidden, m}) * $signed(a);   // |{h,m}·a| ≤ 3·128: bit 10 is a sign copy
    /* verilator lint_on UNUSEDSIGNAL */
    wire [11:0] p = {{2{sa[9]}}, sa[9:0]};
    wire [11:0] magnitude = e[1] ? (e[0] ? {p[9:0], 2'b00} : {p[10:0], 1'b0}) : p;
    assign s = code[3];
    assign q = magnitude ^ {12{s}};
endmodule
