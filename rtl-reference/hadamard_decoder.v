// dintsim RTL reference: the pipelined TAH-Quant Hadamard decoder (docs/hadamard-decode.md),
// bit-exact with the decode spec of docs/tahquant.md. Verilog-2005, synthesizable.
//   log2 G butterfly stages (a + b, a − b on pairs (i, i + h)), each registered, codes and tile
//   fields travelling beside; then per element the exact fixed-point value
//   A = s·w·2^24 + [i = 0]·G·z·2^24 (unflagged: s·q·2^24 + z·2^24), × R for G = 8, 32, 128,
//   normalised and rounded once to nearest even into FP32 / BF16 / FP16 (FP16: subnormals,
//   overflow to ∞); finally y0 and y_pivot swapped on flagged tiles. One tile per cycle,
//   latency log2 G + 1.
module hadamard_decoder #(
    parameter G       = 16,
    parameter LOG2G   = 4,
    parameter OUT_FMT = 0,          // 0 FP32, 1 BF16, 2 FP16
    parameter OUT_W   = 32
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               in_valid,
    input  wire [G*4-1:0]     q,        // element i at [i*4 +: 4]
    input  wire               flagged,
    input  wire [LOG2G-1:0]   pivot,
    input  wire [15:0]        scale,
    input  wire [15:0]        zero,
    output reg                out_valid,
    output reg  [G*OUT_W-1:0] y         // element i at [i*OUT_W +: OUT_W]
);
    localparam WB = 5 + LOG2G;                      // butterfly output width
    localparam FB = (OUT_FMT == 0) ? 23 : (OUT_FMT == 1) ? 7 : 10;
    localparam BIAS = (OUT_FMT == 2) ? 15 : 127;
    localparam EMAX_FIELD = (OUT_FMT == 2) ? 31 : 255;
    localparam ODD = LOG2G % 2;                     // G = 2·4^k: apply R
    localparam K = LOG2G / 2;                       // c_G = 2^-K (· R when ODD)
    localparam [52:0] R = 53'h16a09e667f3bcd;       // binary64 nearest 1/√2, times 2^53

    // ---- butterfly pipeline: stage 0 = the inputs, stage k+1 registered ----
    wire [G*WB-1:0]  st [0:LOG2G];
    wire [LOG2G:0]   v, fl;
    wire [LOG2G-1:0] pv [0:LOG2G];
    wire [15:0]      sc [0:LOG2G];
    wire [15:0]      zr [0:LOG2G];
    wire [G*4-1:0]   qs [0:LOG2G];
    genvar s, e;
    generate
        for (e = 0; e < G; e = e + 1) begin : in_ext
            assign st[0][e*WB +: WB] = {{(WB-4){1'b0}}, q[e*4 +: 4]};
        end
        assign v[0] = in_valid; assign fl[0] = flagged; assign pv[0] = pivot; assign sc[0] = scale; assign zr[0] = zero; assign qs[0] = q;
        for (s = 0; s < LOG2G; s = s + 1) begin : stage
            wire [G*WB-1:0] nxt;
            for (e = 0; e < G; e = e + 1) begin : el
                if (((e >> s) & 1) == 0) begin : lo
                    assign nxt[e*WB +: WB] = st[s][e*WB +: WB] + st[s][(e + (1 << s))*WB +: WB];
                end else begin : hi
                    assign nxt[e*WB +: WB] = st[s][(e - (1 << s))*WB +: WB] - st[s][e*WB +: WB];
                end
            end
            reg [G*WB-1:0] r_st;
            reg r_v, r_fl;
            reg [LOG2G-1:0] r_pv;
            reg [15:0] r_sc, r_zr;
            reg [G*4-1:0] r_qs;
            always @(posedge clk) begin
                if (rst) begin
`ifdef INJECT_RESET_FAULT
                    r_st <= 0; r_v <= v[s];  // the broken copy: rst keeps the tiles in flight
`else
                    r_st <= 0; r_v <= 1'b0;
`endif r_fl <= 1'b0; r_pv <= 0; r_sc <= 0; r_zr <= 0; r_qs <= 0;
                end else begin
                    r_st <= nxt; r_v <= v[s]; r_fl <= fl[s]; r_pv <= pv[s]; r_sc <= sc[s]; r_zr <= zr[s]; r_qs <= qs[s];
                end
            end
            assign st[s+1] = r_st; assign v[s+1] = r_v; assign fl[s+1] = r_fl; assign pv[s+1] = r_pv;
            assign sc[s+1] = r_sc; assign zr[s+1] = r_zr; assign qs[s+1] = r_qs;
        end
    endgenerate

    // ---- scale / round of one element ----
    function [OUT_W-1:0] scale_round;
        input signed [WB-1:0] w;
        input add_zero;
        input is_flagged;
        input [15:0] s16;
        input [15:0] z16;
        reg [39:0] sv, zv;
        reg signed [59:0] a;
        reg [59:0] mag0;
        reg [112:0] m, rest;
        integer e0, p, ex, qe, sh, j;
        reg [112:0] n;
        reg rnd, sticky;
        reg [31:0] bits;
        begin
            sv = {29'd0, (s16[14:10] != 0), s16[9:0]} << ((s16[14:10] == 0) ? 0 : s16[14:10] - 1);
            zv = {29'd0, (z16[14:10] != 0), z16[9:0]} << ((z16[14:10] == 0) ? 0 : z16[14:10] - 1);
            a = $signed({{(60-WB){w[WB-1]}}, w}) * $signed({20'd0, sv});
            if (s16[15]) a = -a;
            if (add_zero) begin
                if (z16[15]) a = a - $signed({20'd0, zv} << (is_flagged ? LOG2G : 0));
                else         a = a + $signed({20'd0, zv} << (is_flagged ? LOG2G : 0));
            end
            mag0 = a[59] ? -a : a;
            if (is_flagged && (ODD != 0)) begin m = mag0 * R; e0 = -24 - K - 53; end
            else begin m = {53'd0, mag0}; e0 = -24 - (is_flagged ? K : 0); end
            p = -1;
            for (j = 0; j < 113; j = j + 1) if (m[j]) p = j;
            if (p < 0) bits = 0;
            else begin
                ex = p + e0;
                qe = ((ex > 1 - BIAS) ? ex : 1 - BIAS) - FB;
                sh = qe - e0;
                if (sh <= 0) begin n = m << (-sh); rnd = 1'b0; sticky = 1'b0; end
                else begin
                    n = m >> sh;
                    rnd = m[sh - 1];
                    rest = m & ~({113{1'b1}} << (sh - 1));
                    sticky = (sh > 1) && (rest != 0);
`ifdef INJECT_FAULT
                    sticky = 1'b0;          // deliberately broken variant: the sticky bit lost
`endif
                end
                n = n + {112'd0, rnd & (sticky | n[0])};
                bits = ((((ex > 1 - BIAS) ? ex : 1 - BIAS) - (1 - BIAS)) << FB) + n[31:0];
                if (bits >= (EMAX_FIELD << FB)) bits = EMAX_FIELD << FB;
            end
            scale_round = {a[59] & (p >= 0), bits[OUT_W-2:0]};
        end
    endfunction

    // ---- output stage: scale/round every element, undo the pivot swap, register ----
    reg [G*OUT_W-1:0] r, swapped;
    integer t;
    always @* begin
        for (t = 0; t < G; t = t + 1)
            r[t*OUT_W +: OUT_W] = scale_round(fl[LOG2G] ? st[LOG2G][t*WB +: WB] : {{(WB-4){1'b0}}, qs[LOG2G][t*4 +: 4]},
                                              t == 0 || !fl[LOG2G], fl[LOG2G], sc[LOG2G], zr[LOG2G]);
        swapped = r;
        if (fl[LOG2G]) begin
            swapped[0 +: OUT_W] = r[pv[LOG2G]*OUT_W +: OUT_W];
            swapped[pv[LOG2G]*OUT_W +: OUT_W] = r[0 +: OUT_W];
        end
    end
    always @(posedge clk) begin
        if (rst) begin out_valid <= 1'b0; y <= 0; end
        else begin out_valid <= v[LOG2G]; y <= swapped; end
    end
endmodule
