"""Prints how often each preset (or any variant) agrees with its library, per input, as a Markdown
table: the share of E2M1 codes and of block scales that differ, and whether the tensor scale does.
    python python/peers/agreement.py                      the presets (PRESETS)
    python python/peers/agreement.py 'PEER=VARIANT' ...   other pairs, e.g. 'torchao nvfp4=nvfp4:torchao:quotient'"""
import sys

from peers import PRESETS, disagreement, inputs


def main(pairs):
    data = inputs()
    print("| peer | dintsim variant | " + " | ".join(data) + " |")
    print("|---|---|" + "---|" * len(data))
    for name, variant in pairs:
        cells = []
        for x in data.values():
            codes, scales, tensor, elements, blocks = disagreement(name, variant, x)
            cell = "0" if (codes, scales, tensor) == (0, 0, False) else f"{100 * codes / elements:.2f} % / {100 * scales / blocks:.2f} %"
            cells.append(cell + (" / S" if tensor else ""))
        print(f"| {name} | `{variant}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main([tuple(a.split("=", 1)) for a in sys.argv[1:]] or sorted(PRESETS.items()))
