"""Tests of mi.criticality as of a date: measures, lists, prices, element risk, traceability."""

from __future__ import annotations

import csv
import datetime as dt
import math

import numpy as np
import pytest

from mi.criticality import data_dir
from mi.criticality.asof import (
    list_memberships,
    load_measures,
    measures,
    parse_as_of,
    price_signals,
)
from mi.criticality.risk import element_risk
from mi.criticality.riskmodel import COMPONENTS, load_risk_model
from mi.exceptions import ConfigError, DataError


def _row(address: str) -> dict[str, str]:
    """Read the CSV row at ``file:line`` of a shipped table (header line found by scan)."""
    name, line = address.split(":")
    lines = (data_dir() / name).read_text(encoding="utf-8").splitlines()
    header_at = next(i for i, text in enumerate(lines) if not text.startswith("#"))
    header = next(csv.reader([lines[header_at]]))
    values = next(csv.reader([lines[int(line) - 1]]))
    return dict(zip(header, values, strict=True))


# ------------------------------------------------------------------ dates
@pytest.mark.parametrize("text", ["2024/12/31", "31.12.2024", "2024-12", "yesterday", "20241231"])
def test_unknown_as_of_format_is_one_clear_error(text):
    with pytest.raises(DataError, match="Unknown as-of date format .* YYYY-MM-DD"):
        parse_as_of(text)


def test_impossible_and_too_early_dates():
    with pytest.raises(DataError, match="not a calendar date"):
        parse_as_of("2025-02-30")
    with pytest.raises(DataError, match="before the earliest table: eu_crm_2023 .* 2023-12-31"):
        parse_as_of("2023-06-30")
    assert parse_as_of("2023-12-31") == dt.date(2023, 12, 31)
    assert parse_as_of(dt.datetime(2025, 4, 4, 12, 0)) == dt.date(2025, 4, 4)
    assert parse_as_of(None) == dt.datetime.now(dt.UTC).date()


# --------------------------------------------------------------- measures
def test_dy_licence_starts_on_2025_04_04():
    assert measures("2025-04-03", ["Dy", "Tb"]).empty
    on = measures("2025-04-04", ["Dy", "Tb"])
    assert set(on["symbol"]) == {"Dy", "Tb"}
    assert on["in_force"].all()
    assert on["label"].tolist() == ["China export licence since 2025-04-04"] * 2
    assert on["magnets_in_scope"].all() and (on["severity"] == 0.5).all()


def test_announcement_before_its_effective_date_is_not_in_force():
    # No. 57 (Ho): announced 2025-10-09, effective 2025-11-08, suspended 2025-11-07
    ho = measures("2025-10-20", ["Ho"])
    assert ho["state"].tolist() == ["announced"] and not ho["in_force"].any()
    assert "effective 2025-11-08" in ho["label"][0]
    assert measures("2025-10-08", ["Ho"]).empty  # not yet announced


def test_suspension_window_and_its_unverified_end():
    def state(date):
        row = measures(date, ["Dy"])
        row = row[row["measure"] == "MOFCOM Announcement No. 61 of 2025"]
        return row["state"].item(), bool(row["in_force"].item()), bool(row["unverified"].item())

    assert state("2025-10-09") == ("in_force", True, False)
    assert state("2025-11-07") == ("suspended", False, False)
    assert state("2026-11-10") == ("suspended", False, False)
    # after 2026-11-10 the table says NOT VERIFIED: conservative choice = in force again
    assert state("2026-11-11") == ("unverified", True, True)
    lapsed = measures("2026-11-11", ["Dy"], model=_lapsed_model())
    assert not lapsed.loc[lapsed["state"] == "unverified", "in_force"].any()


def _lapsed_model():
    import tempfile
    from pathlib import Path

    text = (data_dir() / "supply_risk.toml").read_text()
    path = Path(tempfile.mkdtemp()) / "lapsed.toml"
    path.write_text(text.replace('unverified = "in_force"', 'unverified = "lapsed"'))
    return load_risk_model(path)


def test_ga_ban_to_us_suspended_then_unverified():
    def ban(date):
        m = measures(date, ["Ga"])
        return m[m["kind"].str.contains("ban")]["state"].item()

    assert ban("2024-12-31") == "in_force"
    assert ban("2025-11-09") == "suspended"
    assert ban("2026-11-27") == "suspended"
    assert ban("2026-11-28") == "unverified"


def test_cobalt_suspension_lifted_then_quota():
    co = measures("2025-06-01", ["Co"])
    assert co["state"].tolist() == ["in_force"]  # the quota was announced on 2025-09-20
    assert co["severity"].item() == pytest.approx(1.0 * 0.6)  # ban, magnets not in scope
    later = measures("2026-12-01", ["Co"]).set_index("kind")["state"]
    assert later["export suspension (temporary ban)"] == "lifted"
    assert later["export quota"] == "in_force"


def test_group_rows_are_listed_but_never_scored():
    m = measures("2026-12-01", ["Nd"], include_groups=True)
    assert len(m) > 0 and (m["severity"] == 0).all()
    assert m["label"].str.contains("group-level row, not scored").all()
    assert measures("2026-12-01", ["Nd"]).empty


