// Self-checking testbench for hadamard_decoder: one tile per cycle from the vector set, outputs
// compared in order as out_valid delivers them; writes the dump; "N passed, M failed".
// Mid-stream reset (docs/vectors.md, "Hadamard decoder"): when line LINES/2 is presented, rst is
// held for that edge. The tiles in flight and the one presented are dropped, so out_valid must be
// 0 at that edge and the LOG2G edges after it; presentation restarts at the first tile whose
// output had not yet appeared, so the dump still holds every line once, in order.
`timescale 1ns/1ps
module tb_decoder;
`include "layout.vh"
    reg [LINE_BITS-1:0] mem [0:LINES-1];
    reg [LINE_BITS-1:0] line, want;
    reg clk = 1'b0, rst = 1'b1, in_valid = 1'b0, flagged = 1'b0;
    reg [G*4-1:0] q = 0;
    reg [LOG2G-1:0] pivot = 0;
    reg [15:0] scale = 0, zero = 0;
    wire out_valid;
    wire [G*OUT_W-1:0] y;
    integer i, j, fd, got = 0, passed = 0, failed = 0, ok, edges = 0, quiet_until = -1;

    hadamard_decoder #(.G(G), .LOG2G(LOG2G), .OUT_FMT(OUT_FMT), .OUT_W(OUT_W)) dut (
        .clk(clk), .rst(rst), .in_valid(in_valid), .q(q), .flagged(flagged), .pivot(pivot), .scale(scale), .zero(zero),
        .out_valid(out_valid), .y(y));

    always #5 clk = ~clk;

    always @(posedge clk) begin
        #1;
        edges = edges + 1;
        if (out_valid && edges <= quiet_until) begin
            failed = failed + 1;
            if (failed <= 5) $display("edge %0d: out_valid within %0d edges of the mid-stream reset", edges, LOG2G + 1);
        end else if (out_valid) begin
            want = mem[got];
            ok = 1;
            for (j = 0; j < G; j = j + 1) begin
                $fwrite(fd, "%h%s", y[j*OUT_W +: OUT_W], j == G - 1 ? "\n" : "_");
                if (y[j*OUT_W +: OUT_W] !== want[F_Y_LSB + (F_Y_N - 1 - j) * F_Y_STRIDE +: OUT_W]) ok = 0;
            end
            if (ok) passed = passed + 1;
            else begin
                failed = failed + 1;
                if (failed <= 5) $display("tile %0d: element mismatch", got);
            end
            got = got + 1;
        end
    end

    initial begin
        $readmemh(`VECTORS, mem);
        fd = $fopen(`DUMP, "w");
        @(posedge clk); #2; rst = 1'b0;
        for (i = 0; i < LINES; i = i + 1) begin
            if (i == LINES / 2 && quiet_until < 0) begin
                // The reset edge and the LOG2G edges after it: no output (edges counts this edge next).
                rst = 1'b1; quiet_until = edges + 1 + LOG2G;
                @(posedge clk); #2; rst = 1'b0;
                i = got;
            end
            line = mem[i];
            for (j = 0; j < G; j = j + 1) q[j*4 +: 4] = line[F_Q_LSB + (F_Q_N - 1 - j) * F_Q_STRIDE +: 4];
            flagged = line[F_FLAGGED_LSB];
            pivot = line[F_PIVOT_LSB +: LOG2G];
            scale = line[F_SCALE_LSB +: 16];
            zero = line[F_ZERO_LSB +: 16];
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
