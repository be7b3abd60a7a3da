// MXFP4 block quantizer (docs/block-quantizer.md), written from the docs: B binary32 elements
// (finite) -> the UE8M0 scale code of an MX scale rule (SCALE_RULE 0: OCP MX v1.0's floor,
// 1: ceil, 2: rceil, 3: even) and B E2M1 codes, each the level of the exact x / 2^k rounded to
// nearest even, saturating at +-6, the sign bit kept (a negative value or -0.0 at level 0 is
// 1000). One block per cycle; outputs registered (latency 1).
// Element j is x[j*32 +: 32]; its code c[j*4 +: 4].
`timescale 1ns/1ps
module block_quantizer #(parameter B = 32, parameter SCALE_RULE = 0) (
    input  wire            clk,
    input  wire            rst,
    input  wire            in_valid,
    input  wire [B*32-1:0] x,
    output reg             out_valid,
    output reg  [7:0]      scale,
    output reg  [B*4-1:0]  c
);
    // Whether a fraction is above the rule's threshold: the maximum's significand f = 1 + fraction
    // / 2^23 raises the exponent by one when f > 1 (ceil), f > 1.5 (rceil), f >= 1.75 (even).
    function above;
        input [22:0] fraction;
        begin
            case (SCALE_RULE)
                1: above = |fraction;
                2: above = fraction[22] & (|fraction[21:0]);
                3: above = fraction[22] & fraction[21];
                default: above = 1'b0;
            endcase
        end
    endfunction

    // The largest biased exponent field of the block, and the bump: an element of that binade
    // whose fraction is above the threshold (only those can be the maximum).
    reg [7:0] emax;
    reg       bump;
    integer i;
    always @* begin
        emax = 8'd0;
        for (i = 0; i < B; i = i + 1)
            if (x[i*32+23 +: 8] > emax) emax = x[i*32+23 +: 8];
        bump = 1'b0;
        for (i = 0; i < B; i = i + 1)
            if (x[i*32+23 +: 8] == emax && above(x[i*32 +: 23])) bump = 1'b1;
    end
    // k = floor(log2 max|x|) - 2 (+ 1 with the bump) clamped at -127: code = k + 127 = emax - 2 + bump,
    // or 0 when that is negative.
    wire [8:0] raised = {1'b0, emax} + {8'd0, bump};
    wire [7:0] code = (raised >= 9'd2) ? raised[7:0] - 8'd2 : 8'd0;

    // One element: q = 4|x| / 2^k = M / 2^(19 + r), r = code + 2 - max(e, 1); floor(q) and a
    // sticky bit for the rest; the E2M1 magnitude counts the midpoints (1, 3, 5, 7, 10, 14, 20
    // quarter half-steps) below q, a tie going to the even code.
    function [3:0] e2m1;
        input [31:0] v;
        input [7:0]  k;
        reg [7:0]  e;
        reg [23:0] m;
        reg [8:0]  r;
        reg [4:0]  fq;
        reg        st;
        reg [2:0]  mag;
        begin
            e = v[30:23];
            m = {|e, v[22:0]};
            r = {1'b0, k} + 9'd2 - {1'b0, (e == 8'd0) ? 8'd1 : e};
            if (r >= 9'd5) begin
                fq = 5'd0;
                st = |m;
            end else begin
                fq = m[23:19] >> r[2:0];
                st = |(m & ((24'd1 << (5'd19 + {2'b00, r[2:0]})) - 24'd1));
            end
            mag = 3'd0;
            if (fq > 5'd1  || (fq == 5'd1  && st)) mag = mag + 3'd1;
            if (fq >= 5'd3) mag = mag + 3'd1;
            if (fq > 5'd5  || (fq == 5'd5  && st)) mag = mag + 3'd1;
            if (fq >= 5'd7) mag = mag + 3'd1;
            if (fq > 5'd10 || (fq == 5'd10 && st)) mag = mag + 3'd1;
            if (fq >= 5'd14) mag = mag + 3'd1;
`ifdef INJECT_FAULT
            if (fq >= 5'd20) mag = mag + 3'd1;  // the tie at 5 (between 4 and 6) goes up: wrong
`else
            if (fq > 5'd20 || (fq == 5'd20 && st)) mag = mag + 3'd1;
`endif
            e2m1 = {v[31], mag};
        end
    endfunction

    integer j;
    always @(posedge clk) begin
        out_valid <= rst ? 1'b0 : in_valid;
        scale <= code;
        for (j = 0; j < B; j = j + 1) c[j*4 +: 4] <= e2m1(x[j*32 +: 32], code);
    end
endmodule
