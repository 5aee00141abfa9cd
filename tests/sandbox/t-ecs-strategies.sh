#!/bin/sh
# The simulator's ECS-native strategies (blue/green, linear, canary, PAUSE
# and Lambda hooks, rollbacks) driven by an independent client, the AWS CLI
# v1 on PATH, with real HTTP through the sandbox's production and test
# listeners; no task process may outlive the sandbox (test_ecs_traffic.py).
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
cd "$top_srcdir/tests/sandbox" || exit 99
PYTHONDONTWRITEBYTECODE=1 exec python3 test_ecs_traffic.py
