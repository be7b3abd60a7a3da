// A scoreboard testbench: rtl-reference/mac.v driven with random transactions, the golden model
// (libdintsim through DPI-C) stepped with the same inputs every cycle, acc and valid_out compared
// after every edge. Built and run by `make -C dpi` (Verilator); exits non-zero on a mismatch.
`timescale 1ns/1ps
module tb_scoreboard #(
    parameter KIND = 1, parameter LANES = 4, parameter DEPTH = 2, parameter ACC_W = 24, parameter SATURATE = 1,
    parameter CYCLES = 20000, parameter SEED = 1
);
  import dintsim_pkg::*;
  localparam WW = KIND == 0 ? 8 : 4;
  logic clk = 0, rst = 1, valid = 0, clear = 0;
  // The DUT's buses, lane i at [i*W +: W], built whole by shifting (lane LANES-1 first).
  logic [LANES*WW-1:0] w = '0, w_next;
  logic [LANES*8-1:0] a = '0, a_next;
  logic [7:0] ab;
  wire [ACC_W-1:0] acc;
  wire valid_out;
  mac #(.KIND(KIND), .LANES(LANES), .DEPTH(DEPTH), .ACC_W(ACC_W), .SATURATE(SATURATE)) dut (
      .clk(clk), .rst(rst), .valid(valid), .clear(clear), .w(w), .a(a), .acc(acc), .valid_out(valid_out));

  always #5 clk = ~clk;

  chandle model;
  byte unsigned codes[DINTSIM_MAX_LANES];
  byte acts[DINTSIM_MAX_LANES];
  longint golden_acc;
  int golden_valid, errors = 0, seed = SEED;
  string units[3] = '{"int8-mac", "dint-mac", "fp4-mac"};

  initial begin
    void'($urandom(seed));
    model = dintsim_mac_create(units[KIND], LANES, DEPTH, ACC_W, SATURATE);
    if (model == null) $fatal(1, "dintsim_mac_create: %s", dintsim_last_error());
    $display("dintsim %s: %s, %0d lanes, depth %0d, W %0d, saturate %0d", dintsim_version(), units[KIND], LANES, DEPTH, ACC_W, SATURATE);
    for (int cycle = 0; cycle < CYCLES; cycle++) begin
      @(negedge clk);
      rst = cycle < 2 || $urandom % 200 == 0;
      valid = $urandom % 100 < 85;
      clear = $urandom % 100 < 5;
      w_next = '0; a_next = '0;
      for (int i = LANES - 1; i >= 0; i--) begin
        int c;
        do c = $urandom % (1 << WW); while (KIND == 1 && c == 8); // dINT code 1000 is reserved
        codes[i] = 8'(c);
        acts[i] = 8'($urandom);
        w_next = (w_next << WW) | (LANES*WW)'(c);
        ab = acts[i]; // unsigned, so the cast below zero-extends
        a_next = (a_next << 8) | (LANES*8)'(ab);
      end
      w = w_next; a = a_next;
      @(posedge clk);
      if (rst) begin
        dintsim_mac_reset(model);
        golden_acc = 0; golden_valid = 0;
      end else if (dintsim_mac_step(model, codes, acts, int'(valid), int'(clear), golden_acc, golden_valid) != 0) begin
        $fatal(1, "dintsim_mac_step: %s", dintsim_last_error());
      end
      #1;
      if (acc !== golden_acc[ACC_W-1:0] || valid_out !== golden_valid[0]) begin
        errors++;
        if (errors <= 10) $display("cycle %0d: DUT acc=%h valid_out=%b, golden model acc=%h valid_out=%0d", cycle, acc, valid_out, golden_acc[ACC_W-1:0], golden_valid);
      end
    end
    dintsim_mac_destroy(model);
    if (errors != 0) $fatal(1, "%0d of %0d cycles differ from the golden model", errors, CYCLES);
    $display("scoreboard: %0d cycles, every acc and valid_out equal to the golden model", CYCLES);
    $finish;
  end
endmodule
