/* Replays every committed vector set (vectors/) through the C ABI and checks every output and
 * flag bit; checks that bad arguments return errors (never crash); prints calls per second.
 * Built and run by scripts/test-c-api.sh, under AddressSanitizer in CI.
 *   test_capi VECTOR_DIR...        exit 0 when everything agrees */
#define _POSIX_C_SOURCE 200809L
#include "dintsim.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures = 0;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; if (failures <= 20) { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } } while (0)

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static char *slurp(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "%s: cannot be read\n", path); exit(2); }
    fseek(f, 0, SEEK_END); long n = ftell(f); fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) { fprintf(stderr, "%s: short read\n", path); exit(2); }
    b[n] = 0; fclose(f);
    return b;
}

/* localparam NAME = value; from layout.vh, -1 when absent. */
static long param(const char *vh, const char *name) {
    char key[128];
    snprintf(key, sizeof key, "localparam %s = ", name);
    const char *p = strstr(vh, key);
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* The '_'-separated hex fields of one line into v (returns the count). */
static int fields(char *line, unsigned long long *v, int max) {
    int n = 0;
    for (char *tok = strtok(line, "_"); tok && n < max; tok = strtok(NULL, "_")) v[n++] = strtoull(tok, NULL, 16);
    return n;
}

static void replay(const char *dir) {
    char *vh = slurp(dir, "layout.vh"), *manifest = slurp(dir, "MANIFEST.json"), *hex = slurp(dir, "vectors.hex");
    long kind = param(vh, "KIND"), codeW = param(vh, "CODE_W"), g = param(vh, "G"), b = param(vh, "B");
    unsigned long long v[512];
    long lines = 0, calls = 0;
    double start = now();
    char *save = NULL;
    if (kind >= 0) {
        static const char *units[] = { "int8-mac", "dint-mac", "fp4-mac" };
        int lanes = (int)param(vh, "LANES");
        dintsim_mac *mac = dintsim_mac_create(units[kind], lanes, (int)param(vh, "DEPTH"), (int)param(vh, "ACC_W"), (int)param(vh, "SATURATE"));
        CHECK(mac != NULL, "%s: create failed: %s", dir, dintsim_last_error());
        long accW = param(vh, "ACC_W"), depth = param(vh, "DEPTH");
        unsigned long long mask = (1ull << accW) - 1;
        /* Wrapped / saturated bits of recent lines (the line that presented what lands now). */
        unsigned long long landingBits[4] = {0};
        long lastReset = -1;
        for (char *line = strtok_r(hex, "\n", &save); line; line = strtok_r(NULL, "\n", &save), lines++) {
            int n = fields(line, v, 512);
            CHECK(n == 3 + 2 * lanes + 3, "%s line %ld: %d fields", dir, lines, n);
            if (v[0]) { dintsim_mac_reset(mac); lastReset = lines; continue; }
            uint8_t w[256]; int8_t a[256];
            for (int i = 0; i < lanes; i++) { w[i] = (uint8_t)v[3 + i]; a[i] = (int8_t)(uint8_t)v[3 + lanes + i]; }
            int64_t acc = 0; int32_t validOut = 0;
            unsigned long long lineFlags = v[5 + 2 * lanes];
            landingBits[lines % 4] = lineFlags & 3;
            int32_t rc;
            if (lines % 2) {
                rc = dintsim_mac_step(mac, w, a, (int32_t)v[1], (int32_t)v[2], &acc, &validOut);
            } else {
                /* Every other line with flags: the presented bits equal the line's, the landed
                 * bits those of the line D - 1 earlier (none if a reset came in between). */
                uint32_t flags = 0xFFFFFFFFu;
                rc = dintsim_mac_step_flags(mac, w, a, (int32_t)v[1], (int32_t)v[2], &acc, &validOut, &flags);
                long from = lines - (depth - 1);
                unsigned long long landed = from > lastReset ? landingBits[from % 4] : 0;
                CHECK((flags & ~3u) == (lineFlags & ~3ull), "%s line %ld: presented flags %x, expected %llx", dir, lines, flags & ~3u, lineFlags & ~3ull);
                CHECK((flags & 3u) == landed, "%s line %ld: landed flags %x, expected %llx (line %ld)", dir, lines, flags & 3u, landed, from);
            }
            calls++;
            CHECK(rc == DINTSIM_OK, "%s line %ld: step returned %d: %s", dir, lines, rc, dintsim_last_error());
            CHECK(((unsigned long long)acc & mask) == v[3 + 2 * lanes] && (unsigned long long)validOut == v[4 + 2 * lanes],
                  "%s line %ld: acc %llx valid_out %d, expected %llx %llu", dir, lines, (unsigned long long)acc & mask, validOut, v[3 + 2 * lanes], v[4 + 2 * lanes]);
        }
        dintsim_mac_destroy(mac);
    } else if (codeW >= 0) {
        static const char *rules[] = { "toNearestOrEven", "toNearestOrAway", "towardZero", "down", "up", "stochastic" };
        char format[32] = {0}, rule[32] = {0};
        const char *f = strstr(manifest, "\"configuration\": {\"format\": \"");
        if (f) sscanf(f + strlen("\"configuration\": {\"format\": \""), "%31[^\"]\", \"rounding\": \"%31[^\"]", format, rule);
        int rounding = -1;
        for (int i = 0; i < 6; i++) if (!strcmp(rule, rules[i])) rounding = i;
        CHECK(rounding >= 0 && format[0], "%s: cannot read format/rounding from the manifest", dir);
        for (char *line = strtok_r(hex, "\n", &save); line; line = strtok_r(NULL, "\n", &save), lines++) {
            fields(line, v, 512);
            uint32_t xb = (uint32_t)v[0], sb = (uint32_t)v[1];
            float x, s; memcpy(&x, &xb, 4); memcpy(&s, &sb, 4);
            uint8_t code = 0; uint32_t flags = 0;
            int32_t rc = dintsim_quantize_level_draw(format, x, s, rounding, (uint32_t)v[2], &code, &flags);
            uint8_t code2 = 0xFF; uint32_t flags2 = 0xFF;
            int32_t rc2 = dintsim_quantize_level_draw_bits(format, xb, sb, rounding, (uint32_t)v[2], &code2, &flags2);
            CHECK(rc2 == rc && code2 == code && flags2 == flags, "%s line %ld: the bits entry point differs", dir, lines);
            calls++;
            CHECK(rc == DINTSIM_OK && code == v[3] && flags == v[4], "%s line %ld: code %x flags %x (rc %d), expected %llx %llx",
                  dir, lines, code, flags, rc, v[3], v[4]);
        }
    } else if (g > 0) {
        static const char *outputs[] = { "fp32", "bf16", "fp16" };
        const char *out = outputs[param(vh, "OUT_FMT")];
        for (char *line = strtok_r(hex, "\n", &save); line; line = strtok_r(NULL, "\n", &save), lines++) {
            int n = fields(line, v, 512);
            CHECK(n == 2 * g + 5, "%s line %ld: %d fields", dir, lines, n);
            uint8_t q[128]; uint32_t y[128], flags = 0;
            for (int i = 0; i < g; i++) q[i] = (uint8_t)v[i];
            int32_t rc = dintsim_decode_tile((int32_t)g, out, q, (int32_t)v[g], (int32_t)v[g + 1], (uint16_t)v[g + 2], (uint16_t)v[g + 3], y, &flags);
            calls++;
            int same = rc == DINTSIM_OK && flags == v[2 * g + 4];
            for (int i = 0; i < g; i++) same = same && y[i] == v[g + 4 + i];
            CHECK(same, "%s line %ld: tile differs (rc %d, flags %x expected %llx)", dir, lines, rc, flags, v[2 * g + 4]);
        }
    } else if (b > 0 && param(vh, "F_S_LSB") >= 0) {
        /* NVFP4 quantizer (default convention, the line's tensor scale S): one
           dintsim_quantize_block_tensor_scaled call per block. */
        for (char *line = strtok_r(hex, "\n", &save); line; line = strtok_r(NULL, "\n", &save), lines++) {
            int n = fields(line, v, 512);
            CHECK(n == 2 * b + 3, "%s line %ld: %d fields", dir, lines, n);
            float x[64], s; uint8_t codes[64], scale = 0; int64_t count = 0;
            for (int i = 0; i < b; i++) { uint32_t bits = (uint32_t)v[i]; memcpy(&x[i], &bits, 4); }
            uint32_t sbits = (uint32_t)v[b]; memcpy(&s, &sbits, 4);
            int32_t rc = dintsim_quantize_block_tensor_scaled("nvfp4", 0, 0, 16, s, x, 1, b, codes, &scale, 1, &count, NULL);
            calls++;
            int same = rc == DINTSIM_OK && count == 1 && scale == v[b + 1];
            for (int i = 0; i < b; i++) same = same && codes[i] == v[b + 2 + i];
            CHECK(same, "%s line %ld: block differs (rc %d, scale %x expected %llx)", dir, lines, rc, scale, v[b + 1]);
        }
    } else if (b > 0) {
        /* Block quantizer (MXFP4 under the set's SCALE_RULE, RNE, sign kept): one dintsim_quantize_block_tensor
           call per block, the scheme naming the rule. */
        static const char *schemes[] = { "mxfp4", "mxfp4:ceil", "mxfp4:rceil", "mxfp4:even" };
        long rule = param(vh, "SCALE_RULE");
        CHECK(rule >= 0 && rule <= 3, "%s: SCALE_RULE %ld", dir, rule);
        const char *scheme = schemes[rule >= 0 && rule <= 3 ? rule : 0];
        for (char *line = strtok_r(hex, "\n", &save); line; line = strtok_r(NULL, "\n", &save), lines++) {
            int n = fields(line, v, 512);
            CHECK(n == 2 * b + 2, "%s line %ld: %d fields", dir, lines, n);
            float x[64]; uint8_t codes[64], scale = 0; int64_t count = 0;
            for (int i = 0; i < b; i++) { uint32_t bits = (uint32_t)v[i]; memcpy(&x[i], &bits, 4); }
            int32_t rc = dintsim_quantize_block_tensor(scheme, 0, x, 1, b, codes, &scale, 1, &count, NULL, NULL);
            calls++;
            int same = rc == DINTSIM_OK && count == 1 && scale == v[b];
            for (int i = 0; i < b; i++) same = same && codes[i] == v[b + 1 + i];
            CHECK(same, "%s line %ld: block differs (rc %d, scale %x expected %llx)", dir, lines, rc, scale, v[b]);
        }
    }
    double seconds = now() - start;
    printf("%s: %ld lines, %ld calls, %.3g calls/s\n", dir, lines, calls, calls / (seconds > 0 ? seconds : 1e-9));
    free(vh); free(manifest); free(hex);
}

/* Bad arguments: an error code and a message, never a crash. */
static void badArguments(void) {
    uint8_t w[4] = {1, 2, 3, 4}, code; int8_t a[4] = {1, 2, 3, 4}; int64_t acc; int32_t vo; uint32_t flags, y[16];
    CHECK(dintsim_mac_create(NULL, 1, 1, 32, 0) == NULL && strstr(dintsim_last_error(), "NULL"), "NULL unit accepted");
    CHECK(dintsim_mac_create("int9-mac", 1, 1, 32, 0) == NULL && strstr(dintsim_last_error(), "int9-mac"), "unknown unit accepted");
    CHECK(dintsim_mac_create("dint-mac", 0, 1, 32, 0) == NULL && strstr(dintsim_last_error(), "lanes"), "zero lanes accepted");
    CHECK(dintsim_mac_create("dint-mac", 1, 4, 32, 0) == NULL, "depth 4 accepted");
    CHECK(dintsim_mac_create("dint-mac", 1, 1, 80, 0) == NULL && strstr(dintsim_last_error(), "80"), "80-bit accumulator accepted");
    CHECK(dintsim_mac_create("dint-mac", 1, 1, 32, 7) == NULL, "saturate 7 accepted");
    CHECK(dintsim_mac_step(NULL, w, a, 1, 0, &acc, &vo) == DINTSIM_ERR_NULL, "NULL mac accepted");
    dintsim_mac *mac = dintsim_mac_create("dint-mac", 4, 2, 24, 1);
    CHECK(mac && dintsim_mac_lanes(mac) == 4, "create failed: %s", dintsim_last_error());
    CHECK(dintsim_mac_step(mac, NULL, a, 1, 0, &acc, &vo) == DINTSIM_ERR_NULL, "NULL weights accepted");
    uint8_t reserved[4] = {1, 8, 3, 4}, wide[4] = {1, 2, 17, 4};
    CHECK(dintsim_mac_step(mac, reserved, a, 1, 0, &acc, &vo) == DINTSIM_OK, "reserved code 1000 refused: %s", dintsim_last_error());
    CHECK(dintsim_mac_step(mac, wide, a, 1, 0, &acc, &vo) == DINTSIM_ERR_CODE && strstr(dintsim_last_error(), "lane 2"), "5-bit code accepted");
    CHECK(dintsim_mac_step(mac, w, a, 1, 0, NULL, NULL) == DINTSIM_OK, "NULL outputs refused");
    CHECK(dintsim_mac_step_flags(mac, w, a, 1, 0, NULL, NULL, NULL) == DINTSIM_OK, "NULL flags refused");
    CHECK(dintsim_mac_step_flags(NULL, w, a, 1, 0, &acc, &vo, &flags) == DINTSIM_ERR_NULL, "NULL mac accepted (flags)");
    CHECK(dintsim_mac_step_flags(mac, wide, a, 1, 0, &acc, &vo, &flags) == DINTSIM_ERR_CODE, "5-bit code accepted (flags)");
    flags = 0;
    CHECK(dintsim_mac_step_flags(mac, reserved, a, 0, 1, &acc, &vo, &flags) == DINTSIM_OK
          && (flags & DINTSIM_M_RESERVED_WEIGHT) && (flags & DINTSIM_M_CLEAR_WITHOUT_VALID), "flags %x for a reserved code without valid", flags);
    dintsim_mac_reset(NULL); dintsim_mac_destroy(NULL);
    dintsim_mac_destroy(mac);
    CHECK(dintsim_quantize_level(NULL, 1, 1, 0, 0, 0, &code, &flags) == DINTSIM_ERR_NULL, "NULL format accepted");
    CHECK(dintsim_quantize_level("dint5", 1, 1, 0, 0, 0, &code, &flags) == DINTSIM_ERR_ARGUMENT, "unknown format accepted");
    CHECK(dintsim_quantize_level("dint4", 1, 0, 0, 0, 0, &code, &flags) == DINTSIM_ERR_ARGUMENT, "zero scale accepted");
    CHECK(dintsim_quantize_level("dint4", 1, 1, 9, 0, 0, &code, &flags) == DINTSIM_ERR_ARGUMENT, "rounding 9 accepted");
    CHECK(dintsim_quantize_level("dint4", 1, 1, 0, 0, 0, NULL, &flags) == DINTSIM_ERR_NULL, "NULL code accepted");
    uint8_t code2 = 0xFF;
    CHECK(dintsim_quantize_level("dint4", 1.5f, 1, 0, 0, 0, &code, NULL) == DINTSIM_OK, "NULL flags refused");
    CHECK(dintsim_quantize_level_draw("dint4", 1.5f, 1, 0, 0, &code2, &flags) == DINTSIM_OK && code2 == code, "the two level entry points differ");
    CHECK(dintsim_quantize_level_draw("dint4", 1.5f, 1, 5, 0x10000, &code2, &flags) == DINTSIM_ERR_ARGUMENT, "a 17-bit draw accepted");
    uint8_t q[16] = {0};
    CHECK(dintsim_decode_tile(12, "fp32", q, 0, 0, 0x3c00, 0, y, &flags) == DINTSIM_ERR_ARGUMENT, "G 12 accepted");
    CHECK(dintsim_decode_tile(16, "fp8", q, 0, 0, 0x3c00, 0, y, &flags) == DINTSIM_ERR_ARGUMENT, "fp8 accepted");
    CHECK(dintsim_decode_tile(16, "fp32", q, 0, 16, 0x3c00, 0, y, &flags) == DINTSIM_ERR_ARGUMENT, "pivot 16 accepted");
    CHECK(dintsim_decode_tile(16, "fp32", NULL, 0, 0, 0x3c00, 0, y, &flags) == DINTSIM_ERR_NULL, "NULL codes accepted");
    q[3] = 16;
    CHECK(dintsim_decode_tile(16, "fp32", q, 0, 0, 0x3c00, 0, y, &flags) == DINTSIM_ERR_CODE, "code 16 accepted");
    float x[6] = {0.5f, -1, 2, 0, 3, -0.25f}, scales[3]; uint8_t codes[6]; int64_t count, stats[4];
    CHECK(dintsim_quantize_tensor("int4", "channel", 0, 0, x, 2, 3, codes, scales, 1, &count, stats) == DINTSIM_ERR_ARGUMENT, "small scales buffer accepted");
    CHECK(dintsim_quantize_tensor("int4", "group:0", 0, 0, x, 2, 3, codes, scales, 3, &count, stats) == DINTSIM_ERR_ARGUMENT, "group:0 accepted");
    CHECK(dintsim_quantize_tensor("int4", "channel", 0, 0, x, 2, 3, codes, scales, 3, &count, stats) == DINTSIM_OK && count == 2 && stats[0] == 6,
          "tensor quantize failed: %s", dintsim_last_error());
    /* Block formats: one 6-element block per row. MXFP4 row 0 (max 2): scale 2^(1-2) = 1/2, so
     * 0.5, -1, 2 are E2M1 1, -2, 4 (codes 2, 0xC, 6) and the UE8M0 code is 127 - 1 = 126. */
    uint8_t bscales[2]; float tscale = 0;
    CHECK(dintsim_quantize_block_tensor("mxfp4", 0, x, 2, 3, codes, bscales, 2, &count, &tscale, stats) == DINTSIM_OK && count == 2 && tscale == 1
          && bscales[0] == 126 && codes[0] == 2 && codes[1] == 0xC && codes[2] == 6, "mxfp4: %s; scale %u codes %u %u %u", dintsim_last_error(), bscales[0], codes[0], codes[1], codes[2]);
    CHECK(dintsim_quantize_block_tensor("nvfp4", 0, x, 2, 3, codes, bscales, 2, &count, &tscale, NULL) == DINTSIM_OK && tscale == 3.0f / 2688,
          "nvfp4: %s; tensor scale %g", dintsim_last_error(), tscale);
    CHECK(dintsim_quantize_block_tensor("nvfp4", 0, x, 2, 3, codes, bscales, 1, &count, &tscale, NULL) == DINTSIM_ERR_ARGUMENT, "small block-scale buffer accepted");
    CHECK(dintsim_quantize_block_tensor("nvfp4", 5, x, 2, 3, codes, bscales, 2, &count, &tscale, NULL) == DINTSIM_ERR_ARGUMENT, "stochastic block rounding without a seed accepted");
    /* Stochastic elements: NVFP4 row 0 has block code 288 (E4M3 of 2 / (6 * 3/2688)), so 0.5 is
     * 1.5556 steps, between E2M1 1.5 (code 3) and 2 (code 4); over 64 seeds with 8-bit draws both
     * occur, and a deterministic rule through the seeded call equals the plain call. */
    int up = 0, down = 0;
    for (uint64_t seed = 1; seed <= 64; seed++) {
        CHECK(dintsim_quantize_block_tensor_seeded("nvfp4", 5, seed, 8, x, 2, 3, codes, bscales, 2, &count, &tscale, NULL) == DINTSIM_OK,
              "seeded nvfp4: %s", dintsim_last_error());
        up += codes[0] == 4; down += codes[0] == 3;
    }
    CHECK(up > 0 && down > 0 && up + down == 64, "stochastic 0.5: %d up, %d down", up, down);
    uint8_t plain[6];
    CHECK(dintsim_quantize_block_tensor("nvfp4:torchao", 0, x, 2, 3, plain, bscales, 2, &count, &tscale, NULL) == DINTSIM_OK
          && dintsim_quantize_block_tensor_seeded("nvfp4:torchao", 0, 7, 16, x, 2, 3, codes, bscales, 2, &count, &tscale, NULL) == DINTSIM_OK
          && !memcmp(plain, codes, 6), "seeded deterministic call differs: %s", dintsim_last_error());
    CHECK(dintsim_quantize_block_tensor_seeded("nvfp4", 5, 1, 17, x, 2, 3, codes, bscales, 2, &count, &tscale, NULL) == DINTSIM_ERR_ARGUMENT,
          "17-bit draws accepted");
    CHECK(dintsim_quantize_block_tensor("fp8", 0, x, 2, 3, codes, bscales, 2, &count, &tscale, NULL) == DINTSIM_ERR_ARGUMENT, "unknown scheme accepted");
    /* A given tensor scale: the derived one reproduces the unscaled call; another changes the block scales. */
    {
        uint8_t given[6], gscales[2];
        CHECK(dintsim_quantize_block_tensor("nvfp4", 0, x, 2, 3, codes, bscales, 2, &count, &tscale, NULL) == DINTSIM_OK
              && dintsim_quantize_block_tensor_scaled("nvfp4", 0, 0, 16, tscale, x, 2, 3, given, gscales, 2, &count, NULL) == DINTSIM_OK
              && !memcmp(given, codes, 6) && !memcmp(gscales, bscales, 2), "the derived tensor scale given back differs");
        CHECK(dintsim_quantize_block_tensor_scaled("nvfp4", 0, 0, 16, 2 * tscale, x, 2, 3, given, gscales, 2, &count, NULL) == DINTSIM_OK
              && memcmp(gscales, bscales, 2), "a doubled tensor scale left the block scales as they were");
        CHECK(dintsim_quantize_block_tensor_scaled("nvfp4", 0, 0, 16, 0.0f, x, 2, 3, given, gscales, 2, &count, NULL) == DINTSIM_ERR_ARGUMENT
              && strstr(dintsim_last_error(), "tensor_scale"), "a zero tensor scale accepted");
        CHECK(dintsim_quantize_block_tensor_scaled("mxfp4", 0, 0, 16, 2.0f, x, 2, 3, given, gscales, 2, &count, NULL) == DINTSIM_ERR_ARGUMENT,
              "an MXFP4 tensor scale accepted");
    }
    CHECK(dintsim_quantize_block_tensor("mxfp4", 0, NULL, 2, 3, codes, bscales, 2, &count, &tscale, NULL) == DINTSIM_ERR_NULL, "NULL x accepted");
    CHECK(!strcmp(dintsim_version(), DINTSIM_EXPECTED_VERSION), "version %s", dintsim_version());
}

int main(int argc, char **argv) {
    badArguments();
    for (int i = 1; i < argc; i++) replay(argv[i]);
    if (failures) { fprintf(stderr, "%d failures\n", failures); return 1; }
    printf("C API: every vector line and every bad-argument check agree\n");
    return 0;
}
