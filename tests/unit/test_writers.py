"""The run writers (serving.writers) and the fast drivers in words (serving.ranking): the
files read back as the old writers' did (pandas to_parquet / to_csv, explanations_long
whole), the per-gemeente files are the same whoever writes them, and the drivers' sentence
groups read exactly as driver_sentence value by value."""

from __future__ import annotations

import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

import serving.sheets
from features.describe import CLASS_NAMES, TERMS
from features.vocabulary import Unit
from models.explain import top_contributions
from serving.drivers import driver_sentence
from serving.explanations import explanation_chunks
from serving.exports import explanations_long, write_gemeente_exports
from serving.job import with_guards
from serving.ranking import (
    ValueColumns,
    build_ranking,
    contribution_matrix,
    driver_texts,
    sentence_groups,
    top_positive,
)
from serving.writers import (
    RunContent,
    dictionary_columns,
    write_csv,
    write_explanations,
    write_parquet,
    write_run_files,
)
from wijkradar.catalog import RunFolder

FEATURES = [
    "low_income_hh_pct_chg3", "lbm", "gm_lbm_chg_prev", "bijstand_per_1000", "woz_value",
    "lbm_class", "lbm_chg_prev",
]
GEMEENTEN = {"GM0363": "Amsterdam", "GM0599": "Rotterdam", "GM0014": "Groningen"}


