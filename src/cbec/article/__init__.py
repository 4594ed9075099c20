"""The source article's replication (Li Haigang, SJTU Antai, 2026) — one study among others, the one the shipped
study folder ``studies/li2026`` declares with ``replicates: li2026``.

What belongs to the article and to no other study: its claims register and their estimators
(:mod:`~cbec.article.claims`), its case firms (:mod:`~cbec.article.cases`), its groupings, size paths and stage
advice (:mod:`~cbec.article.groups`), its simulated world and scenarios (:mod:`~cbec.article.simulate`,
:mod:`~cbec.article.planted`, :mod:`~cbec.article.power`), the calibration of its book's verdict rules in that
world (:mod:`~cbec.article.calibrate`, :mod:`~cbec.article.calibration_record`), and the chapters only its book
has (:mod:`cbec.article.chapters`). The generic analysis it uses lives in :mod:`cbec.stats` and
:mod:`cbec.study`."""
