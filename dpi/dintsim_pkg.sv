// SystemVerilog DPI-C imports of libdintsim (include/dintsim.h, docs/c-api.md).
// Link the simulation with libdintsim: Verilator -LDFLAGS "-Lbuild/lib -ldintsim"; Xcelium, VCS
// and Questa load it with -sv_lib build/lib/libdintsim (see docs/c-api.md, "SystemVerilog").
// Arrays are fixed-size (DINTSIM_MAX_LANES / DINTSIM_MAX_TILE) so that they cross as plain C
// pointers: fill the first LANES (or G) elements.
package dintsim_pkg;
  localparam int DINTSIM_MAX_LANES = 256;
  localparam int DINTSIM_MAX_TILE = 128;

  import "DPI-C" function string dintsim_version();
  import "DPI-C" function string dintsim_last_error();

  // unit: "int8-mac" | "dint-mac" | "fp4-mac"; saturate: 0 wrap, 1 saturate. null on bad arguments.
  import "DPI-C" function chandle dintsim_mac_create(input string unit, input int lanes, input int pipeline_depth,
                                                     input int acc_width, input int saturate);
  // One clock, as one vector line; acc sign-extended to 64 bits. Returns 0 when ok.
  import "DPI-C" function int dintsim_mac_step(input chandle mac, input byte unsigned weight_codes[DINTSIM_MAX_LANES],
                                               input byte activations[DINTSIM_MAX_LANES], input int valid, input int clear,
                                               output longint acc, output int valid_out);
  // As dintsim_mac_step, and the MAC vectors' flags: bits 2-5 of the transaction presented now,
  // bits 0-1 (wrapped, saturated) of the one that reached the accumulator at this edge.
  import "DPI-C" function int dintsim_mac_step_flags(input chandle mac, input byte unsigned weight_codes[DINTSIM_MAX_LANES],
                                                     input byte activations[DINTSIM_MAX_LANES], input int valid, input int clear,
                                                     output longint acc, output int valid_out, output int unsigned flags);
  import "DPI-C" function void dintsim_mac_reset(input chandle mac);
  import "DPI-C" function void dintsim_mac_destroy(input chandle mac);

  // x and scale as binary32 bit patterns ($shortrealtobits): simulators may pass a shortreal as a
  // double (Verilator promotes it), so the float entry points are not imported.
  // rounding: 0 toNearestOrEven, 1 toNearestOrAway, 2 towardZero, 3 down, 4 up, 5 stochastic.
  import "DPI-C" function int dintsim_quantize_level_bits(input string format, input int unsigned x_bits, input int unsigned scale_bits,
                                                          input int rounding, input longint unsigned seed, input longint unsigned index,
                                                          output byte unsigned code, output int unsigned flags);
  import "DPI-C" function int dintsim_quantize_level_draw_bits(input string format, input int unsigned x_bits, input int unsigned scale_bits,
                                                               input int rounding, input int unsigned draw,
                                                               output byte unsigned code, output int unsigned flags);
  import "DPI-C" function int dintsim_decode_tile(input int tile_size, input string output_format, input byte unsigned codes[DINTSIM_MAX_TILE],
                                                  input int flagged, input int pivot, input shortint unsigned scale,
                                                  input shortint unsigned zero, output int unsigned out_bits[DINTSIM_MAX_TILE],
                                                  output int unsigned flags);
endpackage
