"""`python -m statlift.cli` is `statlift`."""
from statlift.cli.main import entry

entry()
