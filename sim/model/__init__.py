"""The model: who the defendants are and what districts and judges do with them (population,
arrest, district policy, the judge, named profiles, and the scenario that configures them)."""
