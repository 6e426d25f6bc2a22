"""Stage check_params: validate every key of the params file before any other stage runs.

Each stage validates the blocks it reads; this stage checks the whole file (unknown sections,
misspelt keys beside the ones a stage reads, every block's types and ranges), so a typo never
passes silently. Writes OUT, whose content never depends on the params: every other stage
depends on it for ordering only, and a params change still reruns just the stages that read it.
"""

import argparse
from pathlib import Path

from ganflow.errors import run_cli
from ganflow.params import check_all

TOKEN = "every key of the params file is valid\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default="params.yaml", help="params file (default: %(default)s)")
    parser.add_argument("--out", required=True, type=Path, help="token file to write")
    args = parser.parse_args()
    n = check_all(args.params)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(TOKEN)
    print(f"check_params: {args.params}: {n} blocks valid; wrote {args.out}")


if __name__ == "__main__":
    run_cli(main)
