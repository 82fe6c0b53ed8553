"""District prosecutorial policy: who is prosecuted, what is charged, which plea offers are made.

Every district reads the same uniforms for the same decision (common random numbers, see
:mod:`sim.streams`): a defendant whose ``policy.prosecute`` uniform is 0.3 is prosecuted in every
district whose probability for him exceeds 0.3, and offer ``k``'s uniforms are those of position
``k`` in every district. Only policy differs between districts.

Decision sequence for one defendant in one district:

1. **Prosecution.** Eligible under the district's rule (``all``; ``section_1326b``: deported after
   a felony, an aggravated felony or three misdemeanors involving drugs or crimes against the
   person, 8 U.S.C. § 1326(b)(1)-(2) as amended Sept 13, 1994; ``aggravated_felony``) and
   ``U_prosecute < probability``. Otherwise declined: no federal sentence.
2. **Charge.** The § 1326 subsection the record supports: (b)(2) after an aggravated felony,
   (b)(1) after another felony or three such misdemeanors, else (a) (seed opinion, dissent: C.D.
   Cal. charged (b)(1)/(b)(2)).
3. **Offers**, in the order declared: the first offer the defendant is eligible for that is
   extended (``U_offer_extended[k] < offer_probability``) and accepted
   (``U_offer_accepted[k] < acceptance_probability``) applies: a charge bargain (a conviction
   with a lower maximum), a stipulated sentence cap, and/or early-disposition levels.
4. **No deal.** Pleads guilty (``U_plea < plea_probability``; acceptance levels as declared) or
   goes to trial (no acceptance reduction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from sim.guidelines.casefile import Category, Conviction
from sim.guidelines.groups import segment_any, segment_count, segment_max, segment_reduce
from sim.guidelines.records import CONVICTIONS, PRIOR_KINDS, Defendants, kind_code
from sim.guidelines.table import CATEGORY_NAMES
from sim.parameters import Parameter, Probability, StrictModel

__all__ = [
    "MAX_OFFERS",
    "Disposition",
    "DistrictPolicy",
    "Eligibility",
    "Offer",
    "PolicyUniforms",
    "Prosecution",
    "RecordFacts",
    "apply_policy",
    "record_facts",
    "statutory_charge",
]

#: Offers a district may declare; each position has its own uniforms (CRN across districts).
MAX_OFFERS = 8

PriorKind = Literal[PRIOR_KINDS]


class Eligibility(StrictModel):
    """Who may receive an offer. Every stated condition must hold."""

    exclude_prior_kinds: list[PriorKind] = Field(default_factory=list)
    max_criminal_history_category: Category | None = None
    min_criminal_history_category: Category | None = None
    max_prior_removals: Annotated[int, Field(ge=0)] | None = None
    max_prior_sentence_months: Annotated[float, Field(ge=0)] | None = None
    aggravated_felony: Literal["any", "required", "excluded"] = "any"


class Offer(StrictModel):
    """A plea offer: a charge bargain, a sentence cap, and/or early-disposition levels."""

    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    eligibility: Eligibility = Field(default_factory=Eligibility)
    conviction: Conviction | None = None
    sentence_cap_months: Parameter | None = None
    early_disposition_levels: (
        Annotated[int, Field(ge=0, le=4)] | dict[Category, Annotated[int, Field(ge=0, le=4)]]
    ) = 0
    acceptance_levels: Literal[0, 2, 3] = 3
    offer_probability: Probability
    acceptance_probability: Probability

    @model_validator(mode="after")
    def _does_something(self) -> Offer:
        levels = self.early_disposition_levels
        gives_levels = any(levels.values()) if isinstance(levels, dict) else levels > 0
        if self.conviction is None and self.sentence_cap_months is None and not gives_levels:
            raise ValueError(
                f"offer {self.name!r} changes nothing: give a conviction, a sentence_cap_months "
                "or early_disposition_levels"
            )
        if self.sentence_cap_months is not None and self.sentence_cap_months.value < 0:
            raise ValueError(
                f"offer {self.name!r}: sentence_cap_months {self.sentence_cap_months.value} is "
                "below zero; allowed: 0 or more months"
            )
        return self


class Prosecution(StrictModel):
    """Which arrested defendants the U.S. Attorney prosecutes under § 1326."""

    eligible: Literal["all", "section_1326b", "aggravated_felony"] = "all"
    probability: Probability


class DistrictPolicy(StrictModel):
    """One district's prosecutorial policy."""

    name: Annotated[str, Field(min_length=1)]
    caseload_weight: Parameter
    prosecution: Prosecution
    offers: Annotated[list[Offer], Field(max_length=MAX_OFFERS)] = Field(default_factory=list)
    plea_probability: Probability
    plea_acceptance_levels: Literal[0, 2, 3] = 3

    @model_validator(mode="after")
    def _weight(self) -> DistrictPolicy:
        if self.caseload_weight.value < 0:
            raise ValueError(
                f"caseload_weight {self.caseload_weight.value} is below zero; allowed: 0 or more"
            )
        return self


