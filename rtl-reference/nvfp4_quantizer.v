// NVFP4 block quantizer (docs/block-quantizer.md, "NVFP4 quantizer"), written from the docs: B
// binary32 elements (finite) and the tensor's decode scale S (binary32, finite, > 0) -> the E4M3
// block-scale code of the exact q = m / (6*S) (m the block's largest magnitude), rounded to
// nearest even and saturating at 448, and B E2M1 codes, each the level of the exact x / (b*S)
// (b the scale code's value) rounded to nearest even, saturating at +-6, the sign bit kept; a
// block whose scale code is 0 gives level 0 everywhere. One block per cycle, latency 2: the
// scale code is registered with S and the elements, the element codes are decided from those in
// the next cycle, and scale and codes are registered together.
// Element j is x[j*32 +: 32]; its code c[j*4 +: 4].
//
// Every decision is one exact comparison of A * 2^a with C * 2^c between integers: q against
// the E4M3 midpoints, and 4|x| / (b*S) against E2M1's midpoints in quarter half-steps. No
// division, no normalization (the gate netlist divides; this model compares).
`timescale 1ns/1ps
module nvfp4_quantizer #(parameter B = 16) (
    input  wire            clk,
    input  wire            rst,
    input  wire            in_valid,
    input  wire [B*32-1:0] x,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [31:0]     s,  // sign bit unused: S > 0
    /* verilator lint_on UNUSEDSIGNAL */
    output reg             out_valid,
    output reg  [7:0]      scale,
    output reg  [B*4-1:0]  c
);
    // The sign of A * 2^ea - C * 2^ec: 1, 0 or -1 (A, C < 2^64; exponents in 0 ... 511).
    function integer cmp;
        input [63:0] a;
        input integer ea;
        input [63:0] cv;
        input integer ec;
        reg [255:0] l, r;
        begin
            if (a == 64'd0 || cv == 64'd0) cmp = (a != 64'd0) ? 1 : (cv != 64'd0) ? -1 : 0;
            else if (ea - ec > 120) cmp = 1;
            else if (ec - ea > 120) cmp = -1;
            else begin
                l = {192'd0, a};
                r = {192'd0, cv};
                if (ea >= ec) l = l << (ea - ec); else r = r << (ec - ea);
                cmp = (l > r) ? 1 : (l < r) ? -1 : 0;
            end
        end
    endfunction

    // E4M3 code k (0 ... 127) as an integer multiple of 2^-10: 2f when e = 0, (8 + f) * 2^e else.
    function [63:0] e4m3_v;
        input [6:0] kv;
        begin
            if (kv[6:3] == 4'd0) e4m3_v = {60'd0, kv[2:0], 1'b0};
            else e4m3_v = {61'd1, kv[2:0]} << kv[6:3];
        end
    endfunction

    // A binary32 magnitude's significand (hidden bit = exponent field != 0) and max(field, 1): the
    // value is sig * 2^(ex - 150).
    function [23:0] sig;
        input [30:0] v;
        begin
            sig = {|v[30:23], v[22:0]};
        end
    endfunction
    function integer ex;
        input [7:0] field;
        begin
            ex = (field == 8'd0) ? 1 : {24'd0, field};
        end
    endfunction

    reg [30:0] m;
    reg [7:0]  code;
    integer i, k, d;
    always @* begin
        m = 31'd0;
        for (i = 0; i < B; i = i + 1)
            if (x[i*32 +: 31] > m) m = x[i*32 +: 31];
        // The scale code counts the E4M3 midpoints (V(k) + V(k+1)) * 2^-11 below q, a tie going to
        // the even code k + 1 when k + 1 is even: q vs mid is m * 2^11 vs 6 * S * mid * 2^11.
        code = 8'd0;
        for (k = 0; k < 126; k = k + 1) begin
            d = cmp({40'd0, sig(m)}, ex(m[30:23]) + 11, 64'd6 * {40'd0, sig(s[30:0])} * (e4m3_v(k[6:0]) + e4m3_v(k[6:0] + 7'd1)), ex(s[30:23]));
            if (d > 0 || (d == 0 && k % 2 == 1)) code = code + 8'd1;
        end
    end

    // One element: the E2M1 magnitude counts the midpoints (1, 3, 5, 7, 10, 14, 20 quarter
    // half-steps) below 4|x| / (b*S), b = V * 2^-10: 4|x| vs mid * b * S is
    // sig_x * 2^(ex_x + 12) vs mid * V * sig_S * 2^ex_S; a tie goes up at 3, 7 and 14 (even codes).
    function [3:0] e2m1;
        input [31:0] v;
        input [7:0]  kv;
        input [30:0] sv;
        integer j, r;
        reg [4:0] mid;
        reg [2:0] mag;
        begin
            mag = 3'd0;
            if (kv != 8'd0)
                for (j = 0; j < 7; j = j + 1) begin
                    mid = (j == 0) ? 5'd1 : (j == 1) ? 5'd3 : (j == 2) ? 5'd5 : (j == 3) ? 5'd7 : (j == 4) ? 5'd10 : (j == 5) ? 5'd14 : 5'd20;
                    r = cmp({40'd0, sig(v[30:0])}, ex(v[30:23]) + 12, {59'd0, mid} * e4m3_v(kv[6:0]) * {40'd0, sig(sv)}, ex(sv[30:23]));
`ifdef INJECT_FAULT
                    if (r > 0 || (r == 0 && (mid == 5'd3 || mid == 5'd7 || mid == 5'd14 || mid == 5'd20))) mag = mag + 3'd1;  // the tie between 4 and 6 goes up: wrong
`else
                    if (r > 0 || (r == 0 && (mid == 5'd3 || mid == 5'd7 || mid == 5'd14))) mag = mag + 3'd1;
`endif
                end
            e2m1 = {v[31], mag};
        end
    endfunction

    // Stage 1 -> 2: the code with the block's S and elements.
    reg [7:0]      code_q;
    reg [30:0]     s_q;
    reg [B*32-1:0] x_q;
    reg            valid_q;
    integer jj;
    always @(posedge clk) begin
        valid_q <= rst ? 1'b0 : in_valid;
        out_valid <= rst ? 1'b0 : valid_q;
        code_q <= code;
        s_q <= s[30:0];
        x_q <= x;
        scale <= code_q;
        for (jj = 0; jj < B; jj = jj + 1) c[jj*4 +: 4] <= e2m1(x_q[jj*32 +: 32], code_q, s_q);
    end
endmodule
