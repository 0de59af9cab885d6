"""`python -m spapi_sandbox` is the `spapi-sandbox` command."""

import sys

from spapi_sandbox.cli import main

sys.exit(main())