def _inputs(n: int = 90, seed: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A guarded ranking (serving.ranking + serving.job.with_guards) and the values."""
    rng = np.random.default_rng(seed)
    gm = rng.choice(list(GEMEENTEN), size=n)
    rows = pd.DataFrame({
        "unit_code": pd.Series([f"WK{g[2:]}{i:03d}" for i, g in enumerate(gm)], dtype="str"),
        "unit_name": pd.Series([f"Wijk {i}, \"oost\"" for i in range(n)], dtype="str"),
        "gemeente_code": pd.Series(gm, dtype="str"),
        "gemeente_name": pd.Series([GEMEENTEN[g] for g in gm], dtype="str"),
        "as_of_year": np.full(n, 2022, dtype="int64"),
    })
    rows.loc[n - 3 :, ["gemeente_code", "gemeente_name"]] = None  # postcode areas
    X = rng.normal(size=(n, len(FEATURES))) * [3, 0.5, 0.2, 20, 100, 1, 0.3] + [0, 4, 0, 40,
                                                                                  300, 5, 0]
    X[:, 5] = rng.integers(1, 10, n)  # a class
    X[rng.random(X.shape) < 0.05] = np.nan
    values = pd.concat([rows[["unit_code"]], pd.DataFrame(X, columns=FEATURES)], axis=1)
    shap = rng.normal(scale=0.4, size=(n, len(FEATURES)))
    shap[:, 1] = 0.0  # a feature no tree uses
    shap[::4, 2] = shap[::4, 3]  # ties
    output = pd.DataFrame(shap, columns=[f"shap__{f}" for f in FEATURES], copy=False)
    output["shap__base"] = -2.0
    margin = shap.sum(axis=1) - 2.0
    output.insert(0, "margin", margin)
    output.insert(0, "risk", 1 / (1 + np.exp(-margin)))
    ranking = build_ranking(pd.concat([rows, values[FEATURES]], axis=1), output, FEATURES)
    previous = ranking[["unit_code", "rank"]].sample(frac=0.9, random_state=seed)
    previous["rank"] = np.arange(1, len(previous) + 1)
    return with_guards(ranking, values, previous, FEATURES, 0.3), values


# --- the drivers in words --------------------------------------------------------------------


def _sentences_per_row(shap: np.ndarray, vals: np.ndarray, lang: str) -> list[str]:
    """The old way: each row's top 3 positive contributions, one sentence call per driver."""
    return [
        "; ".join(driver_sentence(FEATURES[j], float(vals[i, j]), lang) for j in top)
        for i, top in enumerate(top_contributions(shap, 3))
    ]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_driver_texts_read_as_one_sentence_per_driver(lang):
    rng = np.random.default_rng(4)
    n, p = 400, len(FEATURES)
    shap = rng.normal(size=(n, p))
    shap[rng.random((n, p)) < 0.3] = 0.0
    shap[:, 4] = shap[:, 3]  # ties go to the first column
    shap[:7] = -1.0  # rows without a driver
    vals = rng.normal(size=(n, p)) * 50
    for j in range(p):
        vals[:, j] = np.round(vals[:, j], j % 4)
    vals[rng.random((n, p)) < 0.1] = np.nan
    vals[:, 5] = rng.integers(0, 11, n)
    columns = ValueColumns([vals[:, j] for j in range(p)])
    assert driver_texts(shap, columns, FEATURES, 3, lang) == _sentences_per_row(shap, vals, lang)
    order = top_positive(shap, 3)
    assert [list(r[r >= 0]) for r in order] == top_contributions(shap, 3)


def _hard_values(rng: np.random.Generator) -> np.ndarray:
    """Values near every edge of the sentences' rounding: half steps, powers of ten, the 0.5
    and 0.0005 thresholds, whole numbers, zero, signs, huge and missing. (No infinity: a class
    feature's sentence cannot say one, ``features.describe.class_name`` raises.)"""
    steps = np.array([5e-4, 5e-3, 0.05, 0.5, 5.0, 50.0, 0.0015, 0.0125, 1.2345, 9.995, 99.95,
                      999.5, 0.9995, 0.09995])
    powers = 10.0 ** np.arange(-5, 14)
    edges = np.concatenate([steps, powers, [0.5, 0.0005, 0.00049999, 0.4999999, 1e13, 3e15]])
    near = np.concatenate([edges, np.nextafter(edges, 0), np.nextafter(edges, np.inf),
                           edges * (1 + 1e-10), edges * (1 - 1e-10)])
    whole = np.arange(0.0, 12.0)
    spread = rng.lognormal(0.0, 3.0, 500) * rng.choice([1.0, 0.001], 500)
    rounded = np.concatenate([np.round(spread[i::5], i) for i in range(5)])
    base = np.concatenate([near, whole, spread, rounded, [0.0, np.nan]])
    return np.concatenate([base, -base, [-0.0]])


def test_sentence_groups_read_alike_for_every_kind_of_feature():
    rng = np.random.default_rng(11)
    values = _hard_values(rng)
    first, group = sentence_groups(values)
    assert (group[first] == np.arange(len(first))).all()
    assert len(first) < 0.8 * len(values)  # rounding does group values
    kinds = {}
    for base in TERMS:  # one feature per unit and class kind, levels and changes
        key = (TERMS[base].unit, base in CLASS_NAMES)
        kinds.setdefault(key, base)
    bases = list(kinds.values())
    assert Unit.FLAG in {TERMS[b].unit for b in bases}
    features = [*bases, *(f"{b}_chg3" for b in bases), *(f"{b}_chg_prev" for b in bases[:3]),
                *(f"gm_{b}_chg3" for b in bases[:3])]
    for lang, some in (("nl", features), ("en", features[::3])):
        for feature in some:
            said = np.array([driver_sentence(feature, v, lang) for v in values], dtype=object)
            assert (said == said[first][group]).all(), feature


# --- no copy of the contributions ------------------------------------------------------------


def test_the_contributions_are_read_where_they_lie():
    ranking, _ = _inputs()
    shap_cols = [f"shap__{f}" for f in FEATURES]
    matrix = contribution_matrix(ranking, shap_cols)
    assert np.shares_memory(matrix, ranking["shap__lbm"].to_numpy())
    np.testing.assert_array_equal(matrix, ranking[shap_cols].to_numpy())
    shuffled = ranking[["unit_code", *reversed(shap_cols)]]
    np.testing.assert_array_equal(contribution_matrix(shuffled, shap_cols), matrix)


# --- the files read back as before -----------------------------------------------------------


def test_ranking_files_read_back_as_pandas_wrote_them(tmp_path):
    ranking, _ = _inputs()
    ranking["shap__zero"] = 0.0  # whole floats only: still floats when read back
    ranking.loc[3, "risk"] = 1e-5
    ranking.loc[4, "top_drivers"] = "a;b,\"c\"\r\nd"
    write_csv(ranking, tmp_path / "new.csv", chunk_rows=16)
    ranking.to_csv(tmp_path / "old.csv", index=False)
    new, old = pd.read_csv(tmp_path / "new.csv"), pd.read_csv(tmp_path / "old.csv")
    pd.testing.assert_frame_equal(new, old)
    assert new["shap__zero"].dtype == "float64" and new["rank_change"].dtype == "float64"
    write_parquet(ranking, tmp_path / "new.parquet", chunk_rows=16)
    ranking.to_parquet(tmp_path / "old.parquet", index=False)
    back = pd.read_parquet(tmp_path / "new.parquet")
    pd.testing.assert_frame_equal(back, pd.read_parquet(tmp_path / "old.parquet"))
    pd.testing.assert_frame_equal(back, ranking.reset_index(drop=True), check_dtype=False)


def test_explanations_written_in_pieces_read_back_as_the_whole_table(tmp_path):
    ranking, values = _inputs()
    pieces = list(explanation_chunks(ranking, values, chunk_units=8))
    assert len(pieces) == -(-len(ranking) // 8)
    assert max(len(p) for p in pieces) == 8 * len(FEATURES)
    whole = explanations_long(ranking, values)
    pd.testing.assert_frame_equal(
        pd.concat(pieces, ignore_index=True).astype({"unit_code": "str"}),
        whole.astype({"unit_code": "str"}),
    )
    write_explanations(ranking, values, tmp_path / "new.parquet", chunk_units=8)
    whole.to_parquet(tmp_path / "old.parquet", index=False)
    new = pd.read_parquet(tmp_path / "new.parquet")
    pd.testing.assert_frame_equal(new, pd.read_parquet(tmp_path / "old.parquet"))
    assert list(new["unit_code"].cat.categories) == ranking["unit_code"].tolist()


def _cells(path):
    book = openpyxl.load_workbook(path)
    return [
        [[(c.value, c.data_type, c.number_format, c.font.bold) for c in row]
         for row in sheet.iter_rows()]
        for sheet in book.worksheets
    ]


def test_a_run_folder_holds_what_the_old_writers_wrote(tmp_path):
    ranking, values = _inputs()
    previous = ranking[["unit_code", "rank"]].iloc[::-1].copy()
    previous["rank"] = np.arange(1, len(previous) + 1)
    drift = pd.DataFrame({"feature": ["lbm"], "psi": [0.02], "flagged": [False]})
    staged = RunFolder(tmp_path / "run")
    staged.path.mkdir()
    notes = ["Gegevens bekend op 1 juli 2025: Leefbarometer 2024"]
    write_run_files(staged, RunContent(ranking, values, drift, previous), notes, lambda _: None)
    pd.testing.assert_frame_equal(pd.read_parquet(staged.ranking), ranking)
    pd.testing.assert_frame_equal(
        pd.read_csv(staged.ranking_csv), pd.read_csv(io.StringIO(ranking.to_csv(index=False)))
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(staged.explanations), pd.read_parquet(_parquet(
            explanations_long(ranking, values), tmp_path / "long.parquet"))
    )
    # the exports with their drivers made again, in this process, are the same files
    again = write_gemeente_exports(ranking, values, previous, tmp_path / "again",
                                   notes=notes, workers=1)
    assert sorted(p.name for p in staged.gemeenten.iterdir()) == sorted(p.name for p in again)
    for path in again:
        if path.suffix == ".csv":
            assert (staged.gemeenten / path.name).read_bytes() == path.read_bytes()
        else:
            assert _cells(staged.gemeenten / path.name) == _cells(path)


def _parquet(frame: pd.DataFrame, path):
    frame.to_parquet(path, index=False)
    return path


def test_worker_processes_and_large_sheets_write_the_same_files(tmp_path, monkeypatch):
    ranking, values = _inputs()
    one = write_gemeente_exports(ranking, values, None, tmp_path / "one", workers=1)
    two = write_gemeente_exports(ranking, values, None, tmp_path / "two", workers=2)
    monkeypatch.setattr(serving.sheets, "IN_MEMORY_ROWS", 0)  # as a large sheet: row by row
    rows = write_gemeente_exports(ranking, values, None, tmp_path / "rows", workers=1)
    assert [p.name for p in one] == [p.name for p in two] == [p.name for p in rows]
    for a, b, c in zip(one, two, rows, strict=True):
        if a.suffix == ".csv":
            assert a.read_bytes() == b.read_bytes() == c.read_bytes()
        else:
            assert _cells(a) == _cells(b) == _cells(c)


def test_only_columns_that_repeat_their_values_get_a_dictionary(tmp_path):
    import pyarrow.parquet as pq

    n = 10_000
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({
        "unit_code": [f"BU{i:08d}" for i in range(n)],  # all distinct
        "gemeente_code": rng.choice(["GM0363", "GM0599", "GM0014"], n),
        "shap__few": rng.choice([-0.2, 0.0, 0.3], n),  # a shallow model's few values
        "shap__many": rng.standard_normal(n),
    })
    assert dictionary_columns(frame) == ["gemeente_code", "shap__few"]
    assert dictionary_columns(frame, max_distinct=1.0) == list(frame.columns)
    assert dictionary_columns(frame.iloc[:0]) == list(frame.columns)
    write_parquet(frame, tmp_path / "r.parquet", chunk_rows=4_000)
    meta = pq.ParquetFile(tmp_path / "r.parquet").metadata
    for group in range(meta.num_row_groups):
        encodings = {meta.schema.column(i).name: meta.row_group(group).column(i).encodings
                     for i in range(meta.num_columns)}
        dictionary = {name for name, used in encodings.items()
                      if any("DICTIONARY" in e for e in used)}
        assert dictionary == {"gemeente_code", "shap__few"}, encodings
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "r.parquet"), frame,
                                  check_dtype=False)
