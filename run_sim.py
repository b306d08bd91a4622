"""Command line of the taxi-hailing simulator (``sim.cli``); see ``python run_sim.py --help``."""

import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
