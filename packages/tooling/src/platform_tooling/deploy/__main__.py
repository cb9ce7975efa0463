"""``python -m platform_tooling.deploy``: see :mod:`platform_tooling.deploy.cli`."""

import sys

from platform_tooling.deploy.cli import main

sys.exit(main())
