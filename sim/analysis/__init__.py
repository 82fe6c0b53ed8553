"""Analysis: disparity metrics over the tallies, and the typed results object computed once."""
