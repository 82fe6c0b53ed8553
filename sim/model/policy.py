"""District prosecutorial policy: who is prosecuted, what is charged, which plea offers are made.

Every district reads the same uniforms for the same decision (common random numbers, see
:mod:`sim.run.streams`): a defendant whose ``policy.prosecute`` uniform is 0.3 is prosecuted in
every district whose probability for him exceeds 0.3, and offer ``k``'s uniforms are those of
position ``k`` in every district. Only policy differs between districts.

Decision sequence for one defendant in one district:

1. **Prosecution.** Eligible under the district's rule (``all``; ``section_1326b``: deported after
   a felony, an aggravated felony or three misdemeanors involving drugs or crimes against the
   person, 8 U.S.C. § 1326(b)(1)-(2) as amended Sept 13, 1994; ``felony``: deported after a
   felony or an aggravated felony, the same without the three-misdemeanour limb, the dissent's
   reading of C.D. Cal.; ``aggravated_felony``) and ``U_prosecute < probability``. Otherwise
   declined: no § 1326 sentence; what becomes of him (administrative removal, state referral or a
   § 1325 misdemeanor) is read off the ``policy.declined`` uniform, shared by every district.
2. **Charge.** The § 1326 subsection the record supports: (b)(2) after an aggravated felony,
   (b)(1) after another felony or three such misdemeanors, else (a) (seed opinion, dissent: C.D.
   Cal. charged (b)(1)/(b)(2)).
3. **Offers**, in the order declared: the first offer the defendant is eligible for that is
   extended (``U_offer_extended[k] < offer_probability``) and accepted
   (``U_offer_accepted[k] < acceptance_probability``) applies: a charge bargain (a conviction
   with a lower maximum), a stipulated sentence cap or floor, an exact stipulated sentence
   (Fed. R. Crim. P. 11(c)(1)(C)), and/or early-disposition levels.
4. **No deal.** Pleads guilty (``U_plea < plea_probability``; acceptance levels as declared) or
   goes to trial (no acceptance reduction).
"""

from __future__ import annotations

from typing import Annotated, Literal, NamedTuple

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from sim.guidelines.casefile import Category, Conviction, Months
from sim.guidelines.durations import NEVER, months
from sim.guidelines.records import CONVICTIONS, PRIOR_KINDS, Dispositions, Records, kind_code
from sim.guidelines.table import CATEGORY_NAMES
from sim.model.judge import JudgeConfig
from sim.model.parameters import Months as MonthsParameter
from sim.model.parameters import Probability, StrictModel, Weight
from sim.model.population import PopulationParameters

