"""`python -m keyward ...`: the same as the `keyward` command."""

import sys

from keyward.cli import main

sys.exit(main())
