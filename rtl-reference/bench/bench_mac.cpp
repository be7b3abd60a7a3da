// Verilator throughput harness for `mac` (rtl-reference/mac.v): replays a MAC/PE vector set
// `repetitions` times (each case starts with a reset, so repeats are independent), checks acc and
// valid_out on every cycle, and prints one JSON line with the cycles per second of the timed loop.
// Usage: bench_mac VECTOR_DIR REPETITIONS
#include "Vmac.h"
#include "verilated.h"
#include "vector_file.h"

int main(int argc, char** argv) {
    if (argc != 3) VectorFile::fail("usage: bench_mac VECTOR_DIR REPETITIONS");
    VectorFile vf(argv[1]);
    const long reps = std::atol(argv[2]);
    if (reps < 1) VectorFile::fail("REPETITIONS must be ≥ 1");
    const long lanes = vf.get("LANES"), ww = vf.get("KIND") ? 4 : 8, accW = vf.get("ACC_W");
    struct Cycle { uint8_t rst, valid, clear, validOut; uint32_t w[5], a[5], acc[3]; };
    std::vector<Cycle> cycles;
    for (auto& line : vf.lines) {
        Cycle c{};
        c.rst = vf.element(line, "RST", 0);
        c.valid = vf.element(line, "VALID", 0);
        c.clear = vf.element(line, "CLEAR", 0);
        c.validOut = vf.element(line, "VALID_OUT", 0);
        std::vector<uint64_t> w, a;
        for (long i = 0; i < lanes; i++) { w.push_back(vf.element(line, "W", i)); a.push_back(vf.element(line, "A", i)); }
        std::vector<uint32_t> packed;
        packElements(packed, w, ww);
        std::copy(packed.begin(), packed.begin() + std::min<size_t>(packed.size(), 5), c.w);
        packElements(packed, a, 8);
        std::copy(packed.begin(), packed.begin() + std::min<size_t>(packed.size(), 5), c.a);
        uint64_t acc = vf.element(line, "ACC", 0);
        c.acc[0] = uint32_t(acc); c.acc[1] = uint32_t(acc >> 32);
        cycles.push_back(c);
    }
    VerilatedContext context;
    Vmac top(&context);
    top.clk = 0;
    top.eval();
    long failed = 0;
    const double start = nowSeconds();
    for (long r = 0; r < reps; r++) {
        for (const Cycle& c : cycles) {
            top.rst = c.rst;
            top.valid = c.valid;
            top.clear = c.clear;
            drive(top.w, c.w);
            drive(top.a, c.a);
            top.clk = 1;
            top.eval();
            if (!equals(top.acc, c.acc, accW) || top.valid_out != c.validOut) failed++;
            top.clk = 0;
            top.eval();
        }
    }
    const double seconds = nowSeconds() - start;
    const double total = double(reps) * cycles.size();
    std::printf("{\"simulator\": \"verilator\", \"cycles\": %.0f, \"seconds\": %.6f, \"cycles_per_second\": %.6g, \"failed\": %ld}\n",
                total, seconds, total / seconds, failed);
    return failed == 0 ? 0 : 1;
}