@dataclass(frozen=True)
class RecordFacts:
    """What a policy may look at, per defendant (arrays of shape (n,))."""

    criminal_history_category: np.ndarray  # int8, 1-6
    prior_kinds_mask: np.ndarray  # int64 bit k set when a prior of PRIOR_KINDS[k] exists
    aggravated_felony: np.ndarray  # bool, deported after an aggravated felony
    section_1326b: np.ndarray  # bool, deported after a felony or three qualifying misdemeanors
    max_prior_sentence_months: np.ndarray  # float64, 0 without priors
    prior_removals: np.ndarray  # int


@dataclass(frozen=True)
class PolicyUniforms:
    """The uniforms of the policy decisions, shared by every district."""

    prosecute: np.ndarray  # (n,)
    offer_extended: np.ndarray  # (n, MAX_OFFERS)
    offer_accepted: np.ndarray  # (n, MAX_OFFERS)
    plea: np.ndarray  # (n,)


@dataclass(frozen=True)
class Disposition:
    """One district's disposition of each defendant (arrays of shape (n,)).

    ``offer`` is the index of the applied offer or -1; ``sentence_cap_months`` is ``inf`` without a
    stipulated cap. For declined defendants the other fields are meaningless.
    """

    prosecuted: np.ndarray
    offer: np.ndarray
    conviction: np.ndarray
    acceptance_levels: np.ndarray
    early_disposition_levels: np.ndarray
    sentence_cap_months: np.ndarray
    pleaded: np.ndarray


def _category_number(name: str | None, default: int) -> int:
    return default if name is None else CATEGORY_NAMES.index(name)


def _eligible(eligibility: Eligibility, facts: RecordFacts) -> np.ndarray:
    category = facts.criminal_history_category
    ok = (category >= _category_number(eligibility.min_criminal_history_category, 1)) & (
        category <= _category_number(eligibility.max_criminal_history_category, 6)
    )
    if eligibility.exclude_prior_kinds:
        mask = sum(1 << kind_code(kind) for kind in set(eligibility.exclude_prior_kinds))
        ok &= (facts.prior_kinds_mask & mask) == 0
    if eligibility.max_prior_removals is not None:
        ok &= facts.prior_removals <= eligibility.max_prior_removals
    if eligibility.max_prior_sentence_months is not None:
        ok &= facts.max_prior_sentence_months <= eligibility.max_prior_sentence_months
    if eligibility.aggravated_felony == "required":
        ok &= facts.aggravated_felony
    elif eligibility.aggravated_felony == "excluded":
        ok &= ~facts.aggravated_felony
    return ok


def _offer_levels(offer: Offer, category: np.ndarray) -> np.ndarray:
    levels = offer.early_disposition_levels
    if isinstance(levels, dict):
        by_category = np.zeros(7, dtype=np.int8)
        for name, value in levels.items():
            by_category[CATEGORY_NAMES.index(name)] = value
        return by_category[category]
    return np.full(len(category), levels, dtype=np.int8)


