import sys

from execrl.cli import main

sys.exit(main())
