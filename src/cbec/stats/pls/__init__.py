"""PLS path modelling (PLS-SEM) as SmartPLS and seminr estimate it, and its consistent version (PLSc).

Most survey studies of success factors in Chinese management journals report PLS-SEM; this module gives the
book the same outputs by name: outer weights and loadings, construct scores, path coefficients, R² and
adjusted R², rho_A, and bootstrap intervals.

The algorithm (Wold's PLS path modelling in Lohmöller's formulation, as seminr's ``simplePLS`` runs it) works
on the indicators' correlation matrix ``S`` alone, which lets every bootstrap resample run at once:

1. weights ``w_j`` of each construct's block start at 1 and are scaled so that the construct score
   ``Y_j = X w_j`` has unit variance (``w_j' S_jj w_j = 1``);
2. inner weights ``E`` from the construct correlations ``R = W' S W``: *path weighting* gives an
   antecedent the regression coefficient of its consequent on all antecedents and a consequent its
   correlation; *factorial* gives every neighbour its correlation; *centroid* its sign;
3. outer update from the inner proxies ``Z = Y E``: mode A (reflective) ``w_j = cov(X_j, Z_j) = (S W E)_j``,
   mode B (formative) ``w_j = S_jj^-1 cov(X_j, Z_j)``; rescale as in 1;
4. stop when the summed absolute change of the weights is below ``1e-7`` (seminr's ``stopCriterion = 7``);
5. loadings ``= S W`` within blocks, paths by least squares on ``R``, ``R² = 1 - 1 / (R_sub^-1)_jj``.

Consistent PLS (Dijkstra & Henseler 2015) corrects mode-A constructs for measurement error with
``rho_A = (w'w)^2 w'(S - diag S)w / w'(ww' - diag ww')w``, dividing construct correlations by
``sqrt(rho_A_i rho_A_j)`` before the paths are solved, and setting loadings to ``w sqrt(rho_A) / (w'w)``.
The formulas follow seminr's implementation (``R/feature_consistent.R``, ``R/compute_metrics.R``) and are
checked against its published fixtures on the ECSI mobile-phone data (``tests/test_pls.py``).

Why by hand: no maintained Python library does PLS-SEM with bootstrap in the project's licence (seminr's
Python port is GPL-3 and is used by the tests only, to read the reference data).

The package has one job per module, around the fitted :class:`PLSResult`: ``estimate`` (the algorithm,
PLSc, total effects), ``bootstrap``, ``groups`` (MICOM and multi-group analysis), ``quality`` (f², VIF,
HTMT intervals) and ``predict`` (PLSpredict).

References: Lohmöller, J.-B. (1989). *Latent Variable Path Modeling with Partial Least Squares*. Physica.
Dijkstra, T. K., & Henseler, J. (2015). Consistent partial least squares path modeling. *MIS Quarterly*
39(2), 297–316.
"""

from cbec.stats.pls.bootstrap import PLSBootstrap, pls_bootstrap
from cbec.stats.pls.estimate import SCHEMES, PLSResult, pls_sem, total_effects
from cbec.stats.pls.groups import micom, pls_mga
from cbec.stats.pls.predict import pls_predict
from cbec.stats.pls.quality import htmt_bootstrap, structural_quality

__all__ = [
    "PLSResult",
    "PLSBootstrap",
    "pls_sem",
    "pls_bootstrap",
    "micom",
    "pls_mga",
    "structural_quality",
    "total_effects",
    "htmt_bootstrap",
    "pls_predict",
    "SCHEMES",
]
