// Self-checking testbench for block_quantizer (or, with -DNVFP4, nvfp4_quantizer and its tensor
// scale input s): one block per cycle from the vector set, outputs compared in order as out_valid
// delivers them; writes the dump; "N passed, M failed".
`timescale 1ns/1ps
module tb_block_quantizer;
`include "layout.vh"
    reg [LINE_BITS-1:0] mem [0:LINES-1];
    reg [LINE_BITS-1:0] line, want;
    reg clk = 1'b0, rst = 1'b1, in_valid = 1'b0;
    reg [B*32-1:0] x = 0;
    wire out_valid;
    wire [7:0] scale;
    wire [B*4-1:0] c;
    integer i, j, fd, got = 0, passed = 0, failed = 0, ok;

`ifdef NVFP4
    reg [31:0] s = 0;
    nvfp4_quantizer #(.B(B)) dut (.clk(clk), .rst(rst), .in_valid(in_valid), .x(x), .s(s), .out_valid(out_valid), .scale(scale), .c(c));
`else
    block_quantizer #(.B(B), .SCALE_RULE(SCALE_RULE)) dut (.clk(clk), .rst(rst), .in_valid(in_valid), .x(x), .out_valid(out_valid), .scale(scale), .c(c));
`endif

    always #5 clk = ~clk;

    always @(posedge clk) begin
        #1;
        if (out_valid) begin
            want = mem[got];
            ok = scale === want[F_SCALE_LSB +: 8];
            $fwrite(fd, "%h_", scale);
            for (j = 0; j < B; j = j + 1) begin
                $fwrite(fd, "%h%s", c[j*4 +: 4], j == B - 1 ? "\n" : "_");
                if (c[j*4 +: 4] !== want[F_C_LSB + (F_C_N - 1 - j) * F_C_STRIDE +: 4]) ok = 0;
            end
            if (ok) passed = passed + 1;
            else begin
                failed = failed + 1;
                if (failed <= 5) $display("block %0d: mismatch", got);
            end
            got = got + 1;
        end
    end

    initial begin
        $readmemh(`VECTORS, mem);
        fd = $fopen(`DUMP, "w");
        @(posedge clk); #2; rst = 1'b0;
        for (i = 0; i < LINES; i = i + 1) begin
            line = mem[i];
            for (j = 0; j < B; j = j + 1) x[j*32 +: 32] = line[F_X_LSB + (F_X_N - 1 - j) * F_X_STRIDE +: 32];
`ifdef NVFP4
            s = line[F_S_LSB +: 32];
`endif
            in_valid = 1'b1;
            @(posedge clk); #2;
        end
        in_valid = 1'b0;
        while (got < LINES) @(posedge clk);
        #3;
        $fclose(fd);
        $display("%0d passed, %0d failed", passed, failed);
        $finish;
    end
endmodule
