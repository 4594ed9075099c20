"""Any study's book: the chapter functions every study gets (data quality, measurement, couplings, group
comparisons, PLS, interviews, hypotheses; :mod:`cbec.study.chapters`) and the qualitative tools they use
(transcripts and pseudonymisation, :mod:`cbec.study.interviews`; the keyword coder, :mod:`cbec.study.coder`).
Nothing here knows the source article: its replication is :mod:`cbec.article`, which builds on this layer and
never the other way round (tests/test_structure.py)."""
