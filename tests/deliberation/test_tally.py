"""The counting rules as pure functions: Civil Code art. 278 at its boundaries, one person one ballot."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shequ.deliberation.tally import owners_result, residents_result

YES, NO, ABSTAIN = "yes", "no", "abstain"


def units(*specs: tuple[int, str, str]) -> list[dict]:
    return [{"unit": u, "area": area, "owner_key": key} for u, area, key in specs]


def hundreds(n: int) -> list[dict]:
    """``n`` units of 100 m², each with its own owner."""
    return units(*[(i, "100.00", f"p{i}") for i in range(n)])


# --- Quorum: 2/3 of the area and 2/3 of the heads, the bound included ("以上") ----------------------


def test_exactly_two_thirds_by_area_and_heads_meets_the_quorum():
    # given three owners of 100 m²; when two take part: 200/300 m² and 2/3 heads, exactly
    result = owners_result(units=hundreds(3), ballots=[(0, YES), (1, YES)], matter="ordinary")
    # then the quorum is met at its bound, and the result states the fractions it compared
    assert result["quorum"]["area"]["share"] == {"exact": "2/3", "percent": "66.67"}
    assert result["quorum"]["area"] | {"share": None} == {"share": None, "threshold": "2/3", "bound": "at_least",
                                                          "met": True}
    assert result["quorum"]["heads"]["share"]["exact"] == "2/3"
    assert result["quorum"]["met"] is True
    assert result["carried"] is True


def test_just_under_two_thirds_of_the_area_fails_the_quorum():
    # given 100 + 100 + 100.01 m²: the two smaller units hold 200/300.01 < 2/3 although 2/3 of the heads
    layout = units((0, "100.00", "p0"), (1, "100.00", "p1"), (2, "100.01", "p2"))
    result = owners_result(units=layout, ballots=[(0, YES), (1, YES)], matter="ordinary")
    assert result["quorum"]["area"]["share"]["exact"] == "20000/30001"
    assert result["quorum"]["area"]["met"] is False
    assert result["quorum"]["heads"]["met"] is True
    assert result["carried"] is False


def test_just_under_two_thirds_of_the_heads_fails_the_quorum_even_with_the_area():
    # given four owners, two large: 300/400 m² take part but only 2 of 4 heads (1/2 < 2/3)
    layout = units((0, "150", "p0"), (1, "150", "p1"), (2, "50", "p2"), (3, "50", "p3"))
    result = owners_result(units=layout, ballots=[(0, YES), (1, YES)], matter="ordinary")
    assert result["quorum"]["area"]["met"] is True
    assert result["quorum"]["heads"] == {"share": {"exact": "1/2", "percent": "50.00"}, "threshold": "2/3",
                                         "bound": "at_least", "met": False}
    assert result["carried"] is False


def test_abstentions_count_as_participation():
    result = owners_result(units=hundreds(3), ballots=[(0, YES), (1, ABSTAIN), (2, ABSTAIN)], matter="ordinary")
    assert result["quorum"]["met"] is True
    assert result["heads"]["participating"] == 3
    assert result["approval"]["area"]["share"]["exact"] == "1/3"
    assert result["carried"] is False


# --- Approval: ordinary > 1/2 strictly ("过半数"); major ≥ 3/4 ("以上") --------------------------------


def test_exactly_half_for_an_ordinary_matter_fails():
    # given four owners of 100 m², all take part; two say yes: 200/400 m² and 2/4 heads, exactly half
    result = owners_result(units=hundreds(4), ballots=[(0, YES), (1, YES), (2, NO), (3, NO)], matter="ordinary")
    assert result["quorum"]["met"] is True
    assert result["approval"]["area"] == {"share": {"exact": "1/2", "percent": "50.00"}, "threshold": "1/2",
                                          "bound": "more_than", "met": False}
    assert result["approval"]["heads"]["met"] is False
    assert result["carried"] is False


def test_just_over_half_for_an_ordinary_matter_carries():
    layout = units((0, "100.01", "p0"), (1, "100", "p1"), (2, "100", "p2"))
    result = owners_result(units=layout, ballots=[(0, YES), (1, YES), (2, NO)], matter="ordinary")
    assert result["approval"]["area"]["met"] is True
    assert result["approval"]["heads"]["share"]["exact"] == "2/3"
    assert result["carried"] is True


def test_half_the_area_but_a_majority_of_heads_still_fails():
    # yes holds 200 of 400 m² (exactly half) with 2 of 3 heads: both majorities are needed
    layout = units((0, "100", "p0"), (1, "100", "p1"), (2, "200", "p2"))
    result = owners_result(units=layout, ballots=[(0, YES), (1, YES), (2, NO)], matter="ordinary")
    assert result["approval"]["heads"]["met"] is True
    assert result["approval"]["area"]["met"] is False
    assert result["carried"] is False


def test_exactly_three_quarters_for_a_major_matter_carries():
    result = owners_result(units=hundreds(4), ballots=[(0, YES), (1, YES), (2, YES), (3, NO)], matter="major")
    assert result["approval"]["area"] == {"share": {"exact": "3/4", "percent": "75.00"}, "threshold": "3/4",
                                          "bound": "at_least", "met": True}
    assert result["approval"]["heads"]["share"]["exact"] == "3/4"
    assert result["carried"] is True


def test_just_under_three_quarters_for_a_major_matter_fails():
    layout = units((0, "100", "p0"), (1, "100", "p1"), (2, "100", "p2"), (3, "100.01", "p3"))
    result = owners_result(units=layout, ballots=[(0, YES), (1, YES), (2, YES), (3, NO)], matter="major")
    assert result["approval"]["area"]["share"]["exact"] == "30000/40001"
    assert result["approval"]["area"]["met"] is False
    assert result["approval"]["heads"]["met"] is True
    assert result["carried"] is False


# --- Heads: one per owner key ------------------------------------------------------------------------


ESTATE = units(
    (1, "80.50", "p1"), (2, "80.50", "p1"),      # 张 owns two units: one head, 161 m²
    (3, "100.00", "p2"),                          # 李
    (4, "60.00", "p3+p4"),                        # 王 and 赵 co-own: one head
    (5, "90.00", "o9"), (6, "70.00", "o9"),       # the developer's unsold units: one head
)


def test_a_multi_unit_owner_counts_once_with_the_summed_area():
    result = owners_result(units=ESTATE, ballots=[(1, YES), (2, YES)], matter="ordinary")
    assert result["heads"]["total"] == 4
    assert result["area"]["total"] == {"exact": "481/1", "display": "481.00"}
    assert result["heads"]["participating"] == 1
    assert result["area"]["participating"] == {"exact": "161/1", "display": "161.00"}


def test_developer_units_are_one_head():
    result = owners_result(units=ESTATE, ballots=[(5, NO), (6, NO)], matter="ordinary")
    assert result["heads"]["no"] == 1
    assert result["area"]["no"]["exact"] == "160/1"


def test_estate_three_of_four_owners_say_yes():
    # 张 (161) + 李 (100) + 王/赵 (60) = 321 m²; 321/481 ≥ 2/3 (2/3 × 481 = 320.67) and 3/4 heads
    result = owners_result(units=ESTATE, ballots=[(1, YES), (2, YES), (3, YES), (4, YES)], matter="ordinary")
    assert result["quorum"]["area"]["share"]["exact"] == "321/481"
    assert Fraction(321, 481) >= Fraction(2, 3)
    assert result["quorum"]["heads"]["share"]["exact"] == "3/4"
    assert result["carried"] is True


def test_a_head_whose_units_disagree_is_split_and_approves_nothing_by_headcount():
    result = owners_result(units=ESTATE, ballots=[(1, YES), (2, NO), (3, YES), (4, NO), (5, NO), (6, NO)],
                           matter="ordinary")
    assert result["heads"] | {} == {"total": 4, "participating": 4, "yes": 1, "no": 2, "abstain": 0, "split": 1}
    assert result["area"]["yes"]["exact"] == "361/2"  # 80.50 + 100


def test_ballots_outside_the_electorate_are_ignored_and_duplicates_refused():
    result = owners_result(units=hundreds(2), ballots=[(0, YES), (99, YES)], matter="ordinary")
    assert result["ignored_ballots"] == 1
    with pytest.raises(ValueError):
        owners_result(units=hundreds(2), ballots=[(0, YES), (0, NO)], matter="ordinary")


def test_nobody_voting_carries_nothing():
    result = owners_result(units=hundreds(3), ballots=[], matter="major")
    assert result["quorum"]["met"] is False
    assert result["approval"]["area"]["share"]["exact"] == "0/1"
    assert result["carried"] is False


@settings(max_examples=60, deadline=None)
@given(
    areas=st.lists(st.decimals(min_value="0.01", max_value="500", places=2), min_size=1, max_size=12),
    owners=st.lists(st.integers(min_value=0, max_value=4), min_size=12, max_size=12),
    meanings=st.lists(st.sampled_from([YES, NO, ABSTAIN, None]), min_size=12, max_size=12),
    matter=st.sampled_from(["ordinary", "major"]),
    data=st.data(),
)
def test_owners_result_does_not_depend_on_the_order_of_ballots(areas, owners, meanings, matter, data):
    layout = units(*[(i, str(a), f"p{owners[i]}") for i, a in enumerate(areas)])
    ballots = [(i, meanings[i]) for i in range(len(areas)) if meanings[i] is not None]
    shuffled = data.draw(st.permutations(ballots))
    assert owners_result(units=layout, ballots=shuffled, matter=matter) == owners_result(
        units=list(reversed(layout)), ballots=ballots, matter=matter)


# --- Residents: one person, one ballot ---------------------------------------------------------------


OPTS = [{"option": 1, "label": "同意", "meaning": YES}, {"option": 2, "label": "反对", "meaning": NO},
        {"option": 3, "label": "弃权", "meaning": ABSTAIN}]


def test_residents_quorum_at_half_is_met_and_a_tie_fails_a_strict_majority():
    result = residents_result(eligible_count=8, ballots=[(1, YES), (1, YES), (2, NO), (2, NO)],
                              quorum=Fraction(1, 2), majority=Fraction(1, 2), strict=True, options=OPTS)
    assert result["quorum"]["met"] is True
    assert result["approval"]["met"] is False
    assert [o["count"] for o in result["options"]] == [2, 2, 0]
    assert result["carried"] is False


def test_residents_majority_at_least_passes_at_the_bound():
    result = residents_result(eligible_count=4, ballots=[(1, YES), (1, YES), (2, NO), (3, ABSTAIN)],
                              quorum=Fraction(1, 2), majority=Fraction(1, 2), strict=False, options=OPTS)
    assert result["approval"]["share"]["exact"] == "1/2"
    assert result["carried"] is True


def test_residents_choice_vote_needs_a_single_option_over_the_majority():
    choices = [{"option": 7, "label": "方案一", "meaning": "choice"},
               {"option": 8, "label": "方案二", "meaning": "choice"}]
    won = residents_result(eligible_count=3, ballots=[(7, "choice"), (7, "choice"), (8, "choice")],
                           quorum=Fraction(1, 2), majority=Fraction(1, 2), strict=True, options=choices)
    tie = residents_result(eligible_count=4, ballots=[(7, "choice"), (8, "choice")],
                           quorum=Fraction(1, 2), majority=Fraction(1, 2), strict=False, options=choices)
    assert (won["winner"], won["carried"]) == (7, True)
    assert (tie["winner"], tie["carried"]) == (None, False)
