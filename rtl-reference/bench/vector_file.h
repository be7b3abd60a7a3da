// Reads a dintsim vector directory (layout.vh + vectors.hex, docs/vectors.md) for the Verilator
// throughput harnesses. Parsing happens before timing starts; the timed loop touches only the
// decoded arrays.
#pragma once
#include <chrono>
#include <cstdint>
#include <type_traits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

struct VectorFile {
    std::map<std::string, long> param;
    std::vector<std::vector<uint32_t>> lines;   // per line: LINE_BITS bits, word 0 = bits 31..0

    static void fail(const std::string& why) {
        std::fprintf(stderr, "bench: %s\n", why.c_str());
        std::exit(2);
    }

    long get(const std::string& name) const {
        auto it = param.find(name);
        if (it == param.end()) fail("layout.vh has no " + name);
        return it->second;
    }

    explicit VectorFile(const std::string& dir) {
        std::ifstream layout(dir + "/layout.vh");
        if (!layout) fail("cannot read " + dir + "/layout.vh");
        std::string s;
        while (std::getline(layout, s)) {
            char name[128];
            long value;
            if (std::sscanf(s.c_str(), "localparam %127[A-Za-z0-9_] = %ld;", name, &value) == 2) param[name] = value;
        }
        const long bits = get("LINE_BITS");
        const size_t words = (bits + 31) / 32;
        std::ifstream hex(dir + "/vectors.hex");
        if (!hex) fail("cannot read " + dir + "/vectors.hex");
        while (std::getline(hex, s)) {
            std::vector<uint32_t> line(words, 0);
            long bit = 0;
            for (auto it = s.rbegin(); it != s.rend(); ++it) {
                char c = *it;
                if (c == '_') continue;
                int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
                if (v < 0) fail("bad hex digit in vectors.hex line " + std::to_string(lines.size() + 1));
                for (int b = 0; b < 4; b++, bit++)
                    if ((v >> b) & 1) {
                        if (bit >= bits) fail("line " + std::to_string(lines.size() + 1) + " wider than LINE_BITS");
                        line[bit / 32] |= 1u << (bit % 32);
                    }
            }
            lines.push_back(std::move(line));
        }
        if ((long)lines.size() != get("LINES")) fail("vectors.hex line count differs from LINES");
    }

    // Bits [lsb, lsb + width) of a line (width ≤ 64).
    static uint64_t field(const std::vector<uint32_t>& line, long lsb, long width) {
        uint64_t v = 0;
        for (long b = 0; b < width; b++) v |= uint64_t((line[(lsb + b) / 32] >> ((lsb + b) % 32)) & 1) << b;
        return v;
    }
    // Element i of a multi-element field (element 0 is the leftmost, as in the testbenches).
    uint64_t element(const std::vector<uint32_t>& line, const std::string& f, long i) const {
        return field(line, get("F_" + f + "_LSB") + (get("F_" + f + "_N") - 1 - i) * get("F_" + f + "_STRIDE"), get("F_" + f + "_W"));
    }
};

// Packs `count` elements of `width` bits (element i at [i*width +: width]) into 32-bit words.
inline void packElements(std::vector<uint32_t>& out, const std::vector<uint64_t>& elements, long width) {
    out.assign((elements.size() * width + 31) / 32 + 1, 0);
    for (size_t i = 0; i < elements.size(); i++)
        for (long b = 0; b < width; b++)
            if ((elements[i] >> b) & 1) out[(i * width + b) / 32] |= 1u << ((i * width + b) % 32);
}

// Verilator ports: up to 64 bits are integers, wider ones VlWide arrays of 32-bit words.
template <typename T> inline void drive(T& port, const uint32_t* w) {
    if constexpr (std::is_integral_v<T>) port = T(uint64_t(w[0]) | (sizeof(T) > 4 ? uint64_t(w[1]) << 32 : 0));
    else for (size_t i = 0; i < sizeof(port) / 4; i++) port[i] = w[i];
}
template <typename T> inline bool equals(const T& port, const uint32_t* w, long width) {
    for (long i = 0; i * 32 < width; i++) {
        uint32_t got;
        if constexpr (std::is_integral_v<T>) got = uint32_t(uint64_t(port) >> (32 * i));
        else got = port[i];
        uint32_t mask = (width - 32 * i >= 32) ? ~0u : ((1u << (width - 32 * i)) - 1);
        if ((got ^ w[i]) & mask) return false;
    }
    return true;
}

inline double nowSeconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
