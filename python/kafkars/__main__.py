"""python -m kafkars: the kafkars command line."""

import sys

from kafkars.cli import main

sys.exit(main())
