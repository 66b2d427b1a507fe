"""The ADR assessment of a load: points and exemption, mixed loading, tunnels, plates, qualifications."""

from __future__ import annotations

import pytest

from dangerous_goods.assessment import Assessment, AssessmentError, LoadLine, assess
from dangerous_goods.rules import Carriage, mixed_loading_rules, transport_categories, tunnel_codes


def line(
    un: str,
    quantity: float = 10,
    unit: str = "kg",
    pg: str | None = None,
    *,
    carriage: Carriage = "packages",
    name: str | None = None,
    mass_kg: float | None = None,
) -> LoadLine:
    return LoadLine(
        un_number=un,
        quantity=quantity,
        unit=unit,  # type: ignore[arg-type]
        packing_group=pg,
        name=name,
        carriage=carriage,
        mass_kg=mass_kg,
    )


def pairs(result: Assessment) -> set[tuple[int, int, str, str | None]]:
    return {(v.lines[0], v.lines[1], v.rule, v.note) for v in result.mixed_loading_violations}


# -- the rules tables ------------------------------------------------------------------------------


def test_the_rules_tables_load_into_typed_structs() -> None:
    mixed = mixed_loading_rules()
    assert len(mixed.labels) == 18
    assert mixed.cell("1", "5.1") == "d"
    assert mixed.class1_cell("B", "D") == "a"
    assert transport_categories().multiplier("1005", 1) == 20
    assert list(tunnel_codes().codes) == [
        "B",
        "B1000C",
        "B/D",
        "B/E",
        "C",
        "C5000D",
        "C/D",
        "C/E",
        "D",
        "D/E",
        "E",
        "-",
    ]


def test_the_mixed_loading_matrix_is_symmetric() -> None:
    mixed = mixed_loading_rules()
    for a in mixed.labels:
        for b in mixed.labels:
            assert mixed.cell(a, b) == mixed.cell(b, a), (a, b)
    for a in mixed.class1_compatibility_groups:
        for b in mixed.class1_compatibility_groups:
            assert mixed.class1_cell(a, b) == mixed.class1_cell(b, a), (a, b)


# -- selecting the entry ---------------------------------------------------------------------------


def test_each_line_gets_its_table_a_entry() -> None:
    result = assess([line("1203", 300, "L", "II"), line("UN1830", 200, "L", "II")])
    assert [(e.entry.un_number, e.entry.hazard_class, e.entry.labels) for e in result.lines] == [
        ("1203", "3", ("3",)),
        ("1830", "8", ("8",)),
    ]


def test_an_unknown_un_number_names_the_line() -> None:
    with pytest.raises(AssessmentError) as caught:
        assess([line("1203", 1, "L", "II"), line("9999")])
    assert (caught.value.line, caught.value.attribute) == (1, "un_number")
    assert "UN 9999" in caught.value.message


def test_a_wrong_packing_group_names_the_line() -> None:
    with pytest.raises(AssessmentError) as caught:
        assess([line("1203", 1, "L", "III")])
    assert (caught.value.line, caught.value.attribute) == (0, "packing_group")


def test_several_packing_groups_need_the_packing_group() -> None:
    with pytest.raises(AssessmentError) as caught:
        assess([line("2811", 1, "kg")])
    assert caught.value.attribute == "packing_group"


def test_name_variants_that_assess_alike_need_no_name_in_packages() -> None:
    result = assess([line("1202", 100, "L", "III")])
    assert result.lines[0].entry.transport_category == 3


def test_name_variants_that_differ_in_tanks_need_a_name() -> None:
    with pytest.raises(AssessmentError) as caught:
        assess([line("1202", 100, "L", "III", carriage="tank")])
    assert caught.value.attribute == "name"
    named = assess([line("1202", 100, "L", "III", carriage="tank", name="EN 590")])
    assert named.lines[0].entry.entry_seq == 2


def test_carriage_prohibited_entries_are_refused() -> None:
    with pytest.raises(AssessmentError, match="prohibited"):
        assess([line("0020")])


def test_tank_carriage_needs_a_tank_code() -> None:
    with pytest.raises(AssessmentError) as caught:
        assess([line("0081", 10, "kg", carriage="tank")])
    assert caught.value.attribute == "carriage"


def test_bulk_carriage_needs_a_hazard_identification_number() -> None:
    with pytest.raises(AssessmentError) as caught:
        assess([line("2990", 1, "articles", carriage="bulk", mass_kg=5)])
    assert caught.value.attribute == "carriage"


