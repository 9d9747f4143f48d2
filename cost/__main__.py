"""``python -m cost``: the estimate of every environment (see ``cost.cli``)."""

import sys

from cost.cli import main

sys.exit(main())
