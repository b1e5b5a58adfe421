"""Tests of mi.criticality: shipped tables, registry, scores and constraints."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mi.chem import ELEMENTS, element_index, parse_formulas
from mi.criticality import (
    DEFAULT_TABLES,
    DEFAULT_WEIGHTS,
    HREE_CONVENTIONS,
    SUPPLY_RISK_COMPONENTS,
    Constraint,
    all_of,
    allow_elements,
    data_dir,
    exclude_elements,
    get_table,
    hree_elements,
    list_tables,
    max_atomic_fraction,
    max_mass_fraction,
    max_supply_risk,
    register_table,
    score,
    supply_risk,
    unregister_table,
    verify_checksums,
    weighted_property,
)
from mi.exceptions import ChecksumError, DataError, FormulaError, RegistryKeyError, TableError

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "criticality"
MAGNETS = ["Nd2Fe14B", "(Nd0.8Dy0.2)2Fe14B", "Ce2Fe14B", "Dy2Fe14B"]
SHIPPED_CSV = [
    "eu_crm_2023.csv",
    "eu_crm_2023_materials.csv",
    "hhi_2013.csv",
    "price_pymatgen.csv",
    "ree_groups.csv",
    "us_doe_2023.csv",
    "usgs_2022.csv",
]
DATED_CSV = [
    "export_controls_2023_2026.csv",
    "japan_designations.csv",
    "prices_2025_2026.csv",
    "usgs_2025.csv",
]


# ----------------------------------------------------------------- shipped data
def test_shipped_files_match_sha256sums():
    verified = verify_checksums()
    assert sorted(verified) == sorted(SHIPPED_CSV + DATED_CSV)
    for name, digest in verified.items():
        assert hashlib.sha256((data_dir() / name).read_bytes()).hexdigest() == digest


def test_verify_checksums_detects_a_modified_file(tmp_path):
    for name in [*SHIPPED_CSV, *DATED_CSV, "SHA256SUMS", "SHA256SUMS-2026-12"]:
        (tmp_path / name).write_bytes((data_dir() / name).read_bytes())
    assert len(verify_checksums(tmp_path)) == 11
    path = tmp_path / "hhi_2013.csv"
    path.write_text(path.read_text().replace("Iron,2400", "Iron,2401"))
    with pytest.raises(ChecksumError, match="hhi_2013.csv"):
        verify_checksums(tmp_path)
    path.write_bytes((data_dir() / "hhi_2013.csv").read_bytes())
    dated = tmp_path / "usgs_2025.csv"
    dated.write_text(dated.read_text().replace("boron,B,5", "boron,B,5 "))
    with pytest.raises(ChecksumError, match="usgs_2025.csv"):
        verify_checksums(tmp_path)


def test_shipped_tables_are_checked_on_load(tmp_path, monkeypatch):
    import mi.criticality.tables as tables

    for name in [*SHIPPED_CSV, *DATED_CSV, "SHA256SUMS", "SHA256SUMS-2026-12"]:
        (tmp_path / name).write_bytes((data_dir() / name).read_bytes())
    path = tmp_path / "usgs_2025.csv"
    path.write_text(path.read_text().replace("boron,B,5,direct", "boron,B,5,proxy"))
    monkeypatch.setattr(tables, "data_dir", lambda: tmp_path)
    monkeypatch.setattr(tables, "_VERIFIED", {})
    table = next(t for t in tables._builtin_tables() if t.name == "usgs_2025")
    with pytest.raises(ChecksumError, match="usgs_2025.csv has sha256"):
        table.validate()
    intact = next(t for t in tables._builtin_tables() if t.name == "hhi_2013")
    assert intact.validate().n_rows == 94


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"needs {SHARED}")
def test_shipped_files_are_the_shared_files_unchanged():
    for name in [*SHIPPED_CSV, *DATED_CSV, "SHA256SUMS", "README.md"]:
        assert (data_dir() / name).read_bytes() == (SHARED / name).read_bytes(), name
    for name in ["SHA256SUMS-2026-12", "README-2026-12.md"]:
        assert (data_dir() / name).read_bytes() == (SHARED / name).read_bytes(), name


@pytest.mark.parametrize(
    "name",
    [
        "hhi_2013",
        "eu_crm_2023",
        "us_doe_2023",
        "usgs_2022",
        "ree_groups",
        "price",
        "eu_crm_2023_materials",
        "export_controls_2023_2026",
        "usgs_2025",
        "prices_2025_2026",
        "japan_designations",
    ],
)
def test_every_table_has_source_year_caveats_and_its_header(name):
    table = get_table(name)
    assert table.source and table.year[:4].isdigit() and table.caveats
    header = table.header
    assert header["title"] == table.title and len(table.title) > 20
    assert "retrieved" in header and "columns" in header
    # citations and notes are kept: the raw file still has its header block and note column
    text = table.path.read_text()
    assert text.startswith("# title:")
    assert "note" in table.columns


def test_list_tables_lists_required_tables_with_source_and_year():
    frame = list_tables()
    required = {"hhi_2013", "eu_crm_2023", "us_doe_2023", "usgs_2022", "ree_groups", "price"}
    assert required <= set(frame["name"])
    years = dict(zip(frame["name"], frame["year"], strict=True))
    assert years["hhi_2013"] == "2013" and years["usgs_2022"] == "2022"
    assert years["eu_crm_2023"] == "2023" and years["price"] == "2013-2020"
    assert frame["source"].str.len().min() > 20
    assert "cannot tell Dy or Tb" in frame.set_index("name").loc["hhi_2013", "caveats"]
    text = get_table("price").describe()
    assert "year:    2013-2020" in text and "USD presumed" in text and "licence:" in text


def test_unknown_table_suggests_closest_name():
    with pytest.raises(RegistryKeyError, match="Did you mean 'hhi_2013'"):
        get_table("hhi_2014")


def test_empty_cells_stay_missing_never_imputed():
    hhi = get_table("hhi_2013")
    expected = "H Ne Ar Kr Tc Xe Po At Rn Fr Ra Ac Th Pa U Np Pu".split()
    assert hhi.missing_elements("hhi_production") == expected
    assert hhi.missing_elements("hhi_reserve") == expected
    assert np.isnan(hhi.values("hhi_production")[element_index("H")])
    assert np.isnan(hhi.values("hhi_production")[element_index("Am")])  # beyond the table
    price = get_table("price")
    assert price.missing_elements("price_per_kg") == "Pm Po At Rn Fr Ra Ac U Np Pu".split()
    doe = get_table("us_doe_2023")
    short = doe.categories("short_term_2020_2025")
    assert short[element_index("Tb")] is None  # sources conflict: left empty
    assert short[element_index("Dy")] == "critical"
    # a list table: absent = not on the list (False), an empty cell inside stays NaN
    assert doe.values("doe_2023_critical_material_for_energy")[element_index("Fe")] == 0.0
    assert np.isnan(doe.values("importance_to_energy_st_draft")[element_index("Nd")])
    assert doe.values("importance_to_energy_st_draft")[element_index("Dy")] == 4.0
    eu = get_table("eu_crm_2023")
    assert np.isnan(eu.values("sr_2023")[element_index("N")])
    assert eu.values("sr_2023")[element_index("Dy")] == 5.1


def test_text_columns_and_material_tables_refuse_numeric_views():
    with pytest.raises(TableError, match="holds text"):
        get_table("eu_crm_2023").values("group")
    with pytest.raises(TableError, match="raw materials"):
        get_table("eu_crm_2023_materials").values("sr_2023")
    with pytest.raises(TableError, match="no column"):
        get_table("hhi_2013").values("hhi")
    assert len(get_table("eu_crm_2023_materials").to_frame()) == 71


# --------------------------------------------------------------- user tables
def _write(path: Path, body: str, header: str = "# source: test lab\n# year: 2025\n") -> Path:
    path.write_text(header + body)
    return path


def test_register_user_table_and_use_it_for_a_role(tmp_path):
    path = _write(tmp_path / "lab_prices.csv", "symbol,Z,price_per_kg\nFe,26,0.5\nNd,60,80\nB,5,\n")
    try:
        table = register_table(path, "lab_prices", units={"price_per_kg": "EUR/kg"})
        assert table.year == "2025" and table.source == "test lab"
        assert "lab_prices" in set(list_tables()["name"])
        df = score(["Fe", "Nd2Fe14B", "FeO"], tables={"price": "lab_prices"})
        assert df["cost_per_kg"][0] == pytest.approx(0.5)
        assert df["cost_known"].tolist() == [True, False, False]  # B empty, O absent
        assert df["missing_elements"][1] == "lab_prices: B"
        assert df.attrs["tables"]["price"]["name"] == "lab_prices"
        with pytest.raises(TableError, match="already registered"):
            register_table(path, "lab_prices")
    finally:
        unregister_table("lab_prices")
    with pytest.raises(RegistryKeyError):
        get_table("lab_prices")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("symbol,v\nFe,1\nFe,2\n", "twice \\(lines 4 and 5\\)"),
        ("symbol,v\nFe,1\nXx,2\n", "unknown element symbol 'Xx' at line 5"),
        ("symbol,Z,v\nFe,27,1\n", "Z='27' for 'Fe' at line 4"),
        ("element,v\nFe,1\n", "no 'symbol' column"),
        ("symbol,v\n,1\n", "empty 'symbol' at line 4"),
    ],
)
def test_register_rejects_invalid_files(tmp_path, body, message):
    path = _write(tmp_path / "bad.csv", body)
    with pytest.raises(TableError, match=message):
        register_table(path, "bad_table")
    with pytest.raises(RegistryKeyError):
        get_table("bad_table")


def test_register_needs_source_and_year(tmp_path):
    path = _write(tmp_path / "nosrc.csv", "symbol,v\nFe,1\n", header="# title: x\n")
    with pytest.raises(TableError, match="source document and a year"):
        register_table(path)
    with pytest.raises(TableError, match="does not exist"):
        register_table(tmp_path / "absent.csv", source="s", year=2020)


# -------------------------------------------------------------------- scores
AS_OF = "2026-12-01"  # the date the dated tables were compiled; pinned so numbers stay put


@pytest.fixture(scope="module")
def magnets():
    return score(MAGNETS, as_of=AS_OF)


def test_magnet_order_sanity(magnets):
    nd, nddy, ce, dy = (magnets.iloc[i] for i in range(4))
    for col in ("hree_atomic_fraction", "hree_mass_fraction", "dytb_mass_fraction", "supply_risk"):
        assert nd[col] < nddy[col], col
        assert ce[col] < dy[col], col
    assert nd["hree_mass_fraction"] == 0.0 and ce["supply_risk"] < nd["supply_risk"] + 0.01
    # what the Gaultois HHI alone cannot do: all lanthanides share one value
    assert nd["hhi_production_atomic"] == ce["hhi_production_atomic"] == dy["hhi_production_atomic"]
    assert dy["supply_risk"] - ce["supply_risk"] > 0.1


def test_known_values_for_nd_dy_magnet(magnets):
    row = magnets.iloc[1]
    # (Nd0.8Dy0.2)2Fe14B: Dy is 0.4 of 17 atoms
    assert row["hree_atomic_fraction"] == pytest.approx(0.4 / 17)
    m = {"Nd": 144.242, "Dy": 162.5, "Fe": 55.845, "B": 10.811}
    total = 1.6 * m["Nd"] + 0.4 * m["Dy"] + 14 * m["Fe"] + m["B"]
    assert row["dytb_mass_fraction"] == pytest.approx(0.4 * m["Dy"] / total, rel=1e-4)
    assert row["eu_critical_mass_fraction"] == pytest.approx(
        (1.6 * m["Nd"] + 0.4 * m["Dy"] + m["B"]) / total, rel=1e-4
    )
    # default model as of 2026-12-01, element risks worked out by hand from the table rows:
    # Nd: lists 1 (EU crit+strat, USGS, DOE), HHI 9500, FOB China oxide 140-160 USD/kg
    #     (2026-01-30), Pr-Nd oxide China domestic 433-437k -> 747-753k CNY/t (ratio 1.724)
    # Dy: No. 18 licence incl. magnets (0.5), lists 1, HHI 9500, FOB 271-311 USD/kg,
    #     Argus Europe 250-310 -> 700-1000 USD/kg (ratio 3.036)
    # Fe: lists 0, HHI 2400, no current price (gap); B: EU crit+strat, USGS 2025, HHI 2900
    level = lambda p: math.log10(p) / 4  # noqa: E731  (1 .. 10000 USD/kg)
    vol = lambda r: math.log10(r) / math.log10(4)  # noqa: E731
    r_nd = 0.15 + 0.1 * 0.95 + 0.25 * level(150) + 0.2 * vol(750 / 435)
    r_dy = 0.3 * 0.5 + 0.15 + 0.1 * 0.95 + 0.25 * level(291) + 0.2 * vol(850 / 280)
    r_fe = 0.1 * 0.24
    r_b = 0.15 * 0.75 + 0.1 * 0.29
    w = {k: v * m[k] / total for k, v in {"Nd": 1.6, "Dy": 0.4, "Fe": 14, "B": 1}.items()}
    expected = w["Nd"] * r_nd + w["Dy"] * r_dy + w["Fe"] * r_fe + w["B"] * r_b
    assert row["supply_risk"] == pytest.approx(expected, rel=1e-4)
    assert row["supply_risk"] == pytest.approx(0.1584, abs=5e-5)
    # the breakdown columns add up to the risk with the default weights
    parts = sum(DEFAULT_WEIGHTS[k] * row[k] for k in DEFAULT_WEIGHTS)
    assert row["supply_risk"] == pytest.approx(parts)
    # Fe and B have no current price: the risk could be higher by risk_gap, never filled
    assert row["risk_gap"] == pytest.approx(0.45 * (w["Fe"] + w["B"]))


@pytest.mark.filterwarnings("ignore:No Pauling electronegativity")
def test_hhi_and_cost_agree_with_pymatgen():
    from pymatgen.analysis.cost import CostAnalyzer, CostDBElements
    from pymatgen.analysis.hhi import HHIModel

    formulas = ["Nd2Fe14B", "SmCo5", "BaTiO3", "(Nd0.8Dy0.2)2Fe14B"]
    df = score(formulas)
    hhi = HHIModel()
    for f, p, r in zip(formulas, df["hhi_production_mass"], df["hhi_reserve_mass"], strict=True):
        assert (p, r) == pytest.approx(hhi.get_hhi(f), rel=1e-12)
    cost = CostAnalyzer(CostDBElements())
    assert df["cost_per_kg"][1] == pytest.approx(float(cost.get_cost_per_kg("SmCo5")), rel=1e-12)


def test_missing_element_gives_nan_and_flag_never_imputed():
    df = score(["H2O", "Fe2O3", "PmFe", "AmO2"])
    h2o, fe2o3, pmfe, am = (df.iloc[i] for i in range(4))
    assert math.isnan(h2o["hhi_production_mass"]) and math.isnan(h2o["hhi_reserve_atomic"])
    assert not h2o["hhi_known"] and math.isnan(h2o["supply_risk"])
    assert h2o["missing_elements"] == "hhi_2013: H"
    assert h2o["cost_known"] and h2o["cost_per_kg"] > 0
    assert fe2o3["hhi_known"] and fe2o3["missing_elements"] == ""
    assert not pmfe["cost_known"] and math.isnan(pmfe["cost_per_kg"])
    assert pmfe["missing_elements"] == "price: Pm" and pmfe["hhi_known"]
    assert not am["eu_known"] and "eu_crm_2023: Am" in am["missing_elements"]
    several = score(["H2PmAm", "Fe", "AmPmH"])["missing_elements"].tolist()
    assert several[0] == several[2] == "eu_crm_2023: Am; hhi_2013: H, Am; price: Pm, Am"
    assert several[1] == ""
    # a component with weight 0 does not spread its NaN
    only_dytb = score(["H2O"], weights={"dytb": 1.0})
    assert only_dytb["supply_risk"][0] == 0.0


@pytest.mark.parametrize(
    ("formula", "eu", "usgs", "gd"),
    [
        ("Gd2Fe14B", True, False, True),
        ("EuO", True, False, False),
        ("Y2O3", True, True, False),
        ("Tb2Fe14B", True, True, True),
        ("Sm2Co17", False, False, False),
    ],
)
def test_hree_conventions(formula, eu, usgs, gd):
    for convention, expected in (("eu_2023", eu), ("usgs", usgs), ("gd_heavy", gd)):
        df = score([formula], hree_convention=convention)
        assert (df["hree_atomic_fraction"][0] > 0) == expected, convention
        assert df.attrs["hree_convention"] == convention
        assert df.attrs["hree_elements"] == hree_elements(convention)


def test_convention_and_weight_errors():
    with pytest.raises(RegistryKeyError, match="Did you mean 'gd_heavy'"):
        score(["Fe"], hree_convention="gd-heavy")
    with pytest.raises(RegistryKeyError, match="supply-risk component"):
        score(["Fe"], weights={"dy": 1.0})
    with pytest.raises(DataError, match=">= 0"):
        score(["Fe"], weights={"dytb": -1.0})
    with pytest.raises(DataError, match="positive sum"):
        score(["Fe"], weights={"dytb": 0.0})
    with pytest.raises(RegistryKeyError, match="table role"):
        score(["Fe"], tables={"prices": "price"})


def test_weights_are_normalised_and_reported():
    df = score(["Dy2Fe14B"], weights={"dytb": 2.0, "hree": 2.0})
    assert df.attrs["weights"] == {"dytb": 0.5, "hree": 0.5}
    assert df["supply_risk"][0] == pytest.approx(df["dytb_mass_fraction"][0])


def test_matrix_and_strings_agree_and_chunking_keeps_rows(monkeypatch):
    import mi.criticality.scoring as scoring

    formulas = MAGNETS + ["H2O", "SmCo5", "BaTiO3"]
    from_strings = score(formulas)
    matrix = parse_formulas(formulas)
    monkeypatch.setattr(scoring, "_CHUNK_ROWS", 3)
    from_matrix = score(matrix, include_composition=True)
    assert "composition" not in score(matrix).columns
    cols = [c for c in from_strings.columns if c != "composition"]
    assert from_matrix[cols].equals(from_strings[cols])
    assert from_matrix["composition"].tolist() == matrix.formulas()
    np.testing.assert_array_equal(supply_risk(matrix), from_strings["supply_risk"])


def test_invalid_rows_are_kept_as_nan():
    matrix = parse_formulas(["Fe2O3", "Xx2", "Nd2Fe14B"], on_error="nan")
    df = score(matrix)
    assert len(df) == 3
    assert df["missing_elements"][1] == "invalid composition"
    assert df.iloc[1][["hree_mass_fraction", "supply_risk", "cost_per_kg"]].isna().all()
    assert not df["hhi_known"][1]
    assert df["hhi_known"][0] and df["hhi_known"][2]


def test_bad_formula_raises_with_row():
    with pytest.raises(FormulaError, match="row 1"):
        score(["Fe", "Nd2Fe14Bq"])


def test_weighted_property_any_column():
    values, known = weighted_property(["Co", "Fe2O3", "Dy"], "eu_crm_2023", "sr_2023")
    assert known.tolist() == [True, False, True]
    assert values[0] == pytest.approx(2.8) and values[2] == pytest.approx(5.1)
    atomic, _ = weighted_property(["FeCo"], "hhi_2013", "hhi_production", basis="atomic")
    assert atomic[0] == pytest.approx((2400 + 3100) / 2)


# ------------------------------------------------------------- property tests
_WEIGHTS = st.dictionaries(
    st.sampled_from(sorted(SUPPLY_RISK_COMPONENTS)), st.floats(0.0, 5.0), min_size=1
).filter(lambda w: sum(w.values()) > 0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    x=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=6),
    host=st.sampled_from(["Nd", "Ce", "Pr", "La"]),
    co=st.floats(0.0, 0.5),
    weights=_WEIGHTS,
    convention=st.sampled_from(sorted(HREE_CONVENTIONS)),
    as_of=st.sampled_from(["2024-12-31", "2025-06-01", "2026-12-01"]),
)
def test_risk_monotone_in_dy_fraction(x, host, co, weights, convention, as_of):
    from mi.chem import CompositionMatrix

    xs = np.sort(np.asarray(x))
    amounts = np.zeros((len(xs), len(ELEMENTS)))
    amounts[:, element_index(host)] = 2 * (1 - xs)
    amounts[:, element_index("Dy")] = 2 * xs
    amounts[:, element_index("Fe")] = 14 * (1 - co)
    amounts[:, element_index("Co")] = 14 * co
    amounts[:, element_index("B")] = 1.0
    matrix = CompositionMatrix.from_amounts(amounts)
    risk = supply_risk(matrix, weights=weights, hree_convention=convention, as_of=as_of)
    assert np.all(np.diff(risk) >= -1e-12)
    default = supply_risk(matrix, as_of=as_of)
    strictly = np.diff(xs) > 1e-3
    assert np.all(np.diff(default)[strictly] > 0)


_ELEMENT_POOL = [
    "H",
    "B",
    "C",
    "N",
    "O",
    "Fe",
    "Co",
    "Nd",
    "Dy",
    "Tb",
    "Ce",
    "Ga",
    "Pm",
    "Cu",
    "Y",
    "Gd",
    "Pt",
    "Am",
    "Ne",
    "Si",
]


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.dictionaries(
            st.sampled_from(_ELEMENT_POOL), st.floats(0.01, 20.0), min_size=1, max_size=5
        ),
        min_size=1,
        max_size=8,
    ),
    weights=_WEIGHTS,
)
def test_every_score_within_bounds_and_flags_consistent(rows, weights):
    from mi.chem import CompositionMatrix

    df = score(CompositionMatrix.from_dict_rows(rows), weights=weights, as_of=AS_OF)
    assert len(df) == len(rows)
    fraction_cols = [c for c in df.columns if c.endswith("_fraction")]
    for col in fraction_cols:
        v = df[col].dropna()
        assert ((v >= -1e-12) & (v <= 1 + 1e-12)).all(), col
    for col in ("hhi_production_mass", "hhi_reserve_mass", "hhi_production_atomic"):
        v = df[col].dropna()
        assert ((v >= 0) & (v <= 10000 + 1e-9)).all()
    risk = df["supply_risk"].dropna()
    assert ((risk >= 0) & (risk <= 1)).all()
    assert (df["cost_known"] == df["cost_per_kg"].notna()).all()
    assert (df["hhi_known"] == df["hhi_production_mass"].notna()).all()
    has_missing = df["missing_elements"] != ""
    for i, row in enumerate(rows):
        lacks_hhi = any(s in {"H", "Ne", "Am"} for s in row)
        assert df["hhi_known"][i] == (not lacks_hhi)
        lacks_price = any(s in {"Pm", "Am"} for s in row)
        assert df["cost_known"][i] == (not lacks_price)
        assert has_missing[i] == (lacks_hhi or lacks_price)


# --------------------------------------------------------------- constraints
def test_max_mass_fraction_on_magnets():
    rule = max_mass_fraction({"Dy", "Tb"}, 0.01)
    assert isinstance(rule, Constraint)
    assert rule(MAGNETS).tolist() == [True, False, True, False]
    assert rule.description == "Tb+Dy mass fraction <= 0.01"
    # a composition exactly at the limit passes
    df = score(["(Nd0.8Dy0.2)2Fe14B"])
    limit = float(df["dytb_mass_fraction"][0])
    assert max_mass_fraction("Dy", limit)(["(Nd0.8Dy0.2)2Fe14B"]).tolist() == [True]
    assert max_atomic_fraction("Dy", 0.4 / 17)(parse_formulas(["(Nd0.8Dy0.2)2Fe14B"]))[0]


def test_exclude_allow_and_all_of():
    formulas = ["Nd2Fe14B", "SmCo5", "Dy2Fe14B", "Fe"]
    assert exclude_elements("Co", "Dy")(formulas).tolist() == [True, False, False, True]
    assert exclude_elements({"Co"}).description == "no Co"
    allowed = allow_elements({"Nd", "Fe", "B"})
    assert allowed(formulas).tolist() == [True, False, False, True]
    assert allowed.description == "only B, Fe, Nd"
    both = all_of(allowed, exclude_elements("Nd"))
    assert both(formulas).tolist() == [False, False, False, True]
    assert both.description == "only B, Fe, Nd AND no Nd"
    invalid = parse_formulas(["Fe", "Xx"], on_error="nan")
    assert exclude_elements("Co")(invalid).tolist() == [True, False]
    assert allowed(invalid).tolist() == [True, False]


def test_max_supply_risk_and_unknown_risk():
    rule = max_supply_risk(0.2, as_of=AS_OF)
    assert rule(["Ce2Fe14B", "Dy2Fe14B", "H2O"]).tolist() == [True, False, False]
    assert "as of 2026-12-01" in rule.description
    # before the 2025 export controls and prices Dy2Fe14B met the same limit
    assert max_supply_risk(0.2, as_of="2024-12-31")(["Dy2Fe14B"]).tolist() == [True]
    lenient = max_supply_risk(0.2, keep_unknown=True, as_of=AS_OF)
    assert lenient(["Ce2Fe14B", "Dy2Fe14B", "H2O"]).tolist() == [True, False, True]
    assert "supply_risk <= 0.2" in rule.description and "rejected" in rule.description
    custom = max_supply_risk(0.1, weights={"dytb": 1.0}, hree_convention="usgs")
    assert custom(["(Nd0.8Dy0.2)2Fe14B", "Dy2Fe14B"]).tolist() == [True, False]
    assert "dytb=1" in custom.description


def test_constraint_argument_errors():
    with pytest.raises(FormulaError, match="Did you mean 'Dy'"):
        max_mass_fraction({"Dyy"}, 0.1)
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        max_mass_fraction("Dy", 1.5)
    with pytest.raises(DataError, match="at least one"):
        exclude_elements()
    with pytest.raises(RegistryKeyError):
        max_supply_risk(0.5, weights={"nope": 1})
    with pytest.raises(DataError, match="not a constraint"):
        all_of(lambda cm: cm)


def test_default_tables_exist_and_elements_cover_matrix_columns():
    for name in DEFAULT_TABLES.values():
        assert len(
            get_table(name).values(
                {
                    "hhi_2013": "hhi_production",
                    "eu_crm_2023": "eu_critical",
                    "us_doe_2023": "doe_2023_critical_material_for_energy",
                    "usgs_2022": "rare_earth",
                    "ree_groups": "hree_magnet_target",
                    "price": "price_per_kg",
                }[name]
            )
        ) == len(ELEMENTS)