def test_articles_count_by_their_mass() -> None:
    with pytest.raises(AssessmentError) as caught:
        assess([line("0336", 100, "articles")])
    assert caught.value.attribute == "mass_kg"
    result = assess([line("0336", 100, "articles", mass_kg=40)])
    assert result.points == 40 * 3
    assert result.net_explosive_mass_kg == 40


# -- ADR 1.1.3.6: points and exemption -------------------------------------------------------------


@pytest.mark.parametrize(
    ("un", "pg", "unit", "category", "multiplier"),
    [
        ("2814", None, "kg", 0, None),  # infectious substance (animal material): TC 0
        ("0081", None, "kg", 1, 20),  # footnote UN number: TC 1 counted ×20
        ("1428", "I", "kg", 1, 50),  # sodium: TC 1
        ("1203", "II", "L", 2, 3),  # petrol: TC 2
        ("2811", "III", "kg", 2, 3),  # 6.1 PG III is TC 2, not 3
        ("1202", "III", "L", 3, 1),  # diesel: TC 3
        ("3268", None, "kg", 4, 0),  # TC 4: not counted
    ],
)
def test_each_transport_category_has_its_multiplier(
    un: str, pg: str | None, unit: str, category: int, multiplier: int | None
) -> None:
    result = assess([line(un, 10, unit, pg, name="animal material" if un == "2814" else None)])
    assessed = result.lines[0]
    assert assessed.entry.transport_category == category
    assert assessed.multiplier == multiplier
    assert result.points == (0 if multiplier is None else 10 * multiplier)


@pytest.mark.parametrize("un", ["1005", "1017"])
def test_ammonia_and_chlorine_count_with_factor_20(un: str) -> None:
    result = assess([line(un, 50, "kg")])
    assert result.lines[0].multiplier == 20
    assert result.points == 1000
    assert result.exempt


def test_class_6_1_packing_group_iii_is_transport_category_2() -> None:
    result = assess([line("2811", 334, "kg", "III")])
    assert result.points == 1002
    assert not result.exempt


def test_exemption_holds_at_1000_points_and_ends_above() -> None:
    assert assess([line("1203", 333, "L", "II"), line("1202", 1, "L", "III")]).exempt  # 999 + 1
    assert not assess([line("1203", 333, "L", "II"), line("1202", 2, "L", "III")]).exempt  # 1001


def test_points_sum_over_the_lines() -> None:
    result = assess([line("1203", 100, "L", "II"), line("1428", 2, "kg", "I"), line("1202", 50, "L", "III")])
    assert result.points == 100 * 3 + 2 * 50 + 50
    assert result.exempt


def test_any_transport_category_0_line_ends_the_exemption() -> None:
    result = assess([line("2814", 0.1, "kg", name="animal material")])
    assert result.points == 0
    assert not result.exempt


def test_transport_category_4_alone_is_exempt() -> None:
    assert assess([line("3268", 5000, "kg")]).exempt


def test_tank_carriage_is_never_exempt() -> None:
    result = assess([line("1202", 100, "L", "III", carriage="tank", name="EN 590")])
    assert result.points == 100
    assert not result.exempt


# -- ADR 7.5.2.1 mixed loading by label ------------------------------------------------------------


def test_permitted_labels_load_together() -> None:
    # X cells: 3 with 8, 2 with 5.1, 6.1 with 9, 4.3 with 4.2
    result = assess(
        [line("1203", 10, "L", "II"), line("1830", 10, "L", "II"), line("1005", 1), line("1942", 10, "kg", "III")]
    )
    assert result.mixed_loading_violations == ()


def test_a_blank_cell_forbids_explosives_with_a_flammable_liquid() -> None:
    result = assess([line("0029", 1, "articles", mass_kg=1), line("1203", 10, "L", "II")])
    assert pairs(result) == {(0, 1, "ADR 7.5.2.1", None)}
    assert result.mixed_loading_violations[0].labels == ("1", "3")


def test_subsidiary_labels_count() -> None:
    # UN 1017 chlorine bears 2.3 + 5.1 + 8; 1.4G fireworks (note a) are not 1.4S
    result = assess([line("1017", 1), line("0336", 1, "articles", mass_kg=1)])
    violation = result.mixed_loading_violations[0]
    assert (violation.rule, violation.note) == ("ADR 7.5.2.1", "a")


def test_note_a_allows_1_4s_with_other_classes() -> None:
    assert assess([line("0012", 1, "articles", mass_kg=1), line("1203", 10, "L", "II")]).mixed_loading_violations == ()


