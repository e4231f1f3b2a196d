"""Chat features, one manifest (`FEATURE`) each; the composition root lists them."""
