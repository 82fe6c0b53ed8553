"""Output: archives, tidy tables, figures and the study report."""
