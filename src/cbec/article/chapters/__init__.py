"""The chapters of the article's book (``replicates: li2026``): the simulated data, measurement with the
article's second-order model and method checks, the couplings of its seven factors, the size paths, its claims,
its case firms, its interviews and its PLS model. They are registered with every other chapter in
:data:`cbec.study.chapters.CHAPTERS`."""
