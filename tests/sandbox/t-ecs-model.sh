#!/bin/sh
# The ECS rolling-deployment model of the simulator, tested without a server
# (python3 unittest; see test_ecs_model.py).
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
PYTHONDONTWRITEBYTECODE=1 exec python3 "$top_srcdir/tests/sandbox/test_ecs_model.py"
