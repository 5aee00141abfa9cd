# journal and lock
