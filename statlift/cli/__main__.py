"""`python -m statlift.cli` is `statlift`."""
import sys

from statlift.cli.main import main

sys.exit(main())
