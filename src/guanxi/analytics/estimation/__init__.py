"""The statistics of customer-base analysis, in numpy and scipy, free of Django and of the database.

- bgnbd: the BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, "Counting your customers the
  easy way"): fit, P(alive), expected purchases.
- gamma_gamma: the Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV";
  Fader & Hardie 2013, "The Gamma-Gamma model of monetary value"), and CLV from both models.
- hypergeometric: the Gauss hypergeometric part of BG/NBD's conditional expectation, checked and
  with a series where scipy's value would lose its digits.
- inputs: checking and grouping the per-customer summaries both models take.

Money is a float here (an average spend); callers turn Decimal amounts into floats and back.
"""
