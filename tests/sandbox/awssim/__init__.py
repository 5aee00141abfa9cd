"""awssim: the sandbox's AWS API simulator (see ../README.md)."""