def test_note_a_forbids_other_1_4_groups_with_other_classes() -> None:
    result = assess([line("0336", 1, "articles", mass_kg=1), line("1203", 10, "L", "II")])
    assert pairs(result) == {(0, 1, "ADR 7.5.2.1", "a")}


def test_note_b_allows_explosives_with_life_saving_appliances() -> None:
    assert (
        assess(
            [line("0029", 1, "articles", mass_kg=1), line("2990", 1, "articles", mass_kg=5)]
        ).mixed_loading_violations
        == ()
    )


def test_note_b_does_not_cover_other_class_9_goods() -> None:
    result = assess([line("0029", 1, "articles", mass_kg=1), line("3077", 10, "kg", "III")])
    assert pairs(result) == {(0, 1, "ADR 7.5.2.1", "b")}


def test_note_c_allows_pyrotechnic_with_electric_safety_devices() -> None:
    assert assess([line("0503", 1, "articles", mass_kg=1), line("3268", 1)]).mixed_loading_violations == ()


def test_notes_a_b_c_all_fail_for_1_4g_with_ordinary_class_9() -> None:
    result = assess([line("0336", 1, "articles", mass_kg=1), line("3077", 10, "kg", "III")])
    assert pairs(result) == {(0, 1, "ADR 7.5.2.1", "a,b,c")}


@pytest.mark.parametrize("explosive", ["0081", "0082", "0084", "0241"])
@pytest.mark.parametrize("nitrate", [("1942", "III"), ("2067", None), ("1486", "III"), ("1454", "III")])
def test_note_d_allows_blasting_explosives_with_nitrates(explosive: str, nitrate: tuple[str, str | None]) -> None:
    result = assess([line(explosive, 10), line(nitrate[0], 100, "kg", nitrate[1])])
    assert result.mixed_loading_violations == ()


def test_note_d_excludes_un_0083() -> None:
    result = assess([line("0083", 10), line("1942", 100, "kg", "III")])
    assert pairs(result) == {(0, 1, "ADR 7.5.2.1", "d")}
    assert "0083" in result.mixed_loading_violations[0].reason


def test_note_d_does_not_cover_other_explosives_or_oxidizers() -> None:
    assert pairs(assess([line("0029", 1, "articles", mass_kg=1), line("1942", 100, "kg", "III")])) == {
        (0, 1, "ADR 7.5.2.1", "d")
    }
    assert pairs(assess([line("0081", 10), line("1479", 10, "kg", "II")])) == {(0, 1, "ADR 7.5.2.1", "d")}


def test_note_d_counts_un_1477_only_as_rubidium_nitrate() -> None:
    assert pairs(assess([line("0081", 10), line("1477", 10, "kg", "II")]))
    assert not pairs(assess([line("0081", 10), line("1477", 10, "kg", "II", name="rubidium nitrate")]))


def test_4_1_with_subsidiary_1_loads_only_with_its_own_kind() -> None:
    assert pairs(assess([line("3221", 1, "kg"), line("1203", 10, "L", "II")])) == {(0, 1, "ADR 7.5.2.1", None)}
    assert assess([line("3221", 1, "kg"), line("3222", 1, "kg")]).mixed_loading_violations == ()


def test_5_2_with_subsidiary_1_loads_with_5_2() -> None:
    assert assess([line("3101", 1, "kg"), line("3103", 1, "kg")]).mixed_loading_violations == ()
    assert pairs(assess([line("3101", 1, "kg"), line("1830", 1, "L", "II")])) == {(0, 1, "ADR 7.5.2.1", None)}


def test_every_prohibited_pair_is_reported() -> None:
    result = assess([line("1203", 10, "L", "II"), line("0029", 1, "articles", mass_kg=1), line("1830", 10, "L", "II")])
    assert pairs(result) == {(0, 1, "ADR 7.5.2.1", None), (1, 2, "ADR 7.5.2.1", None)}


# -- ADR 7.5.2.2 Class 1 compatibility groups ------------------------------------------------------


def test_compatible_groups_load_together() -> None:
    # 1.1D with 1.3G (C–E–G block), 1.4S with anything but L
    result = assess([line("0081", 10), line("0335", 10), line("0012", 1, "articles", mass_kg=1)])
    assert result.mixed_loading_violations == ()


