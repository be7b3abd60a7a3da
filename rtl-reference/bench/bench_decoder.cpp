// Verilator throughput harness for `hadamard_decoder`: one tile per cycle from a decoder vector
// set, `repetitions` times back to back; outputs are compared in order as out_valid delivers
// them. Prints one JSON line (tiles = cycles with a tile entering).
// Usage: bench_decoder VECTOR_DIR REPETITIONS
#include "Vhadamard_decoder.h"
#include "verilated.h"
#include "vector_file.h"

int main(int argc, char** argv) {
    if (argc != 3) VectorFile::fail("usage: bench_decoder VECTOR_DIR REPETITIONS");
    VectorFile vf(argv[1]);
    const long reps = std::atol(argv[2]);
    if (reps < 1) VectorFile::fail("REPETITIONS must be ≥ 1");
    const long g = vf.get("G"), outW = vf.get("OUT_W");
    struct Tile { uint8_t flagged, pivot; uint16_t scale, zero; std::vector<uint32_t> q, y; };
    std::vector<Tile> tiles;
    for (auto& line : vf.lines) {
        Tile t;
        t.flagged = vf.element(line, "FLAGGED", 0);
        t.pivot = vf.element(line, "PIVOT", 0);
        t.scale = vf.element(line, "SCALE", 0);
        t.zero = vf.element(line, "ZERO", 0);
        std::vector<uint64_t> q, y;
        for (long i = 0; i < g; i++) { q.push_back(vf.element(line, "Q", i)); y.push_back(vf.element(line, "Y", i)); }
        packElements(t.q, q, 4);
        packElements(t.y, y, outW);
        tiles.push_back(std::move(t));
    }
    VerilatedContext context;
    Vhadamard_decoder top(&context);
    top.clk = 0;
    top.rst = 1;
    top.eval();
    top.clk = 1; top.eval(); top.clk = 0; top.eval();
    top.rst = 0;
    long failed = 0, got = 0;
    const long total = reps * (long)tiles.size();
    const double start = nowSeconds();
    for (long k = 0; got < total; k++) {
        const Tile& t = tiles[k % tiles.size()];
        top.in_valid = k < total;
        drive(top.q, t.q.data());
        top.flagged = t.flagged;
        top.pivot = t.pivot;
        top.scale = t.scale;
        top.zero = t.zero;
        top.clk = 1;
        top.eval();
        if (top.out_valid) {
            if (!equals(top.y, tiles[got % tiles.size()].y.data(), g * outW)) failed++;
            got++;
        }
        top.clk = 0;
        top.eval();
    }
    const double seconds = nowSeconds() - start;
    std::printf("{\"simulator\": \"verilator\", \"tiles\": %ld, \"seconds\": %.6f, \"tiles_per_second\": %.6g, \"failed\": %ld}\n",
                total, seconds, total / seconds, failed);
    return failed == 0 ? 0 : 1;
}
