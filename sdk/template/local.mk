# The out-of-tree stage template, built against the installed SDK by installcheck.