def test_incompatible_groups_are_refused_by_7_5_2_2() -> None:
    # detonators 1.1B with fireworks 1.3G
    result = assess([line("0029", 1, "articles", mass_kg=1), line("0335", 10)])
    assert pairs(result) == {(0, 1, "ADR 7.5.2.2", None)}
    assert result.mixed_loading_violations[0].labels == ("B", "G")


def test_b_with_d_needs_approved_compartments() -> None:
    result = assess([line("0029", 1, "articles", mass_kg=1), line("0081", 10)])
    assert pairs(result) == {(0, 1, "ADR 7.5.2.2", "a")}


def test_l_only_with_the_same_substance() -> None:
    # UN 0248 and 0249: water-activated contrivances, 1.2L and 1.3L
    assert (
        assess(
            [line("0248", 1, "articles", mass_kg=1), line("0248", 2, "articles", mass_kg=1)]
        ).mixed_loading_violations
        == ()
    )
    assert pairs(assess([line("0248", 1, "articles", mass_kg=1), line("0249", 1, "articles", mass_kg=1)])) == {
        (0, 1, "ADR 7.5.2.2", "d")
    }


def test_n_with_d_is_permitted_on_condition() -> None:
    result = assess([line("0486", 1, "articles", mass_kg=1), line("0081", 10)])
    assert result.mixed_loading_violations == ()
    assert [(c.rule, c.note) for c in result.mixed_loading_conditions] == [("ADR 7.5.2.2", "c")]


def test_explosives_subsidiary_labels_are_not_compared_with_other_explosives() -> None:
    # 1.2G smoke ammunition with 8 as subsidiary label, with 1.3G fireworks
    result = assess([line("0015", 1, "articles", name="containing corrosive", mass_kg=1), line("0335", 10)])
    assert result.mixed_loading_violations == ()


# -- ADR 8.6.4 tunnels ------------------------------------------------------------------------------

_TUNNEL_CASES = [
    # code, UN, PG, name, packages forbid, tank/bulk forbid
    ("B/D", "1965", None, None, ("D", "E"), ("B", "C", "D", "E")),
    ("B/E", "1428", "I", None, ("E",), ("B", "C", "D", "E")),
    ("C/D", "1005", None, None, ("D", "E"), ("C", "D", "E")),
    ("C/E", "1073", None, None, ("E",), ("C", "D", "E")),
    ("D/E", "1203", "II", None, ("E",), ("D", "E")),
    ("E", "1830", "II", None, ("E",), ("E",)),
]


@pytest.mark.parametrize(("code", "un", "pg", "name", "packages", "tank"), _TUNNEL_CASES)
def test_each_split_tunnel_code_by_carriage(
    code: str, un: str, pg: str | None, name: str | None, packages: tuple[str, ...], tank: tuple[str, ...]
) -> None:
    in_packages = assess([line(un, 5000, "L", pg, name=name)])
    in_tank = assess([line(un, 5000, "L", pg, name=name, carriage="tank")])
    assert (in_packages.tunnel_restriction_code, in_packages.forbidden_tunnel_categories) == (code, packages)
    assert (in_tank.tunnel_restriction_code, in_tank.forbidden_tunnel_categories) == (code, tank)


def test_d_e_in_bulk_is_forbidden_in_d_and_e() -> None:
    in_bulk = assess([line("1361", 30000, "kg", "II", carriage="bulk")])  # carbon, animal or vegetable origin
    in_packages = assess([line("1361", 30000, "kg", "II")])
    assert in_bulk.tunnel_restriction_code == in_packages.tunnel_restriction_code == "D/E"
    assert in_bulk.forbidden_tunnel_categories == ("D", "E")
    assert in_packages.forbidden_tunnel_categories == ("E",)
    assert [(p.hazard_identification_number, p.un_number) for p in in_bulk.orange_plates if p.kind == "numbered"] == [
        ("40", "1361")
    ]


@pytest.mark.parametrize(
    ("code", "forbidden"),
    [("B", ("B", "C", "D", "E")), ("C", ("C", "D", "E")), ("D", ("D", "E")), ("E", ("E",)), ("-", ())],
)
def test_fixed_tunnel_codes(code: str, forbidden: tuple[str, ...]) -> None:
    entry_codes = tunnel_codes().codes[code]
    assert entry_codes.forbidden_categories(carriage="packages", net_explosive_mass_kg=0) == forbidden
    assert entry_codes.forbidden_categories(carriage="tank", net_explosive_mass_kg=0) == forbidden