def statutory_charge(facts: RecordFacts) -> np.ndarray:
    """The § 1326 subsection each record supports (index into CONVICTIONS)."""
    return np.select(
        [facts.aggravated_felony, facts.section_1326b],
        [CONVICTIONS.index("1326(b)(2)"), CONVICTIONS.index("1326(b)(1)")],
        CONVICTIONS.index("1326(a)"),
    ).astype(np.int8)


def apply_policy(policy: DistrictPolicy, facts: RecordFacts, u: PolicyUniforms) -> Disposition:
    """Route every defendant through one district's policy.

    Parameters
    ----------
    policy : DistrictPolicy
    facts : RecordFacts
        Per-defendant record facts, shape (n,).
    u : PolicyUniforms
        The decision uniforms, identical for every district.

    Returns
    -------
    Disposition
    """
    n = len(facts.criminal_history_category)
    rule = policy.prosecution.eligible
    eligible = (
        np.ones(n, dtype=bool)
        if rule == "all"
        else (facts.section_1326b if rule == "section_1326b" else facts.aggravated_felony)
    )
    prosecuted = eligible & (u.prosecute < policy.prosecution.probability.value)

    conviction = statutory_charge(facts)
    pleaded = u.plea < policy.plea_probability.value
    acceptance = np.where(pleaded, policy.plea_acceptance_levels, 0).astype(np.int8)
    early = np.zeros(n, dtype=np.int8)
    cap = np.full(n, np.inf)
    applied = np.full(n, -1, dtype=np.int8)
    for k, offer in enumerate(policy.offers):
        takes = (
            (applied < 0)
            & _eligible(offer.eligibility, facts)
            & (u.offer_extended[:, k] < offer.offer_probability.value)
            & (u.offer_accepted[:, k] < offer.acceptance_probability.value)
        )
        applied[takes] = k
        if offer.conviction is not None:
            conviction[takes] = CONVICTIONS.index(offer.conviction)
        if offer.sentence_cap_months is not None:
            cap[takes] = offer.sentence_cap_months.value
        early[takes] = _offer_levels(offer, facts.criminal_history_category)[takes]
        acceptance[takes] = offer.acceptance_levels
        pleaded |= takes
    return Disposition(prosecuted, applied, conviction, acceptance, early, cap, pleaded)


_DRUG_OR_PERSON_MISDEMEANOR_KINDS = (
    "misdemeanor_drug",
    "misdemeanor_violent",
    "drug_trafficking",
    "crime_of_violence",
)


def record_facts(
    defendants: Defendants, category: np.ndarray, prior_removals: np.ndarray
) -> RecordFacts:
    """The facts a policy reads, from the records and their criminal history categories.

    Parameters
    ----------
    defendants : Defendants
        ``n`` records.
    category : ndarray of int, shape (n,)
        Criminal history category (1-6) as the guidelines compute it.
    prior_removals : ndarray of int, shape (n,)
    """
    n = len(defendants)
    pr = defendants.priors
    owner = defendants.prior_owner
    removed_after = pr.removed_after_conviction
    kinds_mask = segment_reduce(
        np.bitwise_or,
        np.left_shift(np.int64(1), pr.kind.astype(np.int64)),
        defendants.prior_offsets,
    )
    aggravated = segment_any(removed_after & pr.aggravated_felony, owner, n)
    # 8 U.S.C. § 1326(b)(1) (as amended Sept 13, 1994): "three or more misdemeanors involving
    # drugs, crimes against the person, or both, or a felony (other than an aggravated felony)".
    qualifying_misdemeanor = (
        removed_after
        & ~pr.felony
        & np.isin(pr.kind, [kind_code(k) for k in _DRUG_OR_PERSON_MISDEMEANOR_KINDS])
    )
    section_1326b = (
        aggravated
        | segment_any(removed_after & pr.felony, owner, n)
        | (segment_count(qualifying_misdemeanor, owner, n) >= 3)
    )
    return RecordFacts(
        criminal_history_category=category,
        prior_kinds_mask=kinds_mask,
        aggravated_felony=aggravated,
        section_1326b=section_1326b,
        max_prior_sentence_months=segment_max(
            pr.sentence_imposed_months, defendants.prior_offsets, empty=0.0
        ),
        prior_removals=prior_removals,
    )
