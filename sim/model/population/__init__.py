"""Synthetic population of 8 U.S.C. § 1326 defendants: prior convictions and prior removals.

Every defendant of a random block is drawn from the keyed streams of :mod:`sim.run.streams`
(decisions ``population.*``), whole arrays at a time. The model is built so that the five
published FY2013 marginals of the U.S. Sentencing Commission's *Illegal Reentry Offenses* (April
2015; ``../shared/domain/calibration.md`` §1) hold **by construction** in expectation; every other
number is a labelled assumption (``configs/population-fy2013.yaml``).

Targets (shares of all defendants): ``A`` with an aggravated felony after which they were removed
(§ 1326(b)(2)); ``R`` mean prior removals; ``E`` removed after an illegal entry/reentry
conviction; ``P`` convicted of at least one other offense after reentering (``before_first_removal``
false); ``C`` no prior convictions and at most one removal.

Construction
------------
A § 1326 defendant has at least one prior removal by definition.

1. **Clean** with probability ``C``: no convictions and exactly one removal. Every other
   defendant receives at least one conviction (step 5), so the share with no convictions and at
   most one removal is exactly ``C``.
2. Among the ``1 - C`` others, independent indicators with the derived rates

   - aggravated felony: ``a = A / (1 - C)``; it is committed after the first removal (and followed
     by a removal of its own) with probability ``s``, else it is the last conviction before the
     first removal. Either way a removal follows it, so the share is ``(1 - C) a = A``.
   - entry/reentry conviction (after the first removal, followed by a removal of its own):
     ``e = E / (1 - C)``; a felony ``illegal_reentry`` with probability ``f``, else a misdemeanor
     ``illegal_entry``. With probability ``x`` an earlier misdemeanor ``illegal_entry``, also
     followed by a removal, precedes it. Share ``(1 - C) e = E``.
   - other conviction after the first removal: ``q_o = (q - a s) / (1 - a s)`` with
     ``q = P / (1 - C)``, so that ``P(aggravated felony after reentry or other post-removal
     conviction) = a s + (1 - a s) q_o = q`` and the share is ``(1 - C) q = P``. Their number is
     ``1 + NB(nu)`` (negative binomial with mean ``nu`` and shape ``conviction_dispersion``).

   The sub-choices (after reentry, earlier entry) use the same uniform as their parent with a
   lower threshold (``u < a s`` inside ``u < a``), which gives the stated conditional rates.
3. **Removals** ``= 1 + e + e x + g + N`` (first removal, one after each entry conviction, one
   after a post-reentry aggravated felony ``g``, and ``N`` removals that follow no conviction:
   reinstatements, returns at the border). ``N`` is negative binomial with shape ``k`` and mean
   ``lambda = (R - 1 - E (1 + x) - A s) / (1 - C)``, so that
   ``E[removals] = C + (1 - C)(1 + e (1 + x) + a s + lambda) = R``. For a share
   ``persistent_share`` of defendants the three counts (convictions before and after the first
   removal, ``N``) are read from one common uniform (comonotone: a persistent offender is high on
   all three), for the others from independent ones; every marginal, and so every mean, is
   unchanged.
4. **Order and flags.** Each defendant's priors are chronological, in seven segments: other
   convictions before the first removal, the pre-removal aggravated felony | the earlier
   ``illegal_entry``, other post-removal convictions, the post-reentry aggravated felony, the
   entry/reentry conviction | a last other conviction after the last removal (the arrest that led
   to the instant "found in" case, probability ``tau``; every post-removal conviction when the
   defendant was removed only once). ``before_first_removal`` holds for the first two segments,
   ``removed_after_conviction`` for all but the last.
5. **At least one conviction.** Other convictions before the first removal number
   ``NB(kappa)`` plus one forced conviction for a non-clean defendant who has no aggravated
   felony, entry conviction or post-removal conviction. They do not enter any target.
6. **Kinds and sentences.** Aggravated felonies and other convictions draw a kind from their mix
   (other convictions before the first removal are foreign with probability ``foreign_share``).
   Each (kind, aggravated) class of :data:`SENTENCE_CLASSES` has a log-logistic term when
   imprisoned: ``log(months)`` is logistic with median ``log(median_months)`` and standard
   deviation ``sigma`` (the logistic, not the normal, because its quantile function is closed
   form and cheap; its tails are a little heavier). The term is truncated to what the law allows
   (a misdemeanor at most 12 months, a first § 1325(a) at most 6, § 1326 at most 240, a
   non-aggravated felony crime of violence below 12 months and an aggravated crime of violence or
   theft/burglary at least 12, 8 U.S.C. § 1101(a)(43)(F)-(G)) and to ``max_sentence_months``, and
   is whole days. It is 0 (no imprisonment) with a class probability. The classes marked
   aggravated are aggravated felonies under today's 8 U.S.C. § 1101(a)(43) (after IIRIRA, Sept 30,
   1996), which is what the FY2013 marginal counts; whether a prior *is* an aggravated felony in a
   scenario is decided afterwards by the law in force on the scenario's offense date
   (:mod:`sim.guidelines.aggravated_felony`), which also makes a later entry/reentry conviction one
   under subparagraph (O) where that exists.
7. **Single sentences.** A prior joins the one before it into one sentence with probability
   ``single_sentence_share`` when both lie between the same removals and neither is an entry
   conviction or foreign; a joined term runs consecutively with probability
   ``consecutive_share``. The group id is the position of the sentence's first prior within the
   defendant's priors.
8. **Time**, in whole days. Going back from the instant offense, each sentence is imposed ``time
   served + Exponential(liberty)`` before the next (the most recent: before the instant offense),
   time served ``= floor(term days * served_fraction)``, the time at liberty rounded down to whole
   days. The time since release is the time since imposition less the time served (never
   released without imprisonment), so it never exceeds it and is never negative; members of one
   sentence share its dates. Times are exact integer ticks (:mod:`sim.guidelines.durations`).
9. **Status.** Under a criminal justice sentence with probability ``under_sentence_share`` when
   the most recent prior was imposed within ``status_window_years``.

The calibration indicators do not depend on steps 6-9, and A, E and P do not depend on
``N``: the expected marginals equal the targets exactly under the law the targets were measured
under (an offense date after Sept 30, 1996). Under an earlier law fewer priors are aggravated
felonies: that is the law, not a miscalibration.

Random streams: one uniform array per decision (``random((n, k))`` per defendant or
``random(p)`` per prior), turned into counts, kinds and terms by inverse distribution functions
(exact table look-up), so the first ``n`` defendants of a random block are the same whatever
``n`` is: ``population.record`` (clean, aggravated, entry, post-removal, found), ``prior_count``
(the two conviction counts, the common uniform, persistence), ``removals``, ``prior_kind``,
``prior_sentence``, ``prior_flags`` (single sentence, consecutive), ``prior_timing`` (time at
liberty) and ``status``.
"""

from sim.model.population.generate import (
    Population,
    Streams,
    calibration_marginals,
    generate_population,
)
from sim.model.population.parameters import (
    CALIBRATION_TARGETS,
    DEFAULT_POPULATION_CONFIG,
    SENTENCE_CLASSES,
    DerivedRates,
    PopulationParameters,
    SentenceClass,
    calibration_targets,
    derive_rates,
    load_population_parameters,
)

__all__ = [
    "CALIBRATION_TARGETS",
    "DEFAULT_POPULATION_CONFIG",
    "SENTENCE_CLASSES",
    "DerivedRates",
    "Population",
    "PopulationParameters",
    "SentenceClass",
    "Streams",
    "calibration_marginals",
    "calibration_targets",
    "derive_rates",
    "generate_population",
    "load_population_parameters",
]
