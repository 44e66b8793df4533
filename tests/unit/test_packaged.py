"""The packaged model: exact, additive SHAP; the MLflow pyfunc round trip on a real store."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from ml import promotion, registry
from models.explain import EXPLAIN_PARAM, ORDER_PARAM, additivity_error, explainer, predict_frame
from models.packaged import output_columns
from wijkradar.errors import NoModelError

FEATURES = ["a", "b", "c", "d"]


@pytest.fixture(scope="module")
def booster() -> lgb.Booster:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 4))
    X[rng.random(X.shape) < 0.05] = np.nan
    logit = 1.5 * np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 1]) ** 2 + 0.5
    y = (rng.random(2000) < 1 / (1 + np.exp(-logit))).astype(int)
    params = {
        "objective": "binary",
        "num_leaves": 15,
        "max_depth": 5,
        "verbosity": -1,
        "num_threads": 1,
    }
    return lgb.train(params, lgb.Dataset(X, label=y, feature_name=FEATURES), num_boost_round=60)


def _frame(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X[rng.random(X.shape) < 0.1] = np.nan
    return pd.DataFrame(X, columns=FEATURES)


def test_contributions_add_up_to_the_margin_and_risk_is_its_sigmoid(booster):
    frame = _frame(500)
    out = predict_frame(booster, FEATURES, frame)
    assert list(out.columns) == output_columns(FEATURES)
    assert additivity_error(out, FEATURES) < 1e-9
    raw = booster.predict(frame.to_numpy(), raw_score=True)
    np.testing.assert_allclose(out["margin"], raw, atol=1e-9)
    np.testing.assert_allclose(out["risk"], booster.predict(frame.to_numpy()), atol=1e-12)


def test_chunking_does_not_change_the_result(booster):
    frame = _frame(777)
    whole = predict_frame(booster, FEATURES, frame, chunk_rows=10_000)
    chunked = predict_frame(booster, FEATURES, frame, chunk_rows=50)
    pd.testing.assert_frame_equal(whole, chunked)


def test_column_order_of_the_input_does_not_matter(booster):
    frame = _frame(50)
    shuffled = frame[["d", "b", "a", "c"]]
    pd.testing.assert_frame_equal(
        predict_frame(booster, FEATURES, frame), predict_frame(booster, FEATURES, shuffled)
    )


def test_pyfunc_round_trip_through_a_real_sqlite_store(booster, tmp_path):
    tracking = registry.Tracking(
        uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        experiment="test",
        model_name="wijkradar",
        artifact_root=tmp_path / "artifacts",
    )
    with pytest.raises(NoModelError):
        registry.resolve(tracking, None)
    record = registry.RunRecord(
        params={"p": 1}, metrics={"m": 0.5}, step_metrics=[("s", 0.1, 2020)],
        tags={"t": "x"}, tables={"evaluation": pd.DataFrame({"x": [1, 2]})},
        texts={"note.txt": "hi"},
    )
    background = _frame(40, seed=7).assign(extra=1.0)  # the registry keeps the features
    ref = registry.log_training(
        tracking, record, booster=booster, features=FEATURES, background=background
    )
    promotion.promote(tracking, ref.version, "first model", by="test")
    champion = registry.resolve(tracking, None)
    assert (champion.version, champion.run_id) == (ref.version, ref.run_id)
    model, features = registry.load(tracking, champion)
    assert features == FEATURES
    frame = _frame(64)
    pd.testing.assert_frame_equal(
        model.predict(frame).reset_index(drop=True),
        predict_frame(booster, FEATURES, frame).reset_index(drop=True),
    )
    inter = model.predict(frame, params={EXPLAIN_PARAM: "interventional"})
    expected = predict_frame(
        booster, FEATURES, frame, using=explainer(booster, "interventional", background[FEATURES])
    )
    pd.testing.assert_frame_equal(inter.reset_index(drop=True), expected.reset_index(drop=True))
    assert additivity_error(inter, FEATURES) < 1e-9
    native = model.predict(frame, params={EXPLAIN_PARAM: "native"})
    np.testing.assert_allclose(
        native.to_numpy(), model.predict(frame).to_numpy(), rtol=0, atol=1e-9
    )  # fast (the default) and native: the same values
    pd.testing.assert_frame_equal(  # the job's rank order, asked of the pyfunc
        model.predict(frame, params={ORDER_PARAM: "margin"}),
        predict_frame(booster, FEATURES, frame, order="margin"),
    )
    from serving.job import scoring_predict

    job_predict = scoring_predict(model, "interventional")  # past the pyfunc's schema copy
    assert job_predict.func == model.unwrap_python_model().predict
    pd.testing.assert_frame_equal(
        job_predict(frame[FEATURES[::-1]]),  # by name, in any column order
        model.predict(frame, params={EXPLAIN_PARAM: "interventional", ORDER_PARAM: "margin"}),
    )
    expl = model.unwrap_python_model().explanation(frame)  # the notebook's way in
    assert expl.feature_names == FEATURES
    np.testing.assert_allclose(
        expl.values.sum(axis=1) + expl.base_values,
        booster.predict(frame.to_numpy(), raw_score=True),
        atol=1e-9,
    )
    assert registry.run_table(tracking, ref.run_id, "evaluation")["x"].tolist() == [1, 2]
    assert (tmp_path / "artifacts").is_dir()
    second = registry.log_training(
        tracking, registry.RunRecord(), booster=booster, features=FEATURES
    )
    assert registry.resolve(tracking, None).version == ref.version  # registered, not promoted
    promotion.promote(tracking, second.version, "newer", by="test")
    assert registry.resolve(tracking, None).version == second.version != ref.version
    assert registry.resolve(tracking, f"models:/wijkradar/{ref.version}").run_id == ref.run_id
    with pytest.raises(NoModelError, match="models:/NAME@ALIAS"):
        registry.resolve(tracking, "runs:/abc/model")


def test_a_run_whose_explanations_do_not_add_up_is_refused(booster):
    from serving.job import score_rows
    from wijkradar.errors import ExplanationError

    frame = _frame(20)
    rows = frame.assign(unit_code=[f"WK0001{i:02d}" for i in range(20)], unit_name="x",
                        gemeente_code="GM0001", gemeente_name="g", as_of_year=2024)

    def broken(x: pd.DataFrame) -> pd.DataFrame:  # a model whose contributions are off
        out = predict_frame(booster, FEATURES, x)
        return out.assign(shap__a=out["shap__a"] + 1e-3)

    ranking, error = score_rows(lambda x: predict_frame(booster, FEATURES, x), rows, FEATURES)
    assert error < 1e-9 and len(ranking) == 20
    with pytest.raises(ExplanationError, match="additivity") as info:
        score_rows(broken, rows, FEATURES)
    assert info.value.exit_code == 8


def test_rank_order_sorts_the_rows_in_place_with_their_labels(booster):
    frame = _frame(300).set_axis(pd.RangeIndex(1000, 1300))
    frame.iloc[5] = frame.iloc[17]  # a tie: rank order keeps the frame's order among ties
    by_input = predict_frame(booster, FEATURES, frame)
    ranked = predict_frame(booster, FEATURES, frame, order="margin")
    assert ranked["margin"].is_monotonic_decreasing
    pd.testing.assert_frame_equal(ranked, by_input.sort_values("margin", ascending=False,
                                                               kind="stable"))
    assert list(ranked.index).index(1005) < list(ranked.index).index(1017)
    with pytest.raises(ValueError, match=r"order must be one of \('input', 'margin'\)"):
        predict_frame(booster, FEATURES, frame, order="risk")


def test_the_ranking_takes_rows_in_rank_order_without_copying_them(booster):
    from serving.job import score_rows
    from serving.ranking import build_ranking, contribution_matrix

    frame = _frame(200)
    frame.iloc[3] = frame.iloc[150]  # tied margins rank in the rows' order
    rows = frame.assign(
        unit_code=[f"WK0001{i:03d}" for i in range(200)], unit_name="x",
        gemeente_code=np.where(np.arange(200) % 3, "GM0001", "GM0002"), gemeente_name="g",
        as_of_year=2024,
    )
    shap_cols = [f"shap__{f}" for f in FEATURES]
    expected, _ = score_rows(lambda x: predict_frame(booster, FEATURES, x), rows, FEATURES)
    output = predict_frame(booster, FEATURES, rows, order="margin")
    ranked = build_ranking(rows, output, FEATURES)
    pd.testing.assert_frame_equal(ranked, expected)
    # The published contributions are the model's own matrix, not a copy of it.
    assert np.shares_memory(contribution_matrix(ranked, shap_cols),
                            contribution_matrix(output, shap_cols))
    rank_of = ranked.set_index("unit_code")["rank"]
    assert rank_of["WK0001003"] < rank_of["WK0001150"]
    # Rows in any other order: the same ranking, by a copy.
    shuffled = output.sample(frac=1.0, random_state=1)
    pd.testing.assert_frame_equal(build_ranking(rows, shuffled, FEATURES), expected)
    with pytest.raises(ValueError, match="not the 200 rows scored"):
        build_ranking(rows, output.iloc[:199], FEATURES)
    with pytest.raises(ValueError, match="not the 200 rows scored"):
        build_ranking(rows, output.set_axis(output.index + 1000), FEATURES)
