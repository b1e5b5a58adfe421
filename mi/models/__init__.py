"""Surrogate models with honest uncertainty (knows nothing about materials).

Estimators follow the scikit-learn contract and pass its ``parametrize_with_checks``:

- :class:`XGBEnsembleRegressor` (default surrogate): ensemble of xgboost models on subsamples,
  ``predict(X, return_std=True)`` and ``predict_members(X)``;

Every regressor returns from ``predict(X, return_std=True)`` a std calibrated at ``fit`` on
held-out predictions of its own training rows (out-of-bag members, or a GP's leave-one-out), so
``mean -/+ 1.96 std`` covers about 95 % of new points like the training data without any
wrapper; ``calibration="none"`` gives the raw spread.

- :class:`RandomForestUncertaintyRegressor`: tree spread or infinitesimal jackknife (or extra
  trees: ``splitter="random", bootstrap=False``);
- :class:`GPRegressor`: ARD Matern + white noise Gaussian process for small data;
- :class:`XGBClassifierModel`: probabilities (metal / non-metal, superconductor or not ...);
- :class:`TwoStageRegressor`: classifier, then regressor on the positives (Stanev et al. 2018);
  :class:`TwoStageGapRegressor`: its band-gap form (metal classifier gating a gap regressor);
- :class:`CalibratedRegressor`: std recalibrated on out-of-fold predictions;
- :class:`PhysicsResidualRegressor`: a physics baseline feature plus a learned correction.

:func:`get_model` builds a surrogate by the name spec files use (:func:`list_models`, one
:class:`ModelSpec` line each in :mod:`mi.models.registry`).
:func:`evaluate` cross-validates with grouped k-fold or leave-one-cluster-out splits;
:func:`save_model` / :func:`load_model` store models without pickle, with a :class:`ModelCard`.
:func:`replicate_noise` / :func:`near_duplicate_noise` measure the label noise, the error floor
under any model.
xgboost thread counts never exceed the container's CPU quota (see :mod:`mi.models._threads`).
"""

from __future__ import annotations

from mi.models._threads import set_passive_omp_default, xgb_threads

set_passive_omp_default()

from mi.models.calibrated import CalibratedRegressor  # noqa: E402
from mi.models.calibration import (  # noqa: E402
    CalibrationReport,
    IsotonicCalibrator,
    LinearCalibrator,
    ScaleCalibrator,
    calibration_report,
    cross_fit_calibration,
    get_calibrator,
    list_calibrators,
)
from mi.models.card import ModelCard, make_card, package_versions  # noqa: E402
from mi.models.evaluation import (  # noqa: E402
    EvaluationResult,
    classification_metrics,
    evaluate,
    regression_metrics,
)
from mi.models.forest import RandomForestUncertaintyRegressor  # noqa: E402
from mi.models.gp import GPRegressor  # noqa: E402
from mi.models.noise import NoiseEstimate, near_duplicate_noise, replicate_noise  # noqa: E402
from mi.models.persistence import load_card, load_model, save_model  # noqa: E402
from mi.models.physics import PhysicsResidualRegressor  # noqa: E402
from mi.models.prediction import Prediction, predict_distribution  # noqa: E402
from mi.models.registry import ModelSpec, get_model, get_model_spec, list_models  # noqa: E402
from mi.models.splits import GroupedKFold, LeaveOneClusterOut  # noqa: E402
from mi.models.two_stage import TwoStageGapRegressor, TwoStageRegressor  # noqa: E402
from mi.models.xgb import XGBClassifierModel, XGBEnsembleRegressor  # noqa: E402

__all__ = [
    "ModelSpec",
    "get_model",
    "get_model_spec",
    "list_models",
    "Prediction",
    "predict_distribution",
    "XGBEnsembleRegressor",
    "XGBClassifierModel",
    "RandomForestUncertaintyRegressor",
    "GPRegressor",
    "TwoStageRegressor",
    "PhysicsResidualRegressor",
    "TwoStageGapRegressor",
    "CalibratedRegressor",
    "CalibrationReport",
    "calibration_report",
    "cross_fit_calibration",
    "ScaleCalibrator",
    "LinearCalibrator",
    "IsotonicCalibrator",
    "get_calibrator",
    "list_calibrators",
    "evaluate",
    "EvaluationResult",
    "regression_metrics",
    "classification_metrics",
    "GroupedKFold",
    "LeaveOneClusterOut",
    "save_model",
    "load_model",
    "load_card",
    "ModelCard",
    "make_card",
    "package_versions",
    "xgb_threads",
    "NoiseEstimate",
    "replicate_noise",
    "near_duplicate_noise",
]
