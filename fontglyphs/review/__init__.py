"""Human review of a split: a local web page whose decisions (``output/clean/review.csv``) the cleaner uses.

``decisions`` is the file contract and the error estimate for the cleaner; ``session`` orders and validates;
``server`` is the loopback HTTP layer; ``assets`` is the page itself. See docs/review.md.
"""
