// dintsim RTL reference: INT8 MAC, dINT MAC, FP4 (E2M1) MAC and their N-lane dot-product PEs.
// Verilog-2005, synthesizable. Bit-exact with the cycle model of docs/mac.md:
//   * product units: INT8 w·a; dINT and FP4 2w·a ("half-steps", so ½ is an integer);
//   * DEPTH 1: multiply + tree + accumulate in one cycle; 2: a register after the products;
//     3: input registers too. A transaction presented in cycle t shows on acc after the edge
//     ending cycle t + DEPTH − 1;
//   * acc ← (clear ? 0 : acc) + Σ products on valid, wrapped to ACC_W bits or (SATURATE)
//     clamped to the ACC_W-bit two's complement range at every transaction;
//   * rst (synchronous) clears every register.

module mac #(
    parameter KIND      = 1,        // 0: INT8 weights, 1: dINT4 (4-bit codes), 2: FP4 E2M1 (4-bit codes)
    parameter LANES     = 1,
    parameter DEPTH     = 1,        // 1…3
    parameter ACC_W     = 32,       // ≥ product width + ⌈log2 LANES⌉, ≤ 62
    parameter SATURATE  = 0
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire                     valid,
    input  wire                     clear,
    input  wire [LANES*WW-1:0]      w,        // lane i at [i*WW +: WW]
    input  wire [LANES*8-1:0]       a,        // lane i at [i*8 +: 8]
    output reg  [ACC_W-1:0]         acc,
    output reg                      valid_out
);
    localparam WW = (KIND != 0) ? 4 : 8;
    localparam PW = (KIND != 0) ? 12 : 16;    // one lane's product width

    // ---- optional input registers (DEPTH 3) ----
    reg [LANES*WW-1:0] in_w;
    reg [LANES*8-1:0]  in_a;
    reg in_valid, in_clear;
    always @(posedge clk) begin
        if (rst) begin
            in_w <= 0; in_a <= 0; in_valid <= 1'b0; in_clear <= 1'b0;
        end else begin
            in_w <= w; in_a <= a; in_valid <= valid; in_clear <= clear;
        end
    end
    wire [LANES*WW-1:0] m_w = (DEPTH >= 3) ? in_w : w;
    wire [LANES*8-1:0]  m_a = (DEPTH >= 3) ? in_a : a;
    wire m_valid = (DEPTH >= 3) ? in_valid : valid;
    wire m_clear = (DEPTH >= 3) ? in_clear : clear;

    // ---- multiply stage ----
    wire [LANES*PW-1:0] prod;     // dINT/FP4: one's complement q; INT8: the product
    wire [LANES-1:0]    neg;      // dINT/FP4: the +1 still owed by lane i
    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : lane
            if (KIND == 1) begin : d
                dint_product u (.code(m_w[i*WW +: 4]), .a(m_a[i*8 +: 8]), .q(prod[i*PW +: PW]), .s(neg[i]));
            end else if (KIND == 2) begin : f
                fp4_product u (.code(m_w[i*WW +: 4]), .a(m_a[i*8 +: 8]), .q(prod[i*PW +: PW]), .s(neg[i]));
            end else begin : n
                wire signed [15:0] p = $signed(m_w[i*WW +: 8]) * $signed(m_a[i*8 +: 8]);
                assign prod[i*PW +: PW] = p;
                assign neg[i] = 1'b0;
            end
        end
    endgenerate

    // ---- optional product registers (DEPTH ≥ 2) ----
    reg [LANES*PW-1:0] mul_p;
    reg [LANES-1:0]    mul_s;
    reg mul_valid, mul_clear;
    always @(posedge clk) begin
        if (rst) begin
            mul_p <= 0; mul_s <= 0; mul_valid <= 1'b0; mul_clear <= 1'b0;
        end else begin
            mul_p <= prod; mul_s <= neg; mul_valid <= m_valid; mul_clear <= m_clear;
        end
    end
    wire [LANES*PW-1:0] t_p = (DEPTH >= 2) ? mul_p : prod;
    wire [LANES-1:0]    t_s = (DEPTH >= 2) ? mul_s : neg;
    wire t_valid = (DEPTH >= 2) ? mul_valid : m_valid;
    wire t_clear = (DEPTH >= 2) ? mul_clear : m_clear;

    // ---- adder tree + accumulator ----
    reg signed [ACC_W:0] lane_sum;
    reg signed [ACC_W:0] next;
    integer k;
    always @* begin
        lane_sum = 0;
        for (k = 0; k < LANES; k = k + 1)
            lane_sum = lane_sum + {{(ACC_W+1-PW){t_p[k*PW+PW-1]}}, t_p[k*PW +: PW]} + {{ACC_W{1'b0}}, t_s[k]};
        next = (t_clear ? {(ACC_W+1){1'b0}} : {acc[ACC_W-1], acc}) + lane_sum;
    end
    wire overflow = next[ACC_W] ^ next[ACC_W-1];
    wire [ACC_W-1:0] clamped = next[ACC_W] ? {1'b1, {(ACC_W-1){1'b0}}} : {1'b0, {(ACC_W-1){1'b1}}};

    always @(posedge clk) begin
        if (rst) begin
            acc <= 0; valid_out <= 1'b0;
        end else begin
            valid_out <= t_valid;
            if (t_valid)
                acc <= ((SATURATE != 0) && overflow) ? clamped : next[ACC_W-1:0];
        end
    end
endmodule
