"""``python -m newsbrief.service`` = ``newsbrief-server``."""

import sys

from newsbrief.service.cli import main

sys.exit(main())
