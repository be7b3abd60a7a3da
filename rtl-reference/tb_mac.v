// Self-checking testbench: drives the vector set's lines into `mac`, one line per clock cycle,
// compares acc and valid_out after each rising edge, writes the DUT dump (docs/vectors.md) and
// ends with "N passed, M failed". Compile with -I <vector dir> -DVECTORS="<dir>/vectors.hex"
// -DDUMP="<file>".
`timescale 1ns/1ps
module tb_mac;
`include "layout.vh"
    localparam WW = KIND ? 4 : 8;
    reg [LINE_BITS-1:0] mem [0:LINES-1];
    reg [LINE_BITS-1:0] line;
    reg clk = 1'b0, rst = 1'b1, valid = 1'b0, clear = 1'b0;
    reg [LANES*WW-1:0] w = 0;
    reg [LANES*8-1:0]  a = 0;
    wire [ACC_W-1:0] acc;
    wire valid_out;
    reg [ACC_W-1:0] expected_acc;
    reg expected_valid;
    integer i, j, fd, passed = 0, failed = 0;

    mac #(.KIND(KIND), .LANES(LANES), .DEPTH(DEPTH), .ACC_W(ACC_W), .SATURATE(SATURATE)) dut (
        .clk(clk), .rst(rst), .valid(valid), .clear(clear), .w(w), .a(a), .acc(acc), .valid_out(valid_out));

    always #5 clk = ~clk;

    initial begin
        $readmemh(`VECTORS, mem);
        fd = $fopen(`DUMP, "w");
        #1;
        for (i = 0; i < LINES; i = i + 1) begin
            line = mem[i];
            rst = line[F_RST_LSB];
            valid = line[F_VALID_LSB];
            clear = line[F_CLEAR_LSB];
            for (j = 0; j < LANES; j = j + 1) begin
                w[j*WW +: WW] = line[F_W_LSB + (F_W_N - 1 - j) * F_W_STRIDE +: WW];
                a[j*8 +: 8] = line[F_A_LSB + (F_A_N - 1 - j) * F_A_STRIDE +: 8];
            end
            @(posedge clk); #1;
            expected_acc = line[F_ACC_LSB +: ACC_W];
            expected_valid = line[F_VALID_OUT_LSB];
            $fdisplay(fd, "%h_%h", acc, valid_out);
            if (acc === expected_acc && valid_out === expected_valid) passed = passed + 1;
            else begin
                failed = failed + 1;
                if (failed <= 10) $display("cycle %0d: acc=%h valid_out=%b expected: acc=%h valid_out=%b", i, acc, valid_out, expected_acc, expected_valid);
            end
        end
        $fclose(fd);
        $display("%0d passed, %0d failed", passed, failed);
        $finish;
    end
endmodule
