"""The composition root: the one place that knows every feature and every transport."""