__all__ = [
    "DECLINED_OUTCOMES",
    "MAX_OFFERS",
    "SECTION_1325_MAX_MONTHS",
    "Declined",
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
    max_prior_sentence_months: Months | None = None
    aggravated_felony: Literal["any", "required", "excluded"] = "any"
    #: What the rule rests on; a rule no source supports says ``assumption: true``.
    source: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    assumption: bool = False

    @model_validator(mode="after")
    def _documented(self) -> Eligibility:
        if self.assumption and self.source is None:
            raise ValueError(
                "assumption: true needs a source saying whose guess the rule is and why"
            )
        return self

    @property
    def conditions(self) -> dict[str, object]:
        """The stated conditions (what the rule is, without its source)."""
        return self.model_dump(mode="json", exclude={"source", "assumption"}, exclude_defaults=True)

    @property
    def undocumented(self) -> bool:
        """States conditions but no source: listed as an assumption (sim.model.scenario)."""
        return self.source is None and bool(self.conditions)


class Offer(StrictModel):
    """A plea offer: a charge bargain, a sentence cap, and/or early-disposition levels."""

    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    eligibility: Eligibility = Field(default_factory=Eligibility)
    conviction: Conviction | None = None
    sentence_cap_months: MonthsParameter | None = None
    #: A stipulated floor: the judge may not go below it (the sentence still never exceeds the
    #: statutory maximum of the conviction).
    sentence_floor_months: MonthsParameter | None = None
    #: An exact stipulated sentence (Fed. R. Crim. P. 11(c)(1)(C)): once the court accepts the
    #: plea it imposes this sentence, whatever the range, up to the statutory maximum.
    stipulated_sentence_months: MonthsParameter | None = None
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
        terms = (
            self.conviction,
            self.sentence_cap_months,
            self.sentence_floor_months,
            self.stipulated_sentence_months,
        )
        if all(term is None for term in terms) and not gives_levels:
            raise ValueError(
                f"offer {self.name!r} changes nothing: give a conviction, a sentence_cap_months, "
                "a sentence_floor_months, a stipulated_sentence_months or early_disposition_levels"
            )
        for name in ("sentence_floor_months", "stipulated_sentence_months"):
            term = getattr(self, name)
            if term is not None and term.value != int(term.value):
                raise ValueError(
                    f"{name} {term.value} is not a whole number; allowed: whole months "
                    "(sentences are imposed in whole months)"
                )
        if self.stipulated_sentence_months is not None and (
            self.sentence_cap_months is not None or self.sentence_floor_months is not None
        ):
            raise ValueError(
                f"offer {self.name!r}: a stipulated_sentence_months is the exact sentence; "
                "allowed: it alone, or a sentence_cap_months and/or sentence_floor_months"
            )
        cap, floor = self.sentence_cap_months, self.sentence_floor_months
        if cap is not None and floor is not None and floor.value > cap.value:
            raise ValueError(
                f"offer {self.name!r}: sentence_floor_months {floor.value:g} exceeds "
                f"sentence_cap_months {cap.value:g}; allowed: a floor at most the cap"
            )
        return self


#: 8 U.S.C. § 1325(a): a first improper entry is a misdemeanor punishable by at most six months.
SECTION_1325_MAX_MONTHS = 6

#: What becomes of a declined defendant, in code order (the tallies' last axis).
DECLINED_OUTCOMES = ("administrative_removal", "state_referral", "section_1325")

_DEFAULT_DECLINED_SOURCE = (
    "Default when prosecution.declined is absent: every declined defendant is removed "
    "administratively (no federal sentence); no source gives the split, so it is an assumption."
)


class Declined(StrictModel):
    """What becomes of a defendant the district declines to prosecute under § 1326: removed
    administratively, referred to the state, or charged with the § 1325 misdemeanor (Operation
    Streamline-style). Reported as its own category, never as a § 1326 sentence of 0 months.
    The shares sum to 1."""

    administrative_removal: Probability
    state_referral: Probability
    section_1325: Probability
    #: The § 1325 misdemeanor sentence, whole months, at most six (8 U.S.C. § 1325(a)).
    section_1325_months: MonthsParameter

    @model_validator(mode="after")
    def _shares(self) -> Declined:
        total = self.administrative_removal.value + self.state_referral.value
        total += self.section_1325.value
        if abs(total - 1.0) > 1e-9:
            raise ValueError(
                f"administrative_removal + state_referral + section_1325 = {total:.12g}; "
                "allowed: shares summing to 1"
            )
        months = self.section_1325_months.value
        if months > SECTION_1325_MAX_MONTHS or months != int(months):
            raise ValueError(
                f"section_1325_months {months:g}; allowed: whole months, 0-"
                f"{SECTION_1325_MAX_MONTHS} (8 U.S.C. § 1325(a))"
            )
        return self

    @classmethod
    def default(cls) -> Declined:
        """Every declined defendant removed administratively: a labelled assumption."""

        def share(value: float, assumption: bool) -> dict[str, object]:
            return {
                "value": value,
                "unit": "share",
                "source": _DEFAULT_DECLINED_SOURCE,
                "assumption": assumption,
            }

        return cls.model_validate(
            {
                "administrative_removal": share(1.0, True),
                "state_referral": share(0.0, False),
                "section_1325": share(0.0, False),
                "section_1325_months": {**share(0.0, False), "unit": "months"},
            }
        )


class Prosecution(StrictModel):
    """Which arrested defendants the U.S. Attorney prosecutes under § 1326, and what becomes of
    those declined."""

    eligible: Literal["all", "section_1326b", "felony", "aggravated_felony"] = "all"
    probability: Probability
    declined: Declined = Field(default_factory=Declined.default)


class DistrictPolicy(StrictModel):
    """One district's prosecutorial policy, and optionally its own judge (the scenario's
    top-level ``judge`` sentences where none is given) and its own population (of the
    defendants arrested there)."""

    name: Annotated[str, Field(min_length=1)]
    caseload_weight: Weight
    prosecution: Prosecution
    offers: Annotated[list[Offer], Field(max_length=MAX_OFFERS)] = Field(default_factory=list)
    plea_probability: Probability
    plea_acceptance_levels: Literal[0, 2, 3] = 3
    judge: JudgeConfig | None = None
    #: The district's own as-arrested defendants: the scenario's ``population`` with the
    #: district's partial ``population`` merged over it (sim.model.scenario); None: the
    #: scenario's. Every district still sentences the scenario's population in the
    #: counterfactual view.
    population: PopulationParameters | None = None

    @model_validator(mode="after")
    def _weight(self) -> DistrictPolicy:
        if self.caseload_weight.value < 0:
            raise ValueError(
                f"caseload_weight {self.caseload_weight.value} is below zero; allowed: 0 or more"
            )
        return self


class RecordFacts(NamedTuple):
    """What a policy may look at, per defendant (arrays of shape (n,))."""

    criminal_history_category: np.ndarray  # int8, 1-6
    prior_kinds_mask: np.ndarray  # int64 bit k set when a prior of PRIOR_KINDS[k] exists
    aggravated_felony: np.ndarray  # bool, deported after an aggravated felony
    section_1326b: np.ndarray  # bool, deported after a felony or three qualifying misdemeanors
    max_prior_sentence_ticks: np.ndarray  # int64, the longest sentence imposed; 0 without priors
    prior_removals: np.ndarray  # int
    felony: np.ndarray  # bool, deported after a felony or an aggravated felony


class PolicyUniforms(NamedTuple):
    """The uniforms of the policy decisions, shared by every district."""

    prosecute: np.ndarray  # (n,)
    offer_extended: np.ndarray  # (n, K), K >= the district's offers; column k: offer k
    offer_accepted: np.ndarray  # (n, K)
    plea: np.ndarray  # (n,)
    #: (n,) what becomes of him where declined (``policy.declined``); None: 0 for everyone (as
    #: when every district removes every declined defendant administratively).
    declined: np.ndarray | None = None


class Disposition(NamedTuple):
    """One district's disposition of each defendant (arrays of shape (n,)).

    ``offer`` is the index of the applied offer or -1; ``sentence_cap_months`` is ``inf`` without a
    stipulated cap, ``sentence_floor_months`` 0 without a floor, ``stipulated_months`` -1 without
    an exact stipulated sentence. ``declined_outcome`` is -1 for a prosecuted defendant, else the
    index into :data:`DECLINED_OUTCOMES`; ``declined_months`` the § 1325 months (0 otherwise).
    For declined defendants the sentencing fields are meaningless.
    """

    prosecuted: np.ndarray
    offer: np.ndarray
    conviction: np.ndarray
    acceptance_levels: np.ndarray
    early_disposition_levels: np.ndarray
    sentence_cap_months: np.ndarray
    pleaded: np.ndarray
    sentence_floor_months: np.ndarray
    stipulated_months: np.ndarray
    declined_outcome: np.ndarray
    declined_months: np.ndarray

    @property
    def dispositions(self) -> Dispositions:
        """What the guidelines engine reads: conviction, acceptance, early disposition."""
        return Dispositions(self.conviction, self.acceptance_levels, self.early_disposition_levels)


def _category_number(name: str | None, default: int) -> int:
    return default if name is None else CATEGORY_NAMES.index(name)


_ALL, _SECTION_1326B, _AGGRAVATED_FELONY, _FELONY = range(4)  # prosecution rules
_PROSECUTION_RULES = {
    "all": _ALL,
    "section_1326b": _SECTION_1326B,
    "felony": _FELONY,
    "aggravated_felony": _AGGRAVATED_FELONY,
}
_NO_STIPULATION = -1.0
_ANY, _REQUIRED, _EXCLUDED = range(3)  # Eligibility.aggravated_felony
_AGGRAVATED_RULES = {"any": _ANY, "required": _REQUIRED, "excluded": _EXCLUDED}
_CHARGE_1326A = CONVICTIONS.index("1326(a)")
_CHARGE_1326B1 = CONVICTIONS.index("1326(b)(1)")
_CHARGE_1326B2 = CONVICTIONS.index("1326(b)(2)")
_KEEP_CHARGE = -1  # an offer without a charge bargain


@njit(cache=True)
def _charge(aggravated_felony: bool, section_1326b: bool) -> int:
    # 8 U.S.C. § 1326(b)(2) after an aggravated felony, (b)(1) after another felony or three
    # qualifying misdemeanors, else § 1326(a).
    if aggravated_felony:
        return _CHARGE_1326B2
    if section_1326b:
        return _CHARGE_1326B1
    return _CHARGE_1326A


@njit(cache=True)
def _statutory_charge_kernel(aggravated_felony, section_1326b, out):
    for i in range(len(out)):
        out[i] = _charge(aggravated_felony[i], section_1326b[i])


def statutory_charge(facts: RecordFacts) -> np.ndarray:
    """The § 1326 subsection each record supports (index into CONVICTIONS)."""
    out = np.empty(len(facts.aggravated_felony), dtype=np.int8)
    _statutory_charge_kernel(facts.aggravated_felony, facts.section_1326b, out)
    return out


class _OfferTable(NamedTuple):
    """A policy's offers as arrays, one row per offer, in declaration order."""

    min_category: np.ndarray  # int64
    max_category: np.ndarray  # int64
    excluded_kinds: np.ndarray  # int64 mask of PRIOR_KINDS bits
    max_removals: np.ndarray  # int64; int64 max = no limit
    max_sentence_ticks: np.ndarray  # int64; NEVER = no limit
    aggravated_felony: np.ndarray  # int64 _ANY / _REQUIRED / _EXCLUDED
    offer_probability: np.ndarray  # float64
    acceptance_probability: np.ndarray  # float64
    conviction: np.ndarray  # int8 code, _KEEP_CHARGE = no charge bargain
    cap_months: np.ndarray  # float64, inf = no cap
    floor_months: np.ndarray  # float64, 0 = no floor
    stipulated_months: np.ndarray  # float64, _NO_STIPULATION = none
    early_levels: np.ndarray  # int8, (offers, 7): levels by criminal history category
    acceptance_levels: np.ndarray  # int8

    @classmethod
    def build(cls, offers: list[Offer]) -> _OfferTable:
        no_limit = np.iinfo(np.int64).max
        early = np.zeros((len(offers), len(CATEGORY_NAMES)), dtype=np.int8)
        for k, offer in enumerate(offers):
            levels = offer.early_disposition_levels
            if isinstance(levels, dict):
                for name, value in levels.items():
                    early[k, CATEGORY_NAMES.index(name)] = value
            else:
                early[k] = levels
        rules = [offer.eligibility for offer in offers]
        return cls(
            min_category=np.array(
                [_category_number(e.min_criminal_history_category, 1) for e in rules], np.int64
            ),
            max_category=np.array(
                [_category_number(e.max_criminal_history_category, 6) for e in rules], np.int64
            ),
            excluded_kinds=np.array(
                [sum(1 << kind_code(kind) for kind in set(e.exclude_prior_kinds)) for e in rules],
                np.int64,
            ),
            max_removals=np.array(
                [
                    no_limit
                    if e.max_prior_removals is None
                    else min(e.max_prior_removals, no_limit)
                    for e in rules
                ],
                np.int64,
            ),
            max_sentence_ticks=np.array(
                [
                    NEVER
                    if e.max_prior_sentence_months is None
                    else months(e.max_prior_sentence_months)
                    for e in rules
                ],
                np.int64,
            ),
            aggravated_felony=np.array(
                [_AGGRAVATED_RULES[e.aggravated_felony] for e in rules], np.int64
            ),
            offer_probability=np.array([o.offer_probability.value for o in offers], np.float64),
            acceptance_probability=np.array(
                [o.acceptance_probability.value for o in offers], np.float64
            ),
            conviction=np.array(
                [
                    _KEEP_CHARGE if o.conviction is None else CONVICTIONS.index(o.conviction)
                    for o in offers
                ],
                np.int8,
            ),
            cap_months=np.array(
                [
                    np.inf if o.sentence_cap_months is None else o.sentence_cap_months.value
                    for o in offers
                ],
                np.float64,
            ),
            floor_months=np.array(
                [
                    0.0 if o.sentence_floor_months is None else o.sentence_floor_months.value
                    for o in offers
                ],
                np.float64,
            ),
            stipulated_months=np.array(
                [
                    _NO_STIPULATION
                    if o.stipulated_sentence_months is None
                    else o.stipulated_sentence_months.value
                    for o in offers
                ],
                np.float64,
            ),
            early_levels=early,
            acceptance_levels=np.array([o.acceptance_levels for o in offers], np.int8),
        )


class _DistrictRules(NamedTuple):
    """One district's prosecution and no-deal plea numbers."""

    prosecution_rule: int
    prosecute_probability: float
    plea_probability: float
    plea_acceptance_levels: int
    removal_end: float  # declined: u < removal_end administrative removal,
    referral_end: float  # u < referral_end state referral, else § 1325
    section_1325_months: int


@njit(cache=True)
def _apply_policy_kernel(facts, u, u_declined, district, offers, out):
    # Tuples unpacked into locals once: an array read through a tuple in the loop is reloaded
    # after every store.
    category, kinds_mask, aggravated_felony, section_1326b, longest_term, prior_removals = facts[:6]
    after_felony = facts[6]
    u_prosecute, u_extended, u_accepted, u_plea = u
    rule, prosecute_probability, plea_probability, plea_levels = district[:4]
    removal_end, referral_end, misdemeanor_months = district[4:]
    (min_category, max_category, excluded_kinds, max_removals, max_term, aggravated_rule,
     offer_probability, acceptance_probability, offer_conviction, cap_months, floor_months,
     stipulated_months, early_levels, offer_levels) = offers  # fmt: skip
    prosecuted, applied, conviction, acceptance, early, cap, pleaded = out[:7]
    floor, stipulated, declined_outcome, declined_months = out[7:]
    for i in range(len(category)):
        aggravated = aggravated_felony[i]
        supports_1326b = section_1326b[i]
        # Prosecution: every defendant, § 1326(b) records only (a felony, an aggravated felony or
        # three qualifying misdemeanors, 8 U.S.C. § 1326(b) as amended Sept 13, 1994), felony
        # records only (§ 1326(b)(1)-(2) without the three-misdemeanour limb: the dissent's
        # reading of C.D. Cal.'s policy, 215 F.3d at 978), or aggravated felons only.
        if rule == _SECTION_1326B:
            eligible = supports_1326b
        elif rule == _FELONY:
            eligible = after_felony[i]
        elif rule == _AGGRAVATED_FELONY:
            eligible = aggravated
        else:
            eligible = True
        prosecuted_i = eligible & (u_prosecute[i] < prosecute_probability)
        prosecuted[i] = prosecuted_i
        # A declined defendant's fate reads one uniform shared by every district.
        if prosecuted_i:
            declined_outcome[i] = -1
            declined_months[i] = 0
        elif u_declined[i] < removal_end:
            declined_outcome[i] = 0
            declined_months[i] = 0
        elif u_declined[i] < referral_end:
            declined_outcome[i] = 1
            declined_months[i] = 0
        else:
            declined_outcome[i] = 2
            declined_months[i] = misdemeanor_months
        charge = _charge(aggravated, supports_1326b)
        pleads = u_plea[i] < plea_probability
        levels = plea_levels if pleads else 0
        early_i = 0
        cap_i = np.inf
        floor_i = 0.0
        stipulated_i = _NO_STIPULATION
        offer = -1
        c = category[i]
        kinds = kinds_mask[i]
        removals = prior_removals[i]
        longest = longest_term[i]
        # The first offer he is eligible for, extended and accepted applies. Bitwise tests, not
        # early exits: they mispredict less.
        for k in range(len(offer_probability)):
            takes = (
                (min_category[k] <= c)
                & (c <= max_category[k])
                & ((kinds & excluded_kinds[k]) == 0)
                & (removals <= max_removals[k])
                & (longest <= max_term[k])
                & ((aggravated_rule[k] != _REQUIRED) | aggravated)
                & ((aggravated_rule[k] != _EXCLUDED) | ~aggravated)
                & (u_extended[i, k] < offer_probability[k])
                & (u_accepted[i, k] < acceptance_probability[k])
            )
            if takes:
                offer = k
                if offer_conviction[k] != _KEEP_CHARGE:
                    charge = offer_conviction[k]
                cap_i = cap_months[k]
                floor_i = floor_months[k]
                stipulated_i = stipulated_months[k]
                early_i = early_levels[k, c]
                levels = offer_levels[k]
                pleads = True
                break
        applied[i] = offer
        conviction[i] = charge
        acceptance[i] = levels
        early[i] = early_i
        cap[i] = cap_i
        floor[i] = floor_i
        stipulated[i] = stipulated_i
        pleaded[i] = pleads


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
    # The kernel does not check bounds.
    if u.offer_extended.shape != u.offer_accepted.shape or u.offer_extended.shape[0] != n:
        raise ValueError(f"offer uniforms must both have shape ({n}, K)")
    if u.offer_extended.shape[1] < len(policy.offers):
        raise ValueError(f"{len(policy.offers)} offers but {u.offer_extended.shape[1]} uniforms")
    out = Disposition(
        prosecuted=np.empty(n, dtype=bool),
        offer=np.empty(n, dtype=np.int8),
        conviction=np.empty(n, dtype=np.int8),
        acceptance_levels=np.empty(n, dtype=np.int8),
        early_disposition_levels=np.empty(n, dtype=np.int8),
        sentence_cap_months=np.empty(n),
        pleaded=np.empty(n, dtype=bool),
        sentence_floor_months=np.empty(n),
        stipulated_months=np.empty(n),
        declined_outcome=np.empty(n, dtype=np.int8),
        declined_months=np.empty(n, dtype=np.int16),
    )
    declined = policy.prosecution.declined
    removal = declined.administrative_removal.value
    district = _DistrictRules(
        _PROSECUTION_RULES[policy.prosecution.eligible],
        policy.prosecution.probability.value,
        policy.plea_probability.value,
        policy.plea_acceptance_levels,
        removal,
        removal + declined.state_referral.value,
        int(declined.section_1325_months.value),
    )
    u_declined = np.zeros(n) if u.declined is None else u.declined
    if len(u_declined) != n:
        raise ValueError(f"declined uniforms must have shape ({n},)")
    _apply_policy_kernel(
        facts, tuple(u)[:4], u_declined, district, _OfferTable.build(policy.offers), out
    )
    return out


# 8 U.S.C. § 1326(b)(1) (as amended Sept 13, 1994): "three or more misdemeanors involving drugs,
# crimes against the person, or both, or a felony (other than an aggravated felony)".
_DRUG_OR_PERSON_MISDEMEANOR_KINDS = sum(
    1 << kind_code(kind)
    for kind in ("misdemeanor_drug", "misdemeanor_violent", "drug_trafficking", "crime_of_violence")
)


class _FactsOut(NamedTuple):
    kinds_mask: np.ndarray
    aggravated: np.ndarray
    section_1326b: np.ndarray
    max_sentence_ticks: np.ndarray
    felony: np.ndarray


@njit(cache=True)
def _record_facts_kernel(offsets, priors, out):
    # One branch-free pass over the priors (a loop per defendant mispredicts at every segment's
    # end): starts[j] counts the segments starting at prior j, empty ones included, so the owner
    # of prior j is the running count minus one. Each prior stores its owner's running results;
    # the last one stands. Defendants without priors keep the zeros.
    starts = np.zeros(len(priors.kind) + 1, dtype=np.uint32)
    for i in range(len(out.kinds_mask)):
        starts[offsets[i]] += np.uint32(1)
    out.kinds_mask[:] = 0
    out.aggravated[:] = False
    out.section_1326b[:] = False
    out.felony[:] = False
    out.max_sentence_ticks[:] = 0
    segments = np.uint64(0)  # unsigned, so indexing needs no wraparound check
    mask = np.int64(0)
    after_aggravated = False
    after_felony = False
    misdemeanors = 0
    longest = np.int64(0)
    for j in range(len(priors.kind)):
        segments += starts[j]
        owner = segments - np.uint64(1)
        same = starts[j] == 0
        bit = np.int64(1) << np.int64(priors.kind[j])
        mask = (mask if same else 0) | bit
        removed = priors.removed_after_conviction[j]
        after_aggravated = (after_aggravated & same) | (removed & priors.aggravated_felony[j])
        after_felony = (after_felony & same) | (removed & priors.felony[j])
        misdemeanors = (misdemeanors if same else 0) + (
            removed & ~priors.felony[j] & (bit & _DRUG_OR_PERSON_MISDEMEANOR_KINDS != 0)
        )
        longest = max(longest if same else 0, priors.sentence_imposed_ticks[j])
        out.kinds_mask[owner] = mask
        out.aggravated[owner] = after_aggravated
        # § 1326(b)(2) after an aggravated felony; (b)(1) after a felony or three misdemeanors.
        out.section_1326b[owner] = after_aggravated | after_felony | (misdemeanors >= 3)
        out.felony[owner] = after_aggravated | after_felony
        out.max_sentence_ticks[owner] = longest


def record_facts(records: Records, category: np.ndarray, prior_removals: np.ndarray) -> RecordFacts:
    """The facts a policy reads, from the records and their criminal history categories.

    Parameters
    ----------
    records : Records
        ``n`` records.
    category : ndarray of int, shape (n,)
        Criminal history category (1-6) as the guidelines compute it.
    prior_removals : ndarray of int, shape (n,)
    """
    n = records.size
    p = len(records.priors.kind)
    offsets = records.prior_offsets
    if len(offsets) != n + 1 or offsets[0] != 0 or offsets[-1] != p:
        raise ValueError(f"prior_offsets must run from 0 to {p} in {n + 1} entries")
    out = _FactsOut(
        np.empty(n, dtype=np.int64),
        np.empty(n, dtype=bool),
        np.empty(n, dtype=bool),
        np.empty(n, dtype=np.int64),
        np.empty(n, dtype=bool),
    )
    _record_facts_kernel(offsets, records.priors, out)
    return RecordFacts(
        criminal_history_category=category,
        prior_kinds_mask=out.kinds_mask,
        aggravated_felony=out.aggravated,
        section_1326b=out.section_1326b,
        max_prior_sentence_ticks=out.max_sentence_ticks,
        prior_removals=prior_removals,
        felony=out.felony,
    )