def test_every_measure_row_is_parsed():
    rows = load_measures()
    assert len(rows) == 42
    assert all(m.announced is not None for m in rows)


# ------------------------------------------------------------------ lists
def test_usgs_edition_follows_the_date():
    before = list_memberships("2025-11-06")
    after = list_memberships("2025-11-07")
    assert before.attrs["editions"]["usgs"] == "usgs_2022"
    assert after.attrs["editions"]["usgs"] == "usgs_2025"
    for symbol in ("B", "Cu", "Si", "Ag", "Re", "Pb"):
        assert before.loc[symbol, "usgs"] == 0.0 and after.loc[symbol, "usgs"] == 1.0
    assert after.loc["B", "usgs_evidence"] == "primary"
    assert after.loc["Dy", "usgs_evidence"] == "secondary"
    assert math.isnan(after.loc["Am", "eu_critical"])  # EU table stops at Pu: missing


# ----------------------------------------------------------------- prices
def test_latest_price_on_or_before_the_date_with_its_basis():
    p = price_signals("2025-06-01")
    assert p.loc["Dy", "price_basis"] == "Europe (Argus monthly assessment)"
    assert p.loc["Dy", "price_usd_per_kg"] == pytest.approx(850.0)
    assert math.isnan(p.loc["Nd", "price_usd_per_kg"])  # no USD price for Nd before Dec 2025
    q = price_signals("2026-12-01")
    assert q.loc["Dy", "price_basis"] == "FOB China" and q.loc["Dy", "price_date"] == "2026-01-30"
    assert q.loc["Dy", "price_usd_per_kg"] == pytest.approx((271 + 311) / 2)
    assert q.loc["Ce", "price_usd_per_kg"] == pytest.approx((1677 + 1762) / 2 / 1000)
    # old pymatgen snapshots (2013) are too old to count as a current price
    assert math.isnan(price_signals("2024-12-31").loc["Dy", "price_usd_per_kg"])
    # Dy/Tb European prices tripled within a month in 2025
    assert q.loc["Dy", "volatility_ratio"] == pytest.approx(850 / 280)
    assert q.loc["Tb", "volatility_ratio"] == pytest.approx(3000 / 965)


# ------------------------------------------------------------ element risk
RARE_EARTHS = ["Dy", "Tb", "Nd", "Pr", "Ce", "La", "Y"]


def test_default_orders_rare_earths_as_of_2026_12_01():
    risk = element_risk("2026-12-01").frame["risk"]
    assert min(risk["Dy"], risk["Tb"]) > max(risk["Nd"], risk["Pr"])
    assert min(risk["Nd"], risk["Pr"]) > max(risk["Ce"], risk["La"], risk["Y"])


def test_export_control_component_before_and_after_2025_04_04():
    before = element_risk("2024-12-31").frame
    after = element_risk("2026-12-01").frame
    assert before.loc["Dy", "export_control"] == 0.0 and before.loc["Tb", "export_control"] == 0.0
    assert after.loc["Dy", "export_control"] > 0 and after.loc["Tb", "export_control"] > 0
    assert after.loc["Nd", "export_control"] == 0.0 and after.loc["Ce", "export_control"] == 0.0
    assert after.loc["Dy", "export_measure"].startswith("China export licence")


def test_unverified_status_is_named():
    r = element_risk("2026-12-01")
    # Y: No. 18 without magnets (0.3) vs No. 61 with magnets (0.5, status NOT VERIFIED)
    assert "Y" in r.unverified and r.frame.loc["Y", "unverified"]
    assert "Dy" not in r.unverified  # No. 18 alone already gives Dy its value
    assert element_risk("2026-06-01").unverified == []


def test_missing_values_are_gaps_or_nan_never_filled():
    r = element_risk("2026-12-01")
    assert math.isnan(r.vectors["price_level"][25])  # Fe: no current price
    assert "Fe" in r.gaps["price_level"] and "B" in r.gaps["price_volatility"]
    assert r.frame.loc["Fe", "risk_gap"] > 0
    assert math.isnan(r.frame.loc["H", "risk"])  # HHI missing for H: 'nan' rule
    assert r.frame.loc["Dy", "risk_gap"] == 0.0


def test_every_component_value_traces_to_its_row():
    r = element_risk("2026-12-01")
    f = r.frame
    for symbol in RARE_EARTHS + ["Co", "Ga"]:
        row = f.loc[symbol]
        if row["export_control"] > 0:
            src = _row(row["export_control_source"])
            assert src["symbol"] == symbol and src["evidence"] == row["export_control_evidence"]
            assert src["evidence"] in ("primary", "secondary")
        for part in row["list_membership_source"].split("; "):
            key, address = part.split(": ", 1)
            if "no row" not in address:
                assert _row(address)["symbol"] == symbol, key
        hhi = _row(row["concentration_source"])
        assert float(hhi["hhi_production"]) / 1e4 == pytest.approx(row["concentration"])
        if not np.isnan(row["price_level"]):
            src = _row(row["price_level_source"])
            assert symbol in src["constituent_symbols"].split()
            assert src["basis"] == row["price_basis"]
            assert src["evidence"] in ("primary", "secondary")


