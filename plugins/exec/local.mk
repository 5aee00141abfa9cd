# the exec stage
