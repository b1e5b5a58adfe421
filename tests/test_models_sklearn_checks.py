"""scikit-learn's own estimator checks on every mi.models estimator (small, 1 thread)."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from mi.models import (
    CalibratedRegressor,
    GPRegressor,
    RandomForestUncertaintyRegressor,
    TwoStageGapRegressor,
    TwoStageRegressor,
    XGBClassifierModel,
    XGBEnsembleRegressor,
)

_SMALL = {"n_estimators": 20, "n_jobs": 1, "random_state": 0}

ESTIMATORS = [
    XGBEnsembleRegressor(n_members=3, **_SMALL),
    XGBClassifierModel(**_SMALL),
    RandomForestUncertaintyRegressor(n_estimators=10, n_jobs=1, random_state=0),
    RandomForestUncertaintyRegressor(
        n_estimators=10, uncertainty="jackknife", n_jobs=1, random_state=0
    ),
    RandomForestUncertaintyRegressor(
        n_estimators=10, splitter="random", bootstrap=False, n_jobs=1, random_state=0
    ),
    GPRegressor(n_restarts_optimizer=0, random_state=0),
    TwoStageRegressor(XGBClassifierModel(**_SMALL), XGBEnsembleRegressor(n_members=2, **_SMALL)),
    CalibratedRegressor(XGBEnsembleRegressor(n_members=2, **_SMALL), cv=3),
    TwoStageGapRegressor(
        XGBClassifierModel(**_SMALL), XGBEnsembleRegressor(n_members=3, **_SMALL), random_state=0
    ),
]

#: Checks that cannot pass by design, with the reason (scikit-learn marks them xfail).
_WEIGHTS = (
    "weights act as xgboost instance weights / bootstrap counts, but the random row "
    "subsampling, the members' row folds and bootstrap draws pick different rows when a row "
    "is repeated instead of weighted, so predictions are not bit-identical"
)
EXPECTED_FAILED: dict[str, dict[str, str]] = {
    "XGBEnsembleRegressor": {"check_sample_weight_equivalence_on_dense_data": _WEIGHTS},
    "XGBClassifierModel": {"check_sample_weight_equivalence_on_dense_data": _WEIGHTS},
    "RandomForestUncertaintyRegressor": {"check_sample_weight_equivalence_on_dense_data": _WEIGHTS},
    "TwoStageRegressor": {
        "check_sample_weight_equivalence_on_dense_data": _WEIGHTS,
        "check_regressors_train": (
            "the model assumes a mass of rows at or below `threshold` (e.g. Tc = 0) and predicts "
            "one constant for all of them; on the check's generic continuous target half the "
            "rows are 'negative', so R^2 < 0.5 by design"
        ),
    },
}


EXPECTED_FAILED["TwoStageGapRegressor"] = EXPECTED_FAILED["TwoStageRegressor"]


def _expected_failed(estimator):
    on_all_rows = getattr(estimator, "max_samples", None) is None
    if getattr(estimator, "bootstrap", True) is False and on_all_rows:  # weights exact
        return {}
    return EXPECTED_FAILED.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed)
def test_sklearn_compatible(estimator, check):
    check(estimator)
