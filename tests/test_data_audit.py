"""Label audit of multi-valued targets (mi.data.audit): rules, consensus, row accounting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from mi.data import Dataset, load_dataset
from mi.data.audit import audit_counts, audit_values, parse_sources, rule_applies
from mi.data.cleaning import SourceFrame, clean_frames
from mi.data.manifest import read_manifest
from mi.data.spec import AuditRule, AuditWhere, LabelAuditSpec, TableSpec, TargetSpec
from mi.exceptions import SpecError

RULES = (
    AuditRule(name="not_positive", reason="Tc > 0", min_value=0.0, min_exclusive=True),
    AuditRule(name="above_cobalt", reason="Co 1388 K", max_value=1400.0),
    AuditRule(
        name="r2fe14b_floor",
        reason="R2Fe14B orders above 400 K",
        min_value=400.0,
        where=AuditWhere(
            fractions={"R": (0.10, 0.13), "B": (0.05, 0.07), "Fe+Co": (0.75, 0.86)},
            others_max=0.03,
        ),
    ),
)
AUDIT = LabelAuditSpec(
    sources_column="source",
    suspect_values=(4.2, 77.0, 300.0),
    rules=RULES,
)


def _clean(rows: list[tuple[str, str, str]], audit: LabelAuditSpec | None = AUDIT) -> Dataset:
    df = pd.DataFrame(rows, columns=["compound", "Tc", "source"])
    spec = TableSpec(
        composition_col="compound",
        targets=(TargetSpec(name="Tc", unit="K", kind="array", audit=audit),),
        keep_columns=("source",),
    )
    return clean_frames([SourceFrame("tc.csv", df)], spec)


def _row(ds: Dataset, formula: str) -> pd.Series:
    return ds.df.set_index("composition").loc[formula]


def test_stray_low_value_is_left_out_of_the_consensus():
    ds = _clean([("CoPt", "[4.2 700. 705. 710.]", "['a' 'b' 'c' 'd']")])
    row = _row(ds, "CoPt")
    assert row["Tc"] == pytest.approx(705.0) and row["Tc_n"] == 3
    rec = ds.report.audit.iloc[0]
    assert rec["action"] == "changed" and rec["rule"] == "consensus"
    assert rec["raw_median"] == pytest.approx(702.5) and rec["outliers"] == "4.2"
    assert rec["sources"] == "tc.csv row 0"


def test_values_from_one_paper_count_once():
    # three mentions of 4.2 K in paper a lose against two papers agreeing near 600 K
    out = audit_values(
        np.array([4.2, 4.2, 4.2, 600.0, 610.0]), ["a", "a", "a", "b", "c"], {"Co": 1.0}, AUDIT
    )
    assert out.value == pytest.approx(605.0) and out.n_used == 2
    plain = LabelAuditSpec(rules=RULES)  # without sources every value counts
    assert audit_values(
        np.array([4.2, 4.2, 4.2, 600.0, 610.0]), list("abcde"), {"Co": 1.0}, plain
    ).value == pytest.approx(4.2)


def test_measurement_temperature_has_half_weight():
    out = audit_values(np.array([300.0, 520.0]), ["a", "b"], {"Co": 1.0}, AUDIT)
    assert out.value == pytest.approx(520.0)
    assert out.record is not None and out.record["outliers"] == "300"


def test_rules_drop_values_and_reject_labels_with_the_reason():
    ds = _clean(
        [
            ("Dy2Fe14B", "[4.2]", "['p1']"),  # only value below the 2:14:1 floor
            ("Nd2Fe14B", "[8. 135. 580. 585. 590.]", "['p1' 'p2' 'p3' 'p4' 'p5']"),
            ("MnBi", "[0. 0. 630. 2500.]", "['a' 'b' 'c' 'd']"),
            ("ErCo2", "[32.]", "['e']"),  # a low Tc outside the rule's family stays
        ]
    )
    rep = ds.report
    assert rep.n_input == 4 and rep.n_accepted == 3 and rep.n_rejected == 1
    assert rep.n_input == rep.n_accepted + rep.n_rejected
    rejected = rep.rejected.iloc[0]
    assert rejected["row"] == 0 and rejected["value"] == "4.2"
    assert "r2fe14b_floor" in rejected["reason"] and "400 K" in rejected["reason"]
    assert "BDy2Fe14" not in set(ds.df["composition"])
    assert _row(ds, "BFe14Nd2")["Tc"] == pytest.approx(585.0)
    assert _row(ds, "BiMn")["Tc"] == pytest.approx(630.0)
    assert _row(ds, "Co2Er")["Tc"] == pytest.approx(32.0)
    audit = rep.audit.set_index("composition")
    assert audit.loc["BFe14Nd2", "dropped_values"] == "8 (r2fe14b_floor), 135 (r2fe14b_floor)"
    assert audit.loc["BiMn", "rule"] == "not_positive; above_cobalt"
    assert audit.loc["BDy2Fe14", "action"] == "dropped"
    assert "Co2Er" not in audit.index  # nothing changed: not listed
    counts = audit_counts(rep.audit).set_index("rule")
    assert counts.loc["r2fe14b_floor", "dropped"] == 1
    assert counts.loc["r2fe14b_floor", "values_dropped"] == 3
    assert counts.loc["above_cobalt", "changed"] == 1
    assert "label audit" in rep.summary() and "r2fe14b_floor" in rep.summary()


def test_no_consensus_is_dropped_or_resolved_as_declared():
    rows = [("TiGaCo2", "[120. 1000.]", "['a' 'b']")]
    ds = _clean(rows)
    assert len(ds.df) == 0 and ds.report.n_rejected == 1
    assert "no_consensus" in ds.report.rejected["reason"].iloc[0]
    assert ds.report.audit["outliers"].iloc[0] == "120, 1000"  # the unresolved values
    median = _clean(rows, AUDIT.model_copy(update={"no_consensus": "median"}))
    assert median.df["Tc"].iloc[0] == pytest.approx(560.0)
    highest = _clean(rows, AUDIT.model_copy(update={"no_consensus": "highest"}))
    assert highest.df["Tc"].iloc[0] == pytest.approx(1000.0)


def test_switched_off_audit_is_the_plain_median():
    rows = [("CoPt", "[4.2 700. 705. 710.]", "['a' 'b' 'c' 'd']")]
    ds = _clean(rows, AUDIT.model_copy(update={"enabled": False}))
    assert ds.df["Tc"].iloc[0] == pytest.approx(702.5) and ds.df["Tc_n"].iloc[0] == 4
    assert ds.report.audit.empty


def test_rule_conditions_and_sources():
    where = AuditWhere(fractions={"R": (0.05, 0.35), "Fe": (0.6, 1.0)}, others_max=0.25)
    assert rule_applies(where, {"Ce": 2 / 19, "Fe": 17 / 19})
    assert not rule_applies(where, {"Fe": 1.0})  # no rare earth
    assert not rule_applies(where, {"Nd": 0.1, "Fe": 0.6, "Al": 0.3})  # too much else
    assert parse_sources("['10.1/a' '10.1/b']", 2) == ["10.1/a", "10.1/b"]
    assert parse_sources("['10.1/a']", 3) is None
    bad = AuditRule(
        name="x", reason="x", min_value=1.0, where=AuditWhere(fractions={"Xx": (0.0, 1.0)})
    )
    with pytest.raises(ValidationError, match="neither an element nor a group"):
        LabelAuditSpec(rules=(bad,))
    with pytest.raises(ValidationError, match="needs min_value, max_value or always"):
        AuditRule(name="empty", reason="nothing")
    with pytest.raises(ValidationError, match="not element symbols"):
        LabelAuditSpec(groups={"magnetic": ("Fe", "Qq")})


def test_declared_group_and_always_rule():
    spec = LabelAuditSpec(
        groups={"magnetic": ("Fe", "Co", "Ni", "Mn")},
        rules=(
            AuditRule(
                name="no_magnetic_element",
                reason="no moment",
                always=True,
                where=AuditWhere(fractions={"magnetic": (0.0, 0.0)}),
            ),
        ),
    )
    gone = audit_values(np.array([39.0, 40.0]), ["a", "b"], {"Mg": 1 / 3, "B": 2 / 3}, spec)
    assert gone.value is None and gone.record is not None
    assert gone.record["rule"] == "no_magnetic_element"
    kept = audit_values(np.array([39.0, 40.0]), ["a", "b"], {"Mn": 0.5, "B": 0.5}, spec)
    assert kept.value == pytest.approx(39.5) and kept.record is None


def test_manifest_rejects_a_bad_audit(tmp_path):
    text = (
        'name = "bad"\ntitle = "t"\nkind = "files"\nfolder = "f"\nlicence = "l"\n'
        'citation = "c"\n[[files]]\nname = "a.csv"\nurl = "https://example.org/a.csv"\n'
        f'sha256 = "{"0" * 64}"\n[table]\ncomposition_col = "c"\n[[targets]]\nname = "Tc"\n'
        'kind = "array"\n[targets.audit]\nconsensus = "mode"\n'
    )
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(SpecError, match="consensus"):
        read_manifest(tmp_path / "bad.toml")


def test_real_curie_set_audited_by_default(shared_datasets, tmp_path):
    ds = load_dataset("curie_tc")
    raw = load_dataset("curie_tc", audit=False)
    tc = ds.df.set_index("composition")["Tc"]
    tc_raw = raw.df.set_index("composition")["Tc"]
    # Dy2Fe14B and PrNdFe14B: their only mined values (4.2 K, 15 K) are below the 2:14:1 floor
    assert tc_raw["BDy2Fe14"] == pytest.approx(4.2) and tc_raw["BFe14NdPr"] == pytest.approx(15)
    assert "BDy2Fe14" not in tc.index and "BFe14NdPr" not in tc.index
    audit = ds.report.audit.set_index("composition")
    assert audit.loc["BDy2Fe14", "rule"] == "r2fe14b_floor"
    assert audit.loc["BFe14NdPr", "action"] == "dropped"
    rejected = ds.report.rejected
    assert rejected["reason"].str.contains("r2fe14b_floor").sum() >= 2
    # well-known Curie temperatures come out of the mined pools (Fe 1043 K, Co 1388 K,
    # Ni 627 K, Nd2Fe14B 585 K, La2Fe14B 530 K)
    assert tc_raw["Fe"] < 600 and tc["Fe"] == pytest.approx(1043, abs=15)
    assert tc_raw["Co"] < 600 and tc["Co"] == pytest.approx(1388, abs=15)
    assert tc["Ni"] == pytest.approx(627, abs=15)
    assert tc["BFe14Nd2"] == pytest.approx(585, abs=10)
    assert tc["BFe14La2"] == pytest.approx(530, abs=10) and tc_raw["BFe14La2"] > 540
    rep = ds.report
    assert rep.n_input == rep.n_accepted + rep.n_rejected == 3612
    counts = {r["rule"]: r for r in rep.audit_summary()}
    assert {"not_positive", "above_cobalt", "r2fe14b_floor", "consensus"} <= set(counts)
    # the audit travels with a saved dataset
    ds.save(tmp_path / "curie.parquet")
    back = Dataset.load(tmp_path / "curie.parquet")
    assert len(back.report.audit) == len(rep.audit)
    assert back.report.audit_summary() == rep.audit_summary()


def test_workflow_target_switches_the_audit(shared_datasets):
    from mi.runner.keys import target_keys
    from mi.runner.spec import parse_spec
    from mi.runner.training import load_training

    def spec(audit: bool):
        return parse_spec(
            {
                "version": 1,
                "name": "t",
                "targets": [{"name": "Tc", "dataset": "curie_tc", "label_audit": audit}],
                "candidates": {"templates": [{"formula": "Nd2Fe14B"}]},
            },
            "wf.toml",
        )

    on, off = spec(True), spec(False)
    assert target_keys(on, on.targets[0])["data"] != target_keys(off, off.targets[0])["data"]
    data_on = load_training(on.targets[0], 0)
    data_off = load_training(off.targets[0], 0)
    table_on, table_off = data_on.table, data_off.table
    assert "BDy2Fe14" in set(table_off["composition"])
    assert "BDy2Fe14" not in set(table_on["composition"])
    assert {r["rule"] for r in data_on.record.dataset.label_audit} >= {"r2fe14b_floor"}
    assert data_off.record.dataset.label_audit == [] and data_off.audit.empty
    assert len(data_on.audit) > 500


def _manifest_audit() -> LabelAuditSpec:
    from mi.data.registry import get_manifest

    spec = next(t.audit for t in get_manifest("curie_tc").table.targets if t.name == "Tc")
    assert spec is not None
    return spec


@pytest.mark.parametrize(
    "fractions, values, label, rule",
    [
        # a ferroelectric Curie temperature of a Ti-only oxide (BaTiO3 393 K) is not magnetic
        ({"Ba": 0.2, "Ti": 0.2, "O": 0.6}, [393.0, 393.0], None, "ti_v_oxide_ceiling"),
        # 4f-only magnets order below 400 K: Gd's melting-range value goes, 293 K stays
        ({"Gd": 1.0}, [293.0, 295.0, 665.0], 294.0, "four_f_only_ceiling"),
        # Fe-rich metals order far above 100 K: a 5 K value is another transition
        ({"Fe": 0.8, "B": 0.2}, [5.0, 650.0], 650.0, "fe_rich_metal_floor"),
        ({"Co": 1.0}, [4.0, 1388.0], 1388.0, "co_rich_metal_floor"),
        # metallic Cu carries no moment: AuCu3's order-disorder temperature is not a Tc
        ({"Au": 0.25, "Cu": 0.75}, [640.0], None, "cu_metal_ceiling"),
        # 4f moments in a Cu metal order below 400 K: Cu7Tb's melting-range values go
        ({"Cu": 7 / 8, "Tb": 1 / 8}, [735.0, 763.0, 25.0], 25.0, "cu_metal_ceiling"),
        # Cu+ (d10) halide: the superionic transition is not a Curie temperature
        ({"Cu": 0.5, "I": 0.5}, [871.0], None, "cu_compound_ceiling"),
        # ferroelectric Curie temperatures of Mn- and Fe-only oxides are not magnetic
        ({"Er": 0.2, "Mn": 0.2, "O": 0.6}, [834.0, 80.0], 80.0, "mn_oxide_ceiling"),
        ({"Bi": 0.2, "Fe": 0.2, "O": 0.6}, [1100.0], None, "fe_oxide_ceiling"),
    ],
)
def test_curie_manifest_physical_rules(fractions, values, label, rule):
    spec = _manifest_audit()
    out = audit_values(np.array(values), [f"p{i}" for i in range(len(values))], fractions, spec)
    assert out.record is not None and rule in str(out.record["rule"])
    assert out.value == (pytest.approx(label) if label is not None else None)


@pytest.mark.parametrize(
    "fractions, value",
    [
        ({"Fe": 0.7, "Cr": 0.18, "Ni": 0.12}, 40.0),  # stainless steel: antiferromagnet near 40 K
        ({"La": 0.2, "Ti": 0.2, "O": 0.6}, 146.0),  # LaTiO3
        ({"Gd": 5 / 9, "Si": 4 / 9}, 336.0),  # Gd5Si4
        ({"Co": 0.75, "Ti": 0.25}, 40.0),  # Co3Ti, outside the Co-rich floor
        ({"La": 2 / 7, "Cu": 1 / 7, "O": 4 / 7}, 325.0),  # La2CuO4, Neel temperature
        ({"Ca": 0.086, "Sr": 0.25 - 0.086, "Cu": 0.25, "O": 0.5}, 537.0),  # (Ca,Sr)CuO2
        ({"Gd": 1 / 3, "Cu": 2 / 3}, 40.0),  # GdCu2
        ({"Cu": 0.5, "Mn": 0.25, "Al": 0.25}, 630.0),  # Cu2MnAl Heusler: Mn carries the moment
        ({"La": 0.14, "Sr": 0.06, "Mn": 0.2, "O": 0.6}, 369.0),  # La0.7Sr0.3MnO3
        ({"Fe": 0.4, "O": 0.6}, 960.0),  # alpha-Fe2O3, Neel temperature
        ({"Mn": 1 / 3, "Fe": 2 / 3 * 0.4, "O": 2 / 3 * 0.6}, 573.0),  # MnFe2O4: Fe as well
    ],
)
def test_curie_manifest_rules_keep_real_low_values(fractions, value):
    out = audit_values(np.array([value]), ["p0"], fractions, _manifest_audit())
    assert out.value == pytest.approx(value) and out.record is None