def test_components_lie_in_unit_interval():
    f = element_risk("2026-12-01").frame
    for name in [*COMPONENTS, "risk"]:
        values = f[name].dropna()
        assert ((values >= 0) & (values <= 1)).all(), name


def test_model_file_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    text = (data_dir() / "supply_risk.toml").read_text()
    bad.write_text(text.replace("price_level = 0.25", "price = 0.25"))
    with pytest.raises(ConfigError, match="unknown component 'price'"):
        load_risk_model(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_risk_model(tmp_path / "absent.toml")


# ------------------------------------------------------------ composition scores
MAGNETS = ["Nd2Fe14B", "Dy2Fe14B", "Ce2Fe14B", "(Nd0.8Dy0.2)2Fe14B", "Tb2Fe14B", "Pr2Fe14B"]


def test_scores_state_their_date_and_separate_ce_from_nd():
    from mi.criticality import score

    df = score(MAGNETS, as_of="2026-12-01").set_index("composition")
    assert df.attrs["as_of"] == "2026-12-01" and (df["as_of"] == "2026-12-01").all()
    assert df.attrs["dated_tables"]["usgs"] == "usgs_2025"
    risk = df["supply_risk"]
    assert risk["Ce2Fe14B"] < risk["Nd2Fe14B"] - 0.05  # Ce no longer ranks with Nd
    assert risk["Nd2Fe14B"] < risk["(Nd0.8Dy0.2)2Fe14B"] < risk["Dy2Fe14B"]
    assert min(risk["Dy2Fe14B"], risk["Tb2Fe14B"]) > max(risk["Nd2Fe14B"], risk["Pr2Fe14B"])
    old = score(MAGNETS, as_of="2024-12-31").set_index("composition")
    assert old.attrs["dated_tables"]["usgs"] == "usgs_2022"
    assert (old["export_control"] == 0).all()
    assert risk["Dy2Fe14B"] > old.loc["Dy2Fe14B", "supply_risk"] + 0.1


def test_score_rejects_bad_as_of_and_names_unverified_elements():
    from mi.criticality import score

    with pytest.raises(DataError, match="Unknown as-of date format '12/01/2026'"):
        score(["Fe"], as_of="12/01/2026")
    with pytest.raises(DataError, match="before the earliest table"):
        score(["Fe"], as_of="2020-01-01")
    df = score(["Y2O3", "Nd2Fe14B", "Gd5Si2Ge2"], as_of="2026-12-01")
    assert df["unverified_elements"].tolist() == ["Y", "", "Gd"]
    assert df.attrs["unverified_elements"][:2] == ["Sc", "Y"]
    # the gap: Fe and B have no current price; H has no HHI (NaN, named)
    gaps = score(["Nd2Fe14B", "Dy", "H2O"], as_of="2026-12-01")
    assert gaps["risk_gap"][0] > 0 and gaps["risk_gap"][1] == 0.0
    assert "Fe" in gaps.attrs["gaps"]["price_level"]
    assert math.isnan(gaps["supply_risk"][2]) and gaps["missing_elements"][2] == "hhi_2013: H"


def test_weights_of_a_user_model_file(tmp_path):
    from mi.criticality import score

    text = (data_dir() / "supply_risk.toml").read_text()
    for key in ("list_membership", "concentration", "price_level", "price_volatility"):
        text = text.replace(f"\n{key} = 0.", f"\n{key} = 0.0 # was 0.")
    path = tmp_path / "exports_only.toml"
    path.write_text(text)
    df = score(["Dy2Fe14B", "Nd2Fe14B"], as_of="2026-12-01", risk_model=path)
    assert df.attrs["weights"] == {"export_control": 1.0}
    assert df["supply_risk"][0] == pytest.approx(df["export_control"][0])
    assert df["supply_risk"][1] == 0.0


def test_default_date_is_today_and_stated(monkeypatch):
    import mi.criticality.asof as asof
    from mi.criticality import score

    monkeypatch.setattr(asof, "today", lambda: dt.date(2025, 4, 3))
    before = score(["Dy2Fe14B"])
    monkeypatch.setattr(asof, "today", lambda: dt.date(2025, 4, 4))
    after = score(["Dy2Fe14B"])
    assert before.attrs["as_of"] == "2025-04-03" and after["as_of"][0] == "2025-04-04"
    assert before["export_control"][0] == 0.0 < after["export_control"][0]


def test_element_missing_from_a_dated_table_is_reported():
    from mi.criticality import score

    # Am is beyond the EU table (Z <= 94): list membership is missing, so is the risk
    df = score(["AmO2", "Fe2O3"], as_of="2026-12-01")
    assert math.isnan(df["list_membership"][0]) and math.isnan(df["supply_risk"][0])
    assert "eu_crm_2023: Am" in df["missing_elements"][0]
    assert df["missing_elements"][1] == "" and not math.isnan(df["supply_risk"][1])
    assert math.isnan(element_risk("2026-12-01").frame.loc["Am", "list_membership"])