def test_b1000c_depends_on_the_net_explosive_mass() -> None:
    small = assess([line("0081", 1000)])
    large = assess([line("0081", 1000), line("0084", 1)])
    assert (small.tunnel_restriction_code, small.forbidden_tunnel_categories) == ("B1000C", ("C", "D", "E"))
    assert (large.tunnel_restriction_code, large.forbidden_tunnel_categories) == ("B1000C", ("B", "C", "D", "E"))


def test_c5000d_depends_on_the_net_explosive_mass() -> None:
    small = assess([line("0335", 5000)])
    large = assess([line("0335", 5001)])
    assert small.forbidden_tunnel_categories == ("D", "E")
    assert large.forbidden_tunnel_categories == ("C", "D", "E")


def test_a_fixed_d_code_applies_to_a_load_with_it() -> None:
    result = assess([line("1057", 100, "articles", mass_kg=400)])  # lighters
    assert (result.tunnel_restriction_code, result.forbidden_tunnel_categories) == ("D", ("D", "E"))


def test_a_fixed_b_code_forbids_b_to_e() -> None:
    result = assess([line("0248", 1, "articles", mass_kg=1)])
    assert (result.tunnel_restriction_code, result.forbidden_tunnel_categories) == ("B", ("B", "C", "D", "E"))


def test_the_most_restrictive_code_of_the_load_applies() -> None:
    result = assess([line("1830", 2000, "L", "II"), line("1005", 100)])  # E and C/D in packages
    assert (result.tunnel_restriction_code, result.forbidden_tunnel_categories) == ("C/D", ("D", "E"))


def test_a_tank_line_makes_its_split_code_stricter_than_a_fixed_one() -> None:
    # C/E in packages forbids only E, D forbids D and E: D is the more restrictive
    packages = assess([line("1073", 2000, "L"), line("1057", 100, "articles", mass_kg=400)])
    assert (packages.tunnel_restriction_code, packages.forbidden_tunnel_categories) == ("D", ("D", "E"))


def test_an_exempt_load_has_no_tunnel_restriction() -> None:
    result = assess([line("1203", 100, "L", "II")])
    assert result.exempt
    assert (result.tunnel_restriction_code, result.forbidden_tunnel_categories) == (None, ())
    assert result.lines[0].forbidden_tunnel_categories == ("E",)


# -- plates and qualifications ---------------------------------------------------------------------


def test_a_petrol_tanker_shows_33_over_1203_and_needs_fl() -> None:
    result = assess([line("1203", 20000, "L", "II", carriage="tank")])
    kinds = [(p.kind, p.hazard_identification_number, p.un_number) for p in result.orange_plates]
    assert kinds == [("plain", None, None), ("numbered", "33", "1203")]
    assert result.orange_plates[1].meaning == "highly flammable liquid (flash-point below 23 C)"
    qualifications = result.required_qualifications
    assert "FL" in [q.code for q in qualifications.vehicle]
    assert [q.code for q in qualifications.driver] == ["ADR_BASIC", "ADR_TANK"]
    assert [q.code for q in qualifications.escort] == ["CN_ESCORT"]


def test_a_chlorine_tank_shows_265_and_needs_at() -> None:
    result = assess([line("1017", 10000, "kg", carriage="tank")])
    assert [(p.hazard_identification_number, p.un_number) for p in result.orange_plates if p.kind == "numbered"] == [
        ("265", "1017")
    ]
    assert "AT" in [q.code for q in result.required_qualifications.vehicle]


def test_packages_above_the_limit_show_plain_plates_only() -> None:
    result = assess([line("1203", 2000, "L", "II"), line("1830", 500, "L", "II")])
    assert [p.kind for p in result.orange_plates] == ["plain"]
    assert [q.code for q in result.required_qualifications.vehicle] == ["CN_DG_VEHICLE"]


def test_an_exempt_load_needs_no_plates_driver_certificate_or_escort() -> None:
    result = assess([line("1203", 100, "L", "II")])
    assert result.orange_plates == ()
    assert [q.code for q in result.required_qualifications.driver] == ["AWARENESS"]
    assert result.required_qualifications.escort == ()


def test_explosives_and_radioactive_material_need_driver_specialisations() -> None:
    result = assess([line("0081", 100), line("0012", 100, "articles", mass_kg=100)])
    assert "ADR_CLASS_1" in [q.code for q in result.required_qualifications.driver]
    assert "EX/II or EX/III" in [q.code for q in result.required_qualifications.vehicle]
    radioactive = assess([line("2915", 10), line("1203", 2000, "L", "II")])
    assert "ADR_CLASS_7" in [q.code for q in radioactive.required_qualifications.driver]
